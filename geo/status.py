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
   or the day after a temporary event ended). The deciding record is the
   latest of the run; the evidence shown is the record of the run a reader
   can check best (:func:`evidence_rank`) among those that say the same
   status and traffic, with its age on the day asked.
6. A crossing none of whose structures ever entered service shows its
   structures' lifecycle instead (the New Yalu River Bridge: built, never
   opened).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Protocol

from geo.model import LIFECYCLES, STATUSES, FuzzyDate, Observation

__all__ = [
    "STALE_AFTER_DAYS",
    "MemorySource",
    "RecordSource",
    "StatusAnswer",
    "StatusStep",
    "answer_on",
    "can_change_status",
    "change_days",
    "describe_status",
    "evaluate",
    "evidence_rank",
    "in_force",
    "lifecycle_records",
    "record_role",
    "rule_order",
    "source_timeline",
    "status_as_of",
    "status_timeline",
    "structure_lifecycle",
]

#: Evidence older than this (about two years) on the day shown makes a status uncertain.
STALE_AFTER_DAYS = 731
#: How many records of a run, from its latest back, the evidence is chosen among: the choice
#: reads one index lookup each, so a long run costs no more than this.
EVIDENCE_LOOKBACK = 32
_PRECISION_RANK = {"year": 0, "month": 1, "day": 2}
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


def evidence_rank(record: Observation) -> tuple[object, ...]:
    """Sort key of how well a reader can check a record: the best sorts last.

    A record that names the crossing before a border-wide one, one with a web
    address before one without, one with the source's words before one
    without, a finer date before a coarser one, then the rule's order (the
    latest last).
    """
    return (
        record.crossing_id is not None,
        record.source_url is not None,
        bool(record.source_quote),
        _PRECISION_RANK.get(record.date.precision, 0),
        rule_order(record),
    )


def can_change_status(record: Observation) -> bool:
    """Say whether a new record may change a status the rule gives (so a snapshot must follow).

    Status records do, and records that correct or withdraw another, and
    lifecycle records (a crossing none of whose structures entered service
    shows their lifecycle); traffic, trade, context records and plans never do.
    """
    return (
        record.kind in ("status", "retraction")
        or record.replaces is not None
        or record.lifecycle is not None
    )


def record_role(
    record: Observation, crossing_id: str, *, superseded: Iterable[str] = (), iso: bool = False
) -> str:
    """Return what the status rule does with a record of a crossing's history, in words.

    "sets status", "plan for Aug 2025", "superseded", a structure's lifecycle,
    "context (border-wide)" for a border-wide record that names no crossing,
    or "" for a record the rule does not read (traffic, infrastructure). Dates
    read as the map writes them ("Aug 2025"), or with ``iso`` as the command
    line does ("2025-08").
    """

    def when(day: FuzzyDate) -> str:
        return day.text if iso else day.label

    roles = {
        "retraction": f"withdraws {record.replaces}",
        "plan": f"plan for {when(record.expected) if record.expected else '?'}",
    }
    if record.id in set(superseded):
        role = "superseded"
    elif record.kind in roles:
        role = roles[record.kind]
    elif _is_status(record, crossing_id):
        role = "sets status" + (f" until {when(record.until)}" if record.until else "")
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
    """What a status step and a status answer share: the records, conflicts, what moves.

    ``record`` decides the status (the latest record of the run); ``evidence``
    is the record of the run a reader can check best, and ``supporting`` how
    many records of the run say the same (counted up to ``EVIDENCE_LOOKBACK``).
    """

    record: Observation | None
    evidence: Observation | None
    supporting: int
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
    evidence: Observation | None = None
    supporting: int = 0


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
    evidence: Observation | None = None
    supporting: int = 0

    @property
    def evidence_age_days(self) -> int | None:
        """Days from the earliest day the evidence's date can mean to the day asked."""
        return None if self.evidence is None else (self.as_of - self.evidence.date.start).days

    @property
    def is_border_wide(self) -> bool:
        """Whether the evidence is a border-wide record (one that lists this crossing)."""
        return self.evidence is not None and self.evidence.crossing_id is None

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
    known = [o for o in lifecycle_records(observations, structure_id) if o.date.end <= as_of]
    return known[-1] if known else None


class RecordSource(Protocol):
    """Where the rule reads one crossing's records: a list in memory, or a store's indexes.

    "Lasting" records are the status records that name the crossing and have
    no ``until``; the others (temporary ones, lifecycles, plans) are few and
    given whole.
    """

    @property
    def temporaries(self) -> Sequence[Observation]:
        """Status records with ``until`` that name the crossing, in force."""
        ...

    @property
    def lifecycle(self) -> Sequence[Observation]:
        """Records giving a lifecycle of the crossing's structures, in force, in rule order."""
        ...

    @property
    def plans(self) -> Sequence[Observation]:
        """Plans that name the crossing, in force."""
        ...

    def latest(
        self, upto: date, *, below: tuple[date, date] | None = None, status: str | None = None
    ) -> Observation | None:
        """Return the last lasting record (rule order) known by ``upto``.

        Only records whose (last day, first day) is below ``below``, and of
        ``status``, when given.
        """
        ...

    def best_per_status(self, end: date, start: date) -> dict[str, Observation]:
        """Return the last lasting record of each status among those of exactly these dates."""
        ...

    def next_day(self, after: date) -> date | None:
        """Return the first day after ``after`` on which a lasting record begins to count."""
        ...


_TOP_KEY = (True, True, "\uffff")  # above the rest of any rule-order key


class MemorySource:
    """A crossing's records held in memory, searched by bisection in the rule's order."""

    def __init__(self, observations: Iterable[Observation], crossing_id: str) -> None:
        records = in_force(observations)
        named = sorted((o for o in records if _is_status(o, crossing_id)), key=rule_order)
        self.lasting = [o for o in named if o.until is None]
        self.keys = [rule_order(o) for o in self.lasting]
        self.by_status = {
            status: [o for o in self.lasting if o.status == status] for status in STATUSES
        }
        self.status_keys = {
            s: [rule_order(o) for o in found] for s, found in self.by_status.items()
        }
        self.temporaries = [o for o in named if o.until is not None]
        self.lifecycle = _lifecycle_records(records)
        self.plans = sorted(
            (o for o in records if o.kind == "plan" and o.applies_to_crossing(crossing_id)),
            key=rule_order,
        )

    def latest(
        self, upto: date, *, below: tuple[date, date] | None = None, status: str | None = None
    ) -> Observation | None:
        """Return the last lasting record known by ``upto`` (see :class:`RecordSource`)."""
        found = self.lasting if status is None else self.by_status[status]
        keys = self.keys if status is None else self.status_keys[status]
        end = bisect.bisect_right(keys, (upto, date.max, *_TOP_KEY))
        if below is not None:
            end = min(end, bisect.bisect_left(keys, below))
        return found[end - 1] if end else None

    def best_per_status(self, end: date, start: date) -> dict[str, Observation]:
        """Return the last lasting record of each status of exactly these dates."""
        first = bisect.bisect_left(self.keys, (end, start))
        last = bisect.bisect_right(self.keys, (end, start, *_TOP_KEY))
        return {o.status or "": o for o in self.lasting[first:last]}

    def next_day(self, after: date) -> date | None:
        """Return the first day after ``after`` on which a lasting record counts."""
        index = bisect.bisect_right(self.keys, (after, date.max, *_TOP_KEY))
        return self.keys[index][0] if index < len(self.keys) else None  # type: ignore[return-value]


def _decide(source: RecordSource, day: date) -> tuple[Observation | None, tuple[Observation, ...]]:
    """Return the record deciding the status on ``day``, and those of its dates that disagree."""
    lasting = source.latest(day)
    active = [t for t in source.temporaries if t.date.end <= day <= t.until.end]  # type: ignore[union-attr]
    candidates = ([lasting] if lasting else []) + active
    if not candidates:
        return None, ()
    top = max(candidates, key=rule_order)
    group: dict[str, Observation] = {}
    if lasting is not None and _dates(lasting) == _dates(top):
        group.update(source.best_per_status(*_dates(top)))
    for record in sorted(active, key=rule_order):
        if _dates(record) == _dates(top):
            best = group.get(record.status or "")
            if best is None or rule_order(record) > rule_order(best):
                group[record.status or ""] = record
    others = sorted((s, o) for s, o in group.items() if s != top.status)  # in a stable order
    return top, tuple(o for _, o in others)


def _temporary_days(source: RecordSource, upto: date) -> list[date]:
    days = {t.date.end for t in source.temporaries}
    days |= {t.until.end + timedelta(days=1) for t in source.temporaries}  # type: ignore[union-attr]
    return sorted(d for d in days if d <= upto)


def _run_start(source: RecordSource, day: date, status: str) -> tuple[date, Observation | None]:
    """Return the day the traffic status of ``day`` began, and the record that began it.

    The status changes only on the days records begin or temporary ones end.
    The latest such day with another status is the last temporary boundary
    that shows one, or the day the last lasting record of another status
    decided (found by index, one per status, stepping back over records that
    did not decide); the run begins on the next such day.
    """

    def status_on(when: date) -> str | None:
        top, _ = _decide(source, when)
        return top.status if top else None

    boundaries = _temporary_days(source, day)
    breaks = [when for when in boundaries if status_on(when) != status]
    below: tuple[date, date] | None = None
    while True:
        found = [source.latest(day, below=below, status=s) for s in STATUSES if s != status]
        other = max((o for o in found if o is not None), key=rule_order, default=None)
        if other is None:
            break
        if status_on(other.date.end) != status:
            breaks.append(other.date.end)
            break
        below = _dates(other)  # outranked on its dates, or covered by a temporary record
    if breaks:
        last = max(breaks)
        later = [source.next_day(last), *(when for when in boundaries if when > last)]
    else:
        later = [source.next_day(date.min), *boundaries]
    start = min(when for when in later if when is not None)
    top, _ = _decide(source, start)
    return start, top if top is not None and top.date.end == start else None


def _lifecycle_state(
    lifecycle: Sequence[Observation], structure_ids: Sequence[str], day: date
) -> Observation | None:
    """Return the record to show when no structure of the crossing entered service by ``day``."""
    if not structure_ids:
        return None
    latest: dict[str, Observation] = {}
    for record in lifecycle:
        if record.date.end > day or record.structure_id not in structure_ids:
            continue
        if record.lifecycle in _SERVED:
            return None
        latest[record.structure_id or ""] = record
    if not all(structure in latest for structure in structure_ids):
        return None
    # The most advanced structure tells how far the crossing has come.
    return max(
        latest.values(), key=lambda o: (LIFECYCLES.index(o.lifecycle or "planned"), o.date.end)
    )


def _lifecycle_days(source: RecordSource, structure_ids: Sequence[str], upto: date) -> list[date]:
    return sorted(
        {
            o.date.end
            for o in source.lifecycle
            if o.structure_id in structure_ids and o.date.end <= upto
        }
    )


def _step_on(source: RecordSource, day: date, structure_ids: Sequence[str]) -> StatusStep:
    """Return the status on ``day`` without its run: a lifecycle, or the deciding record."""
    shown = _lifecycle_state(source.lifecycle, structure_ids, day)
    if shown is not None:
        return StatusStep(
            day, shown.lifecycle, shown, is_lifecycle=True, evidence=shown, supporting=1
        )
    top, conflicts = _decide(source, day)
    if top is None:
        return StatusStep(day, None, None)
    return StatusStep(day, top.status, top, conflicts=conflicts, evidence=top, supporting=1)


def _best_evidence(
    source: RecordSource, top: Observation, since: date | None, day: date
) -> tuple[Observation, int]:
    """Return the record of the run a reader can check best, and how many say the same.

    The run's lasting records of the deciding record's status and traffic,
    from the latest back to ``since`` (at most ``EVIDENCE_LOOKBACK``); a
    temporary record decides alone.
    """
    if top.until is not None or top.status is None:
        return top, 1
    found = [top]
    below: tuple[date, date] | None = None
    while len(found) < EVIDENCE_LOOKBACK:
        record = source.latest(day, below=below, status=top.status)
        if record is None or since is None or record.date.end < since:
            break
        below = _dates(record)
        if record.id != top.id and record.traffic == top.traffic:
            found.append(record)
    return max(found, key=evidence_rank), len(found)


def evaluate(source: RecordSource, day: date, *, structure_ids: Sequence[str] = ()) -> StatusAnswer:
    """Return the status on ``day`` from a record source: the rule, for any store.

    Reads a few records through the source's lookups (the deciding record, one
    per status of its dates, and the last of another status), not the history.
    A source whose database server runs this rule itself (``answered``, the
    PostGIS store's) may give the whole answer instead.
    """
    answered = getattr(source, "answered", None)
    if answered is not None and (whole := answered(day, structure_ids)) is not None:
        return whole  # type: ignore[no-any-return]
    plans = tuple(p for p in source.plans if p.date.end <= day)
    now = _step_on(source, day, structure_ids)
    if now.status is None:
        return StatusAnswer(as_of=day, status=None, record=None, plans=plans)
    lifecycle_days = _lifecycle_days(source, structure_ids, day)
    since: date | None = None
    since_record: Observation | None = None
    ended: date | None = None  # the last day the structures' lifecycle stopped being shown
    shown_before = False
    for when in lifecycle_days:  # lifecycle records are few: follow them all
        step = _step_on(source, when, structure_ids)
        if step.is_lifecycle and step.status == now.status and now.is_lifecycle:
            if since is None:
                starts = step.record is not None and step.record.date.end == when
                since, since_record = when, step.record if starts else None
        else:
            since = None
        if shown_before and not step.is_lifecycle:
            ended = when
        shown_before = step.is_lifecycle
    if not now.is_lifecycle:
        since, since_record = _run_start(source, day, now.status)  # type: ignore[arg-type]
        if ended is not None and ended > since:  # the run began when the lifecycle stopped
            top, _ = _decide(source, ended)
            since = ended
            since_record = top if top is not None and top.date.end == ended else None
    evidence, supporting = now.record, 1
    if not now.is_lifecycle and now.record is not None:
        evidence, supporting = _best_evidence(source, now.record, since, day)
    return StatusAnswer(
        as_of=day,
        status=now.status,
        record=now.record,
        since=since,
        since_record=since_record,
        conflicts=now.conflicts,
        is_lifecycle=now.is_lifecycle,
        plans=plans,
        evidence=evidence,
        supporting=supporting,
    )


def change_days(
    source: RecordSource,
    *,
    since: date = date.min,
    until: date = date.max,
    structure_ids: Sequence[str] = (),
) -> list[date]:
    """Return the days from ``since`` to ``until`` on which a crossing's status may change.

    A lasting record begins to count, a temporary one begins or ends, a
    structure's lifecycle changes: between two of these days the rule gives
    the same answer (status, evidence, conflicts), whatever the day asked.

    Examples
    --------
    >>> change_days(MemorySource([], "friendship-bridge"))
    []
    """
    days = set(_temporary_days(source, until)) | set(_lifecycle_days(source, structure_ids, until))
    # The first day on or after ``since`` (no record counts from the first day of the calendar).
    day = source.next_day(since - timedelta(days=1) if since > date.min else since)
    while day is not None and day <= until:
        days.add(day)
        day = source.next_day(day)
    return sorted(d for d in days if since <= d <= until)


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
    evidence or a conflict changes. It is :func:`status_as_of` on each day a
    record begins or ends to count.

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
    return source_timeline(
        MemorySource(observations, crossing_id), until=until, structure_ids=structure_ids
    )


def source_timeline(
    source: RecordSource,
    *,
    until: date,
    structure_ids: Sequence[str] = (),
    kept: Sequence[StatusStep] = (),
    since: date = date.min,
) -> list[StatusStep]:
    """Return :func:`status_timeline` of what ``source`` holds: records in memory or a store's.

    A store's source (``Store.status_source``) reads through its indexes only
    the records each change day needs, so a timeline costs the same at any
    size of store.

    With ``since``, an earlier timeline is continued: ``kept`` are its steps
    that begin before ``since`` (records added since count from ``since`` on,
    so the status before it is as it was), and only the days from ``since``
    on are asked again.
    """
    steps: list[StatusStep] = [step for step in kept if step.since < since]
    days = change_days(source, since=since, until=until, structure_ids=structure_ids)
    if steps and since not in days:
        days.insert(0, since)  # the step in force then may end where the old records did
    for day in days:
        step = _step_on(source, day, structure_ids)
        previous = steps[-1] if steps else None
        if step.status is None:
            run_since, run_record = None, None
        elif (
            previous is not None
            and previous.status == step.status
            and previous.is_lifecycle == step.is_lifecycle
        ):
            run_since, run_record = previous.run_since, previous.run_record
        else:
            starts = step.record is not None and step.record.date.end == day
            run_since, run_record = day, step.record if starts else None
        if step.record is not None and not step.is_lifecycle:
            evidence, supporting = _best_evidence(source, step.record, run_since, day)
            step = replace(step, evidence=evidence, supporting=supporting)
        steps.append(replace(step, run_since=run_since, run_record=run_record))
    return _merge(steps)


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
    return (a.status, a.record, a.evidence, a.conflicts, a.is_lifecycle, a.run_since) == (
        b.status,
        b.record,
        b.evidence,
        b.conflicts,
        b.is_lifecycle,
        b.run_since,
    )


def answer_on(steps: Sequence[StatusStep], plans: Iterable[Observation], day: date) -> StatusAnswer:
    """Return :func:`evaluate`'s answer on ``day`` from a crossing's timeline and its plans.

    Between two steps the rule gives the same answer, whatever the day asked
    (:func:`change_days`); only the day, the evidence's age and the plans known
    by then follow the day.
    """
    known = tuple(p for p in plans if p.date.end <= day)
    at = bisect.bisect_right(steps, day, key=lambda step: step.since) - 1
    if at < 0 or steps[at].status is None:
        return StatusAnswer(as_of=day, status=None, record=None, plans=known)
    step = steps[at]
    return StatusAnswer(
        as_of=day,
        status=step.status,
        record=step.record,
        since=step.run_since,
        since_record=step.run_record,
        conflicts=step.conflicts,
        is_lifecycle=step.is_lifecycle,
        plans=known,
        evidence=step.evidence,
        supporting=step.supporting,
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
    same answer for every day, and a store answers with the same rule through
    its indexes (:func:`evaluate`).

    Examples
    --------
    >>> status_as_of([], "friendship-bridge", date(2021, 6, 1)).status is None
    True
    """
    return evaluate(MemorySource(observations, crossing_id), as_of, structure_ids=structure_ids)
