"""Geodesy and date windows for questions: search boxes, distances, overlaps.

Pure functions over values; the store does the reading and geo.status the status rule.
"""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING, NamedTuple

from geo.model import BBox, FuzzyDate, LonLat

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike

__all__ = [
    "Ellipse",
    "dwithin_boxes",
    "dwithin_ellipse",
    "geodesic_inverse",
    "overlaps",
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


class Ellipse(NamedTuple):
    """A pre-filter in degrees, drawn by :func:`dwithin_ellipse`.

    A point (lon, lat) within the distance of ``center`` has
    ``(lat - center.lat)**2 + lon_weight * (lon - center.lon)**2 <= limit``.
    """

    center: LonLat
    lon_weight: float
    limit: float


# The largest distance the ellipse is offered for: a shorter geodesic strays no more
# than about 0.3 km poleward of the box around it (the pad below covers 1 km).
_ELLIPSE_MAX_M = 100_000.0
_POLEWARD_PAD_DEG = 0.01


def dwithin_ellipse(center: LonLat, distance_m: float) -> Ellipse | None:
    """Return an ellipse in degrees holding every point within ``distance_m``, or None.

    A tighter pre-filter than :func:`dwithin_boxes` (which it lies inside): a
    circle's box has corners the circle leaves out, a fifth of its area. On any
    path, a metre of latitude is at least ``_MIN_RADIUS_M`` radians and a metre
    of longitude at least that times the cosine of the latitude farthest from
    the equator the path reaches; so a point within the distance lies inside
    the ellipse those lower bounds draw. None where that does not hold: beyond
    100 km, or where the boxes wrap a pole or the antimeridian.

    Examples
    --------
    >>> e = dwithin_ellipse(LonLat(130.0, 42.0), 1000)
    >>> d_lat = 0.0089  # about 990 m north: inside
    >>> d_lat ** 2 <= e.limit
    True
    >>> d_lon = d_lat * 1.35  # about 990 m east at 42 degrees: inside
    >>> e.lon_weight * d_lon ** 2 <= e.limit
    True
    >>> e.lon_weight * 0.0134 ** 2 <= e.limit  # about 1,110 m east: outside
    False
    """
    boxes = dwithin_boxes(center, distance_m)
    if distance_m > _ELLIPSE_MAX_M or len(boxes) != 1:
        return None
    (box,) = boxes
    poleward = max(abs(box.south), abs(box.north)) + _POLEWARD_PAD_DEG
    if box.west <= -180 or box.east >= 180 or poleward >= 90:
        return None
    radius_deg = math.degrees(distance_m / _MIN_RADIUS_M) + _PAD_DEG
    return Ellipse(center, math.cos(math.radians(poleward)) ** 2, radius_deg**2)


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
