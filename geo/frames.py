"""Statuses, status periods, changes and observations as GeoDataFrames, for notebooks.

Each function is one call of the library that the commands make, laid out as
a table: :func:`status_frame` is ``crossings status`` on a day,
:func:`periods_frame` the steps of each crossing's status timeline,
:func:`changes_frame` what ``crossings changes`` lists, and
:func:`observations_frame` the records themselves. The status rule is
:mod:`geo.status`'s, read through the same functions; nothing here decides a
status. Dates are ``datetime64`` columns, points a geometry column in
EPSG:4326 (None where a crossing has no known point). geopandas loads only
when a frame is asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from geo.browse import list_crossings
from geo.errors import RecordValidationError
from geo.fields import date_range, parse_fuzzy_date, resolve_crossing_id
from geo.inventory import DEFAULT_STORE
from geo.questions import timelines, transitions
from geo.schema import CARRIED_FIELDS
from geo.status import StatusAnswer, StatusStep, describe_status
from geo.store import open_store

if TYPE_CHECKING:
    import geopandas as gpd

    from geo.model import Crossing, LonLat, Observation

__all__ = [
    "CHANGE_COLUMNS",
    "PERIOD_COLUMNS",
    "STATUS_COLUMNS",
    "changes_frame",
    "observations_frame",
    "periods_frame",
    "status_frame",
]

#: The columns of a status and of the record it rests on, shared by statuses and periods.
_STATE_COLUMNS = (
    "status",
    "status_text",
    "status_kind",
    "traffic",
    "status_record",
    "conflicts",
    "conflicted",
)
_EVIDENCE_COLUMNS = (
    "evidence_record",
    "evidence_date",
    "evidence_date_text",
    "evidence_precision",
    "source_name",
    "source_url",
    *(f.name for f in CARRIED_FIELDS),
    "supporting_records",
    "border_wide",
)
#: The columns of :func:`status_frame` (and its ``geometry``).
STATUS_COLUMNS = (
    "crossing_id",
    "name_en",
    "name_zh",
    "name_ko",
    "as_of",
    *_STATE_COLUMNS,
    "since",
    "since_text",
    *_EVIDENCE_COLUMNS,
    "age_days",
    "uncertain",
)
#: The columns of :func:`periods_frame` (and its ``geometry``).
PERIOD_COLUMNS = (
    "crossing_id",
    "name_en",
    "start",
    "end",
    *_STATE_COLUMNS,
    "since",
    *_EVIDENCE_COLUMNS,
)
#: The columns of :func:`changes_frame` (and its ``geometry``).
CHANGE_COLUMNS = (
    "crossing_id",
    "name_en",
    "day",
    "from_status",
    "to_status",
    "from_text",
    "to_text",
    "cause",
    "record",
    "record_date",
    "record_date_text",
    "summary",
    "source_name",
    "source_url",
    "border_wide",
)
_DATES = frozenset({"as_of", "since", "start", "end", "day", "evidence_date", "record_date"})
_FLAGS = frozenset({"conflicted", "border_wide", "uncertain"})
_COUNTS = frozenset({"supporting_records", "age_days"})
#: The observation layer's columns that hold days and times.
_OBSERVATION_DATES = ("date_start", "date_end", "until_end", "recorded_at")

When = date | str | None


def _day(value: When, field: str, *, end: bool = True) -> date | None:
    """Return the day ``value`` names: a date (or datetime), or text YYYY, YYYY-MM or YYYY-MM-DD.

    Text of a year or a month means its last day (``end``, as the status rule
    counts such a record) or its first.
    """
    if value is None:
        return None
    if isinstance(value, datetime):  # a pandas Timestamp too
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        parsed = parse_fuzzy_date(value, field=field, today=date.max)
        return parsed.end if end else parsed.start
    raise RecordValidationError(
        field,
        value,
        "is not a date",
        "a date, a datetime, or text YYYY, YYYY-MM or YYYY-MM-DD",
        f"give e.g. {field}='2021-06-01'",
    )


def _range(since: When, until: When) -> tuple[str | None, str | None]:
    """Return ``since`` and ``until`` as the texts the questions read, checked and in order."""
    first = since if isinstance(since, str) else _iso(_day(since, "since"))
    last = until if isinstance(until, str) else _iso(_day(until, "until"))
    date_range(first, last, names=("since", "until"))
    return first, last


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _state(item: StatusAnswer | StatusStep) -> dict[str, object]:
    """Return a status as flat fields: the status, in words, and the record that decides it."""
    return {
        "status": item.status,
        "status_text": describe_status(item.status, item.traffic, is_lifecycle=item.is_lifecycle),
        "status_kind": "lifecycle" if item.is_lifecycle else "traffic",
        "traffic": ",".join(item.traffic) or None,
        "status_record": item.record.id if item.record else None,
        "conflicts": ",".join(o.id for o in item.conflicts) or None,
        "conflicted": item.is_conflicted,
    }


def _evidence(record: Observation | None, supporting: int) -> dict[str, object]:
    """Return the record a status is best checked on: its date, its source and its words."""
    if record is None:
        return {**dict.fromkeys(_EVIDENCE_COLUMNS), "supporting_records": 0, "border_wide": False}
    return {
        "evidence_record": record.id,
        "evidence_date": record.date.start,
        "evidence_date_text": record.date.text,
        "evidence_precision": record.date.precision,
        "source_name": record.source_name,
        "source_url": record.source_url,
        **{f.name: getattr(record, f.name) or None for f in CARRIED_FIELDS},
        "supporting_records": supporting,
        "border_wide": record.crossing_id is None,
    }


def _frame(
    rows: Sequence[Mapping[str, object]],
    columns: Sequence[str],
    points: Iterable[LonLat | None],
) -> gpd.GeoDataFrame:
    """Lay rows out as a GeoDataFrame of ``columns``, with real dates and a point each."""
    import pandas as pd

    import geopandas as gpd
    from shapely import Point

    frame = pd.DataFrame(list(rows), columns=list(columns))
    for name in columns:
        if name in _DATES:
            frame[name] = pd.to_datetime(frame[name].astype(object))
        elif name in _FLAGS:
            frame[name] = frame[name].astype(bool)
        elif name in _COUNTS:
            frame[name] = frame[name].astype("Int64")
    geometry = gpd.GeoSeries(
        [Point(p) if p is not None else None for p in points], index=frame.index, crs="EPSG:4326"
    )
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


def _crossing_fields(crossing: Crossing) -> dict[str, object]:
    return {"crossing_id": crossing.id, "name_en": crossing.name_en}


def status_frame(store: str | Path = DEFAULT_STORE, *, as_of: When = None) -> gpd.GeoDataFrame:
    """Return every crossing's status on a day, one row a crossing, as ``crossings status`` does.

    Parameters
    ----------
    store : str or Path, default the inventory's store
        A GeoPackage path or a ``postgresql://`` URL.
    as_of : date, datetime, str or None, default None
        The day asked about (default: today, UTC). Text is YYYY, YYYY-MM or
        YYYY-MM-DD; a year or a month means its last day.

    Returns
    -------
    GeoDataFrame
        Columns :data:`STATUS_COLUMNS` and ``geometry`` (the crossing's point,
        None where it has none), in EPSG:4326, in inventory order. ``status``
        is None where no record names the crossing; ``since`` is the day the
        status began; ``evidence_*``, ``source_*`` and the source's words
        (``source_quote``, ``quote_en``, ...) describe the record of the run a
        reader can check best, ``age_days`` its age on the day and
        ``uncertain`` whether it is over two years old.

    Raises
    ------
    RecordValidationError
        If ``as_of`` is not a date.

    Examples
    --------
    >>> status_frame(as_of="2021-13-01")
    Traceback (most recent call last):
    ...
    geo.errors.RecordValidationError: as_of: '2021-13-01' has no month 13...
    """
    day = _day(as_of, "as_of")
    rows, points = [], []
    for item in list_crossings(store, as_of=day):
        answer, crossing = item.status, item.crossing
        since = answer.since_record.date.text if answer.since_record else _iso(answer.since)
        rows.append(
            {
                **_crossing_fields(crossing),
                "name_zh": crossing.name_zh,
                "name_ko": crossing.name_ko,
                "as_of": answer.as_of,
                **_state(answer),
                "since": answer.since,
                "since_text": since,
                **_evidence(answer.evidence, answer.supporting),
                "age_days": answer.evidence_age_days,
                "uncertain": answer.is_uncertain,
            }
        )
        points.append(crossing.location)
    return _frame(rows, STATUS_COLUMNS, points)


def periods_frame(
    store: str | Path = DEFAULT_STORE, since: When = None, until: When = None
) -> gpd.GeoDataFrame:
    """Return each crossing's status timeline (:func:`geo.status.status_timeline`), a row a period.

    A period runs from ``start`` up to the next period's ``start`` (its
    ``end``, the first day it no longer holds), NaT for the last: a crossing's
    rows tile its timeline from its first status record on. A new period
    starts whenever the status, its deciding record or its evidence changes,
    so two rows in a row may share a status (``since`` is the day that status
    began; the KML export draws such rows as one period).

    Parameters
    ----------
    store : str or Path, default the inventory's store
        A GeoPackage path or a ``postgresql://`` URL.
    since : date, datetime, str or None, default None
        Only periods that hold on this day or later (default: all).
    until : date, datetime, str or None, default None
        The last day followed (default: today); a year or a month means its last day.

    Returns
    -------
    GeoDataFrame
        Columns :data:`PERIOD_COLUMNS` and ``geometry`` (the crossing's point),
        by crossing in inventory order, then by ``start``.

    Raises
    ------
    RecordValidationError
        If a date is malformed, or ``since`` is after ``until``.

    Examples
    --------
    >>> periods_frame(since="2024", until="2023")
    Traceback (most recent call last):
    ...
    geo.errors.RecordValidationError: since: '2024' is after until '2023'...
    """
    first_text, last_text = _range(since, until)
    first = _day(first_text, "since", end=False)
    rows, points = [], []
    for crossing, steps in timelines(store, until=_day(last_text, "until")):
        for n, step in enumerate(steps):
            end = steps[n + 1].since if n + 1 < len(steps) else None
            if first is not None and end is not None and end <= first:
                continue
            rows.append(
                {
                    **_crossing_fields(crossing),
                    "start": step.since,
                    "end": end,
                    **_state(step),
                    "since": step.run_since,
                    **_evidence(step.evidence, step.supporting),
                }
            )
            points.append(crossing.location)
    return _frame(rows, PERIOD_COLUMNS, points)


def changes_frame(
    store: str | Path = DEFAULT_STORE, since: When = None, until: When = None
) -> gpd.GeoDataFrame:
    """Return each change of a crossing's status between two days, as ``crossings changes`` does.

    A change happens on the day a record begins to count (a month or a year
    on its last day), or on the day after a temporary record ends; then
    ``record`` is None and ``cause`` says so.

    Parameters
    ----------
    store : str or Path, default the inventory's store
        A GeoPackage path or a ``postgresql://`` URL.
    since : date, datetime, str or None, default None
        The first day (default: from the first record). ``2020`` starts on 1 January.
    until : date, datetime, str or None, default None
        The last day (default: today). ``2023`` ends on 31 December.

    Returns
    -------
    GeoDataFrame
        Columns :data:`CHANGE_COLUMNS` and ``geometry`` (the crossing's point),
        by crossing in inventory order, then by ``day``. ``from_text`` and
        ``to_text`` say the statuses as a reader does; ``summary`` and
        ``source_*`` are the record's.

    Raises
    ------
    RecordValidationError
        If a date is malformed, or ``since`` is after ``until``.

    Examples
    --------
    >>> changes_frame(since="2020-02-30")
    Traceback (most recent call last):
    ...
    geo.errors.RecordValidationError: since: '2020-02-30' is not a calendar date...
    """
    first, last = _range(since, until)
    rows, points = [], []
    for found in transitions(store, first, last):  # type: ignore[arg-type]
        record = found.record
        rows.append(
            {
                **_crossing_fields(found.crossing),
                "day": found.day,
                "from_status": found.before,
                "to_status": found.after,
                "from_text": found.before_text,
                "to_text": found.after_text,
                "cause": found.cause,
                "record": record.id if record else None,
                "record_date": record.date.start if record else None,
                "record_date_text": record.date.text if record else None,
                "summary": record.summary if record else None,
                "source_name": record.source_name if record else None,
                "source_url": record.source_url if record else None,
                "border_wide": bool(record and record.crossing_id is None),
            }
        )
        points.append(found.crossing.location)
    return _frame(rows, CHANGE_COLUMNS, points)


def observations_frame(
    store: str | Path = DEFAULT_STORE, crossing: str | None = None
) -> gpd.GeoDataFrame:
    """Return the observations, one row a record, oldest first, with real dates and points.

    Every stored record, those later corrected or withdrawn included
    (``superseded`` marks them; a withdrawal is ``kind == "retraction"``).

    Parameters
    ----------
    store : str or Path, default the inventory's store
        A GeoPackage path or a ``postgresql://`` URL.
    crossing : str or None, default None
        A crossing's id or any of its names (or a part only one crossing
        has): its records and the border-wide ones, as its history lists
        them; ``"border"``: the border-wide records alone; None: every record.

    Returns
    -------
    GeoDataFrame
        The observation layer's columns (``crossing_id`` missing for a
        border-wide record), ``date_start``, ``date_end`` (the first and last
        day the ``date`` text can mean), ``until_end`` and ``recorded_at`` as
        datetimes, ``superseded``, and ``geometry``: the record's own point,
        or its crossing's (``has_own_location`` says which), None for a
        border-wide record without one. EPSG:4326.

    Raises
    ------
    UnknownCrossingError
        If ``crossing`` names no crossing.
    """
    import pandas as pd

    with open_store(store) as opened:
        found = None
        if crossing is not None:
            found = resolve_crossing_id(
                crossing, opened.crossings(), field="crossing", partial=True
            )
        frame = opened.observations_frame()
    frame["superseded"] = frame["id"].isin(set(frame["replaces"].dropna()))
    if crossing is not None:
        frame = frame[frame["crossing_id"].isna() | (frame["crossing_id"] == found)]
    for name in _OBSERVATION_DATES:
        if not pd.api.types.is_datetime64_any_dtype(frame[name]):
            frame[name] = pd.to_datetime(frame[name], utc=name == "recorded_at")
    return frame.reset_index(drop=True)
