"""Questions asked of records: which are in force, and a crossing's status on a date.

Pure functions over records; the store does the reading.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from geo.model import Observation

__all__ = ["NOT_IN_SERVICE", "StatusAnswer", "in_force", "status_as_of"]

#: Statuses of a crossing that has never carried traffic: a border-wide
#: closure or reopening does not change them.
NOT_IN_SERVICE = frozenset({"under_construction", "built_not_opened"})


@dataclass(frozen=True)
class StatusAnswer:
    """A crossing's status on a date and the record it rests on.

    ``conflicts`` holds records as late and as precise as ``record`` that say
    otherwise: the sources disagree and neither is picked silently.
    """

    as_of: date
    status: str | None
    record: Observation | None
    conflicts: tuple[Observation, ...] = ()

    @property
    def is_conflicted(self) -> bool:
        """Whether equally good records disagree about the status."""
        return bool(self.conflicts)


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


def _order(record: Observation) -> tuple[date, date]:
    return (record.date.end, record.date.start)


#: How open each status is, for border-wide records that tighten or loosen.
_OPENNESS = {"closed": 0, "restricted": 1, "open": 2}


def status_as_of(observations: Sequence[Observation], as_of: date) -> StatusAnswer:
    """Return the status on ``as_of`` from a crossing's records.

    The rule: take the records in force that state a status and whose date is
    known to be on or before ``as_of`` (a month or year counts from its last
    day, so ``2025-03`` is known only from 31 March), in date order (last
    possible day, then first possible day). Each of the crossing's own records
    sets the status. A record about the whole border is a limit: one that
    tightens the border (less open than the border-wide record before it, or
    the first) lowers a crossing that is more open (open > restricted >
    closed); one that loosens it raises a crossing that is less open. Border-wide
    records never touch a crossing under construction or built but not opened.
    Own records of the same dates that disagree are returned as ``conflicts``.

    Parameters
    ----------
    observations : sequence of Observation
        The crossing's records, with border-wide ones if they should count.
    as_of : date
        The day asked about.

    Returns
    -------
    StatusAnswer
        ``status`` is None when no record states one by that day.

    Examples
    --------
    >>> status_as_of([], date(2021, 6, 1)).status is None
    True
    """
    candidates = sorted(
        (o for o in in_force(observations) if o.status is not None and o.date.end <= as_of),
        # On the same dates, a record that links its source is the one shown.
        key=lambda o: (*_order(o), o.source_url is not None),
    )
    status: str | None = None
    deciding: Observation | None = None
    border: str | None = None
    for record in candidates:
        if record.crossing_id is not None:
            status, deciding = record.status, record
            continue
        previous, border = border, record.status
        if status in NOT_IN_SERVICE or record.status not in _OPENNESS:
            continue
        tightens = previous not in _OPENNESS or _OPENNESS[border] < _OPENNESS[previous]
        current = _OPENNESS.get(status or "")
        if status is None or current is None:
            status, deciding = record.status, record
        elif (tightens and _OPENNESS[border] < current) or (
            not tightens and _OPENNESS[border] > current
        ):
            status, deciding = record.status, record
    if deciding is None:
        return StatusAnswer(as_of=as_of, status=None, record=None)
    conflicts = tuple(
        o
        for o in candidates
        if o.crossing_id is not None
        and deciding.crossing_id is not None
        and _order(o) == _order(deciding)
        and o.status != deciding.status
    )
    return StatusAnswer(as_of=as_of, status=status, record=deciding, conflicts=conflicts)
