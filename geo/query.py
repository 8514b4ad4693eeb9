"""Questions asked of records: which are in force, and a crossing's status on a date.

Pure functions over records; the store does the reading.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from geo.model import BBox, FuzzyDate, LonLat, Observation

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike

__all__ = [
    "NOT_IN_SERVICE",
    "StatusAnswer",
    "StatusStep",
    "dwithin_boxes",
    "geodesic_inverse",
    "in_force",
    "overlaps",
    "status_as_of",
    "status_timeline",
]

# The smallest radius of curvature of the WGS84 ellipsoid (the meridian's, at the
# equator) is about 6,335 km: measuring a distance on a sphere of that radius
# overstates its angle, so a box built with it is never too small.
_MIN_RADIUS_M = 6_335_000.0
# Room for floating-point rounding at the box's edge (about 0.1 mm).
_PAD_DEG = 1e-9


def dwithin_boxes(center: LonLat, distance_m: float) -> list[BBox]:
    """Return degree boxes that together hold every point within ``distance_m`` of ``center``.

    A pre-filter for a spatial index: the boxes may hold points farther away
    (check those with :func:`geodesic_inverse`), never miss a nearer one. Near
    a pole the box spans every longitude; across the antimeridian it is split
    in two.

    Raises
    ------
    ValueError
        If ``distance_m`` is negative or NaN.

    Examples
    --------
    >>> [round(v, 3) for v in dwithin_boxes(LonLat(130.0, 42.0), 1000)[0]]
    [129.988, 41.991, 130.012, 42.009]
    >>> len(dwithin_boxes(LonLat(179.999, 0.0), 1000))
    2
    """
    if not distance_m >= 0:
        raise ValueError(f"distance_m={distance_m!r}: must be a distance >= 0")
    angle = distance_m / _MIN_RADIUS_M
    dlat = math.degrees(angle) + _PAD_DEG
    south, north = center.lat - dlat, center.lat + dlat
    if south <= -90 or north >= 90 or angle >= math.pi / 2:
        return [BBox(-180.0, max(south, -90.0), 180.0, min(north, 90.0))]
    widest = math.cos(math.radians(max(abs(south), abs(north))))
    dlon = math.degrees(math.asin(min(1.0, math.sin(angle) / widest))) + _PAD_DEG
    west, east = center.lon - dlon, center.lon + dlon
    if dlon >= 180:
        return [BBox(-180.0, south, 180.0, north)]
    if west < -180:
        return [BBox(west + 360, south, 180.0, north), BBox(-180.0, south, east, north)]
    if east > 180:
        return [BBox(west, south, 180.0, north), BBox(-180.0, south, east - 360, north)]
    return [BBox(west, south, east, north)]


def geodesic_inverse(
    origin: LonLat, lons: ArrayLike, lats: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Return the WGS84 distance in metres and the bearing in degrees (0-360) to each point.

    Examples
    --------
    >>> d, b = geodesic_inverse(LonLat(124.0, 40.0), [124.0], [41.0])
    >>> round(float(d[0])), round(float(b[0]))
    (111044, 0)
    """
    import numpy as np

    from pyproj import Geod

    lon = np.asarray(lons, dtype=float)
    lat = np.asarray(lats, dtype=float)
    forward, _, distance = Geod(ellps="WGS84").inv(
        np.full(lon.shape, origin.lon), np.full(lat.shape, origin.lat), lon, lat
    )
    return np.asarray(distance, dtype=float), np.mod(np.asarray(forward, dtype=float), 360.0)


def overlaps(when: FuzzyDate, since: date | None, until: date | None) -> bool:
    """Whether a record's date can fall between ``since`` and ``until`` (both inclusive).

    A month or year is an interval: ``2025-03`` overlaps ``since`` 2025-03-15.

    Examples
    --------
    >>> march = FuzzyDate("2025-03", "month", date(2025, 3, 1), date(2025, 3, 31))
    >>> overlaps(march, date(2025, 3, 15), None), overlaps(march, date(2025, 4, 1), None)
    (True, False)
    """
    return (since is None or when.end >= since) and (until is None or when.start <= until)


#: Statuses of a crossing that has never carried traffic: a border-wide
#: closure or reopening does not change them.
NOT_IN_SERVICE = frozenset({"under_construction", "built_not_opened"})


@dataclass(frozen=True)
class StatusAnswer:
    """A crossing's status on a date and the record it rests on.

    ``conflicts`` holds records as late and as precise as ``record`` that say
    otherwise: the sources disagree and neither is picked silently.
    """

    as_of: date
    status: str | None
    record: Observation | None
    conflicts: tuple[Observation, ...] = ()

    @property
    def is_conflicted(self) -> bool:
        """Whether equally good records disagree about the status."""
        return bool(self.conflicts)


def in_force(observations: Iterable[Observation]) -> list[Observation]:
    """Return the records that no later record replaces or retracts.

    Retractions themselves are left out: they only withdraw another record.

    Examples
    --------
    >>> in_force([])
    []
    """
    records = list(observations)
    replaced = {o.replaces for o in records if o.replaces}
    return [o for o in records if o.id not in replaced and o.kind != "retraction"]


def _order(record: Observation) -> tuple[date, date]:
    return (record.date.end, record.date.start)


#: How open each status is, for border-wide records that tighten or loosen.
_OPENNESS = {"closed": 0, "restricted": 1, "open": 2}


def status_as_of(observations: Sequence[Observation], as_of: date) -> StatusAnswer:
    """Return the status on ``as_of`` from a crossing's records.

    The rule: take the records in force that state a status and whose date is
    known to be on or before ``as_of`` (a month or year counts from its last
    day, so ``2025-03`` is known only from 31 March), in date order (last
    possible day, then first possible day). Each of the crossing's own records
    sets the status. A record about the whole border is a limit: one that
    tightens the border (less open than the border-wide record before it, or
    the first) lowers a crossing that is more open (open > restricted >
    closed); one that loosens it raises a crossing that is less open. Border-wide
    records never touch a crossing under construction or built but not opened.
    Own records of the same dates that disagree are returned as ``conflicts``:
    one record for each other status they give.

    Parameters
    ----------
    observations : sequence of Observation
        The crossing's records, with border-wide ones if they should count.
    as_of : date
        The day asked about.

    Returns
    -------
    StatusAnswer
        ``status`` is None when no record states one by that day.

    Examples
    --------
    >>> status_as_of([], date(2021, 6, 1)).status is None
    True
    """
    candidates = _status_candidates(observations, until=as_of)
    steps = list(_fold(candidates))
    status, deciding = steps[-1] if steps else (None, None)
    if deciding is None:
        return StatusAnswer(as_of=as_of, status=None, record=None)
    # One record for each other status the crossing's own records of the same dates give.
    others: dict[str | None, Observation] = {}
    if deciding.crossing_id is not None:
        for o in candidates:
            if o.crossing_id is not None and _order(o) == _order(deciding) and o.status != status:
                others[o.status] = o  # the last in order, as for the deciding record
    return StatusAnswer(
        as_of=as_of, status=status, record=deciding, conflicts=tuple(others.values())
    )


def _status_candidates(observations: Iterable[Observation], *, until: date) -> list[Observation]:
    return sorted(
        (o for o in in_force(observations) if o.status is not None and o.date.end <= until),
        # On the same dates, border-wide records come before the crossing's own (the more
        # specific record decides), and a record that links its source is the one shown.
        key=lambda o: (*_order(o), o.crossing_id is not None, o.source_url is not None, o.id),
    )


def _fold(candidates: Sequence[Observation]) -> Iterator[tuple[str | None, Observation | None]]:
    """Yield the status and the record deciding it after each record, in order."""
    status: str | None = None
    deciding: Observation | None = None
    border: str | None = None
    for record in candidates:
        if record.crossing_id is not None:
            status, deciding = record.status, record
        else:
            previous, border = border, record.status
            level = _OPENNESS.get(record.status or "")
            if status not in NOT_IN_SERVICE and level is not None:
                tightens = previous not in _OPENNESS or level < _OPENNESS[previous or ""]
                current = _OPENNESS.get(status or "")
                if (
                    current is None
                    or (tightens and level < current)
                    or (not tightens and level > current)
                ):
                    status, deciding = record.status, record
        yield status, deciding


@dataclass(frozen=True)
class StatusStep:
    """From ``since`` on (until the next step), the status and the record it rests on."""

    since: date
    status: str | None
    record: Observation | None
    is_conflicted: bool


def status_timeline(observations: Sequence[Observation], *, until: date) -> list[StatusStep]:
    """Return a crossing's status as steps in time, up to ``until``.

    The status on any day is that of the last step on or before it (none
    before the first step): the same answer as :func:`status_as_of` for every
    day, because a record counts from the last day of its date and only then.

    Examples
    --------
    >>> status_timeline([], until=date(2026, 1, 1))
    []
    """
    candidates = _status_candidates(observations, until=until)
    steps: list[StatusStep] = []
    disagree: set[str | None] = set()
    group: tuple[date, date] | None = None
    for position, (status, deciding) in enumerate(_fold(candidates)):
        record = candidates[position]
        if record.crossing_id is not None:
            if _order(record) != group:
                group, disagree = _order(record), set()
            disagree.add(record.status)
        last_of_day = (
            position + 1 == len(candidates) or candidates[position + 1].date.end != record.date.end
        )
        if not last_of_day:
            continue
        conflicted = (
            deciding is not None
            and deciding.crossing_id is not None
            and _order(deciding) == group
            and len(disagree) > 1
        )
        step = StatusStep(record.date.end, status, deciding, conflicted)
        if not steps or (steps[-1].status, steps[-1].record, steps[-1].is_conflicted) != (
            status,
            deciding,
            conflicted,
        ):
            steps.append(step)
    return steps
