"""The answers to the questions as rows of JSON: what the commands print and the read API serves.

One function per kind of row, so that ``crossings status --format json`` and
``GET /api/status`` give the same fields, named once. The rows hold plain
values (text, numbers, lists, None), ready for ``json.dumps``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from geo.exchange import crossing_fields, observation_fields, structure_fields
from geo.fields import date_range
from geo.model import Sighting
from geo.status import describe_status, record_role

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from geo.browse import CrossingHistory
    from geo.model import Crossing, Observation
    from geo.questions import Change, Nearby, Transition
    from geo.status import StatusAnswer

__all__ = [
    "age_text",
    "around_row",
    "change_record_row",
    "change_window",
    "crossing_document",
    "distance_text",
    "evidence_fields",
    "evidence_line",
    "history_rows",
    "list_row",
    "near_crossing_row",
    "near_record_row",
    "plan_fields",
    "quote_lines",
    "rounded",
    "source_label",
    "status_fields",
    "status_row",
    "transition_row",
    "within_rows",
]


def distance_text(metres: float) -> str:
    """Say a distance as a reader would: metres up to 10 km, kilometres beyond.

    >>> distance_text(845.26), distance_text(12_345.6), distance_text(580_798.9)
    ('845 m', '12.3 km', '580.8 km')
    """
    return f"{metres:,.0f} m" if metres < 10_000 else f"{metres / 1000:,.1f} km"


def status_fields(answer: StatusAnswer) -> dict[str, object]:
    """Return a status answer as flat fields: the status, its evidence, its age and its plans."""
    record = answer.record
    since = answer.since_record
    return {
        "as_of": answer.as_of.isoformat(),
        "status": answer.status,
        "status_text": describe_status(
            answer.status, answer.traffic, is_lifecycle=answer.is_lifecycle
        ),
        "status_kind": "lifecycle" if answer.is_lifecycle else "traffic",
        "traffic": list(answer.traffic),
        "status_since": since.date.text if since else _iso(answer.since),
        "status_since_record": since.id if since else None,
        "status_record": record.id if record else None,
        "status_date": record.date.text if record else None,
        "status_source": record.source_name if record else None,
        "status_source_url": record.source_url if record else None,
        "status_source_is_mirror": bool(record and record.source_is_mirror),
        "status_border_wide": answer.is_border_wide,
        **evidence_fields(answer.evidence),
        "supporting_records": answer.supporting,
        "evidence_age_days": answer.evidence_age_days,
        "status_uncertain": answer.is_uncertain,
        "status_conflicts": [o.id for o in answer.conflicts],
        "plans": [plan_fields(p, answer.as_of) for p in answer.plans],
    }


def age_text(days: int) -> str:
    """Return an age as a reader says it: days under two months, then months, then years.

    Examples
    --------
    >>> age_text(12), age_text(200), age_text(1000)
    ('12 days', '7 months', '2.7 years')
    """
    if days < 60:
        return f"{days} days"
    if days < 730:
        return f"{round(days / 30.44)} months"
    return f"{days / 365.25:.1f} years"


def source_label(record: Observation) -> str:
    """Return a record's source name, saying when its address is a mirror of the original."""
    mirrored = record.source_is_mirror and "mirror" not in record.source_name.casefold()
    return record.source_name + (" (mirror)" if mirrored else "")


#: The evidence of a status as flat fields: the record, its source and its words.
_EVIDENCE_KEYS = (
    "evidence_record",
    "evidence_date",
    "evidence_source",
    "evidence_source_url",
    "evidence_source_detail",
    "evidence_quote",
    "evidence_quote_en",
    "evidence_checked_on",
    "evidence_archive_url",
)


def evidence_fields(record: Observation | None) -> dict[str, object]:
    """Return the evidence of a status as flat fields: the record, its source and its words."""
    if record is None:
        return dict.fromkeys(_EVIDENCE_KEYS)
    values = (
        record.id,
        record.date.text,
        record.source_name,
        record.source_url,
        record.source_detail,
        record.source_quote,
        record.quote_en,
        record.checked_on,
        record.archive_url,
    )
    return {key: value or None for key, value in zip(_EVIDENCE_KEYS, values, strict=True)}


def evidence_line(answer: StatusAnswer) -> str:
    """Return the record a status is best checked on, its date, age and source, in one line.

    How many more records of the run say the same follows the age.
    """
    record = answer.evidence
    if record is None:
        return ""
    age = answer.evidence_age_days or 0
    # The source's name is often long: it comes last, so a narrow table cuts only it.
    parts = [
        record.id + (" (border-wide)" if record.crossing_id is None else ""),
        record.date.text,
        f"{age_text(age)} old" + (" ?" if answer.is_uncertain else ""),
    ]
    if answer.supporting > 1:
        more = answer.supporting - 1
        parts.append(f"{more} more record{'s agree' if more > 1 else ' agrees'}")
    if answer.is_conflicted:
        parts.append("CONFLICT: " + ", ".join(o.id for o in answer.conflicts))
    parts.append(source_label(record))
    return ", ".join(parts)


def quote_lines(record: Observation) -> list[str]:
    """Return the source's words behind a record, and where its source can be read, as lines.

    Where the record has no web address, the reason its source detail gives.
    """

    def quoted(text: str) -> str:  # a text that opens with its own quotation mark keeps it
        return text if text[:1] in "\"“«「『'‘" else f"“{text}”"

    lines = []
    if record.source_quote:
        lines.append(f"quote: {quoted(record.source_quote)}")
        if record.quote_en:
            lines.append(f"in English: {quoted(record.quote_en)}")
        checked = f"checked on {record.checked_on}" if record.checked_on else "not checked"
        lines.append(checked + (f"; a copy: {record.archive_url}" if record.archive_url else ""))
    else:
        lines.append("quote: none - no copy of the source was read")
    if record.source_url is None:
        lines.append(f"no web address: {record.source_detail or 'the record does not say why'}")
    return lines


def plan_fields(plan: Observation, as_of: date) -> dict[str, object]:
    """Return a plan as flat fields, with whether its expected date has passed on ``as_of``."""
    expected = plan.expected
    return {
        "record": plan.id,
        "announced": plan.date.text,
        "expected": expected.text if expected else None,
        "status": plan.status,
        "traffic": list(plan.traffic),
        "summary": plan.summary,
        "source": plan.source_name,
        "date_passed": bool(expected and expected.end < as_of),
    }


def rounded(value: float | None, digits: int = 1) -> float | None:
    """Round a measurement for display; None stays None."""
    return None if value is None else round(value, digits)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _point(fields: dict[str, Any], record: Observation | Sighting) -> dict[str, Any]:
    """Add a record's own point to its fields (lon, lat), where it has one."""
    if record.location is not None:
        fields["lon"], fields["lat"] = record.location.lon, record.location.lat
    return fields


def _crossing_point(crossing: Crossing) -> dict[str, float | None]:
    location = crossing.location
    return {"lon": location.lon if location else None, "lat": location.lat if location else None}


def list_row(crossing: Crossing, answer: StatusAnswer) -> dict[str, object]:
    """Return a crossing of ``crossings list``: its fields, its status and the evidence line."""
    fields = {**crossing_fields(crossing), **status_fields(answer)}
    fields["since"] = fields["status_since"] or ""
    fields["evidence"] = evidence_line(answer) or "no record names this crossing"
    return fields


def status_row(crossing: Crossing, answer: StatusAnswer) -> dict[str, object]:
    """Return a crossing of ``crossings status`` on one day: its status, evidence and words."""
    return {
        "id": crossing.id,
        "name_en": crossing.name_en,
        **status_fields(answer),
        "evidence": evidence_line(answer),
        "quote": " / ".join(quote_lines(answer.evidence)) if answer.evidence else "",
        **_crossing_point(crossing),
    }


def history_rows(
    records: Iterable[Observation], superseded: frozenset[str], crossing_id: str
) -> list[dict[str, object]]:
    """Return a crossing's records as ``crossings show`` lists them, each with its role."""
    rows = []
    for record in records:
        fields = observation_fields(record)
        fields["when"] = record.date.text
        fields["source"] = source_label(record) + (
            f" <{record.source_url}>" if record.source_url else ""
        )
        fields["scope"] = "border-wide" if record.crossing_id is None else ""
        fields["superseded"] = record.id in superseded
        fields["rule"] = record_role(record, crossing_id, superseded=superseded, iso=True)
        rows.append(fields)
    return rows


def crossing_document(
    history: CrossingHistory, rows: Sequence[dict[str, object]]
) -> dict[str, object]:
    """Return ``crossings show --format json``: the crossing, status, structures and history."""
    structures = [
        {
            **structure_fields(s.structure),
            "lifecycle": s.lifecycle,
            "lifecycle_record": s.record.id if s.record else None,
        }
        for s in history.structures
    ]
    return {
        "crossing": crossing_fields(history.crossing),
        "status": status_fields(history.status),
        "structures": structures,
        "history": list(rows),
    }


def change_window(
    since: str | None, until: str | None, *, names: tuple[str, str] = ("--from", "--to")
) -> tuple[str, str]:
    """Return the dates ``crossings changes`` asks about: the last twelve months by default.

    Without ``since``, the year that ends on ``until`` (default: today, UTC).

    Raises
    ------
    RecordValidationError
        If a date is malformed, or ``since`` is after ``until``.
    """
    today = datetime.now(UTC).date()
    if since is None:  # a year back from the last day asked (today by default)
        last = date_range(None, until, names=names)[1] or today
        since = (last - timedelta(days=365) + timedelta(days=1)).isoformat()
    return since, until or today.isoformat()


def transition_row(found: Transition) -> dict[str, object]:
    """Return a status change of ``crossings changes``: day, from, to and the record."""
    record = found.record
    return {
        "crossing_id": found.crossing.id,
        "day": found.day.isoformat(),
        "from": found.before_text,
        "to": found.after_text,
        "from_status": found.before,
        "to_status": found.after,
        "record": record.id if record else None,
        "record_date": record.date.text if record else None,
        "source": record.source_name if record else found.cause,
        "border_wide": bool(record and record.crossing_id is None),
        **_crossing_point(found.crossing),
    }


def change_record_row(change: Change) -> dict[str, object]:
    """Return a record of ``crossings changes --records``, with its crossing's name."""
    fields = observation_fields(change.record)
    fields["crossing"] = change.crossing.name_en if change.crossing else "(border-wide)"
    fields["source"] = change.record.source_name
    return fields


def _measured(found: Nearby[Any]) -> dict[str, object]:
    return {
        "distance_m": round(found.distance_m, 1),
        "distance": distance_text(found.distance_m),
        "bearing_deg": rounded(found.bearing_deg),
    }


def near_crossing_row(found: Nearby[Crossing]) -> dict[str, object]:
    """Return a crossing of ``crossings near``: its fields, distance and bearing."""
    return {**crossing_fields(found.item), **_measured(found)}


def near_record_row(found: Nearby[Observation]) -> dict[str, object]:
    """Return a record of ``crossings near --observations``: its fields, distance and bearing."""
    return {**observation_fields(found.item), **_measured(found)}


def around_row(found: Nearby[Any]) -> dict[str, object]:
    """Return a record of ``crossings around`` (whole, or light): fields, point, distance."""
    record = found.item
    if isinstance(record, Sighting):
        fields: dict[str, Any] = {**record._asdict(), "date": record.date_text}
    else:
        fields = observation_fields(record)
    return {**_point(fields, record), **_measured(found)}


def within_rows(
    crossings: Iterable[Crossing], observations: Iterable[Observation]
) -> list[dict[str, object]]:
    """Return the answer of ``crossings within``: the crossings, then the records, typed."""
    rows = [{"type": "crossing", **crossing_fields(c)} for c in crossings]
    for record in observations:
        rows.append({"type": "observation", **_point(observation_fields(record), record)})
    return rows
