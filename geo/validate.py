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
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

from geo.errors import RecordValidationError, UnknownCrossingError
from geo.model import (
    BORDER_WIDE,
    CROSSING_KINDS,
    FLOWS,
    MODES,
    OBSERVATION_KINDS,
    QUALIFIERS,
    RIVERS,
    SIDES,
    SOURCE_TYPES,
    STATUSES,
    Crossing,
    FuzzyDate,
    LonLat,
    Observation,
    TradeFigure,
    observation_id,
)

__all__ = [
    "MAX_DISTANCE_FROM_CROSSING_M",
    "geodesic_distance_m",
    "parse_crossing",
    "parse_fuzzy_date",
    "parse_lat_lon",
    "parse_observation",
    "parse_trade_figure",
    "parse_trade_period",
    "resolve_crossing_id",
    "split_field_value",
    "split_lat_lon",
]

#: An observation's own location may lie at most this far from its crossing.
MAX_DISTANCE_FROM_CROSSING_M = 25_000.0
_MAX_SUMMARY = 2000
_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DATE_FORMS = "YYYY (a year), YYYY-MM (a month) or YYYY-MM-DD (a day)"


def _text(raw: Mapping[str, object], field: str) -> str:
    value = raw.get(field)
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return str(value).strip()


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
    text = text.strip()
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


def resolve_crossing_id(
    value: str, crossings: Mapping[str, Crossing], *, field: str = "crossing"
) -> str | None:
    """Return the crossing id ``value`` names, or None for the whole border.

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
    folded = key.casefold()
    named = [
        crossing.id
        for crossing in crossings.values()
        if any(folded == name.casefold() for name in crossing.names if name)
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
    close = difflib.get_close_matches(key, list(crossings), n=3, cutoff=0.4)
    fix = f"did you mean {' or '.join(close)}?" if close else "run `crossings list` to see the ids"
    raise UnknownCrossingError(
        field,
        value,
        "is not a crossing in the inventory",
        f"a crossing id from `crossings list`, or {BORDER_WIDE!r} for the whole border",
        fix,
    )


def _url(field: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
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
    today: date | None = None,
    now: datetime | None = None,
    default_recorded_by: str = "",
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
        ``notes``, ``recorded_at``, ``recorded_by``, ``id``.
    crossings : mapping
        The inventory's crossings by id.
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

    status_text = _text(raw, "status")
    status = _choice("status", status_text, STATUSES) if status_text else None
    if kind == "status" and status is None:
        raise RecordValidationError(
            "status",
            status_text,
            "is missing for a status record",
            ", ".join(STATUSES),
            "give the crossing's status after this record, e.g. --status open",
        )

    summary = " ".join(_text(raw, "summary").split())
    if not summary:
        raise RecordValidationError(
            "summary",
            _text(raw, "summary"),
            "is empty",
            "one to 2000 characters saying what was seen",
            "describe the observation, e.g. --summary 'New customs buildings on the DPRK side'",
        )
    if len(summary) > _MAX_SUMMARY:
        raise RecordValidationError(
            "summary",
            summary[:40] + "...",
            f"is {len(summary)} characters long",
            f"at most {_MAX_SUMMARY} characters",
            "shorten it; put detail in the source",
        )

    source_url = _text(raw, "source_url") or None
    if source_url is not None:
        _url("source_url", source_url)
    source_name = _text(raw, "source_name")
    if not source_name:
        if source_url is None:
            raise RecordValidationError(
                "source_url",
                "",
                "is missing",
                "an http(s) URL of the source (and optionally its name)",
                "every record names its source: give --source-url",
            )
        source_name = urlsplit(source_url).netloc.removeprefix("www.")
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
            recorded_at = datetime.fromisoformat(recorded_text.replace("Z", "+00:00"))
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
        source_detail=_text(raw, "source_detail"),
        side=side,
        location=location,
        has_own_location=location is not None,
        replaces=replaces,
        notes=_text(raw, "notes"),
        recorded_at=recorded_at,
        # A record carried over from another store keeps who recorded it, even nobody.
        recorded_by=_text(raw, "recorded_by") or ("" if recorded_text else default_recorded_by),
    )


def parse_crossing(raw: Mapping[str, object]) -> Crossing:
    """Check one crossing row of the seed and return the record.

    Raises
    ------
    RecordValidationError
        The first field that is not acceptable.
    """
    crossing_id = _text(raw, "id")
    if not _SLUG_RE.match(crossing_id):
        raise RecordValidationError(
            "id",
            crossing_id,
            "is not a slug",
            "lower-case letters, digits and single hyphens",
            "write e.g. quanhe-wonjong",
        )
    for field in ("name_en", "name_zh", "name_ko", "location_note"):
        if not _text(raw, field):
            raise RecordValidationError(
                field, "", "is empty", "a non-empty text", f"fill in {field} for {crossing_id}"
            )
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
                "is empty for a crossing with a point",
                "the source of the point",
                "name where the coordinates were read",
            )
        if location_url:
            _url("location_source_url", location_url)
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
