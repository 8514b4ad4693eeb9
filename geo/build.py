"""Build, fill, copy and check stores: ``init``, ``merge``, ``copy``, ``validate``.

Each checks all its input before it writes anything.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from geo.basemap import border_line
from geo.errors import (
    BatchValidationError,
    DamagedStoreError,
    RecordValidationError,
    RowProblem,
    StoreExistsError,
)
from geo.exchange import (
    crossing_fields,
    observation_fields,
    read_csv_rows,
    structure_fields,
)
from geo.fields import geodesic_distance_m
from geo.inventory import (
    DEFAULT_SEED,
    DEFAULT_STORE,
    flat_fields,
    history_parser,
    parse_rows,
    refresh_status_snapshot,
)
from geo.model import LonLat, in_writing_order
from geo.outputs import is_store_file, same_file
from geo.store import Store, create_store, is_database, open_store, store_fault, store_name
from geo.validate import parse_crossing, parse_observation, parse_structure, parse_trade_figure

if TYPE_CHECKING:
    from geo.model import Crossing, Observation, Structure, TradeFigure

__all__ = [
    "MergeReport",
    "Problem",
    "boundary_problems",
    "copy_store",
    "init_inventory",
    "inventory_problems",
    "load_seed",
    "merge_inventory",
    "validate_inventory",
]


#: The files of a seed folder, in the order they are read.
SEED_FILES = ("crossings.csv", "structures.csv", "observations.csv", "trade.csv")


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
    crossings = parse_rows(
        str(seed_dir / "crossings.csv"), read_csv_rows(seed_dir / "crossings.csv"), parse_crossing
    )
    by_id = {c.id: c for c in crossings}
    structures: list[Structure] = []
    if (seed_dir / "structures.csv").exists():
        structures = parse_rows(
            str(seed_dir / "structures.csv"),
            read_csv_rows(seed_dir / "structures.csv"),
            lambda raw: parse_structure(raw, by_id),
        )
    structures_by_id = {s.id: s for s in structures}
    rows = read_csv_rows(seed_dir / "observations.csv")
    corrected = {str(fields.get("replaces") or "") for _, fields in rows} - {""}
    observations = parse_rows(
        str(seed_dir / "observations.csv"),
        rows,
        history_parser(corrected, by_id, structures=structures_by_id, today=today),
    )
    trade = parse_rows(
        str(seed_dir / "trade.csv"),
        read_csv_rows(seed_dir / "trade.csv"),
        lambda raw: parse_trade_figure(raw, today=today),
    )
    return crossings, structures, observations, trade


def init_inventory(
    store: str | Path = DEFAULT_STORE, *, seed: str | Path = DEFAULT_SEED, force: bool = False
) -> dict[str, int]:
    """Build the store from the seed; return how many records of each kind it holds.

    Raises
    ------
    StoreExistsError
        If the store exists and ``force`` is false.
    RecordValidationError
        If the store's path is one of the seed's files.
    BatchValidationError
        If the seed has bad rows (nothing is written).
    """
    for name in SEED_FILES:
        if not is_database(store) and same_file(store, Path(seed) / name):
            raise RecordValidationError(
                "--store",
                str(store),
                f"is {name} of the seed folder this command reads",
                "a store path outside the seed's files",
                "name another file, e.g. crossings.gpkg beside the seed folder",
            )
    crossings, structures, observations, trade = load_seed(seed)
    create_store(store, crossings, observations, trade, structures=structures, force=force)
    with open_store(store, writable=True) as opened:
        refresh_status_snapshot(opened)
    return {
        "crossings": len(crossings),
        "structures": len(structures),
        "observations": len(observations),
        "trade": len(trade),
    }


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
        checked_records = parse_rows(
            f"{store_name(source)} (observations)",
            list(enumerate(map(_flat_record, other.observations()), 1)),
            check,
        )
        trade = other.trade()
    return their_crossings, their_structures, checked_records, trade


def _flat_record(record: Observation) -> dict[str, object]:

    return flat_fields(observation_fields(record))


def _checked_layers(
    other: Store,
    source: str | Path,
    crossings: Mapping[str, Crossing],
    structures: Mapping[str, Structure],
) -> tuple[list[Crossing], list[Structure]]:
    """Check another store's crossings and structures field by field, as a seed's.

    A store is shared: it may hold anything.
    """
    name = store_name(source)
    checked_crossings = parse_rows(
        f"{name} (crossings)",
        [(n, flat_fields(crossing_fields(c))) for n, c in enumerate(other.crossings().values(), 1)],
        parse_crossing,
    )
    known = {**{c.id: c for c in checked_crossings}, **crossings}
    checked_structures = parse_rows(
        f"{name} (structures)",
        [
            (n, flat_fields(structure_fields(s)))
            for n, s in enumerate(other.structures().values(), 1)
        ],
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
    if (
        store_name(source) == store_name(target)
        if is_database(source)
        else is_store_file(target, source)
    ):
        raise RecordValidationError(
            "DST",
            store_name(target),
            "is SRC itself, or one of SQLite's files beside it",
            "another store: a new file, or a database",
            "name a new file or another database",
        )
    if not is_database(target) and Path(target).exists() and not force:
        raise StoreExistsError(
            f"{target} already exists. Fix: pass --force to replace it with the copy (what it "
            "holds is lost), or name a new file"
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
        try:
            create_store(target, crossings, records(), trade, structures=structures, force=force)
        except sqlite3.Error as err:  # a fault of the copy written, not of the store read
            raise store_fault(err, store_name(target)) from err
    with open_store(target, writable=True) as opened:
        refresh_status_snapshot(opened)
        return {
            "crossings": len(crossings),
            "structures": len(structures),
            "observations": opened.count(),
            "trade": len(trade),
        }


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
    # Check all of the source before the store is opened for writing (or migrated).
    with open_store(store) as reading:
        known_crossings, known_structures = reading.crossings(), reading.structures()
    crossings, structures, records, trade = _read_source(source, known_crossings, known_structures)
    with open_store(store, writable=True) as opened:
        have_crossings = opened.crossings()
        have_structures = opened.structures()
        new_crossings = [c for c in crossings if c.id not in have_crossings]
        differing_crossings = _differing(crossings, have_crossings, crossing_fields)
        new_structures = [s for s in structures if s.id not in have_structures]
        differing_structures = _differing(structures, have_structures, structure_fields)
        stored = {o.id: o for o in opened.observations_by_id([o.id for o in records])}
        by_id = {o.id: o for o in records}
        new_records = [o for o in records if o.id not in stored]
        differing_records = _differing(records, stored, observation_fields)
        have_trade = {_trade_key(t) for t in opened.trade()}
        new_trade = [t for t in trade if _trade_key(t) not in have_trade]
        with opened.transaction():
            opened.add_crossings(new_crossings)
            opened.add_structures(new_structures)
            added = opened.add_observations(in_writing_order(new_records))
            completed = opened.complete_observations([o for o in records if o.id in stored])
            filled = set(opened.complete_structures(structures))
            opened.add_trade(new_trade)
            refresh_status_snapshot(opened)
            # A record completed by a migration's fields may now be as the source has it.
            now = {o.id: o for o in opened.observations_by_id(completed)}
            differing_records = [
                i
                for i in differing_records
                if i not in now or observation_fields(now[i]) != observation_fields(by_id[i])
            ]
            after = opened.structures()
            differing_structures = [
                i
                for i in differing_structures
                if i not in filled
                or structure_fields(after[i])
                != structure_fields(next(s for s in structures if s.id == i))
            ]
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


#: A record that a merge matches by id in the source and in the store.
_Record = TypeVar("_Record", "Crossing", "Structure", "Observation")


def _differing(
    given: Sequence[_Record], have: Mapping[str, _Record], fields: Callable[[_Record], object]
) -> list[str]:
    """Return the ids both hold with different fields: reported, never overwritten."""
    return [r.id for r in given if r.id in have and fields(r) != fields(have[r.id])]


def _trade_key(figure: TradeFigure) -> tuple[object, ...]:
    return (figure.period, figure.flow, figure.value_usd, figure.source_name)


#: A problem the store itself names, as "observation o-1: …" or "crossings: …".
_NAMED_RECORD = re.compile(r"(crossing|structure|observation) '?([^':]+)'?: (.*)", re.DOTALL)
_NAMED_LAYER = re.compile(r"(crossings|structures|observations|trade|sqlite): (.*)", re.DOTALL)
#: The fields a record names another by, in the store's own reference problems.
_REFERENCE = re.compile(r"(crossing_id|structure_id|replaces) '([^']*)'")


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a store, as ``crossings validate`` reports it.

    ``str()`` of a problem is its line of the report (``message``); the other
    attributes are its parts, for scripts: the layer and the record it was found
    in, the field and its value, what is wrong, what is allowed and the fix.
    Those a problem does not have are None.
    """

    message: str
    problem: str
    layer: str | None = None
    record_id: str | None = None
    field: str | None = None
    value: object = None
    allowed: str | None = None
    fix: str | None = None

    def __str__(self) -> str:
        return self.message

    @classmethod
    def of_record(
        cls, layer: str, record_id: str | None, shown: str, err: RecordValidationError
    ) -> Problem:
        """Return the problem a record's check raised; ``shown`` names the record in the line."""
        said = f"{shown}: {err}"
        return cls(said, err.problem, layer, record_id, err.field, err.value, err.allowed, err.fix)

    @classmethod
    def of_text(cls, message: str) -> Problem:
        """Return a problem the store names in a line: its layer, record and field where it says.

        Examples
        --------
        >>> found = Problem.of_text("observation o-1: replaces 'o-9', which is not in the store")
        >>> found.layer, found.record_id, found.field, found.value
        ('observations', 'o-1', 'replaces', 'o-9')
        >>> Problem.of_text("sqlite: the file is damaged (x). Fix: restore it").fix
        'restore it'
        """
        text, _, fix = message.partition(". Fix: ")
        layer = record_id = field = value = None
        if named := _NAMED_RECORD.fullmatch(text):
            layer, record_id, text = f"{named[1]}s", named[2], named[3]
            if reference := _REFERENCE.match(text):
                field, value = reference[1], reference[2]
        elif named := _NAMED_LAYER.fullmatch(text):
            layer, text = (None if named[1] == "sqlite" else named[1]), named[2]
        return cls(message, text, layer, record_id, field, value, None, fix or None)


def validate_inventory(store: str | Path = DEFAULT_STORE) -> list[str]:
    """Check a whole store: its file, its references, and every record against the rules.

    Returns
    -------
    list of str
        One line per problem; empty when the store is sound. The problems
        themselves, with their parts: :func:`inventory_problems`.
    """
    return [str(problem) for problem in inventory_problems(store)]


def inventory_problems(store: str | Path = DEFAULT_STORE) -> list[Problem]:
    """Check a whole store: its file, its references, and every record against the rules.

    Returns
    -------
    list of Problem
        Each problem found, with its layer, record, field, value and fix where
        it has them; empty when the store is sound.
    """
    try:
        opened = open_store(store)
    except DamagedStoreError as err:  # it is this check's answer, not a reason to run it
        cause = err.__cause__ or err
        damaged = f"sqlite: the file is damaged ({cause}). Fix: restore it from a copy"
        return [Problem.of_text(damaged)]
    with opened:
        problems = [Problem.of_text(line) for line in opened.integrity_problems()]
        if any(problem.message.startswith("sqlite:") for problem in problems):
            return problems  # a damaged file: its records cannot be read to be checked
        try:
            crossings = opened.crossings()
            structures = opened.structures()
            records = opened.observations()
            trade = opened.trade()
        except RecordValidationError as err:  # a row another program wrote badly
            return [*problems, _unreadable(err)]
        migrated = opened.migrated_at(3)
    problems += _record_problems(crossings, structures, records, migrated)
    for figure in trade:
        if figure.value_usd < 0:
            row = f"{figure.period} {figure.flow}"
            said = f"trade {row}: negative value {figure.value_usd}"
            problems.append(
                Problem(said, "negative value", "trade", row, "value_usd", figure.value_usd)
            )
    return problems + boundary_problems(crossings, structures)


def _unreadable(err: RecordValidationError) -> Problem:
    """Return the problem of a row another program wrote that cannot be read.

    The error names the record (``observation``, its id) or one value (``trade.value_usd``).
    """
    found = Problem.of_record("", None, "unreadable row", err)
    layer, dot, field = err.field.rpartition(".")
    if dot:
        return replace(found, layer=layer, field=field)
    return replace(found, layer=f"{err.field}s", record_id=str(err.value), field=None, value=None)


def _record_problems(
    crossings: Mapping[str, Crossing],
    structures: Mapping[str, Structure],
    records: Sequence[Observation],
    migrated: datetime | None,
) -> list[Problem]:
    """Check every crossing, structure and record against the rules of new ones."""
    problems = []
    # A shared store may have been written by other tools: every layer meets the same rules.
    for crossing in crossings.values():
        try:
            parse_crossing(flat_fields(crossing_fields(crossing)))
        except RecordValidationError as err:
            problems.append(
                Problem.of_record("crossings", crossing.id, f"crossing {crossing.id!r}", err)
            )
    for structure in structures.values():
        try:
            parse_structure(flat_fields(structure_fields(structure)), crossings)
        except RecordValidationError as err:
            problems.append(
                Problem.of_record("structures", structure.id, f"structure {structure.id!r}", err)
            )
    superseded = {o.replaces for o in records if o.replaces}
    for record in records:
        raw = flat_fields(observation_fields(record))
        # History is checked against the rules it was recorded under: a record since
        # corrected, or one stored before version 3, may use version 2's statuses.
        as_recorded = record.id in superseded or (
            migrated is not None and record.recorded_at < migrated
        )
        try:
            parse_observation(raw, crossings, structures=structures, as_recorded=as_recorded)
        except RecordValidationError as err:
            problems.append(
                Problem.of_record("observations", record.id, f"observation {record.id}", err)
            )
    return problems


def boundary_problems(
    crossings: Mapping[str, Crossing], structures: Mapping[str, Structure]
) -> list[Problem]:
    """Name each point that lies farther from the China–DPRK boundary than it may.

    A crossing's or structure's point may lie as far from the boundary (at 10 m,
    from OpenStreetMap) as its stated precision plus its length (a crossing's:
    its longest structure's): a bridge crosses the line somewhere along it.
    """
    from shapely import Point
    from shapely.ops import nearest_points

    line = border_line()
    longest: dict[str, int] = {}
    for s in structures.values():
        longest[s.crossing_id] = max(longest.get(s.crossing_id, 0), s.length_m or 0)
    points = [
        *(("crossing", c.id, c.location, c.location_precision_m, longest.get(c.id, 0))
          for c in crossings.values()),
        *(("structure", s.id, s.location, s.location_precision_m, s.length_m or 0)
          for s in structures.values()),
    ]  # fmt: skip
    problems = []
    for kind, record_id, location, precision, length in points:
        if location is None or precision is None:
            continue
        nearest = nearest_points(line, Point(location))[0]
        distance = geodesic_distance_m(location, LonLat(nearest.x, nearest.y))
        if distance > precision + length:
            problem = (
                f"its point lies {distance:,.0f} m from the China–DPRK boundary, more than its "
                f"precision ({precision:,} m) plus its length ({length:,} m)"
            )
            fix = "check the coordinates (lat, lon order), or state the precision the sources allow"
            said = f"{kind} {record_id!r}: {problem}. Fix: {fix}"
            problems.append(
                Problem(said, problem, f"{kind}s", record_id, "location", list(location), fix=fix)
            )
    return problems
