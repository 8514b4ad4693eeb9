"""The offline base layer: derived from the pinned Natural Earth file, shipped as derived."""

from __future__ import annotations

import json
from importlib.resources import files

from shapely.geometry import shape

from geo.basemap import ATTRIBUTION, build_basemap
from tests.common import FRIENDSHIP, QUANHE


def test_the_shipped_base_layer_is_the_one_derived_from_natural_earth():
    shipped = json.loads(files("geo").joinpath("static/basemap.geojson").read_text("utf-8"))
    assert shipped == json.loads(json.dumps(build_basemap()))
    assert shipped["attribution"] == ATTRIBUTION


def test_the_boundary_runs_past_the_crossings_and_the_land_holds_them():
    layer = json.loads(files("geo").joinpath("static/basemap.geojson").read_text("utf-8"))
    kinds = {f["properties"]["name"]: shape(f["geometry"]) for f in layer["features"]}
    boundary = kinds["China–DPRK boundary"]
    from shapely import Point

    for crossing in (FRIENDSHIP, QUANHE):  # bridges over the boundary rivers: within ~1 km
        assert boundary.distance(Point(crossing)) < 0.02
    assert kinds["China"].contains(Point(124.39, 40.2))  # Dandong's side
    assert kinds["North Korea"].contains(Point(124.45, 40.05))  # Sinuiju's side
