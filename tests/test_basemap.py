"""The offline base layer: derived from the pinned OpenStreetMap land, shipped as derived."""

from __future__ import annotations

import json
from importlib.resources import files

from shapely.geometry import shape

from geo.basemap import ATTRIBUTION, build_basemap
from tests.common import FRIENDSHIP, QUANHE


def test_the_shipped_base_layer_is_the_one_derived_from_openstreetmap():
    shipped = json.loads(files("geo").joinpath("static/basemap.geojson").read_text("utf-8"))
    assert shipped == json.loads(json.dumps(build_basemap()))
    assert shipped["attribution"] == ATTRIBUTION


def test_the_boundary_runs_past_the_crossings_and_the_land_holds_them():
    from shapely import Point

    layer = json.loads(files("geo").joinpath("static/basemap.geojson").read_text("utf-8"))
    kinds = {f["properties"]["kind"]: f for f in layer["features"]}
    boundary, land = shape(kinds["border"]["geometry"]), shape(kinds["land"]["geometry"])
    region = shape(kinds["land-overview"]["geometry"])
    assert land.is_valid and region.is_valid  # a page clips and joins them
    for crossing in (FRIENDSHIP, QUANHE):  # bridges over the boundary rivers: within ~1 km
        assert boundary.distance(Point(crossing)) < 0.02
    assert land.contains(Point(124.36, 40.13))  # Dandong's side
    assert land.contains(Point(124.45, 40.05))  # Sinuiju's side
    assert not land.contains(Point(124.0, 39.6))  # Korea Bay is sea
    # The region's land reaches far past the border (the first view is not a box of land) ...
    assert region.contains(Point(118.0, 42.0)) and region.contains(Point(127.0, 38.5))
    # ... and the sea stays sea: the Yellow Sea, the East Sea.
    assert not region.contains(Point(123.0, 37.0)) and not region.contains(Point(132.0, 40.0))


def test_the_rivers_are_named_in_three_scripts_on_the_boundary():
    layer = json.loads(files("geo").joinpath("static/basemap.geojson").read_text("utf-8"))
    boundary = shape(
        next(f for f in layer["features"] if f["properties"]["kind"] == "border")["geometry"]
    )
    rivers = [f for f in layer["features"] if f["properties"]["kind"] == "river"]
    names = {
        (f["properties"]["name_en"], f["properties"]["name_zh"], f["properties"]["name_ko"])
        for f in rivers
    }
    assert names == {("Yalu", "鸭绿江", "압록강"), ("Tumen", "图们江", "두만강")}
    for river in rivers:
        assert boundary.distance(shape(river["geometry"])) < 0.001


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
