"""The store opens in QGIS already styled: checked with PyQGIS (Debian's python3-qgis), headless.

A GeoPackage through GDAL, a PostGIS store through QGIS's PostgreSQL provider: QGIS reads the
default style of each from its ``layer_styles`` table.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from geo.cli import cli
from geo.model import OBSERVATION_KINDS, STATUS_COLOURS, STRUCTURE_KINDS
from geo.qgis import KIND_COLOURS
from geo.record import add_observation
from geo.store import open_store
from geo.store.schema import CROSSINGS, OBSERVATIONS, STATUS_PERIODS, STRUCTURES, TRADE
from tests.common import execute

CHECK = Path(__file__).parent / "qgis_check.py"

pytestmark = pytest.mark.qgis


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def what_qgis_sees(store: Path | str, *days: str) -> dict:
    done = subprocess.run(
        ["/usr/bin/python3", str(CHECK), str(store), *days],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_qgis_opens_the_layers_with_the_default_style(shipped_store):
    seen = what_qgis_sees(shipped_store)
    assert seen["crossings"] == {"valid": True, "count": 17}
    with open_store(shipped_store) as opened:
        held = opened.count()
    assert seen["observations"]["valid"] and seen["observations"]["count"] == held
    assert seen["structures"] == {"valid": True, "count": 16}
    assert seen["trade"] == {"valid": True, "count": 71}
    assert (seen["renderer"], seen["attribute"]) == ("categorizedSymbol", "status_now")
    assert seen["categories"][:4] == ["open", "restricted", "closed", "unknown"]
    assert seen["labels"] is True
    assert seen["status"]["friendship-bridge"] == "restricted"  # trains for some, freight
    assert seen["status"]["new-yalu-river-bridge"] == "built_not_opened"
    with open_store(shipped_store) as opened:
        periods = opened.status_periods()
    assert seen["status_periods"] == {"valid": True, "count": len(periods)}


def test_every_layer_has_its_style_and_its_fields_aliases(shipped_store):
    seen = what_qgis_sees(shipped_store)
    styles = seen["styles"]
    assert (styles["observations"]["renderer"], styles["observations"]["attribute"]) == (
        "categorizedSymbol",
        "kind",
    )
    assert styles["observations"]["categories"] == list(OBSERVATION_KINDS)
    assert styles["observations"]["colours"]["status"] == KIND_COLOURS["status"]
    assert styles["structures"]["attribute"] == "kind"
    assert styles["structures"]["categories"] == list(STRUCTURE_KINDS)
    assert styles["status_periods"]["attribute"] == "status"
    # The map's colours: a period is drawn as the map draws the status.
    assert styles["status_periods"]["colours"]["closed"] == STATUS_COLOURS["closed"]
    assert (
        styles["status_periods"]["colours"]["built_not_opened"]
        == STATUS_COLOURS["built_not_opened"]
    )
    assert styles["trade"]["renderer"] is None  # a table: its aliases only
    # Every field of every layer: its description in the one schema (geo.schema) as its alias,
    # and its vocabulary, from the GeoPackage's gpkg_data_column_constraints, as a value list.
    styles["crossings"] = {"aliases": seen["aliases"], "value_maps": seen["value_maps"]}
    for layer in (CROSSINGS, OBSERVATIONS, STRUCTURES, STATUS_PERIODS, TRADE):
        described = {f.name: f.description for f in layer.fields}
        aliases = styles[layer.name]["aliases"]
        assert {name: aliases[name] for name in described} == described, layer.name
        vocabularies = {f.name: sorted(f.vocabulary) for f in layer.fields if f.vocabulary}
        assert styles[layer.name]["value_maps"] == vocabularies, layer.name


def test_the_status_periods_play_the_status_rule_on_qgis_time_slider(shipped_store):
    """QGIS's temporal controller shows, on each day, the status `crossings status` gives."""
    with open_store(shipped_store) as opened:
        friendship = opened.status_periods("friendship-bridge")
    today = datetime.now(UTC).date().isoformat()
    # Four days, and days on which a period of the Friendship Bridge begins (one ends there).
    days = ["2020-03-01", "2021-06-01", "2023-09-01", today]
    days += [p.start.isoformat() for p in friendship[1:5]]
    seen = what_qgis_sees(shipped_store, *days)
    # The stored style's temporal settings: each period from "start" up to the day before
    # "end" (mode 2: start and end fields; limit 0: the end is left out).
    assert seen["temporal_as_opened"] == {
        "active": False,  # QGIS leaves a layer's time control off as it opens it
        "mode": 2,
        "start": "start",
        "end": "end",
        "limit": 0,
        "unit": 4,  # days: the unit the style gives
    }
    assert seen["default_style"] == ["Loaded from Provider", True]
    assert seen["temporal"] == {**seen["temporal_as_opened"], "active": True}
    assert seen["types"]["start"] == seen["types"]["end"] == "Date"
    for day in days:
        listed = run("status", "--as-of", day, "--format", "json", "--store", str(shipped_store))
        assert listed.exit_code == 0, listed.output
        expected = {row["id"]: [row["status"]] for row in json.loads(listed.output)}
        shown = seen["days"][day]["statuses"]
        # One period a crossing on any day, none before its first record.
        assert shown == {k: v for k, v in expected.items() if v != [None]}, day
    assert len({json.dumps(seen["days"][day]["statuses"]) for day in days}) > 3  # it moves


def test_the_status_field_follows_new_records(any_store: str):
    assert what_qgis_sees(any_store)["status"]["quanhe-wonjong"] == "open"
    add_observation(
        any_store,
        {
            "crossing_id": "quanhe-wonjong",
            "date": "2026-01",
            "kind": "status",
            "status": "closed",
            "summary": "Closed for repairs",
            "source_url": "https://example.org/q",
            "source_type": "news_report",
        },
    )
    seen = what_qgis_sees(any_store, "2025-12-31", "2026-01-31")
    assert seen["status"]["quanhe-wonjong"] == "closed"
    # The status periods follow too, on the time slider: from the record's last day.
    assert seen["days"]["2025-12-31"]["statuses"]["quanhe-wonjong"] == ["open"]
    assert seen["days"]["2026-01-31"]["statuses"]["quanhe-wonjong"] == ["closed"]
    assert seen["temporal"]["active"] and seen["status_periods"]["valid"]
    assert seen["styles"]["trade"]["aliases"]["value_usd"] == "Value in US dollars"
    # Each field's alias is its description in the one schema.
    described = {f.name: f.description for f in CROSSINGS.fields}
    assert seen["aliases"]["status_now"] == described["status_now"]
    assert seen["aliases"]["kp_place"] == "DPRK-side place"
    assert (seen["renderer"], seen["attribute"]) == ("categorizedSymbol", "status_now")
    assert seen["crossings"]["valid"] and seen["observations"]["count"] == 15


def test_the_style_check_can_fail(any_store: str):
    # Companion: without the stored style QGIS falls back to its single-symbol default, and
    # the status periods have no time settings of their own (QGIS guesses the fields only).
    execute(any_store, "DELETE FROM layer_styles")
    seen = what_qgis_sees(any_store, "2021-06-01")
    assert seen["renderer"] == "singleSymbol"
    assert seen["styles"]["observations"]["renderer"] == "singleSymbol"
    assert not seen["temporal"]["active"] and seen["temporal"]["unit"] != 4
    assert seen["days"]["2021-06-01"]["statuses"] == {}
    assert seen["styles"]["trade"]["aliases"]["value_usd"] == ""
