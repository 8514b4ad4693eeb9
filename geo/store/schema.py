"""Each layer's stored fields, declared once, and the codecs between records and rows.

Every backend creates its tables from these declarations and encodes and
decodes rows with the functions below; only the geometry (a GeoPackage blob,
PostGIS WKB) and the SQL dialect differ. Adding a field is one line here plus
its migration in each backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from geo.model import (
    CROSSING_KINDS,
    FLOWS,
    LIFECYCLES,
    MODES,
    OBSERVATION_KINDS,
    PRECISIONS,
    QUALIFIERS,
    RIVERS,
    SIDES,
    SOURCE_TYPES,
    STATUSES,
    STRUCTURE_KINDS,
    Crossing,
    FuzzyDate,
    LonLat,
    Observation,
    Sighting,
    Structure,
    TradeFigure,
)

__all__ = [
    "CROSSINGS",
    "INDEXES",
    "LASTING",
    "LAYER_STYLES",
    "META",
    "OBSERVATIONS",
    "SCHEMA_VERSION",
    "SIGHTING_FIELDS",
    "STRUCTURES",
    "TRADE",
    "Field",
    "Layer",
    "crossing_from_row",
    "crossing_row",
    "day_text",
    "observation_from_row",
    "observation_row",
    "sighting_from_row",
    "structure_from_row",
    "structure_row",
    "timestamp",
    "trade_from_row",
    "trade_row",
]

#: Version of the layers' schema that this release writes and reads.
SCHEMA_VERSION = 3


@dataclass(frozen=True)
class Field:
    """One stored column: its name, type, meaning, allowed values and the version that added it.

    Types: ``str``, ``int``, ``int64``, ``bool``, ``date`` (ISO day),
    ``datetime`` (ISO UTC, milliseconds, ``Z``).
    """

    name: str
    type: str
    description: str
    vocabulary: tuple[str, ...] = ()
    required: bool = False
    since: int = 1


@dataclass(frozen=True)
class Layer:
    """A table: its name, whether it holds points, its description and its fields in order."""

    name: str
    point: bool
    description: str
    fields: tuple[Field, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Return the fields' names, in order."""
        return tuple(f.name for f in self.fields)

    def at(self, version: int) -> tuple[Field, ...]:
        """Return the fields a store of ``version`` has."""
        return tuple(f for f in self.fields if f.since <= version)


_SOURCE = (
    Field("source_name", "str", "Source: who said it", required=True),
    Field("source_url", "str", "Source: link (http or https)"),
    Field("source_published", "str", "Source: when it was published (YYYY, YYYY-MM, YYYY-MM-DD)"),
)

CROSSINGS = Layer(
    "crossings",
    True,
    "China–DPRK border crossings, one point each",
    (
        Field("id", "str", "Crossing id (a slug)", required=True),
        Field("name_en", "str", "Name in English", required=True),
        Field("name_zh", "str", "Name in Chinese"),
        Field("name_ko", "str", "Name in Korean"),
        Field("aliases", "str", "Other names, separated by '; '"),
        Field("cn_place", "str", "China-side place"),
        Field("cn_province", "str", "China-side province"),
        Field("kp_place", "str", "DPRK-side place"),
        Field("kp_province", "str", "DPRK-side province"),
        Field("river", "str", "River", RIVERS, required=True),
        Field("mode", "str", "Mode of crossing", MODES, required=True),
        Field("mode_detail", "str", "Mode, in words"),
        Field("kind", "str", "Kind of crossing", CROSSING_KINDS, required=True),
        Field("location_precision_m", "int", "How precise the point is (metres)"),
        Field("location_note", "str", "What the point marks"),
        Field("location_source", "str", "Source of the point"),
        Field("location_source_url", "str", "Source of the point: link"),
        Field("alt_locations", "str", "Other points given for it, and by whom"),
        Field("structure", "str", "The structures, in words"),
        Field("notes", "str", "Notes"),
        # A snapshot of each status for GIS tools that style by a field, written in the same
        # transaction as the records it derives from; questions derive status from records.
        Field("status_now", "str", "Status on status_as_of (derived)", since=2),
        Field("status_since", "str", "First day of that status (derived)", since=2),
        Field("status_source", "str", "Record that status rests on (derived)", since=2),
        Field("status_as_of", "date", "Day the status snapshot was derived", since=2),
    ),
)

OBSERVATIONS = Layer(
    "observations",
    True,
    "Dated, sourced status and infrastructure records",
    (
        Field("id", "str", "Record id (derived from what it says)", required=True),
        Field("crossing_id", "str", "Crossing (empty: the whole border)"),
        Field("date", "str", "Date it describes (YYYY, YYYY-MM or YYYY-MM-DD)", required=True),
        Field("date_precision", "str", "Precision of the date", PRECISIONS, required=True),
        Field("date_start", "date", "First day the date can mean", required=True),
        Field("date_end", "date", "Last day the date can mean", required=True),
        Field("kind", "str", "Kind of record", OBSERVATION_KINDS, required=True),
        Field("status", "str", "Status after it (status records)", STATUSES),
        Field("summary", "str", "What was seen or reported", required=True),
        *_SOURCE,
        Field("source_type", "str", "Type of source", SOURCE_TYPES, required=True),
        Field("source_detail", "str", "Source: detail (why no link, which page)"),
        Field("side", "str", "Side it concerns", SIDES),
        Field("has_own_location", "bool", "Has a point of its own (else its crossing's)"),
        Field("replaces", "str", "Id of the record it corrects or withdraws"),
        Field("notes", "str", "Notes"),
        Field("recorded_at", "datetime", "When it was recorded (UTC)", required=True),
        Field("recorded_by", "str", "Who recorded it"),
        Field("applies_to", "str", "Border-wide: crossings it sets the status of", since=3),
        Field("until", "str", "Last day a temporary event lasted", since=3),
        Field("until_end", "date", "Last day that until can mean", since=3),
        Field("structure_id", "str", "Structure it is about", since=3),
        Field("traffic", "str", "What still moves (comma-separated)", since=3),
        Field("expected", "str", "Plans: when the event is expected", since=3),
        Field("lifecycle", "str", "Lifecycle of the structure after it", LIFECYCLES, since=3),
        Field("source_is_mirror", "bool", "The link is a copy on another site", since=3),
    ),
)

STRUCTURES = Layer(
    "structures",
    True,
    "Bridges, dams and gates of the crossings, one point each",
    (
        Field("id", "str", "Structure id (a slug)", required=True),
        Field("crossing_id", "str", "Crossing it belongs to", required=True),
        Field("name_en", "str", "Name in English", required=True),
        Field("name_zh", "str", "Name in Chinese"),
        Field("name_ko", "str", "Name in Korean"),
        Field("kind", "str", "Kind of structure", STRUCTURE_KINDS, required=True),
        Field("location_precision_m", "int", "How precise the point is (metres)"),
        Field("location_source", "str", "Source of the point"),
        Field("location_source_url", "str", "Source of the point: link"),
        Field("notes", "str", "Notes"),
    ),
)

TRADE = Layer(
    "trade",
    False,
    "China–DPRK trade figures by period and flow (USD)",
    (
        Field("period", "str", "Period (YYYY or YYYY-MM)", required=True),
        Field("period_kind", "str", "year or month", ("year", "month"), required=True),
        Field("period_start", "date", "First day of the period", required=True),
        Field("period_end", "date", "Last day of the period", required=True),
        Field("flow", "str", "Flow", FLOWS, required=True),
        Field("value_usd", "int64", "Value in US dollars", required=True),
        Field("qualifier", "str", "How exact the source says it is", QUALIFIERS, required=True),
        *_SOURCE,
        Field("notes", "str", "Notes"),
    ),
)

META = Layer(
    "crossings_meta",
    False,
    "Application and schema version of this store",
    (Field("key", "str", "Key"), Field("value", "str", "Value")),
)

#: The table in which QGIS keeps layer styles (the same in a GeoPackage and in PostGIS); QGIS
#: reads the default one when it opens a layer.
LAYER_STYLES = Layer(
    "layer_styles",
    False,
    "QGIS styles: the crossings layer's default style",
    tuple(
        Field(name, kind, name)
        for name, kind in (
            ("f_table_catalog", "str"),
            ("f_table_schema", "str"),
            ("f_table_name", "str"),
            ("f_geometry_column", "str"),
            ("styleName", "str"),
            ("styleQML", "str"),
            ("styleSLD", "str"),
            ("useAsDefault", "bool"),
            ("description", "str"),
            ("owner", "str"),
            ("ui", "str"),
            ("update_time", "datetime"),
        )
    ),
)

#: The lasting status records (no ``until``) with a traffic status: the rule's indexed
#: lookups read these (see geo.status.RecordSource); the same SQL in every backend.
LASTING = (
    "kind = 'status' AND until IS NULL AND status IN ('open', 'restricted', 'closed', 'unknown')"
)

#: The indexes, with the schema version that added each: the same SQL in every backend. The
#: unique ids refuse a record stored twice; the others each serve one lookup of the status
#: rule (geo.store.source.StoreSource), reading no more rows than its answer.
INDEXES = (
    ("CREATE UNIQUE INDEX crossings_id ON crossings (id)", 1),
    ("CREATE UNIQUE INDEX observations_id ON observations (id)", 1),
    (
        (
            "CREATE INDEX observations_crossing_date ON observations "
            "(crossing_id, date_end, date_start)"
        ),
        1,
    ),
    ("CREATE INDEX observations_replaces ON observations (replaces)", 1),
    ("CREATE UNIQUE INDEX structures_id ON structures (id)", 3),
    (
        (
            "CREATE INDEX observations_structure ON observations (structure_id) "
            "WHERE structure_id IS NOT NULL"
        ),
        3,
    ),
    # The last lasting record of a crossing by a day, in the rule's order, read from the index.
    (
        (
            "CREATE INDEX observations_lasting ON observations "
            f"(crossing_id, date_end, date_start, (source_url IS NOT NULL), id) WHERE {LASTING}"
        ),
        3,
    ),
    (
        (
            "CREATE INDEX observations_lasting_status ON observations (crossing_id, status, "
            f"date_end, date_start, (source_url IS NOT NULL), id) WHERE {LASTING}"
        ),
        3,
    ),
    (
        (
            "CREATE INDEX observations_temporary ON observations (crossing_id) "
            "WHERE until IS NOT NULL"
        ),
        3,
    ),
    ("CREATE INDEX observations_plan ON observations (crossing_id) WHERE kind = 'plan'", 3),
    ("CREATE INDEX observations_border ON observations (kind) WHERE crossing_id IS NULL", 3),
)


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
    from geo.validate import parse_fuzzy_date

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
    """Build a trade figure from its row's values."""
    row = dict(zip(TRADE.names, values, strict=True))
    return TradeFigure(
        period=str(row["period"]),
        period_kind=str(row["period_kind"]),
        period_start=date.fromisoformat(day_text(row["period_start"])),
        period_end=date.fromisoformat(day_text(row["period_end"])),
        flow=str(row["flow"]),
        value_usd=int(row["value_usd"]),
        qualifier=str(row["qualifier"]),
        source_name=_text(row["source_name"]),
        source_url=row["source_url"],
        source_published=fuzzy(row["source_published"]),
        notes=_text(row["notes"]),
    )


def observation_row(o: Observation) -> tuple[object, ...]:
    """Return the values of an observation's row, in the order of OBSERVATIONS.fields."""
    return (
        o.id,
        o.crossing_id,
        o.date.text,
        o.date.precision,
        o.date.start.isoformat(),
        o.date.end.isoformat(),
        o.kind,
        o.status,
        o.summary,
        o.source_name,
        o.source_url,
        o.source_published.text if o.source_published else None,
        o.source_type,
        o.source_detail,
        o.side,
        int(o.has_own_location),
        o.replaces,
        o.notes,
        timestamp(o.recorded_at),
        o.recorded_by,
        ",".join(o.applies_to) or None,
        o.until.text if o.until else None,
        o.until.end.isoformat() if o.until else None,
        o.structure_id,
        ",".join(o.traffic) or None,
        o.expected.text if o.expected else None,
        o.lifecycle,
        int(o.source_is_mirror),
    )


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
    """Build a record from its row's values (as observation_row gives them)."""
    (oid, crossing_id, text, precision, start, end, kind, status, summary, source_name,
     source_url, published, source_type, source_detail, side, own, replaces, notes,
     recorded_at, recorded_by, applies_to, until, _until_end, structure_id, traffic,
     expected, lifecycle, mirror) = values  # fmt: skip
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
        )
    )
