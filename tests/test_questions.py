"""Spatial and temporal questions: exact in metres, intervals for month and year dates."""

from __future__ import annotations

import json
import math
import shutil
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from geo.errors import RecordValidationError, UnknownCrossingError
from geo.exchange import observation_fields
from geo.model import LonLat
from geo.query import dwithin_boxes, dwithin_ellipse, geodesic_inverse
from geo.questions import (
    around,
    changes,
    distance_between,
    near,
    nearest,
    sightings_around,
    stream_within,
    within,
)
from geo.record import add_observation
from geo.store import open_store
from tests.common import FRIENDSHIP, NEW_YALU, QUANHE


def vincenty_m(a: LonLat, b: LonLat) -> float:
    """Vincenty's inverse formula on WGS84: a check independent of pyproj."""
    semi_major, flattening = 6378137.0, 1 / 298.257223563
    semi_minor = (1 - flattening) * semi_major
    u1 = math.atan((1 - flattening) * math.tan(math.radians(a.lat)))
    u2 = math.atan((1 - flattening) * math.tan(math.radians(b.lat)))
    longitude = math.radians(b.lon - a.lon)
    lam = longitude
    for _ in range(200):
        sin_sigma = math.hypot(
            math.cos(u2) * math.sin(lam),
            math.cos(u1) * math.sin(u2) - math.sin(u1) * math.cos(u2) * math.cos(lam),
        )
        cos_sigma = math.sin(u1) * math.sin(u2) + math.cos(u1) * math.cos(u2) * math.cos(lam)
        sigma = math.atan2(sin_sigma, cos_sigma)
        sin_alpha = math.cos(u1) * math.cos(u2) * math.sin(lam) / sin_sigma
        cos2_alpha = 1 - sin_alpha**2
        cos_2sm = cos_sigma - 2 * math.sin(u1) * math.sin(u2) / cos2_alpha
        c = flattening / 16 * cos2_alpha * (4 + flattening * (4 - 3 * cos2_alpha))
        previous = lam
        lam = longitude + (1 - c) * flattening * sin_alpha * (
            sigma + c * sin_sigma * (cos_2sm + c * cos_sigma * (-1 + 2 * cos_2sm**2))
        )
        if abs(lam - previous) < 1e-12:
            break
    u_sq = cos2_alpha * (semi_major**2 - semi_minor**2) / semi_minor**2
    big_a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
    big_b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
    delta = (
        big_b
        * sin_sigma
        * (
            cos_2sm
            + big_b
            / 4
            * (
                cos_sigma * (-1 + 2 * cos_2sm**2)
                - big_b / 6 * cos_2sm * (-3 + 4 * sin_sigma**2) * (-3 + 4 * cos_2sm**2)
            )
        )
    )
    return semi_minor * big_a * (sigma - delta)


def test_friendship_to_new_yalu_matches_vincenty(store: Path):
    found = distance_between(store, "friendship-bridge", "new-yalu-river-bridge")
    assert found.distance_m == pytest.approx(vincenty_m(FRIENDSHIP, NEW_YALU), abs=0.01)
    assert 8_000 < found.distance_m < 10_000  # "about 8–10 km downstream"
    assert 180 < found.bearing_deg < 200  # south, slightly west


def test_distance_to_a_crossing_without_point(store: Path):
    with pytest.raises(RecordValidationError, match=r"ID2: 'jian-manpo-road' has no known point"):
        distance_between(store, "friendship-bridge", "jian-manpo-road")


def test_near_nearest_first(store: Path):
    found = near(store, 40.10, 124.40, km=15)
    assert [n.item.id for n in found] == ["friendship-bridge", "new-yalu-river-bridge"]
    assert found[0].distance_m == pytest.approx(
        vincenty_m(LonLat(124.40, 40.10), FRIENDSHIP), abs=0.01
    )
    assert near(store, 40.10, 124.40, km=1) == []


@pytest.mark.parametrize(
    ("km", "message"), [(-1, r"--km: -1 is not a distance"), (math.nan, r"--km: nan")]
)
def test_negative_or_nan_distance(store: Path, km, message):
    with pytest.raises(RecordValidationError, match=message):
        near(store, 40.1, 124.4, km=km)


def _observe(
    store: Path | str, crossing: str, when: str, lat: float, lon: float, summary: str, **extra: str
) -> str:
    return add_observation(
        store,
        {
            "crossing_id": crossing,
            "date": when,
            "kind": extra.pop("kind", "infrastructure"),
            "summary": summary,
            "source_url": f"https://example.org/{summary.replace(' ', '-')}",
            "source_type": extra.pop("source_type", "satellite_imagery"),
            "lat": str(lat),
            "lon": str(lon),
            **extra,
        },
    )


def test_around_finds_records_tagged_to_other_crossings_with_distance_and_bearing(store: Path):
    # One 1 km due east of Quanhe; one tagged to another crossing is found by its point too.
    east = _observe(
        store, "quanhe-wonjong", "2025-03", QUANHE.lat, QUANHE.lon + 0.0122, "east one km"
    )
    far = _observe(
        store, "quanhe-wonjong", "2025-03", QUANHE.lat + 0.05, QUANHE.lon, "north five km"
    )
    found = {n.item.id: n for n in around(store, "quanhe-wonjong", km=3)}
    assert east in found and far not in found
    assert found[east].distance_m == pytest.approx(
        vincenty_m(QUANHE, LonLat(QUANHE.lon + 0.0122, QUANHE.lat)), abs=0.01
    )
    assert 89 < found[east].bearing_deg < 91
    near_new_yalu = _observe(
        store, "friendship-bridge", "2025-04", NEW_YALU.lat, NEW_YALU.lon + 0.01, "tagged elsewhere"
    )
    assert near_new_yalu in {n.item.id for n in around(store, "new-yalu-river-bridge", km=2)}


@pytest.mark.parametrize(
    ("since", "until", "found"),
    [
        ("2025-03-15", None, True),  # the month overlaps the day
        ("2025-03-31", None, True),
        ("2025-04-01", None, False),
        ("2025-04", None, False),
        (None, "2025-03-01", True),
        (None, "2025-02-28", False),
        ("2025", "2025", True),
        ("2024", "2024-12-31", False),
    ],
)
def test_around_month_dates_are_intervals(any_store, since, until, found):
    oid = _observe(
        any_store, "quanhe-wonjong", "2025-03", QUANHE.lat, QUANHE.lon + 0.001, "march record"
    )
    ids = {n.item.id for n in around(any_store, "quanhe-wonjong", km=1, since=since, until=until)}
    assert (oid in ids) is found


def test_around_filters_kind_and_source_type(any_store):
    traffic = _observe(
        any_store,
        "quanhe-wonjong",
        "2025-05",
        QUANHE.lat,
        QUANHE.lon,
        "trucks",
        kind="traffic",
        source_type="ground_observation",
    )
    found = around(any_store, "quanhe-wonjong", kind="traffic")
    assert traffic in {n.item.id for n in found}
    assert {n.item.kind for n in found} == {"traffic"}
    assert len(found) < len(around(any_store, "quanhe-wonjong"))
    assert traffic not in {
        n.item.id for n in around(any_store, "quanhe-wonjong", source_type="satellite_imagery")
    }


def test_around_bad_arguments(store: Path):
    with pytest.raises(UnknownCrossingError, match=r"ID: 'quanhe-wonjang' is not a crossing"):
        around(store, "quanhe-wonjang")
    with pytest.raises(RecordValidationError, match=r"--since: '2025-13' has no month 13"):
        around(store, "quanhe-wonjong", since="2025-13")
    with pytest.raises(RecordValidationError, match=r"--since: '2025' is after --until '2024'"):
        around(store, "quanhe-wonjong", since="2025", until="2024")


def test_nearest_csv_and_geojson(store: Path, tmp_path: Path):
    csv_path = tmp_path / "photos.csv"
    csv_path.write_text("name,lat,lon\nbridge,40.116,124.393\nsea,39.0,123.0\n", encoding="utf-8")
    matches = nearest(store, csv_path, max_km=25)
    assert [(m.row, m.crossing.id if m.crossing else None) for m in matches] == [
        (2, "friendship-bridge"),
        (3, None),
    ]
    assert matches[0].distance_m == pytest.approx(
        vincenty_m(LonLat(124.393, 40.116), FRIENDSHIP), abs=0.01
    )
    geojson = tmp_path / "p.geojson"
    geojson.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {"type": "Point", "coordinates": [130.52, 42.57]},
                    }
                ],
            }
        )
    )
    (match,) = nearest(store, geojson)
    assert match.crossing.id == "quanhe-wonjong"


def test_nearest_file_without_coordinates(store: Path, tmp_path: Path):
    path = tmp_path / "x.csv"
    path.write_text("name,place\na,Dandong\n")
    with pytest.raises(RecordValidationError, match=r"row 2: .* has no coordinates"):
        nearest(store, path)


def test_within_polygons(store: Path, tmp_path: Path):
    inside = _observe(store, "new-yalu-river-bridge", "2025-05", 40.036, 124.37, "inside box")
    area = tmp_path / "dandong.geojson"
    area.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [
                                [
                                    [124.30, 40.00],
                                    [124.45, 40.00],
                                    [124.45, 40.13],
                                    [124.30, 40.13],
                                    [124.30, 40.00],
                                ]
                            ],
                        },
                    }
                ],
            }
        )
    )
    crossings, observations = within(store, area)
    assert {c.id for c in crossings} == {"friendship-bridge", "new-yalu-river-bridge"}
    assert inside in {o.id for o in observations}
    assert all(o.location and 124.30 <= o.location.lon <= 124.45 for o in observations)


def _area_file(folder: Path, ring: list[list[float]]) -> Path:
    path = folder / "area.geojson"
    path.write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}))
    return path


def test_within_keeps_only_the_points_inside_a_triangle_or_a_rectangle(store: Path, tmp_path: Path):
    # The R-tree's boxes are rounded outwards to 32 bits: a point a hair beyond an edge is a
    # candidate, and must be left out; so must a point inside the triangle's box, not in it.
    lat, lon = 40.05, 124.38
    inside = _observe(store, "friendship-bridge", "2025-05", lat + 0.001, lon + 0.001, "inside")
    corner = _observe(store, "friendship-bridge", "2025-05", lat + 0.009, lon + 0.009, "corner")
    hair = _observe(store, "friendship-bridge", "2025-05", lat + 0.005, lon - 1e-9, "a hair out")
    triangle = [[lon, lat], [lon + 0.01, lat], [lon, lat + 0.01], [lon, lat]]
    rectangle = [[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01],
                 [lon, lat]]  # fmt: skip
    for ring, kept in ((triangle, {inside}), (rectangle, {inside, corner})):
        _, observations = within(store, _area_file(tmp_path, ring))
        assert {o.id for o in observations} & {inside, corner, hair} == kept
        streamed = run_within_ids(store, _area_file(tmp_path, ring))
        assert streamed & {inside, corner, hair} == kept


def run_within_ids(store: Path, area: Path) -> set[str]:
    with stream_within(store, area, fields=("id",)) as (_, found):
        return {row[0] for row in found.rows}


def test_within_needs_polygons(store: Path, tmp_path: Path):
    path = tmp_path / "points.geojson"
    path.write_text(json.dumps({"type": "Point", "coordinates": [124.3, 40.0]}))
    with pytest.raises(RecordValidationError, match=r"holds no polygons"):
        within(store, path)


def test_changes_between_two_dates(store: Path):
    found = changes(store, "2022", "2022")
    assert [(c.record.crossing_id, c.record.date.text) for c in found] == [
        ("friendship-bridge", "2022-01-16"),
        ("friendship-bridge", "2022-04-29"),
        ("friendship-bridge", "2022-09-26"),
    ]
    assert all(c.record.source_url for c in found)


# -- exact and fast: the R-tree pre-filter never misses a point ------------------------


@settings(max_examples=300, deadline=None)
@given(
    lon=st.floats(-180, 180),
    lat=st.floats(-89.9, 89.9),
    radius=st.floats(0, 50_000),
    azimuth=st.floats(0, 360),
    fraction=st.floats(0, 1),
)
@example(lon=124.3925, lat=40.115, radius=2000, azimuth=90, fraction=1.0)
@example(lon=130.5234, lat=42.5684, radius=25_000, azimuth=270, fraction=1.0)
@example(lon=179.99, lat=42.0, radius=5_000, azimuth=90, fraction=1.0)
@example(lon=0.0, lat=0.0, radius=10_000, azimuth=45, fraction=1.0)
@example(lon=10.0, lat=89.9, radius=20_000, azimuth=180, fraction=1.0)
def test_dwithin_boxes_hold_every_point_within_the_distance(lon, lat, radius, azimuth, fraction):
    from pyproj import Geod

    x, y, _ = Geod(ellps="WGS84").fwd(lon, lat, azimuth, radius * fraction)
    boxes = dwithin_boxes(LonLat(lon, lat), radius)
    assert any(b.west <= x <= b.east and b.south <= y <= b.north for b in boxes)


@settings(max_examples=300, deadline=None)
@given(
    lon=st.floats(-180, 180),
    lat=st.floats(-89.9, 89.9),
    radius=st.floats(0, 120_000),
    azimuth=st.floats(0, 360),
    fraction=st.floats(0, 1),
)
@example(lon=124.3925, lat=40.115, radius=2000, azimuth=90, fraction=1.0)
@example(lon=130.5234, lat=42.5684, radius=100_000, azimuth=0, fraction=1.0)
@example(lon=130.5234, lat=42.5684, radius=100_000, azimuth=90, fraction=1.0)
@example(lon=20.0, lat=85.0, radius=100_000, azimuth=80, fraction=1.0)
@example(lon=0.0, lat=0.0, radius=10_000, azimuth=45, fraction=1.0)
def test_dwithin_ellipse_holds_every_point_within_the_distance(lon, lat, radius, azimuth, fraction):
    from pyproj import Geod

    x, y, _ = Geod(ellps="WGS84").fwd(lon, lat, azimuth, radius * fraction)
    ellipse = dwithin_ellipse(LonLat(lon, lat), radius)
    if radius > 100_000:
        assert ellipse is None
    if ellipse is not None:
        dx = (x - lon + 180) % 360 - 180
        assert (y - lat) ** 2 + ellipse.lon_weight * dx**2 <= ellipse.limit


def test_fids_near_keeps_the_circle_and_leaves_the_box_corners(any_store):
    """Points 1,999 m away in 16 directions are kept; points in the box's corners are not."""
    from pyproj import Geod

    from geo.validate import parse_observation

    geod = Geod(ellps="WGS84")
    with open_store(any_store, writable=True) as opened:
        crossings = opened.crossings()

        def at(azimuth: float, metres: float, name: str):
            lon, lat, _ = geod.fwd(QUANHE.lon, QUANHE.lat, azimuth, metres)
            fields = {
                "crossing_id": "border",
                "date": "2024",
                "kind": "traffic",
                "summary": name,
                "source_url": "https://example.org/p",
                "source_type": "satellite_imagery",
                "lat": repr(lat),
                "lon": repr(lon),
            }
            return parse_observation(fields, crossings)

        inside = [at(a, 1999.0, f"in {a}") for a in range(0, 360, 360 // 16)]
        corners = [at(a, 2700.0, f"corner {a}") for a in (45, 135, 225, 315)]
        opened.add_observations(inside + corners)
        (box,) = dwithin_boxes(QUANHE, 2000)
        assert all(
            box.west <= c.location.lon <= box.east and box.south <= c.location.lat <= box.north
            for c in corners
        )
        near_ids = {o.id for o in opened.observations_by_fid(opened.fids_near(QUANHE, 2000))}
    assert {o.id for o in inside} <= near_ids
    assert not {o.id for o in corners} & near_ids
    found = {n.item.id for n in around(any_store, "quanhe-wonjong", km=2)}
    assert {o.id for o in inside} <= found
    assert not {o.id for o in corners} & found


@pytest.fixture(scope="module")
def scattered_store(_built_store, tmp_path_factory):
    """A store with 3,000 observations scattered around Quanhe, within the border region."""
    import random

    from geo.validate import parse_observation

    path = tmp_path_factory.mktemp("scattered") / "s.gpkg"
    shutil.copyfile(_built_store, path)
    rng = random.Random(7)
    with open_store(path, writable=True) as opened:
        crossings = opened.crossings()
        records = []
        for n in range(3000):
            lat = QUANHE.lat + rng.uniform(-0.2, 0.2)
            lon = QUANHE.lon + rng.uniform(-0.37, 0.28)  # the region ends 25 km east of it
            records.append(
                parse_observation(
                    {
                        "crossing_id": "border",
                        "date": "2024",
                        "kind": "traffic",
                        "summary": f"point {n}",
                        "source_url": "https://example.org/s",
                        "source_type": "satellite_imagery",
                        "lat": str(lat),
                        "lon": str(lon),
                    },
                    crossings,
                )
            )
        opened.add_observations(records)
        everything = [o for o in opened.observations() if o.location]
    return path, everything


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(km=st.floats(0, 30))
@example(km=0.0)
@example(km=25.0)
def test_around_equals_a_brute_force_geodesic_scan(scattered_store, km):
    path, everything = scattered_store
    distances, _ = geodesic_inverse(
        QUANHE, [o.location.lon for o in everything], [o.location.lat for o in everything]
    )
    expected = {o.id for o, d in zip(everything, distances, strict=True) if d <= km * 1000}
    assert {n.item.id for n in around(path, "quanhe-wonjong", km=km)} == expected


# -- the indexed status path gives the same answer as the whole history ----------------
STATUS = st.sampled_from(["open", "restricted", "closed", "unknown"])
DATES = st.sampled_from(
    [
        "2019",
        "2020",
        "2020-01",
        "2020-01-31",
        "2020-06",
        "2021",
        "2021-06-01",
        "2022-09",
        "2023",
        "2023-08-27",
        "2024-02",
    ]
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    records=st.lists(
        st.tuples(
            st.sampled_from(["quanhe-wonjong", "border", "friendship-bridge"]),
            DATES,
            STATUS,
            st.sampled_from(["", "all", "quanhe-wonjong", "friendship-bridge"]),
            st.sampled_from(["", "2021-12", "2025"]),
            st.sampled_from(["status", "status", "plan", "traffic", "old-bridge", "new-bridge"]),
        ),
        min_size=0,
        max_size=14,
    ),
    as_of=st.sampled_from(
        [date(2020, 1, 30), date(2020, 12, 31), date(2021, 6, 1), date(2024, 6, 1)]
    ),
)
def test_status_from_the_index_equals_status_from_the_whole_history(
    _built_store, tmp_path_factory, records, as_of
):
    from geo.status import evaluate, status_as_of
    from geo.validate import parse_observation

    path = tmp_path_factory.mktemp("status") / "s.gpkg"
    shutil.copyfile(_built_store, path)
    with open_store(path, writable=True) as opened:
        crossings = opened.crossings()
        parsed = []
        for n, (named, d, s, applies, until, drawn) in enumerate(records):
            c, structure, lifecycle, kind = named, "", "", drawn
            if drawn.endswith("-bridge"):  # a lifecycle record of one of Quanhe's two bridges
                c, structure = "quanhe-wonjong", f"quanhe-{drawn}"
                lifecycle = {"open": "in_service", "closed": "under_construction"}.get(
                    s, "built_not_opened"
                )
                kind = "infrastructure"
            raw = {
                "crossing_id": c,
                "date": d,
                "kind": kind,
                "status": s if kind != "traffic" else "",
                "summary": f"r{n}",
                "source_url": f"https://example.org/{n}",
                "source_type": "news_report",
                "applies_to": applies if c == "border" else "",
                "until": until if kind == "status" and until >= d else "",
                "expected": "2026" if kind == "plan" else "",
                "structure_id": structure,
                "lifecycle": lifecycle,
            }
            if kind == "infrastructure":
                raw["status"] = raw["applies_to"] = ""
            parsed.append(
                parse_observation(
                    raw, crossings, structures=opened.structures(), today=date(2026, 11, 23)
                )
            )
        if parsed:
            replaced = parsed[0]
            correction = parse_observation(
                {**observation_fields(replaced), "summary": "corrected", "kind": "status",
                 "status": "open", "until": "", "expected": "", "id": "", "replaces": replaced.id,
                 "lat": "", "lon": "", "recorded_at": "", "structure_id": "", "lifecycle": "",
                 "traffic": ""},
                crossings,
            )  # fmt: skip
            parsed.append(correction)
        opened.add_observations(parsed)
        bridges = ("quanhe-old-bridge", "quanhe-new-bridge")
        # The rule on the whole history in memory, and through the store's indexes.
        slow = status_as_of(
            opened.observations("quanhe-wonjong"), "quanhe-wonjong", as_of, structure_ids=bridges
        )
        fast = evaluate(opened.status_source("quanhe-wonjong"), as_of, structure_ids=bridges)
    assert fast == slow


def test_around_is_nearest_first_and_oldest_first_at_one_distance(store: Path):
    lat, lon = QUANHE.lat + 0.009, QUANHE.lon  # about 1 km north
    later = _observe(store, "quanhe-wonjong", "2025-03", lat, lon, "same place later")
    earlier = _observe(store, "quanhe-wonjong", "2019-01-05", lat, lon, "same place earlier")
    nearer = _observe(store, "quanhe-wonjong", "2026", lat - 0.004, lon, "nearer")
    for answer in (
        around(store, "quanhe-wonjong", km=2),
        sightings_around(store, "quanhe-wonjong", km=2),
    ):
        ids = [n.item.id for n in answer]
        assert ids.index(nearer) < ids.index(earlier) < ids.index(later)
        distances = [n.distance_m for n in answer]
        assert distances == sorted(distances)


def test_bearing_has_no_value_at_zero_distance(store: Path):
    (here,) = near(store, FRIENDSHIP.lat, FRIENDSHIP.lon, km=1)
    assert here.distance_m == 0 and here.bearing_deg is None


def test_around_leaves_out_what_was_withdrawn(store: Path):
    from geo.record import add_observation

    seen = {
        "crossing_id": "quanhe-wonjong",
        "date": "2025-05",
        "kind": "traffic",
        "summary": "Trucks queued",
        "source_url": "https://example.org/seen",
        "source_type": "ground_observation",
        "lat": "42.569",
        "lon": "130.524",
    }
    first = add_observation(store, seen)
    assert first in {n.item.id for n in around(store, "quanhe-wonjong", km=1)}
    withdrawn = add_observation(
        store,
        {**seen, "kind": "retraction", "summary": "Misread", "replaces": first, "lat": "",
         "lon": ""},
    )  # fmt: skip
    ids = {n.item.id for n in around(store, "quanhe-wonjong", km=1)}
    assert first not in ids and withdrawn not in ids


def test_light_records_are_the_whole_answer_in_brief(any_store: str):
    from geo.questions import sightings_around
    from geo.record import add_observation

    first = add_observation(any_store, {
        "crossing_id": "quanhe-wonjong", "date": "2025-05", "kind": "infrastructure",
        "summary": "Crane on the new bridge", "source_url": "https://example.org/c",
        "source_type": "satellite_imagery", "lat": "42.5690", "lon": "130.5240",
    })  # fmt: skip
    add_observation(any_store, {
        "crossing_id": "quanhe-wonjong", "date": "2025-05", "kind": "infrastructure",
        "summary": "Two cranes on the new bridge", "source_url": "https://example.org/c",
        "source_type": "satellite_imagery", "replaces": first, "lat": "42.5690",
        "lon": "130.5240",
    })  # fmt: skip
    for question in ({"km": 3}, {"km": 60, "since": "2016"}, {"km": 60, "kind": "status"}):
        whole = around(any_store, "quanhe-wonjong", **question)
        light = sightings_around(any_store, "quanhe-wonjong", **question)
        assert whole, question
        assert [(n.item.id, n.distance_m, n.bearing_deg) for n in light] == [
            (n.item.id, n.distance_m, n.bearing_deg) for n in whole
        ]
        for brief, full in zip(light, whole, strict=True):
            record = full.item
            assert brief.item == (
                record.id, record.crossing_id, record.date.text, record.date.start, record.kind,
                record.status, record.lifecycle, record.summary, record.source_name,
                record.source_url, record.location,
            )  # fmt: skip
    assert first not in {n.item.id for n in sightings_around(any_store, "quanhe-wonjong")}


def test_a_count_that_stops_at_a_bound_gives_the_count_up_to_it(any_store):
    """Whether a layer holds more than a few rows is asked without counting every row."""
    with open_store(any_store) as opened:
        total = opened.count()
        assert total > 3
        for bound in (0, 1, 3, total, total + 5):
            assert opened.count(at_most=bound) == min(total, bound)
        assert opened.count("crossings", at_most=2) == 2
