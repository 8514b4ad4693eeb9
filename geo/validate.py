"""Record rules: turn one row of fields (CLI options, a CSV row, GeoJSON properties) into a record.

Pure functions: they check each field by its rule (:mod:`geo.fields`), then what
the fields of one record say together (a status only on a status record, a
point near its crossing) and what the record says of the inventory (a
structure of its crossing). They return records or raise
:class:`~geo.errors.RecordValidationError`, naming the field, the value, what
is allowed and the fix. Nothing here touches a file.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple
from urllib.parse import urlsplit

from geo.errors import RecordValidationError, UnknownCrossingError
from geo.fields import (
    MAX_DISTANCE_FROM_CROSSING_M,
    ascii_digits,
    border_region,
    check_url,
    clean_text,
    geodesic_distance_m,
    is_slug,
    parse_choice,
    parse_flag,
    parse_fuzzy_date,
    parse_lat_lon,
    parse_length_m,
    parse_trade_period,
    resolve_crossing_id,
    surely_within_m,
)
from geo.model import (
    APPLIES_TO_ALL,
    BORDER_WIDE,
    CROSSING_KINDS,
    FLOWS,
    LIFECYCLES,
    MODES,
    OBSERVATION_KINDS,
    OVERVIEW_PAGE,
    QUALIFIERS,
    RIVERS,
    SIDES,
    SOURCE_TYPES,
    STATUSES,
    STRUCTURE_KINDS,
    TRAFFIC,
    Crossing,
    FuzzyDate,
    LonLat,
    Observation,
    Structure,
    TradeFigure,
    observation_id,
)
from geo.schema import CARRIED_FIELDS, TEXT_LIMITS, Field

__all__ = [
    "parse_crossing",
    "parse_observation",
    "parse_structure",
    "parse_trade_figure",
]

#: A day, for the checks of times that may not lie in the future.
DAY = timedelta(days=1)


def _text(raw: Mapping[str, object], field: str) -> str:
    return clean_text(raw.get(field), field)


def _not_for_kind(
    field: str, text: str, kind: str, allowed: str, fix: str
) -> RecordValidationError:
    """Return the error for a field that a record of this kind does not have."""
    return RecordValidationError(
        field, text, f"is given for a record of kind {kind!r}", allowed, fix
    )


#: The statuses of schema version 2, which any kind of record could carry.
_STATUSES_2 = (*STATUSES, "under_construction", "built_not_opened")


def _status(kind: str, text: str, *, as_recorded: bool = False) -> str | None:
    """Check the status: a status record's, or the one a plan announces; no other has one."""
    if not text:
        if kind == "status":
            raise RecordValidationError(
                "status",
                text,
                "is missing for a status record",
                ", ".join(STATUSES),
                "give the crossing's status after this record, e.g. --status open",
            )
        return None
    if as_recorded:
        return parse_choice("status", text, _STATUSES_2)
    if kind not in ("status", "plan"):
        raise _not_for_kind(
            "status",
            text,
            kind,
            "a status only on status records and plans",
            "leave the status out (only status records set a crossing's status), or use "
            "--kind status if the source says what may cross now",
        )
    key = text.strip().lower().replace(" ", "_").replace("-", "_")
    if key in LIFECYCLES:
        raise RecordValidationError(
            "status",
            text,
            "is a structure's lifecycle, not a traffic status",
            ", ".join(STATUSES),
            f"record it as --kind infrastructure --structure ID --lifecycle {key}",
        )
    return parse_choice("status", text, STATUSES)


def _structure(
    text: str, crossing_id: str | None, structures: Mapping[str, Structure] | None
) -> str | None:
    if not text:
        return None
    found = (structures or {}).get(text.strip())
    if found is None:
        close = difflib.get_close_matches(text.strip(), list(structures or {}), n=3, cutoff=0.4)
        raise RecordValidationError(
            "structure_id",
            text,
            "is not a structure in the inventory",
            "a structure id from `crossings structures`",
            f"did you mean {' or '.join(close)}?" if close else "run `crossings structures`",
        )
    if found.crossing_id != crossing_id:
        raise RecordValidationError(
            "structure_id",
            text,
            f"is a structure of {found.crossing_id}, not of {crossing_id or BORDER_WIDE}",
            "a structure of the record's crossing",
            f"give crossing {found.crossing_id}, or another structure",
        )
    return found.id


def _lifecycle(kind: str, text: str, structure_id: str | None) -> str | None:
    if not text:
        return None
    if kind not in ("infrastructure", "plan"):
        raise _not_for_kind(
            "lifecycle",
            text,
            kind,
            "a lifecycle only on infrastructure records and plans",
            "use --kind infrastructure with --structure ID",
        )
    if structure_id is None:
        raise RecordValidationError(
            "lifecycle",
            text,
            "is given without a structure",
            "a lifecycle of the structure the record names",
            "name the bridge, dam or gate with --structure ID (see `crossings structures`)",
        )
    return parse_choice("lifecycle", text, LIFECYCLES)


def _applies_to(
    text: str, crossing_id: str | None, crossings: Mapping[str, Crossing]
) -> tuple[str, ...]:
    if not text:
        return ()
    if crossing_id is not None:
        raise RecordValidationError(
            "applies_to",
            text,
            f"is given for a record of {crossing_id}",
            f"applies_to only on records of the whole border ({BORDER_WIDE!r})",
            "leave it out: a crossing's own record applies to that crossing",
        )
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if parts == [APPLIES_TO_ALL]:
        return (APPLIES_TO_ALL,)
    ids = []
    for part in parts:
        if part in (APPLIES_TO_ALL, BORDER_WIDE):
            raise RecordValidationError(
                "applies_to",
                text,
                f"mixes {part!r} with crossing ids",
                f"{APPLIES_TO_ALL!r} alone, or crossing ids separated by commas",
                f"write --applies-to {APPLIES_TO_ALL} or --applies-to ID,ID",
            )
        try:
            found = resolve_crossing_id(part, crossings, field="applies_to")
        except UnknownCrossingError as err:
            raise UnknownCrossingError(
                "applies_to",
                part,
                err.problem,
                f"{APPLIES_TO_ALL!r}, or crossing ids from `crossings list` separated by commas",
                err.fix,
            ) from err
        ids.append(str(found))
    return tuple(dict.fromkeys(ids))


def _traffic(text: str, kind: str, status: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    if kind not in ("status", "plan") or status not in ("open", "restricted"):
        raise RecordValidationError(
            "traffic",
            text,
            f"is given for a record of kind {kind!r} with status {status!r}",
            "what still moves, on a status record (or plan) that is open or restricted",
            "leave it out, or give --status restricted",
        )
    return tuple(
        dict.fromkeys(
            parse_choice("traffic", part, TRAFFIC) for part in text.split(",") if part.strip()
        )
    )


def _until(text: str, kind: str, when: FuzzyDate) -> FuzzyDate | None:
    if not text:
        return None
    if kind != "status":
        raise _not_for_kind(
            "until",
            text,
            kind,
            "until only on a status record of a temporary closure or opening",
            "leave it out",
        )
    until = parse_fuzzy_date(text, field="until", today=date.max)
    if until.end < when.end:
        raise RecordValidationError(
            "until",
            text,
            f"ends before the record's date {when.text!r}",
            "the last day of the temporary event, on or after its date",
            "check the two dates",
        )
    return until


def _expected(text: str, kind: str, when: FuzzyDate) -> FuzzyDate | None:
    if kind == "plan" and not text:
        raise RecordValidationError(
            "expected",
            text,
            "is missing for a plan",
            "when the announced event is expected: YYYY, YYYY-MM or YYYY-MM-DD",
            "give --expected, e.g. --expected 2025-08",
        )
    if not text:
        return None
    if kind != "plan":
        raise _not_for_kind(
            "expected",
            text,
            kind,
            "expected only on plans",
            "use --kind plan for an announcement of something to come",
        )
    expected = parse_fuzzy_date(text, field="expected", today=date.max)
    if expected.end < when.start:
        raise RecordValidationError(
            "expected",
            text,
            f"is before the plan's date {when.text!r}",
            "a date on or after the announcement",
            "check the two dates",
        )
    return expected


def parse_observation(
    raw: Mapping[str, object],
    crossings: Mapping[str, Crossing],
    *,
    structures: Mapping[str, Structure] | None = None,
    today: date | None = None,
    now: datetime | None = None,
    default_recorded_by: str = "",
    as_recorded: bool = False,
) -> Observation:
    """Check one observation given as text fields and return the record.

    Parameters
    ----------
    raw : mapping
        Field name to value, as read from a CSV row, GeoJSON properties or CLI
        options: ``crossing_id``, ``date``, ``kind``, ``summary``,
        ``source_type``, and at least one of ``source_url`` / ``source_name``;
        optional ``precision``, ``status``, ``source_published``,
        ``source_detail``, ``side``, ``lat`` and ``lon``, ``replaces``,
        ``notes``, ``recorded_at``, ``recorded_by``, ``id``, ``applies_to``,
        ``until``, ``structure_id``, ``traffic``, ``expected``, ``lifecycle``,
        ``source_is_mirror``, and the fields a record carries as given
        (``geo.schema.CARRIED_FIELDS``: ``source_quote``, ``quote_en``,
        ``checked_on``, ``archive_url``).
    crossings : mapping
        The inventory's crossings by id.
    structures : mapping, optional
        The inventory's structures by id, for ``structure_id``.
    as_recorded : bool, default False
        Check a record kept as history (one a later record corrects, or one
        stored before schema version 3) against the rules it was recorded
        under: any kind may carry a status of version 2's vocabulary, and a
        source without an address needs only its name.
    today, now : optional
        Clock values, for tests.
    default_recorded_by : str, default ""
        Who recorded it, when ``raw`` does not say.

    Returns
    -------
    Observation

    Raises
    ------
    RecordValidationError
        The first field that is not acceptable.
    """
    now = now or datetime.now(UTC)
    today = today or now.date()
    # The fields are checked in this order, so that an error names the first bad one.
    claim = _claim(raw, crossings, structures, today, as_recorded=as_recorded)
    source = _source(raw, today, as_recorded=as_recorded)
    return _observation(raw, claim, source, crossings, (now, today), default_recorded_by)


def _observation(
    raw: Mapping[str, object],
    claim: _Claim,
    source: _Source,
    crossings: Mapping[str, Crossing],
    clock: tuple[datetime, date],
    default_recorded_by: str,
) -> Observation:
    """Check the rest of a record, whose claim and source are checked, and return it.

    ``clock`` is the time and the day the record is checked at (``now``, ``today``).
    """
    now, today = clock
    place = _place(raw, claim.crossing_id, crossings)
    replaces = _replaces(raw, claim.kind)
    recorded_text = _text(raw, "recorded_at")
    recorded_at = _recorded_at(recorded_text, now) if recorded_text else now
    carried = _carried(raw, today)
    record_id = _derived_id(raw, claim, source)
    # A record carried over from another store keeps who recorded it, even nobody.
    recorded_by = _text(raw, "recorded_by") or ("" if recorded_text else default_recorded_by)
    # Positional, in the order of Observation's fields: an import checks many rows.
    return Observation(
        record_id, claim.crossing_id, claim.date, claim.kind, claim.status, claim.summary,
        source.source_name, source.source_url, source.source_published, source.source_type,
        source.source_detail, place.side, place.location, place.has_own_location, replaces,
        _text(raw, "notes"), recorded_at, recorded_by, claim.applies_to, claim.until,
        claim.structure_id, claim.traffic, claim.expected, claim.lifecycle,
        source.source_is_mirror, *(carried[f.name] for f in CARRIED_FIELDS),
    )  # fmt: skip


class _Claim(NamedTuple):
    """What a record says, each field checked against the others (named as Observation's)."""

    crossing_id: str | None
    date: FuzzyDate
    kind: str
    status: str | None
    structure_id: str | None
    lifecycle: str | None
    applies_to: tuple[str, ...]
    traffic: tuple[str, ...]
    until: FuzzyDate | None
    expected: FuzzyDate | None
    summary: str


def _claim(
    raw: Mapping[str, object],
    crossings: Mapping[str, Crossing],
    structures: Mapping[str, Structure] | None,
    today: date,
    *,
    as_recorded: bool,
) -> _Claim:
    """Check what a record says: its crossing, date and kind, what its kind allows, its summary."""
    claim = _claim_but_summary(raw, crossings, structures, today, as_recorded=as_recorded)
    return claim._replace(summary=_summary(raw))


#: The fields :func:`_claim_but_summary` reads: a check of many rows (geo.columns) checks each
#: combination of their values once.
CLAIM_FIELDS = (
    "crossing_id", "date", "precision", "kind", "status", "structure_id", "lifecycle",
    "applies_to", "traffic", "until", "expected",
)  # fmt: skip


def _claim_but_summary(
    raw: Mapping[str, object],
    crossings: Mapping[str, Crossing],
    structures: Mapping[str, Structure] | None,
    today: date,
    *,
    as_recorded: bool,
) -> _Claim:
    """Check the fields of :data:`CLAIM_FIELDS` (the summary is left empty)."""
    crossing_id = resolve_crossing_id(_text(raw, "crossing_id"), crossings, field="crossing_id")
    when = parse_fuzzy_date(
        _text(raw, "date"), precision=_text(raw, "precision") or None, today=today
    )
    kind = parse_choice("kind", _text(raw, "kind"), OBSERVATION_KINDS)
    status = _status(kind, _text(raw, "status"), as_recorded=as_recorded)
    structure_id = _structure(_text(raw, "structure_id"), crossing_id, structures)
    lifecycle = _lifecycle(kind, _text(raw, "lifecycle"), structure_id)
    applies_to = _applies_to(_text(raw, "applies_to"), crossing_id, crossings)
    traffic = _traffic(_text(raw, "traffic"), kind, status)
    until = _until(_text(raw, "until"), kind, when)
    expected = _expected(_text(raw, "expected"), kind, when)
    return _Claim(
        crossing_id=crossing_id,
        date=when,
        kind=kind,
        status=status,
        structure_id=structure_id,
        lifecycle=lifecycle,
        applies_to=applies_to,
        traffic=traffic,
        until=until,
        expected=expected,
        summary="",
    )


def _summary(raw: Mapping[str, object]) -> str:
    """Return the summary on one line; a record without one says nothing."""
    summary = " ".join(_text(raw, "summary").split())
    if not summary:
        raise RecordValidationError(
            "summary",
            _text(raw, "summary"),
            "is empty",
            f"one to {TEXT_LIMITS['summary']:,} characters saying what was seen",
            "describe the observation, e.g. --summary 'New customs buildings on the DPRK side'",
        )
    return summary


#: The fields :func:`_source` reads (see :data:`CLAIM_FIELDS`).
SOURCE_FIELDS = (
    "source_url", "source_name", "source_detail", "source_is_mirror", "source_type",
    "source_published",
)  # fmt: skip


class _Source(NamedTuple):
    """Where a record comes from, checked (named as Observation's fields)."""

    source_name: str
    source_url: str | None
    source_published: FuzzyDate | None
    source_type: str
    source_detail: str
    source_is_mirror: bool


def _source(raw: Mapping[str, object], today: date, *, as_recorded: bool) -> _Source:
    """Check a record's source: an address, or a name and a detail that says why there is none."""
    source_url = _text(raw, "source_url") or None
    if source_url is not None:
        check_url("source_url", source_url)
    source_name = _text(raw, "source_name")
    source_detail = _text(raw, "source_detail")
    # Version 2 asked only for a name when there was no address.
    if source_url is None and not (source_name and (source_detail or as_recorded)):
        raise RecordValidationError(
            "source_url",
            "",
            "is missing",
            "an http(s) URL of the source, or a source name and a source_detail that says "
            "why there is no address (e.g. a broadcast, a print edition)",
            "every record names its source: give --source-url, or --source-name and "
            "--source-detail",
        )
    if not source_name and source_url is not None:
        source_name = urlsplit(source_url).netloc.removeprefix("www.")
    mirror = parse_flag("source_is_mirror", _text(raw, "source_is_mirror"))
    if mirror and source_url is None:
        raise RecordValidationError(
            "source_is_mirror",
            _text(raw, "source_is_mirror"),
            "is set for a record without a source_url",
            "true only when source_url is a copy of the original on another site",
            "give the mirror's address as source_url, and the original's name as source_name",
        )
    source_type = parse_choice("source_type", _text(raw, "source_type"), SOURCE_TYPES)
    published_text = _text(raw, "source_published")
    published = (
        parse_fuzzy_date(published_text, field="source_published", today=today)
        if published_text
        else None
    )
    return _Source(
        source_name=source_name,
        source_url=source_url,
        source_published=published,
        source_type=source_type,
        source_detail=source_detail,
        source_is_mirror=mirror,
    )


class _Place(NamedTuple):
    """Which side a record concerns and its own point, if it has one (named as Observation's)."""

    side: str | None
    location: LonLat | None
    has_own_location: bool


def _place(
    raw: Mapping[str, object], crossing_id: str | None, crossings: Mapping[str, Crossing]
) -> _Place:
    """Check a record's side and its own point, which must lie where the record is about."""
    side_text = _text(raw, "side")
    side = parse_choice("side", side_text, SIDES) if side_text else None
    location = None
    lat, lon = _text(raw, "lat"), _text(raw, "lon")
    if lat or lon:
        location = parse_lat_lon(lat, lon)
        _check_point(location, crossing_id, crossings)
    return _Place(side=side, location=location, has_own_location=location is not None)


def _check_point(
    location: LonLat, crossing_id: str | None, crossings: Mapping[str, Crossing]
) -> None:
    """Refuse a point far from the record's crossing, or, for the whole border, outside it."""
    crossing = crossings.get(crossing_id) if crossing_id else None
    if (
        crossing is not None
        and crossing.location is not None
        and not surely_within_m(crossing.location, location, MAX_DISTANCE_FROM_CROSSING_M)
    ):
        distance = geodesic_distance_m(crossing.location, location)
        if distance > MAX_DISTANCE_FROM_CROSSING_M:
            raise RecordValidationError(
                "location",
                f"{location.lat}, {location.lon}",
                f"is {distance / 1000:.1f} km from {crossing.id}",
                f"a point within {MAX_DISTANCE_FROM_CROSSING_M / 1000:g} km of the crossing",
                "check the coordinates (lat, lon order) or the crossing id",
            )
    if crossing_id is None:
        region = border_region(crossings)
        if region is not None and not (
            region.west <= location.lon <= region.east
            and region.south <= location.lat <= region.north
        ):
            raise RecordValidationError(
                "location",
                f"{location.lat}, {location.lon}",
                "is outside the border region",
                f"a point in lat {region.south:.3f} to {region.north:.3f}, lon "
                f"{region.west:.3f} to {region.east:.3f} (the crossings' extent and "
                f"{MAX_DISTANCE_FROM_CROSSING_M / 1000:g} km around it)",
                "check the coordinates (lat, lon order), or give no point",
            )


def _replaces(raw: Mapping[str, object], kind: str) -> str | None:
    """Return the id of the record this one supersedes; a retraction must name it."""
    replaces = _text(raw, "replaces") or None
    if kind == "retraction" and replaces is None:
        raise RecordValidationError(
            "replaces",
            "",
            "is missing for a retraction",
            "the id of the record withdrawn",
            "give --replaces OBS_ID (see `crossings show`)",
        )
    return replaces


def _recorded_at(text: str, now: datetime) -> datetime:
    """Read when a record was recorded (UTC if no zone is given): not before 1800 nor after now."""
    try:
        recorded_at = datetime.fromisoformat(ascii_digits(text).replace("Z", "+00:00"))
    except ValueError as err:
        raise RecordValidationError(
            "recorded_at",
            text,
            "is not a timestamp",
            "ISO 8601, e.g. 2026-03-12T09:30:00Z",
            "leave it empty to use the current time",
        ) from err
    if recorded_at.tzinfo is None:
        recorded_at = recorded_at.replace(tzinfo=UTC)
    try:
        in_range = 1800 <= recorded_at.astimezone(UTC).year and recorded_at <= now + DAY
    except OverflowError:  # a time zone that pushes it past the calendar's ends
        in_range = False
    if not in_range:
        raise RecordValidationError(
            "recorded_at",
            text,
            "is out of range",
            "a time from 1800 to now, ISO 8601, e.g. 2026-03-12T09:30:00Z",
            "leave it empty to use the current time",
        )
    return recorded_at


def _derived_id(raw: Mapping[str, object], claim: _Claim, source: _Source) -> str:
    """Return the id the record's content gives; an id given with it must be that one."""
    record_id = observation_id(
        claim.crossing_id,
        claim.date.text,
        claim.kind,
        claim.summary,
        source.source_url,
        source.source_name,
    )
    given_id = _text(raw, "id")
    if given_id and given_id != record_id:
        raise RecordValidationError(
            "id",
            given_id,
            f"does not match the record's content (which gives {record_id!r})",
            "the id derived from crossing, date, kind, summary and source, or no id",
            "leave the id column empty: ids are derived from the record",
        )
    return record_id


#: Fields carried as given that say something about the source's own words: only beside them.
NEEDS_QUOTE = ("quote_en", "checked_on")


def _carried(raw: Mapping[str, object], today: date) -> dict[str, str]:
    """Check the fields a record carries as given (see geo.schema.Field), each by its rule."""
    values = {
        field.name: carried_value(field, _text(raw, field.name), today) for field in CARRIED_FIELDS
    }
    for name in NEEDS_QUOTE:
        if values.get(name) and not values.get("source_quote"):
            raise RecordValidationError(
                name,
                values[name],
                "is given without source_quote",
                "a value only beside the source's own words (source_quote)",
                "give source_quote, the words of the source, verbatim",
            )
    return values


def carried_value(field: Field, text: str, today: date) -> str:
    """Check the clean text of a field carried as given by its rule; return the value kept."""
    if text and field.rule == "url":
        check_url(field.name, text)
    elif text and field.rule == "day":
        day = parse_fuzzy_date(text, field=field.name, today=today)
        if day.precision != "day":
            raise RecordValidationError(
                field.name, text, "is not a day", "YYYY-MM-DD", "give the day, e.g. 2026-12-03"
            )
        text = day.text
    return text


def _located(raw: Mapping[str, object], what: str) -> tuple[LonLat | None, int | None, str | None]:
    """Check a point, its precision in metres and its source; a row may have no point."""
    location = None
    precision = None
    lat, lon = _text(raw, "lat"), _text(raw, "lon")
    location_url = _text(raw, "location_source_url") or None
    if lat or lon:
        location = parse_lat_lon(lat, lon)
        try:
            precision = int(_text(raw, "location_precision_m"))
        except ValueError as err:
            raise RecordValidationError(
                "location_precision_m",
                _text(raw, "location_precision_m"),
                "is not a whole number",
                "metres, > 0",
                "say how far the true crossing may be from the point",
            ) from err
        if precision <= 0:
            raise RecordValidationError(
                "location_precision_m",
                precision,
                "is not positive",
                "metres, > 0",
                "say how far the true crossing may be from the point",
            )
        if not _text(raw, "location_source"):
            raise RecordValidationError(
                "location_source",
                "",
                f"is empty for {what} with a point",
                "the source of the point",
                "name where the coordinates were read",
            )
        if location_url:
            check_url("location_source_url", location_url)
    return location, precision, location_url


def parse_crossing(raw: Mapping[str, object]) -> Crossing:
    """Check one crossing row of the seed and return the record.

    Raises
    ------
    RecordValidationError
        The first field that is not acceptable.
    """
    crossing_id = _text(raw, "id")
    if not is_slug(crossing_id) or crossing_id == OVERVIEW_PAGE:
        raise RecordValidationError(
            "id",
            crossing_id,
            "is not a slug",
            f"lower-case letters, digits and single hyphens, other than {OVERVIEW_PAGE!r} "
            "(the overview map's name)",
            "write e.g. quanhe-wonjong",
        )
    for field in ("name_en", "name_zh", "name_ko", "location_note"):
        if not _text(raw, field):
            raise RecordValidationError(
                field, "", "is empty", "a non-empty text", f"fill in {field} for {crossing_id}"
            )
    location, precision, location_url = _located(raw, "a crossing")
    aliases = tuple(a.strip() for a in _text(raw, "aliases").split(";") if a.strip())
    return Crossing(
        id=crossing_id,
        name_en=_text(raw, "name_en"),
        name_zh=_text(raw, "name_zh"),
        name_ko=_text(raw, "name_ko"),
        aliases=aliases,
        cn_place=_text(raw, "cn_place"),
        cn_province=_text(raw, "cn_province"),
        kp_place=_text(raw, "kp_place"),
        kp_province=_text(raw, "kp_province"),
        river=parse_choice("river", _text(raw, "river"), RIVERS),
        mode=parse_choice("mode", _text(raw, "mode"), MODES),
        mode_detail=_text(raw, "mode_detail"),
        kind=parse_choice("kind", _text(raw, "kind"), CROSSING_KINDS),
        location=location,
        location_precision_m=precision,
        location_note=_text(raw, "location_note"),
        location_source=_text(raw, "location_source"),
        location_source_url=location_url,
        alt_locations=_text(raw, "alt_locations"),
        structure=_text(raw, "structure"),
        notes=_text(raw, "notes"),
    )


def parse_structure(raw: Mapping[str, object], crossings: Mapping[str, Crossing]) -> Structure:
    """Check one structure row of the seed (a bridge, dam or gate) and return the record.

    Raises
    ------
    RecordValidationError
        The first field that is not acceptable.
    """
    structure_id = _text(raw, "id")
    if not is_slug(structure_id):
        raise RecordValidationError(
            "id",
            structure_id,
            "is not a slug",
            "lower-case letters, digits and single hyphens",
            "write e.g. quanhe-new-bridge",
        )
    crossing_id = _text(raw, "crossing_id")
    if crossing_id not in crossings:
        raise RecordValidationError(
            "crossing_id",
            crossing_id,
            "is not a crossing in the inventory",
            "a crossing id from `crossings list`",
            f"fill in the crossing of {structure_id}",
        )
    # Chinese and Korean names only where a source gives them: none is made up.
    if not _text(raw, "name_en"):
        raise RecordValidationError(
            "name_en", "", "is empty", "a non-empty text", f"fill in name_en for {structure_id}"
        )
    location, precision, location_url = _located(raw, "a structure")
    return Structure(
        id=structure_id,
        crossing_id=crossing_id,
        name_en=_text(raw, "name_en"),
        name_zh=_text(raw, "name_zh"),
        name_ko=_text(raw, "name_ko"),
        kind=parse_choice("kind", _text(raw, "kind"), STRUCTURE_KINDS),
        location=location,
        location_precision_m=precision,
        location_source=_text(raw, "location_source"),
        location_source_url=location_url,
        notes=_text(raw, "notes"),
        length_m=parse_length_m(_text(raw, "length_m")),
    )


def parse_trade_figure(raw: Mapping[str, object], *, today: date | None = None) -> TradeFigure:
    """Check one trade row of the seed and return the record.

    Raises
    ------
    RecordValidationError
        The first field that is not acceptable.
    """
    period = _text(raw, "period")
    kind, start, end = parse_trade_period(period)
    value_text = _text(raw, "value_usd")
    if not value_text.isdigit():
        raise RecordValidationError(
            "value_usd",
            value_text,
            "is not a whole number of dollars",
            "digits only, e.g. 222100000",
            "write the value in US dollars without separators",
        )
    source_url = _text(raw, "source_url") or None
    if source_url:
        check_url("source_url", source_url)
    if not _text(raw, "source_name"):
        raise RecordValidationError(
            "source_name", "", "is empty", "the name of the source", "every figure names its source"
        )
    published_text = _text(raw, "source_published")
    return TradeFigure(
        period=period,
        period_kind=kind,
        period_start=start,
        period_end=end,
        flow=parse_choice("flow", _text(raw, "flow"), FLOWS),
        value_usd=int(value_text),
        qualifier=parse_choice("qualifier", _text(raw, "qualifier") or "exact", QUALIFIERS),
        source_name=_text(raw, "source_name"),
        source_url=source_url,
        source_published=(
            parse_fuzzy_date(published_text, field="source_published", today=today)
            if published_text
            else None
        ),
        notes=_text(raw, "notes"),
    )
