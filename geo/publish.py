"""Write what a reader opens: the maps, figures and exports of a store."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from geo.browse import list_crossings
from geo.errors import GeoError, RecordValidationError
from geo.exchange import (
    EXPORT_SUFFIXES,
    write_csv,
    write_csv_layers,
    write_geojson,
    write_geojson_layers,
    write_kml,
)
from geo.fields import date_range, resolve_crossing_id
from geo.figure import LANGUAGES, save_figure, status_figure
from geo.inventory import DEFAULT_STORE, owned_structures, refresh_status_snapshot, today_or
from geo.model import OVERVIEW_PAGE, in_writing_order
from geo.outputs import check_target, page_name, written_beside
from geo.query import overlaps
from geo.render import (
    CELL_DEG,
    DETAIL_AROUND_DEG,
    MARKER_LIMIT,
    History,
    MapDays,
    crossing_data,
    crossing_map,
    overview_data,
)
from geo.render import overview_map as render_overview
from geo.status import StatusStep, rule_order, source_timeline, status_timeline
from geo.store import create_store, open_store, store_fault
from geo.store.digest import (
    Cells,
    border_records,
    first_day,
    history_window,
    located,
    located_cells,
    records_of_structures,
    replacing,
    year_counts,
)

if TYPE_CHECKING:
    from geo.model import Crossing, Observation, Structure, TradeFigure
    from geo.store.base import Store
    from geo.timelines import KeptTimelines

__all__ = [
    "FIGURE_SUFFIXES",
    "crossing_page",
    "export_format",
    "export_inventory",
    "maps",
    "overview_map",
    "page_data",
    "write_figure",
]


#: A crossing's history on a page: its newest records; past this many, the page counts the
#: rest a year and names the command that lists them all.
HISTORY_LIMIT = 200


class _PageInputs(NamedTuple):
    """What the maps of a store show, read through its indexes: the same cost at any size.

    ``timelines``, ``histories`` and ``located`` are of the crossings ``drawn``;
    ``crossings`` are all of them, each with a page to link to.
    """

    crossings: list[Crossing]
    drawn: list[Crossing]
    structures: list[Structure]
    trade: list[TradeFigure]
    timelines: list[list[StatusStep]]
    histories: list[History]
    located: dict[str | None, Sequence[Observation] | Cells]
    days: MapDays


def _around(crossing: Crossing) -> tuple[float, float, float, float] | None:
    """Return the box a crossing's page draws counts in (west, south, east, north)."""
    if crossing.location is None:
        return None
    lon, lat, d = crossing.location.lon, crossing.location.lat, DETAIL_AROUND_DEG
    return (lon - d, lat - d, lon + d, lat + d)


def _located(
    opened: Store, drawn: Sequence[Crossing], overview: bool
) -> dict[str | None, Sequence[Observation] | Cells]:
    """Return the records each page draws at their own points: each, or counts on a grid.

    A crossing's page draws its records and the whole border's, or the cells
    around it; the overview (None) every record, or every cell. Past the limit
    the store counts them: in one pass for the overview, through the index for a page.
    """
    found: dict[str | None, Sequence[Observation] | Cells] = {}
    if opened.count(at_most=MARKER_LIMIT + 1) <= MARKER_LIMIT:  # not a count of every record
        found.update((c.id, located(opened, c.id)) for c in drawn)
        if overview:
            found[None] = located(opened, None)
        return found
    every = located_cells(opened, CELL_DEG) if overview else None
    if every is not None:
        found[None] = every
    for crossing in drawn:
        box = _around(crossing)
        if box is None:
            found[crossing.id] = Cells([], [], [])
        else:
            cells = every.within(box, CELL_DEG) if every else located_cells(opened, CELL_DEG, box)
            found[crossing.id] = cells
    return found


def _history(
    opened: Store, crossing: Crossing, structure_ids: Sequence[str], border: Sequence[Observation]
) -> History:
    """Return a crossing's newest records, its structures', the border's, and its count a year."""
    window = history_window(opened, crossing.id, HISTORY_LIMIT + 1)
    cut = len(window) > HISTORY_LIMIT
    records = {o.id: o for o in [*window[:HISTORY_LIMIT], *border]}
    records.update((o.id, o) for o in records_of_structures(opened, structure_ids))
    # What corrects or withdraws a record listed is listed too: the history says what became of it.
    records.update((o.id, o) for o in replacing(opened, list(records)))
    per_year = year_counts(opened, crossing.id) if cut else []
    return History(
        sorted(records.values(), key=rule_order),
        # A history listed whole counts itself; a long one counts its records a year.
        total=sum(n for _, n in per_year) if cut else _count_of(opened, crossing.id),
        per_year=per_year,
        shown=min(len(window), HISTORY_LIMIT),
    )


def _count_of(opened: Store, crossing_id: str) -> int:
    rows = opened._query(
        "SELECT count(*) FROM observations WHERE crossing_id = :crossing", {"crossing": crossing_id}
    )
    return int(rows[0][0])


def _map_inputs(
    store: str | Path,
    as_of: date | None,
    only: str | None = None,
    kept: Mapping[str, Sequence[StatusStep]] | None = None,
    known: KeptTimelines | None = None,
) -> _PageInputs:
    """Read what the maps show; with ``only``, what that crossing's page shows.

    ``kept`` are timelines a process keeps (see geo.timelines), each followed
    to the end: a page follows them up to today, or the day shown if later;
    ``known`` all that it keeps (its timelines, crossings, structures, first day
    and trade figures), as current as it is, not read again.
    """
    if known is not None:
        kept = known.steps
    today = today_or(None)
    day = as_of or today
    until = max(today, day)
    with open_store(store) as opened:
        crossings = list((known.crossings if known else opened.crossings()).values())
        drawn = [c for c in crossings if only is None or c.id == only]
        structures = list((known.structures if known else opened.structures()).values())
        owned = owned_structures(structures)
        border = border_records(opened)
        timelines = [
            [step for step in kept[c.id] if step.since <= until]
            if kept is not None and c.id in kept
            else source_timeline(
                opened.status_source(c.id), until=until, structure_ids=owned.get(c.id, ())
            )
            for c in drawn
        ]
        first = known.first_day if known else first_day(opened, [c.id for c in crossings])
        return _PageInputs(
            crossings,
            drawn,
            structures,
            list(known.trade) if known else opened.trade(),
            timelines,
            [_history(opened, c, owned.get(c.id, ()), border) for c in drawn],
            _located(opened, drawn, overview=only is None),
            MapDays(day, first or day, today),
        )


def overview_map(
    store: str | Path = DEFAULT_STORE,
    *,
    as_of: date | None = None,
    timelines: Mapping[str, Sequence[StatusStep]] | None = None,
) -> Any:
    """Return the overview ``folium.Map`` of every crossing (shown inline in a notebook).

    Markers are coloured by status on ``as_of`` (default today); the map's time
    control runs from the first record to today. ``timelines``: each crossing's
    status steps, where the caller keeps them (else they are read).
    """
    return _overview(_map_inputs(store, as_of, kept=timelines))


def _overview(got: _PageInputs) -> Any:
    return render_overview(
        got.drawn,
        got.timelines,
        got.histories,
        got.located[None],
        got.trade,
        days=got.days,
        structures=got.structures,
    )


def maps(store: str | Path = DEFAULT_STORE, *, as_of: date | None = None) -> dict[str, Any]:
    """Return the overview map (key ``index``) and one map per crossing (key: its id).

    Each is a ``folium.Map``; the caller saves them. Each page stays small
    whatever the store holds: see :data:`HISTORY_LIMIT` and ``geo.render.MARKER_LIMIT``.
    """
    got = _map_inputs(store, as_of)
    result = {OVERVIEW_PAGE: _overview(got)}
    result.update(_pages(got))
    return result


def crossing_page(
    store: str | Path,
    crossing_id: str,
    *,
    as_of: date | None = None,
    timelines: Mapping[str, Sequence[StatusStep]] | None = None,
) -> Any | None:
    """Return one crossing's ``folium.Map`` (None: no such crossing), reading only what it shows.

    What a server drawing one page at a time needs: the page is the one
    :func:`maps` draws for that crossing. ``timelines`` as for :func:`overview_map`.
    """
    got = _map_inputs(store, as_of, only=crossing_id, kept=timelines)
    return _pages(got).get(crossing_id)


def page_data(
    store: str | Path,
    name: str,
    *,
    kept: KeptTimelines | None = None,
) -> dict[str, Any] | None:
    """Return what the script of a page (``index`` or a crossing's id) draws, without drawing it.

    The same data :func:`overview_map` and :func:`crossing_page` carry: a server
    whose records changed, and nothing else, puts it into the page it drew.
    None: no such crossing. ``kept``: what a process keeps of the store (see
    geo.timelines), as current as it is: its statuses over time, crossings,
    structures, first day and trade figures are not read again.
    """
    if name == OVERVIEW_PAGE:
        got = _map_inputs(store, None, known=kept)
        return overview_data(
            got.drawn,
            got.timelines,
            got.histories,
            got.located[None],
            days=got.days,
            structures=got.structures,
        )
    got = _map_inputs(store, None, only=name, known=kept)
    if not got.drawn:
        return None
    return crossing_data(
        got.drawn[0],
        got.timelines[0],
        got.histories[0],
        got.located[name],
        days=got.days,
        structures=got.structures,
        pages=got.crossings,
    )


def _pages(got: _PageInputs) -> dict[str, Any]:
    result = {}
    for crossing, timeline, history in zip(got.drawn, got.timelines, got.histories, strict=True):
        page_name(crossing.id)  # a store's id becomes a file name only if it is a slug
        result[crossing.id] = crossing_map(
            crossing,
            timeline,
            history,
            got.located[crossing.id],
            days=got.days,
            structures=got.structures,
            pages=got.crossings,
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
    check_target(target, force=force, reads=[store])
    day = today_or(as_of)
    statuses = list_crossings(store, as_of=day)
    if crossing_id is not None:
        crossings = {s.crossing.id: s.crossing for s in statuses}
        crossing_id = resolve_crossing_id(crossing_id, crossings, field="--crossing", partial=True)
    figure = status_figure(statuses, day=day, lang=lang, crossing_id=crossing_id)
    with written_beside(target, force=force, reads=[store]) as building:
        save_figure(figure, building)
    return target


def export_format(out: Path) -> str:
    """Return the export format a file name's suffix says (``.kml``: kml).

    Raises
    ------
    RecordValidationError
        If the suffix names no format, or two (``.zip``: GeoJSON or CSV).
    """
    formats = [f for f, suffixes in EXPORT_SUFFIXES.items() if out.suffix.lower() in suffixes]
    if len(formats) != 1:
        raise RecordValidationError(
            "--out",
            str(out),
            "does not say the format by its suffix" if not formats else "fits two formats",
            ", ".join(sorted({x for v in EXPORT_SUFFIXES.values() for x in v})) + ", or --format",
            "name the file e.g. crossings.geojson, or give --format",
        )
    return formats[0]


def export_inventory(
    store: str | Path,
    out: str | Path,
    output_format: str | None = None,
    *,
    crossing_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
    force: bool = False,
) -> dict[str, int]:
    """Write the store, or one crossing or a date window of it, as GeoJSON, KML, CSV or GeoPackage.

    Without ``output_format``, the file name's suffix says the format.

    A crossing's subset keeps the records about the whole border; a record
    that corrects another keeps the one it corrects, so a GeoPackage subset is
    itself a valid store. Returns how many crossings and observations were written.

    Raises
    ------
    RecordValidationError
        For an unknown format, crossing or date, or an existing file without ``force``.
    """
    target = Path(out)
    output_format = _checked_format(target, output_format)
    check_target(target, force=force, reads=[store])
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
    observations = _kept_observations(records, ids, first, last)
    counts = {"crossings": len(chosen), "observations": len(observations)}
    figures = [
        t
        for t in trade
        if (first is None or t.period_end >= first) and (last is None or t.period_start <= last)
    ]
    kept_structures = [s for s in structures if s.crossing_id in ids]
    with written_beside(target, force=force, reads=[store]) as building:
        counts.update(
            _write_export(
                building, target, output_format, chosen, kept_structures, observations, figures
            )
        )
    return counts


def _checked_format(target: Path, output_format: str | None) -> str:
    """Return the export format: the one given, or the one the file's name says; they agree."""
    if output_format is None:  # the format the file's name says, where only one has it
        output_format = export_format(target)
    if output_format not in EXPORT_SUFFIXES:
        raise RecordValidationError(
            "--format",
            output_format,
            "is not an export format",
            ", ".join(EXPORT_SUFFIXES),
            "pick one of them",
        )
    suffixes = EXPORT_SUFFIXES[output_format]
    if target.suffix.lower() not in suffixes:
        raise RecordValidationError(
            "--out",
            str(target),
            f"does not end in {' or '.join(suffixes)}, which --format {output_format} writes",
            f"a file name ending in {' or '.join(suffixes)}",
            f"name the file e.g. {target.stem or 'crossings'}{suffixes[0]}",
        )
    return output_format


def _kept_observations(
    records: Sequence[Observation], ids: set[str], first: date | None, last: date | None
) -> list[Observation]:
    """Return the records of the crossings and days exported, in date order.

    Records about the whole border are kept, and so is every record a kept one
    corrects, so that references hold.
    """
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
    return sorted(kept.values(), key=lambda o: (o.date.start, o.date.end))


def _write_export(
    building: Path,
    target: Path,
    output_format: str,
    chosen: Sequence[Crossing],
    structures: Sequence[Structure],
    observations: Sequence[Observation],
    figures: Sequence[TradeFigure],
) -> dict[str, int]:
    """Write the records in one format (a .zip: one file per layer); return what it counts."""
    zipped = target.suffix.lower() == ".zip"
    if output_format == "geojson" and zipped:
        layers = write_geojson_layers(building, chosen, structures, observations)
        return {"features": sum(layers.values())}
    if output_format == "geojson":
        features, left_out = write_geojson(building, chosen, observations)
        return {"features": features, "left_out": left_out}
    if output_format == "csv" and zipped:
        layers = write_csv_layers(building, chosen, structures, observations, figures)
        others = {f"{name}_rows": n for name, n in layers.items() if name != "observations"}
        return {"rows": layers["observations"], **others}
    if output_format == "csv":
        return {"rows": write_csv(building, observations, {c.id: c for c in chosen})}
    if output_format == "kml":
        return {"placemarks": _export_kml(building, chosen, structures, observations)}
    return {
        "observations": _export_gpkg(building, target, chosen, structures, observations, figures)
    }


def _export_gpkg(
    building: Path,
    target: Path,
    chosen: Sequence[Crossing],
    structures: Sequence[Structure],
    observations: Sequence[Observation],
    figures: Sequence[TradeFigure],
) -> int:
    """Write a GeoPackage subset, a store of its own; return how many observations it holds."""
    try:
        create_store(
            building,
            chosen,
            in_writing_order(observations),
            figures,
            structures=structures,
        )
        with open_store(building, writable=True) as opened:
            refresh_status_snapshot(opened)
            return opened.count()
    except sqlite3.Error as err:  # a fault of the file written, not of the store read
        raise store_fault(err, target) from err


def _export_kml(
    path: Path,
    chosen: Sequence[Crossing],
    structures: Sequence[Structure],
    observations: Sequence[Observation],
) -> int:
    """Write KML (or KMZ: the KML as doc.kml, zipped with its pin) and return its placemarks.

    The count is read back through GDAL, as other tools read the file.
    """
    import pyogrio

    border = [o for o in observations if o.crossing_id is None]
    today = today_or(None)
    owned = owned_structures(structures)
    timelines = {
        c.id: status_timeline(
            [o for o in observations if o.crossing_id == c.id] + border,
            c.id,
            until=today,
            structure_ids=owned.get(c.id, ()),
        )
        for c in chosen
    }
    meant = write_kml(path, chosen, timelines, observations, exported=today)
    written = 0
    if meant:  # GDAL's LIBKML driver reads a KMZ as it is
        layers = pyogrio.list_layers(path)
        written = sum(pyogrio.read_info(path, layer=name)["features"] for name, _ in layers)
    if written != meant:
        raise GeoError(
            f"{path.name}: GDAL reads {written} of the {meant} placemarks written; nothing was "
            "replaced. Fix: report this with the command you ran"
        )
    return written
