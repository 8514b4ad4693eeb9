"""The codecs between records and the rows of the layers declared in :mod:`geo.schema`.

Every backend creates its tables from those declarations and encodes and
decodes rows with the functions below; only the geometry (a GeoPackage blob,
PostGIS WKB) and the SQL dialect differ. The declarations are named here too,
as the store reads them (``schema.OBSERVATIONS``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from geo.errors import RecordValidationError
from geo.fields import parse_fuzzy_date
from geo.model import (
    Crossing,
    FuzzyDate,
    LonLat,
    Observation,
    Sighting,
    Structure,
    TradeFigure,
)
from geo.schema import (
    CARRIED_FIELDS,
    CROSSINGS,
    INDEXES,
    LASTING,
    LAYER_STYLES,
    LAYERS,
    META,
    OBSERVATIONS,
    SCHEMA_VERSION,
    STATUS_PERIODS,
    STRUCTURES,
    TRADE,
    Field,
    Layer,
)

__all__ = [
    "CROSSINGS",
    "INDEXES",
    "LASTING",
    "LAYERS",
    "LAYER_STYLES",
    "META",
    "OBSERVATIONS",
    "SCHEMA_VERSION",
    "SIGHTING_FIELDS",
    "STATUS_PERIODS",
    "STRUCTURES",
    "TRADE",
    "Field",
    "Layer",
    "crossing_from_row",
    "crossing_row",
    "day_text",
    "observation_from_row",
    "observation_row",
    "observation_rows",
    "sighting_from_row",
    "structure_from_row",
    "structure_row",
    "timestamp",
    "trade_from_row",
    "trade_row",
]

# -- codecs: a record and the values of its row (geometry apart, in field order) ----------


@lru_cache(maxsize=4096)
def timestamp(moment: datetime) -> str:
    """Format a stored DATETIME: UTC, milliseconds, ``Z`` (2026-03-12T09:30:00.000Z)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _text(value: object) -> str:
    return "" if value is None else str(value)


def day_text(value: object) -> str:
    """Return a stored day as ISO text (PostGIS answers a DATE as a date)."""
    return value.isoformat() if isinstance(value, date) else str(value)


@lru_cache(maxsize=65536)
def _stored_time(text: str) -> datetime:
    """Read a stored DATETIME once: records added together share one."""
    return datetime.fromisoformat(text)


def _moment(value: object) -> datetime:
    return value if isinstance(value, datetime) else _stored_time(str(value))


@lru_cache(maxsize=1024)
def _split(value: str | None) -> tuple[str, ...]:
    """Split a comma-separated list as stored (``freight_road,freight_rail``)."""
    return tuple(part for part in (value or "").split(",") if part)


@lru_cache(maxsize=4096)
def fuzzy(text: str | None) -> FuzzyDate | None:
    """Read a stored fuzzy date (``2025-03``) once."""
    if not text:
        return None

    return parse_fuzzy_date(text, today=date.max)


@lru_cache(maxsize=4096)
def _day(value: object) -> date:
    """Read a stored day once: records share few distinct days."""
    return date.fromisoformat(day_text(value))


@lru_cache(maxsize=65536)
def _stored_date(text: str, precision: str, start: object, end: object) -> FuzzyDate:
    """Build a stored date once: records share few distinct dates."""
    return FuzzyDate(
        text, precision, date.fromisoformat(day_text(start)), date.fromisoformat(day_text(end))
    )


def crossing_row(c: Crossing) -> tuple[object, ...]:
    """Return the values of a crossing's row, without the status snapshot."""
    return (
        c.id, c.name_en, c.name_zh, c.name_ko, "; ".join(c.aliases), c.cn_place, c.cn_province,
        c.kp_place, c.kp_province, c.river, c.mode, c.mode_detail, c.kind,
        c.location_precision_m, c.location_note, c.location_source, c.location_source_url,
        c.alt_locations, c.structure, c.notes,
    )  # fmt: skip


#: The crossing fields that crossing_row gives (the snapshot is written apart).
CROSSING_RECORD_FIELDS = tuple(f.name for f in CROSSINGS.fields if f.since == 1)


def crossing_from_row(location: LonLat | None, values: Sequence[Any]) -> Crossing:
    """Build a crossing from its point and its row's values (as crossing_row gives them)."""
    row: dict[str, Any] = dict(zip(CROSSING_RECORD_FIELDS, values, strict=True))
    fields = {k: _text(v) for k, v in row.items()}
    return Crossing(
        **{
            **fields,
            "aliases": tuple(a for a in fields["aliases"].split("; ") if a),
            "location_precision_m": row["location_precision_m"],
            "location_source_url": row["location_source_url"],
        },
        location=location,
    )


def structure_row(s: Structure) -> tuple[object, ...]:
    """Return the values of a structure's row: its own attributes, by name."""
    return tuple(getattr(s, name) for name in STRUCTURES.names)


def structure_from_row(location: LonLat | None, values: Sequence[Any]) -> Structure:
    """Build a structure from its point and its row's values."""
    row: dict[str, Any] = dict(zip(STRUCTURES.names, values, strict=True))
    fields = {k: _text(v) for k, v in row.items()}
    return Structure(
        **{
            **fields,
            "location_precision_m": row["location_precision_m"],
            "location_source_url": row["location_source_url"] or None,
            "length_m": row.get("length_m"),
        },
        location=location,
    )


def trade_row(t: TradeFigure) -> tuple[object, ...]:
    """Return the values of a trade figure's row."""
    return (
        t.period, t.period_kind, t.period_start.isoformat(), t.period_end.isoformat(), t.flow,
        t.value_usd, t.qualifier, t.source_name, t.source_url,
        t.source_published.text if t.source_published else None, t.notes,
    )  # fmt: skip


def trade_from_row(values: Sequence[Any]) -> TradeFigure:
    """Build a trade figure from its row's values.

    Raises
    ------
    RecordValidationError
        If another program wrote a value that is not a whole number of dollars.
    """
    row = dict(zip(TRADE.names, values, strict=True))
    try:
        value_usd = int(row["value_usd"])
    except (TypeError, ValueError) as err:
        raise RecordValidationError(
            "trade.value_usd",
            row["value_usd"],
            f"(period {row['period']}) is not a whole number of US dollars: another program "
            "wrote it into the store",
            "a whole number of US dollars",
            "correct that row of the trade table, or restore the store from a copy",
        ) from err
    return TradeFigure(
        period=str(row["period"]),
        period_kind=str(row["period_kind"]),
        period_start=date.fromisoformat(day_text(row["period_start"])),
        period_end=date.fromisoformat(day_text(row["period_end"])),
        flow=str(row["flow"]),
        value_usd=value_usd,
        qualifier=str(row["qualifier"]),
        source_name=_text(row["source_name"]),
        source_url=row["source_url"],
        source_published=fuzzy(row["source_published"]),
        notes=_text(row["notes"]),
    )


def observation_row(o: Observation) -> tuple[object, ...]:
    """Return the values of an observation's row, in the order of OBSERVATIONS.fields."""
    return observation_rows([o])[0]


def observation_rows(records: Sequence[Observation]) -> list[tuple[object, ...]]:
    """Return the rows of many observations (see :func:`observation_row`).

    The dates and moments that records share (an import's rows share a few)
    are formatted once.
    """
    days: dict[int, tuple[str, str, str, str]] = {}
    moments: dict[int, str] = {}
    rows: list[tuple[object, ...]] = []
    # Unpacked in the order of Observation's fields: an import writes many.
    for (
        oid, crossing_id, when, kind, status, summary, source_name, source_url, published,
        source_type, source_detail, side, _, own, replaces, notes, recorded_at, recorded_by,
        applies_to, until, structure_id, traffic, expected, lifecycle, mirror, *carried,
    ) in records:  # fmt: skip
        day = days.get(id(when))  # the sequence keeps each date alive: an id is not reused
        if day is None:
            day = days[id(when)] = (
                when.text, when.precision, when.start.isoformat(), when.end.isoformat()
            )  # fmt: skip
        moment = moments.get(id(recorded_at))
        if moment is None:
            moment = moments[id(recorded_at)] = timestamp(recorded_at)
        row = (
            oid, crossing_id, *day, kind, status, summary, source_name, source_url,
            published.text if published else None, source_type, source_detail, side,
            int(own), replaces, notes, moment, recorded_by, ",".join(applies_to) or None,
            until.text if until else None, until.end.isoformat() if until else None,
            structure_id, ",".join(traffic) or None, expected.text if expected else None,
            lifecycle, int(mirror), *[value or None for value in carried],
        )  # fmt: skip
        rows.append(row)
    return rows


#: The fields a record carries as given (geo.schema), last in the row and in the record, in
#: the same order: the codec adds them without naming them.
_CARRIED = tuple(f.name for f in CARRIED_FIELDS)
_FIXED = len(OBSERVATIONS.fields) - len(_CARRIED)


#: The stored fields of a light record (geo.model.Sighting), in its order, its point apart.
SIGHTING_FIELDS = (
    "id", "crossing_id", "date", "date_start", "kind", "status", "lifecycle", "summary",
    "source_name", "source_url",
)  # fmt: skip


def sighting_from_row(location: LonLat | None, values: Sequence[Any]) -> Sighting:
    """Build a light record from its point and the values of SIGHTING_FIELDS."""
    oid, crossing_id, text, start, kind, status, lifecycle, summary, source, url = values
    return Sighting(
        oid,
        crossing_id,
        text,
        _day(start),
        kind,
        status,
        lifecycle or None,
        summary or "",
        source or "",
        url,
        location,
    )


_new_observation = Observation._make


def observation_from_row(location: LonLat | None, values: Sequence[Any]) -> Observation:
    """Build a record from its row's values (as observation_row gives them).

    Raises
    ------
    RecordValidationError
        If another program wrote a value the row cannot be read with (a date
        that is not one, say), naming the record.
    """
    try:
        return _observation_from_row(location, values)
    except (TypeError, ValueError) as err:  # free until raised: the hot path pays nothing
        raise RecordValidationError(
            "observation",
            values[0],
            f"holds a value another program wrote that cannot be read ({err})",
            "the values crossings writes (ISO dates, the declared types)",
            "correct that row of the observations table, or restore the store from a copy",
        ) from err


def _observation_from_row(location: LonLat | None, values: Sequence[Any]) -> Observation:
    (oid, crossing_id, text, precision, start, end, kind, status, summary, source_name,
     source_url, published, source_type, source_detail, side, own, replaces, notes,
     recorded_at, recorded_by, applies_to, until, _until_end, structure_id, traffic,
     expected, lifecycle, mirror) = values[:_FIXED]  # fmt: skip
    # Positional, in the field order of Observation: a store answers with many of them.
    # The cached readers are called only for a filled field: most records leave these empty.
    return _new_observation(
        (
            oid,
            crossing_id,
            _stored_date(text, precision, start, end),
            kind,
            status,
            summary or "",
            source_name or "",
            source_url,
            fuzzy(published) if published else None,
            source_type or "",
            source_detail or "",
            side,
            location,
            bool(own),
            replaces,
            notes or "",
            _moment(recorded_at),
            recorded_by or "",
            _split(applies_to) if applies_to else (),
            fuzzy(until) if until else None,
            structure_id or None,
            _split(traffic) if traffic else (),
            fuzzy(expected) if expected else None,
            lifecycle or None,
            bool(mirror),
            *[value or "" for value in values[_FIXED:]],
        )
    )
