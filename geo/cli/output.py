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
from typing import TYPE_CHECKING, NamedTuple

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


#: A text column of a table is never narrower than this (nor than its longest word up to
#: _WORD_MAX): where the table cannot give it that, its long texts go under each row.
_TEXT_MIN = 16
#: Words up to this width (ids, dates, numbers, names) are never cut; a longer word may be.
_WORD_MAX = 30
#: A column of web addresses gives each at least this width (its host and its last part).
_URL_MIN = 32
#: A text column this narrow (a distance, a short phrase) stays on the first line of a row.
_SHORT_TEXT = 24
#: A web address as a word of text: brackets and punctuation around it stay whole.
_URL = re.compile(
    r"(?P<lead>[<(\[\"'“‘]*)(?P<url>[A-Za-z][A-Za-z0-9+.-]*://[^\s<>]+?)(?P<trail>[>)\]\"'”’.,;:]*)"
)


def _width(text: str) -> int:
    """Columns a text takes in a terminal: CJK and hangul take two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def terminal_width() -> int:
    """Columns of the terminal (COLUMNS where set); 120 when the output is not a terminal."""
    return shutil.get_terminal_size((120, 24)).columns


def _cut(text: str, width: int) -> str:
    """Return text cut to ``width`` columns with an ellipsis at its end (whole if it fits).

    >>> _cut("Quanhe–Wonjong", 8), _cut("圈河口岸", 5), _cut("圈河", 4)
    ('Quanhe–…', '圈河…', '圈河')
    """
    if _width(text) <= width:
        return text
    kept: list[str] = []
    used = 1  # the ellipsis
    for ch in text:
        used += _width(ch)
        if used > width:
            break
        kept.append(ch)
    return "".join(kept) + "…"


def _short_url(url: str, width: int) -> str:
    """Return a web address in ``width`` columns: its host, an ellipsis and its last part.

    As many of the path's first folders as fit stay; where even the host and the
    last part are too long, the end of the last part; where that leaves too
    little of it, the address is cut at its end.

    >>> url = "https://www.nknews.org/2025/05/trade/opening-ceremony"
    >>> _short_url(url, 41)
    'https://www.nknews.org/…/opening-ceremony'
    >>> _short_url(url, 49)
    'https://www.nknews.org/2025/05/…/opening-ceremony'
    >>> _short_url(url, 34), _short_url(url, 24)
    ('https://www.nknews.org/…ceremony', 'https://www.nknews.org/…')
    """
    if _width(url) <= width:
        return url
    scheme, _, rest = url.partition("://")
    host, _, path = rest.partition("/")
    folders = path.split("/")
    last = folders.pop()
    if not last and folders:  # an address ending with a slash keeps it on its last part
        last = folders.pop() + "/"
    for kept in range(len(folders) - 1, -1, -1):  # the most first folders that fit
        if kept and folders[kept - 1].endswith(":"):  # an address inside it keeps its "//"
            continue
        text = "/".join([f"{scheme}://{host}", *folders[:kept], "…", last])
        if _width(text) <= width:
            return text
    start = f"{scheme}://{host}/…"
    room = width - _width(start)
    if room < 8:  # too little of the last part would show: the address is cut at its end
        return _cut(url, width)
    tail = last[-room:]
    while _width(tail) > room:
        tail = tail[1:]
    cut = min((tail.find(c) for c in "-_.=&?" if 0 <= tail.find(c) < len(tail) - 4), default=-1)
    return start + tail[cut + 1 :]  # from a word's start: "…trade-rises/" not "…ade-rises/"


def _fit(word: str, width: int) -> str:
    """Return a word in ``width`` columns: whole, a web address shortened, any other cut."""
    if _width(word) <= width:
        return word
    found = _URL.fullmatch(word)
    if found is None:
        return _cut(word, width)
    lead, trail = found["lead"], found["trail"]
    room = width - _width(lead) - _width(trail)
    return lead + _short_url(found["url"], room) + trail if room >= 12 else _cut(word, width)


def _wrap(text: str, width: int, *, hang: int = 0) -> list[str]:
    """Wrap text to ``width`` columns at spaces; lines after the first are ``hang`` narrower.

    A word never breaks across lines: one too long for a line of its own is
    shortened with an ellipsis (a web address in its middle, any other word at
    its end). Full-width characters count two columns.

    >>> _wrap("Quanhe–Wonjong bridge", 10)
    ['Quanhe–Wo…', 'bridge']
    >>> _wrap("원정리 통상구", 6)
    ['원정리', '통상구']
    >>> _wrap("source: <https://www.nknews.org/2025/05/trade/opening-ceremony>", 44)
    ['source:', '<https://www.nknews.org/…/opening-ceremony>']
    """
    lines: list[str] = []
    line, used, room = "", 0, width
    for word in text.split():
        size = _width(word)
        if line and used + 1 + size <= room:
            line, used = f"{line} {word}", used + 1 + size
            continue
        if line:
            lines.append(line)
            room = width - hang
        line = _fit(word, room)
        used = _width(line)
    return [*lines, line]


def wrapped(text: str, width: int | None = None) -> str:
    """Wrap a line of text to the terminal (``width=0``: leave it whole), indenting the rest.

    It breaks at spaces only; a web address too long for a line is shortened in
    its middle (``--format wide`` keeps it whole).
    """
    room = terminal_width() if width is None else width
    if room == 0 or _width(text) <= room:
        return text
    body = text.lstrip(" ")
    indent = text[: len(text) - len(body)]  # kept on every line, as the first line has it
    lines = _wrap(body, max(room - len(indent), 16), hang=4)
    return indent + ("\n" + indent + "    ").join(lines)


def _cell(value: object) -> str:
    """Return a value as a table shows it: a number with thousands separators, text on one line.

    >>> _cell(2730000000), _cell(0.0), _cell(None), _cell(" two\\n lines ")
    ('2,730,000,000', '0.0', '', 'two lines')
    """
    if value is None or value is False:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:,}"
    return " ".join(str(value).split())


def _header(name: str, width: int) -> list[str]:
    """Return a column's name in ``width`` columns, on more lines after its underscores.

    >>> _header("lifecycle_record", 12), _header("lifecycle_record", 16)
    (['lifecycle_', 'record'], ['lifecycle_record'])
    """
    lines = [""]
    for part in _name_parts(name):
        if lines[-1] and _width(lines[-1] + part) > width:
            lines.append("")
        lines[-1] += part
    return [_cut(line, width) for line in lines]


def _name_parts(name: str) -> list[str]:
    """Return a column's name in the parts a narrow column shows a line each."""
    return re.findall(r"[^_]*_|[^_]+", name)


class _Column(NamedTuple):
    """A table's column: its name, widest cell, narrowest width, and whether it is one word."""

    name: str
    natural: int
    floor: int
    fixed: bool  # each cell a single word (an id, a date, a number): never wrapped nor cut


def _measure(name: str, texts: Sequence[str]) -> _Column:
    """Measure a column: an id, a date or a number keeps its width, a text may narrow."""
    natural = max([_width(name), *map(_width, texts)])
    heading = max(map(_width, _name_parts(name)), default=0)  # the name's longest part
    fixed = all(" " not in text and not _URL.fullmatch(text) for text in texts if text)
    if fixed:
        return _Column(name, natural, max([heading, *map(_width, texts)]), fixed=True)
    words = [word for text in texts for word in text.split()]
    longest = max((_width(w) for w in words if not _URL.fullmatch(w)), default=0)
    address = max((_width(w) for w in words if _URL.fullmatch(w)), default=0)
    floor = max(heading, min(natural, _TEXT_MIN), min(longest, _WORD_MAX), min(address, _URL_MIN))
    return _Column(name, natural, floor, fixed=False)


def _flat_widths(columns: Sequence[_Column], room: int) -> list[int] | None:
    """Return the widths of a table of one column per field in ``room``, or None if none fit.

    Column names wrap first (after an underscore), then the widest text narrows.
    """
    if sum(c.floor for c in columns) > room:
        return None
    widths = [c.natural for c in columns]
    for narrowing in ([c.fixed for c in columns], [True] * len(columns)):
        while sum(widths) > room:
            slack = [
                w - c.floor if n else 0 for w, c, n in zip(widths, columns, narrowing, strict=True)
            ]
            widest = max(range(len(widths)), key=slack.__getitem__)
            if slack[widest] <= 0:
                break
            widths[widest] -= 1
    return widths


def _aligned(parts: Sequence[Sequence[str]], widths: Sequence[int]) -> list[str]:
    """Return the lines of one row whose cells are given as lines, side by side."""
    return [
        "  ".join(
            text + " " * (w - _width(text))
            for text, w in zip((p[n] if n < len(p) else "" for p in parts), widths, strict=True)
        ).rstrip()
        for n in range(max(map(len, parts)))
    ]


def _flat(
    columns: Sequence[_Column], cells: Sequence[Sequence[str]], widths: list[int]
) -> list[str]:
    """Return a table of one column per field, its texts wrapped at spaces."""
    lines = _aligned([_header(c.name, w) for c, w in zip(columns, widths, strict=True)], widths)
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines += _aligned([_wrap(text, w) for text, w in zip(row, widths, strict=True)], widths)
    return lines


def _stacked(columns: Sequence[_Column], cells: Sequence[Sequence[str]], room: int) -> list[str]:
    """Return a table too wide for its texts: short fields in columns, the others under them.

    Each row's ids, dates and numbers (and its short texts, if they fit) are on its
    first line, in columns; every other field is below it, one ``name: text``
    a line, wrapped at spaces.
    """
    head: list[int] = []
    used = -2
    for fixed in (True, False):  # ids, dates and numbers first; then short texts that fit
        for i, column in enumerate(columns):
            size = column.floor if column.fixed else column.natural
            short = column.fixed or column.natural <= _SHORT_TEXT
            if column.fixed == fixed and short and used + 2 + size <= room:
                head.append(i)
                used += 2 + size
    head = sorted(head) or [0]
    widths = [min(columns[i].floor if columns[i].fixed else columns[i].natural, room) for i in head]
    lines = _aligned(
        [_header(columns[i].name, w) for i, w in zip(head, widths, strict=True)], widths
    )
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines += _aligned([[_fit(row[i], w)] for i, w in zip(head, widths, strict=True)], widths)
        for i, column in enumerate(columns):
            if i not in head and row[i]:
                text = _wrap(f"{column.name}: {row[i]}", max(room - 4, 16), hang=2)
                lines += ["    " + text[0], *("      " + line for line in text[1:])]
    return lines


def table(rows: Sequence[Row], columns: Sequence[str], *, width: int | None = None) -> str:
    """Return rows as an aligned text table that fits ``width`` columns (the terminal's).

    Text wraps at spaces only. A column of single words (ids, dates, numbers)
    keeps its widest word; the text columns share the rest, each at least 16
    columns wide (or as wide as its longest word, up to 30). Where that does
    not fit, each row shows its ids, dates, numbers and short texts on one
    line and its long texts under it, one ``name: text`` a line. A web address
    too long for its room is shortened in its middle, a word longer than 30
    columns cut, both with an ellipsis. Numbers have thousands separators. A
    column empty in every row is left out. ``width=0`` never wraps
    (``--format wide``: long lines, web addresses whole).

    Examples
    --------
    >>> rows = [{"id": "o-769ff1188d", "value_usd": 2730000000, "source": "Free Malaysia Today"}]
    >>> print(table(rows, ["id", "value_usd", "source"], width=45))
    id            value_usd      source
    ------------  -------------  ----------------
    o-769ff1188d  2,730,000,000  Free Malaysia
                                 Today
    >>> print(table(rows, ["id", "value_usd", "source"], width=40))
    id            value_usd
    ------------  -------------
    o-769ff1188d  2,730,000,000
        source: Free Malaysia Today
    """
    texts = [[_cell(row.get(c)) for c in columns] for row in rows]
    # A column empty in every row says nothing to a reader: it gives its room to the others.
    kept = [i for i in range(len(columns)) if not rows or any(line[i] for line in texts)]
    cells = [[line[i] for i in kept] for line in texts]
    measured = [_measure(columns[i], [line[n] for line in cells]) for n, i in enumerate(kept)]
    if not measured:
        return ""
    room = terminal_width() if width is None else width
    if room == 0:
        return "\n".join(_flat(measured, cells, [c.natural for c in measured]))
    widths = _flat_widths(measured, room - 2 * (len(measured) - 1))
    lines = _stacked(measured, cells, room) if widths is None else _flat(measured, cells, widths)
    return "\n".join(lines)


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
        context = click.get_current_context(silent=True)
        if context is not None and context.find_root().meta.get("csv_bom"):
            buffer.write("\ufeff")  # --bom: Excel then reads the text as UTF-8
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
