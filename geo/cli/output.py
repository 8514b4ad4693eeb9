"""Formatting of results for the terminal: readable tables, JSON, CSV, GeoJSON.

stdout carries data only; an empty result is an empty list.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
import shutil
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import click

from geo.exchange import crossing_fields, csv_cell, observation_fields, structure_fields
from geo.status import describe_status

if TYPE_CHECKING:
    from datetime import date

    from geo.model import Observation
    from geo.status import StatusAnswer

__all__ = [
    "bounded",
    "crossing_fields",
    "distance_text",
    "echo_records",
    "emit",
    "emit_written",
    "evidence_fields",
    "evidence_line",
    "matrix_cell",
    "observation_fields",
    "plan_fields",
    "quote_lines",
    "rounded",
    "source_label",
    "status_fields",
    "structure_fields",
    "table",
    "terminal_safe",
    "terminal_width",
    "wrapped",
]

Row = Mapping[str, object]

# What a terminal would act on rather than show: control characters (but a newline and a
# tab) as their visible pictures (ESC as ␛), C1 controls and text-reordering marks as �.
_SHOWN = {code: chr(0x2400 + code) for code in range(0x20) if chr(code) not in "\n\t"}
_SHOWN |= {0x7F: "\u2421"} | dict.fromkeys(range(128, 160), "�")
_SHOWN |= {ord(c): "\ufffd" for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"}


def distance_text(metres: float) -> str:
    """Say a distance as a reader would: metres up to 10 km, kilometres beyond.

    >>> distance_text(845.26), distance_text(12_345.6), distance_text(580_798.9)
    ('845 m', '12.3 km', '580.8 km')
    """
    return f"{metres:,.0f} m" if metres < 10_000 else f"{metres / 1000:,.1f} km"


def terminal_safe(text: str) -> str:
    """Return text with every character a terminal would act on made visible.

    A shared store may hold any text; ``ESC ]0;title`` or ``ESC [2J`` must show,
    not retitle or clear the terminal. JSON keeps its own escapes (``\\u001b``).

    >>> terminal_safe("Gate \x1b[2J opened")
    'Gate ␛[2J opened'
    """
    return text.translate(_SHOWN)


def emit(text: str = "", *, nl: bool = True, err: bool = False) -> None:
    """Print to stdout (or stderr) with nothing a terminal would act on: see terminal_safe."""
    click.echo(terminal_safe(text), nl=nl, err=err)


def bounded(message: str, longest: int = 300) -> str:
    """Return a message with every run of text without a space cut to ``longest`` characters.

    An error may repeat what it was given (a path, an address); a 100,000-character
    argument must not come back whole.

    Examples
    --------
    >>> bounded("bad: " + "y" * 400, 10)
    'bad: yyyyyyyyyy… (400 characters)'
    """
    return re.sub(
        rf"\S{{{longest + 1},}}", lambda m: f"{m[0][:longest]}… ({len(m[0]):,} characters)", message
    )


def emit_written(text: str, written: str) -> None:
    """Print the answer of a command whose write is done: no fault of the output undoes it.

    Where standard output cannot take the answer (a full disk, a closed pipe
    or file), the command still succeeds: one line on stderr says what was
    written, so the user knows not to run it again. A reader that stops
    reading (``| head``) is no fault: the command finishes its writes quietly.
    """
    try:
        emit(text)
        sys.stdout.flush()
    except OSError as err:
        # Nothing more may reach the broken output, not even at exit; the command goes on.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if isinstance(err, BrokenPipeError):  # the reader stopped reading (`| head`): no fault
            return
        emit(
            f"Written: {written}. Its answer could not be printed ({err.strerror or err}); "
            "nothing needs to be done again.",
            err=True,
        )


def _width(text: str) -> int:
    """Columns a text takes in a terminal: CJK and hangul take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def terminal_width() -> int:
    """Columns of the terminal (COLUMNS where set); 120 when the output is not a terminal."""
    return shutil.get_terminal_size((120, 24)).columns


def _wrap(text: str, width: int) -> list[str]:
    """Wrap text to ``width`` display columns at spaces; a longer word breaks between characters.

    Full-width characters count two columns and are never split.

    >>> _wrap("Quanhe–Wonjong bridge", 10)
    ['Quanhe–Won', 'jong', 'bridge']
    >>> _wrap("원정리 통상구", 6)
    ['원정리', '통상구']
    """
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if _width(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for ch in word:  # a word wider than the cell: break it between characters
            if _width(line + ch) > width and line:
                lines.append(line)
                line = ""
            line += ch
    return [*lines, line] if line or not lines else lines


def wrapped(text: str, width: int | None = None) -> str:
    """Wrap a line of text to the terminal (``width=0``: leave it whole), indenting the rest."""
    room = terminal_width() if width is None else width
    if room == 0 or _width(text) <= room:
        return text
    body = text.lstrip(" ")
    indent = text[: len(text) - len(body)]  # kept on every line, as the first line has it
    return indent + ("\n" + indent + "    ").join(_wrap(body, room - len(indent) - 4))


def table(rows: Sequence[Row], columns: Sequence[str], *, width: int | None = None) -> str:
    """Return rows as an aligned text table that fits ``width`` columns (the terminal's).

    Cells keep their whole text: where the table would be too wide, the widest
    columns narrow and their cells wrap onto more lines. A column empty in
    every row is left out. ``width=0`` never wraps (``--format wide``: long
    lines, URLs whole on one line).
    """
    # A column empty in every row says nothing to a reader: it gives its room to the others.
    columns = [c for c in columns if not rows or any(row.get(c) not in (None, "") for row in rows)]
    cells = [[" ".join(str(row.get(c) or "").split()) for c in columns] for row in rows]
    natural = [
        max([_width(column)] + [_width(line[i]) for line in cells])
        for i, column in enumerate(columns)
    ]
    widths = natural[:]
    room = (terminal_width() if width is None else width) - 2 * (len(columns) - 1)
    if width != 0:
        # A column of single words (ids, dates) keeps its width; a text column narrows to 10.
        floors = [
            n
            if n <= 24 and all(" " not in line[i] for line in cells)
            else min(n, max(_width(c), 10))
            for i, (n, c) in enumerate(zip(natural, columns, strict=True))
        ]
        # Text columns narrow first; then, if need be, the others too (ids then wrap).
        for floor in (floors, [min(n, 6) for n in natural]):
            while sum(widths) > room:
                widest = max(range(len(widths)), key=lambda i: widths[i] - floor[i])
                if widths[widest] <= floor[widest]:
                    break
                widths[widest] -= 1

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v + " " * (w - _width(v)) for v, w in zip(values, widths, strict=True)
        ).rstrip()

    def lines(values: Sequence[str]) -> list[str]:
        parts = [_wrap(value, w) for value, w in zip(values, widths, strict=True)]
        return [
            line([p[n] if n < len(p) else "" for p in parts])
            for n in range(max(len(p) for p in parts))
        ]

    out = [*lines(list(columns)), "  ".join("-" * w for w in widths)]
    for row in cells:
        out += lines(row)
    return "\n".join(out)


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


def matrix_cell(answer: StatusAnswer) -> str:
    """Return a status for one cell of a crossing x date table: status, since, marks."""
    if answer.record is None:
        return "unknown"
    since = answer.since_record.date.text if answer.since_record else _iso(answer.since)
    marks = ("?" if answer.is_uncertain else "") + ("!" if answer.is_conflicted else "")
    text = describe_status(answer.status, answer.traffic, is_lifecycle=answer.is_lifecycle)
    return f"{text} ({since}){' ' + marks if marks else ''}"


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


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def rounded(value: float | None, digits: int = 1) -> float | None:
    """Round a measurement for display; None stays None."""
    return None if value is None else round(value, digits)


def _feature(fields: Mapping[str, object]) -> dict[str, object]:
    lon, lat = fields.get("lon"), fields.get("lat")
    properties = {k: v for k, v in fields.items() if k not in ("lon", "lat")}
    geometry = {"type": "Point", "coordinates": [lon, lat]} if lon is not None else None
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def echo_records(
    rows: Iterable[Mapping[str, object]],
    output_format: str,
    *,
    columns: Sequence[str],
) -> None:
    """Print rows in the chosen format: ``table``, ``json``, ``csv`` or ``geojson``.

    JSON, GeoJSON and CSV are written a row at a time as ``rows`` yields them,
    so a long answer is never held whole; a table needs every row for its widths.
    """

    def write(text: str) -> None:
        emit(text, nl=False)

    if output_format in ("json", "geojson"):
        opening, closing = "[", "]"
        if output_format == "geojson":
            opening, closing = '{\n  "type": "FeatureCollection",\n  "features": [', "]\n}"
        write(opening)
        written = 0
        pad = "\n    " if output_format == "geojson" else "\n  "
        for row in rows:
            item = _feature(row) if output_format == "geojson" else row
            text = json.dumps(item, ensure_ascii=False, indent=2).replace("\n", pad)
            write(("," if written else "") + pad + text)
            written += 1
        if output_format == "json":
            write(("\n" if written else "") + closing + "\n")  # an empty answer is []
        else:
            write("\n  " + closing + "\n")
    elif output_format == "csv":
        iterator = iter(rows)
        first = next(iterator, None)
        fields = list(first) if first is not None else list(columns)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fields, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        for row in itertools.chain([first] if first is not None else [], iterator):
            # A cell a spreadsheet would run as a formula is quoted, as in exported files.
            writer.writerow({k: csv_cell(v) for k, v in row.items()})
            write(buffer.getvalue())
            buffer.seek(0)
            buffer.truncate()
        write(buffer.getvalue())
    else:
        emit(table(list(rows), columns, width=0 if output_format == "wide" else None))
