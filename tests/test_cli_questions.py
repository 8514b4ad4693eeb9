"""The question commands: answers, empty answers, and bad arguments."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from geo.cli import cli


def run(*args: str, store: Path | str):
    return CliRunner().invoke(cli, [*args, "--store", str(store)], catch_exceptions=False)


def test_near_json(any_store: str):
    result = run("near", "40.10", "124.40", "--km", "15", "--format", "json", store=any_store)
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert [r["id"] for r in rows] == ["friendship-bridge", "new-yalu-river-bridge"]
    assert rows[0]["distance_m"] < rows[1]["distance_m"]


def test_empty_answer_is_an_empty_list(any_store: str):
    result = run("near", "30.0", "100.0", "--format", "json", store=any_store)
    assert result.exit_code == 0 and json.loads(result.output) == []


def test_around_geojson(any_store: str):
    result = run(
        "around",
        "quanhe-wonjong",
        "--km",
        "3",
        "--since",
        "2023",
        "--format",
        "geojson",
        store=any_store,
    )
    assert result.exit_code == 0
    collection = json.loads(result.output)
    assert collection["type"] == "FeatureCollection"
    dates = [f["properties"]["date"] for f in collection["features"]]
    assert dates == ["2023-02", "2023-07"]
    assert collection["features"][0]["geometry"]["coordinates"] == pytest.approx(
        [130.523456, 42.568379]
    )


def test_around_help_states_the_interval_rule():
    result = CliRunner().invoke(cli, ["around", "--help"])
    assert "2025-03 matches --since 2025-03-15" in " ".join(result.output.split())


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("around", "nowhere"), 1, "Error: ID: 'nowhere' is not a crossing in the inventory."),
        (
            ("around", "quanhe-wonjong", "--since", "2024-02-30"),
            1,
            "Error: --since: '2024-02-30' is not a calendar date (2024-02 has 29 days).",
        ),
        (
            ("around", "quanhe-wonjong", "--km", "-2"),
            1,
            "Error: --km: -2.0 is not a distance. Allowed: a number of kilometres, 0 or more.",
        ),
        (("around", "quanhe-wonjong", "--km", "two"), 2, "Invalid value for '--km'"),
        (("around", "quanhe-wonjong", "--kind", "rumour"), 2, "Invalid value for '--kind'"),
        (("near", "95", "124"), 1, "Error: point.lat: '95' is out of range. Allowed: -90 to 90."),
        (
            ("distance", "friendship-bridge", "nowhere"),
            1,
            "Error: ID2: 'nowhere' is not a crossing",
        ),
        (("changes", "--to", "2025-13"), 1, "Error: --to: '2025-13'"),
        (
            ("changes", "--from", "2026", "--to", "2025"),
            1,
            "Error: --from: '2026' is after --to '2025'.",
        ),
    ],
)
def test_bad_arguments(any_store: str, args, code, message):
    result = run(*args, store=any_store)
    assert result.exit_code == code
    assert message in result.output
    assert "Traceback" not in result.output


def test_nearest_csv(any_store: str, tmp_path: Path):
    path = tmp_path / "points.csv"
    path.write_text("lat,lon\n40.116,124.393\n10,10\n")
    result = run("nearest", str(path), "--format", "json", store=any_store)
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert [(r["row"], r["crossing_id"], r["matched"]) for r in rows] == [
        (2, "friendship-bridge", True),
        (3, None, False),
    ]


def test_nearest_without_coordinates(any_store: str, tmp_path: Path):
    path = tmp_path / "points.csv"
    path.write_text("name\nx\n")
    result = run("nearest", str(path), store=any_store)
    assert result.exit_code == 1
    assert "Error: row 2: {} has no coordinates." in result.output


def test_within(any_store: str, tmp_path: Path):
    path = tmp_path / "area.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "Polygon",
                "coordinates": [[[130, 42], [131, 42], [131, 43], [130, 43], [130, 42]]],
            }
        )
    )
    result = run("within", str(path), "--format", "json", store=any_store)
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert {r["type"] for r in rows} == {"crossing", "observation"}
    assert {r["id"] for r in rows if r["type"] == "crossing"} == {"quanhe-wonjong"}


def test_within_as_csv_gives_each_kind_its_own_fields(any_store: str, tmp_path: Path):
    # The columns were once the first row's (a crossing's): a record lost its date and summary.
    path = tmp_path / "area.geojson"
    ring = [[130, 42], [131, 42], [131, 43], [130, 43], [130, 42]]
    path.write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}))
    as_json = json.loads(run("within", str(path), "--format", "json", store=any_store).output)
    result = run("within", str(path), "--format", "csv", store=any_store)
    assert result.exit_code == 0
    as_csv = list(csv.DictReader(io.StringIO(result.output)))
    assert len(as_csv) == len(as_json)
    for from_csv, from_json in zip(as_csv, as_json, strict=True):
        for field in ("type", "id", "name_en", "crossing_id", "date", "summary", "source_url"):
            if field in from_json:
                assert from_csv[field] == str(from_json[field] or ""), field
            else:  # the other kind's field
                assert from_csv[field] == "", field
    assert {r["type"] for r in as_csv} == {"crossing", "observation"}


def test_status_as_of(any_store: str):
    result = run("status", "--as-of", "2021-06-01", "--format", "json", store=any_store)
    assert result.exit_code == 0
    rows = {r["id"]: r for r in json.loads(result.output)}
    friendship = rows["friendship-bridge"]
    assert friendship["status"] == "closed"
    # The 2020 closure, a border-wide record that says it applies to every crossing
    assert friendship["status_record"] == "o-7f5ec12262"
    assert friendship["status_border_wide"] is True
    assert (friendship["status_since"], friendship["status_date"]) == ("2020", "2020")
    assert friendship["evidence_age_days"] == (date(2021, 6, 1) - date(2020, 1, 1)).days
    assert friendship["traffic"] == [] and friendship["status_uncertain"] is False
    new_yalu = rows["new-yalu-river-bridge"]
    assert (new_yalu["status"], new_yalu["status_kind"]) == ("built_not_opened", "lifecycle")
    assert new_yalu["status_text"] == "built, never opened"


def test_changes_records(any_store: str):
    result = run(
        "changes", "--from", "2022", "--to", "2022-12", "--records", "--format", "json",
        store=any_store,
    )  # fmt: skip
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert [(r["crossing_id"], r["date"], r["status"]) for r in rows] == [
        ("friendship-bridge", "2022-01-16", "restricted"),
        ("friendship-bridge", "2022-04-29", "closed"),
        ("friendship-bridge", "2022-09-26", "restricted"),
    ]


def test_distance(any_store: str):
    result = run(
        "distance",
        "friendship-bridge",
        "new-yalu-river-bridge",
        "--format",
        "json",
        store=any_store,
    )
    assert result.exit_code == 0
    (row,) = json.loads(result.output)
    assert 9000 < row["distance_m"] < 9100


def as_json(*args: str, store: Path | str) -> object:
    result = run(*args, "--format", "json", store=store)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_list_and_status_filters(shipped_store: Path):
    everything = as_json("list", "--as-of", "2021-06-30", store=shipped_store)
    # A month means its last day, as the status rule counts it.
    assert as_json("list", "--as-of", "2021-06", store=shipped_store) == everything
    closed = as_json("list", "--as-of", "2021-06", "--status", "closed", store=shipped_store)
    assert closed and {r["status"] for r in closed} == {"closed"}
    assert {r["id"] for r in closed} == {r["id"] for r in everything if r["status"] == "closed"}
    tumen_rail = as_json("list", "--river", "tumen", "--mode", "rail", store=shipped_store)
    assert tumen_rail and all(r["river"] == "tumen" and r["mode"] == "rail" for r in tumen_rail)
    either = as_json(
        "status", "--as-of", "2023-09-01", "--status", "open", "--status", "restricted",
        store=shipped_store,
    )  # fmt: skip
    assert either and {r["status"] for r in either} <= {"open", "restricted"}
    none = as_json("list", "--kind", "former", "--status", "open", store=shipped_store)
    assert all(r["kind"] == "former" for r in none)


def test_a_crossing_by_a_part_of_its_name_or_a_close_one(shipped_store: Path):
    shown = as_json("show", "圈河", store=shipped_store)
    assert shown["crossing"]["id"] == "quanhe-wonjong"
    result = run("show", "Friendship Brige", store=shipped_store)
    assert result.exit_code == 1 and "did you mean friendship-bridge" in result.output
    result = run("show", "Yalu", store=shipped_store)  # a part several crossings share
    assert result.exit_code == 1 and "names" in result.output and "crossings:" in result.output


def test_text_search_in_show_and_changes(shipped_store: Path):
    shown = as_json("show", "quanhe-wonjong", "--text", "bridge", store=shipped_store)
    assert shown["history"]
    assert all("bridge" in (r["summary"] + r["notes"]).lower() for r in shown["history"])
    every = as_json("show", "quanhe-wonjong", store=shipped_store)
    assert len(shown["history"]) < len(every["history"])
    found = as_json(
        "changes", "--from", "2020", "--to", "2020", "--records", "--text", "COVID",
        store=shipped_store,
    )  # fmt: skip
    assert found and all("covid" in r["summary"].lower() or "covid" in r["notes"].lower()
                         for r in found)  # fmt: skip


@pytest.mark.parametrize("point", [["40.10,124.40"], ["40.10", "124.40"], [" 40.10 , 124.40 "]])
def test_near_takes_a_point_in_either_form(any_store: str, point: list[str]):
    rows = as_json("near", *point, "--km", "15", store=any_store)
    assert [r["id"] for r in rows] == ["friendship-bridge", "new-yalu-river-bridge"]


def test_near_lists_observations_and_says_distances_in_km_beyond_10(any_store: str, tmp_path: Path):
    run(
        "observe", "quanhe-wonjong", "--on", "2025-06", "--kind", "traffic", "--summary",
        "Trucks at the gate", "--source-url", "https://example.org/t", "--source-type",
        "ground_observation", "--at", "42.5690,130.5240", store=any_store,
    )  # fmt: skip
    rows = as_json("near", "42.5690,130.5240", "--km", "1", "--observations", store=any_store)
    # The record at its own point first, then those drawn at the crossing's point, as `around`.
    assert rows[0]["summary"] == "Trucks at the gate" and rows[0]["distance_m"] < 1
    assert rows[0]["distance"] == "0 m"
    assert [r["distance_m"] for r in rows] == sorted(r["distance_m"] for r in rows)
    assert len(rows) == len(as_json("around", "quanhe-wonjong", "--km", "0.5", store=any_store))
    far = run("distance", "friendship-bridge", "quanhe-wonjong", store=any_store).output
    assert " km" in far and "580798.9" not in far
    bad = run("near", "40.10;124.40", store=any_store)
    assert bad.exit_code == 1 and "point: '40.10;124.40' is not a latitude and a longitude" in (
        bad.output
    )


def test_trade_table(shipped_store: Path):
    rows = as_json(
        "trade", "--from", "2019", "--to", "2019", "--flow", "total", store=shipped_store
    )
    assert rows and {r["flow"] for r in rows} == {"total"}
    assert all(r["period"].startswith("2019") for r in rows)
    assert all(r["source_name"] for r in rows)
    csv = run("trade", "--format", "csv", store=shipped_store).output.splitlines()
    assert csv[0].startswith("period,period_kind,flow,value_usd,qualifier,source_name")


# --- tables never split a word --------------------------------------------------------------


def _columns(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def _whole(word: str, text: str) -> bool:
    """Whether text holds word with no letter, digit or hyphen joined to either end."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def _table(args: list[str], store: Path, width: int) -> str:
    result = CliRunner(env={"COLUMNS": str(width)}).invoke(cli, [*args, "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert max(_columns(line) for line in result.output.splitlines()) <= width
    return result.output


@pytest.mark.parametrize("width", [80, 100, 120])
def test_status_and_changes_tables_keep_ids_and_dates_whole(shipped_store: Path, width: int):
    days = ["--as-of", "2021-06-01"]
    rows = as_json("status", *days, store=shipped_store)
    shown = _table(["status", *days], shipped_store, width)
    words = {r["id"] for r in rows} | {r["evidence_record"] for r in rows if r["evidence_record"]}
    words |= {r["status_since"] for r in rows if r["status_since"]}
    assert len(words) > 20 and [w for w in sorted(words) if not _whole(w, shown)] == []

    window = ["--from", "2019", "--to", "2026-12"]
    changes = as_json("changes", *window, store=shipped_store)
    shown = _table(["changes", *window], shipped_store, width)
    assert len(changes) > 10
    lines = shown.splitlines()
    for change in changes:
        assert _whole(change["crossing_id"], shown) and _whole(change["day"], shown)
        if change["record"]:  # `grep` of a record finds its line, with the day of the change
            assert any(_whole(change["record"], n) and change["day"] in n for n in lines), change


@pytest.mark.parametrize("width", [80, 100, 120])
def test_a_status_matrix_fits_the_terminal(shipped_store: Path, width: int):
    days = ["--as-of", "2020-03-01", "--as-of", "2021-06-01", "--as-of", "2023-09-01"]
    shown = _table(["status", *days, "--as-of", "2026-12-01"], shipped_store, width)
    assert "(2022-09-26)" in shown.split() and _whole("hekou-chongsu-rail", shown)


@pytest.mark.parametrize("width", [80, 100, 120])
def test_trade_table_keeps_addresses_on_one_line_and_separates_thousands(
    shipped_store: Path, width: int
):
    rows = as_json("trade", store=shipped_store)
    shown = _table(["trade"], shipped_store, width)
    # Each figure with thousands separators; JSON (and CSV) keep the plain number.
    assert {type(r["value_usd"]) for r in rows} == {int}
    for row in rows:
        assert f"{row['value_usd']:,}" in shown.split()
        assert _whole(row["period"], shown)
    assert "2,730,000,000" in shown and "2730000000" not in shown
    assert "2730000000" in run("trade", "--format", "csv", store=shipped_store).output
    # Each address on one line, whole or as its start and its end around an ellipsis.
    urls = [r["source_url"] for r in rows if r["source_url"]]
    words = [w for w in shown.split() if "://" in w]
    assert len(words) == len(urls) > 20
    for word, url in zip(words, urls, strict=True):
        start, cut, end = word.partition("…")
        assert (word == url) if not cut else (url.startswith(start) and url.endswith(end))
        assert len(start) > len("https://")
    if width < 120:
        assert any("…/" in word for word in words)  # shortened in the middle, host first
