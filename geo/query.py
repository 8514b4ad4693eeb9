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


def status_as_of(observations: Sequence[Observation], as_of: date) -> StatusAnswer:
    """Return the status on ``as_of`` from a crossing's records.

    The rule: of the records in force that state a status and whose date is
    known to be on or before ``as_of`` (a month or year counts from its last
    day, so ``2025-03`` is known only from 31 March), the latest wins, ordered
    by last possible day, then first possible day. Records about the whole
    border count like the crossing's own, except for a crossing whose own
    latest status is under construction or built but not open: a border-wide
    closure or reopening does not apply to a crossing that never carried
    traffic. Records of the same dates that disagree are returned as ``conflicts``.

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
    """
    candidates = [o for o in in_force(observations) if o.status is not None and o.date.end <= as_of]
    own = [o for o in candidates if o.crossing_id is not None]
    if own and max(own, key=_order).status in NOT_IN_SERVICE:
        candidates = own
    if not candidates:
        return StatusAnswer(as_of=as_of, status=None, record=None)
    latest = max(candidates, key=_order)
    conflicts = tuple(
        o
        for o in candidates
        if o.date.end == latest.date.end
        and o.date.start == latest.date.start
        and o.status != latest.status
    )
    return StatusAnswer(as_of=as_of, status=latest.status, record=latest, conflicts=conflicts)
