"""The status periods layer: each crossing's status over time, as the status rule gives it.

A period holds the status the rule gives (:func:`geo.status.evaluate`, the
answer of ``crossings status --as-of DAY``), from the day it begins up to the
day before the next period begins. The rule gives the same answer between
two days on which a record begins or ends to count (:func:`geo.status.change_days`),
so the periods are the answers on those days, joined where they say the same.

A write keeps the layer true in its own transaction, for the crossings it
touches only, and from the first day it can change: a record counts from
the last day its date can mean, so the status before that day stays as it
was, and the periods before it are kept. The SQL is the same in every backend.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from geo.status import StatusAnswer, can_change_status, change_days, describe_status, evaluate
from geo.store.schema import STATUS_PERIODS, day_text

if TYPE_CHECKING:
    from geo.model import Observation, Structure

__all__ = [
    "FIRST_VERSION",
    "PERIODS",
    "PERIODS_FROM",
    "PERIODS_SINCE",
    "StatusPeriod",
    "crossings_changed",
    "derive_periods",
    "first_change",
    "first_kept_day",
    "period_values",
    "read_periods",
    "rows_from",
    "status_changes",
]

#: The schema version that added the layer.
FIRST_VERSION = STATUS_PERIODS.fields[0].since


class StatusPeriod(NamedTuple):
    """One row of the status periods layer; ``end`` is the next period's start (None: lasts)."""

    crossing_id: str
    name_en: str
    start: date
    end: date | None
    status: str | None
    status_text: str
    evidence_id: str | None
    evidence_date: str | None
    source_quote: str | None
    quote_en: str | None
    source_url: str | None


def period_values(answer: StatusAnswer) -> tuple[object, ...]:
    """Return what a period says of a status answer, in the layer's order from ``status``."""
    evidence = answer.evidence
    return (
        answer.status,
        describe_status(answer.status, answer.traffic, is_lifecycle=answer.is_lifecycle),
        evidence.id if evidence else None,
        evidence.date.text if evidence else None,
        (evidence.source_quote or None) if evidence else None,
        (evidence.quote_en or None) if evidence else None,
        evidence.source_url if evidence else None,
    )


def derive_periods(
    store: Any,
    crossing_id: str,
    structure_ids: Sequence[str],
    since: date,
    kept: tuple[object, ...] | None = None,
) -> list[tuple[date, tuple[object, ...]]]:
    """Return the periods of a crossing from ``since`` on: each start, and what it says.

    The rule is asked on each day from ``since`` on which the status may
    change, through the store's indexes; days that say the same as the day
    before are left out. ``kept`` is what the stored period that begins on
    ``since`` says, where the write cannot have changed it (it is not asked again).
    """
    source = store.status_source(crossing_id)
    days = change_days(source, since=since, structure_ids=structure_ids)
    runs: list[tuple[date, tuple[object, ...]]] = []
    if kept is not None:
        runs.append((since, kept))
        days = [day for day in days if day > since]
    elif since > date.min and since not in days:
        days.insert(0, since)
    for day in days:
        values = period_values(evaluate(source, day, structure_ids=structure_ids))
        if not runs or runs[-1][1] != values:
            runs.append((day, values))
    return runs


def crossings_changed(
    record: Observation, crossings: Iterable[str], structures: Mapping[str, Structure]
) -> list[str]:
    """Return the crossings whose status a record may change (none: it cannot change one).

    Its own crossing, the crossing of the structure it gives a lifecycle of, or,
    for a record of the whole border, each crossing it lists (``applies_to``).
    """
    if not can_change_status(record):
        return []
    found = [] if record.crossing_id is None else [record.crossing_id]
    if record.crossing_id is None:
        found = [c for c in crossings if record.applies_to_crossing(c)]
    structure = structures.get(record.structure_id or "")
    if structure is not None and structure.crossing_id not in found:
        found.append(structure.crossing_id)
    return found


def status_changes(
    records: Iterable[Observation], crossings: Iterable[str], structures: Mapping[str, Structure]
) -> dict[str, date]:
    """Return the crossings whose status these records may change, each from the first day.

    A record counts from the last day its date can mean: the status before it
    stays as it was. The same holds for a record that stops counting (one a
    correction replaces), from its own last day.
    """
    ids = list(crossings)
    found: dict[str, date] = {}
    for record in records:
        for crossing_id in crossings_changed(record, ids, structures):
            found[crossing_id] = min(record.date.end, found.get(crossing_id, date.max))
    return found


#: The start of the period a crossing is in on a day, and what it says (none before its first).
PERIOD_ON = (
    'SELECT "start", '
    + ", ".join(f'"{name}"' for name in STATUS_PERIODS.names[4:])
    + ' FROM status_periods WHERE crossing_id = :crossing AND "start" <= :day '
    'AND ("end" IS NULL OR "end" > :day)'
)
#: A crossing's periods from a day on, as rows_from gives them.
PERIODS_SINCE = (
    'SELECT "start", "end", '
    + ", ".join(f'"{name}"' for name in STATUS_PERIODS.names[4:])
    + ' FROM status_periods WHERE crossing_id = :crossing AND "start" >= :day ORDER BY "start"'
)
#: Whether a crossing has a period that begins before a day.
PERIOD_BEFORE = 'SELECT 1 FROM status_periods WHERE crossing_id = :crossing AND "start" < :day'
#: Drop a crossing's periods from a day on.
PERIODS_FROM = 'DELETE FROM status_periods WHERE crossing_id = :crossing AND "start" >= :day'
#: Every period, or a crossing's, in time order.
PERIODS = (
    "SELECT " + ", ".join(f'"{name}"' for name in STATUS_PERIODS.names) + " FROM status_periods"
)


def first_kept_day(
    store: Any, crossing_id: str, changed: date
) -> tuple[date, tuple[object, ...] | None]:
    """Return the day a crossing's periods are derived anew from, for a change from ``changed``.

    The start of the period in force the day before, with what it says (it
    may now run on into the next one: a write changes nothing before
    ``changed``); or ``changed`` itself, and None, when no period was in force then.
    """
    if changed == date.min:
        return changed, None
    before = (changed - timedelta(days=1)).isoformat()
    rows = store._query(PERIOD_ON, {"crossing": crossing_id, "day": before})
    if not rows:
        return changed, None
    return date.fromisoformat(day_text(rows[0][0])), tuple(rows[0][1:])


def rows_from(
    store: Any, crossing_id: str, since: date, runs: list[tuple[date, tuple[object, ...]]]
) -> list[tuple[date, date | None, tuple[object, ...]]]:
    """Give each run its end (the next run's start), leaving out a status none begins with.

    Before a crossing's first record no status is known: no period is kept
    for those days, as ``crossings status`` gives none.
    """
    if not store._query(PERIOD_BEFORE, {"crossing": crossing_id, "day": since.isoformat()}):
        while runs and runs[0][1][0] is None:
            runs = runs[1:]
    if not runs:
        return []
    ends: list[date | None] = [start for start, _ in runs[1:]]
    return [(start, end, values) for (start, values), end in zip(runs, [*ends, None], strict=True)]


def first_change(
    stored: Sequence[Sequence[Any]], derived: Sequence[tuple[date, date | None, tuple[object, ...]]]
) -> int | None:
    """Return the index of the first derived period the stored ones lack (None: they are the same).

    ``stored`` are rows of :data:`PERIODS_SINCE`; a write leaves the rows before it as they are.
    """
    kept = [
        (
            date.fromisoformat(day_text(start)),
            date.fromisoformat(day_text(end)) if end else None,
            tuple(values),
        )
        for start, end, *values in stored
    ]
    if kept == list(derived):
        return None
    return next(
        (n for n, (old, new) in enumerate(zip(kept, derived, strict=False)) if old != new),
        min(len(kept), len(derived)),
    )


def read_periods(rows: Iterable[Sequence[Any]]) -> list[StatusPeriod]:
    """Decode the rows of :data:`PERIODS`."""
    return [
        StatusPeriod(
            row[0],
            row[1] or "",
            date.fromisoformat(day_text(row[2])),
            date.fromisoformat(day_text(row[3])) if row[3] else None,
            *row[4:],
        )
        for row in rows
    ]
