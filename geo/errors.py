"""Exceptions raised by the crossings library.

Every error derives from :class:`GeoError`. Errors about bad input also derive
from :class:`ValueError`, failed look-ups from :class:`LookupError`, so callers
can catch either the library's base class or the usual built-in one.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BatchValidationError",
    "ConflictingRecordError",
    "DamagedStoreError",
    "DuplicateRecordError",
    "GeoError",
    "NotAStoreError",
    "RecordValidationError",
    "RowProblem",
    "SchemaVersionError",
    "StoreError",
    "StoreExistsError",
    "StoreFaultError",
    "UnknownCrossingError",
    "UnknownRecordError",
]


class GeoError(Exception):
    """Base class of every error raised by the crossings library."""

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled whole (a process that checks a file tells another what is wrong): the
        # subclasses take other arguments than the message they pass on.
        return (_rebuilt, (type(self), self.args, self.__dict__))


def _rebuilt(kind: type[GeoError], args: tuple[object, ...], state: dict[str, object]) -> GeoError:
    error = kind.__new__(kind)
    error.args = args
    error.__dict__.update(state)
    return error


class RecordValidationError(GeoError, ValueError):
    """One field of one record is not acceptable.

    The message names the field, repeats the value given, says what is
    allowed and how to fix it.
    """

    def __init__(self, field: str, value: object, problem: str, allowed: str, fix: str):
        self.field = field
        self.value = value
        self.problem = problem
        self.allowed = allowed
        self.fix = fix
        super().__init__(f"{field}: {shown(value)} {problem}. Allowed: {allowed}. Fix: {fix}")


#: The longest part of a value an error message repeats, in characters.
SHOWN_CHARACTERS = 200


def shown(value: object, limit: int = SHOWN_CHARACTERS) -> str:
    """Return a value as an error message repeats it: its repr, cut where it is long.

    Examples
    --------
    >>> shown("x" * 300)[-22:]
    "xxx'… (300 characters)"
    """
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}… ({len(value):,} characters)"
    return repr(value)


class DuplicateRecordError(RecordValidationError):
    """The record is already in the store (same crossing, date, kind, summary, source)."""


class ConflictingRecordError(RecordValidationError):
    """Two records share an id (crossing, date, kind, summary, source) but say different things.

    Not a duplicate: ``--ignore`` does not skip it. The message names the fields
    that differ, with both values.
    """

    def __init__(self, record_id: str, other: str, differences: list[tuple[str, object, object]]):
        self.differences = differences
        said = "; ".join(
            f"{name} {_excerpt(mine)} ({other}: {_excerpt(theirs)})"
            for name, mine, theirs in differences
        )
        super().__init__(
            "observation",
            record_id,
            f"has the id of {other} (same crossing, date, kind, summary and source) but says "
            f"something else: {said}",
            "one record per id; a true duplicate (the same in every field) may be skipped",
            "keep the row that is right and drop the other; if one corrects a stored record, "
            "give it `replaces` with that record's id and a summary of its own",
        )


def _excerpt(value: object) -> str:
    """Return a field's value as a conflict names it: texts quoted, others as they read, cut."""
    if isinstance(value, str | tuple):
        return shown(value, 60)
    text = str(value)  # a date as written (2023-02), None, a flag
    return text if len(text) <= 60 else f"{text[:60]}…"


class UnknownCrossingError(RecordValidationError, LookupError):
    """A crossing id that is not in the inventory."""


class UnknownRecordError(RecordValidationError, LookupError):
    """An observation id that is not in the store."""


@dataclass(frozen=True)
class RowProblem:
    """One bad field in one row of a file being imported."""

    row: int
    error: RecordValidationError

    def __str__(self) -> str:
        return f"row {self.row}: {self.error}"


class BatchValidationError(GeoError, ValueError):
    """Several rows of an import are bad; none was written."""

    def __init__(self, source: str, problems: list[RowProblem]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"{source}: {len(problems)} problem(s), nothing was imported:\n{lines}")


class WorkerStoppedError(GeoError):
    """A process doing part of the work (the check of an imported file) ended before it finished."""


class StoreError(GeoError):
    """The store file cannot be used."""


class NotAStoreError(StoreError):
    """The file is missing, is not a GeoPackage, or is not a crossings store."""


class SchemaVersionError(StoreError):
    """The store was written by a newer release of crossings."""


class StoreExistsError(StoreError, FileExistsError):
    """``init`` would overwrite an existing store."""


class StoreFaultError(StoreError):
    """The store could not be read or written: locked, read-only, disk full, or damaged.

    The message names the fault and what to do; it never advises rebuilding a
    store whose records are intact.
    """


class DamagedStoreError(StoreFaultError):
    """The store's file is damaged: SQLite's integrity check fails on it."""
