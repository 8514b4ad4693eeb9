"""The store opens in QGIS already styled: checked with PyQGIS (Debian's python3-qgis), headless.

A GeoPackage through GDAL, a PostGIS store through QGIS's PostgreSQL provider: QGIS reads the
default style of each from its ``layer_styles`` table.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from geo.record import add_observation
from geo.store import open_store
from geo.store.schema import CROSSINGS
from tests.common import execute

CHECK = Path(__file__).parent / "qgis_check.py"

pytestmark = pytest.mark.qgis


def what_qgis_sees(store: Path | str) -> dict:
    done = subprocess.run(
        ["/usr/bin/python3", str(CHECK), str(store)],
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
    seen = what_qgis_sees(any_store)
    assert seen["status"]["quanhe-wonjong"] == "closed"
    # Each field's alias is its description in the one schema.
    described = {f.name: f.description for f in CROSSINGS.fields}
    assert seen["aliases"]["status_now"] == described["status_now"]
    assert seen["aliases"]["kp_place"] == "DPRK-side place"
    assert (seen["renderer"], seen["attribute"]) == ("categorizedSymbol", "status_now")
    assert seen["crossings"]["valid"] and seen["observations"]["count"] == 15


def test_the_style_check_can_fail(any_store: str):
    # Companion: without the stored style QGIS falls back to its single-symbol default.
    execute(any_store, "DELETE FROM layer_styles")
    assert what_qgis_sees(any_store)["renderer"] == "singleSymbol"
