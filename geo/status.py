"""The status rule: a crossing's traffic status on a day, and the evidence it rests on.

Pure functions over records; the store does the reading. The rule, in full:

1. Only a ``status`` record that names the crossing sets its status: the
   crossing's own records (including those about one of its structures), and
   border-wide records whose ``applies_to`` lists the crossing (or says
   ``all``). A border-wide record without ``applies_to`` is context: it is
   listed in every crossing's history and sets nothing. Traffic,
   infrastructure, context and trade records and plans never set a status.
2. A record counts from the last day its date can mean (``2025-03`` from 31
   March), in that order; on the same dates a border-wide record comes before
   the crossing's own, so the more specific one decides.
3. A record with ``until`` is temporary: after its last day the status is
   what it would have been without it.
4. The status on a day is that of the latest record in force on that day;
   records of the same dates that disagree are a CONFLICT, never a silent pick.
5. "Since" is the day the current status began (the first record of the run,
   or the day after a temporary event ended); the evidence is the latest
   record of the run, with its age on the day asked.
6. A crossing none of whose structures ever entered service shows its
   structures' lifecycle instead (the New Yalu River Bridge: built, never
   opened).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from geo.model import LIFECYCLES, STATUSES, Observation

__all__ = [
    "STALE_AFTER_DAYS",
    "StatusAnswer",
    "StatusStep",
    "describe_status",
    "in_force",
    "lifecycle_records",
    "record_role",
    "rule_order",
    "status_as_of",
    "status_timeline",
    "structure_lifecycle",
]

#: Evidence older than this (about two years) on the day shown makes a status uncertain.
STALE_AFTER_DAYS = 731
#: Lifecycles that show a structure has carried traffic.
_SERVED = frozenset({"in_service", "out_of_service", "destroyed"})


_TRAFFIC_WORDS = {
    "freight_road": "freight by road",
    "freight_rail": "freight by rail",
    "passenger_road": "passengers by road",
    "passenger_rail": "passengers by rail",
    "tourists": "tourists",
}
_LIFECYCLE_WORDS = {
    "planned": "planned, not built",
    "under_construction": "under construction, never opened",
    "built_not_opened": "built, never opened",
    "in_service": "in service",
    "out_of_service": "out of service",
    "destroyed": "destroyed",
}


def describe_status(
    status: str | None, traffic: Sequence[str] = (), *, is_lifecycle: bool = False
) -> str:
    """Return a status as a reader says it.

    Examples
    --------
    >>> describe_status("restricted", ["freight_road"])
    'restricted: freight by road only'
    >>> describe_status("built_not_opened", is_lifecycle=True)
    'built, never opened'
    >>> describe_status(None)
    'unknown (no record)'
    """
    if status is None:
        return "unknown (no record)"
    if is_lifecycle:
        return _LIFECYCLE_WORDS.get(status, status)
    moves = " and ".join(_TRAFFIC_WORDS.get(t, t) for t in traffic)
    if not moves:
        return status
    return f"{status}: {moves} only" if status == "restricted" else f"{status}: {moves}"


def in_force(observations: Iterable[Observation]) -> list[Observation]:
    """Return the records that no later record replaces or retracts.

    Retractions themselves are left out: they only withdraw another record.

    Examples
    --------
    >>> in_force([])
    []
    """
    records = list(observations)
    replaced = {o.replaces for o in records if o.replaces}
    return [o for o in records if o.id not in replaced and o.kind != "retraction"]


def rule_order(record: Observation) -> tuple[object, ...]:
    """Sort key of the order in which the rule applies records.

    Last possible day, then first possible day; on the same dates a border-wide
    record before the crossing's own, a record that links its source after one
    that does not, then by id, so the order never depends on reading order.
    """
    return (
        record.date.end,
        record.date.start,
        record.crossing_id is not None,
        record.source_url is not None,
        record.id,
    )


def record_role(record: Observation, crossing_id: str, *, superseded: Iterable[str] = ()) -> str:
    """Return what the status rule does with a record of a crossing's history, in words.

    "sets status", "plan for Aug 2025", "superseded", a structure's lifecycle,
    "context (border-wide)" for a border-wide record that names no crossing,
    or "" for a record the rule does not read (traffic, infrastructure).
    """
    roles = {
        "retraction": f"withdraws {record.replaces}",
        "plan": f"plan for {record.expected.label if record.expected else '?'}",
    }
    if record.id in set(superseded):
        role = "superseded"
    elif record.kind in roles:
        role = roles[record.kind]
    elif _is_status(record, crossing_id):
        role = "sets status" + (f" until {record.until.label}" if record.until else "")
    elif record.kind == "status" and record.applies_to_crossing(crossing_id):
        role = "sets nothing: a lifecycle given as a status"
    elif record.lifecycle:
        role = f"{record.structure_id}: {record.lifecycle}"
    else:
        role = "context" if record.crossing_id is None else ""
    if record.crossing_id is None and role:
        role += " (border-wide)"
    return role


def _dates(record: Observation) -> tuple[date, date]:
    return (record.date.end, record.date.start)


class _Evidence:
    """What a status step and a status answer share: the record, conflicts, what moves."""

    record: Observation | None
    conflicts: tuple[Observation, ...]
    is_lifecycle: bool

    @property
    def is_conflicted(self) -> bool:
        """Whether records of the same dates disagree about the status."""
        return bool(self.conflicts)

    @property
    def traffic(self) -> tuple[str, ...]:
        """What moves, as the evidence says (empty when it does not say)."""
        return self.record.traffic if self.record is not None and not self.is_lifecycle else ()


@dataclass(frozen=True)
class StatusStep(_Evidence):
    """From ``since`` on (until the next step), a crossing's status and its evidence.

    ``status`` is a traffic status (open, restricted, closed, unknown), or a
    lifecycle when ``is_lifecycle`` (no structure of the crossing has entered
    service), or None when no record states one. ``record`` is the latest
    record of the run (the evidence); ``run_since`` the day the status began
    and ``run_record`` the record that began it (None when it began because a
    temporary event ended).
    """

    since: date
    status: str | None
    record: Observation | None
    run_since: date | None = None
    run_record: Observation | None = None
    conflicts: tuple[Observation, ...] = ()
    is_lifecycle: bool = False


@dataclass(frozen=True)
class StatusAnswer(_Evidence):
    """A crossing's status on a day, the records it rests on, and the plans known then."""

    as_of: date
    status: str | None
    record: Observation | None
    since: date | None = None
    since_record: Observation | None = None
    conflicts: tuple[Observation, ...] = ()
    is_lifecycle: bool = False
    plans: tuple[Observation, ...] = field(default=())

    @property
    def evidence_age_days(self) -> int | None:
        """Days from the earliest day the evidence's date can mean to the day asked."""
        return None if self.record is None else (self.as_of - self.record.date.start).days

    @property
    def is_border_wide(self) -> bool:
        """Whether the evidence is a border-wide record (one that lists this crossing)."""
        return self.record is not None and self.record.crossing_id is None

    @property
    def is_uncertain(self) -> bool:
        """Whether the evidence is more than about two years older than the day asked."""
        age = self.evidence_age_days
        return age is not None and age > STALE_AFTER_DAYS


def _is_status(record: Observation, crossing_id: str) -> bool:
    return (
        record.kind == "status"
        and record.status in STATUSES
        and record.applies_to_crossing(crossing_id)
    )


def _lifecycle_records(records: Iterable[Observation]) -> list[Observation]:
    return sorted(
        (
            o
            for o in records
            if o.kind == "infrastructure" and o.structure_id and o.lifecycle in LIFECYCLES
        ),
        key=rule_order,
    )


def lifecycle_records(observations: Iterable[Observation], structure_id: str) -> list[Observation]:
    """Return the records in force that give a structure's lifecycle, in the rule's order."""
    return [o for o in _lifecycle_records(in_force(observations)) if o.structure_id == structure_id]


def structure_lifecycle(
    observations: Iterable[Observation], structure_id: str, as_of: date
) -> Observation | None:
    """Return the latest infrastructure record giving the structure's lifecycle on ``as_of``.

    Examples
    --------
    >>> structure_lifecycle([], "new-yalu-bridge", date(2025, 1, 1)) is None
    True
    """
    found = None
    for record in _lifecycle_records(in_force(observations)):
        if record.structure_id == structure_id and record.date.end <= as_of:
            found = record
    return found


def _event_days(candidates: Sequence[Observation], lifecycle: Sequence[Observation]) -> list[date]:
    days = {o.date.end for o in candidates} | {o.date.end for o in lifecycle}
    days |= {o.until.end + timedelta(days=1) for o in candidates if o.until is not None}
    return sorted(days)


def status_timeline(
    observations: Sequence[Observation],
    crossing_id: str,
    *,
    until: date,
    structure_ids: Sequence[str] = (),
) -> list[StatusStep]:
    """Return a crossing's status as steps in time, up to ``until``.

    The status on a day is that of the last step on or before it (none
    before the first step). A new step starts whenever the status, its
    evidence or a conflict changes.

    Parameters
    ----------
    observations : sequence of Observation
        The crossing's records and the border-wide ones, in any order.
    crossing_id : str
        The crossing asked about.
    until : date
        The last day to follow.
    structure_ids : sequence of str, default ()
        The crossing's structures: when each has a lifecycle record and none
        ever entered service, the lifecycle is shown instead of the traffic
        status.

    Examples
    --------
    >>> status_timeline([], "friendship-bridge", until=date(2026, 1, 1))
    []
    """
    records = in_force(observations)
    candidates = sorted((o for o in records if _is_status(o, crossing_id)), key=rule_order)
    lifecycle = [o for o in _lifecycle_records(records) if o.structure_id in structure_ids]
    steps: list[StatusStep] = []
    active: list[Observation] = []  # records in force on the day, in rule order
    latest: dict[str, Observation] = {}  # each structure's latest lifecycle record
    served: set[str] = set()
    started = 0
    lifecycle_seen = 0
    for day in _event_days(candidates, lifecycle):
        if day > until:
            break
        while started < len(candidates) and candidates[started].date.end <= day:
            active.append(candidates[started])
            started += 1
        active = sorted(
            (o for o in active if o.until is None or o.until.end >= day), key=rule_order
        )
        while lifecycle_seen < len(lifecycle) and lifecycle[lifecycle_seen].date.end <= day:
            record = lifecycle[lifecycle_seen]
            latest[record.structure_id or ""] = record
            if record.lifecycle in _SERVED:
                served.add(record.structure_id or "")
            lifecycle_seen += 1
        steps.append(_step(day, active, latest, served, structure_ids, steps))
    return _merge(steps)


def _step(
    day: date,
    active: Sequence[Observation],
    latest: dict[str, Observation],
    served: set[str],
    structure_ids: Sequence[str],
    steps: Sequence[StatusStep],
) -> StatusStep:
    never_served = (
        bool(structure_ids)
        and not served
        and all(structure in latest for structure in structure_ids)
    )
    if never_served:
        # The most advanced structure tells how far the crossing has come.
        record = max(
            latest.values(), key=lambda o: (LIFECYCLES.index(o.lifecycle or "planned"), o.date.end)
        )
        status, is_lifecycle = record.lifecycle, True
        conflicts: tuple[Observation, ...] = ()
    elif active:
        record = active[-1]
        status, is_lifecycle = record.status, False
        conflicts = tuple(
            {
                o.status: o
                for o in active
                if _dates(o) == _dates(record) and o.status != record.status
            }.values()
        )
    else:
        return StatusStep(day, None, None)
    previous = steps[-1] if steps else None
    if previous is not None and previous.status == status and previous.is_lifecycle == is_lifecycle:
        run_since, run_record = previous.run_since, previous.run_record
    else:
        starts = record.date.end == day
        run_since, run_record = day, record if starts else None
    return StatusStep(day, status, record, run_since, run_record, conflicts, is_lifecycle)


def _merge(steps: Sequence[StatusStep]) -> list[StatusStep]:
    """Drop steps that change nothing, and the leading days without a status."""
    merged: list[StatusStep] = []
    for step in steps:
        if not merged and step.status is None:
            continue
        if merged and _same(merged[-1], step):
            continue
        merged.append(step)
    return merged


def _same(a: StatusStep, b: StatusStep) -> bool:
    return (a.status, a.record, a.conflicts, a.is_lifecycle, a.run_since) == (
        b.status,
        b.record,
        b.conflicts,
        b.is_lifecycle,
        b.run_since,
    )


def status_as_of(
    observations: Sequence[Observation],
    crossing_id: str,
    as_of: date,
    *,
    structure_ids: Sequence[str] = (),
) -> StatusAnswer:
    """Return a crossing's status on ``as_of``, with its evidence and the plans known then.

    See the module's docstring for the rule; :func:`status_timeline` gives the
    same answer for every day.

    Examples
    --------
    >>> status_as_of([], "friendship-bridge", date(2021, 6, 1)).status is None
    True
    """
    steps = status_timeline(observations, crossing_id, until=as_of, structure_ids=structure_ids)
    plans = tuple(
        sorted(
            (
                o
                for o in in_force(observations)
                if o.kind == "plan" and o.date.end <= as_of and o.applies_to_crossing(crossing_id)
            ),
            key=rule_order,
        )
    )
    if not steps or steps[-1].status is None:
        return StatusAnswer(as_of=as_of, status=None, record=None, plans=plans)
    step = steps[-1]
    return StatusAnswer(
        as_of=as_of,
        status=step.status,
        record=step.record,
        since=step.run_since,
        since_record=step.run_record,
        conflicts=step.conflicts,
        is_lifecycle=step.is_lifecycle,
        plans=plans,
    )
