"""What the CLI does, one function a command: build, read and add to the inventory.

Each function checks all its input before it writes anything.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from geo.errors import BatchValidationError, GeoError, RecordValidationError, RowProblem
from geo.exchange import KML_FIELDS as _KML_FIELDS
from geo.exchange import (
    OBSERVATION_COLUMNS,
    iter_rows,
    read_csv_rows,
    write_csv,
    write_csv_layers,
    write_geojson,
    write_geojson_layers,
    write_kml,
)
from geo.model import OVERVIEW_PAGE, identity, in_writing_order
from geo.outputs import check_target, page_name, written_beside
from geo.query import overlaps
from geo.status import (
    StatusAnswer,
    can_change_status,
    evaluate,
    rule_order,
    status_as_of,
    status_timeline,
    structure_lifecycle,
)
from geo.store import Store, create_store, is_database, open_store, store_name
from geo.validate import parse_crossing, parse_observation, parse_structure, parse_trade_figure

if TYPE_CHECKING:
    from geo.model import Crossing, Observation, Structure, TradeFigure

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_STORE",
    "CrossingHistory",
    "CrossingStatus",
    "ImportReport",
    "MergeReport",
    "StructureState",
    "add_observation",
    "export_inventory",
    "import_observations",
    "init_inventory",
    "list_crossings",
    "list_structures",
    "load_seed",
    "maps",
    "merge_inventory",
    "overview_map",
    "show_crossing",
    "status_matrix",
    "timelines",
    "trade_figures",
    "validate_inventory",
    "write_figure",
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
    from importlib.resources import files

    return Path(str(files("geo").joinpath("seed")))  # layers/seed, as the wheel ships it


#: The store when none is named: layers/crossings.gpkg of the repository the package runs
#: from; installed elsewhere, $XDG_DATA_HOME/crossings/crossings.gpkg (~/.local/share/...).
DEFAULT_STORE = _default_store()
#: The seed: layers/seed/ of the repository, or the copy the package ships.
DEFAULT_SEED = _default_seed()

T = TypeVar("T")


@dataclass(frozen=True)
class CrossingStatus:
    """A crossing with its status on a date."""

    crossing: Crossing
    status: StatusAnswer


@dataclass(frozen=True)
class CrossingHistory:
    """A crossing, its status on a date, its structures, and its records in the rule's order."""

    crossing: Crossing
    status: StatusAnswer
    records: list[Observation]
    superseded: frozenset[str]
    structures: list[StructureState]


@dataclass(frozen=True)
class StructureState:
    """A structure with its lifecycle on a date and the record that gives it (None: no record)."""

    structure: Structure
    record: Observation | None

    @property
    def lifecycle(self) -> str | None:
        """The structure's lifecycle on the day, or None when no record gives one."""
        return self.record.lifecycle if self.record else None


def _recorder() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""


def _parse_rows(
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


def _history_parser(
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


def load_seed(
    seed_dir: str | Path = DEFAULT_SEED, *, today: date | None = None
) -> tuple[list[Crossing], list[Structure], list[Observation], list[TradeFigure]]:
    """Read and check the seed files: crossings, structures, observations and trade.

    ``structures.csv`` may be absent (no structures).

    Raises
    ------
    BatchValidationError
        Listing every bad row of the first file that has one.
    """
    seed_dir = Path(seed_dir)
    crossings = _parse_rows(
        str(seed_dir / "crossings.csv"), read_csv_rows(seed_dir / "crossings.csv"), parse_crossing
    )
    by_id = {c.id: c for c in crossings}
    structures: list[Structure] = []
    if (seed_dir / "structures.csv").exists():
        structures = _parse_rows(
            str(seed_dir / "structures.csv"),
            read_csv_rows(seed_dir / "structures.csv"),
            lambda raw: parse_structure(raw, by_id),
        )
    structures_by_id = {s.id: s for s in structures}
    rows = read_csv_rows(seed_dir / "observations.csv")
    corrected = {str(fields.get("replaces") or "") for _, fields in rows} - {""}
    observations = _parse_rows(
        str(seed_dir / "observations.csv"),
        rows,
        _history_parser(corrected, by_id, structures=structures_by_id, today=today),
    )
    trade = _parse_rows(
        str(seed_dir / "trade.csv"),
        read_csv_rows(seed_dir / "trade.csv"),
        lambda raw: parse_trade_figure(raw, today=today),
    )
    return crossings, structures, observations, trade


def _structure_ids(opened: Store) -> dict[str, tuple[str, ...]]:
    """Each crossing's structure ids."""
    return _owned(opened.structures().values())


def _owned(structures: Iterable[Structure]) -> dict[str, tuple[str, ...]]:
    """Each crossing's structure ids, from the structures given."""
    found: dict[str, tuple[str, ...]] = {}
    for structure in structures:
        found[structure.crossing_id] = (*found.get(structure.crossing_id, ()), structure.id)
    return found


def _status(opened: Store, crossing_id: str, day: date) -> StatusAnswer:
    """Answer the status rule through the store's indexes."""
    structure_ids = _structure_ids(opened).get(crossing_id, ())
    return evaluate(opened.status_source(crossing_id), day, structure_ids=structure_ids)


def _refresh_status_snapshot(opened: Store, touched: Collection[str | None] | None = None) -> None:
    """Write today's status of crossings into the crossings layer, for QGIS's style.

    With ``touched`` (the crossing ids of new records, None for a border-wide
    one), only those crossings (every one if a record is border-wide).
    """
    day = _today(None)
    chosen = list(opened.crossings().values())
    if touched is not None and None not in touched:
        chosen = [c for c in chosen if c.id in touched]
    rows = []
    for crossing in chosen:
        answer = _status(opened, crossing.id, day)
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


def init_inventory(
    store: str | Path = DEFAULT_STORE, *, seed: str | Path = DEFAULT_SEED, force: bool = False
) -> dict[str, int]:
    """Build the store from the seed; return how many records of each kind it holds.

    Raises
    ------
    StoreExistsError
        If the store exists and ``force`` is false.
    BatchValidationError
        If the seed has bad rows (nothing is written).
    """
    crossings, structures, observations, trade = load_seed(seed)
    create_store(store, crossings, observations, trade, structures=structures, force=force)
    with open_store(store, writable=True) as opened:
        _refresh_status_snapshot(opened)
    return {
        "crossings": len(crossings),
        "structures": len(structures),
        "observations": len(observations),
        "trade": len(trade),
    }


def _today(as_of: date | None) -> date:
    return as_of or datetime.now(UTC).date()


def trade_figures(
    store: str | Path = DEFAULT_STORE,
    *,
    since: str | None = None,
    until: str | None = None,
    flow: str | None = None,
) -> list[TradeFigure]:
    """Return the trade figures whose period meets ``since``..``until``, oldest first."""
    from geo.questions import date_range

    first, last = date_range(since, until, names=("--from", "--to"))
    with open_store(store) as opened:
        figures = opened.trade()
    return sorted(
        (
            f
            for f in figures
            if (first is None or f.period_end >= first)
            and (last is None or f.period_start <= last)
            and (flow is None or f.flow == flow)
        ),
        key=lambda f: (f.period_start, f.period_end, f.flow),
    )


def list_crossings(
    store: str | Path = DEFAULT_STORE, *, as_of: date | None = None
) -> list[CrossingStatus]:
    """Return every crossing with its status on ``as_of`` (default: today)."""
    day = _today(as_of)
    with open_store(store) as opened:
        return [
            CrossingStatus(crossing, _status(opened, crossing.id, day))
            for crossing in opened.crossings().values()
        ]


def status_matrix(
    store: str | Path, days: Sequence[date]
) -> list[tuple[Crossing, list[StatusAnswer]]]:
    """Return every crossing with its status on each of ``days``, in the order given."""
    with open_store(store) as opened:
        return [
            (crossing, [_status(opened, crossing.id, day) for day in days])
            for crossing in opened.crossings().values()
        ]


def timelines(store: str | Path, *, until: date | None = None) -> list[tuple[Crossing, list]]:
    """Return every crossing with its status steps up to ``until`` (default: today)."""
    day = _today(until)
    with open_store(store) as opened:
        structures = _structure_ids(opened)
        return [
            (
                crossing,
                status_timeline(
                    opened.observations(crossing.id),
                    crossing.id,
                    until=day,
                    structure_ids=structures.get(crossing.id, ()),
                ),
            )
            for crossing in opened.crossings().values()
        ]


def list_structures(
    store: str | Path, crossing_id: str | None = None, *, as_of: date | None = None
) -> list[StructureState]:
    """Return the structures (of one crossing, by id or name), each with its lifecycle on a day.

    Raises
    ------
    UnknownCrossingError
        If ``crossing_id`` names no crossing.
    """
    from geo.validate import resolve_crossing_id

    day = _today(as_of)
    with open_store(store) as opened:
        structures = list(opened.structures().values())
        if crossing_id is not None:
            found = resolve_crossing_id(crossing_id, opened.crossings(), field="ID", partial=True)
            structures = [s for s in structures if s.crossing_id == found]
        states = []
        for structure in structures:
            records = opened.status_source(structure.crossing_id).lifecycle
            states.append(
                StructureState(structure, structure_lifecycle(records, structure.id, day))
            )
    return states


def show_crossing(
    store: str | Path, crossing_id: str, *, as_of: date | None = None
) -> CrossingHistory:
    """Return one crossing (by id or any of its names) with its whole history.

    Raises
    ------
    UnknownCrossingError
        If no crossing has that id or name; the message suggests close ids.
    """
    from geo.validate import resolve_crossing_id

    with open_store(store) as opened:
        crossings = opened.crossings()
        found = resolve_crossing_id(crossing_id, crossings, field="ID", partial=True)
        if found is None:
            raise RecordValidationError(
                "ID",
                crossing_id,
                "names the whole border, not a crossing",
                "a crossing id from `crossings list`",
                "pick one crossing",
            )
        day = _today(as_of)
        records = sorted(opened.observations(found), key=rule_order)
        structures = [s for s in opened.structures().values() if s.crossing_id == found]
        answer = status_as_of(records, found, day, structure_ids=tuple(s.id for s in structures))
    # A record is superseded when a later one names it in `replaces` (a correction or retraction).
    superseded = frozenset(o.replaces for o in records if o.replaces)
    states = [StructureState(s, structure_lifecycle(records, s.id, day)) for s in structures]
    return CrossingHistory(crossings[found], answer, records, superseded, states)


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
            default_recorded_by=_recorder(),
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
                or opened.status_snapshot_day(record.crossing_id) != _today(None)
            ):
                _refresh_status_snapshot(opened, {record.crossing_id})
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
    """What an import added, and which columns of the file it did not use."""

    ids: list[str]
    rows: int
    ignored_fields: list[str]


def import_observations(
    store: str | Path,
    path: str | Path,
    *,
    ignore_duplicates: bool = False,
    defaults: Mapping[str, str] | None = None,
) -> ImportReport:
    """Add every observation of a CSV, GeoJSON or KML file, or none.

    Parameters
    ----------
    store, path : str or Path
        The store, and the file to read.
    ignore_duplicates : bool, default False
        Skip records already stored (or repeated) instead of refusing the file.
    defaults : mapping, optional
        Values for fields a row leaves empty, e.g. ``{"kind": "infrastructure",
        "source_type": "satellite_imagery"}`` for placemarks drawn in Google Earth.

    Returns
    -------
    ImportReport
        The ids added and the file's columns that were not understood.

    Raises
    ------
    BatchValidationError
        Listing every bad row (row number, field, value); nothing is written.
    """
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

    def rows() -> Iterator[tuple[int, dict[str, object]]]:
        for number, fields in iter_rows(path):
            given = {_FIELD_ALIASES.get(k, k): v for k, v in fields.items() if v not in ("", None)}
            yield number, {**defaults, **given}

    # A first pass reads only what later rows correct; the second validates and writes,
    # row by row, so that a file of any size is never held whole.
    corrected: set[str] = set()
    count = 0
    for _, fields in rows():
        count += 1
        if fields.get("replaces"):
            corrected.add(str(fields["replaces"]))
    columns: set[str] = set()
    touched: set[str | None] = set()
    problems: list[RowProblem] = []
    # An id's row and a 64-bit hash of what the row says, packed in one int: small at a million.
    seen: dict[str, int] = {}

    def checked(parse: Callable[[Mapping[str, object]], Observation]) -> Iterator[Observation]:
        for number, fields in rows():
            columns.update(fields)
            try:
                record = parse(fields)
            except RecordValidationError as err:
                problems.append(RowProblem(number, err))
                continue
            said = hash(identity(record)) & 0xFFFF_FFFF_FFFF_FFFF
            packed = seen.setdefault(record.id, number << 64 | said)
            first, first_said = packed >> 64, packed & 0xFFFF_FFFF_FFFF_FFFF
            if first != number and first_said != said:  # one id, two contents
                problems.append(
                    RowProblem(
                        number,
                        RecordValidationError(
                            "id",
                            record.id,
                            f"is also the id of row {first}, which says something else",
                            "a record whose derived id no other row has",
                            "reword the summary slightly; the rows are not duplicates",
                        ),
                    )
                )
                continue
            if first != number and not ignore_duplicates:
                problems.append(
                    RowProblem(
                        number,
                        RecordValidationError(
                            "observation",
                            record.id,
                            f"repeats row {first}",
                            "each record once",
                            "remove the repeated row, or pass --ignore",
                        ),
                    )
                )
                continue
            if can_change_status(record):
                touched.add(record.crossing_id)
            if not problems:  # after the first bad row, check the rest and write nothing
                yield record
        if problems:  # raised inside the write's transaction: it rolls back
            raise BatchValidationError(str(path), problems)

    with open_store(store, writable=True) as opened:
        parse = _history_parser(
            corrected,
            opened.crossings(),
            structures=opened.structures(),
            default_recorded_by=_recorder(),
        )
        bulk = count >= _BULK_ROWS and count >= opened.count() // 4
        with opened.transaction():
            ids = opened.add_observations(
                checked(parse),
                on_duplicate="ignore" if ignore_duplicates else "error",
                bulk=bulk,
                expected_rows=count,
            )
            _refresh_status_snapshot(opened, touched)
    ignored = sorted(columns - OBSERVATION_FIELDS - _DERIVED_FIELDS - _KML_FIELDS)
    return ImportReport(ids=ids, rows=count, ignored_fields=ignored)


@dataclass(frozen=True)
class MergeReport:
    """What a merge added, and what it found different and left as stored."""

    crossings: list[str]
    structures: list[str]
    observations: list[str]
    completed_observations: list[str]
    trade: int
    differing_crossings: list[str]
    differing_structures: list[str]
    differing_observations: list[str]


def _read_source(
    source: str | Path, crossings: Mapping[str, Crossing], structures: Mapping[str, Structure]
) -> tuple[list[Crossing], list[Structure], list[Observation], list[TradeFigure]]:
    """Read what a seed folder or another store holds, checked as if typed in."""
    if not is_database(source) and Path(source).is_dir():
        return load_seed(source)
    with open_store(source) as other:
        their_crossings, their_structures = _checked_layers(other, source, crossings, structures)
        check = _record_checker(
            {**{c.id: c for c in their_crossings}, **crossings},
            {**{s.id: s for s in their_structures}, **structures},
        )
        checked_records = _parse_rows(
            f"{store_name(source)} (observations)",
            list(enumerate(map(_flat_record, other.observations()), 1)),
            check,
        )
        trade = other.trade()
    return their_crossings, their_structures, checked_records, trade


def _flat_record(record: Observation) -> dict[str, object]:
    from geo.exchange import observation_fields

    return _flat(observation_fields(record))


def _checked_layers(
    other: Store,
    source: str | Path,
    crossings: Mapping[str, Crossing],
    structures: Mapping[str, Structure],
) -> tuple[list[Crossing], list[Structure]]:
    """Check another store's crossings and structures field by field, as a seed's.

    A store is shared: it may hold anything.
    """
    from geo.exchange import crossing_fields, structure_fields

    name = store_name(source)
    checked_crossings = _parse_rows(
        f"{name} (crossings)",
        [(n, _flat(crossing_fields(c))) for n, c in enumerate(other.crossings().values(), 1)],
        parse_crossing,
    )
    known = {**{c.id: c for c in checked_crossings}, **crossings}
    checked_structures = _parse_rows(
        f"{name} (structures)",
        [(n, _flat(structure_fields(s))) for n, s in enumerate(other.structures().values(), 1)],
        lambda raw: parse_structure(raw, known),
    )
    return checked_crossings, checked_structures


def _record_checker(
    crossings: Mapping[str, Crossing], structures: Mapping[str, Structure]
) -> Callable[[dict[str, object]], Observation]:
    """Check a stored record as history: against the rules it may have been made under."""
    return lambda raw: parse_observation(
        raw, crossings, structures=structures, today=date.max, as_recorded=True
    )


def copy_store(source: str | Path, target: str | Path, *, force: bool = False) -> dict[str, int]:
    """Copy a whole store into a new one (GeoPackage or PostGIS, either way), losing nothing.

    Ids, dates with their precision, sources, points, corrections, structures
    and trade figures are copied as stored, each record checked on the way as
    ``merge`` checks it; records stream, so memory stays flat at any size. The
    target is written all or nothing; the status snapshot is derived anew.

    Raises
    ------
    StoreExistsError
        If ``target`` holds a store and ``force`` is false.
    BatchValidationError
        If a record of the source breaks the rules (nothing is written).
    """
    if store_name(source) == store_name(target):
        raise RecordValidationError(
            "DST", store_name(target), "is the source itself", "another store", "name another"
        )
    with open_store(source) as other:
        crossings, structures = _checked_layers(other, source, {}, {})
        check = _record_checker({c.id: c for c in crossings}, {s.id: s for s in structures})
        name = f"{store_name(source)} (observations)"

        def records() -> Iterator[Observation]:
            for number, record in enumerate(other.iter_observations(), 1):
                try:
                    yield check(_flat_record(record))
                except RecordValidationError as err:
                    raise BatchValidationError(name, [RowProblem(number, err)]) from err

        trade = other.trade()
        create_store(target, crossings, records(), trade, structures=structures, force=force)
    with open_store(target, writable=True) as opened:
        _refresh_status_snapshot(opened)
        return {
            "crossings": len(crossings),
            "structures": len(structures),
            "observations": opened.count(),
            "trade": len(trade),
        }


def _flat(fields: Mapping[str, object]) -> dict[str, object]:
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


def merge_inventory(store: str | Path, source: str | Path) -> MergeReport:
    """Add what ``source`` (a seed folder or another store) has and the store lacks, or nothing.

    Crossings, structures and observations are matched by id, trade figures by
    period, flow, value and source. What both have but with different fields
    is reported and left as stored: records are never edited, and a wrong one
    is corrected by a new record that replaces it. One exception completes a
    migration: a stored record made before schema version 3 gets that
    version's fields (applies_to, until, structure_id, traffic, expected,
    lifecycle, source_is_mirror) from the source, as it had none. A second
    merge adds nothing.

    Raises
    ------
    BatchValidationError
        If the source has bad rows (nothing is written).
    """
    from geo.exchange import crossing_fields, observation_fields, structure_fields

    # Check all of the source before the store is opened for writing (or migrated).
    with open_store(store) as reading:
        known_crossings, known_structures = reading.crossings(), reading.structures()
    crossings, structures, records, trade = _read_source(source, known_crossings, known_structures)
    with open_store(store, writable=True) as opened:
        have_crossings = opened.crossings()
        have_structures = opened.structures()
        new_crossings = [c for c in crossings if c.id not in have_crossings]
        differing_crossings = [
            c.id
            for c in crossings
            if c.id in have_crossings
            and crossing_fields(c) != crossing_fields(have_crossings[c.id])
        ]
        new_structures = [s for s in structures if s.id not in have_structures]
        differing_structures = [
            s.id
            for s in structures
            if s.id in have_structures
            and structure_fields(s) != structure_fields(have_structures[s.id])
        ]
        stored = {o.id: o for o in opened.observations_by_id([o.id for o in records])}
        new_records = [o for o in records if o.id not in stored]
        differing_records = [
            o.id
            for o in records
            if o.id in stored and observation_fields(o) != observation_fields(stored[o.id])
        ]
        have_trade = {_trade_key(t) for t in opened.trade()}
        new_trade = [t for t in trade if _trade_key(t) not in have_trade]
        with opened.transaction():
            opened.add_crossings(new_crossings)
            opened.add_structures(new_structures)
            added = opened.add_observations(in_writing_order(new_records))
            completed = opened.complete_observations([o for o in records if o.id in stored])
            opened.add_trade(new_trade)
            _refresh_status_snapshot(opened)
    return MergeReport(
        crossings=[c.id for c in new_crossings],
        structures=[s.id for s in new_structures],
        observations=added,
        completed_observations=completed,
        trade=len(new_trade),
        differing_crossings=differing_crossings,
        differing_structures=differing_structures,
        differing_observations=differing_records,
    )


def _trade_key(figure: TradeFigure) -> tuple[object, ...]:
    return (figure.period, figure.flow, figure.value_usd, figure.source_name)


def validate_inventory(store: str | Path = DEFAULT_STORE) -> list[str]:
    """Check a whole store: its file, its references, and every record against the rules.

    Returns
    -------
    list of str
        One line per problem; empty when the store is sound.
    """
    from geo.exchange import crossing_fields, observation_fields, structure_fields

    with open_store(store) as opened:
        problems = opened.integrity_problems()
        if any(problem.startswith("sqlite:") for problem in problems):
            return problems  # a damaged file: its records cannot be read to be checked
        crossings = opened.crossings()
        structures = opened.structures()
        records = opened.observations()
        trade = opened.trade()
        migrated = opened.migrated_at(3)
    # A shared store may have been written by other tools: every layer meets the same rules.
    for crossing in crossings.values():
        try:
            parse_crossing(_flat(crossing_fields(crossing)))
        except RecordValidationError as err:
            problems.append(f"crossing {crossing.id!r}: {err}")
    for structure in structures.values():
        try:
            parse_structure(_flat(structure_fields(structure)), crossings)
        except RecordValidationError as err:
            problems.append(f"structure {structure.id!r}: {err}")
    superseded = {o.replaces for o in records if o.replaces}
    for record in records:
        raw = _flat(observation_fields(record))
        # History is checked against the rules it was recorded under: a record since
        # corrected, or one stored before version 3, may use version 2's statuses.
        as_recorded = record.id in superseded or (
            migrated is not None and record.recorded_at < migrated
        )
        try:
            parse_observation(raw, crossings, structures=structures, as_recorded=as_recorded)
        except RecordValidationError as err:
            problems.append(f"observation {record.id}: {err}")
    for figure in trade:
        if figure.value_usd < 0:
            problems.append(
                f"trade {figure.period} {figure.flow}: negative value {figure.value_usd}"
            )
    return problems


def _map_inputs(store: str | Path, as_of: date | None) -> dict[str, Any]:
    today = _today(None)
    day = as_of or today
    with open_store(store) as opened:
        crossings = list(opened.crossings().values())
        structures = list(opened.structures().values())
        records = opened.observations()
        trade = opened.trade()
    border = [o for o in records if o.crossing_id is None]
    own: dict[str | None, list[Observation]] = {}
    for record in records:
        own.setdefault(record.crossing_id, []).append(record)
    # Each crossing's history in the order the status rule applies it.
    histories = [sorted(own.get(c.id, []) + border, key=rule_order) for c in crossings]
    owned = _owned(structures)
    return {
        "crossings": crossings,
        "structures": structures,
        "records": records,
        "trade": trade,
        "histories": histories,
        "timelines": [
            status_timeline(h, c.id, until=max(today, day), structure_ids=owned.get(c.id, ()))
            for c, h in zip(crossings, histories, strict=True)
        ],
        "as_of": day,
        "start": min((o.date.start for o in records), default=day),
        "today": today,
    }


def overview_map(store: str | Path = DEFAULT_STORE, *, as_of: date | None = None) -> Any:
    """Return the overview ``folium.Map`` of every crossing (shown inline in a notebook).

    Markers are coloured by status on ``as_of`` (default today); the map's time
    control runs from the first record to today.
    """
    from geo.render import overview_map as render_overview

    got = _map_inputs(store, as_of)
    return render_overview(
        got["crossings"],
        got["timelines"],
        got["histories"],
        got["records"],
        got["trade"],
        as_of=got["as_of"],
        start=got["start"],
        today=got["today"],
        structures=got["structures"],
    )


def maps(store: str | Path = DEFAULT_STORE, *, as_of: date | None = None) -> dict[str, Any]:
    """Return the overview map (key ``index``) and one map per crossing (key: its id).

    Each is a ``folium.Map``; the caller saves them.
    """
    from geo.render import crossing_map
    from geo.render import overview_map as render_overview

    got = _map_inputs(store, as_of)
    dates = {"as_of": got["as_of"], "start": got["start"], "today": got["today"]}
    result = {
        OVERVIEW_PAGE: render_overview(
            got["crossings"],
            got["timelines"],
            got["histories"],
            got["records"],
            got["trade"],
            structures=got["structures"],
            **dates,
        )
    }
    for crossing, timeline, history in zip(
        got["crossings"], got["timelines"], got["histories"], strict=True
    ):
        page_name(crossing.id)  # a store's id becomes a file name only if it is a slug
        result[crossing.id] = crossing_map(
            crossing,
            timeline,
            history,
            structures=got["structures"],
            pages=got["crossings"],
            **dates,
        )
    return result


#: Figure formats, by the suffix of the file asked for.
FIGURE_SUFFIXES = (".png", ".svg", ".pdf")


def write_figure(
    store: str | Path,
    out: str | Path,
    *,
    as_of: date | None = None,
    crossing_id: str | None = None,
    lang: str = "en",
    force: bool = False,
) -> Path:
    """Write a static figure of the crossings' status on a day: PNG, SVG or PDF, by suffix.

    Raises
    ------
    RecordValidationError
        For an unknown format, language or crossing, or an existing file without ``force``.
    """
    from geo.figure import LANGUAGES, save_figure, status_figure
    from geo.validate import resolve_crossing_id

    target = Path(out)
    if target.suffix.lower() not in FIGURE_SUFFIXES:
        raise RecordValidationError(
            "--out",
            str(target),
            "does not end in .png, .svg or .pdf",
            "a file name ending in .png, .svg or .pdf (the format)",
            f"name the file e.g. {target.stem or 'crossings'}.png",
        )
    if lang not in LANGUAGES:
        raise RecordValidationError(
            "--lang", lang, "is not a label language", ", ".join(LANGUAGES), "pick one of them"
        )
    check_target(target, force=force)
    day = _today(as_of)
    statuses = list_crossings(store, as_of=day)
    if crossing_id is not None:
        crossings = {s.crossing.id: s.crossing for s in statuses}
        crossing_id = resolve_crossing_id(crossing_id, crossings, field="--crossing", partial=True)
    figure = status_figure(statuses, day=day, lang=lang, crossing_id=crossing_id)
    with written_beside(target, force=force) as building:
        save_figure(figure, building)
    return target


def export_inventory(
    store: str | Path,
    out: str | Path,
    output_format: str,
    *,
    crossing_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
    force: bool = False,
) -> dict[str, int]:
    """Write the store, or one crossing or a date window of it, as GeoJSON, KML, CSV or GeoPackage.

    A crossing's subset keeps the records about the whole border; a record
    that corrects another keeps the one it corrects, so a GeoPackage subset is
    itself a valid store. Returns how many crossings and observations were written.

    Raises
    ------
    RecordValidationError
        For an unknown format, crossing or date, or an existing file without ``force``.
    """
    from geo.exchange import EXPORT_SUFFIXES
    from geo.questions import date_range
    from geo.validate import resolve_crossing_id

    if output_format not in EXPORT_SUFFIXES:
        raise RecordValidationError(
            "--format",
            output_format,
            "is not an export format",
            ", ".join(EXPORT_SUFFIXES),
            "pick one of them",
        )
    target = Path(out)
    suffixes = EXPORT_SUFFIXES[output_format]
    if target.suffix.lower() not in suffixes:
        raise RecordValidationError(
            "--out",
            str(target),
            f"does not end in {' or '.join(suffixes)}, which --format {output_format} writes",
            f"a file name ending in {' or '.join(suffixes)}",
            f"name the file e.g. {target.stem or 'crossings'}{suffixes[0]}",
        )
    check_target(target, force=force)
    first, last = date_range(since, until)
    with open_store(store) as opened:
        crossings = opened.crossings()
        records = opened.observations()
        trade = opened.trade()
        structures = list(opened.structures().values())
    chosen = list(crossings.values())
    if crossing_id is not None:
        found = resolve_crossing_id(crossing_id, crossings, field="--crossing", partial=True)
        chosen = [c for c in chosen if c.id == found]
    ids = {c.id for c in chosen}
    kept = {
        o.id: o
        for o in records
        if (o.crossing_id is None or o.crossing_id in ids) and overlaps(o.date, first, last)
    }
    by_id = {o.id: o for o in records}
    pending = [o.replaces for o in kept.values()]
    while pending:  # keep what the kept records correct, so references hold
        target_id = pending.pop()
        if target_id is not None and target_id in by_id and target_id not in kept:
            kept[target_id] = by_id[target_id]
            pending.append(by_id[target_id].replaces)
    observations = sorted(kept.values(), key=lambda o: (o.date.start, o.date.end))
    counts = {"crossings": len(chosen), "observations": len(observations)}
    figures = [
        t
        for t in trade
        if (first is None or t.period_end >= first) and (last is None or t.period_start <= last)
    ]
    kept_structures = [s for s in structures if s.crossing_id in ids]
    with written_beside(target, force=force) as building:
        if output_format == "geojson" and target.suffix.lower() == ".zip":
            layers = write_geojson_layers(building, chosen, kept_structures, observations)
            counts["features"] = sum(layers.values())
        elif output_format == "geojson":
            counts["features"], counts["left_out"] = write_geojson(building, chosen, observations)
        elif output_format == "csv" and target.suffix.lower() == ".zip":
            layers = write_csv_layers(building, chosen, kept_structures, observations, figures)
            counts["rows"] = layers["observations"]
            counts.update(
                {f"{name}_rows": n for name, n in layers.items() if name != "observations"}
            )
        elif output_format == "csv":
            counts["rows"] = write_csv(building, observations, {c.id: c for c in chosen})
        elif output_format == "kml":
            counts["placemarks"] = _export_kml(building, chosen, kept_structures, observations)
        else:
            create_store(
                building,
                chosen,
                in_writing_order(observations),
                figures,
                structures=kept_structures,
            )
            with open_store(building, writable=True) as opened:
                _refresh_status_snapshot(opened)
                counts["observations"] = opened.count()
    return counts


def _export_kml(
    path: Path,
    chosen: Sequence[Crossing],
    structures: Sequence[Structure],
    observations: Sequence[Observation],
) -> int:
    """Write KML (or KMZ: the KML zipped as doc.kml) and return the placemarks it holds."""
    import zipfile

    import pyogrio

    border = [o for o in observations if o.crossing_id is None]
    today = _today(None)
    owned = _owned(structures)
    timelines = {
        c.id: status_timeline(
            [o for o in observations if o.crossing_id == c.id] + border,
            c.id,
            until=today,
            structure_ids=owned.get(c.id, ()),
        )
        for c in chosen
    }
    kml = path.with_name("doc.kml")
    meant = write_kml(kml, chosen, timelines, observations)
    written = (
        sum(pyogrio.read_info(kml, layer=name)["features"] for name, _ in pyogrio.list_layers(kml))
        if meant
        else 0
    )
    if written != meant:
        raise GeoError(
            f"{path.name}: GDAL wrote {written} of {meant} placemarks; nothing was replaced. "
            "Fix: report this with the command you ran"
        )
    if path.suffix.lower() == ".kmz":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(kml, "doc.kml")
    else:
        kml.rename(path)
    return written
