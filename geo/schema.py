"""Each layer's fields, declared once: name, type, meaning, vocabulary, limit, version.

Everything that maps fields reads these declarations: the tables of both
backends and their row codecs (:mod:`geo.store.schema`), the migrations, the
text limits that validation applies, the columns of every file, the options
of ``observe``, the map's records and QGIS's field aliases. A field that a
record carries as given (``carried``: no rule but its limit, and one of the
kinds in ``Field.rule``) needs nothing beyond its line here, its attribute on
the record type, and its migration.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    STATUS_COLOURS,
    STATUSES,
    STRUCTURE_KINDS,
)

__all__ = [
    "CARRIED_FIELDS",
    "CROSSINGS",
    "INDEXES",
    "LASTING",
    "LAYERS",
    "LAYER_STYLES",
    "META",
    "MULTILINE_FIELDS",
    "OBSERVATIONS",
    "SCHEMA_VERSION",
    "STATUS_PERIODS",
    "STRUCTURES",
    "TEXT_LIMITS",
    "TEXT_LIMIT_DEFAULT",
    "TRADE",
    "Field",
    "Layer",
]

#: Version of the layers' schema that this release writes and reads.
SCHEMA_VERSION = 7

#: The longest text a field holds unless its declaration says otherwise, in characters.
TEXT_LIMIT_DEFAULT = 200


@dataclass(frozen=True)
class Field:
    """One stored column: its name, type, meaning, allowed values and the version that added it.

    Types: ``str``, ``int``, ``int64``, ``bool``, ``date`` (ISO day),
    ``datetime`` (ISO UTC, milliseconds, ``Z``). ``limit`` is the longest text
    it holds (characters); ``multiline`` lets it hold newlines and tabs. A
    ``carried`` field is a text the record carries as given, checked by its
    limit and its ``rule`` (``"text"``, ``"url"``: an http(s) address,
    ``"day"``: YYYY-MM-DD, not after today), stored, exported, imported and
    offered as an option of ``observe`` with no code of its own.
    """

    name: str
    type: str
    description: str
    vocabulary: tuple[str, ...] = ()
    required: bool = False
    since: int = 1
    limit: int = TEXT_LIMIT_DEFAULT
    multiline: bool = False
    carried: bool = False
    rule: str = "text"


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
    Field("source_name", "str", "Source: who said it", required=True, limit=300),
    Field("source_url", "str", "Source: link (http or https)", limit=2_000),
    Field("source_published", "str", "Source: when it was published (YYYY, YYYY-MM, YYYY-MM-DD)"),
)

CROSSINGS = Layer(
    "crossings",
    True,
    "China–DPRK border crossings, one point each",
    (
        Field("id", "str", "Crossing id (a slug)", required=True, limit=64),
        Field("name_en", "str", "Name in English", required=True),
        Field("name_zh", "str", "Name in Chinese"),
        Field("name_ko", "str", "Name in Korean"),
        Field("aliases", "str", "Other names, separated by '; '", limit=1_000),
        Field("cn_place", "str", "China-side place"),
        Field("cn_province", "str", "China-side province"),
        Field("kp_place", "str", "DPRK-side place"),
        Field("kp_province", "str", "DPRK-side province"),
        Field("river", "str", "River", RIVERS, required=True),
        Field("mode", "str", "Mode of crossing", MODES, required=True),
        Field("mode_detail", "str", "Mode, in words", limit=500),
        Field("kind", "str", "Kind of crossing", CROSSING_KINDS, required=True),
        Field("location_precision_m", "int", "How precise the point is (metres)"),
        Field("location_note", "str", "What the point marks", limit=1_000, multiline=True),
        Field("location_source", "str", "Source of the point", limit=300),
        Field("location_source_url", "str", "Source of the point: link", limit=2_000),
        Field(
            "alt_locations",
            "str",
            "Other points given for it, and by whom",
            limit=2_000,
            multiline=True,
        ),
        Field("structure", "str", "The structures, in words", limit=500),
        Field("notes", "str", "Notes", limit=10_000, multiline=True),
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
        Field("id", "str", "Record id (derived from what it says)", required=True, limit=64),
        Field("crossing_id", "str", "Crossing (empty: the whole border)", limit=64),
        Field("date", "str", "Date it describes (YYYY, YYYY-MM or YYYY-MM-DD)", required=True),
        Field("date_precision", "str", "Precision of the date", PRECISIONS, required=True),
        Field("date_start", "date", "First day the date can mean", required=True),
        Field("date_end", "date", "Last day the date can mean", required=True),
        Field("kind", "str", "Kind of record", OBSERVATION_KINDS, required=True),
        Field("status", "str", "Status after it (status records)", STATUSES),
        Field(
            "summary",
            "str",
            "What was seen or reported",
            required=True,
            limit=2_000,
            multiline=True,
        ),
        *_SOURCE,
        Field("source_type", "str", "Type of source", SOURCE_TYPES, required=True),
        Field(
            "source_detail",
            "str",
            "Source: detail (why no link, which page)",
            limit=2_000,
            multiline=True,
        ),
        Field("side", "str", "Side it concerns", SIDES),
        Field("has_own_location", "bool", "Has a point of its own (else its crossing's)"),
        Field("replaces", "str", "Id of the record it corrects or withdraws", limit=64),
        Field("notes", "str", "Notes", limit=10_000, multiline=True),
        Field("recorded_at", "datetime", "When it was recorded (UTC)", required=True),
        Field("recorded_by", "str", "Who recorded it"),
        Field(
            "applies_to",
            "str",
            "Border-wide: crossings it sets the status of",
            since=3,
            limit=2_000,
        ),
        Field("until", "str", "Last day a temporary event lasted", since=3),
        Field("until_end", "date", "Last day that until can mean", since=3),
        Field("structure_id", "str", "Structure it is about", since=3, limit=64),
        Field("traffic", "str", "What still moves (comma-separated)", since=3),
        Field("expected", "str", "Plans: when the event is expected", since=3),
        Field("lifecycle", "str", "Lifecycle of the structure after it", LIFECYCLES, since=3),
        Field("source_is_mirror", "bool", "The link is a copy on another site", since=3),
        # Schema version 4: the source's own words, so a reader can check the record.
        Field(
            "source_quote",
            "str",
            "Source: its words that support the record, verbatim",
            since=4,
            carried=True,
            limit=600,
            multiline=True,
        ),
        Field(
            "quote_en",
            "str",
            "Source: the quote in English, where the source is not",
            since=4,
            carried=True,
            limit=1_200,
            multiline=True,
        ),
        Field(
            "checked_on",
            "str",
            "Source: day the quote was read against the source or a copy",
            since=4,
            carried=True,
            rule="day",
            limit=10,
        ),
        Field(
            "archive_url",
            "str",
            "Source: a copy its words were read in (an archive, another site)",
            since=4,
            carried=True,
            rule="url",
            limit=2_000,
        ),
    ),
)

STRUCTURES = Layer(
    "structures",
    True,
    "Bridges, dams and gates of the crossings, one point each",
    (
        Field("id", "str", "Structure id (a slug)", required=True, limit=64),
        Field("crossing_id", "str", "Crossing it belongs to", required=True, limit=64),
        Field("name_en", "str", "Name in English", required=True),
        Field("name_zh", "str", "Name in Chinese"),
        Field("name_ko", "str", "Name in Korean"),
        Field("kind", "str", "Kind of structure", STRUCTURE_KINDS, required=True),
        Field("location_precision_m", "int", "How precise the point is (metres)"),
        Field("location_source", "str", "Source of the point", limit=300),
        Field("location_source_url", "str", "Source of the point: link", limit=2_000),
        Field("notes", "str", "Notes", limit=10_000, multiline=True),
        # Schema version 5: how far a bridge's point may lie from the boundary it crosses.
        Field("length_m", "int", "Length in metres (the longest a cited source gives)", since=5),
    ),
)

#: Schema version 6: each crossing's status over time, derived from the records by the status
#: rule (geo.status) and rewritten, for the crossings a write touches, in the same transaction
#: as the records. A period runs from ``start`` up to the day before ``end``: ``end`` is the
#: first day of the next period (the day the status, its wording or its evidence changes), and
#: empty for the period that lasts. QGIS's temporal controller plays it (geo.qgis).
STATUS_PERIODS = Layer(
    "status_periods",
    True,
    "Each crossing's status over time, one row per period (derived from the records)",
    (
        Field("crossing_id", "str", "Crossing", required=True, since=6, limit=64),
        Field("name_en", "str", "Crossing's name in English", since=6),
        Field("start", "date", "First day of the period", required=True, since=6),
        Field(
            "end",
            "date",
            "First day after the period: the next one's start (empty: it lasts)",
            since=6,
        ),
        Field(
            "status",
            "str",
            "Status in the period (a lifecycle where no structure ever entered service)",
            tuple(key for key in STATUS_COLOURS if key),
            since=6,
        ),
        Field("status_text", "str", "The status as a reader says it", since=6),
        Field("evidence_id", "str", "Record the status is best checked on", since=6, limit=64),
        Field("evidence_date", "str", "Its date (YYYY, YYYY-MM or YYYY-MM-DD)", since=6),
        Field(
            "source_quote",
            "str",
            "Its source's words, verbatim",
            since=6,
            limit=600,
            multiline=True,
        ),
        Field(
            "quote_en",
            "str",
            "Its source's words in English",
            since=6,
            limit=1_200,
            multiline=True,
        ),
        Field("source_url", "str", "Its source's link", since=6, limit=2_000),
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
        Field("notes", "str", "Notes", limit=10_000, multiline=True),
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
    "QGIS styles: each layer's default style",
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
    # A crossing's status periods, in time: the period in force on a day, those after it.
    ('CREATE INDEX status_periods_crossing ON status_periods (crossing_id, "start")', 6),
)


#: Every layer a store holds.
LAYERS = (CROSSINGS, OBSERVATIONS, STRUCTURES, STATUS_PERIODS, TRADE, META, LAYER_STYLES)

#: The observation fields a record carries as given (see :class:`Field`), in their order.
CARRIED_FIELDS = tuple(f for f in OBSERVATIONS.fields if f.carried)

#: The longest text each field holds, in characters (a field of several layers has one limit).
TEXT_LIMITS = {
    f.name: f.limit for layer in LAYERS for f in layer.fields if f.limit != TEXT_LIMIT_DEFAULT
}
#: Fields whose text may run over several lines: only these may hold a newline or a tab.
MULTILINE_FIELDS = frozenset(f.name for layer in LAYERS for f in layer.fields if f.multiline)
