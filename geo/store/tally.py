"""Counts kept by every write: what a map of a large store draws instead of every record.

A map of a large store draws its records as counts on a grid of
:data:`CELL_DEG` degrees, and a long history as its records a year. Counting
them afresh reads the whole spatial index (19 s at 10,000,000 records) and
the index of crossings and dates; two tables keep the counts instead:
``observation_cells`` (records a cell) and ``observation_years`` (records a
crossing and year). Triggers on the observations layer keep them true in the
transaction of each write, by this tool or by any other program sharing the
store (QGIS, ``ogr2ogr``, a script): a map then reads as many rows as it
draws. Schema version 7 added them; its migration counts the records once.

A cell is named by its centre in whole cells from 0°, 0°:
``round(lon / CELL_DEG)``, rounded half away from zero, as SQLite's and
PostgreSQL's ``round`` of a number round. A record counts where the spatial
index holds it (a record without a point of its own at its crossing's point;
one without a point at all in no cell). A record counts in the year its date
ends, under its crossing ('' for the whole border's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from geo.errors import StoreFaultError

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "CELLS",
    "CELL_DEG",
    "TALLIES",
    "YEARS",
    "Tally",
    "cell_numbers",
    "first_years",
    "gpkg_statements",
    "postgis_statements",
    "problems",
    "read_cells",
    "read_years",
    "recount",
]

#: The grid's cell, in degrees (about 2 km): finer than the rings of ``crossings around``.
CELL_DEG = 0.02


class Tally(NamedTuple):
    """One table of kept counts: its key columns and how each backend computes them from a row."""

    table: str
    keys: tuple[str, str]
    description: str
    #: The key's values of a row (its alias given), in SQLite and PostgreSQL, and when it counts.
    sqlite_keys: str
    sqlite_counts: str
    postgis_keys: str
    postgis_counts: str
    #: The columns whose change in place moves a row to another key.
    moved_by: str


def _sqlite_cell(axis: str) -> str:
    return f"CAST(round(ST_Min{axis}({{row}}geom) / {CELL_DEG}) AS INTEGER)"


def _postgis_cell(axis: str) -> str:
    return f"round(ST_{axis}({{row}}geom)::numeric / {CELL_DEG})"


CELLS = Tally(
    table="observation_cells",
    keys=("cell_x", "cell_y"),
    description=(
        "Observations counted on a grid of 0.02 degrees, kept by triggers: what a map draws "
        "past its marker limit"
    ),
    sqlite_keys=f"{_sqlite_cell('X')}, {_sqlite_cell('Y')}",
    # As the R-tree's own triggers test a point: a null or empty geometry is not indexed.
    sqlite_counts="{row}geom IS NOT NULL AND NOT ST_IsEmpty({row}geom)",
    postgis_keys=f"{_postgis_cell('X')}, {_postgis_cell('Y')}",
    postgis_counts="{row}geom IS NOT NULL AND NOT ST_IsEmpty({row}geom)",
    moved_by="geom",
)
YEARS = Tally(
    table="observation_years",
    keys=("crossing_id", "year"),
    description=(
        "Observations counted a crossing (an empty id: the whole border) and year their dates "
        "end, kept by triggers: what a map says of a long history"
    ),
    sqlite_keys="coalesce({row}crossing_id, ''), CAST(substr({row}date_end, 1, 4) AS INTEGER)",
    sqlite_counts="{row}date_end IS NOT NULL",
    postgis_keys="coalesce({row}crossing_id, ''), extract(year FROM {row}date_end)::integer",
    postgis_counts="{row}date_end IS NOT NULL",
    moved_by="crossing_id, date_end",
)
TALLIES = (CELLS, YEARS)


def _counted(tally: Tally, *, postgis: bool) -> str:
    """Return the query that counts every record afresh, as the triggers count them."""
    keys = (tally.postgis_keys if postgis else tally.sqlite_keys).format(row="")
    where = (tally.postgis_counts if postgis else tally.sqlite_counts).format(row="")
    return f"SELECT {keys}, count(*) FROM observations WHERE {where} GROUP BY 1, 2"


#: The cells counted from a GeoPackage's spatial index, for a store too old to keep them and
#: opened read-only: the index holds each point as a box of single-precision floats around it.
GPKG_INDEX_COUNTED = (
    f"SELECT CAST(round((minx + maxx) / 2 / {CELL_DEG}) AS INTEGER) AS cx, "
    f"CAST(round((miny + maxy) / 2 / {CELL_DEG}) AS INTEGER) AS cy, count(*) "
    "FROM rtree_observations_geom GROUP BY cx, cy"
)


def _sqlite_change(tally: Tally, row: str, change: str) -> str:
    """Return the statement that adds ``change`` to the count of ``row``'s key, if it counts."""
    a, b = tally.keys
    return (
        f"INSERT INTO {tally.table} ({a}, {b}, records) "
        f"SELECT {tally.sqlite_keys.format(row=row + '.')}, {change} "
        f"WHERE {tally.sqlite_counts.format(row=row + '.')} "
        f"ON CONFLICT ({a}, {b}) DO UPDATE SET records = records + {change};"
    )


def _filled_table(tally: Tally, *, postgis: bool) -> list[str]:
    """Return the statements that create a table of counts and count every record into it."""
    a, b = tally.keys
    fid = "BIGSERIAL PRIMARY KEY" if postgis else "INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL"
    count = "BIGINT" if postgis else "INTEGER"
    kind = "TEXT" if a == "crossing_id" else "INTEGER"
    return [
        (
            f"CREATE TABLE {tally.table} (fid {fid}, {a} {kind} NOT NULL, {b} INTEGER NOT NULL, "
            f"records {count} NOT NULL, UNIQUE ({a}, {b}))"
        ),
        f"INSERT INTO {tally.table} ({a}, {b}, records) {_counted(tally, postgis=postgis)}",
    ]


def gpkg_statements() -> list[str]:
    """Return the statements that add the tables and their triggers to a GeoPackage, fill them."""
    found = []
    for tally in TALLIES:
        name = tally.table
        found += [
            *_filled_table(tally, postgis=False),
            (
                f"CREATE TRIGGER {name}_added AFTER INSERT ON observations BEGIN "
                f"{_sqlite_change(tally, 'NEW', '1')} END"
            ),
            (
                f"CREATE TRIGGER {name}_removed AFTER DELETE ON observations BEGIN "
                f"{_sqlite_change(tally, 'OLD', '-1')} END"
            ),
            (
                f"CREATE TRIGGER {name}_moved AFTER UPDATE OF {tally.moved_by} ON observations "
                f"BEGIN "
                f"{_sqlite_change(tally, 'OLD', '-1')} {_sqlite_change(tally, 'NEW', '1')} END"
            ),
            (
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
                f"last_change) SELECT '{name}', 'attributes', '{name}', '{tally.description}', "
                "strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
                f"WHERE NOT EXISTS (SELECT 1 FROM gpkg_contents WHERE table_name = '{name}')"
            ),
        ]
    return found


def _postgis_change(tally: Tally, rows: str, sign: str) -> str:
    # In key order, so two writers lock the rows they share in one order.
    a, b = tally.keys
    return (
        f"INSERT INTO {tally.table} ({a}, {b}, records) "
        f"SELECT {tally.postgis_keys.format(row='')}, {sign}count(*) FROM {rows} "
        f"WHERE {tally.postgis_counts.format(row='')} GROUP BY 1, 2 ORDER BY 1, 2 "
        f"ON CONFLICT ({a}, {b}) DO UPDATE SET records = {tally.table}.records + "
        "EXCLUDED.records;"
    )


def postgis_statements() -> list[str]:
    """Return the statements that add the tables and their triggers to PostGIS, and fill them.

    Once a statement, from its transition tables: a load of a million records
    counts them in one grouped update.
    """
    statements = []
    for tally in TALLIES:
        name = tally.table
        statements += [
            *_filled_table(tally, postgis=True),
            f"COMMENT ON TABLE {name} IS '{tally.description}'",
        ]
        body = {
            "added": _postgis_change(tally, "added", ""),
            "removed": _postgis_change(tally, "removed", "-"),
            "moved": _postgis_change(tally, "removed", "-")
            + " "
            + _postgis_change(tally, "added", ""),
            "emptied": f"DELETE FROM {name};",
        }
        # Each trigger: its event, and the transition tables its function reads.
        for event, (what, sql) in zip(
            (
                "INSERT ON observations REFERENCING NEW TABLE AS added",
                "DELETE ON observations REFERENCING OLD TABLE AS removed",
                "UPDATE ON observations REFERENCING OLD TABLE AS removed NEW TABLE AS added",
                "TRUNCATE ON observations",
            ),
            body.items(),
            strict=True,
        ):
            statements += [
                (
                    f"CREATE OR REPLACE FUNCTION {name}_{what}() RETURNS trigger "
                    f"LANGUAGE plpgsql AS $body$ BEGIN {sql} RETURN NULL; END $body$"
                ),
                (
                    f"CREATE TRIGGER {name}_{what} AFTER {event} "
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {name}_{what}()"
                ),
            ]
    return statements


def cell_numbers(values: np.ndarray) -> np.ndarray:
    """Return the cells of coordinates held in an array, rounded as the databases round."""
    import numpy as np

    scaled = values / CELL_DEG
    return (np.sign(scaled) * np.trunc(np.abs(scaled) + 0.5)).astype(np.int64)


def recount(connection: Any, lons: np.ndarray, lats: np.ndarray) -> None:
    """Count every record of a GeoPackage anew (after a bulk load): its points given as arrays."""
    import numpy as np

    cells, counts = np.unique(
        np.stack([cell_numbers(lons), cell_numbers(lats)], axis=1), axis=0, return_counts=True
    )
    connection.execute(f"DELETE FROM {CELLS.table}")
    connection.executemany(
        f"INSERT INTO {CELLS.table} (cell_x, cell_y, records) VALUES (?, ?, ?)",
        ((int(x), int(y), int(n)) for (x, y), n in zip(cells, counts, strict=True)),
    )
    # Along the index of crossings and dates, never reading a record.
    connection.execute(f"DELETE FROM {YEARS.table}")
    connection.execute(
        f"INSERT INTO {YEARS.table} (crossing_id, year, records) {_counted(YEARS, postgis=False)}"
    )


def read_years(store: Any, crossing_id: str | None) -> list[tuple[int, int]]:
    """Return the kept counts of a crossing's records a year (None: the whole border's)."""
    rows = store._query(
        f"SELECT year, records FROM {YEARS.table} WHERE crossing_id = :crossing "
        "AND records > 0 ORDER BY year",
        {"crossing": crossing_id or ""},
    )
    return _whole_numbers(YEARS, rows)


def first_years(store: Any) -> dict[str | None, int]:
    """Return the year each crossing's first records end in (None: the whole border's)."""
    rows = store._query(
        f"SELECT crossing_id, min(year) FROM {YEARS.table} WHERE records > 0 GROUP BY crossing_id",
        {},
    )
    years = _whole_numbers(YEARS, [(year,) for _, year in rows])
    return {crossing or None: year for (crossing, _), (year,) in zip(rows, years, strict=True)}


def read_cells(
    store: Any, box: tuple[float, float, float, float] | None = None
) -> list[tuple[int, int, int]]:
    """Return the kept counts (cell_x, cell_y, records), of the cells whose centres lie in ``box``.

    The cells of ``box`` are found along the table's unique index; cost follows
    the cells read, not the records counted.
    """
    where, params = "records > 0", {}
    if box is not None:
        west, south, east, north = box
        # A cell's centre, x * CELL_DEG, in the box: its number within one of the box's own.
        where += (
            " AND cell_x BETWEEN :x_from AND :x_to AND cell_y BETWEEN :y_from AND :y_to "
            "AND cell_x * :cell >= :west AND cell_x * :cell <= :east "
            "AND cell_y * :cell >= :south AND cell_y * :cell <= :north"
        )
        params = {
            # Parameters are named in letters only, as every backend reads names.
            "x_from": int(west / CELL_DEG) - 1,
            "x_to": int(east / CELL_DEG) + 1,
            "y_from": int(south / CELL_DEG) - 1,
            "y_to": int(north / CELL_DEG) + 1,
            "cell": CELL_DEG,
            "west": west,
            "south": south,
            "east": east,
            "north": north,
        }
    rows = store._query(
        f"SELECT cell_x, cell_y, records FROM {CELLS.table} WHERE {where} ORDER BY cell_x, cell_y",
        params,
    )
    return _whole_numbers(CELLS, rows)


def _whole_numbers(tally: Tally, rows: list[Any]) -> list[Any]:
    """Return rows of counts as whole numbers, or say which table holds something else."""
    try:
        return [tuple(int(value) for value in row) for row in rows]
    except (TypeError, ValueError) as err:
        raise StoreFaultError(_not_numbers(tally, err)) from err


def _not_numbers(tally: Tally, err: Exception) -> str:
    return (
        f"{tally.table}: holds a value another program wrote that is not a whole number "
        f"({err}); the maps cannot draw its counts. Fix: `crossings copy` the store into a "
        "new one, which counts the records anew"
    )


def problems(store: Any, *, postgis: bool) -> list[str]:
    """Say where the kept counts differ from the records counted afresh (a full pass)."""
    found = []
    for tally in TALLIES:
        a, b = tally.keys
        rows = store._query(f"SELECT {a}, {b}, records FROM {tally.table}", {})
        try:
            kept = {(x if tally is YEARS else int(x), int(y)): int(n) for x, y, n in rows if n}
        except (TypeError, ValueError) as err:
            found.append(_not_numbers(tally, err))
            continue
        fresh = {
            (x, int(y)): int(n) for x, y, n in store._query(_counted(tally, postgis=postgis), {})
        }
        wrong = sorted(key for key in kept.keys() | fresh.keys() if kept.get(key) != fresh.get(key))
        if not wrong:
            continue
        x, y = wrong[0]
        where = (
            f"the cell at {x * CELL_DEG:.2f}, {y * CELL_DEG:.2f}"
            if tally is CELLS
            else f"{x or 'the whole border'} in {y}"
        )
        found.append(
            f"{tally.table}: {len(wrong)} counts differ from the records' (first: {where} keeps "
            f"{kept.get((x, y), 0)}, holds {fresh.get((x, y), 0)}); its triggers were dropped or "
            "bypassed, and maps of many records draw wrong counts. Fix: `crossings copy` the "
            "store into a new one, which counts them anew"
        )
    return found
