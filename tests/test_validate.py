from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from geo.errors import RecordValidationError, UnknownCrossingError
from geo.fields import (
    geodesic_distance_m,
    parse_fuzzy_date,
    parse_lat_lon,
    parse_trade_period,
    split_lat_lon,
)
from geo.model import LonLat
from geo.validate import parse_observation
from tests.common import (
    ANTIMERIDIAN,
    FRIENDSHIP,
    JUST_INSIDE_25KM,
    JUST_OUTSIDE_25KM,
    NEAR_POLE,
    NULL_ISLAND,
)

TODAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def crossings(_built_store):
    from geo.store import open_store

    with open_store(_built_store) as store:
        return store.crossings()


@pytest.fixture(scope="module")
def structures(_built_store):
    from geo.store import open_store

    with open_store(_built_store) as store:
        return store.structures()


def fields(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "crossing_id": "new-yalu-river-bridge",
        "date": "2025-03",
        "kind": "infrastructure",
        "summary": "Small buildings going up on the DPRK side",
        "source_url": "https://www.38north.org/2025/03/example",
        "source_type": "satellite_imagery",
    }
    base.update(changes)
    return base


def parse(crossings, structures=None, **changes: object):
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    return parse_observation(
        fields(**changes), crossings, structures=structures, today=TODAY, now=now
    )


# -- dates -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "precision", "start", "end"),
    [
        ("2025", "year", date(2025, 1, 1), date(2025, 12, 31)),
        ("2025-03", "month", date(2025, 3, 1), date(2025, 3, 31)),
        ("2024-02", "month", date(2024, 2, 1), date(2024, 2, 29)),
        ("2023-02", "month", date(2023, 2, 1), date(2023, 2, 28)),
        ("2025-03-12", "day", date(2025, 3, 12), date(2025, 3, 12)),
        (" 2026-11-23 ", "day", TODAY, TODAY),
    ],
)
def test_fuzzy_date_interval(text, precision, start, end):
    parsed = parse_fuzzy_date(text, today=TODAY)
    assert (parsed.precision, parsed.start, parsed.end) == (precision, start, end)
    assert parsed.text == text.strip()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("March 2025", r"date: 'March 2025' is not a date\. Allowed: YYYY \(a year\)"),
        ("2025-3", r"'2025-3' is not a date"),
        ("2025-13", r"'2025-13' has no month 13"),
        ("2025-02-30", r"'2025-02-30' is not a calendar date \(2025-02 has 28 days\)"),
        ("2026-11-24", r"'2026-11-24' is in the future \(today is 2026-11-23\)"),
        ("2027", r"'2027' is in the future"),
        ("1650", r"'1650' is before 1800"),
        ("", r"date: '' is not a date"),
    ],
)
def test_bad_dates_are_refused_with_the_value_and_the_fix(text, message):
    with pytest.raises(RecordValidationError, match=message) as info:
        parse_fuzzy_date(text, today=TODAY)
    assert "Fix:" in str(info.value)
    assert info.value.field == "date"


def test_precision_must_match_the_date_text():
    with pytest.raises(
        RecordValidationError,
        match=r"date_precision: 'day' does not match the date '2025-03', which is a month\. "
        r"Allowed: .*Fix: give precision 'month', or write the date to the day",
    ):
        parse_fuzzy_date("2025-03", precision="day", today=TODAY)
    assert parse_fuzzy_date("2025-03", precision="month", today=TODAY).precision == "month"


def test_a_month_of_the_current_month_is_not_future():
    # 2026-11 starts before today even though it ends after it.
    assert parse_fuzzy_date("2026-11", today=TODAY).end == date(2026, 11, 30)


def test_fuzzy_date_label():
    assert parse_fuzzy_date("2025-03", today=TODAY).label == "Mar 2025"
    assert parse_fuzzy_date("2014", today=TODAY).label == "2014"
    assert parse_fuzzy_date("2026-03-12", today=TODAY).label == "12 Mar 2026"


# -- coordinates ---------------------------------------------------------------


@pytest.mark.parametrize("point", [FRIENDSHIP, NULL_ISLAND, NEAR_POLE, ANTIMERIDIAN])
def test_lat_lon_in_range_round_trip(point: LonLat):
    assert parse_lat_lon(str(point.lat), str(point.lon)) == point


@pytest.mark.parametrize(
    ("lat", "lon", "message"),
    [
        (
            "124.39",
            "40.11",
            (
                r"location\.lat: '124\.39' is out of range\. Allowed: -90 to 90\. "
                r"Fix: check that latitude and longitude are not swapped"
            ),
        ),
        ("40.1", "181", r"location\.lon: '181' is out of range"),
        ("nan", "124", r"location\.lat: 'nan' is out of range"),
        ("north", "124", r"location\.lat: 'north' is not a number"),
    ],
)
def test_bad_coordinates(lat, lon, message):
    with pytest.raises(RecordValidationError, match=message):
        parse_lat_lon(lat, lon)


def test_split_lat_lon():
    assert split_lat_lon("40.1,124.3") == ("40.1", "124.3")
    with pytest.raises(
        RecordValidationError, match=r"at: '40\.1' is not a latitude and a longitude"
    ):
        split_lat_lon("40.1")


def test_geodesic_distance_matches_known_value():
    # Friendship Bridge to New Yalu River Bridge; pyproj.Geod is independent of the
    # haversine estimate below, which differs by well under 1 % at this range.
    import math

    a, b = FRIENDSHIP, LonLat(124.36944, 40.03556)
    r = 6371008.8
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    haversine = 2 * r * math.asin(math.sqrt(h))
    assert geodesic_distance_m(a, b) == pytest.approx(haversine, rel=0.005)
    assert 8_000 < geodesic_distance_m(a, b) < 10_000  # "about 8–10 km downstream"


def test_a_pair_surely_within_a_distance_is_within_it_on_the_ellipsoid():
    """The quick bound never vouches for a pair the geodesic puts farther apart."""
    import random

    from geo.fields import surely_within_m

    rng = random.Random(25)
    vouched = 0
    for _ in range(20_000):
        lat = rng.uniform(-89.9, 89.9)  # the bound's worst cases are near the poles
        a = LonLat(rng.uniform(-180, 180), lat)
        b = LonLat(
            a.lon + rng.uniform(-0.5, 0.5), max(-90.0, min(90.0, lat + rng.uniform(-0.3, 0.3)))
        )
        limit = rng.choice([1_000.0, 25_000.0, 60_000.0])
        if surely_within_m(a, b, limit):
            vouched += 1
            assert geodesic_distance_m(a, b) <= limit, (a, b, limit)
    assert vouched > 2_000  # it vouches for many, or it saves nothing
    # Beside a crossing, any point within the 25 km the rule allows and a little farther.
    assert surely_within_m(FRIENDSHIP, LonLat(FRIENDSHIP.lon + 0.1, FRIENDSHIP.lat + 0.05), 25_000)
    assert not surely_within_m(FRIENDSHIP, JUST_OUTSIDE_25KM, 25_000)


# -- observations ----------------------------------------------------------------


def test_good_observation(crossings, structures):
    record = parse(
        crossings, structures, structure_id="new-yalu-bridge", lifecycle="built not opened",
        side="DPRK", at=None,
    )  # fmt: skip
    assert (record.structure_id, record.lifecycle) == ("new-yalu-bridge", "built_not_opened")
    assert record.status is None
    assert record.crossing_id == "new-yalu-river-bridge"
    assert record.date.precision == "month"
    assert record.side == "dprk"
    assert record.source_name == "38north.org"
    assert record.location is None and not record.has_own_location
    assert record.id.startswith("o-")


def test_the_crossing_can_be_named_in_any_script(crossings):
    assert parse(crossings, crossing_id="신압록강대교").crossing_id == "new-yalu-river-bridge"
    assert parse(crossings, crossing_id="border").crossing_id is None


def test_unknown_crossing_suggests_the_closest_ids(crossings):
    with pytest.raises(
        UnknownCrossingError,
        match=r"crossing_id: 'new-yalu-rivr-bridge' is not a crossing in the inventory\. .*"
        r"Fix: did you mean new-yalu-river-bridge\b",
    ):
        parse(crossings, crossing_id="new-yalu-rivr-bridge")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"kind": "rumour"},
            r"kind: 'rumour' is not a known value\. Allowed: status, infrastructure",
        ),
        ({"kind": "status", "status": "half-open"}, r"status: 'half-open' is not a known value"),
        ({"kind": "status"}, r"status: '' is missing for a status record"),
        (
            {"status": "closed"},
            (
                r"status: 'closed' is given for a record of kind 'infrastructure'\. "
                r"Allowed: a status only on status records and plans"
            ),
        ),
        (
            {"kind": "traffic", "status": "open"},
            r"status: 'open' is given for a record of kind 'traffic'",
        ),
        (
            {"kind": "status", "status": "built_not_opened"},
            (
                r"status: 'built_not_opened' is a structure's lifecycle, not a traffic status\. "
                r"Allowed: open, restricted, closed, unknown\. "
                r"Fix: record it as --kind infrastructure --structure ID "
                r"--lifecycle built_not_opened"
            ),
        ),
        ({"lifecycle": "in_service"}, r"lifecycle: 'in_service' is given without a structure"),
        (
            {"kind": "traffic", "lifecycle": "in_service"},
            r"lifecycle: 'in_service' is given for a record of kind 'traffic'",
        ),
        ({"structure_id": "no-such-bridge"}, r"structure_id: 'no-such-bridge' is not a structure"),
        (
            {"structure_id": "friendship-bridge-1943"},
            (
                r"structure_id: 'friendship-bridge-1943' is a structure of friendship-bridge, "
                r"not of new-yalu-river-bridge"
            ),
        ),
        (
            {"applies_to": "all"},
            (
                r"applies_to: 'all' is given for a record of new-yalu-river-bridge\. "
                r"Allowed: applies_to only on records of the whole border \('border'\)"
            ),
        ),
        (
            {"crossing_id": "border", "applies_to": "all,friendship-bridge"},
            r"applies_to: 'all,friendship-bridge' mixes 'all' with crossing ids",
        ),
        (
            {"crossing_id": "border", "applies_to": "atlantis"},
            (
                r"applies_to: 'atlantis' is not a crossing in the inventory\. "
                r"Allowed: 'all', or crossing ids"
            ),
        ),
        ({"kind": "plan"}, r"expected: '' is missing for a plan"),
        ({"expected": "2026"}, r"expected: '2026' is given for a record of kind 'infrastructure'"),
        (
            {"kind": "plan", "expected": "2024"},
            r"expected: '2024' is before the plan's date '2025-03'",
        ),
        ({"until": "2026"}, r"until: '2026' is given for a record of kind 'infrastructure'"),
        (
            {"kind": "status", "status": "closed", "until": "2025-02"},
            r"until: '2025-02' ends before the record's date '2025-03'",
        ),
        (
            {"kind": "status", "status": "closed", "traffic": "freight_road"},
            r"traffic: 'freight_road' is given for a record of kind 'status' with status 'closed'",
        ),
        (
            {"kind": "status", "status": "restricted", "traffic": "camels"},
            r"traffic: 'camels' is not a known value\. Allowed: freight_road",
        ),
        (
            {"source_url": "", "source_name": "KBS"},
            (
                r"source_url: '' is missing\. Allowed: an http\(s\) URL of the source, or a source "
                r"name and a source_detail that says why there is no address"
            ),
        ),
        (
            {
                "source_url": "",
                "source_name": "KBS",
                "source_detail": "a broadcast",
                "source_is_mirror": "true",
            },
            r"source_is_mirror: 'true' is set for a record without a source_url",
        ),
        ({"source_is_mirror": "perhaps"}, r"source_is_mirror: 'perhaps' is not yes or no"),
        ({"source_type": "twitter"}, r"source_type: 'twitter' is not a known value"),
        (
            {"source_url": "ftp://example.org/x"},
            (
                r"source_url: 'ftp://example.org/x' is not a web address\. "
                r"Allowed: an http:// or https:// URL"
            ),
        ),
        (
            {"source_url": "javascript:alert(1)"},
            r"source_url: 'javascript:alert\(1\)' is not a web address",
        ),
        ({"source_url": ""}, r"source_url: '' is missing"),
        ({"summary": "   "}, r"summary: '' is empty"),
        ({"summary": "x" * 2001}, r"summary: 'x{60}…' is 2,001 characters long"),
        ({"side": "russia"}, r"side: 'russia' is not a known value\. Allowed: china, dprk, both"),
        ({"date": "2027-01"}, r"date: '2027-01' is in the future"),
        ({"date": "2025-03", "precision": "year"}, r"date_precision: 'year' does not match"),
        ({"kind": "retraction"}, r"replaces: '' is missing for a retraction"),
        ({"lat": "40.2"}, r"location\.lon: '' is not a number"),
        ({"recorded_at": "yesterday"}, r"recorded_at: 'yesterday' is not a timestamp"),
        ({"id": "o-0000000000"}, r"id: 'o-0000000000' does not match the record's content"),
        # The one text policy of every field.
        ({"summary": "Gate\x00 opened"}, r"summary: 'Gate\\x00 opened' holds the control char"),
        ({"summary": "\x1b]0;owned\x07 New"}, r"summary: .* holds the control character U\+001B"),
        ({"source_name": "KBS\nNews"}, r"source_name: .* holds the control character U\+000A"),
        ({"source_name": "KBS\u202eSWEN"}, r"source_name: .* holds the control character U\+202E"),
        ({"summary": "\u200b"}, r"summary: '' is empty"),
        ({"summary": " \ufeff\u200d "}, r"summary: '' is empty"),
        ({"summary": "Sinuiju \udcff"}, r"summary: 'Sinuiju \\udcff' holds bytes that are not UTF"),
        ({"notes": "n" * 10_001}, r"notes: 'n{60}…' is 10,001 characters long\. Allowed: at most"),
        ({"source_name": "s" * 301}, r"source_name: 's{60}…' is 301 characters long"),
        ({"source_detail": "d" * 2_001}, r"source_detail: 'd{60}…' is 2,001 characters long"),
        ({"lat": "4" * 5_001, "lon": "124"}, r"lat: '4{60}…' is 5,001 characters long"),
        ({"summary": {"nested": 1}}, r"summary: \"{'nested': 1}\" is a list or an object"),
        ({"notes": [1, 2]}, r"notes: '\[1, 2\]' is a list or an object, not a text"),
        ({"source_url": "https://example.org:99999/x"}, r"source_url: .* is not a web address"),
        ({"source_url": "https://example.org:0/x"}, r"source_url: .* is not a web address"),
        ({"source_url": "https://:80/x"}, r"source_url: .* is not a web address"),
    ],
)
def test_every_rule_has_its_message(crossings, structures, changes, message):
    with pytest.raises(RecordValidationError, match=message) as info:
        parse(crossings, structures, **changes)
    assert "Allowed:" in str(info.value) and "Fix:" in str(info.value)


def test_text_is_normalised_and_dates_written_in_ascii_digits(crossings, structures):
    # "é" as e + combining accent, and a date in full-width and in Arabic-Indic digits.
    decomposed = parse(crossings, structures, summary="Cafe\u0301 at the gate", notes="a\tb\nc")
    assert decomposed.summary == "Café at the gate" and decomposed.notes == "a\tb\nc"
    wide = parse(crossings, structures, date="２０２５－０３")
    indic = parse(crossings, structures, date="\u0662\u0660\u0662\u0665-\u0660\u0663")
    plain = parse(crossings, structures, date="2025-03")
    assert wide.date.text == indic.date.text == "2025-03"
    assert wide.id == indic.id == plain.id  # so a duplicate is seen as one


def test_own_location_within_25_km(crossings):
    inside = parse(
        crossings,
        crossing_id="friendship-bridge",
        lat=str(JUST_INSIDE_25KM.lat),
        lon=str(JUST_INSIDE_25KM.lon),
    )
    assert inside.has_own_location and inside.location == JUST_INSIDE_25KM
    with pytest.raises(
        RecordValidationError,
        match=r"location: .* is 25\.1 km from friendship-bridge\. "
        r"Allowed: a point within 25 km of the crossing",
    ):
        parse(
            crossings,
            crossing_id="friendship-bridge",
            lat=str(JUST_OUTSIDE_25KM.lat),
            lon=str(JUST_OUTSIDE_25KM.lon),
        )


def test_location_far_away_when_lat_lon_swapped(crossings):
    with pytest.raises(RecordValidationError, match=r"location\.lat: '124\.3925' is out of range"):
        parse(crossings, crossing_id="friendship-bridge", lat="124.3925", lon="40.115")


def test_what_a_record_says_beyond_its_status(crossings, structures):
    closure = parse(
        crossings, structures, crossing_id="border", kind="status", status="closed",
        applies_to="quanhe-wonjong, 신압록강대교", until="2025-04",
    )  # fmt: skip
    assert closure.applies_to == ("quanhe-wonjong", "new-yalu-river-bridge")
    assert closure.until.end == date(2025, 4, 30)
    plan = parse(
        crossings, kind="plan", status="open", traffic="passenger_rail,freight_rail",
        expected="2027-01",
    )  # fmt: skip
    assert plan.expected.text == "2027-01" and plan.traffic == ("passenger_rail", "freight_rail")
    assert parse(crossings, crossing_id="border", kind="status", status="closed",
                 applies_to="all").applies_to == ("all",)  # fmt: skip
    cited = parse(crossings, source_url="", source_name="KBS", source_detail="a broadcast")
    assert cited.source_url is None and cited.source_name == "KBS"
    assert parse(crossings, source_is_mirror="yes").source_is_mirror


def test_history_is_checked_against_the_rules_it_was_made_under(crossings):
    old = parse_observation(
        fields(kind="traffic", status="built_not_opened", source_url="", source_name="KBS"),
        crossings,
        today=TODAY,
        as_recorded=True,
    )
    assert old.status == "built_not_opened"
    with pytest.raises(RecordValidationError, match=r"status: 'built_not_opened' is given"):
        parse(crossings, kind="traffic", status="built_not_opened")


def test_same_content_gives_the_same_id(crossings):
    a = parse(crossings)
    b = parse(crossings, summary="small  buildings going up on the DPRK side ")
    c = parse(crossings, summary="Large buildings")
    assert a.id == b.id != c.id


# -- trade periods ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "start", "end"),
    [
        ("2011", "year", date(2011, 1, 1), date(2011, 12, 31)),
        ("2017-H2", "half", date(2017, 7, 1), date(2017, 12, 31)),
        ("2011-Q1", "quarter", date(2011, 1, 1), date(2011, 3, 31)),
        ("2012-01", "month", date(2012, 1, 1), date(2012, 1, 31)),
        ("2024-01..11", "months", date(2024, 1, 1), date(2024, 11, 30)),
    ],
)
def test_trade_periods(text, kind, start, end):
    assert parse_trade_period(text) == (kind, start, end)


@pytest.mark.parametrize("text", ["2011-Q5", "2024-05..03", "2024-13", "H1-2017"])
def test_bad_trade_periods(text):
    with pytest.raises(RecordValidationError, match=r"period: "):
        parse_trade_period(text)


def test_a_name_two_crossings_share_is_refused(crossings):
    with pytest.raises(
        UnknownCrossingError,
        match=r"crossing_id: 'Sinuiju' names 2 crossings: "
        r"friendship-bridge, new-yalu-river-bridge\. "
        r"Allowed: a crossing id, or a name only one crossing has\. "
        r"Fix: give one of friendship-bridge, new-yalu-river-bridge",
    ):
        parse(crossings, crossing_id="Sinuiju")
