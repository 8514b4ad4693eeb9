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

import math
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from geo.errors import RecordValidationError
from geo.fields import (
    _LIMITS,
    MAX_DISTANCE_FROM_CROSSING_M,
    _is_clean,
    parse_choice,
    surely_within_m,
)
from geo.model import SIDES, LonLat, Observation, observation_id
from geo.schema import CARRIED_FIELDS, TEXT_LIMIT_DEFAULT
from geo.validate import (
    CLAIM_FIELDS,
    NEEDS_QUOTE,
    SOURCE_FIELDS,
    _claim_but_summary,
    _observation,
    _recorded_at,
    _source,
    _summary,
    carried_value,
)

if TYPE_CHECKING:
    from geo.model import Crossing, Structure

__all__ = ["RowChecker"]

#: The most combinations each memo keeps; past it, it starts again (memory stays flat).
_MEMO_SIZE = 1 << 16
#: The types of a value that a memo may key: each prints one way (a float can print two:
#: ``0.0`` and ``-0.0`` are equal), so equal keys are equal texts.
_KEYED = frozenset({str, type(None), bool, int})
#: What a memo holds for a combination the rules refuse.
_REFUSED: Any = object()
#: The fields :meth:`RowChecker.columns` checks column by column (the claim's and the source's
#: are checked by combination, as row by row).
_OWN_FIELDS = (
    "summary", "side", "lat", "lon", "replaces", "recorded_at", "recorded_by", "notes", "id",
    *(f.name for f in CARRIED_FIELDS),
)  # fmt: skip
#: Values other than texts that a text field reads as the text they print as (see clean_text).
_PRINTED = frozenset({int, float, bool})


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

    def columns(
        self, columns: Mapping[str, Sequence[object]], count: int
    ) -> list[Observation | None]:
        """Return the record of each of ``count`` rows given column by column, or None.

        Each record is the one :meth:`__call__` gives for the row (a mapping of
        its cells); the work is done a column at a time: a column of clean texts
        is checked whole, and a value that repeats is checked once. A row with
        anything unusual (a text to clean, a bad value, a point not surely near
        its crossing, a record about the whole border with a point) is None: the
        caller parses it alone, which names what is wrong.
        """
        declined = bytearray(count)  # 1: the row is left to be parsed alone
        texts = {name: _texts(columns.get(name), name, count, declined) for name in _OWN_FIELDS}
        claims = self._keyed(self._claims, columns, CLAIM_FIELDS, self._claim, count, declined)
        sources = self._keyed(self._sources, columns, SOURCE_FIELDS, self._source, count, declined)
        now = self.now or datetime.now(UTC)
        sides = _each(texts["side"], _side, declined)
        recorded = _each(
            texts["recorded_at"], lambda text: _recorded_at(text, now) if text else now, declined
        )
        carried = [
            _each(texts[field.name], partial(carried_value, field, today=self.today), declined)
            for field in CARRIED_FIELDS
        ]
        locations = self._locations(texts["lat"], texts["lon"], claims, declined)
        found: list[Observation | None] = []
        rows = zip(
            claims, sources, texts["summary"], sides, locations, texts["replaces"],
            texts["recorded_at"], recorded, texts["recorded_by"], texts["notes"], texts["id"],
            zip(*carried, strict=True), declined, strict=True,
        )  # fmt: skip
        for (
            claim,
            source,
            text,
            side,
            location,
            replaces,
            at_text,
            at,
            by,
            notes,
            given,
            kept,
            no,
        ) in rows:
            if no:
                found.append(None)
                continue
            summary = " ".join(text.split())
            record_id = observation_id(
                claim.crossing_id, claim.date.text, claim.kind, summary,
                source.source_url, source.source_name,
            )  # fmt: skip
            if (
                not summary
                or (given and given != record_id)
                or (claim.kind == "retraction" and not replaces)
                or (not kept[_SOURCE_QUOTE] and any(kept[n] for n in _NEEDS_QUOTE))
            ):
                found.append(None)
                continue
            # Positional, in the order of Observation's fields, as geo.validate builds it.
            record = Observation(
                record_id, claim.crossing_id, claim.date, claim.kind, claim.status, summary,
                source.source_name, source.source_url, source.source_published,
                source.source_type, source.source_detail, side, location,
                location is not None, replaces or None, notes, at,
                by or ("" if at_text else self.default_recorded_by), claim.applies_to,
                claim.until, claim.structure_id, claim.traffic, claim.expected,
                claim.lifecycle, source.source_is_mirror, *kept,
            )  # fmt: skip
            found.append(record)
        return found

    def _keyed(
        self,
        memo: dict[tuple[object, ...], Any],
        columns: Mapping[str, Sequence[object]],
        names: tuple[str, ...],
        check: Callable[[Mapping[str, object]], object],
        count: int,
        declined: bytearray,
    ) -> list[Any]:
        """Return each row's answer of ``check`` for its values of ``names`` (see :meth:`_memo`)."""
        given = [name for name in names if name in columns]  # the others: None in every row
        keys = list(zip(*(columns[name] for name in given), strict=True)) or [()] * count
        known = {}
        for values in set(keys):
            answer = self._memo(memo, dict(zip(given, values, strict=True)), names, check)
            known[values] = _REFUSED if answer is None else answer
        answers = list(map(known.__getitem__, keys))
        if _REFUSED in known.values():
            for row, answer in enumerate(answers):
                if answer is _REFUSED:
                    declined[row] = 1
        return answers

    def _locations(
        self,
        lats: list[str],
        lons: list[str],
        claims: list[Any],
        declined: bytearray,
    ) -> list[LonLat | None]:
        """Return each row's own point; a row whose point is not surely good is declined."""
        if not any(lats) and not any(lons):
            return [None] * len(lats)
        try:  # the usual column: every row has a point, each written as a plain number
            if "_" in "".join(lats) + "".join(lons):  # float() reads 4_0 as 40
                raise ValueError
            points: list[LonLat | None] = list(map(LonLat, map(float, lons), map(float, lats)))
        except ValueError:
            points = list(map(_point, lats, lons))
        found: list[LonLat | None] = []
        for row, (point, lat_text, lon_text, claim) in enumerate(
            zip(points, lats, lons, claims, strict=True)
        ):
            if point is None:
                if lat_text or lon_text:  # not a point, or only half of one
                    declined[row] = 1
                found.append(None)
                continue
            crossing = self.crossings.get(claim.crossing_id) if claim is not _REFUSED else None
            if (
                not (-90.0 <= point.lat <= 90.0 and -180.0 <= point.lon <= 180.0)  # NaN is neither
                or claim is _REFUSED
                or claim.crossing_id is None  # the border region is checked row by row
                or (
                    crossing is not None
                    and crossing.location is not None
                    and not surely_within_m(crossing.location, point, MAX_DISTANCE_FROM_CROSSING_M)
                )
            ):
                declined[row] = 1
                found.append(None)
                continue
            found.append(point)
        return found


def _point(lat: str, lon: str) -> LonLat | None:
    """Return the point of two texts of plain numbers, else None."""
    try:
        if "_" in lat or "_" in lon:
            raise ValueError
        return LonLat(float(lon), float(lat))
    except ValueError:
        return None


_CARRIED_NAMES = [f.name for f in CARRIED_FIELDS]
_SOURCE_QUOTE = _CARRIED_NAMES.index("source_quote")
_NEEDS_QUOTE = [_CARRIED_NAMES.index(name) for name in NEEDS_QUOTE]


def _texts(
    values: Sequence[object] | None, field: str, count: int, declined: bytearray
) -> list[str]:
    """Return a column's values as the texts ``clean_text`` gives, "" for a declined row's.

    A column of clean texts (the most) is checked whole; else each value.
    """
    if values is None:
        return [""] * count
    texts: list[str]
    if set(map(type, values)) == {str}:
        texts = list(values)  # type: ignore[arg-type]
    else:
        texts = []
        for row, value in enumerate(values):
            if value is None or (type(value) is float and math.isnan(value)):
                texts.append("")
            elif type(value) is str:
                texts.append(value)
            elif type(value) in _PRINTED:
                texts.append(str(value))
            else:
                texts.append("")
                declined[row] = 1
    joined = "".join(texts)
    if (
        joined.isprintable()
        and (joined.isascii() or unicodedata.is_normalized("NFC", "\n".join(texts)))
        and max(map(len, texts)) <= _LIMITS.get(field, TEXT_LIMIT_DEFAULT)
        and all(map(str.__eq__, texts, map(str.strip, texts)))
    ):
        return texts
    for row, text in enumerate(texts):
        if not _is_clean(text, field):
            declined[row] = 1
            texts[row] = ""
    return texts


def _each(texts: list[str], check: Callable[[str], Any], declined: bytearray) -> list[Any]:
    """Return ``check`` of each text, each distinct text checked once; a refused row is declined."""
    answers = {}
    for text in set(texts):
        try:
            answers[text] = check(text)
        except RecordValidationError:
            answers[text] = _REFUSED
    found = list(map(answers.__getitem__, texts))
    if any(answer is _REFUSED for answer in answers.values()):
        for row, answer in enumerate(found):
            if answer is _REFUSED:
                declined[row] = 1
    return found


def _side(text: str) -> str | None:
    return parse_choice("side", text, SIDES) if text else None
