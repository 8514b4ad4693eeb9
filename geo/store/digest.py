"""What a page reads of a store that must stay small whatever the store holds.

A map page cannot carry a million records: it carries each crossing's
newest records, how many there are a year, and the records with a point of
their own either one by one or, past a limit, as counts on a grid. Each
question here is one query, answered by the database on both backends; only
the answer (never the store) reaches Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from geo.store.gpkg import GeoPackageStore
from geo.store.schema import day_text
from geo.store.tally import CELL_DEG, YEARS, first_years, read_cells, read_years

if TYPE_CHECKING:
    from geo.model import Observation

__all__ = [
    "CELL_DEG",
    "HISTORY_KINDS",
    "Cells",
    "border_records",
    "cells_of",
    "first_day",
    "history_window",
    "located",
    "located_cells",
    "newest",
    "records_of_structures",
    "replacing",
    "year_counts",
]

#: The kinds of record a crossing's history lists: what bears on its status and its works.
HISTORY_KINDS = ("status", "plan", "infrastructure")

#: Whether a record has a point of its own (the column is an integer in SQLite, a boolean in
#: PostgreSQL; a record without one is stored at its crossing's point).
_OWN = "CAST(o.has_own_location AS INTEGER) = 1"


class Cells(NamedTuple):
    """Records counted on a grid: each cell's centre, in whole cells from 0°, 0°, and its count."""

    lon: list[int]
    lat: list[int]
    counts: list[int]

    def within(self, box: tuple[float, float, float, float], cell_deg: float) -> Cells:
        """Return the cells whose centres lie in ``box`` (west, south, east, north)."""
        west, south, east, north = box
        kept = [
            n
            for n, (x, y) in enumerate(zip(self.lon, self.lat, strict=True))
            if west <= x * cell_deg <= east and south <= y * cell_deg <= north
        ]
        return Cells(
            [self.lon[n] for n in kept], [self.lat[n] for n in kept], [self.counts[n] for n in kept]
        )


#: The longest a record's date can run (a year, in a leap year), in days.
_LONGEST_DATE = 366


def _where_crossing(crossing_id: str | None) -> tuple[str, dict[str, object]]:
    where = "crossing_id IS NULL" if crossing_id is None else "crossing_id = :crossing"
    return where, {"crossing": crossing_id}


def first_day(store: Any, crossing_ids: Sequence[str]) -> date | None:
    """Return the first day of the first record of these crossings and the whole border.

    Two lookups a crossing along the index of crossings and dates: the earliest
    first day is among the records that end within a year of the first end.
    """
    found = []
    for crossing_id in _first_years(store, [None, *crossing_ids]):
        where, params = _where_crossing(crossing_id)
        (first,) = store._query(f"SELECT min(date_end) FROM observations WHERE {where}", params)[0]
        if first is None:
            continue
        upto = date.fromisoformat(day_text(first)) + timedelta(days=_LONGEST_DATE)
        (start,) = store._query(
            f"SELECT min(date_start) FROM observations WHERE {where} AND date_end <= :upto",
            {**params, "upto": upto.isoformat()},
        )[0]
        found.append(date.fromisoformat(day_text(start)))
    return min(found, default=None)


def _first_years(store: Any, crossing_ids: list[str | None]) -> list[str | None]:
    """Return those of ``crossing_ids`` whose records may begin the earliest.

    All of them where the store keeps no counts a year. A record begins at most
    a year before it ends: the earliest begin is among the crossings whose first
    records end in the earliest year or the next.
    """
    if not _keeps_years(store):
        return crossing_ids
    first = first_years(store)
    years = {c: first[c] for c in crossing_ids if c in first}
    earliest = min(years.values(), default=0)
    return [c for c, year in years.items() if year <= earliest + 1]


def _keeps_years(store: Any) -> bool:
    return not isinstance(store, GeoPackageStore) or store._has_table(YEARS.table)


def year_counts(store: Any, crossing_id: str | None) -> list[tuple[int, int]]:
    """Return a crossing's records a year (None: the whole border's), by the year they end.

    The store keeps these counts (geo.store.tally). A store too old to keep
    them, opened read-only, counts each year along the index of crossings and
    dates, never reading a record.
    """
    if _keeps_years(store):
        return read_years(store, crossing_id)
    where, params = _where_crossing(crossing_id)
    first, last = store._query(
        f"SELECT min(date_end), max(date_end) FROM observations WHERE {where}", params
    )[0]
    if first is None:
        return []
    years = []
    for year in range(int(day_text(first)[:4]), int(day_text(last)[:4]) + 1):
        (count,) = store._query(
            f"SELECT count(*) FROM observations WHERE {where} "
            "AND date_end >= :since AND date_end < :until",
            {**params, "since": f"{year:04d}-01-01", "until": f"{year + 1:04d}-01-01"},
        )[0]
        if count:
            years.append((year, int(count)))
    return years


def border_records(store: Any) -> list[Observation]:
    """Return the records of the whole border: few (a status or plan of many crossings)."""
    rows = store._query(
        f"SELECT {store._COLUMNS} FROM observations o WHERE crossing_id IS NULL", {}
    )
    return list(store._decode(rows))


def newest(
    store: Any, crossing_id: str | None, limit: int, *, kinds: Sequence[str] = ()
) -> list[Observation]:
    """Return a crossing's newest ``limit`` records (None: the whole border's), newest first.

    The newest by the day they count from (their last day), as the status rule
    orders them, read backwards along the index of crossings and dates, so the
    cost follows ``limit``, not the store. Of records with the same dates, the one
    added last comes first: the index holds them in that order, so the reading
    stops at ``limit`` (ordered by id, every record of the last dates read was
    sorted first: thousands in a large store, each read from the table for its
    kind). ``kinds``: only records of these kinds. Records that a later one
    replaces are kept: a history says what became of them.
    """
    where = "crossing_id IS NULL" if crossing_id is None else "crossing_id = :crossing"
    if kinds:
        where += " AND kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"
    rows = store._query(
        f"SELECT {store._COLUMNS} FROM observations o WHERE {where} "
        f"ORDER BY date_end DESC, date_start DESC, fid DESC LIMIT {int(limit)}",
        {"crossing": crossing_id},
    )
    return list(store._decode(rows))


def history_window(store: Any, crossing_id: str, limit: int) -> list[Observation]:
    """Return a crossing's newest ``limit`` records of the kinds its history lists."""
    return newest(store, crossing_id, limit, kinds=HISTORY_KINDS)


def _name(n: int) -> str:
    """Return a parameter's name of letters only, as every backend reads names (0: a, 26: ba)."""
    letters = ""
    while True:
        n, digit = divmod(n, 26)
        letters = chr(ord("a") + digit) + letters
        if n == 0:
            return "id_" + letters


def _chunks(ids: Sequence[str]) -> list[tuple[str, dict[str, object]]]:
    """Return ``ids`` as lists of named parameters, 500 at most (SQLite limits bound ones)."""
    found = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        params: dict[str, object] = {_name(n): value for n, value in enumerate(chunk)}
        found.append((", ".join(f":{name}" for name in params), params))
    return found


def _where_in(store: Any, column: str, ids: Sequence[str]) -> list[Observation]:
    found: list[Observation] = []
    for marks, params in _chunks(list(ids)):
        sql = f"SELECT {store._COLUMNS} FROM observations o WHERE {column} IN ({marks})"
        found += store._decode(store._query(sql, params))
    return found


def records_of_structures(store: Any, structure_ids: Sequence[str]) -> list[Observation]:
    """Return every record of these structures (their lifecycles among them)."""
    return _where_in(store, "structure_id", structure_ids)


def replacing(store: Any, ids: Sequence[str]) -> list[Observation]:
    """Return the records that correct or withdraw any of ``ids``."""
    return _where_in(store, "replaces", ids)


def _where(crossing_id: str | None) -> tuple[str, dict[str, object]]:
    if crossing_id is None:
        return _OWN, {}
    # A crossing's page draws its own records and the whole border's.
    return (
        f"{_OWN} AND (o.crossing_id = :crossing OR o.crossing_id IS NULL)",
        {"crossing": crossing_id},
    )


def located(store: Any, crossing_id: str | None = None) -> list[Observation]:
    """Return the records with a point of their own (of a crossing, or all), oldest first."""
    where, params = _where(crossing_id)
    rows = store._query(f"SELECT {store._COLUMNS} FROM observations o WHERE {where}", params)
    return sorted(store._decode(rows), key=lambda o: (o.date.start, o.date.end, o.id))


def located_cells(
    store: Any, cell_deg: float, box: tuple[float, float, float, float] | None = None
) -> Cells:
    """Return every record's point counted on a grid of ``cell_deg`` degrees.

    A record without a point of its own counts at its crossing's point, where
    ``crossings near`` finds it too. On the grid of :data:`CELL_DEG` the store
    keeps the counts: they are read, not counted, and with ``box`` (west,
    south, east, north) only the cells whose centres lie in it. On another
    grid one pass counts the spatial index (never the records), and with
    ``box`` only the points in it, which the index finds.
    """
    if cell_deg == CELL_DEG:  # the store keeps these counts (geo.store.tally)
        kept = read_cells(store, box)
        return Cells([r[0] for r in kept], [r[1] for r in kept], [r[2] for r in kept])
    params: dict[str, object] = {"cell": cell_deg}
    if box is not None:
        params.update(zip(("west", "south", "east", "north"), box, strict=True))
    if isinstance(store, GeoPackageStore):
        # The spatial index holds each point as a box of single-precision floats around it.
        lon, lat = "(minx + maxx) / 2", "(miny + maxy) / 2"
        table = "rtree_observations_geom"
        inside = "minx >= :west AND maxx <= :east AND miny >= :south AND maxy <= :north"
    else:
        lon, lat, table = "ST_X(geom)", "ST_Y(geom)", "observations"
        inside = "geom && ST_MakeEnvelope(:west, :south, :east, :north, 4326)"
    rows = store._query(
        f"SELECT CAST(round({lon} / :cell) AS INTEGER) AS cx, "
        f"CAST(round({lat} / :cell) AS INTEGER) AS cy, count(*) FROM {table} "
        + (f"WHERE {inside} " if box is not None else "")
        + "GROUP BY cx, cy ORDER BY cx, cy",
        params,
    )
    return Cells([int(r[0]) for r in rows], [int(r[1]) for r in rows], [int(r[2]) for r in rows])


def cells_of(records: Sequence[Observation], cell_deg: float) -> Cells:
    """Return records held in memory as :func:`located_cells` counts them in the store."""
    found: dict[tuple[int, int], int] = {}
    for o in records:
        if o.location is not None:
            key = (round(o.location.lon / cell_deg), round(o.location.lat / cell_deg))
            found[key] = found.get(key, 0) + 1
    ordered = sorted(found.items())
    return Cells([k[0] for k, _ in ordered], [k[1] for k, _ in ordered], [n for _, n in ordered])
