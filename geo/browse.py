"""Read the inventory: ``list``, ``status``, ``show``, ``structures``, ``trade``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from geo.errors import RecordValidationError
from geo.fields import date_range, resolve_crossing_id
from geo.inventory import DEFAULT_STORE, reading, status_on, today_or
from geo.status import (
    StatusAnswer,
    rule_order,
    status_as_of,
    structure_lifecycle,
)

if TYPE_CHECKING:
    from geo.model import Crossing, Observation, Structure, TradeFigure
    from geo.store import Store

__all__ = [
    "CrossingHistory",
    "CrossingStatus",
    "StructureState",
    "list_crossings",
    "list_structures",
    "show_crossing",
    "status_matrix",
    "trade_figures",
]


@dataclass(frozen=True)
class CrossingStatus:
    """A crossing with its status on a date."""

    crossing: Crossing
    status: StatusAnswer


@dataclass(frozen=True)
class CrossingHistory:
    """A crossing, its status on a date, its structures, and its records in the rule's order."""

    crossing: Crossing
    status: StatusAnswer
    records: list[Observation]
    superseded: frozenset[str]
    structures: list[StructureState]


@dataclass(frozen=True)
class StructureState:
    """A structure with its lifecycle on a date and the record that gives it (None: no record)."""

    structure: Structure
    record: Observation | None

    @property
    def lifecycle(self) -> str | None:
        """The structure's lifecycle on the day, or None when no record gives one."""
        return self.record.lifecycle if self.record else None


def trade_figures(
    store: str | Path | Store = DEFAULT_STORE,
    *,
    since: str | None = None,
    until: str | None = None,
    flow: str | None = None,
) -> list[TradeFigure]:
    """Return the trade figures whose period meets ``since``..``until``, oldest first."""
    first, last = date_range(since, until, names=("--from", "--to"))
    with reading(store) as opened:
        figures = opened.trade()
    return sorted(
        (
            f
            for f in figures
            if (first is None or f.period_end >= first)
            and (last is None or f.period_start <= last)
            and (flow is None or f.flow == flow)
        ),
        key=lambda f: (f.period_start, f.period_end, f.flow),
    )


def list_crossings(
    store: str | Path | Store = DEFAULT_STORE, *, as_of: date | None = None
) -> list[CrossingStatus]:
    """Return every crossing with its status on ``as_of`` (default: today)."""
    day = today_or(as_of)
    with reading(store) as opened:
        return [
            CrossingStatus(crossing, status_on(opened, crossing.id, day))
            for crossing in opened.crossings().values()
        ]


def status_matrix(
    store: str | Path | Store, days: Sequence[date]
) -> list[tuple[Crossing, list[StatusAnswer]]]:
    """Return every crossing with its status on each of ``days``, in the order given."""
    with reading(store) as opened:
        return [
            (crossing, [status_on(opened, crossing.id, day) for day in days])
            for crossing in opened.crossings().values()
        ]


def list_structures(
    store: str | Path | Store, crossing_id: str | None = None, *, as_of: date | None = None
) -> list[StructureState]:
    """Return the structures (of one crossing, by id or name), each with its lifecycle on a day.

    Raises
    ------
    UnknownCrossingError
        If ``crossing_id`` names no crossing.
    """
    day = today_or(as_of)
    with reading(store) as opened:
        structures = list(opened.structures().values())
        if crossing_id is not None:
            found = resolve_crossing_id(crossing_id, opened.crossings(), field="ID", partial=True)
            structures = [s for s in structures if s.crossing_id == found]
        states = []
        for structure in structures:
            records = opened.status_source(structure.crossing_id).lifecycle
            states.append(
                StructureState(structure, structure_lifecycle(records, structure.id, day))
            )
    return states


def show_crossing(
    store: str | Path | Store, crossing_id: str, *, as_of: date | None = None
) -> CrossingHistory:
    """Return one crossing (by id or any of its names) with its whole history.

    Raises
    ------
    UnknownCrossingError
        If no crossing has that id or name; the message suggests close ids.
    """
    with reading(store) as opened:
        crossings = opened.crossings()
        found = resolve_crossing_id(crossing_id, crossings, field="ID", partial=True)
        if found is None:
            raise RecordValidationError(
                "ID",
                crossing_id,
                "names the whole border, not a crossing",
                "a crossing id from `crossings list`",
                "pick one crossing",
            )
        day = today_or(as_of)
        records = sorted(opened.observations(found), key=rule_order)
        structures = [s for s in opened.structures().values() if s.crossing_id == found]
        answer = status_as_of(records, found, day, structure_ids=tuple(s.id for s in structures))
    # A record is superseded when a later one names it in `replaces` (a correction or retraction).
    superseded = frozenset(o.replaces for o in records if o.replaces)
    states = [StructureState(s, structure_lifecycle(records, s.id, day)) for s in structures]
    return CrossingHistory(crossings[found], answer, records, superseded, states)
