"""Spatial and temporal questions by crossing, one function a command.

Distances are geodesic metres on WGS84; "within N km" questions read only
the rows the GeoPackage's R-tree selects, then measure each exactly.
"""

from __future__ import annotations

import gc
import json
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

from geo.errors import RecordValidationError
from geo.exchange import check_geojson_crs, read_rows
from geo.fields import date_range, parse_lat_lon, resolve_crossing_id
from geo.inventory import structure_ids, today_or
from geo.model import BORDER_WIDE, BBox, Crossing, LonLat, Observation, Sighting
from geo.query import geodesic_inverse, overlaps
from geo.status import describe_status, in_force, status_timeline
from geo.store import Store, open_store

__all__ = [
    "Change",
    "Match",
    "Nearby",
    "Transition",
    "around",
    "changes",
    "distance_between",
    "near",
    "nearest",
    "observations_near",
    "sightings_around",
    "timelines",
    "transitions",
    "within",
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
    store: str | Path, lat: object, lon: object, *, km: float = NEAR_KM
) -> list[Nearby[Crossing]]:
    """Return the crossings within ``km`` of a point, nearest first."""
    origin = parse_lat_lon(lat, lon, field="point")
    limit = _radius_m(km, "--km")
    with open_store(store) as opened:
        crossings = list(opened.crossings().values())
    return _measure(origin, crossings, limit)


def around(
    store: str | Path,
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
    with open_store(store) as opened:
        origin = _located(_crossing(opened.crossings(), crossing_id))
        return _observations_around(
            opened, origin, km, since=since, until=until, kind=kind, source_type=source_type
        )


def sightings_around(
    store: str | Path,
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
    with open_store(store) as opened:
        origin = _located(_crossing(opened.crossings(), crossing_id))
        limit = _radius_m(km, "--km")
        fids = _fids_within(opened, origin, limit, since, until, kind, source_type)
        with _collector_paused():
            brief = opened.sightings_by_fid(fids)
            return _measure(origin, brief, limit, then=lambda s: s.date_start)


def observations_near(
    store: str | Path, lat: object, lon: object, *, km: float = NEAR_KM
) -> list[Nearby[Observation]]:
    """Return the observations within ``km`` of a point, nearest first (as :func:`around`)."""
    origin = parse_lat_lon(lat, lon, field="point")
    with open_store(store) as opened:
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


def distance_between(store: str | Path, first_id: str, second_id: str) -> Nearby[Crossing]:
    """Return the geodesic distance and bearing from one crossing to another."""
    with open_store(store) as opened:
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


def nearest(store: str | Path, path: str | Path, *, max_km: float = 25.0) -> list[Match]:
    """For each point of a CSV or GeoJSON file, return the nearest crossing within ``max_km``."""
    limit = _radius_m(max_km, "--max-km")
    points = _points(path)
    with open_store(store) as opened:
        crossings = [c for c in opened.crossings().values() if c.location is not None]
    matches = []
    for number, point in points:
        ranked = _measure(point, crossings)
        if ranked and ranked[0].distance_m <= limit:
            matches.append(Match(number, point, ranked[0].item, ranked[0].distance_m))
        else:
            matches.append(Match(number, point, None, None))
    return matches


def within(store: str | Path, path: str | Path) -> tuple[list[Crossing], list[Observation]]:
    """Return the crossings and observations inside the polygons of a GeoJSON file."""
    import numpy as np

    import shapely
    from shapely.geometry import shape

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
        features = data["features"] if data.get("type") == "FeatureCollection" else [data]
        with warnings.catch_warnings():  # a vertex that is not a number is refused below
            warnings.simplefilter("ignore", RuntimeWarning)
            shapes = [shape(f["geometry"] if f.get("type") == "Feature" else f) for f in features]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise RecordValidationError(
            "FILE",
            str(path),
            f"cannot be read as GeoJSON ({err})",
            "a GeoJSON FeatureCollection of Polygon or MultiPolygon features (lon, lat)",
            "export the areas as GeoJSON",
        ) from err
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
    with open_store(store) as opened:
        crossings = [
            c
            for c in opened.crossings().values()
            if c.location and shapely.covers(area, shapely.Point(c.location))
        ]
        boxes = [BBox(*p.bounds) for p in polygons]
        index = opened.index_boxes(boxes)
        boxes_hit = shapely.intersects(
            area, shapely.box(index.minx, index.miny, index.maxx, index.maxy)
        )
        candidates = opened.observations_by_fid(
            np.unique(index.fid[boxes_hit]).tolist(), in_force=True
        )
    observations = [
        o for o in candidates if o.location and shapely.intersects_xy(area, *o.location)
    ]
    return crossings, sorted(observations, key=lambda o: (o.crossing_id or "", o.date.start))


def timelines(store: str | Path, *, until: date | None = None) -> list[tuple[Crossing, list]]:
    """Return every crossing with its status steps up to ``until`` (default: today)."""
    day = today_or(until)
    with open_store(store) as opened:
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


def changes(store: str | Path, since: str, until: str) -> list[Change]:
    """Return every status and infrastructure record dated between two dates, by crossing.

    Records whose date interval overlaps ``[since, until]`` count; corrections
    replace what they correct, retracted records are left out.
    """
    first, last = date_range(since, until, names=("--from", "--to"))
    with open_store(store) as opened:
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


def transitions(store: str | Path, since: str, until: str) -> list[Transition]:
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
