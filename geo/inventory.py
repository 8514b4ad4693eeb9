"""What the command bodies share: where the store and the seed are, and the status snapshot.

The commands themselves live by what they do: :mod:`geo.build` (init, merge, copy,
validate), :mod:`geo.record` (observe, import), :mod:`geo.browse` (list, status, show,
structures, trade) and :mod:`geo.publish` (maps, figures, exports). Each checks all its
input before it writes anything.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from geo.errors import BatchValidationError, RecordValidationError, RowProblem
from geo.status import (
    StatusAnswer,
    evaluate,
)
from geo.store import Store, open_store
from geo.validate import parse_observation

if TYPE_CHECKING:
    from geo.model import Crossing, Observation, Structure

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_STORE",
    "flat_fields",
    "history_parser",
    "owned_structures",
    "parse_rows",
    "reading",
    "recorder",
    "refresh_status_snapshot",
    "status_on",
    "structure_ids",
    "today_or",
]


def _checkout() -> Path | None:
    """Return the repository this package runs from, if it runs from one (a development install)."""
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file() and (root / "layers" / "seed").is_dir():
        return root
    return None


def _default_store() -> Path:
    checkout = _checkout()
    if checkout is not None:
        return checkout / "layers" / "crossings.gpkg"
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "crossings" / "crossings.gpkg"


def _default_seed() -> Path:
    checkout = _checkout()
    if checkout is not None:
        return checkout / "layers" / "seed"

    return Path(str(files("geo").joinpath("seed")))  # layers/seed, as the wheel ships it


#: The store when none is named: layers/crossings.gpkg of the repository the package runs
#: from; installed elsewhere, $XDG_DATA_HOME/crossings/crossings.gpkg (~/.local/share/...).
DEFAULT_STORE = _default_store()


#: The seed: layers/seed/ of the repository, or the copy the package ships.
DEFAULT_SEED = _default_seed()


T = TypeVar("T")


def recorder() -> str:
    """Return who records, by default: the login name (empty if it cannot be had)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""


def parse_rows(
    source: str, rows: list[tuple[int, dict[str, object]]], parse: Callable[[dict[str, object]], T]
) -> list[T]:
    """Parse every row, collecting every bad one before raising."""
    records: list[T] = []
    problems: list[RowProblem] = []
    for number, fields in rows:
        try:
            records.append(parse(fields))
        except RecordValidationError as err:
            problems.append(RowProblem(number, err))
    if problems:
        raise BatchValidationError(source, problems)
    return records


def history_parser(
    corrected: Collection[str], crossings: Mapping[str, Crossing], **options: Any
) -> Callable[[Mapping[str, object]], Observation]:
    """Return a row parser for a file in which later rows may correct earlier ones.

    A row that another row of the file replaces (its id is in ``corrected``) is
    history: if today's rules refuse it, it is checked against the rules it
    was made under (version 2's statuses on any kind), and kept only if it
    really is one of those replaced.
    """

    def parse(raw: Mapping[str, object]) -> Observation:
        try:
            return parse_observation(raw, crossings, **options)
        except RecordValidationError:
            if not corrected:
                raise
            record = parse_observation(raw, crossings, as_recorded=True, **options)
            if record.id not in corrected:
                raise
            return record

    return parse


def structure_ids(opened: Store) -> dict[str, tuple[str, ...]]:
    """Each crossing's structure ids."""
    return owned_structures(opened.structures().values())


def owned_structures(structures: Iterable[Structure]) -> dict[str, tuple[str, ...]]:
    """Each crossing's structure ids, from the structures given."""
    found: dict[str, tuple[str, ...]] = {}
    for structure in structures:
        found[structure.crossing_id] = (*found.get(structure.crossing_id, ()), structure.id)
    return found


@contextmanager
def reading(store: str | Path | Store) -> Iterator[Store]:
    """Yield an open store to read: ``store`` itself if it is open, else the path or URL opened.

    A store passed open is left open (its owner closes it); one opened here is
    closed on leaving, as ``with open_store(...)`` does. A server that keeps a
    store open per request asks the same questions as a command that opens one.
    """
    if isinstance(store, Store):
        yield store
        return
    with open_store(store) as opened:
        yield opened


def status_on(opened: Store, crossing_id: str, day: date) -> StatusAnswer:
    """Answer the status rule through the store's indexes."""
    own = structure_ids(opened).get(crossing_id, ())
    return evaluate(opened.status_source(crossing_id), day, structure_ids=own)


def refresh_status_snapshot(opened: Store, touched: Collection[str | None] | None = None) -> None:
    """Write today's status of crossings into the crossings layer, for QGIS's style.

    With ``touched`` (the crossing ids of new records, None for a border-wide
    one), only those crossings (every one if a record is border-wide).
    """
    day = today_or(None)
    chosen = list(opened.crossings().values())
    if touched is not None and None not in touched:
        chosen = [c for c in chosen if c.id in touched]
    rows = []
    for crossing in chosen:
        answer = status_on(opened, crossing.id, day)
        since = answer.since_record.date.text if answer.since_record else answer.since
        rows.append(
            (
                crossing.id,
                answer.status,
                str(since) if since else None,
                answer.record.source_name if answer.record else None,
            )
        )
    opened.write_status_snapshot(rows, day)


def today_or(as_of: date | None) -> date:
    """Return ``as_of``, or today (UTC) when it is None."""
    return as_of or datetime.now(UTC).date()


def flat_fields(fields: Mapping[str, object]) -> dict[str, object]:
    """Fields as text, as a CSV row would give them."""
    flat: dict[str, object] = {}
    for key, value in fields.items():
        if isinstance(value, list):
            flat[key] = "; ".join(str(v) for v in value)
        elif value is None:
            flat[key] = ""
        else:
            flat[key] = value
    return flat
