"""Which statuses rest on weak evidence: every answer over a range of days, reviewed.

A status is only as good as the record a reader can check it on. For each
crossing and each stretch of days in the range, the evidence of the status
(see :mod:`geo.status`) is reviewed: a record without the source's words, a
border-wide record, one without a web address, evidence over two years older
than the day, and a status that rests on one source where another of the same
dates disagrees are findings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from geo.questions import timelines
from geo.status import STALE_AFTER_DAYS, describe_status

if TYPE_CHECKING:
    from geo.model import Observation
    from geo.status import StatusStep

__all__ = ["FINDINGS", "AuditFinding", "audit_statuses", "finding_totals"]

#: What a finding may say of the evidence, and how a reader says it.
FINDINGS = {
    "no_quote": "no quote",
    "border_wide": "border-wide",
    "no_url": "no web address",
    "old": "evidence over two years old",
    "conflict": "sources disagree",
}


@dataclass(frozen=True)
class AuditFinding:
    """From ``first`` to ``last`` (both included), a crossing's status rests on weak evidence."""

    crossing_id: str
    first: date
    last: date
    status_text: str
    record: str
    finding: str
    detail: str


def _weak(step: StatusStep, evidence: Observation) -> list[tuple[str, str]]:
    """Return the findings of a step's evidence that hold on every day of the step."""
    found = []
    if not evidence.source_quote:
        found.append(("no_quote", evidence.source_detail or "the record does not say why"))
    if evidence.crossing_id is None:
        found.append(("border_wide", "applies to " + (",".join(evidence.applies_to) or "none")))
    if evidence.source_url is None:
        found.append(("no_url", evidence.source_detail or "the record does not say why"))
    if step.conflicts:
        others = ", ".join(f"{o.id} says {o.status}" for o in step.conflicts)
        found.append(("conflict", others))
    return found


def audit_statuses(
    store: str | Path, *, first: date, last: date, findings: Sequence[str] = tuple(FINDINGS)
) -> list[AuditFinding]:
    """Return every stretch of days in ``[first, last]`` whose status rests on weak evidence.

    By crossing (in inventory order), then by first day. Days when no record
    states a status are not findings: the status is "unknown" and says so.

    Raises
    ------
    ValueError
        If ``first`` is after ``last``, or a finding is not one of ``FINDINGS``.
    """
    if first > last:
        raise ValueError(f"first={first} is after last={last}")
    unknown = [f for f in findings if f not in FINDINGS]
    if unknown:
        raise ValueError(f"findings {unknown!r}: each must be one of {', '.join(FINDINGS)}")
    found: list[AuditFinding] = []
    for crossing, steps in timelines(store, until=last):
        ends = [step.since - timedelta(days=1) for step in steps[1:]] + [last]
        for step, end in zip(steps, ends, strict=True):
            start, stop = max(step.since, first), min(end, last)
            evidence = step.evidence or step.record
            if step.status is None or evidence is None or start > stop:
                continue
            text = describe_status(step.status, step.traffic, is_lifecycle=step.is_lifecycle)
            weak = _weak(step, evidence)
            aged = evidence.date.start + timedelta(days=STALE_AFTER_DAYS + 1)
            if max(start, aged) <= stop:
                weak.append(("old", f"dated {evidence.date.text}"))
            for kind, detail in weak:
                if kind not in findings:
                    continue
                begins = max(start, aged) if kind == "old" else start
                _add(
                    found, AuditFinding(crossing.id, begins, stop, text, evidence.id, kind, detail)
                )
    return found


def _add(found: list[AuditFinding], finding: AuditFinding) -> None:
    """Append a finding, joined to the one before when it continues it."""
    for i in range(len(found) - 1, -1, -1):
        before = found[i]
        if before.crossing_id != finding.crossing_id:
            break
        same = (before.record, before.finding, before.status_text) == (
            finding.record,
            finding.finding,
            finding.status_text,
        )
        if same and before.last + timedelta(days=1) == finding.first:
            found[i] = AuditFinding(
                before.crossing_id,
                before.first,
                finding.last,
                before.status_text,
                before.record,
                before.finding,
                before.detail,
            )
            return
    found.append(finding)


def finding_totals(findings: Sequence[AuditFinding]) -> dict[str, dict[str, int]]:
    """Return, for each crossing with a finding, how many days each kind of finding holds."""
    totals: dict[str, dict[str, int]] = {}
    for f in findings:
        days = totals.setdefault(f.crossing_id, dict.fromkeys(FINDINGS, 0))
        days[f.finding] += (f.last - f.first).days + 1
    return totals
