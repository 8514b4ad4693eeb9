"""Records to interactive Folium maps. Returns ``folium.Map`` objects; never writes files.

The only module that imports folium, and only when a map is drawn. Folium
makes the map, basemaps, layers and controls; the page's own script
(``static/map.js``) builds markers, popups, legend, time control and search
from JSON data that the page carries, setting every text as text, so nothing
from the store is ever parsed as HTML. Coordinates become Folium's
``(lat, lon)`` here and nowhere else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from functools import cache, lru_cache
from html import escape as _html_escape
from importlib.resources import files
from typing import TYPE_CHECKING, Any, NamedTuple

from geo.assets import ASSETS
from geo.basemap import basemap
from geo.chart import trade_chart_html
from geo.errors import GeoError
from geo.model import STATUS_COLOURS, STATUS_LABELS
from geo.status import STALE_AFTER_DAYS, describe_status, lifecycle_records, record_role
from geo.store.digest import CELL_DEG, Cells, cells_of

if TYPE_CHECKING:
    import folium

    from geo.model import Crossing, Observation, Structure, TradeFigure
    from geo.status import StatusStep

__all__ = [
    "STATUS_COLOURS",
    "STATUS_LABELS",
    "MapDays",
    "crossing_data",
    "crossing_map",
    "escape",
    "overview_data",
    "overview_map",
    "page_data_json",
]

#: The radius drawn around a crossing on its own map: the default of ``crossings around``.
RING_KM = 3.0
#: A point known only to within more than this is approximate (the page's script agrees).
APPROXIMATE_M = 1000
_TILES_IMAGERY = (
    "https://server.arcgisonline.com/ArcGIS/rest/services/World_Imagery/MapServer/tile/{z}/{y}/{x}"
)


def escape(text: str) -> str:
    r"""Escape text for HTML that may also sit inside a JavaScript template literal.

    Besides ``<>&"'``, the backtick, ``$`` and the backslash are replaced by
    character references, so a text cannot end the literal, interpolate
    ``${...}`` or form an escape sequence (folium issues #850, #1640).

    Examples
    --------
    >>> escape("<b>`${x}`</b> \\")
    '&lt;b&gt;&#96;&#36;{x}&#96;&lt;/b&gt; &#92;'
    """
    return (
        _html_escape(text, quote=True)
        .replace("`", "&#96;")
        .replace("$", "&#36;")
        .replace("\\", "&#92;")
    )


def _import_folium():  # type: ignore[no-untyped-def]
    try:
        import folium
        import folium.plugins
    except ImportError as err:  # pragma: no cover - folium is a dependency
        raise GeoError("drawing maps needs folium. Fix: pip install folium") from err
    return folium


def _verbatim(html: str) -> Any:
    """Return a page element whose text is output as it is, never read as a template.

    ``folium.Element(text)`` compiles ``text`` as a template, so a summary
    holding ``{{ ... }}`` would be evaluated; here the text is a variable.
    """
    folium = _import_folium()
    element = folium.Element("{{ this.content }}")
    element.content = html
    return element


def _json_for_html(data: object) -> str:
    """JSON that can sit inside a <script> element: no "<", ">" or "&" appears raw."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class _Strings:
    """A table of distinct strings, so that many records repeat an index, not a text."""

    def __init__(self) -> None:
        self._index: dict[str, int] = {}

    def __call__(self, text: str | None) -> int:
        if text is None:
            return -1
        index = self._index
        return index.setdefault(text, len(index))

    @property
    def table(self) -> list[str]:
        return list(self._index)  # dicts keep insertion order: position = index


def _point_text(crossing: Crossing) -> str:
    if crossing.location is None:
        return f"none — {crossing.location_note}"
    return (
        f"{crossing.location.lat:.5f}, {crossing.location.lon:.5f} "
        f"±{crossing.location_precision_m:,} m — {crossing.location_note}"
    )


#: The fields of each kind of row the page's script reads, in row order (strings are indices
#: into the page's table of texts; ``record`` fields are indices into its records).
RECORD_FIELDS = (
    "date", "kind", "status", "summary", "source", "url", "border", "id", "start", "mirror",
    "quote", "quoteEn", "checked", "archive", "detail",
)  # fmt: skip
STEP_FIELDS = (
    "since", "status", "record", "conflict", "text", "runSince", "runRecord", "evidence",
    "supporting",
)  # fmt: skip
HISTORY_FIELDS = ("record", "role")
LIFECYCLE_FIELDS = ("since", "lifecycle", "record")


def _row(fields: tuple[str, ...], **values: object) -> list[object]:
    """Return a row in the order of ``fields``: every field given, no other."""
    if values.keys() != _field_set(fields):
        raise ValueError(f"row fields {sorted(values)} are not {sorted(fields)}")
    return [values[name] for name in fields]


@cache
def _field_set(fields: tuple[str, ...]) -> frozenset[str]:
    """Return the names of a kind of row as a set, made once (a page makes thousands of rows)."""
    return frozenset(fields)


class MapDays(NamedTuple):
    """The day a map shows first, and the range of its time control."""

    as_of: date
    start: date
    today: date


class History(NamedTuple):
    """A crossing's records on its page: all of them, or its newest with a count a year.

    ``records`` are in the rule's order (the crossing's, its structures' and the
    border's); ``total`` is how many records name the crossing in all;
    ``per_year`` counts them a year when ``records`` holds only the ``shown``
    newest of the crossing's own.
    """

    records: Sequence[Observation]
    total: int = 0
    per_year: Sequence[tuple[int, int]] = ()
    shown: int = 0


class _Records:
    """The page's records and texts: each text once in ``strings``, each record once by index."""

    def __init__(self) -> None:
        self.strings = _Strings()
        self.rows: list[list[object]] = []
        self._index: dict[str, int] = {}

    def add(self, record: Observation) -> int:
        found = self._index.get(record.id)
        if found is not None:
            return found
        strings = self.strings
        self._index[record.id] = len(self.rows)
        self.rows.append(
            _row(
                RECORD_FIELDS,
                date=strings(record.date.label),
                kind=strings(record.kind),
                status=record.status or record.lifecycle,
                summary=strings(record.summary),
                source=strings(record.source_name),
                url=strings(record.source_url),
                border=int(record.crossing_id is None),
                id=record.id,
                start=record.date.start.isoformat(),
                mirror=int(record.source_is_mirror),
                quote=strings(record.source_quote or None),
                quoteEn=strings(record.quote_en or None),
                checked=record.checked_on or None,
                archive=strings(record.archive_url or None),
                detail=strings(record.source_detail or None),
            )
        )
        return len(self.rows) - 1

    def step(self, step: StatusStep) -> list[object]:
        add = self.add
        return _row(
            STEP_FIELDS,
            since=step.since.isoformat(),
            status=step.status,
            record=add(step.record) if step.record else None,
            conflict=step.is_conflicted,
            text=self.strings(
                describe_status(step.status, step.traffic, is_lifecycle=step.is_lifecycle)
            ),
            runSince=step.run_since.isoformat() if step.run_since else None,
            runRecord=add(step.run_record) if step.run_record else None,
            evidence=add(step.evidence) if step.evidence else None,
            supporting=step.supporting,
        )


def _structure_row(
    structure: Structure, history: Sequence[Observation], records: _Records
) -> dict[str, Any]:
    """Return a structure with its point and its lifecycle, from each record's last day on."""
    s = structure
    return {
        "id": s.id,
        "name": " · ".join(n for n in (s.name_en, s.name_zh, s.name_ko) if n),
        "kind": s.kind,
        "lon": None if s.location is None else round(s.location.lon, 6),
        "lat": None if s.location is None else round(s.location.lat, 6),
        "precision": s.location_precision_m,
        "source": s.location_source,
        "notes": s.notes,
        "lifecycle": [
            _row(
                LIFECYCLE_FIELDS,
                since=o.date.end.isoformat(),
                lifecycle=o.lifecycle,
                record=records.add(o),
            )
            for o in lifecycle_records(history, s.id)
        ],
    }


def _crossing_row(
    crossing: Crossing,
    timeline: Sequence[StatusStep],
    listed: History,
    structures: Sequence[Structure],
    records: _Records,
) -> dict[str, Any]:
    """Return a crossing, its status steps, the records the status rests on, its structures."""
    location = crossing.location
    history = listed.records
    superseded = {o.replaces for o in history if o.replaces}
    # The records the status rests on and what was built: status, plan, infrastructure.
    shown = [
        (o, record_role(o, crossing.id, superseded=superseded))
        for o in history
        if o.kind in ("status", "plan", "infrastructure")
        and (o.crossing_id is not None or o.applies_to_crossing(crossing.id))
    ]
    return {
        "id": crossing.id,
        "name_en": crossing.name_en,
        "name_zh": crossing.name_zh,
        "name_ko": crossing.name_ko,
        "aliases": list(crossing.aliases),
        "cn": f"{crossing.cn_place}, {crossing.cn_province}",
        "kp": f"{crossing.kp_place}, {crossing.kp_province}",
        "river": crossing.river,
        "mode": crossing.mode,
        "lon": None if location is None else round(location.lon, 6),
        "lat": None if location is None else round(location.lat, 6),
        "precision": crossing.location_precision_m,
        "point": _point_text(crossing),
        "note": crossing.location_note,
        "timeline": [records.step(step) for step in timeline],
        "history": [
            _row(HISTORY_FIELDS, record=records.add(o), role=records.strings(role))
            for o, role in shown
        ],
        # A long history is cut to its newest records: how many there are, and a count a year.
        "historyTotal": listed.total,
        "historyShown": listed.shown,
        "perYear": [list(pair) for pair in listed.per_year],
        "structures": [
            _structure_row(s, history, records) for s in structures if s.crossing_id == crossing.id
        ],
    }


#: Past this many observations at their own points, a page draws counts on a grid instead of a
#: marker each: a page stays small and quick whatever the store holds, and each cell says how
#: to list its records.
MARKER_LIMIT = 2000


def _cell_columns(cells: Cells) -> dict[str, Any]:
    """Return counts on the grid as the page reads them: each cell's centre and count."""
    return {
        "lon": [round(x * CELL_DEG, 5) for x in cells.lon],
        "lat": [round(y * CELL_DEG, 5) for y in cells.lat],
        # Records of every kind: the page's second layer ("other observations").
        "layer": [1] * len(cells.counts),
        "count": cells.counts,
        "cellKm": round(CELL_DEG * 111.2, 1),
    }


def _observation_columns(
    observations: Sequence[Observation] | Cells, strings: _Strings
) -> dict[str, Any]:
    """Observations at their own points, as columns; 5 decimals of a degree is about a metre.

    Past :data:`MARKER_LIMIT` of them, or when the store counted them already,
    counts on a grid instead.
    """
    import numpy as np

    if isinstance(observations, Cells):
        return _cell_columns(observations)
    located = [o for o in observations if o.has_own_location and o.location is not None]
    if len(located) > MARKER_LIMIT:
        return _cell_columns(cells_of(located, CELL_DEG))
    columns: dict[str, list[object]] = {
        key: []
        for key in ("lon", "lat", "layer", "kind", "date", "crossing", "summary", "source", "url")
    }
    for o in located:
        assert o.location is not None
        columns["lon"].append(o.location.lon)
        columns["lat"].append(o.location.lat)
        columns["layer"].append(0 if o.kind == "infrastructure" else 1)
        columns["kind"].append(strings(o.kind))
        columns["date"].append(strings(o.date.label))
        columns["crossing"].append(strings(o.crossing_id or "border-wide"))
        columns["summary"].append(strings(o.summary))
        columns["source"].append(strings(o.source_name))
        columns["url"].append(strings(o.source_url))
    for axis in ("lon", "lat"):
        columns[axis] = np.round(np.asarray(columns[axis], dtype=float), 5).tolist()
    return columns


#: How far around a crossing its own page carries the detailed land, in degrees (the page opens
#: at zoom 13, a few kilometres across; past this the region's coarser land is drawn).
DETAIL_AROUND_DEG = 0.3


@cache
def _land_shapes() -> tuple[Any, Any]:
    """Return the base layer's coarse and detailed land as shapely geometries, read once."""
    import shapely

    kinds = {f["properties"]["kind"]: f["geometry"] for f in basemap()["features"]}
    coarse, detail = (shapely.from_geojson(json.dumps(kinds[k])) for k in ("land-overview", "land"))
    shapely.prepare(detail)
    return coarse, detail


@lru_cache(maxsize=128)
def _land_near(point: tuple[float, float] | None) -> dict[str, Any]:
    """Return the coarse land with the detailed land set into it around ``point``, once a point.

    Callers read it, never change it: a server draws the same crossing's page again and again.
    """
    import shapely

    coarse, detail = _land_shapes()
    land = coarse
    if point is not None:
        lon, lat, d = *point, DETAIL_AROUND_DEG
        near = shapely.box(lon - d, lat - d, lon + d, lat + d)
        land = shapely.union(coarse.difference(near), detail.intersection(near))
    geometry: dict[str, Any] = json.loads(shapely.to_geojson(land, indent=None))
    return geometry


def _page_basemap(crossings: Sequence[Crossing]) -> dict[str, Any]:
    """Return the base layer a page needs: on a crossing's page, one land layer, detailed near it.

    The overview carries both levels of detail; a crossing's page carries the
    region's coarse land with the detailed land set into it around the crossing,
    which keeps each page a fraction of the whole layer.
    """
    layer = basemap()
    if len(crossings) != 1:
        return layer
    location = crossings[0].location
    geometry = _land_near(None if location is None else (location.lon, location.lat))
    merged = {"type": "Feature", "properties": {"kind": "land-overview"}, "geometry": geometry}
    rest = [f for f in layer["features"] if not f["properties"]["kind"].startswith("land")]
    return {**layer, "features": [merged, *rest]}


def _page_data(
    crossings: Sequence[Crossing],
    timelines: Sequence[Sequence[StatusStep]],
    histories: Sequence[History],
    observations: Sequence[Observation] | Cells,
    *,
    days: MapDays,
    structures: Sequence[Structure] = (),
    pages: Sequence[Crossing] = (),
) -> dict[str, Any]:
    """Return the data the page's script reads: each text once in ``strings``, records by index.

    A record is a row of ``RECORD_FIELDS``, a status step a row of ``STEP_FIELDS``, and so
    on: the page receives the names with the rows (``fields``) and reads fields by name.
    """
    records = _Records()
    crossing_rows = [
        _crossing_row(crossing, timeline, history, structures, records)
        for crossing, timeline, history in zip(crossings, timelines, histories, strict=True)
    ]
    columns = _observation_columns(observations, records.strings)
    return {
        "asOf": days.as_of.isoformat(),
        "start": days.start.isoformat(),
        # The slider starts at the first status record; the typed day reaches back to ``start``.
        "firstStatus": min(
            (s.since for timeline in timelines for s in timeline if s.status is not None),
            default=days.start,
        ).isoformat(),
        "today": max(days.today, days.as_of).isoformat(),
        "staleAfterDays": STALE_AFTER_DAYS,
        "colours": STATUS_COLOURS,
        "labels": STATUS_LABELS,
        "crossings": crossing_rows,
        # Rows are lists, to keep a page of many records small; these name their fields,
        # and the page's script reads each field by its name.
        "fields": {
            "record": RECORD_FIELDS,
            "step": STEP_FIELDS,
            "history": HISTORY_FIELDS,
            "lifecycle": LIFECYCLE_FIELDS,
        },
        "records": records.rows,
        "observations": columns,
        "strings": records.strings.table,
        "unmapped": [c.name_en for c in crossings if c.location is None],
        # Every crossing's page, for the links between pages.
        "pages": [[c.id, c.name_en] for c in pages],
        # Land and the boundary, drawn under the tiles: the map still shows them offline.
        "basemap": _page_basemap(crossings),
    }


def _use_pinned_assets(element: Any, js: Sequence[str], css: Sequence[str]) -> None:
    """Make a folium element load our pinned copies (so they can be inlined or served locally)."""
    element.default_js = [(name, ASSETS[name].url) for name in js]
    element.default_css = [(name, ASSETS[name].url) for name in css]


@cache
def _tile_providers() -> tuple[Any, Any]:
    """Return the street map's and the imagery's tiles, found once.

    Given a name or an address, folium searches every provider xyzservices
    knows, for each layer of each page: a tenth of drawing a page.
    """
    import xyzservices

    street = xyzservices.providers.query_name("OpenStreetMap Mapnik")
    imagery = xyzservices.TileProvider(name="Esri.WorldImagery", url=_TILES_IMAGERY, attribution="")
    return street, imagery


def _base_map(*, width: str = "100%") -> Any:
    folium = _import_folium()
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=True, width=width)
    _use_pinned_assets(fmap, ["leaflet", "jquery"], ["leaflet_css"])
    street, satellite = _tile_providers()
    folium.TileLayer(street, name="Street map (OpenStreetMap)").add_to(fmap)
    imagery = folium.TileLayer(
        tiles=satellite,
        attr="Esri, Maxar, Earthstar Geographics",
        name="Satellite imagery (Esri)",
    ).add_to(fmap)
    # Offered in the layer control, not shown at first: the page's script removes it.
    fmap.hidden_layer = imagery.get_name()
    root = fmap.get_root()
    css = files("geo").joinpath("static/map.css").read_text(encoding="utf-8")
    root.header.add_child(_verbatim(f"<style>{css}</style>"), name="crossings_css")
    return fmap


def _controls(fmap: Any) -> str:
    """Add the map's controls; return the mini-map's name (the page gives it the offline land)."""
    folium = _import_folium()
    plugins = folium.plugins
    fullscreen = plugins.Fullscreen(position="topleft")
    _use_pinned_assets(fullscreen, ["fullscreen"], ["fullscreen_css"])
    fullscreen.add_to(fmap)
    # Two zoom levels out: the region's land fills it (five would show where the land ends).
    minimap = plugins.MiniMap(
        folium.TileLayer(_tile_providers()[0]),
        toggle_display=True,
        position="bottomright",
        zoom_level_offset=-2,
    )
    _use_pinned_assets(minimap, ["minimap"], ["minimap_css"])
    minimap.add_to(fmap)
    measure = plugins.MeasureControl(
        position="topleft", primary_length_unit="kilometers", secondary_length_unit="meters"
    )
    _use_pinned_assets(measure, ["measure"], ["measure_css"])
    measure.add_to(fmap)
    return str(minimap.get_name())


def _cluster(name: str, *, show: bool = True) -> Any:
    folium = _import_folium()
    cluster = folium.plugins.MarkerCluster(name=name, show=show, options={"chunkedLoading": True})
    _use_pinned_assets(
        cluster, ["markercluster"], ["markercluster_css", "markercluster_default_css"]
    )
    return cluster


def _finish(
    fmap: Any, data: Mapping[str, Any], layers: Mapping[str, str | None], *, title: str
) -> None:
    """Attach the page's title, data and script; they run after every folium element exists."""
    folium = _import_folium()
    root = fmap.get_root()
    root.header.add_child(_verbatim(f"<title>{escape(title)}</title>"), name="title")
    root.html.add_child(
        _verbatim(
            f'<script type="application/json" id="crossings-data">{_json_for_html(data)}</script>'
        ),
        name="crossings_data",
    )
    layer_control = folium.LayerControl(collapsed=False).add_to(fmap)
    from branca.element import MacroElement, Template

    script = files("geo").joinpath("static/map.js").read_text(encoding="utf-8")
    config = {
        "dataId": "crossings-data",
        "map": fmap.get_name(),
        "hidden": fmap.hidden_layer,
        **layers,
    }
    page_script = MacroElement()
    # A child's script renders after those of the children added before it: the map and layers.
    page_script._template = Template(
        "{% macro script(this, kwargs) %}{{ this.code }}{% endmacro %}"
    )
    # The layer control is a `let` of the same script, so it is passed by name, not looked up.
    page_script.code = (  # type: ignore[attr-defined]
        f"{script}\ncrossingsMap.init({_json_for_html(config)}, "
        f"{{layerControl: {layer_control.get_name()}}});"
    )
    page_script.add_to(fmap)


def overview_data(
    crossings: Sequence[Crossing],
    timelines: Sequence[Sequence[StatusStep]],
    histories: Sequence[History],
    observations: Sequence[Observation] | Cells,
    *,
    days: MapDays,
    structures: Sequence[Structure] = (),
) -> dict[str, Any]:
    """Return what the overview's script draws (:func:`overview_map` carries it)."""
    return _page_data(
        crossings,
        timelines,
        histories,
        observations,
        days=days,
        structures=structures,
        pages=crossings,
    )


def crossing_data(
    crossing: Crossing,
    timeline: Sequence[StatusStep],
    history: History,
    located: Sequence[Observation] | Cells,
    *,
    days: MapDays,
    structures: Sequence[Structure] = (),
    pages: Sequence[Crossing] = (),
) -> dict[str, Any]:
    """Return what a crossing's page's script draws (:func:`crossing_map` carries it)."""
    data = _page_data(
        [crossing],
        [timeline],
        [history],
        located,
        days=days,
        structures=structures,
        pages=pages,
    )
    precision_m = crossing.location_precision_m or 0
    ring_km, ring_label = RING_KM, f"{RING_KM:g} km ring"
    if crossing.location is not None and precision_m > APPROXIMATE_M:
        # An approximate point: the ring is the circle of its stated precision.
        ring_km = precision_m / 1000
        ring_label = f"{ring_km:g} km: the point's stated precision"
    # The page's script draws the ring and its label, and fits the ring to any screen at once.
    data["ringKm"], data["ringLabel"] = ring_km, ring_label
    return data


def page_data_json(data: Mapping[str, Any]) -> str:
    """Return a page's data as its data block holds it (safe inside the HTML)."""
    return _json_for_html(data)


def overview_map(
    crossings: Sequence[Crossing],
    timelines: Sequence[Sequence[StatusStep]],
    histories: Sequence[History],
    observations: Sequence[Observation] | Cells,
    trade: Sequence[TradeFigure],
    *,
    days: MapDays,
    structures: Sequence[Structure] = (),
) -> folium.Map:
    """Return the map of every crossing, coloured by status on ``as_of``.

    Parameters
    ----------
    crossings, timelines, histories : sequences of the same length
        Each crossing, its status steps (:func:`geo.status.status_timeline`)
        and its records (:class:`History`).
    observations : sequence of Observation, or Cells
        Records to show at their own points (others are in the popups), or
        their counts on a grid.
    trade : sequence of TradeFigure
        Figures for the trade chart.
    days : MapDays
        The day shown first, and the range of the time control.
    structures : sequence of Structure, default ()
        The crossings' bridges, dams and gates, listed in the popups.

    Returns
    -------
    folium.Map
    """
    folium = _import_folium()
    fmap = _base_map()
    located = [c for c in crossings if c.location is not None]
    crossings_layer = folium.FeatureGroup(name="Crossings").add_to(fmap)
    infrastructure = _cluster("Infrastructure observations").add_to(fmap)
    other = _cluster("Other observations").add_to(fmap)
    minimap = _controls(fmap)
    if located:
        lats = [c.location.lat for c in located if c.location]
        lons = [c.location.lon for c in located if c.location]
        # A first guess: the page's script fits the view to the screen and its controls.
        fmap.location = [(min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2]
        fmap.options["zoom"] = 6
    chart = trade_chart_html(trade)
    fmap.get_root().html.add_child(
        _verbatim(
            f'<div id="trade-chart" class="xing-chart" role="dialog" '
            f'aria-label="China–DPRK trade">{chart}</div>'
        ),
        name="trade_chart",
    )
    data = overview_data(
        crossings, timelines, histories, observations, days=days, structures=structures
    )
    _finish(
        fmap,
        data,
        {
            "crossings": crossings_layer.get_name(),
            "infrastructure": infrastructure.get_name(),
            "other": other.get_name(),
            "minimap": minimap,
        },
        title=f"China–DPRK border crossings: status on {days.as_of.isoformat()}",
    )
    return fmap


def crossing_map(
    crossing: Crossing,
    timeline: Sequence[StatusStep],
    history: History,
    located: Sequence[Observation] | Cells,
    *,
    days: MapDays,
    structures: Sequence[Structure] = (),
    pages: Sequence[Crossing] = (),
) -> folium.Map:
    """Return one crossing's map: zoomed to it, its located records, a ring, its timeline beside.

    ``located`` are the records drawn at their own points (the crossing's and the
    border's), or their counts on a grid. Its structures (bridges, dams, gates)
    with a point are drawn as markers of their own. A crossing without a point
    is shown with its timeline only, and says so. ``pages`` are the crossings
    whose pages it links to.
    """
    folium = _import_folium()
    fmap = _base_map(width="66%")
    crossings_layer = folium.FeatureGroup(name="Crossing").add_to(fmap)
    infrastructure = folium.FeatureGroup(name="Infrastructure observations").add_to(fmap)
    other = folium.FeatureGroup(name="Other observations").add_to(fmap)
    minimap = _controls(fmap)
    if crossing.location is not None:
        fmap.location = [crossing.location.lat, crossing.location.lon]
        fmap.options["zoom"] = 13
    else:
        fmap.location = [41.5, 127.5]
        fmap.options["zoom"] = 6
    fmap.get_root().html.add_child(
        _verbatim('<div id="crossing-side" class="xing-side"></div>'), name="side"
    )
    data = crossing_data(
        crossing, timeline, history, located, days=days, structures=structures, pages=pages
    )
    _finish(
        fmap,
        data,
        {
            "crossings": crossings_layer.get_name(),
            "infrastructure": infrastructure.get_name(),
            "other": other.get_name(),
            "minimap": minimap,
        },
        title=f"{crossing.name_en} ({crossing.name_zh} · {crossing.name_ko}): border crossing",
    )
    return fmap
