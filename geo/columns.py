"""Check many rows of observations at once: what repeats from row to row is checked once.

The rows of a file share a few crossings, dates, kinds and sources. A
:class:`RowChecker` checks each combination of the values of the fields that
say what a record claims (:data:`geo.validate.CLAIM_FIELDS`) and of those that
name its source (:data:`geo.validate.SOURCE_FIELDS`) once, by the rules of
:mod:`geo.validate`, and a row's own fields (its summary, point, notes, id)
row by row, by the same rules. It gives the record that
:func:`geo.validate.parse_observation` gives, or None for a row it cannot vouch
for (a bad row, or values of unusual types): the caller parses that row with
``parse_observation``, which names what is wrong in its own order. Nothing
here touches a file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from geo.errors import RecordValidationError
from geo.validate import (
    CLAIM_FIELDS,
    SOURCE_FIELDS,
    _claim_but_summary,
    _observation,
    _source,
    _summary,
)

if TYPE_CHECKING:
    from geo.model import Crossing, Observation, Structure

__all__ = ["RowChecker"]

#: The most combinations each memo keeps; past it, it starts again (memory stays flat).
_MEMO_SIZE = 1 << 16
#: The types of a value that a memo may key: each prints one way (a float can print two:
#: ``0.0`` and ``-0.0`` are equal), so equal keys are equal texts.
_KEYED = frozenset({str, type(None), bool, int})
#: What a memo holds for a combination the rules refuse.
_REFUSED = object()


class RowChecker:
    """Check observation rows as :func:`geo.validate.parse_observation` does, reusing answers.

    Parameters
    ----------
    crossings : mapping
        The inventory's crossings by id.
    structures : mapping, optional
        The inventory's structures by id.
    default_recorded_by : str, default ""
        Who recorded a row that does not say.
    now : datetime, optional
        When the rows are recorded, unless a row says (default: each row's own moment).
    today : date, optional
        The day the rows are checked on (default: today, UTC).

    Examples
    --------
    >>> check = RowChecker({}, today=date(2026, 1, 1))
    >>> check({"crossing_id": "border", "date": "2025-03", "kind": "context",
    ...        "summary": "A  note", "source_url": "https://example.org/a",
    ...        "source_type": "news_report"}).summary
    'A note'
    >>> check({"crossing_id": "border", "date": "2025-13", "kind": "context"}) is None
    True
    """

    def __init__(
        self,
        crossings: Mapping[str, Crossing],
        *,
        structures: Mapping[str, Structure] | None = None,
        default_recorded_by: str = "",
        now: datetime | None = None,
        today: date | None = None,
    ) -> None:
        self.crossings = crossings
        self.structures = structures
        self.default_recorded_by = default_recorded_by
        self.now = now
        self.today = today or (now or datetime.now(UTC)).date()
        self._claims: dict[tuple[object, ...], Any] = {}
        self._sources: dict[tuple[object, ...], Any] = {}

    def __call__(self, raw: Mapping[str, object]) -> Observation | None:
        """Return the record of a row, or None if the row must be parsed one by one."""
        claim = self._memo(self._claims, raw, CLAIM_FIELDS, self._claim)
        if claim is None:
            return None
        source = self._memo(self._sources, raw, SOURCE_FIELDS, self._source)
        if source is None:
            return None
        try:
            claim = claim._replace(summary=_summary(raw))
            clock = (self.now or datetime.now(UTC), self.today)
            return _observation(raw, claim, source, self.crossings, clock, self.default_recorded_by)
        except RecordValidationError:
            return None

    def _claim(self, fields: Mapping[str, object]) -> object:
        return _claim_but_summary(
            fields, self.crossings, self.structures, self.today, as_recorded=False
        )

    def _source(self, fields: Mapping[str, object]) -> object:
        return _source(fields, self.today, as_recorded=False)

    @staticmethod
    def _memo(
        memo: dict[tuple[object, ...], Any],
        raw: Mapping[str, object],
        names: tuple[str, ...],
        check: Callable[[Mapping[str, object]], object],
    ) -> Any:
        """Return the answer of ``check`` for the row's values of ``names`` (None: refused)."""
        values = tuple(map(raw.get, names))
        if not _KEYED.issuperset(map(type, values)):
            return None
        found = memo.get(values)
        if found is None:
            try:
                found = check(dict(zip(names, values, strict=True)))
            except RecordValidationError:
                found = _REFUSED
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            memo[values] = found
        return None if found is _REFUSED else found
