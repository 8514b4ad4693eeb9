"""Record types of the inventory: crossings, observations, trade figures.

Plain values only: nothing here reads or writes a file. Coordinates are always
``lon, lat`` (x, y) in EPSG:4326, as in GeoJSON and shapely.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from operator import itemgetter
from typing import NamedTuple

__all__ = [
    "APPLIES_TO_ALL",
    "BORDER_WIDE",
    "CROSSING_KINDS",
    "FLOWS",
    "LIFECYCLES",
    "MODES",
    "OBSERVATION_KINDS",
    "OVERVIEW_PAGE",
    "PRECISIONS",
    "QUALIFIERS",
    "RIVERS",
    "SIDES",
    "SOURCE_TYPES",
    "STATUSES",
    "STATUS_COLOURS",
    "STATUS_LABELS",
    "STRUCTURE_KINDS",
    "TRAFFIC",
    "BBox",
    "Crossing",
    "FuzzyDate",
    "LonLat",
    "Observation",
    "Sighting",
    "Structure",
    "TradeFigure",
    "content",
    "differing_fields",
    "identity",
    "in_writing_order",
    "observation_id",
]

#: A crossing's traffic status after a status record, as its source describes it.
STATUSES = ("open", "restricted", "closed", "unknown")
#: What still moves across a crossing, for a restricted (or partly open) status.
TRAFFIC = ("freight_road", "freight_rail", "passenger_road", "passenger_rail", "tourists")
#: Where a structure (a bridge, dam or gate) is in its life, after an infrastructure record.
LIFECYCLES = (
    "planned",
    "under_construction",
    "built_not_opened",
    "in_service",
    "out_of_service",
    "destroyed",
)
#: What a structure is.
STRUCTURE_KINDS = ("road_bridge", "rail_bridge", "road_rail_bridge", "dam", "gate", "ferry")
#: What an observation is about. A ``retraction`` withdraws the record it replaces; a
#: ``plan`` is an announcement of something expected, which never sets a status.
OBSERVATION_KINDS = (
    "status",
    "infrastructure",
    "traffic",
    "trade",
    "context",
    "plan",
    "retraction",
)
#: How the source learned what it reports.
SOURCE_TYPES = (
    "satellite_imagery",
    "ground_observation",
    "news_report",
    "customs_data",
    "official_statement",
    "state_media",
    "secondary",
)
#: Which side of the border a record concerns.
SIDES = ("china", "dprk", "both")
#: How exactly a date is known: ``2025-03`` is a month, not 1 March.
PRECISIONS = ("day", "month", "year")
RIVERS = ("yalu", "tumen", "land")
MODES = ("road", "rail", "road+rail", "unknown")
CROSSING_KINDS = ("official", "local", "former", "unverified")
#: Direction of a trade figure: both ways, China to the DPRK, the DPRK to China.
FLOWS = ("total", "cn_to_kp", "kp_to_cn")
#: How a trade figure was stated by its source ("more than $1 billion").
QUALIFIERS = ("exact", "about", "more_than", "nearly")
#: The crossing id that marks a record about the whole border.
BORDER_WIDE = "border"
#: ``applies_to`` of a border-wide record whose source says it holds for every crossing.
APPLIES_TO_ALL = "all"
#: The overview map's page name; a crossing's page is named by its id, which cannot be this.
OVERVIEW_PAGE = "index"

#: How each status is shown: the map, its legend, KML pins and the QGIS style share these.
#: Marker colour of each status; "" is a crossing no record gives a status for. The
#: lifecycles are those shown for a crossing none of whose structures entered service.
STATUS_COLOURS: dict[str, str] = {
    "open": "#1a9850",
    "restricted": "#f39c12",
    "closed": "#d73027",
    "unknown": "#7f7f7f",
    "planned": "#c2a5cf",
    "under_construction": "#7b3294",
    "built_not_opened": "#4575b4",
    "": "#d9d9d9",
}
STATUS_LABELS: dict[str, str] = {
    "open": "open",
    "restricted": "restricted",
    "closed": "closed",
    "unknown": "unknown",
    "planned": "planned, never built",
    "under_construction": "under construction, never opened",
    "built_not_opened": "built, never opened",
    "": "no record names it",
}


class LonLat(NamedTuple):
    """A WGS84 position, longitude first."""

    lon: float
    lat: float


class BBox(NamedTuple):
    """A geographic box in degrees: west, south, east, north (west <= east)."""

    west: float
    south: float
    east: float
    north: float


@dataclass(frozen=True)
class FuzzyDate:
    """A date known to a day, a month or a year, kept as the text it was given in.

    ``start`` and ``end`` are the first and last day the text can mean, both
    inclusive: ``2025-03`` is 2025-03-01 to 2025-03-31.
    """

    text: str
    precision: str
    start: date
    end: date

    def __str__(self) -> str:
        return self.text

    @cached_property
    def label(self) -> str:
        """The date as a reader expects it, at its precision.

        Examples
        --------
        >>> FuzzyDate("2025-03", "month", date(2025, 3, 1), date(2025, 3, 31)).label
        'Mar 2025'
        """
        if self.precision == "year":
            return f"{self.start.year}"
        if self.precision == "month":
            return self.start.strftime("%b %Y")
        return f"{self.start.day} {self.start.strftime('%b %Y')}"


@dataclass(frozen=True)
class Crossing:
    """A border crossing: one point (where known) and what is known about it."""

    id: str
    name_en: str
    name_zh: str
    name_ko: str
    aliases: tuple[str, ...]
    cn_place: str
    cn_province: str
    kp_place: str
    kp_province: str
    river: str
    mode: str
    mode_detail: str
    kind: str
    location: LonLat | None
    location_precision_m: int | None
    location_note: str
    location_source: str
    location_source_url: str | None
    alt_locations: str
    structure: str
    notes: str

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the crossing is known by, in any script."""
        return (self.id, self.name_en, self.name_zh, self.name_ko, *self.aliases)


class Observation(NamedTuple):
    """What a source saw or reported about a crossing (or the whole border) on a date.

    Records are never edited: a correction or retraction is a new record whose
    ``replaces`` names the one it supersedes. (A named tuple: a store answers
    with many of them, and a tuple is several times quicker to build than a
    frozen dataclass.)
    """

    id: str
    crossing_id: str | None  # None: the record is about the whole border
    date: FuzzyDate
    kind: str
    status: str | None
    summary: str
    source_name: str
    source_url: str | None
    source_published: FuzzyDate | None
    source_type: str
    source_detail: str
    side: str | None
    location: LonLat | None
    has_own_location: bool
    replaces: str | None
    notes: str
    recorded_at: datetime
    recorded_by: str
    # Schema version 3: what a record says beyond its date and status.
    #: For a border-wide record: the crossing ids it sets the status of, or ("all",).
    #: Empty: context only, it sets no crossing's status.
    applies_to: tuple[str, ...] = ()
    #: The last day a temporary event (a closure, an opening) lasted; None: not temporary.
    until: FuzzyDate | None = None
    #: The structure (bridge, dam, gate) of the crossing that the record is about.
    structure_id: str | None = None
    #: What moves, for a status record ("restricted: freight by road only").
    traffic: tuple[str, ...] = ()
    #: For a plan: when the announced event is expected.
    expected: FuzzyDate | None = None
    #: For an infrastructure record about a structure: its lifecycle after the record.
    lifecycle: str | None = None
    #: The source URL is a copy of the original on another site.
    source_is_mirror: bool = False
    # Schema version 4: the source's own words (see geo.schema: fields carried as given).
    #: The words of the source that support the record, verbatim, in its language.
    source_quote: str = ""
    #: The quote in English, where the source is not.
    quote_en: str = ""
    #: The day someone read the quote against the source or a copy (YYYY-MM-DD).
    checked_on: str = ""
    #: An archived copy of the source, where one exists.
    archive_url: str = ""

    def applies_to_crossing(self, crossing_id: str) -> bool:
        """Whether this record names ``crossing_id``: its own, or listed by a border-wide one."""
        if self.crossing_id is not None:
            return self.crossing_id == crossing_id
        return APPLIES_TO_ALL in self.applies_to or crossing_id in self.applies_to


class Sighting(NamedTuple):
    """A record as a list of records near a place shows it: a light record, read in bulk.

    ``crossings around`` prints these as a table; an :class:`Observation` has every field.
    """

    id: str
    crossing_id: str | None  # None: the record is about the whole border
    date_text: str  # as recorded: YYYY, YYYY-MM or YYYY-MM-DD
    date_start: date
    kind: str
    status: str | None
    lifecycle: str | None
    summary: str
    source_name: str
    source_url: str | None
    location: LonLat | None


@dataclass(frozen=True)
class Structure:
    """A bridge, dam or gate of a crossing, with its own point and its own lifecycle.

    The old and the new bridge at Quanhe are two structures of one crossing.
    """

    id: str
    crossing_id: str
    name_en: str
    name_zh: str
    name_ko: str
    kind: str
    location: LonLat | None
    location_precision_m: int | None
    location_source: str
    location_source_url: str | None
    notes: str
    #: Schema version 5: its length in metres (the longest a cited source gives), if known.
    length_m: int | None = None


@dataclass(frozen=True)
class TradeFigure:
    """A China–DPRK trade value for a period, as one source gave it."""

    period: str
    period_kind: str
    period_start: date
    period_end: date
    flow: str
    value_usd: int
    qualifier: str
    source_name: str
    source_url: str | None
    source_published: FuzzyDate | None
    notes: str


def in_writing_order(records: Iterable[Observation]) -> list[Observation]:
    """Return the records in their order, each correction moved after the record it replaces.

    A store refuses a record that replaces one it does not hold yet; a record
    dated to a year may correct one dated to a day of it, and so sort before
    it by date.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> def record(oid, day, replaces=None):
    ...     when = FuzzyDate(day.isoformat(), "day", day, day)
    ...     return Observation(oid, "x", when, "context", None, "", "", None, None, "", "",
    ...                        None, None, False, replaces, "", datetime.now(UTC), "")
    >>> fix = record("b", date(2010, 1, 1), replaces="a")
    >>> [r.id for r in in_writing_order([fix, record("a", date(2010, 6, 30))])]
    ['a', 'b']
    """
    records = list(records)
    by_id = {r.id: r for r in records}
    placed: set[str] = set()
    ordered: list[Observation] = []
    for record in records:
        chain = []
        step: Observation | None = record
        while step is not None and step.id not in placed:  # back to the first not yet placed
            placed.add(step.id)
            chain.append(step)
            step = by_id.get(step.replaces or "")
        ordered += reversed(chain)
    return ordered


def identity(record: Observation) -> tuple[object, ...]:
    """Return what a record's id is derived from: two records alike here share an id."""
    summary = " ".join(record.summary.split()).casefold()
    source = record.source_url or record.source_name.casefold()
    return (record.crossing_id, record.date.text, record.kind, summary, source)


#: Fields that say when and by whom a record was recorded, not what it says.
RECORDING_FIELDS = frozenset({"recorded_at", "recorded_by"})
_SAID = tuple(name for name in Observation._fields if name not in RECORDING_FIELDS)


def _said(record: Observation, name: str) -> object:
    # A store answers a record without a point of its own with its crossing's point.
    if name == "location" and not record.has_own_location:
        return None
    if name == "summary":  # as the id reads it: spacing and case aside
        return " ".join(record.summary.split()).casefold()
    return getattr(record, name)


def content(record: Observation) -> tuple[object, ...]:
    """Return what a record says: every field but when and by whom it was recorded.

    Two records of one id and one content are one record stated twice (a
    duplicate); of one id and two contents, a conflict.
    """
    said = list(_pick_said(record))
    if not record.has_own_location:
        said[_SAID_LOCATION] = None
    said[_SAID_SUMMARY] = " ".join(record.summary.split()).casefold()
    return tuple(said)


# content() picks the fields at once; _said() gives the same values one by one.
_pick_said = itemgetter(*(Observation._fields.index(name) for name in _SAID))
_SAID_LOCATION = _SAID.index("location")
_SAID_SUMMARY = _SAID.index("summary")


def differing_fields(a: Observation, b: Observation) -> list[tuple[str, object, object]]:
    """Return each field in which two records say different things, with both values.

    Examples
    --------
    >>> from datetime import datetime
    >>> day = FuzzyDate("2023-02-01", "day", date(2023, 2, 1), date(2023, 2, 1))
    >>> kept = Observation("o-1", "quanhe-wonjong", day, "status", "open", "Reopened", "KBS",
    ...                    None, None, "news_report", "", None, None, False, None, "",
    ...                    datetime(2026, 1, 1), "ana")
    >>> differing_fields(kept, kept._replace(status="closed", recorded_by="min"))
    [('status', 'open', 'closed')]
    """
    return [
        (name, _said(a, name), _said(b, name)) for name in _SAID if _said(a, name) != _said(b, name)
    ]


def observation_id(
    crossing_id: str | None,
    date_text: str,
    kind: str,
    summary: str,
    source_url: str | None,
    source_name: str,
) -> str:
    """Return the stable id of an observation, derived from what it says.

    The same crossing, date, kind, summary and source always give the same id,
    so adding a record twice is caught as a duplicate.

    Examples
    --------
    >>> observation_id("quanhe-wonjong", "2023-07", "traffic", "Trucks  queued",
    ...                "https://example.org/a", "AsiaPress")
    'o-4771ba71e8'
    >>> observation_id("quanhe-wonjong", "2023-07", "traffic", "trucks queued",
    ...                "https://example.org/a", "AsiaPress")
    'o-4771ba71e8'
    """
    text = " ".join(summary.split()).casefold()
    source = source_url or source_name.casefold()
    key = "\x1f".join([crossing_id or BORDER_WIDE, date_text, kind, text, source])
    return "o-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]
