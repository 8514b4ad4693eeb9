"""The question commands: answers, empty answers, and bad arguments."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from geo.cli import cli


def run(*args: str, store: Path):
    return CliRunner().invoke(cli, [*args, "--store", str(store)], catch_exceptions=False)


def test_near_json(store: Path):
    result = run("near", "40.10", "124.40", "--km", "15", "--format", "json", store=store)
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert [r["id"] for r in rows] == ["friendship-bridge", "new-yalu-river-bridge"]
    assert rows[0]["distance_m"] < rows[1]["distance_m"]


def test_empty_answer_is_an_empty_list(store: Path):
    result = run("near", "30.0", "100.0", "--format", "json", store=store)
    assert result.exit_code == 0 and json.loads(result.output) == []


def test_around_geojson(store: Path):
    result = run(
        "around",
        "quanhe-wonjong",
        "--km",
        "3",
        "--since",
        "2023",
        "--format",
        "geojson",
        store=store,
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
        (("changes", "--from", "2025"), 2, "Missing option '--to'"),
        (
            ("changes", "--from", "2026", "--to", "2025"),
            1,
            "Error: --from: '2026' is after --to '2025'.",
        ),
    ],
)
def test_bad_arguments(store: Path, args, code, message):
    result = run(*args, store=store)
    assert result.exit_code == code
    assert message in result.output
    assert "Traceback" not in result.output


def test_nearest_csv(store: Path, tmp_path: Path):
    path = tmp_path / "points.csv"
    path.write_text("lat,lon\n40.116,124.393\n10,10\n")
    result = run("nearest", str(path), "--format", "json", store=store)
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert [(r["row"], r["crossing_id"], r["matched"]) for r in rows] == [
        (2, "friendship-bridge", True),
        (3, None, False),
    ]


def test_nearest_without_coordinates(store: Path, tmp_path: Path):
    path = tmp_path / "points.csv"
    path.write_text("name\nx\n")
    result = run("nearest", str(path), store=store)
    assert result.exit_code == 1
    assert "Error: row 2: {} has no coordinates." in result.output


def test_within(store: Path, tmp_path: Path):
    path = tmp_path / "area.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "Polygon",
                "coordinates": [[[130, 42], [131, 42], [131, 43], [130, 43], [130, 42]]],
            }
        )
    )
    result = run("within", str(path), "--format", "json", store=store)
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert {r["type"] for r in rows} == {"crossing", "observation"}
    assert {r["id"] for r in rows if r["type"] == "crossing"} == {"quanhe-wonjong"}


def test_status_as_of(store: Path):
    result = run("status", "--as-of", "2021-06-01", "--format", "json", store=store)
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


def test_changes_records(store: Path):
    result = run(
        "changes", "--from", "2022", "--to", "2022-12", "--records", "--format", "json",
        store=store,
    )  # fmt: skip
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert [(r["crossing_id"], r["date"], r["status"]) for r in rows] == [
        ("friendship-bridge", "2022-01-16", "restricted"),
        ("friendship-bridge", "2022-04-29", "closed"),
        ("friendship-bridge", "2022-09-26", "restricted"),
    ]


def test_distance(store: Path):
    result = run(
        "distance", "friendship-bridge", "new-yalu-river-bridge", "--format", "json", store=store
    )
    assert result.exit_code == 0
    (row,) = json.loads(result.output)
    assert 9000 < row["distance_m"] < 9100
