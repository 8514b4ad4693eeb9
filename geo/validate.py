"""Checks that turn raw input (CLI options, CSV cells, GeoJSON properties) into records.

Pure functions: they take values and return records or raise
:class:`~geo.errors.RecordValidationError`, naming the field, the value, what
is allowed and the fix. Nothing here touches a file.
"""

from __future__ import annotations

import calendar
import difflib
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from urllib.parse import urlsplit

from geo.errors import RecordValidationError, UnknownCrossingError
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
    BBox,
    Crossing,
    FuzzyDate,
    LonLat,
    Observation,
    Structure,
    TradeFigure,
    observation_id,
)
from geo.schema import CARRIED_FIELDS, MULTILINE_FIELDS, TEXT_LIMIT_DEFAULT, TEXT_LIMITS

__all__ = [
    "MAX_DISTANCE_FROM_CROSSING_M",
    "ascii_digits",
    "border_region",
    "clean_text",
    "date_range",
    "geodesic_distance_m",
    "is_slug",
    "name_key",
    "parse_crossing",
    "parse_fuzzy_date",
    "parse_lat_lon",
    "parse_observation",
    "parse_structure",
    "parse_trade_figure",
    "parse_trade_period",
    "resolve_crossing_id",
    "split_field_value",
    "split_lat_lon",
]

#: The longest text of each field, in characters: those of the layers (geo.schema), and of the
#: input fields that no layer stores (a point is given as lat and lon).
_LIMITS = {**TEXT_LIMITS, "lat": 40, "lon": 40}

#: A day, for the checks of times that may not lie in the future.
DAY = timedelta(days=1)

#: An observation's own location may lie at most this far from its crossing.
MAX_DISTANCE_FROM_CROSSING_M = 25_000.0
_DATE_RE = re.compile(r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?$")
_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DATE_FORMS = "YYYY (a year), YYYY-MM (a month) or YYYY-MM-DD (a day)"


# Blank at either end of a text: white space and the zero-width characters that look like none.
_BLANK_ENDS = re.compile(r"^[\s\u200b-\u200d\u2060\ufeff]+|[\s\u200b-\u200d\u2060\ufeff]+$")
# Characters that reorder how text is shown (a name could then read as another).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def is_slug(text: str) -> bool:
    """Say whether an id is a slug: lower-case letters, digits and single hyphens."""
    return _SLUG_RE.match(text) is not None


def _shown(value: str) -> str:
    """Return a value as an error message repeats it: cut, so a 1 MB field is not echoed."""
    return value if len(value) <= 60 else value[:60] + "…"


def clean_text(value: object, field: str) -> str:
    """Return a field's value as text under the one text policy of every field.

    The text is normalised to NFC and stripped of white space and zero-width
    characters at both ends (a text of nothing else is empty). Refused, with
    the field named: a list or an object where a text belongs, bytes that were
    not UTF-8, control characters (a newline or a tab only in the fields of
    ``MULTILINE_FIELDS``), characters that reorder text, and text longer than
    the field's limit (``geo.schema.TEXT_LIMITS``).

    Raises
    ------
    RecordValidationError
        If the value breaks the policy.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (dict, list, tuple, set)):
        raise RecordValidationError(
            field,
            _shown(str(value)),
            "is a list or an object, not a text",
            "a text or a number",
            f"give {field} as plain text",
        )
    text = _BLANK_ENDS.sub("", unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n"))
    limit = _LIMITS.get(field, TEXT_LIMIT_DEFAULT)
    if len(text) > limit:
        raise RecordValidationError(
            field,
            _shown(text),
            f"is {len(text):,} characters long",
            f"at most {limit:,} characters",
            "shorten it; put detail in the source" if field == "summary" else "shorten it",
        )
    multiline = field in MULTILINE_FIELDS
    for character in text:
        if "\ud800" <= character <= "\udfff":
            raise RecordValidationError(
                field,
                _shown(text),
                "holds bytes that are not UTF-8",
                "UTF-8 text",
                "save the file (or set the terminal) as UTF-8",
            )
        if character in _BIDI_CONTROLS or (
            unicodedata.category(character) == "Cc" and not (multiline and character in "\n\t")
        ):
            where = "a newline and a tab only in " + ", ".join(sorted(MULTILINE_FIELDS))
            raise RecordValidationError(
                field,
                _shown(text),
                f"holds the control character U+{ord(character):04X}",
                f"printable text ({where})",
                "remove the character; it is invisible or changes how text is shown",
            )
    return text


def _text(raw: Mapping[str, object], field: str) -> str:
    return clean_text(raw.get(field), field)


def _choice(field: str, value: str, allowed: Iterable[str], *, fix: str = "") -> str:
    """Return ``value`` normalised to one of ``allowed`` (case, spaces, hyphens)."""
    allowed = tuple(allowed)
    key = value.strip().lower().replace(" ", "_")
    if key not in allowed:
        key = key.replace("-", "_")
    if key in allowed:
        return key
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"use {close[0]!r}" if close else f"use one of {', '.join(allowed)}"
    raise RecordValidationError(
        field, value, "is not a known value", ", ".join(allowed), fix or hint
    )


def ascii_digits(text: str) -> str:
    """Write a date's digits as ASCII (full-width ２０２１ and Arabic-Indic digits alike).

    >>> ascii_digits("２０２１－０６")
    '2021-06'

    Superscript, subscript and circled digits are not digits of a date: they
    are left as they are, and the date is then refused.

    >>> ascii_digits("²⁰²¹")
    '²⁰²¹'
    """
    if any(unicodedata.category(c) == "No" for c in text):
        return text
    text = unicodedata.normalize("NFKC", text)
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)


def parse_fuzzy_date(
    text: str,
    *,
    field: str = "date",
    precision: str | None = None,
    today: date | None = None,
) -> FuzzyDate:
    """Parse a date known to a year, a month or a day.

    Parameters
    ----------
    text : str
        ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``.
    field : str, default "date"
        Name of the field, for the error message.
    precision : str or None, default None
        If given, it must agree with the text (``month`` for ``2025-03``).
    today : date or None, default None
        Dates after this are refused; default: today (UTC).

    Returns
    -------
    FuzzyDate

    Raises
    ------
    RecordValidationError
        If the text is malformed, not a calendar date, in the future, or does
        not match ``precision``.

    Examples
    --------
    >>> d = parse_fuzzy_date("2025-03", today=date(2026, 1, 1))
    >>> d.precision, d.start.isoformat(), d.end.isoformat()
    ('month', '2025-03-01', '2025-03-31')
    >>> parse_fuzzy_date("2024-02", today=date(2026, 1, 1)).end.isoformat()
    '2024-02-29'
    """
    today = today or datetime.now(UTC).date()
    text = ascii_digits(text.strip())
    match = _DATE_RE.match(text)
    if not match:
        raise RecordValidationError(
            field, text, "is not a date", _DATE_FORMS, "write e.g. 2025, 2025-03 or 2025-03-12"
        )
    year = int(match[1])
    month, day = (int(part) if part else None for part in match.groups()[1:])
    if year < 1800:
        raise RecordValidationError(
            field, text, "is before 1800", f"{_DATE_FORMS} from 1800 on", "check the year"
        )
    if month is not None and not 1 <= month <= 12:
        raise RecordValidationError(
            field,
            text,
            "has no month " + f"{month:02d}",
            f"{_DATE_FORMS}, month 01-12",
            "check the month",
        )
    if day is not None and month is not None:
        last = calendar.monthrange(year, month)[1]
        if not 1 <= day <= last:
            raise RecordValidationError(
                field,
                text,
                f"is not a calendar date ({year}-{month:02d} has {last} days)",
                _DATE_FORMS,
                "check the day",
            )
    if day is not None and month is not None:
        found, start, end = "day", date(year, month, day), date(year, month, day)
    elif month is not None:
        last = calendar.monthrange(year, month)[1]
        found, start, end = "month", date(year, month, 1), date(year, month, last)
    else:
        found, start, end = "year", date(year, 1, 1), date(year, 12, 31)
    if precision is not None and precision.strip():
        wanted = _choice(f"{field}_precision", precision, ("day", "month", "year"))
        if wanted != found:
            raise RecordValidationError(
                f"{field}_precision",
                precision,
                f"does not match the date {text!r}, which is a {found}",
                "the precision that the date text has: YYYY year, YYYY-MM month, YYYY-MM-DD day",
                f"give precision {found!r}, or write the date to the {wanted}",
            )
    if start > today:
        raise RecordValidationError(
            field,
            text,
            f"is in the future (today is {today.isoformat()})",
            "dates on or before today",
            "record an observation once it has happened",
        )
    return FuzzyDate(text, found, start, end)


def parse_lat_lon(lat: object, lon: object, *, field: str = "location") -> LonLat:
    """Return a checked :class:`LonLat` from latitude and longitude values.

    Raises
    ------
    RecordValidationError
        If either is not a finite number or is out of range.

    Examples
    --------
    >>> parse_lat_lon("40.115", "124.3925")
    LonLat(lon=124.3925, lat=40.115)
    """
    values = []
    for name, value, limit in (("lat", lat, 90.0), ("lon", lon, 180.0)):
        try:
            # Python's float() takes "4_0.1" as 40.1: a degree is written in digits only.
            if isinstance(value, str) and "_" in value:
                raise ValueError(value)
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError) as err:
            raise RecordValidationError(
                f"{field}.{name}",
                value,
                "is not a number",
                f"a decimal degree, -{limit:g} to {limit:g}",
                "write decimal degrees, e.g. 40.115, 124.3925 (lat, lon)",
            ) from err
        if not math.isfinite(number) or not -limit <= number <= limit:
            raise RecordValidationError(
                f"{field}.{name}",
                value,
                "is out of range",
                f"-{limit:g} to {limit:g}",
                "check that latitude and longitude are not swapped",
            )
        values.append(number)
    return LonLat(lon=values[1], lat=values[0])


def date_range(
    since: str | None, until: str | None, *, names: tuple[str, str] = ("--since", "--until")
) -> tuple[date | None, date | None]:
    """Turn ``since``/``until`` texts (YYYY, YYYY-MM or YYYY-MM-DD) into first and last days.

    ``since 2024`` starts on 2024-01-01; ``until 2024-06`` ends on 2024-06-30.

    Raises
    ------
    RecordValidationError
        If a text is not a date, or ``since`` is after ``until``.
    """
    first = parse_fuzzy_date(since, field=names[0], today=date.max).start if since else None
    last = parse_fuzzy_date(until, field=names[1], today=date.max).end if until else None
    if first and last and first > last:
        raise RecordValidationError(
            names[0],
            since,
            f"is after {names[1]} {until!r}",
            f"a date on or before {names[1]}",
            "swap the two dates",
        )
    return first, last


def split_lat_lon(text: str, *, field: str = "at") -> tuple[str, str]:
    """Split ``"LAT,LON"`` into its two parts (checked later by :func:`parse_lat_lon`).

    Raises
    ------
    RecordValidationError
        If the text is not two comma-separated parts.

    Examples
    --------
    >>> split_lat_lon(" 40.03, 124.37 ")
    ('40.03', '124.37')
    """
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 2 or not all(parts):
        raise RecordValidationError(
            field,
            text,
            "is not a latitude and a longitude",
            "LAT,LON in decimal degrees",
            "write e.g. --at 40.0356,124.3694 (latitude first)",
        )
    return parts[0], parts[1]


def split_field_value(text: str) -> tuple[str, str]:
    """Split ``FIELD=VALUE`` (as given to ``--set``).

    Raises
    ------
    RecordValidationError
        If there is no ``=`` or no field name.

    Examples
    --------
    >>> split_field_value("kind=infrastructure")
    ('kind', 'infrastructure')
    """
    field, sep, value = text.partition("=")
    if not sep or not field.strip():
        raise RecordValidationError(
            "--set",
            text,
            "is not FIELD=VALUE",
            "a field name, '=', and its value",
            "write e.g. --set kind=infrastructure",
        )
    return field.strip(), value.strip()


def geodesic_distance_m(a: LonLat, b: LonLat) -> float:
    """Return the distance between two points on the WGS84 ellipsoid, in metres.

    Examples
    --------
    >>> round(geodesic_distance_m(LonLat(124.0, 40.0), LonLat(124.0, 40.0)))
    0
    """
    from pyproj import Geod

    return float(Geod(ellps="WGS84").inv(a.lon, a.lat, b.lon, b.lat)[2])


def border_region(crossings: Mapping[str, Crossing]) -> BBox | None:
    """Return the box where a record about the whole border may have its point.

    It is the extent of the crossings' points grown by
    ``MAX_DISTANCE_FROM_CROSSING_M`` on every side: derived from the inventory,
    not drawn by hand. None for an inventory without points.
    """
    return _region(tuple(c.location for c in crossings.values() if c.location is not None))


@lru_cache(maxsize=8)
def _region(points: tuple[LonLat, ...]) -> BBox | None:
    from pyproj import Geod

    if not points:
        return None
    geod = Geod(ellps="WGS84")
    reach = MAX_DISTANCE_FROM_CROSSING_M
    west = min(points, key=lambda p: p.lon)
    east = max(points, key=lambda p: p.lon)
    south = min(points, key=lambda p: p.lat)
    north = max(points, key=lambda p: p.lat)
    return BBox(
        west=float(geod.fwd(west.lon, west.lat, 270, reach)[0]),
        south=float(geod.fwd(south.lon, south.lat, 180, reach)[1]),
        east=float(geod.fwd(east.lon, east.lat, 90, reach)[0]),
        north=float(geod.fwd(north.lon, north.lat, 0, reach)[1]),
    )


def fold(text: str) -> str:
    """Fold a name for matching: no accents, no case (Sinŭiju and SINUIJU are sinuiju).

    >>> fold("Sinŭiju")
    'sinuiju'
    """
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def name_key(text: str) -> str:
    """Fold a name as people type it: case, accents, width, dashes, spaces and brackets aside.

    >>> name_key("Quanhe–Wonjong (Tumen River Bridge)")
    'quanhe wonjong tumen river bridge'
    >>> name_key("quanhe-wonjong") == name_key("Quanhe Wonjong")
    True
    """
    return " ".join(_NAME_PARTS.findall(fold(unicodedata.normalize("NFKC", text))))


# The parts of a name: runs of letters and digits in any script (hangul and hanzi included).
_NAME_PARTS = re.compile(r"[^\W_]+")


def resolve_crossing_id(
    value: str, crossings: Mapping[str, Crossing], *, field: str = "crossing", partial: bool = False
) -> str | None:
    """Return the crossing id ``value`` names, or None for the whole border.

    ``value`` is an id or a name in any script, as people type it: case,
    accents, width, dashes, spaces and brackets aside (:func:`name_key`). With
    ``partial`` (questions, never writes), a part of a name that only one
    crossing has will do, as the map's search finds 圈河 in 圈河口岸, and so
    do the words of a name in another order ("Dandong–Sinuiju Friendship
    Bridge" for "Sino-Korean Friendship Bridge (Dandong–Sinuiju)").

    Raises
    ------
    UnknownCrossingError
        If no crossing has that id; the message suggests the closest ids.
    """
    key = value.strip()
    if key == BORDER_WIDE:
        return None
    if key in crossings:
        return key
    folded = name_key(key)
    keys = {c.id: [name_key(name) for name in (c.id, *c.names) if name] for c in crossings.values()}
    named = [crossing_id for crossing_id, names in keys.items() if folded in names]
    # Then a part of a name (圈河 in 圈河口岸), or its words in another order.
    words = set(folded.split())
    if not named and partial and len(folded) >= 2:
        named = [
            crossing_id
            for crossing_id, names in keys.items()
            if any(folded in name or words <= set(name.split()) for name in names)
        ]
    if len(named) == 1:
        return named[0]
    if named:  # a town shared by two crossings, e.g. Sinuiju or Tumen
        raise UnknownCrossingError(
            field,
            value,
            f"names {len(named)} crossings: {', '.join(named)}",
            "a crossing id, or a name only one crossing has",
            f"give one of {', '.join(named)}",
        )
    names = {name: crossing_id for crossing_id, found in keys.items() for name in found}
    close = dict.fromkeys(
        names[m] for m in difflib.get_close_matches(folded, list(names), n=6, cutoff=0.5)
    )
    fix = (
        f"did you mean {' or '.join(list(close)[:3])}?"
        if close
        else "run `crossings list` to see the ids"
    )
    raise UnknownCrossingError(
        field,
        value,
        "is not a crossing in the inventory",
        f"a crossing id from `crossings list`, or {BORDER_WIDE!r} for the whole border",
        fix,
    )


_YES = ("true", "yes", "1", "y")
_NO = ("false", "no", "0", "n", "")


def _flag(field: str, value: str) -> bool:
    key = value.strip().lower()
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise RecordValidationError(
        field, value, "is not yes or no", "true or false", "write true or false"
    )


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
        return _choice("status", text, _STATUSES_2)
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
    return _choice("status", text, STATUSES)


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
    return _choice("lifecycle", text, LIFECYCLES)


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
        dict.fromkeys(_choice("traffic", part, TRAFFIC) for part in text.split(",") if part.strip())
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


def _url(field: str, value: str) -> str:
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:  # an unclosed IPv6 '[', a port that is not a number or above 65535
        parts, port_ok = urlsplit(""), False
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or not port_ok
        or any(c.isspace() for c in value)
    ):
        raise RecordValidationError(
            field,
            value,
            "is not a web address",
            "an http:// or https:// URL",
            "paste the full address of the source, starting with https://",
        )
    return value


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
    crossing_id = resolve_crossing_id(_text(raw, "crossing_id"), crossings, field="crossing_id")
    when = parse_fuzzy_date(
        _text(raw, "date"), precision=_text(raw, "precision") or None, today=today
    )
    kind = _choice("kind", _text(raw, "kind"), OBSERVATION_KINDS)

    status = _status(kind, _text(raw, "status"), as_recorded=as_recorded)
    structure_id = _structure(_text(raw, "structure_id"), crossing_id, structures)
    lifecycle = _lifecycle(kind, _text(raw, "lifecycle"), structure_id)
    applies_to = _applies_to(_text(raw, "applies_to"), crossing_id, crossings)
    traffic = _traffic(_text(raw, "traffic"), kind, status)
    until = _until(_text(raw, "until"), kind, when)
    expected = _expected(_text(raw, "expected"), kind, when)

    summary = " ".join(_text(raw, "summary").split())
    if not summary:
        raise RecordValidationError(
            "summary",
            _text(raw, "summary"),
            "is empty",
            f"one to {TEXT_LIMITS['summary']:,} characters saying what was seen",
            "describe the observation, e.g. --summary 'New customs buildings on the DPRK side'",
        )
    source_url = _text(raw, "source_url") or None
    if source_url is not None:
        _url("source_url", source_url)
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
    mirror = _flag("source_is_mirror", _text(raw, "source_is_mirror"))
    if mirror and source_url is None:
        raise RecordValidationError(
            "source_is_mirror",
            _text(raw, "source_is_mirror"),
            "is set for a record without a source_url",
            "true only when source_url is a copy of the original on another site",
            "give the mirror's address as source_url, and the original's name as source_name",
        )
    source_type = _choice("source_type", _text(raw, "source_type"), SOURCE_TYPES)
    published_text = _text(raw, "source_published")
    published = (
        parse_fuzzy_date(published_text, field="source_published", today=today)
        if published_text
        else None
    )

    side_text = _text(raw, "side")
    side = _choice("side", side_text, SIDES) if side_text else None

    location = None
    lat, lon = _text(raw, "lat"), _text(raw, "lon")
    if lat or lon:
        location = parse_lat_lon(lat, lon)
        crossing = crossings.get(crossing_id) if crossing_id else None
        if crossing is not None and crossing.location is not None:
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

    replaces = _text(raw, "replaces") or None
    if kind == "retraction" and replaces is None:
        raise RecordValidationError(
            "replaces",
            "",
            "is missing for a retraction",
            "the id of the record withdrawn",
            "give --replaces OBS_ID (see `crossings show`)",
        )

    recorded_text = _text(raw, "recorded_at")
    recorded_at = now
    if recorded_text:
        try:
            recorded_at = datetime.fromisoformat(ascii_digits(recorded_text).replace("Z", "+00:00"))
        except ValueError as err:
            raise RecordValidationError(
                "recorded_at",
                recorded_text,
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
                recorded_text,
                "is out of range",
                "a time from 1800 to now, ISO 8601, e.g. 2026-03-12T09:30:00Z",
                "leave it empty to use the current time",
            )

    carried = _carried(raw, today)
    record_id = observation_id(crossing_id, when.text, kind, summary, source_url, source_name)
    given_id = _text(raw, "id")
    if given_id and given_id != record_id:
        raise RecordValidationError(
            "id",
            given_id,
            f"does not match the record's content (which gives {record_id!r})",
            "the id derived from crossing, date, kind, summary and source, or no id",
            "leave the id column empty: ids are derived from the record",
        )
    return Observation(
        id=record_id,
        crossing_id=crossing_id,
        date=when,
        kind=kind,
        status=status,
        summary=summary,
        source_name=source_name,
        source_url=source_url,
        source_published=published,
        source_type=source_type,
        source_detail=source_detail,
        side=side,
        location=location,
        has_own_location=location is not None,
        replaces=replaces,
        notes=_text(raw, "notes"),
        recorded_at=recorded_at,
        # A record carried over from another store keeps who recorded it, even nobody.
        recorded_by=_text(raw, "recorded_by") or ("" if recorded_text else default_recorded_by),
        applies_to=applies_to,
        until=until,
        structure_id=structure_id,
        traffic=traffic,
        expected=expected,
        lifecycle=lifecycle,
        source_is_mirror=mirror,
        **carried,
    )


def _carried(raw: Mapping[str, object], today: date) -> dict[str, str]:
    """Check the fields a record carries as given (see geo.schema.Field), each by its rule."""
    values = {}
    for field in CARRIED_FIELDS:
        text = _text(raw, field.name)
        if text and field.rule == "url":
            _url(field.name, text)
        elif text and field.rule == "day":
            day = parse_fuzzy_date(text, field=field.name, today=today)
            if day.precision != "day":
                raise RecordValidationError(
                    field.name, text, "is not a day", "YYYY-MM-DD", "give the day, e.g. 2026-12-03"
                )
            text = day.text
        values[field.name] = text
    for name in ("quote_en", "checked_on"):
        if values.get(name) and not values.get("source_quote"):
            raise RecordValidationError(
                name,
                values[name],
                "is given without source_quote",
                "a value only beside the source's own words (source_quote)",
                "give source_quote, the words of the source, verbatim",
            )
    return values


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
            _url("location_source_url", location_url)
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
        river=_choice("river", _text(raw, "river"), RIVERS),
        mode=_choice("mode", _text(raw, "mode"), MODES),
        mode_detail=_text(raw, "mode_detail"),
        kind=_choice("kind", _text(raw, "kind"), CROSSING_KINDS),
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
        kind=_choice("kind", _text(raw, "kind"), STRUCTURE_KINDS),
        location=location,
        location_precision_m=precision,
        location_source=_text(raw, "location_source"),
        location_source_url=location_url,
        notes=_text(raw, "notes"),
        length_m=_length(_text(raw, "length_m")),
    )


def _length(text: str) -> int | None:
    """Check a structure's length in metres: a whole number over 0, or nothing."""
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or int(text) <= 0:
        raise RecordValidationError(
            "length_m",
            text,
            "is not a whole number of metres over 0",
            "metres, e.g. 946, or empty where no source gives a length",
            "give the longest length a cited source gives, in whole metres",
        )
    return int(text)


_PERIOD_RE = re.compile(
    r"^(?P<year>\d{4})(?:-(?:(?P<half>H[12])|(?P<quarter>Q[1-4])"
    r"|(?P<month>\d{2})(?:\.\.(?P<to_month>\d{2}))?))?$"
)


def parse_trade_period(text: str) -> tuple[str, date, date]:
    """Return ``(kind, first day, last day)`` of a trade period.

    Periods are ``2011`` (year), ``2017-H1`` (half), ``2011-Q1`` (quarter),
    ``2012-01`` (month) or ``2010-01..05`` (months, January to May).

    Raises
    ------
    RecordValidationError
        If the text is none of these forms.

    Examples
    --------
    >>> parse_trade_period("2017-H1")
    ('half', datetime.date(2017, 1, 1), datetime.date(2017, 6, 30))
    """
    match = _PERIOD_RE.match(text.strip())
    forms = "YYYY, YYYY-H1/H2, YYYY-Q1..Q4, YYYY-MM or YYYY-MM..MM"
    if not match:
        raise RecordValidationError("period", text, "is not a period", forms, "write e.g. 2025-H1")
    year = int(match["year"])
    if match["half"]:
        first = 1 if match["half"] == "H1" else 7
        kind, last = "half", first + 5
    elif match["quarter"]:
        first = 3 * int(match["quarter"][1]) - 2
        kind, last = "quarter", first + 2
    elif match["month"]:
        first = int(match["month"])
        last = int(match["to_month"]) if match["to_month"] else first
        kind = "months" if match["to_month"] else "month"
        if not 1 <= first <= last <= 12:
            raise RecordValidationError(
                "period", text, "has an impossible month range", forms, "check the months"
            )
    else:
        kind, first, last = "year", 1, 12
    return kind, date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])


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
        _url("source_url", source_url)
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
        flow=_choice("flow", _text(raw, "flow"), FLOWS),
        value_usd=int(value_text),
        qualifier=_choice("qualifier", _text(raw, "qualifier") or "exact", QUALIFIERS),
        source_name=_text(raw, "source_name"),
        source_url=source_url,
        source_published=(
            parse_fuzzy_date(published_text, field="source_published", today=today)
            if published_text
            else None
        ),
        notes=_text(raw, "notes"),
    )
