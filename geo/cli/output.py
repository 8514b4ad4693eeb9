"""Formatting of results for the terminal: readable tables, JSON, CSV, GeoJSON.

stdout carries data only; an empty result is an empty list.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import operator
import os
import re
import shutil
import sys
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import click

from geo.answers import (
    distance_text,
    evidence_fields,
    evidence_line,
    plan_fields,
    quote_lines,
    rounded,
    source_label,
    status_fields,
)
from geo.exchange import (
    CSV_QUOTED_STARTS,
    crossing_fields,
    csv_cell,
    observation_fields,
    structure_fields,
)
from geo.questions import Chunked
from geo.status import describe_status

if TYPE_CHECKING:
    from datetime import date

    from geo.status import StatusAnswer

__all__ = [
    "bounded",
    "cells_table",
    "crossing_fields",
    "distance_text",
    "echo_blocks",
    "echo_records",
    "echo_rows",
    "emit",
    "emit_written",
    "evidence_fields",
    "evidence_line",
    "matrix_cell",
    "observation_fields",
    "plan_fields",
    "quote_lines",
    "record_blocks",
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
#: Any of the characters of _SHOWN: a text without one is shown as it is, without a copy.
_UNSAFE = re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(_SHOWN)) + "]")
#: The bytes of UTF-8 that start none of them: the C0 controls and DEL are theirs, and C1
#: controls start with 0xC2, the text-reordering marks with 0xE2.
_NOT_SHOWN_BYTES = bytes(
    b for b in range(256) if b not in (0xC2, 0xE2) and not (b < 0x80 and b in _SHOWN)
)


def _is_shown_as_is(text: str) -> bool:
    """Whether a text holds none of the characters of _SHOWN (about a nanosecond a character).

    Its UTF-8 less every byte that starts none of them leaves the controls and
    the first bytes of the characters to look at closer, seldom many.
    """
    encoded = text.encode("utf-8", "surrogatepass")
    starts = encoded.translate(None, _NOT_SHOWN_BYTES)
    if not starts:
        return True
    if starts.translate(None, b"\xc2\xe2") or len(starts) > 4096:  # a control, or many to see
        return _UNSAFE.search(text) is None
    at = -1
    for first in starts:
        at = encoded.index(first, at + 1)
        if ord(encoded[at : at + (3 if first == 0xE2 else 2)].decode()) in _SHOWN:
            return False
    return True


def terminal_safe(text: str) -> str:
    """Return text with every character a terminal would act on made visible.

    A shared store may hold any text; ``ESC ]0;title`` or ``ESC [2J`` must show,
    not retitle or clear the terminal. JSON keeps its own escapes (``\\u001b``).

    >>> terminal_safe("Gate \x1b[2J opened")
    'Gate ␛[2J opened'
    """
    return text if _is_shown_as_is(text) else text.translate(_SHOWN)


def emit(text: str = "", *, nl: bool = True, err: bool = False) -> None:
    """Print to stdout (or stderr) with nothing a terminal would act on: see terminal_safe."""
    # color=True: click need not look for colour codes to strip, terminal_safe left none.
    click.echo(terminal_safe(text), nl=nl, err=err, color=True)


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
    measure = len if text.isascii() else _width
    lines: list[str] = []
    line, used, room = "", 0, width
    for word in text.split():
        size = measure(word)
        if line and used + 1 + size <= room:
            line, used = f"{line} {word}", used + 1 + size
            continue
        if line:
            lines.append(line)
            room = width - hang
        if size <= room:
            line, used = word, size
        else:
            line = _fit(word, room)
            used = _width(line)
    return [*lines, line]


def _cell_lines(text: str, width: int) -> list[str]:
    """Return a table's cell (its spaces single, as _cell gives it) wrapped to ``width``."""
    return [text] if _width(text) <= width else _wrap(text, width)


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
    """Measure a column: an id, a date or a number keeps its width, a text may narrow.

    In one pass over its texts; a web address holds "://", so only words that
    do are matched against _URL.
    """
    measure = len if all(map(str.isascii, texts)) else _width
    widest = max(map(measure, texts), default=0)
    natural = max(_width(name), widest)
    heading = max(map(_width, _name_parts(name)), default=0)  # the name's longest part
    joined = "\n".join(texts)
    linked = "://" in joined
    fixed = " " not in joined and not (linked and any(_URL.fullmatch(t) for t in texts))
    if fixed:
        return _Column(name, natural, max(heading, widest), fixed=True)
    words = joined.split()
    if linked:
        addresses = {w for w in words if "://" in w and _URL.fullmatch(w)}
        longest = max((measure(w) for w in words if w not in addresses), default=0)
        address = max(map(measure, addresses), default=0)
    else:
        longest, address = max(map(measure, words), default=0), 0
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


class _Laid(dict[str, list[str]]):
    """A column's cells as lines padded to its width: each text laid out once, however often met.

    A text is wrapped at spaces (``fit``: kept on one line, shortened if need be).
    """

    def __init__(self, width: int, *, fit: bool = False) -> None:
        super().__init__()
        self.width = width
        self.fit = fit

    def __missing__(self, text: str) -> list[str]:
        lines = [_fit(text, self.width)] if self.fit else _cell_lines(text, self.width)
        self[text] = laid = [line + " " * (self.width - _width(line)) for line in lines]
        return laid


def _side_by_side(laid: Sequence[list[str]], blanks: Sequence[str]) -> list[str]:
    """Return the lines of a row whose cells are laid out (_Laid), side by side."""
    if all(len(lines) == 1 for lines in laid):  # most rows: one line
        return ["  ".join([lines[0] for lines in laid]).rstrip()]
    return [
        "  ".join(
            [
                lines[n] if n < len(lines) else blank
                for lines, blank in zip(laid, blanks, strict=True)
            ]
        ).rstrip()
        for n in range(max(map(len, laid)))
    ]


def _flat(
    columns: Sequence[_Column], cells: Sequence[Sequence[str]], widths: list[int]
) -> list[str]:
    """Return a table of one column per field, its texts wrapped at spaces."""
    lines = _aligned([_header(c.name, w) for c, w in zip(columns, widths, strict=True)], widths)
    lines.append("  ".join("-" * w for w in widths))
    laid = [_Laid(w) for w in widths]
    blanks = [" " * w for w in widths]
    for row in cells:
        lines += _side_by_side([c[t] for c, t in zip(laid, row, strict=True)], blanks)
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
    laid = [(i, _Laid(w, fit=True)) for i, w in zip(head, widths, strict=True)]
    under = [(i, f"{column.name}: ") for i, column in enumerate(columns) if i not in head]
    shown: dict[str, list[str]] = {}  # a text met before (a source, a kind) is wrapped once
    for row in cells:
        lines.append("  ".join([column[row[i]][0] for i, column in laid]).rstrip())
        for i, label in under:
            if row[i]:
                text = label + row[i]
                if text not in shown:
                    folded = _wrap(text, max(room - 4, 16), hang=2)
                    shown[text] = ["    " + folded[0], *("      " + line for line in folded[1:])]
                lines += shown[text]
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
    return cells_table([[_cell(row.get(c)) for c in columns] for row in rows], columns, width=width)


def cells_table(
    texts: Sequence[Sequence[str]], columns: Sequence[str], *, width: int | None = None
) -> str:
    """Return the table of :func:`table` from its cells' texts, a row of ``_cell`` texts each."""
    by_column = list(zip(*texts, strict=True)) or [()] * len(columns)
    # A column empty in every row says nothing to a reader: it gives its room to the others.
    kept = [i for i in range(len(columns)) if not texts or any(by_column[i])]
    cells = texts if len(kept) == len(columns) else [[line[i] for i in kept] for line in texts]
    measured = [_measure(columns[i], by_column[i]) for i in kept]
    if not measured:
        return ""
    room = terminal_width() if width is None else width
    if room == 0:
        return "\n".join(_flat(measured, cells, [c.natural for c in measured]))
    widths = _flat_widths(measured, room - 2 * (len(measured) - 1))
    lines = _stacked(measured, cells, room) if widths is None else _flat(measured, cells, widths)
    return "\n".join(lines)


def matrix_cell(answer: StatusAnswer) -> str:
    """Return a status for one cell of a crossing x date table: status, since, marks."""
    if answer.record is None:
        return "unknown"
    since = answer.since_record.date.text if answer.since_record else _iso(answer.since)
    marks = ("?" if answer.is_uncertain else "") + ("!" if answer.is_conflicted else "")
    text = describe_status(answer.status, answer.traffic, is_lifecycle=answer.is_lifecycle)
    return f"{text} ({since}){' ' + marks if marks else ''}"


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _feature(fields: Mapping[str, object]) -> dict[str, object]:
    lon, lat = fields.get("lon"), fields.get("lat")
    properties = {k: v for k, v in fields.items() if k not in ("lon", "lat")}
    geometry = {"type": "Point", "coordinates": [lon, lat]} if lon is not None else None
    return {"type": "Feature", "geometry": geometry, "properties": properties}


#: Part of an answer: the names of its rows' fields, and its rows (values in that order).
Block = tuple[Sequence[str], Iterable[Sequence[object]]]

#: The values JSON writes as they are, with nothing inside them to indent.
_SCALARS = frozenset({str, int, float, bool, type(None)})
#: A list of values as JSON, one a line: json's C encoder, which writes them as json.dumps
#: does (a new line inside a JSON text is always escaped, so each line is one value).
_ONE_A_LINE = json.JSONEncoder(ensure_ascii=False, separators=("\n", ": "))
#: Rows encoded at a time: an answer is written as it is read, in pieces of this many rows.
_ROWS_AT_A_TIME = 1000
#: Text printed at a time, in characters.
_PRINTED_AT_A_TIME = 1 << 16


class _Printer:
    """Text for stdout, gathered and printed in pieces of about 64 K characters."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._size = 0

    def write(self, text: str) -> None:
        self._parts.append(text)
        self._size += len(text)
        if self._size >= _PRINTED_AT_A_TIME:
            self.flush()

    def flush(self) -> None:
        if self._parts:
            emit("".join(self._parts), nl=False)
            self._parts.clear()
            self._size = 0


def _column_chunks(rows: Iterable[Sequence[object]]) -> Iterator[tuple[int, list[Sequence[Any]]]]:
    """Yield rows a chunk at a time: its number of rows and its columns (Chunked: as given)."""
    if isinstance(rows, Chunked):
        for columns in rows.chunks:
            yield len(columns[0]), columns
        return
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, _ROWS_AT_A_TIME)):
        yield len(chunk), list(zip(*chunk, strict=True))


def _members(fields: Sequence[str], names: Sequence[str]) -> list[int]:
    """Return where each of ``names`` is among ``fields`` (-1 where it is not)."""
    where = {name: n for n, name in enumerate(fields)}
    return [where.get(name, -1) for name in names]


class _JsonRows:
    """Rows of some fields as JSON objects (or GeoJSON features), as json.dumps(indent=2) writes.

    A chunk of rows whose values are all plain (text, numbers, None) is encoded by
    json's C encoder in one call and laid between the texts of the objects' keys; a
    row holding a list or a mapping is written by json.dumps itself.
    """

    def __init__(self, fields: Sequence[str], *, geojson: bool) -> None:
        self.fields = tuple(fields)
        self.geojson = geojson
        self.pad = "\n    " if geojson else "\n  "
        self.width = len(self.fields)
        self.lon, self.lat = _members(self.fields, ("lon", "lat"))
        self.shown = [
            n for n, f in enumerate(self.fields) if not geojson or f not in ("lon", "lat")
        ]
        depth = "    " if geojson else "  "  # the properties of a feature sit a level deeper
        keys = [
            self.pad + depth + json.dumps(self.fields[n], ensure_ascii=False) for n in self.shown
        ]
        # The texts around an object's values: before each, and after the last.
        self.parts = ["{}"]
        if keys:
            self.parts = ["{" + keys[0] + ": ", *("," + k + ": " for k in keys[1:])]
            self.parts.append(self.pad + depth[2:] + "}")
        head = '{\n      "type": "Feature",\n      "geometry": '
        point = '{\n        "type": "Point",\n        "coordinates": [\n          '
        properties = '\n      "properties": '
        feature = [properties + self.parts[0], *self.parts[1:-1], self.parts[-1] + "\n    }"]
        if len(self.parts) == 1:
            feature = [properties + self.parts[0] + "\n    }"]
        self.point = [
            head + point,
            ",\n          ",
            "\n        ]\n      }," + feature[0],
            *feature[1:],
        ]
        self.nowhere = [head + "null," + feature[0], *feature[1:]]
        self.order = [self.lon, self.lat, *self.shown]

    def dumped(self, row: Sequence[object]) -> str:
        item: Mapping[str, object] = dict(zip(self.fields, row, strict=True))
        if self.geojson:
            item = _feature(item)
        return json.dumps(item, ensure_ascii=False, indent=2).replace("\n", self.pad)

    def text(self, columns: Sequence[Sequence[object]], count: int) -> str:
        """Return ``count`` rows given as columns as json.dumps gives each, joined by ",\\n"."""
        between = "," + self.pad
        laid = columns
        if self.geojson:  # the values in the order of a feature's text (a field lacked: None)
            laid = [columns[n] if n >= 0 else [None] * count for n in self.order]
        flat = list(itertools.chain.from_iterable(zip(*laid, strict=True)))
        if not set(map(type, flat)) <= _SCALARS:
            return between.join(self.dumped(row) for row in zip(*columns, strict=True))
        encoded = _ONE_A_LINE.encode(flat)[1:-1].split("\n") if flat else []
        parts = self.point if self.geojson else self.parts
        width = len(parts) - 1
        if self.geojson and "null" in encoded[::width]:  # a record without a point
            rows = [encoded[n : n + width] for n in range(0, len(encoded), width)]
            return between.join(
                _laid_between(self.nowhere, values[2:])
                if values[0] == "null"
                else _laid_between(self.point, values)
                for values in rows
            )
        if not width:
            return between.join(parts * count)
        # Every value between the texts around it, in one join: the texts of a row and the
        # end of the row before it repeat from row to row.
        pieces = [""] * (2 * len(encoded))
        pieces[1::2] = encoded
        pieces[::2] = [parts[-1] + between + parts[0], *parts[1:-1]] * count
        pieces[0] = parts[0]
        return "".join(pieces) + parts[-1]


def _laid_between(parts: Sequence[str], values: Sequence[str]) -> str:
    """Return values laid between texts: the first text, a value, the next text, and so on."""
    return "".join(itertools.chain.from_iterable(zip(parts[:-1], values, strict=True))) + parts[-1]


def _write_json(blocks: Iterable[Block], printer: _Printer, *, geojson: bool) -> None:
    printer.write('{\n  "type": "FeatureCollection",\n  "features": [' if geojson else "[")
    written = False
    for fields, rows in blocks:
        shape = _JsonRows(fields, geojson=geojson)
        for count, columns in _column_chunks(rows):
            printer.write(("," if written else "") + shape.pad + shape.text(columns, count))
            written = True
    if geojson:
        printer.write("\n  ]\n}\n")
    else:
        printer.write(("\n" if written else "") + "]\n")  # an empty answer is []


_FIRST = operator.itemgetter(slice(0, 1))


def _csv_text(value: object) -> str:
    """Return the text csv.writer writes of a value beside others ("," and "\n" as we write)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow((value, None))  # alone, "" is '""'
    return buffer.getvalue()[:-2]


#: The characters for which csv.writer quotes a text, as this Python's writer does (a
#: carriage return alone is quoted by some versions only).
_CSV_QUOTES_FOR = ',"\n\r' if _csv_text("\r") != "\r" else ',"\n'
_CSV_SPECIAL = re.compile(f"[{_CSV_QUOTES_FOR}]")
#: The first characters of a text csv_cell quotes.
_FORMULA_FIRSTS = frozenset(CSV_QUOTED_STARTS)
_NONE = type(None)


def _csv_quoted(text: str) -> str:
    """Return a text as csv.writer quotes it: in double quotes, each of them doubled."""
    return '"' + text.replace('"', '""') + '"'


def _csv_lines(columns: Sequence[Sequence[object] | None], count: int) -> str:
    """Return the text csv.writer writes of ``count`` rows of csv_cell's values, 2 cells or more.

    Column by column (None: a column the rows lack, empty): a column of None is
    empty, one of numbers is as str() gives them (as the writer does), and one of
    texts is as it is when none starts as a formula (csv_cell quotes it) or holds a
    character the writer quotes for. The other values go through csv_cell, and the
    values of other types through the writer too, one at a time.
    """
    cells: list[Sequence[str]] = []
    for column in columns:
        kinds = {_NONE} if column is None else set(map(type, column))
        if column is None or kinds == {_NONE}:
            cells.append([""] * count)
        elif kinds <= {int, float, bool}:
            cells.append(list(map(str, column)))
        elif kinds <= {str, _NONE}:
            texts: list[Any] | Sequence[Any] = column
            if _NONE in kinds:
                texts = [v or "" for v in column]
            if not _FORMULA_FIRSTS.isdisjoint(map(_FIRST, texts)):
                texts = [str(csv_cell(v)) for v in texts]
            joined = "".join(texts)  # a character to quote for is found in it at C speed
            if any(c in joined for c in _CSV_QUOTES_FOR):
                search = _CSV_SPECIAL.search
                texts = [_csv_quoted(v) if search(v) else v for v in texts]
            cells.append(texts)
        else:
            cells.append([_csv_text(csv_cell(v)) for v in column])
    return "\n".join(map(",".join, zip(*cells, strict=True))) + "\n"


def _write_csv(
    blocks: Iterable[Block],
    printer: _Printer,
    columns: Sequence[str],
    header: Sequence[str] | None = None,
) -> None:
    """Write rows as CSV under ``header``, else the first row's fields (``columns`` if none).

    A row of other fields gives those (empty where it has none): as csv.DictWriter.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    shown: list[str] | None = None

    def start(fields: Sequence[str]) -> list[str]:
        context = click.get_current_context(silent=True)
        if context is not None and context.find_root().meta.get("csv_bom"):
            buffer.write("\ufeff")  # --bom: Excel then reads the text as UTF-8
        writer.writerow(fields)
        return list(fields)

    for fields, rows in blocks:
        for count, values in _column_chunks(rows):
            shown = shown or start(header or fields)
            picked = [values[n] if n >= 0 else None for n in _members(fields, shown)]
            # A cell a spreadsheet would run as a formula is quoted, as in exported files.
            if len(shown) > 1:
                buffer.write(_csv_lines(picked, count))
            else:
                (only,) = picked
                writer.writerows([csv_cell(v)] for v in only or [""] * count)
            printer.write(buffer.getvalue())
            buffer.seek(0)
            buffer.truncate()
    if shown is None:
        start(header or columns)
    printer.write(buffer.getvalue())


def _table_text(blocks: Iterable[Block], columns: Sequence[str], width: int | None) -> str:
    """Lay out rows as a table: each row kept as the texts of its cells only."""
    texts: list[list[str]] = []
    known = [(_Cells(), _Cells()) for _ in columns]  # each column's texts and numbers
    for fields, rows in blocks:
        picks = list(zip(_members(fields, columns), known, strict=True))
        for row in rows:
            padded = (*row, None)  # a field the rows lack reads the None put last
            texts.append(
                [
                    words[v]
                    if (v := padded[n]).__class__ is str
                    else (numbers[v] if v.__class__ is float and v else _cell(v))
                    for n, (words, numbers) in picks
                ]
            )
    return cells_table(texts, columns, width=width)


class _Cells(dict[object, str]):
    """The texts of a column's values of one type, each made once (see _cell).

    Never a zero: 0.0 and -0.0 are one key but two texts.
    """

    def __missing__(self, value: object) -> str:
        self[value] = text = _cell(value)
        return text


def echo_blocks(
    blocks: Iterable[Block],
    output_format: str,
    *,
    columns: Sequence[str],
    csv_header: Sequence[str] | None = None,
) -> None:
    """Print an answer given as blocks of rows (tuples of values) in the chosen format.

    JSON, GeoJSON and CSV are written as the rows come, a chunk at a time, so a
    long answer is never held whole; a table keeps the texts of its cells, to
    measure its columns. The text is the same as :func:`echo_records` prints
    for the same rows as mappings. A CSV's columns are ``csv_header`` (an answer
    whose rows have different fields: every field of each) or the first row's.
    """
    printer = _Printer()
    if output_format in ("json", "geojson"):
        _write_json(blocks, printer, geojson=output_format == "geojson")
    elif output_format == "csv":
        _write_csv(blocks, printer, columns, csv_header)
    else:
        text = _table_text(blocks, columns, 0 if output_format == "wide" else None)
        printer.write(text + "\n")
    printer.flush()


def echo_rows(
    fields: Sequence[str],
    rows: Iterable[Sequence[object]],
    output_format: str,
    *,
    columns: Sequence[str],
) -> None:
    """Print rows of values of ``fields`` in the chosen format, as they come (see echo_blocks)."""
    echo_blocks([(fields, rows)], output_format, columns=columns)


def echo_records(
    rows: Iterable[Mapping[str, object]],
    output_format: str,
    *,
    columns: Sequence[str],
) -> None:
    """Print rows in the chosen format: ``table``, ``json``, ``csv`` or ``geojson``.

    JSON, GeoJSON and CSV are written as ``rows`` yields them, so a long answer
    is never held whole; a table needs every row for its widths.
    """
    echo_blocks(record_blocks(rows), output_format, columns=columns)


def record_blocks(rows: Iterable[Mapping[str, object]]) -> Iterator[Block]:
    """Return rows as mappings as blocks of tuples: one block a run of rows of the same keys."""
    for keys, group in itertools.groupby(rows, key=tuple):
        yield keys, (tuple(row.values()) for row in group)
