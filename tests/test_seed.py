"""The shipped seed in layers/seed: it validates and holds the facts the project starts from."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from geo.browse import list_crossings, show_crossing
from geo.build import validate_inventory
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
    assert history.status.status == "built_not_opened" and history.status.is_lifecycle


def test_friendship_bridge_status_follows_the_record(shipped_store):
    rows = {r.crossing.id: r for r in list_crossings(shipped_store, as_of=date(2021, 6, 1))}
    assert rows["friendship-bridge"].status.status == "closed"
    rows = {r.crossing.id: r for r in list_crossings(shipped_store, as_of=date(2026, 11, 23))}
    # Passenger trains from 12 March 2026, seats limited to some travellers (Newser, Reuters).
    answer = rows["friendship-bridge"].status
    assert answer.status == "restricted" and answer.record.date.text == "2026-03-12"
    assert (
        "passenger_rail" in answer.record.traffic and "business visa" in answer.record.source_quote
    )


def test_trade_figures_of_the_seed_reports(shipped_store):
    with open_store(shipped_store) as store:
        figures = {(t.period, t.flow, t.value_usd, t.qualifier) for t in store.trade()}
    assert ("2025-04", "total", 222_100_000, "exact") in figures
    assert ("2025-04", "cn_to_kp", 186_400_000, "exact") in figures
    assert ("2008-H1", "total", 1_000_000_000, "more_than") in figures
    assert ("2011", "total", 5_630_000_000, "exact") in figures
    with open_store(shipped_store) as store:
        notes = {(t.period, t.flow): t.notes for t in store.trade()}
    # Report B's "over $5.6 billion" is the same figure: one row, citing both sources.
    assert "China Digital Times (late 2012" in notes[("2011", "total")]
    assert "more than 70 percent" in notes[("2011", "total")]
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
    # The announcement of 10 March is a plan now; the event of 12 March is the record.
    assert {r.date.text for r in passenger} == {"2026-03-12"}
    tumen = distance_between(shipped_store, "tumen-namyang-road", "tumen-namyang-rail")
    assert 550 < tumen.distance_m < 700  # "about 600 m upstream of the road bridge"


# -- the status rule on the real seed (review of November 2026) --------------------------


def _status(store, crossing_id: str, day: date):
    rows = {r.crossing.id: r.status for r in list_crossings(store, as_of=day)}
    return rows[crossing_id]


def test_no_status_on_any_day_rests_on_a_border_wide_record_that_names_no_crossing(
    shipped_store,
):
    from geo.questions import timelines

    for crossing, steps in timelines(shipped_store, until=date(2026, 11, 26)):
        for step in steps:
            for record in (step.record, step.run_record):
                if record is not None and record.crossing_id is None:
                    assert record.applies_to, (crossing.id, step.since, record.id)


def test_nanping_in_july_2023_rests_on_the_june_reopening(shipped_store):
    answer = _status(shipped_store, "nanping-musan", date(2023, 7, 1))
    assert (answer.status, answer.record.date.text) == ("restricted", "2023-06-20")
    assert answer.traffic == ("freight_road",) and "sbs.co.kr" in answer.record.source_url


def test_tumen_road_in_march_2020_is_not_a_construction_status(shipped_store):
    answer = _status(shipped_store, "tumen-namyang-road", date(2020, 3, 1))
    assert answer.status not in ("under_construction", "built_not_opened")
    assert not answer.is_lifecycle


def test_shatuozi_today_does_not_rest_on_the_festival_closure(shipped_store):
    answer = _status(shipped_store, "shatuozi-saebyol", date(2026, 11, 26))
    assert "Sun Festival" not in answer.record.summary
    assert answer.is_uncertain  # its evidence is from 2023, a secondary source


def test_friendship_bridge_in_june_2021_is_closed_since_2020(shipped_store):
    answer = _status(shipped_store, "friendship-bridge", date(2021, 6, 1))
    assert answer.status == "closed" and answer.since == date(2020, 1, 21)
    # The border shut on 21 January 2020 (CSIS; Yonhap has the 22nd, kept beside it).
    assert "January 21, 2020" in answer.since_record.source_quote


def test_plans_are_plans(shipped_store):
    history = show_crossing(shipped_store, "friendship-bridge", as_of=date(2025, 9, 1))
    assert history.status.status == "restricted"
    (plan,) = history.status.plans
    assert plan.expected.text == "2025-08" and plan.replaces == "o-79a6fadbcb"


def test_every_record_names_its_source_and_mirrors_say_so(shipped_store):
    with open_store(shipped_store) as store:
        records = store.observations()
    for record in records:
        assert record.source_url or record.source_detail, record.id
        named_a_copy = any(w in record.source_name.lower() for w in ("mirror", "via", "archived"))
        if named_a_copy and record.source_url and "citing" not in record.source_name:
            assert record.source_is_mirror, record.id


def test_corrections_of_the_review_are_in_the_seed(shipped_store):
    with open_store(shipped_store) as store:
        crossings = store.crossings()
        structures = store.structures()
        records = {o.id: o for o in store.observations()}
    replaced = {o.replaces for o in records.values() if o.replaces}
    for wrong in ("o-c5b4b03174", "o-4c52d8fda2", "o-79a6fadbcb", "o-ad0be1880f",
                  "o-80d0105a7d", "o-d556977d05", "o-32da35da0f", "o-ef0053a6c1",
                  "o-92f87d716e", "o-7f5ec12262"):  # fmt: skip
        assert wrong in replaced, wrong
    assert crossings["tumen-namyang-rail"].location_precision_m == 50
    assert crossings["linjiang-chunggang"].location_precision_m >= 500
    assert "THE DAM" in crossings["taipingwan"].location_note
    assert structures["taipingwan-dam"].kind == "dam"
    assert {"quanhe-old-bridge", "quanhe-new-bridge"} <= set(structures)
    assert {"tumen-namyang-old-road-bridge", "tumen-namyang-new-road-bridge"} <= set(structures)
    assert structures["jian-manpo-road-bridge"].crossing_id == "jian-manpo-road"
    assert structures["jian-manpo-rail-bridge"].crossing_id == "jian-manpo-rail"
    assert "Sakchu" in crossings["hekou-chongsu-rail"].kp_place
    assert "Onsong" in crossings["kaishantun-sambong"].kp_place
    missing = {(o.crossing_id, o.date.text) for o in records.values()}
    for found in (("nanping-musan", "2023-06-20"), ("changbai-hyesan", "2023-11-20"),
                  ("jian-manpo-road", "2019-04-08"), ("shuangmufeng-samjiyon", "2018-06-01"),
                  (None, "2020-10"), ("quanhe-wonjong", "2023-02-01")):  # fmt: skip
        assert found in missing, found


@pytest.mark.gdal
def test_merging_the_corrected_seed_brings_a_version_2_store_up_to_date(shipped_store, tmp_path):
    """A store built from the seed of version 2, with a user's record, merged with today's seed."""
    import shutil
    from pathlib import Path

    from geo.browse import status_matrix
    from geo.build import merge_inventory
    from tests.common import run_gdal_validator

    root = Path(__file__).parent.parent
    store = tmp_path / "old.gpkg"
    shutil.copyfile(root / "tests" / "data" / "shipped-store-version-2.gpkg", store)
    report = merge_inventory(store, root / "layers" / "seed")
    assert len(report.observations) == 58 and len(report.structures) == 16
    # Records made before version 3 gain its fields (structure, lifecycle, mirror), nothing else.
    assert "o-e5d91c0add" in report.completed_observations
    # Crossings whose fields the review changed are listed, not overwritten.
    assert "tumen-namyang-rail" in report.differing_crossings
    with open_store(store) as opened:
        users = [o for o in opened.observations() if o.recorded_by == "analyst"]
    assert [o.summary for o in users] == [
        "Trucks queued at customs (a record a user added with version 2)"
    ]
    days = [date(2020, 3, 1), date(2021, 6, 1), date(2023, 9, 1), date(2026, 11, 26)]

    def answers(path):
        return {
            (crossing.id, day): (a.status, a.record and a.record.id, a.since)
            for crossing, row in status_matrix(path, days)
            for day, a in zip(days, row, strict=True)
        }

    assert answers(store) == answers(shipped_store)

    def snapshot(path):  # what QGIS styles by, written in the merge's transaction
        import sqlite3

        with sqlite3.connect(path) as connection:
            return dict(connection.execute("SELECT id, status_now FROM crossings"))

    assert snapshot(store) == snapshot(shipped_store)
    again = merge_inventory(store, root / "layers" / "seed")
    assert (again.observations, again.structures, again.crossings) == ([], [], [])
    assert validate_inventory(store) == []
    result = run_gdal_validator(store)
    assert result.returncode == 0, result.stdout + result.stderr


#: Records whose source could not be read in any stored copy (reviews of 2026-11 and 2026-12):
#: they keep their source's name, and show that no quote was checked.
UNREAD = {
    "o-3c8ba26abd": "the Jilin TV page is not stored anywhere",
    "o-69b75d2682": "the VOA report of 2008 reached the project as text; no copy was found",
    "o-7f5ec12262": "the report of 2026-03-12 is stored only in part (its opening)",
    "o-71055cc8a9": "the report of 2026-03-12 is stored only in part (its opening)",
    "o-f7060cbfcb": "the report of 2026-03-12 is stored only in part (its opening)",
    "o-b1caf2b751": "the report of 2026-03-12 is stored only in part (its opening)",
    "o-c3f45869e6": "the report of 2026-03-12 is stored only in part (its opening)",
    "o-699df86ebf": "the report of 2026-03-12 is stored only in part (its opening)",
}


def test_every_status_plan_traffic_and_lifecycle_record_quotes_its_source():
    import csv

    path = Path(__file__).parent.parent / "layers" / "seed" / "observations.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [
            r
            for r in csv.DictReader(handle)
            if r["kind"] in ("status", "plan", "traffic") or r["lifecycle"]
        ]
    unquoted = {r["id"] for r in rows if not r["source_quote"]}
    assert unquoted == set(UNREAD)
    for row in rows:  # the record itself says why it has no quote
        if not row["source_quote"]:
            assert "o copy of the source could be read" in row["source_detail"], row["id"]
    for row in rows:
        if row["source_quote"]:
            assert row["checked_on"], row["id"]  # read against the source or a stored copy
        if row["quote_en"]:
            assert row["source_quote"], row["id"]
