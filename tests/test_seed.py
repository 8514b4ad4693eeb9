"""The shipped seed in layers/seed: it validates and holds the facts the project starts from."""

from __future__ import annotations

from datetime import date

import pytest

from geo.inventory import list_crossings, show_crossing, validate_inventory
from geo.store import open_store

NAMED = [
    "friendship-bridge",
    "new-yalu-river-bridge",
    "quanhe-wonjong",
    "nanping-musan",
    "sanhe-hoeryong",
]


def test_shipped_seed_builds_a_sound_store(shipped_store):
    assert validate_inventory(shipped_store) == []


def test_every_crossing_of_the_fact_sheet_with_three_scripts(shipped_store):
    rows = list_crossings(shipped_store)
    assert len(rows) == 17
    for row in rows:
        c = row.crossing
        assert c.name_en and c.name_zh and c.name_ko
        assert any("\u4e00" <= ch <= "\u9fff" for ch in c.name_zh), c.id
        assert any("\uac00" <= ch <= "\ud7a3" for ch in c.name_ko), c.id
        if c.location is not None:
            assert c.location_precision_m and c.location_source


@pytest.mark.parametrize("crossing_id", NAMED)
def test_named_crossings_have_a_sourced_history(shipped_store, crossing_id):
    history = show_crossing(shipped_store, crossing_id)
    own = [o for o in history.records if o.crossing_id == crossing_id]
    assert len(own) >= 5
    assert all(o.source_name for o in history.records)


def test_points_only_known_to_the_town_say_so(shipped_store):
    with open_store(shipped_store) as store:
        crossings = store.crossings()
    for crossing_id in ("nanping-musan", "sanhe-hoeryong"):
        c = crossings[crossing_id]
        assert "NOT the bridge" in c.location_note
        assert c.location_precision_m >= 10_000
    assert crossings["shatuozi-saebyol"].location is None


def test_new_yalu_story_2025_2026(shipped_store):
    history = show_crossing(shipped_store, "new-yalu-river-bridge", as_of=date(2026, 11, 23))
    recent = [o for o in history.records if o.date.start.year >= 2025 and o.crossing_id]
    summaries = " ".join(o.summary for o in recent)
    assert "blue-roofed" in summaries  # Feb 2025, News1 citing 38 North
    assert "small buildings" in summaries  # Mar 2025, The Asia Business Daily
    assert "7-storey" in summaries  # Sep 2025, Daily NK
    assert "road signs" in summaries  # Mar 2026 report, marked unverified
    signs = next(o for o in recent if "road signs" in o.summary)
    assert "not verified" in signs.notes
    assert history.status.status == "built_not_opened"


def test_friendship_bridge_status_follows_the_record(shipped_store):
    rows = {r.crossing.id: r for r in list_crossings(shipped_store, as_of=date(2021, 6, 1))}
    assert rows["friendship-bridge"].status.status == "closed"
    rows = {r.crossing.id: r for r in list_crossings(shipped_store, as_of=date(2026, 11, 23))}
    assert rows["friendship-bridge"].status.status == "open"
    assert rows["friendship-bridge"].status.record.date.text == "2026-03-12"


def test_trade_figures_of_the_seed_reports(shipped_store):
    with open_store(shipped_store) as store:
        figures = {(t.period, t.flow, t.value_usd, t.qualifier) for t in store.trade()}
    assert ("2025-04", "total", 222_100_000, "exact") in figures
    assert ("2025-04", "cn_to_kp", 186_400_000, "exact") in figures
    assert ("2008-H1", "total", 1_000_000_000, "more_than") in figures
    assert ("2011", "total", 5_600_000_000, "more_than") in figures
    assert ("2025", "cn_to_kp", 2_300_000_000, "about") in figures
    assert ("2025", "total", 2_730_000_000, "exact") in figures


def test_questions_on_the_shipped_inventory(shipped_store):
    from geo.questions import around, changes, distance_between, near

    assert [n.item.id for n in near(shipped_store, 42.57, 130.52, km=5)] == ["quanhe-wonjong"]
    recent = around(shipped_store, "quanhe-wonjong", km=3, since="2024")
    assert [n.item.date.text for n in recent] == ["2026-03"]  # the 2026 report's road upgrades
    passenger = [
        c.record
        for c in changes(shipped_store, "2026-03", "2026-03")
        if c.record.crossing_id == "friendship-bridge"
    ]
    assert {r.date.text for r in passenger} == {"2026-03-10", "2026-03-12"}
    tumen = distance_between(shipped_store, "tumen-namyang-road", "tumen-namyang-rail")
    assert 550 < tumen.distance_m < 700  # "about 600 m upstream of the road bridge"
