"""Change feeds of the inventory: Atom (RFC 4287) and JSON Feed 1.1, of the border or a crossing.

A feed has an entry per record added and an entry per change of a crossing's
status, newest first, at most :data:`FEED_LIMIT` of them. A record's entry says
what it is, which crossing, its source with a link, and the source's words; a
change's entry says the status before and after, from which day, and the record
it rests on (its evidence), with that record's source and words. The changes
are those of the store's status periods (:mod:`geo.store.periods`): the answers
of ``crossings status`` on every day, so a feed never disagrees with a map.

Entry ids are name-based UUIDs (``urn:uuid:``, RFC 4122) of what the entry is
about: a record's id, or a crossing, a day and a status. They stay the same
whatever the feed's address, in the border's feed and in a crossing's, so a
reader that follows both sees each entry once. The XML is written by
:mod:`xml.etree.ElementTree` and the JSON by :func:`json.dumps`: no text is glued
into either.
"""

from __future__ import annotations

import heapq
import json
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urljoin, urlsplit

from geo.answers import quote_lines, source_label
from geo.errors import RecordValidationError
from geo.fields import check_url, resolve_crossing_id
from geo.inventory import reading
from geo.model import OVERVIEW_PAGE, STATUSES
from geo.outputs import check_target, page_name, written_beside
from geo.status import describe_status
from geo.store.digest import newest

if TYPE_CHECKING:
    from geo.model import Crossing, Observation
    from geo.store import Store
    from geo.store.periods import StatusPeriod

__all__ = [
    "FEED_LIMIT",
    "Feed",
    "FeedEntry",
    "FeedSite",
    "atom_feed",
    "feed_base_url",
    "feed_files",
    "json_feed",
    "read_feed",
    "write_feeds",
]

#: How many entries a feed holds at most: the newest.
FEED_LIMIT = 100
#: The most a caller may ask for.
FEED_LIMIT_MAX = 1000
#: The feeds' title, and the author every feed names.
FEED_TITLE = "China–North Korea border crossings"
FEED_AUTHOR = "The Crossings inventory"
ATOM_NS = "http://www.w3.org/2005/Atom"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
ATOM_TYPE = "application/atom+xml"
JSON_FEED_TYPE = "application/feed+json"
#: The namespace of the entries' name-based UUIDs: never change it, or every id changes.
ENTRY_NAMESPACE = uuid.UUID("73d0cdb8-c66b-4a38-b085-f0b5308f6df6")
#: The file name of the whole border's feeds, beside ``index.html``.
BORDER_FEED = "feed"
#: Feed formats, by the suffix of their files.
FEED_SUFFIXES = {"atom": "atom", "json": "json"}

# What XML 1.0 cannot carry, even escaped: most control characters, lone surrogates, U+FFFE/F.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _page_path(crossing_id: str | None) -> str:
    """Return the page ``crossings map`` writes for a crossing (None: the overview)."""
    return f"{OVERVIEW_PAGE}.html" if crossing_id is None else page_name(crossing_id)


def _feed_path(crossing_id: str | None, feed_format: str) -> str:
    """Return the file of a feed beside the pages: ``feed.atom``, ``<id>.feed.json``."""
    stem = BORDER_FEED if crossing_id is None else page_name(crossing_id).removesuffix(".html")
    middle = "" if crossing_id is None else f".{BORDER_FEED}"
    return f"{stem}{middle}.{FEED_SUFFIXES[feed_format]}"


class FeedSite(NamedTuple):
    """Where a feed's links point: the site's address, and the path of each page and feed.

    The paths default to the files ``crossings map`` writes; a server gives its own.
    """

    base_url: str
    page_path: Callable[[str | None], str] = _page_path
    feed_path: Callable[[str | None, str], str] = _feed_path

    def page(self, crossing_id: str | None) -> str:
        """Return the address of a crossing's page (None: the overview)."""
        return urljoin(self.base_url, self.page_path(crossing_id))

    def feed(self, crossing_id: str | None, feed_format: str) -> str:
        """Return the address of a feed (``atom`` or ``json``) of a crossing or of the border."""
        return urljoin(self.base_url, self.feed_path(crossing_id, feed_format))


def feed_base_url(value: str, *, field: str = "--base-url") -> str:
    """Return the address the feeds are published at, ending in ``/``.

    Raises
    ------
    RecordValidationError
        If it is not an http(s) address with a host, or has a query or fragment.

    Examples
    --------
    >>> feed_base_url("https://example.org/border")
    'https://example.org/border/'
    >>> feed_base_url("maps/")
    Traceback (most recent call last):
    ...
    geo.errors.RecordValidationError: --base-url: 'maps/' is not a web address...
    """
    check_url(field, value)
    parts = urlsplit(value)
    if parts.query or parts.fragment:
        raise RecordValidationError(
            field,
            value,
            "has a query or a fragment",
            "the address of the folder the maps are published in",
            "give it without ? or #, e.g. https://example.org/border/",
        )
    return value if value.endswith("/") else value + "/"


class FeedEntry(NamedTuple):
    """One entry of a feed: a record added, or a change of a crossing's status.

    ``day`` is the day it counts from (a record dated to a month counts from its
    last day, as in the status rule); ``details`` are plain values for JSON.
    """

    id: str
    kind: str  # "record" or "status_change"
    day: date
    order: str
    title: str
    summary: str
    content: str
    updated: datetime
    crossing_id: str | None
    source_name: str | None
    source_url: str | None
    categories: tuple[str, ...]
    details: dict[str, object]


@dataclass(frozen=True)
class Feed:
    """A feed's scope (a crossing, or None: the whole border), title and entries, newest first."""

    crossing: Crossing | None
    title: str
    entries: list[FeedEntry] = field(default_factory=list)

    @property
    def updated(self) -> datetime:
        """The latest ``updated`` of its entries (now, for a feed without any)."""
        return max((e.updated for e in self.entries), default=datetime.now(UTC))


def _uuid(name: str) -> str:
    return uuid.uuid5(ENTRY_NAMESPACE, name).urn


def _moment(value: datetime) -> datetime:
    """Return a moment in UTC (a stored moment without a zone is UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _record_key(record: Observation) -> tuple[date, date, str]:
    return (record.date.end, record.date.start, record.id)


def _where(crossing_id: str | None, crossings: Mapping[str, Crossing]) -> str:
    if crossing_id is None:
        return "The whole border"
    crossing = crossings.get(crossing_id)
    return crossing.name_en if crossing else crossing_id


def _what(record: Observation) -> str:
    """Say what a record is: its kind and what it says of a status or a structure."""
    said = [f"{record.kind} record"]
    if record.status:
        lifecycle = record.status not in STATUSES  # "built, never opened" as a status
        said.append(describe_status(record.status, record.traffic, is_lifecycle=lifecycle))
    if record.lifecycle:
        said.append(describe_status(record.lifecycle, is_lifecycle=True))
    if record.expected:
        said.append(f"expected {record.expected.text}")
    if record.until:
        said.append(f"until {record.until.text}")
    if record.replaces:
        said.append(f"replaces {record.replaces}")
    return said[0] + (f" ({'; '.join(said[1:])})" if len(said) > 1 else "")


def _source_lines(record: Observation) -> list[str]:
    link = f" <{record.source_url}>" if record.source_url else ""
    return [f"source: {source_label(record)}{link}", *quote_lines(record)]


def _words(record: Observation | None) -> dict[str, object]:
    """Return a record's source and words as plain values (all None without a record)."""
    return {
        "record": record.id if record else None,
        "record_date": record.date.text if record else None,
        "source_name": record.source_name if record else None,
        "source_url": record.source_url if record else None,
        "quote": (record.source_quote or None) if record else None,
        "quote_en": (record.quote_en or None) if record else None,
    }


def record_entry(record: Observation, crossings: Mapping[str, Crossing]) -> FeedEntry:
    """Return the entry of a record added to the inventory."""
    where = _where(record.crossing_id, crossings)
    what = _what(record)
    lines = [f"{what[0].upper()}{what[1:]}, dated {record.date.text}: {where}.", record.summary]
    lines += [*_source_lines(record), f"record: {record.id}"]
    details = {
        "type": "record",
        "crossing_id": record.crossing_id,
        "day": record.date.end.isoformat(),
        "kind": record.kind,
        "status": record.status,
        "traffic": list(record.traffic),
        "lifecycle": record.lifecycle,
        "replaces": record.replaces,
        **_words(record),
    }
    return FeedEntry(
        id=_uuid(f"record/{record.id}"),
        kind="record",
        day=record.date.end,
        order=record.id,
        title=f"{where}: {record.summary}",
        summary=f"{what}, {record.date.text}: {record.summary}",
        content="\n".join(lines),
        updated=_moment(record.recorded_at),
        crossing_id=record.crossing_id,
        source_name=record.source_name,
        source_url=record.source_url,
        categories=tuple(c for c in (record.kind, record.crossing_id) if c),
        details=details,
    )


def change_entry(
    period: StatusPeriod,
    before: str,
    evidence: Observation | None,
    crossings: Mapping[str, Crossing],
) -> FeedEntry:
    """Return the entry of a crossing's status changing, with the record it rests on."""
    where = _where(period.crossing_id, crossings)
    after = period.status_text
    day = period.start.isoformat()
    lines = [f"From {day}, the status of {where} is {after} (before: {before})."]
    if evidence is not None:
        lines.append(f"evidence: record {evidence.id} of {evidence.date.text}: {evidence.summary}")
        lines += _source_lines(evidence)
    else:
        lines.append("evidence: none (a temporary record ended)")
    details = {
        "type": "status_change",
        "crossing_id": period.crossing_id,
        "day": day,
        "from": before,
        "to": after,
        "status": period.status,
        **_words(evidence),
    }
    return FeedEntry(
        id=_uuid(f"status-change/{period.crossing_id}/{day}/{after}"),
        kind="status_change",
        day=period.start,
        order=period.crossing_id,
        title=f"{where}: {before} → {after}",
        summary=f"{where}: {before} → {after}, from {day}",
        content="\n".join(lines),
        updated=(
            _moment(evidence.recorded_at)
            if evidence is not None
            else datetime.combine(period.start, time(), UTC)
        ),
        crossing_id=period.crossing_id,
        source_name=evidence.source_name if evidence else None,
        source_url=evidence.source_url if evidence else None,
        categories=("status_change", period.crossing_id),
        details=details,
    )


def _newest_records(opened: Store, crossing_id: str | None, limit: int) -> list[Observation]:
    """Return the ``limit`` newest records of the border, or those that name a crossing.

    A crossing's are its own records and the border-wide ones that set its status.
    """
    # Each crossing's newest and the border's, through the index of crossings and dates: the
    # cost follows the limit, not the store.
    border = newest(opened, None, limit)
    if crossing_id is None:
        parts = [newest(opened, other, limit) for other in opened.crossings()]
        found = [o for part in parts for o in part] + border
    else:
        mine = newest(opened, crossing_id, limit)
        found = mine + [o for o in border if o.applies_to_crossing(crossing_id)]
    return heapq.nlargest(limit, found, key=_record_key)


def _newest_changes(
    opened: Store, crossing_id: str | None, limit: int
) -> list[tuple[StatusPeriod, str]]:
    """Return the ``limit`` newest status changes, each with the status before it.

    A change is a period whose status differs from the period before it (the
    store's periods also begin where only the evidence changes).
    """
    changes: list[tuple[StatusPeriod, str]] = []
    previous: StatusPeriod | None = None
    for period in opened.status_periods(crossing_id):
        same_crossing = previous is not None and previous.crossing_id == period.crossing_id
        before = previous.status_text if same_crossing and previous else describe_status(None)
        if not same_crossing or before != period.status_text:
            changes.append((period, before))
        previous = period
    return heapq.nlargest(limit, changes, key=lambda c: (c[0].start, c[0].crossing_id))


def _checked_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= FEED_LIMIT_MAX:
        raise RecordValidationError(
            "limit",
            limit,
            "is not a number of entries",
            f"a whole number from 1 to {FEED_LIMIT_MAX}",
            f"give e.g. {FEED_LIMIT}",
        )
    return limit


def read_feed(
    store: str | Path | Store, crossing_id: str | None = None, *, limit: int = FEED_LIMIT
) -> Feed:
    """Return the newest ``limit`` entries of the border's feed, or of a crossing's.

    Raises
    ------
    UnknownCrossingError
        If ``crossing_id`` is not a crossing's id.
    RecordValidationError
        If ``limit`` is not from 1 to :data:`FEED_LIMIT_MAX`.
    """
    limit = _checked_limit(limit)
    with reading(store) as opened:
        crossings = opened.crossings()
        crossing = None
        if crossing_id is not None:
            found = resolve_crossing_id(crossing_id, crossings, field="crossing_id", partial=True)
            crossing = crossings[found] if found is not None else None
        scope = crossing.id if crossing else None
        records = _newest_records(opened, scope, limit)
        changes = _newest_changes(opened, scope, limit)
        wanted = [p.evidence_id for p, _ in changes if p.evidence_id]
        evidence = {o.id: o for o in opened.observations_by_id(wanted)} if wanted else {}
    entries = [record_entry(r, crossings) for r in records]
    entries += [
        change_entry(p, b, evidence.get(p.evidence_id or ""), crossings) for p, b in changes
    ]
    entries.sort(key=lambda e: (e.day, e.kind == "status_change", e.order), reverse=True)
    title = FEED_TITLE if crossing is None else f"{crossing.name_en} – {FEED_TITLE}"
    return Feed(crossing, title, entries[:limit])


def _site(base_url: str | FeedSite) -> FeedSite:
    return base_url if isinstance(base_url, FeedSite) else FeedSite(feed_base_url(base_url))


def _xml_text(text: str) -> str:
    """Return text XML 1.0 can carry: a character it cannot is replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def _atom_time(moment: datetime) -> str:
    return _moment(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _xml_text(v) for k, v in attributes.items()})
    if text is not None:
        element.text = _xml_text(text)
    return element


def _atom_entry(parent: ET.Element, entry: FeedEntry, site: FeedSite) -> None:
    element = _add(parent, "entry")
    _add(element, "id", entry.id)
    _add(element, "title", entry.title, type="text")
    _add(element, "updated", _atom_time(entry.updated))
    _add(element, "link", rel="alternate", type="text/html", href=site.page(entry.crossing_id))
    if entry.source_url:
        _add(element, "link", rel="related", href=entry.source_url, title=entry.source_name or "")
    for term in entry.categories:
        _add(element, "category", term=term)
    _add(element, "summary", entry.summary, type="text")
    _add(element, "content", entry.content, type="text")


def atom_bytes(feed: Feed, site: FeedSite) -> bytes:
    """Return a feed as an Atom document (RFC 4287), UTF-8."""
    scope = feed.crossing.id if feed.crossing else None
    # The Atom namespace as the default: its elements unprefixed, attributes in none.
    root = ET.Element("feed", {"xmlns": ATOM_NS, "xml:lang": "en"})
    _add(root, "id", _uuid(f"feed/{site.feed(scope, 'atom')}"))
    _add(root, "title", feed.title, type="text")
    _add(root, "subtitle", "Records added and status changes, newest first", type="text")
    _add(root, "updated", _atom_time(feed.updated))
    author = _add(root, "author")
    _add(author, "name", FEED_AUTHOR)
    _add(root, "link", rel="self", type=ATOM_TYPE, href=site.feed(scope, "atom"))
    _add(root, "link", rel="alternate", type="text/html", href=site.page(scope))
    _add(root, "link", rel="alternate", type=JSON_FEED_TYPE, href=site.feed(scope, "json"))
    _add(root, "generator", "crossings")
    for entry in feed.entries:
        _atom_entry(root, entry, site)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def json_bytes(feed: Feed, site: FeedSite) -> bytes:
    """Return a feed as a JSON Feed 1.1 document, UTF-8."""
    scope = feed.crossing.id if feed.crossing else None
    items = []
    for entry in feed.entries:
        item: dict[str, object] = {
            "id": entry.id,
            "url": site.page(entry.crossing_id),
            "title": entry.title,
            "content_text": entry.content,
            "summary": entry.summary,
            "date_published": _atom_time(entry.updated),
            "tags": list(entry.categories),
        }
        if entry.source_url:
            item["external_url"] = entry.source_url
        item["_crossings"] = entry.details
        items.append(item)
    document = {
        "version": JSON_FEED_VERSION,
        "title": feed.title,
        "home_page_url": site.page(scope),
        "feed_url": site.feed(scope, "json"),
        "description": "Records added and status changes, newest first",
        "language": "en",
        "authors": [{"name": FEED_AUTHOR}],
        "items": items,
    }
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    return text.encode("utf-8", errors="replace")


def atom_feed(
    store: str | Path | Store,
    crossing_id: str | None = None,
    *,
    base_url: str | FeedSite,
    limit: int = FEED_LIMIT,
) -> bytes:
    """Return the Atom feed of the border (or of a crossing): UTF-8 XML.

    ``base_url`` is the address the pages and feeds are published at (or a
    :class:`FeedSite` that says where each is).

    Raises
    ------
    UnknownCrossingError
        If ``crossing_id`` is not a crossing's id.
    RecordValidationError
        If ``base_url`` is not a web address, or ``limit`` is out of range.
    """
    site = _site(base_url)
    return atom_bytes(read_feed(store, crossing_id, limit=limit), site)


def json_feed(
    store: str | Path | Store,
    crossing_id: str | None = None,
    *,
    base_url: str | FeedSite,
    limit: int = FEED_LIMIT,
) -> bytes:
    """Return the JSON Feed 1.1 of the border (or of a crossing): UTF-8 JSON.

    Raises
    ------
    UnknownCrossingError
        If ``crossing_id`` is not a crossing's id.
    RecordValidationError
        If ``base_url`` is not a web address, or ``limit`` is out of range.
    """
    site = _site(base_url)
    return json_bytes(read_feed(store, crossing_id, limit=limit), site)


def feed_files(folder: Path, crossing_ids: Sequence[str]) -> dict[tuple[str | None, str], Path]:
    """Return the files of the feeds beside the pages: by (crossing id or None, format).

    ``feed.atom`` and ``feed.json`` for the border, ``<id>.feed.atom`` and
    ``<id>.feed.json`` for each crossing.

    Raises
    ------
    RecordValidationError
        If a crossing id cannot name a file (it is not a slug).
    """
    scopes: list[str | None] = [None, *crossing_ids]
    return {
        (scope, fmt): folder / _feed_path(scope, fmt) for scope in scopes for fmt in FEED_SUFFIXES
    }


def write_feeds(
    store: str | Path | Store,
    out_dir: str | Path,
    base_url: str,
    *,
    limit: int = FEED_LIMIT,
    force: bool = False,
) -> dict[tuple[str | None, str], Path]:
    """Write the border's feeds and each crossing's beside the maps; return the files written.

    The files are keyed as :func:`feed_files` keys them: (crossing id or None, format).

    Every file is checked before any is written, and each is written beside its
    target and renamed into place (:func:`geo.outputs.written_beside`).

    Raises
    ------
    RecordValidationError
        If ``base_url`` is not a web address, or a file exists and ``force`` is false.
    """
    site = _site(base_url)
    folder = Path(out_dir)
    reads = [] if not isinstance(store, str | Path) else [store]
    with reading(store) as opened:
        targets = feed_files(folder, list(opened.crossings()))
        for target in targets.values():
            check_target(target, force=force, reads=reads)
        for scope in dict.fromkeys(scope for scope, _ in targets):
            feed = read_feed(opened, scope, limit=limit)
            for fmt, serialise in (("atom", atom_bytes), ("json", json_bytes)):
                with written_beside(targets[scope, fmt], force=force, reads=reads) as building:
                    building.write_bytes(serialise(feed, site))
    return targets
