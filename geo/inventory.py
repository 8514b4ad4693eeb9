"""What the CLI does, one function a command: build, read and add to the inventory.

Each function checks all its input before it writes anything.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from geo.errors import BatchValidationError, RecordValidationError, RowProblem
from geo.exchange import KML_FIELDS as _KML_FIELDS
from geo.exchange import OBSERVATION_COLUMNS, read_csv_rows, read_rows
from geo.query import StatusAnswer, overlaps, status_as_of, status_timeline
from geo.store import Store, create_store, open_store
from geo.validate import parse_crossing, parse_observation, parse_trade_figure

if TYPE_CHECKING:
    from geo.model import Crossing, Observation, TradeFigure

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_STORE",
    "CrossingHistory",
    "CrossingStatus",
    "ImportReport",
    "add_observation",
    "export_inventory",
    "import_observations",
    "init_inventory",
    "list_crossings",
    "load_seed",
    "maps",
    "overview_map",
    "show_crossing",
    "validate_inventory",
]

#: Where the CLI looks for the store and the seed, relative to the working directory.
DEFAULT_STORE = Path("layers/crossings.gpkg")
DEFAULT_SEED = Path("layers/seed")

T = TypeVar("T")


@dataclass(frozen=True)
class CrossingStatus:
    """A crossing with its status on a date."""

    crossing: Crossing
    status: StatusAnswer


@dataclass(frozen=True)
class CrossingHistory:
    """A crossing, its status on a date, and all its records, oldest first."""

    crossing: Crossing
    status: StatusAnswer
    records: list[Observation]
    superseded: frozenset[str]


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


def load_seed(
    seed_dir: str | Path = DEFAULT_SEED, *, today: date | None = None
) -> tuple[list[Crossing], list[Observation], list[TradeFigure]]:
    """Read and check the seed files ``crossings.csv``, ``observations.csv`` and ``trade.csv``.

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
    observations = _parse_rows(
        str(seed_dir / "observations.csv"),
        read_csv_rows(seed_dir / "observations.csv"),
        lambda raw: parse_observation(raw, by_id, today=today),
    )
    trade = _parse_rows(
        str(seed_dir / "trade.csv"),
        read_csv_rows(seed_dir / "trade.csv"),
        lambda raw: parse_trade_figure(raw, today=today),
    )
    return crossings, observations, trade


def _refresh_status_snapshot(opened: Store, records: Sequence[Observation] | None = None) -> None:
    """Write today's status of crossings into the crossings layer, for QGIS's style.

    With ``records``, only the crossings they concern (every one if one is border-wide).
    """
    day = _today(None)
    chosen = list(opened.crossings().values())
    if records is not None and all(r.crossing_id is not None for r in records):
        touched = {r.crossing_id for r in records}
        chosen = [c for c in chosen if c.id in touched]
    rows = []
    for crossing in chosen:
        answer = status_as_of(opened.status_records(crossing.id, day), day)
        record = answer.record
        rows.append(
            (
                crossing.id,
                answer.status,
                record.date.text if record else None,
                record.source_name if record else None,
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
    crossings, observations, trade = load_seed(seed)
    create_store(store, crossings, observations, trade, force=force)
    with open_store(store, writable=True) as opened:
        _refresh_status_snapshot(opened)
    return {"crossings": len(crossings), "observations": len(observations), "trade": len(trade)}


def _today(as_of: date | None) -> date:
    return as_of or datetime.now(UTC).date()


def list_crossings(
    store: str | Path = DEFAULT_STORE, *, as_of: date | None = None
) -> list[CrossingStatus]:
    """Return every crossing with its status on ``as_of`` (default: today)."""
    day = _today(as_of)
    with open_store(store) as opened:
        return [
            CrossingStatus(crossing, status_as_of(opened.status_records(crossing.id, day), day))
            for crossing in opened.crossings().values()
        ]


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
        found = resolve_crossing_id(crossing_id, crossings, field="ID")
        if found is None:
            raise RecordValidationError(
                "ID",
                crossing_id,
                "names the whole border, not a crossing",
                "a crossing id from `crossings list`",
                "pick one crossing",
            )
        records = opened.observations(found)
    # A record is superseded when a later one names it in `replaces` (a correction or retraction).
    superseded = frozenset(o.replaces for o in records if o.replaces)
    return CrossingHistory(
        crossings[found], status_as_of(records, _today(as_of)), records, superseded
    )


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
        record = parse_observation(fields, opened.crossings(), default_recorded_by=_recorder())
        opened.add_observations([record], on_duplicate="ignore" if ignore_duplicate else "error")
        _refresh_status_snapshot(opened, [record])
    return record.id


#: Fields an observation row may have; any other column of an imported file is reported.
OBSERVATION_FIELDS = frozenset(OBSERVATION_COLUMNS) - {"date_start", "date_end"}
# The store's own column names, as GIS tools write them back, for the import's names.
_FIELD_ALIASES = {"date_precision": "precision"}
# Columns that exports write and imports may safely pass over: they are derived.
_DERIVED_FIELDS = frozenset({"date_start", "date_end", "layer", "has_own_location"})


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
    rows = [
        (
            number,
            {
                **defaults,
                **{_FIELD_ALIASES.get(k, k): v for k, v in fields.items() if v not in ("", None)},
            },
        )
        for number, fields in read_rows(path)
    ]
    ignored = sorted(
        {key for _, fields in rows for key in fields}
        - OBSERVATION_FIELDS
        - _DERIVED_FIELDS
        - _KML_FIELDS
    )
    with open_store(store, writable=True) as opened:
        crossings = opened.crossings()
        recorder = _recorder()
        records = _parse_rows(
            str(path),
            rows,
            lambda raw: parse_observation(raw, crossings, default_recorded_by=recorder),
        )
        seen: dict[str, int] = {}
        problems = []
        for (number, _), record in zip(rows, records, strict=True):
            if record.id in seen and not ignore_duplicates:
                problems.append(
                    RowProblem(
                        number,
                        RecordValidationError(
                            "observation",
                            record.id,
                            f"repeats row {seen[record.id]}",
                            "each record once",
                            "remove the repeated row, or pass --ignore",
                        ),
                    )
                )
            seen.setdefault(record.id, number)
        if problems:
            raise BatchValidationError(str(path), problems)
        ids = opened.add_observations(
            records, on_duplicate="ignore" if ignore_duplicates else "error"
        )
        _refresh_status_snapshot(opened, records)
    return ImportReport(ids=ids, rows=len(rows), ignored_fields=ignored)


def validate_inventory(store: str | Path = DEFAULT_STORE) -> list[str]:
    """Check a whole store: its file, its references, and every record against the rules.

    Returns
    -------
    list of str
        One line per problem; empty when the store is sound.
    """
    with open_store(store) as opened:
        problems = opened.integrity_problems()
        crossings = opened.crossings()
        records = opened.observations()
        trade = opened.trade()
    for record in records:
        raw = {
            "crossing_id": record.crossing_id or "border",
            "date": record.date.text,
            "precision": record.date.precision,
            "kind": record.kind,
            "status": record.status or "",
            "summary": record.summary,
            "source_name": record.source_name,
            "source_url": record.source_url or "",
            "source_published": record.source_published.text if record.source_published else "",
            "source_type": record.source_type,
            "side": record.side or "",
            "lat": record.location.lat if record.has_own_location and record.location else "",
            "lon": record.location.lon if record.has_own_location and record.location else "",
            "replaces": record.replaces or "",
            "id": record.id,
        }
        try:
            parse_observation(raw, crossings)
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
        records = opened.observations()
        trade = opened.trade()
    border = [o for o in records if o.crossing_id is None]
    own: dict[str | None, list[Observation]] = {}
    for record in records:  # already oldest first
        own.setdefault(record.crossing_id, []).append(record)
    histories = [
        sorted(own.get(c.id, []) + border, key=lambda o: (o.date.start, o.date.end))
        for c in crossings
    ]
    return {
        "crossings": crossings,
        "records": records,
        "trade": trade,
        "histories": histories,
        "timelines": [status_timeline(h, until=max(today, day)) for h in histories],
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
        "index": render_overview(
            got["crossings"],
            got["timelines"],
            got["histories"],
            got["records"],
            got["trade"],
            **dates,
        )
    }
    for crossing, timeline, history in zip(
        got["crossings"], got["timelines"], got["histories"], strict=True
    ):
        result[crossing.id] = crossing_map(crossing, timeline, history, **dates)
    return result


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
    from geo.exchange import write_csv, write_geojson, write_kml
    from geo.questions import date_range
    from geo.store import create_store
    from geo.validate import resolve_crossing_id

    formats = ("geojson", "kml", "csv", "gpkg")
    if output_format not in formats:
        raise RecordValidationError(
            "--format",
            output_format,
            "is not an export format",
            ", ".join(formats),
            "pick one of them",
        )
    target = Path(out)
    if target.exists() and not force:
        raise RecordValidationError(
            "--out",
            str(target),
            "exists already",
            "a new file",
            "choose another path, or pass --force",
        )
    first, last = date_range(since, until)
    with open_store(store) as opened:
        crossings = opened.crossings()
        records = opened.observations()
        trade = opened.trade()
    chosen = list(crossings.values())
    if crossing_id is not None:
        found = resolve_crossing_id(crossing_id, crossings, field="--crossing")
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
    if force:
        target.unlink(missing_ok=True)
    if output_format == "geojson":
        write_geojson(target, chosen, observations)
    elif output_format == "csv":
        write_csv(target, observations)
    elif output_format == "kml":
        border = [o for o in observations if o.crossing_id is None]
        today = _today(None)
        timelines = {
            c.id: status_timeline(
                [o for o in observations if o.crossing_id == c.id] + border, until=today
            )
            for c in chosen
        }
        write_kml(target, chosen, timelines, observations)
    else:
        figures = [
            t
            for t in trade
            if (first is None or t.period_end >= first) and (last is None or t.period_start <= last)
        ]
        create_store(target, chosen, observations, figures)
        with open_store(target, writable=True) as opened:
            _refresh_status_snapshot(opened)
    return {"crossings": len(chosen), "observations": len(observations)}
