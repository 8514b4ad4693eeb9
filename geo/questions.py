"""Spatial and temporal questions by crossing, one function a command.

Distances are geodesic metres on WGS84; "within N km" questions read only
the rows the GeoPackage's R-tree selects, then measure each exactly.
"""

from __future__ import annotations

import gc
import json
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

from geo.errors import RecordValidationError
from geo.exchange import check_geojson_crs, observation_fields, read_rows
from geo.fields import date_range, parse_lat_lon, resolve_crossing_id
from geo.inventory import reading, structure_ids, today_or
from geo.model import BORDER_WIDE, BBox, Crossing, LonLat, Observation, Sighting
from geo.query import geodesic_inverse, overlaps
from geo.schema import CARRIED_FIELDS
from geo.status import describe_status, in_force, status_timeline
from geo.store import GeoPackageStore, open_store
from geo.store.blob import blob_arrays
from geo.store.schema import day_text, fuzzy

if TYPE_CHECKING:
    from geo.store import Store

__all__ = [
    "RECORD_FIELDS",
    "Change",
    "Chunked",
    "Match",
    "Nearby",
    "Streamed",
    "Transition",
    "around",
    "changes",
    "distance_between",
    "near",
    "nearest",
    "observations_near",
    "sightings_around",
    "stream_around",
    "stream_observations_near",
    "stream_within",
    "timelines",
    "transitions",
    "within",
    "within_areas",
]

#: The default radius of ``near``, in kilometres.
NEAR_KM = 10.0
#: The default radius of ``around``, in kilometres.
AROUND_KM = 3.0


T = TypeVar("T", Crossing, Observation, Sighting)


class Nearby(NamedTuple, Generic[T]):
    """A crossing or an observation, its distance in metres and its bearing from the origin.

    The bearing is None at zero distance, where it has no meaning. (A named tuple:
    a question may answer with many of them.)
    """

    item: T
    distance_m: float
    bearing_deg: float | None


@dataclass(frozen=True)
class Match:
    """One input point and the crossing nearest to it (None beyond the limit)."""

    row: int
    point: LonLat
    crossing: Crossing | None
    distance_m: float | None


def _measure(
    origin: LonLat,
    items: Sequence[T],
    limit_m: float | None = None,
    *,
    then: Callable[[T], Any] | None = None,
) -> list[Nearby[T]]:
    """Measure from ``origin`` to each item with a point, nearest first, within ``limit_m``.

    Distances and bearings are computed on arrays, and the order is found on
    indices: an answer's Nearby tuples are built once, in their final order.
    Ties in distance go by ``then(item)`` if given, else stay in input order.
    """
    import numpy as np

    located = [i for i in items if i.location is not None]
    distances, bearings = geodesic_inverse(
        origin,
        np.fromiter((i.location.lon for i in located), float, len(located)),  # type: ignore[union-attr]
        np.fromiter((i.location.lat for i in located), float, len(located)),  # type: ignore[union-attr]
    )
    kept = np.arange(len(located)) if limit_m is None else np.flatnonzero(distances <= limit_m)
    if then is not None:  # sorted by the tie-breaker first: the stable sort by distance keeps it
        kept = np.asarray(sorted(kept.tolist(), key=lambda k: then(located[k])), dtype=np.intp)
    order = kept[np.argsort(distances[kept], kind="stable")]
    return [
        Nearby(located[k], d, b if d > 0 else None)
        for k, d, b in zip(
            order.tolist(), distances[order].tolist(), bearings[order].tolist(), strict=True
        )
    ]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cycle collector while an answer's records are built.

    Records are tuples of plain values and hold no cycles; built by the
    thousand, each burst of them would set off a collection that walks every
    object the program holds, earlier answers included.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _radius_m(km: float, field: str) -> float:
    if not km >= 0:  # also refuses NaN
        raise RecordValidationError(
            field,
            km,
            "is not a distance",
            "a number of kilometres, 0 or more",
            f"give e.g. {field} 3",
        )
    return km * 1000.0


def _crossing(crossings: Mapping[str, Crossing], text: str, field: str = "ID") -> Crossing:
    found = resolve_crossing_id(text, crossings, field=field, partial=True)
    if found is None:
        raise RecordValidationError(
            field,
            text,
            f"is {BORDER_WIDE!r}, not a crossing",
            "a crossing id from `crossings list`",
            "name one crossing",
        )
    return crossings[found]


def _located(crossing: Crossing, field: str = "ID") -> LonLat:
    if crossing.location is None:
        raise RecordValidationError(
            field,
            crossing.id,
            "has no known point",
            "a crossing with coordinates",
            f"distances cannot be measured from it: {crossing.location_note}",
        )
    return crossing.location


def near(
    store: str | Path | Store, lat: object, lon: object, *, km: float = NEAR_KM
) -> list[Nearby[Crossing]]:
    """Return the crossings within ``km`` of a point, nearest first."""
    origin = parse_lat_lon(lat, lon, field="point")
    limit = _radius_m(km, "--km")
    with reading(store) as opened:
        crossings = list(opened.crossings().values())
    return _measure(origin, crossings, limit)


def around(
    store: str | Path | Store,
    crossing_id: str,
    *,
    km: float = AROUND_KM,
    since: str | None = None,
    until: str | None = None,
    kind: str | None = None,
    source_type: str | None = None,
) -> list[Nearby[Observation]]:
    """Return the observations within ``km`` of a crossing, tagged to it or not, nearest first.

    Dates with month or year precision are intervals: a record dated
    ``2025-03`` is found by ``since="2025-03-15"``. Records a later record
    corrects or withdraws are left out, as are the withdrawals.
    """
    with reading(store) as opened:
        origin = _located(_crossing(opened.crossings(), crossing_id))
        return _observations_around(
            opened, origin, km, since=since, until=until, kind=kind, source_type=source_type
        )


def sightings_around(
    store: str | Path | Store,
    crossing_id: str,
    *,
    km: float = AROUND_KM,
    since: str | None = None,
    until: str | None = None,
    kind: str | None = None,
    source_type: str | None = None,
) -> list[Nearby[Sighting]]:
    """Return what :func:`around` returns, as light records: the fields a list of them shows.

    The same records in the same order; each reads ten fields and its point
    (geo.model.Sighting) instead of a whole record, so a long answer costs less.
    """
    with reading(store) as opened:
        origin = _located(_crossing(opened.crossings(), crossing_id))
        limit = _radius_m(km, "--km")
        fids = _fids_within(opened, origin, limit, since, until, kind, source_type)
        with _collector_paused():
            brief = opened.sightings_by_fid(fids)
            return _measure(origin, brief, limit, then=lambda s: s.date_start)


def observations_near(
    store: str | Path | Store, lat: object, lon: object, *, km: float = NEAR_KM
) -> list[Nearby[Observation]]:
    """Return the observations within ``km`` of a point, nearest first (as :func:`around`)."""
    origin = parse_lat_lon(lat, lon, field="point")
    with reading(store) as opened:
        return _observations_around(opened, origin, km)


def _observations_around(
    opened: Store,
    origin: LonLat,
    km: float,
    *,
    since: str | None = None,
    until: str | None = None,
    kind: str | None = None,
    source_type: str | None = None,
) -> list[Nearby[Observation]]:
    """Read only the records whose index box may hold a point within ``km`` of ``origin``."""
    limit = _radius_m(km, "--km")
    fids = _fids_within(opened, origin, limit, since, until, kind, source_type)
    with _collector_paused():
        records = opened.observations_by_fid(fids, in_force=True)
        return _measure(origin, records, limit, then=lambda o: o.date.start)


def _fids_within(
    opened: Store,
    origin: LonLat,
    limit_m: float,
    since: str | None,
    until: str | None,
    kind: str | None,
    source_type: str | None,
) -> list[int]:
    """Return the feature ids that may hold a point within ``limit_m``, in file order.

    In file order: neighbouring rows share pages (answers are sorted by distance after).
    """
    first, last = date_range(since, until)
    return opened.fids_near(
        origin, limit_m, since=first, until=last, kind=kind, source_type=source_type
    )


def distance_between(store: str | Path | Store, first_id: str, second_id: str) -> Nearby[Crossing]:
    """Return the geodesic distance and bearing from one crossing to another."""
    with reading(store) as opened:
        crossings = opened.crossings()
        first = _crossing(crossings, first_id, "ID1")
        second = _crossing(crossings, second_id, "ID2")
    _located(second, "ID2")
    (found,) = _measure(_located(first, "ID1"), [second])
    return found


def _points(path: str | Path) -> list[tuple[int, LonLat]]:
    rows = read_rows(path)
    points = []
    for number, fields in rows:
        lat = fields.get("lat", fields.get("latitude"))
        lon = fields.get("lon", fields.get("longitude", fields.get("lng")))
        if lat in (None, "") or lon in (None, ""):
            raise RecordValidationError(
                f"row {number}",
                {k: v for k, v in fields.items() if k in ("lat", "lon")},
                "has no coordinates",
                "a lat and a lon column (CSV) or a Point geometry (GeoJSON)",
                "add the coordinates, or remove the row",
            )
        points.append((number, parse_lat_lon(lat, lon, field=f"row {number}")))
    return points


def nearest(store: str | Path | Store, path: str | Path, *, max_km: float = 25.0) -> list[Match]:
    """For each point of a CSV or GeoJSON file, return the nearest crossing within ``max_km``."""
    limit = _radius_m(max_km, "--max-km")
    points = _points(path)
    with reading(store) as opened:
        crossings = [c for c in opened.crossings().values() if c.location is not None]
    matches = []
    for number, point in points:
        ranked = _measure(point, crossings)
        if ranked and ranked[0].distance_m <= limit:
            matches.append(Match(number, point, ranked[0].item, ranked[0].distance_m))
        else:
            matches.append(Match(number, point, None, None))
    return matches


def within(store: str | Path | Store, path: str | Path) -> tuple[list[Crossing], list[Observation]]:
    """Return the crossings and observations inside the polygons of a GeoJSON file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as err:
        raise _not_geojson(path, err) from err
    return within_areas(store, data, path)


def _not_geojson(path: str | Path, err: Exception) -> RecordValidationError:
    return RecordValidationError(
        "FILE",
        str(path),
        f"cannot be read as GeoJSON ({err})",
        "a GeoJSON FeatureCollection of Polygon or MultiPolygon features (lon, lat)",
        "export the areas as GeoJSON",
    )


def within_areas(
    store: str | Path | Store, data: Any, path: str | Path = "FILE"
) -> tuple[list[Crossing], list[Observation]]:
    """Return the crossings and observations inside the polygons of parsed GeoJSON ``data``.

    ``path`` names the areas in messages (the file they were read from).
    """
    import shapely

    area, polygons = _area(data, path)
    with reading(store) as opened:
        crossings = _crossings_in(opened, area)
        candidates = opened.observations_by_fid(_fids_in(opened, area, polygons), in_force=True)
    observations = [
        o for o in candidates if o.location and shapely.intersects_xy(area, *o.location)
    ]
    return crossings, sorted(observations, key=lambda o: (o.crossing_id or "", o.date.start))


def _area(data: Any, path: str | Path) -> tuple[Any, list[Any]]:
    """Return the union of the polygons of parsed GeoJSON (prepared), and the polygons."""
    import numpy as np

    import shapely
    from shapely.geometry import shape

    try:
        features = data["features"] if data.get("type") == "FeatureCollection" else [data]
        with warnings.catch_warnings():  # a vertex that is not a number is refused below
            warnings.simplefilter("ignore", RuntimeWarning)
            shapes = [shape(f["geometry"] if f.get("type") == "Feature" else f) for f in features]
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise _not_geojson(path, err) from err
    check_geojson_crs(data, path)
    polygons = [g for g in shapes if g.geom_type in ("Polygon", "MultiPolygon") and not g.is_empty]
    for polygon in polygons:
        xy = shapely.get_coordinates(polygon)
        finite = np.isfinite(xy).all()
        if not finite or (np.abs(xy[:, 0]) > 180).any() or (np.abs(xy[:, 1]) > 90).any():
            raise RecordValidationError(
                "FILE",
                str(path),
                "has a polygon with a vertex that is not a number, or out of range",
                "longitude -180 to 180 and latitude -90 to 90, in degrees, every vertex",
                "check the file's coordinates (lon, lat order, in degrees)",
            )
    if not polygons:
        raise RecordValidationError(
            "FILE",
            str(path),
            "holds no polygons",
            "Polygon or MultiPolygon geometries",
            "draw the areas as polygons",
        )
    area = shapely.union_all(polygons)
    shapely.prepare(area)
    return area, polygons


def _crossings_in(opened: Store, area: Any) -> list[Crossing]:
    import shapely

    return [
        c
        for c in opened.crossings().values()
        if c.location and shapely.covers(area, shapely.Point(c.location))
    ]


def _fids_in(opened: Store, area: Any, polygons: Sequence[Any]) -> list[int]:
    """Return the feature ids of the records whose index box meets the area, in file order."""
    import numpy as np

    import shapely

    index = opened.index_boxes([BBox(*p.bounds) for p in polygons])
    if len(polygons) == 1 and polygons[0].equals(shapely.envelope(polygons[0])):
        return list(np.unique(index.fid).tolist())  # a rectangle: each box found meets it
    boxes_hit = shapely.intersects(
        area, shapely.box(index.minx, index.miny, index.maxx, index.maxy)
    )
    return list(np.unique(index.fid[boxes_hit]).tolist())


def timelines(
    store: str | Path | Store, *, until: date | None = None
) -> list[tuple[Crossing, list]]:
    """Return every crossing with its status steps up to ``until`` (default: today)."""
    day = today_or(until)
    with reading(store) as opened:
        structures = structure_ids(opened)
        return [
            (
                crossing,
                status_timeline(
                    opened.observations(crossing.id),
                    crossing.id,
                    until=day,
                    structure_ids=structures.get(crossing.id, ()),
                ),
            )
            for crossing in opened.crossings().values()
        ]


@dataclass(frozen=True)
class Change:
    """A status or infrastructure record between two dates, with the status around it."""

    crossing: Crossing | None
    record: Observation


def changes(store: str | Path | Store, since: str, until: str) -> list[Change]:
    """Return every status and infrastructure record dated between two dates, by crossing.

    Records whose date interval overlaps ``[since, until]`` count; corrections
    replace what they correct, retracted records are left out.
    """
    first, last = date_range(since, until, names=("--from", "--to"))
    with reading(store) as opened:
        crossings = opened.crossings()
        records = in_force(opened.observations())
    order = {crossing_id: n for n, crossing_id in enumerate(crossings)}
    found = [
        Change(crossings.get(o.crossing_id or ""), o)
        for o in records
        if o.kind in ("status", "infrastructure") and overlaps(o.date, first, last)
    ]
    return sorted(
        found,
        key=lambda c: (
            order.get(c.record.crossing_id or "", -1),
            c.record.date.start,
            c.record.date.end,
        ),
    )


@dataclass(frozen=True)
class Transition:
    """A crossing's status changing on a day, and the record (or end of a record) that did it.

    ``record`` is None when the change came from a temporary record ending, or
    when the crossing's first status came before ``day``; ``cause`` says which.
    """

    crossing: Crossing
    day: date
    before: str | None
    after: str | None
    before_text: str
    after_text: str
    record: Observation | None
    cause: str


def transitions(store: str | Path | Store, since: str, until: str) -> list[Transition]:
    """Return every change of a crossing's status between two dates, by crossing then day.

    The statuses are those of the status rule (geo.status) on each day: a
    change is a new status value (with what moves) on the day a record begins
    to count, or on the day after a temporary record ends.
    """
    first, last = date_range(since, until, names=("--from", "--to"))
    found: list[Transition] = []
    for crossing, steps in timelines(store, until=last):
        previous = None
        for step in steps:
            label = describe_status(step.status, step.traffic, is_lifecycle=step.is_lifecycle)
            before = (
                describe_status(
                    previous.status, previous.traffic, is_lifecycle=previous.is_lifecycle
                )
                if previous is not None
                else describe_status(None)
            )
            changed = previous is None or label != before
            if changed and (first is None or step.since >= first):
                starts = step.record is not None and step.record.date.end == step.since
                found.append(
                    Transition(
                        crossing=crossing,
                        day=step.since,
                        before=previous.status if previous else None,
                        after=step.status,
                        before_text=before,
                        after_text=label,
                        record=step.record if starts else None,
                        cause="record" if starts else "temporary record ended",
                    )
                )
            previous = step
    return found


# -- answers written as they are read -------------------------------------------------------

#: Records a streamed answer reads from the store at a time: its memory does not follow its
#: length (only its order does, a few numbers a record).
_READ_AT_A_TIME = 1000
#: Connections that read the points of a long answer at once (from this many chunks on).
_READ_APART = 8
#: A chunk read slower than this came from the disk (from memory one takes a few ms): the rest
#: of the answer is read by several connections at once.
_FROM_DISK_S = 0.02

#: A record in force (as IN_FORCE of geo.store.source): the corrected records' ids are read
#: once, from the index of ``replaces``, not looked up record by record.
_IN_FORCE = (
    "o.kind != 'retraction' AND o.id NOT IN "
    "(SELECT replaces FROM observations WHERE replaces IS NOT NULL)"
)
#: The records among a JSON list of feature ids.
_AMONG = "o.fid IN (SELECT value FROM json_each(:fids))"


def _or_empty(value: Any) -> Any:
    return value or ""


def _or_none(value: Any) -> Any:
    return value or None


def _or_border(value: Any) -> Any:
    return value or BORDER_WIDE


@lru_cache(maxsize=4096)
def _iso_day(value: Any) -> str:
    return date.fromisoformat(day_text(value)).isoformat()


@lru_cache(maxsize=4096)
def _first_day(value: Any) -> int:
    return date.fromisoformat(day_text(value)).toordinal()


@lru_cache(maxsize=4096)
def _date_text(value: Any) -> Any:
    return fuzzy(value).text if value else None  # type: ignore[union-attr]


@lru_cache(maxsize=65536)
def _moment_text(value: Any) -> str:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.isoformat().replace("+00:00", "Z")


def _list_text(value: Any) -> Any:
    return (",".join(part for part in value.split(",") if part) or None) if value else None


#: A record's fields as geo.exchange.observation_fields gives them, in its order: the column
#: each is read from and what is made of the stored value (None: the value as stored), as
#: the row codec (geo.store.schema) and observation_fields make it. lat and lon: its point.
_FIELDS: dict[str, tuple[str, Callable[[Any], Any] | None] | None] = {
    "id": ("id", None),
    "crossing_id": ("crossing_id", _or_border),
    "date": ("date", None),
    "precision": ("date_precision", None),
    "date_start": ("date_start", _iso_day),
    "date_end": ("date_end", _iso_day),
    "kind": ("kind", None),
    "status": ("status", None),
    "summary": ("summary", _or_empty),
    "source_name": ("source_name", _or_empty),
    "source_url": ("source_url", None),
    "source_published": ("source_published", _date_text),
    "source_type": ("source_type", _or_empty),
    "source_detail": ("source_detail", _or_empty),
    "side": ("side", None),
    "lat": None,
    "lon": None,
    "replaces": ("replaces", None),
    "notes": ("notes", _or_empty),
    "recorded_at": ("recorded_at", _moment_text),
    "recorded_by": ("recorded_by", _or_empty),
    "applies_to": ("applies_to", _list_text),
    "until": ("until", _date_text),
    "structure_id": ("structure_id", _or_none),
    "traffic": ("traffic", _list_text),
    "expected": ("expected", _date_text),
    "lifecycle": ("lifecycle", _or_none),
    "source_is_mirror": ("source_is_mirror", bool),
    **{f.name: (f.name, _or_none) for f in CARRIED_FIELDS},
}
#: The fields of a record in a streamed answer, as observation_fields names them.
RECORD_FIELDS = tuple(_FIELDS)


class Chunked:
    """Rows given a chunk at a time as the chunk's columns: lists of equal length, one a field.

    Iterating gives the rows (tuples); a writer that works column by column takes
    ``chunks`` as they are. Each is read once.
    """

    def __init__(self, chunks: Iterable[list[Sequence[Any]]]) -> None:
        self.chunks: Iterator[list[Sequence[Any]]] = iter(chunks)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        for columns in self.chunks:
            yield from zip(*columns, strict=True)

    @classmethod
    def of_rows(cls, rows: Iterable[Sequence[Any]]) -> Chunked:
        """Return rows (of one field or more) as chunks of _READ_AT_A_TIME."""
        return cls(_row_chunks(iter(rows)))

    def changed(self, change: Callable[[list[Sequence[Any]]], list[Sequence[Any]]]) -> Chunked:
        """Return these rows with ``change`` made to the columns of each chunk."""
        return Chunked(map(change, self.chunks))


def _row_chunks(rows: Iterator[Sequence[Any]]) -> Iterator[list[Sequence[Any]]]:
    while chunk := list(islice(rows, _READ_AT_A_TIME)):
        yield list(zip(*chunk, strict=True))


class Streamed(NamedTuple):
    """An answer written as it is read: the names of its fields and its rows, in order.

    Each row is a tuple of plain values (text, numbers, None) in the order of
    ``fields``. The rows are read from the store a chunk at a time while it is
    open, so an answer of any length is never held whole.
    """

    fields: tuple[str, ...]
    rows: Chunked


class _Points(NamedTuple):
    """Records in force among some feature ids, in file order: id, point, first day, more.

    ``held``: each record's row of the columns asked for, by feature id, when they
    were read with the points (few records), else None.
    """

    fid: Any
    lon: Any
    lat: Any
    first_day: Any
    more: list[Any]
    held: dict[int, tuple[Any, ...]] | None = None


#: At most this many records' rows are read with their points and held until written: one
#: reading of the store instead of two (about 1 KB a record held: 10 MB at most).
_HELD_AT_MOST = 10_000


def _points_in_force(
    opened: Store, fids: Sequence[int], more: str | None = None, columns: Sequence[str] = ()
) -> _Points:
    """Read the point and first day (and the column ``more``) of the records in force.

    Only those with a point; in file order, a chunk of ids at a time, into arrays
    made once for all of them. With ``columns`` (the feature id first) and few
    records, their rows of those columns are read too and held.
    """
    import numpy as np

    held: dict[int, tuple[Any, ...]] | None = {} if columns and len(fids) <= _HELD_AT_MOST else None
    asked = [
        *(columns if held is not None else ["fid"]),
        "geom",
        "date_start",
        *([more] if more else []),
    ]
    at = len(asked) - (4 if more else 3)  # where the point is, then the day and ``more``
    sql = (
        f"SELECT {', '.join(f'o.{c}' for c in asked)} FROM observations o "
        f"WHERE {_AMONG} AND {_IN_FORCE} ORDER BY o.fid"
    )
    found = _Points(
        np.empty(len(fids), np.int64),
        np.empty(len(fids)),
        np.empty(len(fids)),
        np.empty(len(fids), np.int64),
        [],
        held,
    )
    seen: dict[Any, Any] = {}
    filled = 0
    chunks = [list(fids[n : n + _READ_AT_A_TIME]) for n in range(0, len(fids), _READ_AT_A_TIME)]
    for rows in _read_chunks(opened, sql, chunks):
        lon, lat = blob_arrays([row[at + 1] for row in rows])
        try:
            first = np.fromiter((_first_day(row[at + 2]) for row in rows), np.int64, len(rows))
        except (TypeError, ValueError) as err:
            raise _unreadable(rows[0][0], err) from err
        fid = np.fromiter((row[0] for row in rows), np.int64, len(rows))
        located = ~(np.isnan(lon) | np.isnan(lat))
        end = filled + int(located.sum())
        for column, values in zip(found[:4], (fid, lon, lat, first), strict=True):
            column[filled:end] = values[located]
        filled = end
        if more:  # few values, each held once
            found.more.extend(
                seen.setdefault(row[at + 3], row[at + 3])
                for row, kept in zip(rows, located.tolist(), strict=True)
                if kept
            )
        if held is not None:
            held.update((row[0], row) for row in rows)
    fid, lon, lat, first = (column[:filled] for column in found[:4])
    return _Points(fid, lon, lat, first, found.more, held)


def _read_chunks(opened: Store, sql: str, chunks: list[list[int]]) -> Iterator[list[Any]]:
    """Yield the rows of ``sql`` for each chunk of feature ids, in order.

    Chunks of a GeoPackage that come from the disk are read by several
    connections at once: a store whose pages are not yet in memory is read
    several pages at a time, not one after another (a cold answer of 20,000
    records among 10,000,000 reads about 20,000 pages). Chunks read from memory
    are read on the store's own connection, where other connections would cost
    more than they save.
    """
    path = getattr(opened, "path", None)
    apart = len(chunks) >= _READ_APART and isinstance(opened, GeoPackageStore) and path is not None
    for n, chunk in enumerate(chunks):
        start = time.perf_counter()
        rows = opened._query(sql, {"fids": json.dumps(chunk)})
        took = time.perf_counter() - start
        yield rows
        if apart and path is not None and took > _FROM_DISK_S and n + 1 < len(chunks):
            yield from _read_apart(path, sql, chunks[n + 1 :])
            return


def _read_apart(path: Path, sql: str, chunks: list[list[int]]) -> Iterator[list[Any]]:
    """Yield the rows of ``sql`` for each chunk, read by several connections at once, in order."""
    # Each thread opens the store once, for every chunk it reads (an open checks the store:
    # once a chunk, the opens took longer than the reads of a warm answer).
    local = threading.local()
    stores: list[Store] = []

    def read(chunk: list[int]) -> list[Any]:
        apart = getattr(local, "store", None)
        if apart is None:
            apart = local.store = open_store(path)
            stores.append(apart)
        return apart._query(sql, {"fids": json.dumps(chunk)})

    # At most a few chunks are read ahead of the one taken: a reader slower than the disk
    # (a busy machine, a pipe) would otherwise have every chunk of the answer held at once.
    try:
        with ThreadPoolExecutor(max_workers=_READ_APART) as pool:
            ahead: deque[Future[list[Any]]] = deque()
            for chunk in chunks:
                ahead.append(pool.submit(read, chunk))
                if len(ahead) > _READ_APART:
                    yield ahead.popleft().result()
            while ahead:
                yield ahead.popleft().result()
    finally:
        for apart in stores:
            apart.close()


def _unreadable(fids: object, err: Exception) -> RecordValidationError:
    return RecordValidationError(
        "observation",
        f"among feature ids {fids}",
        f"holds a value another program wrote that cannot be read ({err})",
        "the values crossings writes (ISO dates, the declared types)",
        "correct that row of the observations table, or restore the store from a copy",
    )


def _record_chunks(
    opened: Store,
    points: _Points,
    order: Any,
    fields: Sequence[str],
    *,
    own_points: bool,
    measured: tuple[Any, Any] | None = None,
) -> Iterator[list[Sequence[Any]]]:
    """Yield the columns of the ``fields`` of the records at ``order`` among ``points``, by chunk.

    lat and lon are the record's point; with ``own_points``, only a point of its
    own (as observation_fields gives them), else None. ``measured``, the distance
    and bearing of each of ``points``, adds them (the bearing None at 0 m). Each
    chunk is read in one query (or taken from the rows held with the points) and
    made column by column.
    """
    columns = _record_columns(fields)
    sql = f"SELECT {', '.join(f'o.{c}' for c in columns)} FROM observations o WHERE {_AMONG}"
    own = columns.index("has_own_location")
    for start in range(0, len(order), _READ_AT_A_TIME):
        taken = order[start : start + _READ_AT_A_TIME]
        chunk = points.fid[taken].tolist()
        stored = points.held
        if stored is None:
            stored = {row[0]: row for row in opened._query(sql, {"fids": json.dumps(chunk)})}
        stored_columns = list(zip(*(stored[fid] for fid in chunk), strict=True))
        point = {"lon": points.lon[taken].tolist(), "lat": points.lat[taken].tolist()}
        if own_points:  # a record without a point of its own has none here
            for name, values in point.items():
                point[name] = [
                    v if has else None for v, has in zip(values, stored_columns[own], strict=True)
                ]
        try:
            made = [
                point[name]
                if spec is None
                else _read(stored_columns[columns.index(spec[0])], spec[1])
                for name in fields
                for spec in (_FIELDS[name],)
            ]
        except (TypeError, ValueError) as err:
            raise _unreadable(f"{chunk[0]} to {chunk[-1]}", err) from err
        if measured is not None:
            distances, bearings = (values[taken].tolist() for values in measured)
            made += [
                distances,
                [b if d > 0 else None for d, b in zip(distances, bearings, strict=True)],
            ]
        yield made


def _record_columns(fields: Sequence[str]) -> list[str]:
    """Return the columns _record_chunks reads for ``fields``: the feature id first."""
    stored = {spec[0]: None for f in fields if (spec := _FIELDS[f]) is not None}
    return ["fid", *stored, "has_own_location"]


def _read(stored: Sequence[Any], read: Callable[[Any], Any] | None) -> Sequence[Any]:
    """Return a column of stored values as a record's fields give them."""
    if read is None:
        return stored
    if read is _or_empty:
        return [value or "" for value in stored]
    if read is _or_none:
        return [value or None for value in stored]
    made = {value: read(value) for value in set(stored)}  # each value once: few differ
    return list(map(made.__getitem__, stored))


def _whole_rows(
    found: Iterable[Observation], fields: Sequence[str], *, own_points: bool
) -> Iterator[tuple[Any, ...]]:
    """Yield the ``fields`` of whole records (a store without a bulk read of its own)."""
    for record in found:
        values = observation_fields(record)
        if not own_points and record.location is not None:
            values["lon"], values["lat"] = record.location.lon, record.location.lat
        yield tuple(values[name] for name in fields)


def _nearby_rows(
    opened: Store,
    origin: LonLat,
    km: float,
    fields: Sequence[str],
    filters: tuple[str | None, ...] = (None, None, None, None),
    *,
    own_points: bool,
) -> Streamed:
    """Stream what _observations_around answers: ``fields``, distance_m and bearing_deg."""
    import numpy as np

    names = (*fields, "distance_m", "bearing_deg")
    limit = _radius_m(km, "--km")
    fids = _fids_within(opened, origin, limit, *filters)
    if not isinstance(opened, GeoPackageStore):
        asked = dict(zip(_FILTERS, filters, strict=True))
        found = _observations_around(opened, origin, km, **asked)
        rows = _whole_rows((n.item for n in found), fields, own_points=own_points)
        then = ((n.distance_m, n.bearing_deg) for n in found)
        return Streamed(names, Chunked.of_rows(row + m for row, m in zip(rows, then, strict=True)))
    points = _points_in_force(opened, fids, columns=_record_columns(fields))
    distances, bearings = geodesic_inverse(origin, points.lon, points.lat)
    kept = np.flatnonzero(distances <= limit)
    kept = kept[np.argsort(points.first_day[kept], kind="stable")]  # ties: the earlier first
    order = kept[np.argsort(distances[kept], kind="stable")]
    measured = (distances, bearings)
    chunks = _record_chunks(opened, points, order, fields, own_points=own_points, measured=measured)
    return Streamed(names, Chunked(chunks))


_FILTERS = ("since", "until", "kind", "source_type")


@contextmanager
def stream_around(
    store: str | Path | Store,
    crossing_id: str,
    *,
    km: float = AROUND_KM,
    since: str | None = None,
    until: str | None = None,
    kind: str | None = None,
    source_type: str | None = None,
) -> Iterator[Streamed]:
    """Answer :func:`around` as rows read while they are written, inside this block.

    The fields are RECORD_FIELDS (lat and lon: the record's point, its own or
    its crossing's), distance_m and bearing_deg (None at 0 m); the records and
    their order are :func:`around`'s. The store stays open until the block ends.
    """
    with reading(store) as opened:
        origin = _located(_crossing(opened.crossings(), crossing_id))
        filters = (since, until, kind, source_type)
        yield _nearby_rows(opened, origin, km, RECORD_FIELDS, filters, own_points=False)


@contextmanager
def stream_observations_near(
    store: str | Path | Store,
    lat: object,
    lon: object,
    *,
    km: float = NEAR_KM,
    fields: Sequence[str] = RECORD_FIELDS,
) -> Iterator[Streamed]:
    """Answer :func:`observations_near` as rows read while they are written, in this block.

    ``fields`` (of RECORD_FIELDS; lat and lon: a point of the record's own), then
    distance_m and bearing_deg.
    """
    origin = parse_lat_lon(lat, lon, field="point")
    with reading(store) as opened:
        yield _nearby_rows(opened, origin, km, fields, own_points=True)


@contextmanager
def stream_within(
    store: str | Path | Store, path: str | Path, *, fields: Sequence[str] = RECORD_FIELDS
) -> Iterator[tuple[list[Crossing], Streamed]]:
    """Answer :func:`within` with its records as rows read while they are written.

    The crossings inside the areas, and the records' ``fields`` (of
    RECORD_FIELDS; lat and lon: the record's point) in :func:`within`'s order.
    """
    import numpy as np

    import shapely

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as err:
        raise _not_geojson(path, err) from err
    area, polygons = _area(data, path)
    with reading(store) as opened:
        crossings = _crossings_in(opened, area)
        fids = _fids_in(opened, area, polygons)
        if not isinstance(opened, GeoPackageStore):
            _, records = within_areas(opened, data, path)
            whole = Chunked.of_rows(_whole_rows(records, fields, own_points=False))
            yield crossings, Streamed(tuple(fields), whole)
            return
        points = _points_in_force(opened, fids, "crossing_id", _record_columns(fields))
        kept = np.flatnonzero(shapely.intersects_xy(area, points.lon, points.lat))
        names = sorted({c or "" for c in points.more})
        rank = {name: n for n, name in enumerate(names)}
        by_crossing = np.fromiter((rank[c or ""] for c in points.more), np.int64, len(points.more))
        order = kept[np.lexsort((points.first_day[kept], by_crossing[kept]))]  # stable
        chunks = _record_chunks(opened, points, order, fields, own_points=False)
        yield crossings, Streamed(tuple(fields), Chunked(chunks))
