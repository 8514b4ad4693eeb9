"""The GeoPackage geometry blob of a point (OGC 12-128r18, section 2.1.3): written and read.

A store writes every point the same way (little-endian, no envelope, 2D), so
many blobs are read at once as numpy records; a blob another program wrote is
read one at a time, whatever its byte order and envelope.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Any

from geo.errors import NotAStoreError
from geo.model import LonLat

__all__ = [
    "all_plain",
    "blob_arrays",
    "blob_point",
    "blob_points",
    "plain_arrays",
    "point_blob",
    "st_coordinate",
    "st_is_empty",
]

#: The reference system of every point: WGS84 longitude and latitude.
_SRS_ID = 4326
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_LE_POINT = struct.Struct("<dd")
#: A point blob as this module writes it, for numpy: header and WKB type, then x and y.
_PLAIN_POINT = [("head", "V13"), ("x", "<f8"), ("y", "<f8")]


def point_blob(location: LonLat | None) -> bytes | None:
    """Return the GeoPackage blob of a point: header without envelope, then WKB."""
    if location is None:
        return None
    header = b"GP\x00\x01" + struct.pack("<i", _SRS_ID)
    return header + struct.pack("<BIdd", 1, 1, location.lon, location.lat)


def blob_point(blob: bytes | None) -> LonLat | None:
    """Return the point in a GeoPackage blob, or None for a null or empty one."""
    if blob is None:
        return None
    if len(blob) == 29 and blob[3] == 1 and blob[8] == 1:
        # The blobs this module writes: little-endian, no envelope, a 2D point.
        lon, lat = _LE_POINT.unpack_from(blob, 13)
        if not (math.isnan(lon) or math.isnan(lat)):
            return LonLat(lon, lat)
        return None
    flags = blob[3]
    if flags & 0x10:
        return None
    start = 8 + _ENVELOPE_BYTES.get((flags >> 1) & 0x07, 0)
    order = "<" if blob[start] == 1 else ">"
    (kind,) = struct.unpack_from(order + "I", blob, start + 1)
    if kind % 1000 != 1:
        raise NotAStoreError(f"expected point geometries, found WKB type {kind}")
    lon, lat = struct.unpack_from(order + "dd", blob, start + 5)
    if math.isnan(lon) or math.isnan(lat):  # NaN coordinates: an empty point
        return None
    return LonLat(lon, lat)


def all_plain(blobs: Sequence[bytes | None]) -> bool:
    """Whether every blob is a point as this module writes it (one numpy record each)."""
    return all(b is not None and len(b) == 29 and b[3] == 1 and b[8] == 1 for b in blobs)


def plain_arrays(blobs: Sequence[bytes | None]) -> tuple[Any, Any]:
    """Return the lons and lats of blobs that are all plain points, read in one go."""
    import numpy as np  # here, not at import: it slows the command line's start

    points = np.frombuffer(b"".join(blobs), dtype=_PLAIN_POINT)  # type: ignore[arg-type]
    return points["x"].copy(), points["y"].copy()


def blob_arrays(blobs: Sequence[bytes | None]) -> tuple[Any, Any]:
    """Return the lons and lats of many blobs as arrays, NaN where there is no point."""
    import numpy as np  # here, not at import: it slows the command line's start

    if blobs and all_plain(blobs):
        return plain_arrays(blobs)
    decoded = [blob_point(b) for b in blobs]
    return (
        np.array([p.lon if p else math.nan for p in decoded], dtype=float),
        np.array([p.lat if p else math.nan for p in decoded], dtype=float),
    )


def blob_points(blobs: Sequence[bytes | None]) -> list[LonLat | None]:
    """Return the points of many blobs (None for a null or empty one), in bulk if plain."""
    if blobs and all_plain(blobs):
        lons, lats = plain_arrays(blobs)
        if not (math.isnan(lons.sum()) or math.isnan(lats.sum())):
            return list(map(LonLat, lons.tolist(), lats.tolist()))
    return [blob_point(b) for b in blobs]


def st_is_empty(blob: bytes | None) -> int | None:
    """GDAL's ST_IsEmpty for the R-tree's triggers: 1 for an empty point, None for none."""
    if blob is None:
        return None
    return int(blob_point(blob) is None)


def st_coordinate(index: int):  # type: ignore[no-untyped-def]
    """GDAL's ST_MinX/MaxX (0) and ST_MinY/MaxY (1) of a point, for the R-tree's triggers."""

    def coordinate(blob: bytes | None) -> float | None:
        point = blob_point(blob)
        return None if point is None else point[index]

    return coordinate
