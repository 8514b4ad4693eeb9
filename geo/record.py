"""Add records to a store: ``observe`` (one) and ``import`` (a file, all or none)."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo.apart import results as apart_results
from geo.columns import RowChecker
from geo.errors import (
    BatchValidationError,
    ConflictingRecordError,
    RecordValidationError,
    RowProblem,
)
from geo.exchange import KML_FIELDS as _KML_FIELDS
from geo.exchange import (
    OBSERVATION_COLUMNS,
    SUPPORTED_SUFFIXES,
    CsvFormat,
    iter_csv_columns,
    iter_rows,
    read_csv_format,
    read_csv_header,
    unsupported_file,
)
from geo.inventory import history_parser, recorder, refresh_status_snapshot, today_or
from geo.model import content, differing_fields
from geo.status import (
    can_change_status,
)
from geo.store import open_store
from geo.store.gpkg import GeoPackageStore, PreparedBatch, prepare_batches
from geo.validate import parse_observation

if TYPE_CHECKING:
    from geo.model import Crossing, Observation

__all__ = [
    "OBSERVATION_FIELDS",
    "ImportReport",
    "add_observation",
    "import_observations",
]


def add_observation(
    store: str | Path, fields: Mapping[str, object], *, ignore_duplicate: bool = False
) -> str:
    """Check one observation and add it; return its id.

    Parameters
    ----------
    store : str or Path
        The store.
    fields : mapping
        The record's fields as text (see :func:`geo.validate.parse_observation`).
    ignore_duplicate : bool, default False
        Return the existing id instead of failing when the record is stored already.

    Raises
    ------
    RecordValidationError
        The first field that is not acceptable (nothing is written).
    """
    with open_store(store, writable=True) as opened:
        record = parse_observation(
            fields,
            opened.crossings(),
            structures=opened.structures(),
            default_recorded_by=recorder(),
        )
        with opened.transaction():  # the record and the snapshot derived from it, together
            opened.add_observations(
                [record], on_duplicate="ignore" if ignore_duplicate else "error"
            )
            # A traffic record, say, changes no status: the snapshot is refreshed only when a
            # record may change it, or when it was not computed today.
            if (
                can_change_status(record)
                or record.crossing_id is None
                or opened.status_snapshot_day(record.crossing_id) != today_or(None)
            ):
                refresh_status_snapshot(opened, {record.crossing_id})
    return record.id


#: An import of at least this many rows, and a quarter of the store, is written as a bulk load.
_BULK_ROWS = 50_000


#: Fields an observation row may have; any other column of an imported file is reported.
OBSERVATION_FIELDS = frozenset(OBSERVATION_COLUMNS) - {"date_start", "date_end"}


# The store's own column names, as GIS tools write them back, for the import's names.
_FIELD_ALIASES = {"date_precision": "precision"}


# Columns that exports write and imports may safely pass over: they are derived.
_DERIVED_FIELDS = frozenset(
    {"date_start", "date_end", "until_end", "layer", "has_own_location", "crossing_name"}
)


@dataclass(frozen=True)
class ImportReport:
    """What an import added, what it skipped, and which columns of the file it did not use."""

    ids: list[str]
    rows: int
    ignored_fields: list[str]

    @property
    def skipped(self) -> int:
        """Rows not added: true duplicates of a stored record or of an earlier row."""
        return self.rows - len(self.ids)


#: The largest file an import reads, in bytes: a larger one (or endless input) is refused.
IMPORT_LIMIT_BYTES = 4 << 30


@contextmanager
def _readable_twice(path: Path) -> Iterator[Path]:
    """Yield a path the import can read twice: the file, or a copy of a pipe or a device.

    An import reads its file in two passes; a named pipe or standard input can
    be read once, so it is copied first, up to ``IMPORT_LIMIT_BYTES``.
    """
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:  # said before anything is read
        raise unsupported_file(path)
    if path.is_file():
        if path.stat().st_size > IMPORT_LIMIT_BYTES:
            raise _too_large(path)
        yield path
        return
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / path.name
        with path.open("rb") as source, copy.open("wb") as target:
            while chunk := source.read(1 << 20):
                target.write(chunk)
                if target.tell() > IMPORT_LIMIT_BYTES:
                    raise _too_large(path)
        yield copy


def _too_large(path: Path) -> RecordValidationError:
    return RecordValidationError(
        "FILE",
        str(path),
        f"is larger than {IMPORT_LIMIT_BYTES >> 30} GiB (or has no end)",
        f"a file of at most {IMPORT_LIMIT_BYTES >> 30} GiB",
        "split it into several files and import each",
    )


def import_observations(
    store: str | Path,
    path: str | Path,
    *,
    ignore_duplicates: bool = False,
    defaults: Mapping[str, str] | None = None,
    encoding: str | None = None,
    on_format: Callable[[CsvFormat], None] | None = None,
) -> ImportReport:
    """Add every observation of a CSV, GeoJSON or KML file, or none.

    A named pipe or standard input is copied first (both passes read the
    copy); no input may be larger than ``IMPORT_LIMIT_BYTES``.

    Parameters
    ----------
    store, path : str or Path
        The store, and the file to read.
    ignore_duplicates : bool, default False
        Skip true duplicates (a record stored already, or an earlier row, the
        same in every field but when and by whom it was recorded) instead of
        refusing the file. A row with the id of another record that says
        something else is a conflict either way.
    defaults : mapping, optional
        Values for fields a row leaves empty, e.g. ``{"kind": "infrastructure",
        "source_type": "satellite_imagery"}`` for placemarks drawn in Google Earth.
    encoding : str, optional
        A CSV file's encoding (one of ``geo.exchange.CSV_ENCODINGS``); found
        from the file when not given (see :func:`geo.exchange.read_csv_format`).
    on_format : callable, optional
        Called with how a CSV file is read (its encoding, how that was found,
        its separator) before any row is, so that a guess can be named.

    Returns
    -------
    ImportReport
        The ids added and the file's columns that were not understood.

    Raises
    ------
    BatchValidationError
        Listing every bad row (row number, field, value) and every conflict;
        nothing is written.
    RecordValidationError
        If the file is too large; field ``encoding`` if it is not in the
        encoding given, or in none that is tried.
    """
    with _readable_twice(Path(path)) as readable:
        if readable.suffix.lower() == ".csv":  # found once: both passes read it so
            found = read_csv_format(readable, encoding=encoding)
            if on_format is not None:
                on_format(found)
            encoding = found.encoding
        return _import_file(
            store,
            readable,
            str(path),
            ignore_duplicates=ignore_duplicates,
            defaults=defaults,
            encoding=encoding,
        )


def _import_file(
    store: str | Path,
    path: Path,
    name: str,
    *,
    ignore_duplicates: bool,
    defaults: Mapping[str, str] | None,
    encoding: str | None,
) -> ImportReport:
    """Import a file that can be read twice (see :func:`import_observations`)."""
    defaults = _checked_defaults(defaults)

    def chunks() -> Iterator[_Chunk]:
        return _chunks(path, encoding, defaults)

    # A first pass reads only what later rows correct; the second validates and writes,
    # a chunk of rows at a time, so that a file of any size is never held whole. A file
    # that cannot hold a correction needs no first pass: its rows are counted, about.
    corrected: set[str] = set()
    without, expected = (
        (False, 0) if "replaces" in defaults else _without(path, encoding, "replaces")
    )
    if not without:
        expected = 0
        for _, fields in iter_rows(path, encoding=encoding, only=("replaces",)):
            expected += 1
            replaced = fields.get("replaces") or defaults.get("replaces")  # as chunks give it
            if replaced:
                corrected.add(str(replaced))
    with open_store(store, writable=True) as opened:
        # The rows are recorded at one moment, the import's (a stored time has milliseconds).
        now = datetime.now(UTC)
        job = _Job(
            path, name, encoding, defaults, corrected, opened.crossings(), ignore_duplicates,
            {
                "structures": opened.structures(),
                "default_recorded_by": recorder(),
                "now": now,
                "today": now.date(),
            },
        )  # fmt: skip
        bulk = expected >= _BULK_ROWS and expected >= opened.count() // 4
        on_duplicate = "ignore" if ignore_duplicates else "error"
        with opened.transaction():
            if bulk and _APART and sys.executable and isinstance(opened, GeoPackageStore):
                # A large file is checked in a process of its own while this one writes.
                check = _RowCheck(name, ignore_duplicates=ignore_duplicates)
                with closing(_checked_apart(job, check)) as batches:  # ends the other process
                    ids = opened.add_prepared(
                        batches, on_duplicate=on_duplicate, bulk=True, expected_rows=expected
                    )
            else:
                check, records = _checked(job)
                ids = opened.add_observations(
                    records, on_duplicate=on_duplicate, bulk=bulk, expected_rows=expected
                )
            refresh_status_snapshot(opened, check.touched)
    ignored = sorted(check.columns - OBSERVATION_FIELDS - _DERIVED_FIELDS - _KML_FIELDS)
    return ImportReport(ids=ids, rows=check.rows, ignored_fields=ignored)


#: Whether a bulk import into a GeoPackage checks its file in a process of its own.
_APART = True


@dataclass(frozen=True)
class _Job:
    """What the check of a file's rows needs: in this process, or in one of its own."""

    path: Path
    name: str
    encoding: str | None
    defaults: dict[str, str]
    corrected: set[str]
    crossings: Mapping[str, Crossing]
    ignore_duplicates: bool
    options: dict[str, Any]


def _checked(job: _Job) -> tuple[_RowCheck, Iterator[Observation]]:
    """Return the check of a file's rows and the good records it yields, as they are read."""
    check = _RowCheck(job.name, ignore_duplicates=job.ignore_duplicates)
    slow = history_parser(job.corrected, job.crossings, **job.options)
    quick = RowChecker(job.crossings, **job.options)

    def parse(fields: Mapping[str, object]) -> Observation:
        # A row the quick check cannot vouch for is parsed alone, which names its fault.
        return quick(fields) or slow(fields)

    def chunks() -> Iterator[_Chunk]:
        return _chunks(job.path, job.encoding, job.defaults)

    return check, check.records(chunks, quick.columns, parse)


def _checked_apart(job: _Job, check: _RowCheck) -> Generator[PreparedBatch, None, None]:
    """Yield the batches of a file checked in a process of its own; then fill in ``check``.

    An error of the file is raised where the batches are read, as when it is
    checked in this process.
    """
    for kind, *value in apart_results(_prepared, job):
        if kind == "done":
            check.touched, check.columns, check.rows = value
        else:
            yield value[0]


def _prepared(job: _Job) -> Iterator[tuple[object, ...]]:
    """Check a file; yield its records in batches ready for the store, then what the check saw."""
    check, records = _checked(job)
    for batch in prepare_batches(records, job.crossings, bulk=True):
        yield ("batch", batch)
    yield ("done", check.touched, check.columns, check.rows)


def _checked_defaults(defaults: Mapping[str, str] | None) -> dict[str, str]:
    """Return the values given for empty fields (``--set``), each for a field of an observation."""
    defaults = dict(defaults or {})
    for field in defaults:
        if field not in OBSERVATION_FIELDS:
            raise RecordValidationError(
                "--set",
                field,
                "is not a field of an observation",
                ", ".join(sorted(OBSERVATION_FIELDS)),
                "name one of those fields",
            )
    return defaults


#: The values of an empty cell.
_EMPTY = ("", None)
#: Rows of a file that is not CSV checked at once (a CSV file's chunk is iter_csv_columns').
_CHUNK_ROWS = 20_000

#: A chunk of a file's rows: their numbers, and each column's values (a row's None or "": empty).
_Chunk = tuple[list[int], dict[str, list[object]]]


def _chunks(path: Path, encoding: str | None, defaults: Mapping[str, str]) -> Iterator[_Chunk]:
    """Yield a file's rows in chunks of columns, named as fields, empty cells given defaults."""
    found: Iterator[tuple[list[int], dict[str, list[Any]]]]
    if path.suffix.lower() == ".csv":
        found = iter_csv_columns(path, encoding=encoding)
    else:
        found = _columns_of(iter_rows(path, encoding=encoding))
    for numbers, columns in found:
        given: dict[str, list[object]] = {}
        for column, values in columns.items():
            field = _FIELD_ALIASES.get(column, column)
            earlier = given.get(field)  # two columns of one field: a row's later cell wins, if any
            given[field] = (
                list(values)
                if earlier is None
                else [b if b not in _EMPTY else a for a, b in zip(earlier, values, strict=True)]
            )
        for field, value in defaults.items():
            cells = given.get(field)
            given[field] = (
                [value] * len(numbers)
                if cells is None
                else [value if cell in _EMPTY else cell for cell in cells]
            )
        yield numbers, given


def _columns_of(rows: Iterable[tuple[int, Mapping[str, object]]]) -> Iterator[_Chunk]:
    """Yield rows of fields in chunks of columns."""
    rows = iter(rows)
    while chunk := list(islice(rows, _CHUNK_ROWS)):
        names = dict.fromkeys(name for _, fields in chunk for name in fields)
        yield (
            [number for number, _ in chunk],
            {name: [fields.get(name) for _, fields in chunk] for name in names},
        )


def _rows_of(chunks: Iterable[_Chunk]) -> Iterator[tuple[int, dict[str, object]]]:
    """Yield each row of chunks as its non-empty fields."""
    for numbers, columns in chunks:
        for row, number in enumerate(numbers):
            yield number, _fields(columns, row)


def _parsed(
    chunks: Callable[[], Iterator[_Chunk]],
    wanted: set[int],
    parse: Callable[[Mapping[str, object]], Observation],
) -> Iterator[tuple[int, Observation]]:
    """Read a file's rows again; yield the number and the record of each row ``wanted``."""
    left = len(wanted)
    for number, fields in _rows_of(chunks()):
        if number in wanted:
            yield number, parse(fields)
            left -= 1
            if not left:
                return


def _fields(columns: Mapping[str, list[object]], row: int) -> dict[str, object]:
    """Return the fields a row gives a value (a dict of its non-empty cells)."""
    return {name: values[row] for name, values in columns.items() if values[row] not in _EMPTY}


def _without(path: Path, encoding: str | None, column: str) -> tuple[bool, int]:
    """Say whether no row of a CSV or GeoJSON file can hold ``column``, and count its rows.

    A CSV file's header has no such column; a GeoJSON file holds no "``column``"
    and no escaped character (a name written with one could be it). The rows are
    counted about: a CSV file's lines (a cell may hold a line break), a GeoJSON
    file's "Feature" (a text may hold it too). One reading of the file gives both.
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        if column in read_csv_header(path, encoding=encoding):
            return False, 0
        (lines,) = _counts(path, b"\n")
        return True, lines
    if suffix in (".geojson", ".json"):
        escapes, named, features = _counts(path, b"\\u", f'"{column}"'.encode(), b'"Feature"')
        return escapes == named == 0, features
    return False, 0


def _counts(path: Path, *parts: bytes) -> list[int]:
    """Count where each of ``parts`` stands in a file, read once, a MiB at a time."""
    counts = [0] * len(parts)
    longest = max(map(len, parts))
    with path.open("rb") as handle:
        tail = b""
        while block := handle.read(1 << 20):
            joined = tail + block
            for n, part in enumerate(parts):  # one that ends in the tail was counted already
                counts[n] += joined.count(part) - tail.count(part)
            tail = joined[len(joined) - longest + 1 :]
    return counts


class _RowCheck:
    """The second pass over a file: what its rows hold, and what is wrong with them.

    Good rows are handed on one by one while no row has been bad; the bad rows,
    the repeated ones and the conflicts are all listed at the end, and nothing
    is written then.
    """

    def __init__(self, name: str, *, ignore_duplicates: bool) -> None:
        self.name = name
        self.ignore_duplicates = ignore_duplicates
        self.columns: set[str] = set()
        self.rows = 0
        self.touched: set[str | None] = set()
        self.problems: list[RowProblem] = []
        # Each id's first row: small at a million.
        self.seen: dict[str, int] = {}
        # A row whose id an earlier row has, that row, and the id: told apart at the end.
        self.repeats: list[tuple[int, int, str]] = []

    def records(
        self,
        chunks: Callable[[], Iterator[_Chunk]],
        quick: Callable[[Mapping[str, list[object]], int], list[Observation | None]],
        parse: Callable[[Mapping[str, object]], Observation],
    ) -> Iterator[Observation]:
        """Yield each good record; at the end, raise if any row was bad or in conflict.

        ``quick`` checks a chunk's rows column by column; a row it leaves (None)
        is parsed alone by ``parse``, which names what is wrong.
        """
        for numbers, columns in chunks():
            self.rows += len(numbers)
            for name, values in columns.items():
                if name not in self.columns and any(value not in _EMPTY for value in values):
                    self.columns.add(name)
            for row, (number, found) in enumerate(
                zip(numbers, quick(columns, len(numbers)), strict=True)
            ):
                try:
                    record = found or parse(_fields(columns, row))
                except RecordValidationError as err:
                    self.problems.append(RowProblem(number, err))
                    continue
                first = self.seen.setdefault(record.id, number)
                if first != number:  # written once at most, whatever it says
                    self.repeats.append((number, first, record.id))
                    continue
                if can_change_status(record):
                    self.touched.add(record.crossing_id)
                # After a bad row, check the rest and write nothing.
                if not self.problems and (self.ignore_duplicates or not self.repeats):
                    yield record
        if self.repeats:
            self.problems.extend(self._repeated(chunks, parse))
        if self.problems:  # raised inside the write's transaction: it rolls back
            self.problems.sort(key=lambda problem: problem.row)
            raise BatchValidationError(self.name, self.problems)

    def _repeated(
        self,
        chunks: Callable[[], Iterator[_Chunk]],
        parse: Callable[[Mapping[str, object]], Observation],
    ) -> list[RowProblem]:
        """Name each row with the id of an earlier row, unless it is that row again, ignored.

        A later row with the id of an earlier one that says something else is a
        conflict; one that says the same is a problem unless duplicates are
        ignored. The import keeps only each id's first row number, so the rows
        are read again, only when ids repeat, and keep only a hash of what each
        says; a third reading makes the records of the conflicts, to name what
        differs.
        """
        wanted = {row for number, first, _ in self.repeats for row in (number, first)}
        said = {number: hash(content(record)) for number, record in _parsed(chunks, wanted, parse)}
        problems = []
        conflicts = []
        for number, first, record_id in self.repeats:
            if said[number] != said[first]:  # one id, two contents: a conflict
                conflicts.append((number, first))
            elif not self.ignore_duplicates:
                problems.append(
                    RowProblem(
                        number,
                        RecordValidationError(
                            "observation",
                            record_id,
                            f"repeats row {first} (the same in every field)",
                            "each record once",
                            "remove the repeated row, or pass --ignore",
                        ),
                    )
                )
        if conflicts:
            wanted = {number for pair in conflicts for number in pair}
            records = dict(_parsed(chunks, wanted, parse))
            for number, first in conflicts:
                record, earlier = records[number], records[first]
                differing = differing_fields(record, earlier)
                problems.append(
                    RowProblem(number, ConflictingRecordError(record.id, f"row {first}", differing))
                )
        return problems
