"""Field rules: check one value of a field (a date, a point, a text, a vocabulary word, an id).

Pure functions: each takes a value as given (a CLI option, a CSV cell, a
GeoJSON property) and returns it checked, or raises
:class:`~geo.errors.RecordValidationError` naming the field, the value, what is
allowed and the fix. The rules that relate several fields of one record live
in :mod:`geo.validate`. Nothing here touches a file.
"""

from __future__ import annotations

import calendar
import difflib
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from geo.errors import RecordValidationError, UnknownCrossingError
from geo.model import BORDER_WIDE, BBox, FuzzyDate, LonLat
from geo.schema import MULTILINE_FIELDS, TEXT_LIMIT_DEFAULT, TEXT_LIMITS

if TYPE_CHECKING:
    from geo.model import Crossing

__all__ = [
    "MAX_DISTANCE_FROM_CROSSING_M",
    "ascii_digits",
    "border_region",
    "check_url",
    "clean_text",
    "date_range",
    "fold",
    "geodesic_distance_m",
    "is_slug",
    "name_key",
    "parse_choice",
    "parse_flag",
    "parse_fuzzy_date",
    "parse_lat_lon",
    "parse_length_m",
    "parse_trade_period",
    "resolve_crossing_id",
    "split_field_value",
    "split_lat_lon",
    "surely_within_m",
]

#: The longest text of each field, in characters: those of the layers (geo.schema), and of the
#: input fields that no layer stores (a point is given as lat and lon).
_LIMITS = {**TEXT_LIMITS, "lat": 40, "lon": 40}

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
    if type(value) is str and _is_clean(value, field):  # most cells: nothing to change
        return value
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


def _is_clean(text: str, field: str) -> bool:
    """Say whether :func:`clean_text` would return a text as it is, without reading it char by char.

    A printable text holds no control, format (zero-width, bidi), surrogate or
    separator character other than the space, so only blank ends, the form
    (NFC) and the length are left to check.
    """
    return (
        text.isprintable()
        and len(text) <= _LIMITS.get(field, TEXT_LIMIT_DEFAULT)
        and text == text.strip()
        and (text.isascii() or unicodedata.is_normalized("NFC", text))
    )


def parse_choice(field: str, value: str, allowed: Iterable[str], *, fix: str = "") -> str:
    """Return ``value`` normalised to one of ``allowed`` (case, spaces, hyphens).

    Raises
    ------
    RecordValidationError
        If it is none of them; the fix suggests the closest, or ``fix`` if given.
    """
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
    if text.isascii():  # no other digits, and NFKC leaves it as it is
        return text
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
    found, start, end = _date_span(text, field)
    _check_precision(field, precision, text, found)
    if start > today:
        raise RecordValidationError(
            field,
            text,
            f"is in the future (today is {today.isoformat()})",
            "dates on or before today",
            "record an observation once it has happened",
        )
    return FuzzyDate(text, found, start, end)


def _date_parts(text: str, field: str) -> tuple[int, int | None, int | None]:
    """Read a date's year, month and day, refusing a form or a day that no calendar has."""
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
    return year, month, day


def _date_span(text: str, field: str) -> tuple[str, date, date]:
    """Return a date's precision (day, month or year) and the first and last day it covers."""
    year, month, day = _date_parts(text, field)
    if day is not None and month is not None:
        return "day", date(year, month, day), date(year, month, day)
    if month is not None:
        last = calendar.monthrange(year, month)[1]
        return "month", date(year, month, 1), date(year, month, last)
    return "year", date(year, 1, 1), date(year, 12, 31)


def _check_precision(field: str, precision: str | None, text: str, found: str) -> None:
    """Refuse a precision given beside a date that its text does not have (day for 2025-03)."""
    if precision is None or not precision.strip():
        return
    wanted = parse_choice(f"{field}_precision", precision, ("day", "month", "year"))
    if wanted != found:
        raise RecordValidationError(
            f"{field}_precision",
            precision,
            f"does not match the date {text!r}, which is a {found}",
            "the precision that the date text has: YYYY year, YYYY-MM month, YYYY-MM-DD day",
            f"give precision {found!r}, or write the date to the {wanted}",
        )


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
    return float(_wgs84().inv(a.lon, a.lat, b.lon, b.lat)[2])


#: WGS84's largest radii of curvature: a meridian's (at the poles, a**2 / b) and a parallel's
#: (the equator's radius, a): a degree of latitude, or of longitude, is never longer.
_MERIDIAN_RADIUS_MAX_M = 6_399_593.6259
_PARALLEL_RADIUS_MAX_M = 6_378_137.0


def surely_within_m(a: LonLat, b: LonLat, limit_m: float) -> bool:
    """Say whether two points are surely at most ``limit_m`` apart, without the geodesic.

    Along the meridian from ``a`` to ``b``'s latitude, then along the parallel
    to ``b``, is a path between them, so the geodesic is no longer than it; and
    that path is no longer than the degrees it spans times the largest radii.
    False means only "not surely": :func:`geodesic_distance_m` then decides.

    Examples
    --------
    >>> surely_within_m(LonLat(124.39, 40.11), LonLat(124.40, 40.12), 25_000)
    True
    >>> surely_within_m(LonLat(124.0, 40.0), LonLat(125.0, 40.0), 25_000)
    False
    """
    bound = (
        math.radians(abs(a.lat - b.lat)) * _MERIDIAN_RADIUS_MAX_M
        + math.radians(abs(a.lon - b.lon)) * _PARALLEL_RADIUS_MAX_M
    )
    return bound <= limit_m


@lru_cache(maxsize=1)
def _wgs84() -> Any:
    """Return the WGS84 ellipsoid's geodesic calculator, made once (each costs about 30 µs)."""
    from pyproj import Geod

    return Geod(ellps="WGS84")


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


def parse_flag(field: str, value: str) -> bool:
    """Read a yes-or-no field as spreadsheets and people write it (empty is no).

    Raises
    ------
    RecordValidationError
        If the value is neither.
    """
    key = value.strip().lower()
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise RecordValidationError(
        field, value, "is not yes or no", "true or false", "write true or false"
    )


def check_url(field: str, value: str) -> str:
    """Return ``value`` if it is a web address a reader can open: http(s), a host, no spaces.

    Raises
    ------
    RecordValidationError
        If it is not.
    """
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


def parse_length_m(text: str) -> int | None:
    """Check a structure's length in metres: a whole number over 0, or nothing.

    Raises
    ------
    RecordValidationError
        If the text is not such a number.
    """
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
