"""``crossings audit``: the statuses that rest on weak evidence, found and counted."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from geo.audit import FINDINGS, audit_statuses, finding_totals
from geo.cli import cli
from geo.record import add_observation


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


STATUS = {
    "crossing_id": "quanhe-wonjong",
    "kind": "status",
    "source_type": "news_report",
}


def test_each_kind_of_weak_evidence_is_found_for_the_days_it_holds(store: Path):
    broadcast = add_observation(
        store,
        {
            **STATUS,
            "date": "2025-01-10",
            "status": "closed",
            "summary": "Gate shut",
            "source_name": "A broadcast",
            "source_detail": "television news; no address was read",
        },
    )
    quoted = add_observation(store, {**STATUS, "date": "2025-03-01", "status": "closed",
                                     "summary": "Still shut", "source_url": "https://e.org/s",
                                     "source_quote": "The gate is still shut."})  # fmt: skip
    found = audit_statuses(store, first=date(2025, 1, 1), last=date(2027, 12, 31))
    kinds = {(f.finding, f.record, f.first, f.last) for f in found}
    # The broadcast is the evidence until a record a reader can check better comes.
    assert ("no_quote", broadcast, date(2025, 1, 10), date(2025, 2, 28)) in kinds
    assert ("no_url", broadcast, date(2025, 1, 10), date(2025, 2, 28)) in kinds
    said = next(f for f in found if f.record == broadcast and f.finding == "no_quote")
    assert said.detail == "television news; no address was read"
    # The quoted record is the evidence from 1 March 2025 on; over two years later it is old.
    assert ("old", quoted, date(2027, 3, 3), date(2027, 12, 31)) in kinds  # 732 days on
    assert not [f for f in found if f.record == quoted and f.finding != "old"]
    totals = finding_totals(found)["quanhe-wonjong"]
    assert totals["no_url"] == 50 and totals["old"] == 304  # 10 Jan-28 Feb; 3 Mar-31 Dec


def test_a_conflict_and_a_border_wide_record_are_findings(store: Path):
    for status, url in (("open", "https://e.org/o"), ("closed", "https://e.org/c")):
        add_observation(store, {**STATUS, "date": "2025-05-05", "status": status,
                                "summary": f"Gate {status}", "source_url": url})  # fmt: skip
    border = add_observation(
        store,
        {
            **STATUS,
            "crossing_id": "border",
            "date": "2025-08-01",
            "status": "closed",
            "applies_to": "all",
            "summary": "All shut",
            "source_url": "https://e.org/all",
        },
    )
    found = audit_statuses(store, first=date(2025, 6, 1), last=date(2025, 9, 1))
    conflict = next(f for f in found if f.finding == "conflict")
    assert conflict.crossing_id == "quanhe-wonjong" and " says " in conflict.detail
    wide = {f.crossing_id for f in found if f.finding == "border_wide" and f.record == border}
    assert wide and all(f.first == date(2025, 8, 1) for f in found if f.record == border)


def test_only_the_kinds_asked_and_bad_arguments(store: Path):
    found = audit_statuses(store, first=date(2020, 1, 1), last=date(2026, 1, 1), findings=("old",))
    assert found and {f.finding for f in found} == {"old"}
    with pytest.raises(ValueError, match="each must be one of"):
        audit_statuses(store, first=date(2020, 1, 1), last=date(2021, 1, 1), findings=("x",))
    result = run("audit", "--from", "2024", "--to", "2020", "--store", str(store))
    assert result.exit_code == 1 and "--from: '2024' is after --to" in result.output
    assert run("audit", "--finding", "nope", "--store", str(store)).exit_code == 2


def test_the_shipped_seed_rests_on_no_unquoted_record_that_does_not_say_why(shipped_store: Path):
    result = run("audit", "--from", "2019-01-01", "--to", "2026-12-03", "--format", "json",
                 "--store", str(shipped_store))  # fmt: skip
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    unquoted = [f for f in answer["findings"] if f["finding"] == "no_quote"]
    for finding in unquoted:
        assert "o copy of the source could be read" in finding["detail"], finding
    assert set(answer["totals_days"]) <= {f["crossing_id"] for f in answer["findings"]}
    table = run("audit", "--from", "2019-01-01", "--to", "2026-12-03", "--store",
                str(shipped_store), env={"COLUMNS": "80"}).output  # fmt: skip
    assert max(len(line) for line in table.splitlines()) <= 80
    assert "Days of each finding, 2019-01-01 to 2026-12-03:" in table
    assert set(FINDINGS) >= {f["finding"] for f in answer["findings"]}
