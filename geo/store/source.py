"""What every backend reads the same way: the status rule's record source, index rows.

A backend gives ``_select(where, params, order=, limit=)`` (records in force
matching ``where``) and ``_query(sql, params)`` (rows); the SQL here is the
same in SQLite and PostgreSQL, with ``:name`` parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, NamedTuple

from geo.status import MemorySource, rule_order
from geo.store.schema import LASTING, day_text

if TYPE_CHECKING:
    import numpy as np

    from geo.model import Observation

__all__ = ["IN_FORCE", "IndexBoxes", "StoreSource", "question_filters"]


def question_filters(
    since: date | None, until: date | None, kind: str | None, source_type: str | None
) -> list[tuple[str, object]]:
    """Return the filters of a spatial question that are given, as (column and test, value).

    A record is kept whose date interval overlaps ``since``..``until``; each backend
    adds its own placeholder after the test.
    """
    return [
        (test, value)
        for test, value in (
            ("date_end >=", since),
            ("date_start <=", until),
            ("kind =", kind),
            ("source_type =", source_type),
        )
        if value is not None
    ]


class IndexBoxes(NamedTuple):
    """Rows of the R-tree: feature ids and the boxes it stores around each point.

    SQLite's R-tree keeps 32-bit floats rounded outwards, so each box holds its
    point within a few metres; read the record for the exact point.
    """

    fid: np.ndarray
    minx: np.ndarray
    maxx: np.ndarray
    miny: np.ndarray
    maxy: np.ndarray


#: Records in force: neither withdrawn nor corrected by a later record, nor a withdrawal.
IN_FORCE = (
    "o.kind != 'retraction' AND NOT EXISTS (SELECT 1 FROM observations r WHERE r.replaces = o.id)"
)


class StoreSource:
    """One crossing's records as the status rule reads them (geo.status.RecordSource).

    Its lasting status records are found through the partial indexes of
    version 3, one row a lookup; border-wide records, temporary ones, plans and
    lifecycles are few and held in memory.
    """

    def __init__(self, store: Any, crossing_id: str) -> None:

        self._store = store
        self._crossing = crossing_id
        own = store._select(
            [
                "crossing_id = :crossing AND until IS NOT NULL AND kind = 'status'",
                "crossing_id = :crossing AND kind = 'plan'",
                (
                    "structure_id IN (SELECT id FROM structures WHERE crossing_id = :crossing) "
                    "AND lifecycle IS NOT NULL"
                ),
            ],
            {"crossing": crossing_id},
        )
        self._memory = MemorySource([*(store._border or []), *own], crossing_id)
        # The rule asks the same questions of a day more than once: each is read once.
        self._answers: dict[tuple[object, ...], object] = {}
        self.temporaries = self._memory.temporaries
        self.lifecycle = self._memory.lifecycle
        self.plans = self._memory.plans

    def _lasting(self, where: str, params: Mapping[str, object]) -> Observation | None:
        key = (where, *sorted(params.items()))
        if key in self._answers:
            return self._answers[key]  # type: ignore[return-value]
        found = self._store._select(
            f"crossing_id = :crossing AND {LASTING} AND {where}",
            {"crossing": self._crossing, **params},
            order=True,
            limit=1,
        )
        self._answers[key] = found[0] if found else None
        return found[0] if found else None

    def latest(
        self, upto: date, *, below: tuple[date, date] | None = None, status: str | None = None
    ) -> Observation | None:
        """Return the last lasting record known by ``upto`` (see geo.status.RecordSource)."""
        where = "date_end <= :upto"
        params: dict[str, object] = {"upto": upto.isoformat()}
        if below is not None:
            where += " AND (date_end, date_start) < (:end, :start)"
            params.update(end=below[0].isoformat(), start=below[1].isoformat())
        if status is not None:
            where += " AND status = :status"
            params["status"] = status
        found = [
            self._lasting(where, params),
            self._memory.latest(upto, below=below, status=status),
        ]
        return max((o for o in found if o is not None), key=rule_order, default=None)

    def best_per_status(self, end: date, start: date) -> dict[str, Observation]:
        """Return the last lasting record of each status of exactly these dates."""
        best = dict(self._memory.best_per_status(end, start))
        key = ("best", end, start)
        if key not in self._answers:
            # One index lookup per status, asked together: one query, however many rows.
            self._answers[key] = self._store._select(
                [
                    f"crossing_id = :crossing AND {LASTING} AND status = '{status}' "
                    "AND date_end = :end AND date_start = :start"
                    for status in ("open", "restricted", "closed", "unknown")
                ],
                {"crossing": self._crossing, "end": end.isoformat(), "start": start.isoformat()},
                order=True,
                limit=1,
            )
        for found in self._answers[key]:  # type: ignore[attr-defined]
            status = found.status
            if status not in best or rule_order(found) > rule_order(best[status]):
                best[status] = found
        return best

    def next_day(self, after: date) -> date | None:
        """Return the first day after ``after`` on which a lasting record counts."""
        rows = self._store._query(
            f"SELECT date_end FROM observations o WHERE crossing_id = :crossing AND {LASTING} "
            "AND date_end > :after AND NOT EXISTS "
            "(SELECT 1 FROM observations r WHERE r.replaces = o.id) "
            "ORDER BY date_end LIMIT 1",
            {"crossing": self._crossing, "after": after.isoformat()},
        )
        first = date.fromisoformat(day_text(rows[0][0])) if rows else None
        days = [first, self._memory.next_day(after)]
        return min((d for d in days if d is not None), default=None)
