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


def test_the_shipped_boundary_at_10_m_is_the_one_derived_from_openstreetmap():
    from geo.basemap import BORDER_ATTRIBUTION, build_border_line

    shipped = json.loads(files("geo").joinpath("static/border-10m.geojson").read_text("utf-8"))
    assert shipped == json.loads(json.dumps(build_border_line()))
    assert "OpenStreetMap" in shipped["attribution"] == BORDER_ATTRIBUTION


def test_validate_names_a_point_too_far_from_the_boundary(store):
    from geo.build import validate_inventory
    from tests.common import execute

    assert validate_inventory(store) == []
    # Quanhe's point moved 0.1 degree south (about 11 km) into the DPRK: too far for ±200 m.
    from geo.store.blob import point_blob

    moved = point_blob(QUANHE._replace(lat=QUANHE.lat - 0.1)).hex()
    execute(store, f"UPDATE crossings SET geom = X'{moved}' WHERE id = 'quanhe-wonjong'")
    (problem,) = [p for p in validate_inventory(store) if "boundary" in p]
    assert problem.startswith("crossing 'quanhe-wonjong': its point lies ")
    assert "m from the China–DPRK boundary, more than its precision" in problem
