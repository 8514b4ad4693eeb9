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
from datetime import date, timedelta
from html import escape as _html_escape
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from geo.assets import ASSETS
from geo.basemap import basemap
from geo.errors import GeoError
from geo.model import STATUS_COLOURS, STATUS_LABELS
from geo.status import STALE_AFTER_DAYS, describe_status, lifecycle_records, record_role

if TYPE_CHECKING:
    import folium

    from geo.model import Crossing, Observation, Structure, TradeFigure
    from geo.status import StatusStep

__all__ = [
    "STATUS_COLOURS",
    "STATUS_LABELS",
    "crossing_map",
    "escape",
    "overview_map",
    "trade_chart_svg",
]

#: The radius drawn around a crossing on its own map: the default of ``crossings around``.
RING_KM = 3.0
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


def _row(fields: Sequence[str], **values: object) -> list[object]:
    """Return a row in the order of ``fields``: every field given, no other."""
    if values.keys() != set(fields):
        raise ValueError(f"row fields {sorted(values)} are not {sorted(fields)}")
    return [values[name] for name in fields]


def _page_data(
    crossings: Sequence[Crossing],
    timelines: Sequence[Sequence[StatusStep]],
    histories: Sequence[Sequence[Observation]],
    observations: Sequence[Observation],
    *,
    as_of: date,
    start: date,
    today: date,
    unmapped: Sequence[Crossing],
    structures: Sequence[Structure] = (),
    pages: Sequence[Crossing] = (),
) -> dict[str, Any]:
    """Return the data the page's script reads: each text once in ``strings``, records by index.

    A record is a row of ``RECORD_FIELDS``, a status step a row of ``STEP_FIELDS``, and so
    on: the page receives the names with the rows (``fields``) and reads fields by name.
    """
    strings = _Strings()
    records: list[list[object]] = []
    record_index: dict[str, int] = {}

    def add(record: Observation) -> int:
        found = record_index.get(record.id)
        if found is None:
            found = record_index[record.id] = len(records)
            records.append(
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
        return found

    def step_row(step: StatusStep) -> list[object]:
        return _row(
            STEP_FIELDS,
            since=step.since.isoformat(),
            status=step.status,
            record=add(step.record) if step.record else None,
            conflict=step.is_conflicted,
            text=strings(
                describe_status(step.status, step.traffic, is_lifecycle=step.is_lifecycle)
            ),
            runSince=step.run_since.isoformat() if step.run_since else None,
            runRecord=add(step.run_record) if step.run_record else None,
            evidence=add(step.evidence) if step.evidence else None,
            supporting=step.supporting,
        )

    crossing_rows = []
    for crossing, timeline, history in zip(crossings, timelines, histories, strict=True):
        location = crossing.location
        superseded = {o.replaces for o in history if o.replaces}
        # The records the status rests on and what was built: status, plan, infrastructure.
        shown = [
            (o, record_role(o, crossing.id, superseded=superseded))
            for o in history
            if o.kind in ("status", "plan", "infrastructure")
            and (o.crossing_id is not None or o.applies_to_crossing(crossing.id))
        ]
        own = [s for s in structures if s.crossing_id == crossing.id]
        crossing_rows.append(
            {
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
                "timeline": [step_row(step) for step in timeline],
                "history": [
                    _row(HISTORY_FIELDS, record=add(o), role=strings(role)) for o, role in shown
                ],
                "structures": [
                    {
                        "id": s.id,
                        "name": " · ".join(n for n in (s.name_en, s.name_zh, s.name_ko) if n),
                        "kind": s.kind,
                        "lon": None if s.location is None else round(s.location.lon, 6),
                        "lat": None if s.location is None else round(s.location.lat, 6),
                        "precision": s.location_precision_m,
                        "source": s.location_source,
                        "notes": s.notes,
                        # Its lifecycle: from each record's last day on.
                        "lifecycle": [
                            _row(
                                LIFECYCLE_FIELDS,
                                since=o.date.end.isoformat(),
                                lifecycle=o.lifecycle,
                                record=add(o),
                            )
                            for o in lifecycle_records(history, s.id)
                        ],
                    }
                    for s in own
                ],
            }
        )
    # Observations at their own points, as columns; 5 decimals of a degree is about a metre.
    columns: dict[str, list[object]] = {
        key: []
        for key in ("lon", "lat", "layer", "kind", "date", "crossing", "summary", "source", "url")
    }
    for o in observations:
        if not o.has_own_location or o.location is None:
            continue
        columns["lon"].append(o.location.lon)
        columns["lat"].append(o.location.lat)
        columns["layer"].append(0 if o.kind == "infrastructure" else 1)
        columns["kind"].append(strings(o.kind))
        columns["date"].append(strings(o.date.label))
        columns["crossing"].append(strings(o.crossing_id or "border-wide"))
        columns["summary"].append(strings(o.summary))
        columns["source"].append(strings(o.source_name))
        columns["url"].append(strings(o.source_url))
    import numpy as np

    for axis in ("lon", "lat"):
        columns[axis] = np.round(np.asarray(columns[axis], dtype=float), 5).tolist()
    return {
        "asOf": as_of.isoformat(),
        "start": start.isoformat(),
        "today": max(today, as_of).isoformat(),
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
        "records": records,
        "observations": columns,
        "strings": strings.table,
        "unmapped": [c.name_en for c in unmapped],
        # Every crossing's page, for the links between pages.
        "pages": [[c.id, c.name_en] for c in pages],
        # Land and the boundary, drawn under the tiles: the map still shows them offline.
        "basemap": basemap(),
    }


def _use_pinned_assets(element: Any, js: Sequence[str], css: Sequence[str]) -> None:
    """Make a folium element load our pinned copies (so they can be inlined or served locally)."""
    element.default_js = [(name, ASSETS[name].url) for name in js]
    element.default_css = [(name, ASSETS[name].url) for name in css]


def _base_map(*, width: str = "100%") -> Any:
    folium = _import_folium()
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=True, width=width)
    _use_pinned_assets(fmap, ["leaflet", "jquery"], ["leaflet_css"])
    folium.TileLayer("OpenStreetMap", name="Street map (OpenStreetMap)").add_to(fmap)
    imagery = folium.TileLayer(
        tiles=_TILES_IMAGERY,
        attr="Esri, Maxar, Earthstar Geographics",
        name="Satellite imagery (Esri)",
    ).add_to(fmap)
    # Offered in the layer control, not shown at first: the page's script removes it.
    fmap.hidden_layer = imagery.get_name()
    root = fmap.get_root()
    css = files("geo").joinpath("static/map.css").read_text(encoding="utf-8")
    root.header.add_child(_verbatim(f"<style>{css}</style>"), name="crossings_css")
    return fmap


def _controls(fmap: Any) -> None:
    folium = _import_folium()
    plugins = folium.plugins
    fullscreen = plugins.Fullscreen(position="topleft")
    _use_pinned_assets(fullscreen, ["fullscreen"], ["fullscreen_css"])
    fullscreen.add_to(fmap)
    minimap = plugins.MiniMap(toggle_display=True, position="bottomright")
    _use_pinned_assets(minimap, ["minimap"], ["minimap_css"])
    minimap.add_to(fmap)
    measure = plugins.MeasureControl(
        position="topleft", primary_length_unit="kilometers", secondary_length_unit="meters"
    )
    _use_pinned_assets(measure, ["measure"], ["measure_css"])
    measure.add_to(fmap)


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


def trade_chart_svg(trade: Sequence[TradeFigure]) -> str:
    """Return an inline SVG chart of China–DPRK trade on a time axis: years above, months below.

    Both panels share one axis in days, so a bar sits where its period lies
    and a period without a figure is an empty stretch, not a closed-up gap.
    Values a source gave as "more than", "about" or "nearly" are marked ``>``,
    ``~`` or ``<~``. Where several sources give a figure for the same period,
    the chart uses the first listed; the others stay in the store. Hovering a
    bar shows its value and source. The page's script moves the line
    ``#trade-day`` to the day shown, from the axis in the SVG's data attributes.
    """
    yearly: dict[int, TradeFigure] = {}
    monthly: dict[str, TradeFigure] = {}
    for figure in trade:
        if figure.flow != "total":
            continue
        if figure.period_kind == "year":
            yearly.setdefault(figure.period_start.year, figure)
        elif figure.period_kind == "month":
            monthly.setdefault(figure.period, figure)
    shown = [*yearly.values(), *monthly.values()]
    width, height, x0, span = 820, 360, 46, 760
    parts = [
        (
            '<text x="10" y="18" font-size="14" font-weight="bold">China–DPRK trade, both ways '
            "(total)</text>"
        )
    ]
    if not shown:
        parts.append('<text x="10" y="40" font-size="12">No trade figures in the store.</text>')
        first_day, days = date(2000, 1, 1), 1
    else:
        first_day = date(min(f.period_start.year for f in shown), 1, 1)
        last_day = date(max(f.period_end.year for f in shown), 12, 31)
        days = (last_day - first_day).days + 1

    def x_of(day: date) -> float:
        return x0 + span * (day - first_day).days / days

    def panel(figures: list[TradeFigure], top: float, plot_h: float, scale: float, title: str):
        parts.append(f'<text x="10" y="{top - 8}" font-size="12">{escape(title)}</text>')
        base = top + plot_h
        parts.append(f'<line x1="{x0}" y1="{base}" x2="{x0 + span}" y2="{base}" stroke="#333"/>')
        if not figures:
            return
        highest = max(f.value_usd for f in figures) / scale
        for figure in figures:
            value = figure.value_usd / scale
            bar_h = plot_h * value / highest
            left = x_of(figure.period_start)
            right = x_of(figure.period_end + timedelta(days=1))
            bar_w = max(right - left - 1, 1.5)
            mark = {"more_than": ">", "about": "~", "nearly": "<~"}.get(figure.qualifier, "")
            unit = "US$ bn" if scale == 1e9 else "US$ M"
            tip = escape(f"{figure.period}: {mark}{value:,.2f} {unit} — {figure.source_name}")
            parts.append(
                f'<rect x="{left:.1f}" y="{base - bar_h:.1f}" width="{bar_w:.1f}" '
                f'height="{bar_h:.1f}" fill="#4575b4" data-period="{escape(figure.period)}">'
                f"<title>{tip}</title></rect>"
            )
            if scale == 1e9:
                parts.append(
                    f'<text x="{left + bar_w / 2:.1f}" y="{base - bar_h - 3:.1f}" font-size="9" '
                    f'text-anchor="middle">{escape(mark)}{value:,.1f}</text>'
                )

    panel(
        sorted(yearly.values(), key=lambda f: f.period_start), 48, 140, 1e9, "A year, US$ billion"
    )
    panel(
        sorted(monthly.values(), key=lambda f: f.period_start),
        236,
        70,
        1e6,
        "A month (where known), US$ million",
    )
    # The time axis: a tick and a label at each year's start (every other one when crowded).
    years = range(first_day.year, first_day.year + round(days / 365.25) + 1)
    every = 1 if len(years) <= 16 else 2
    axis_y = 306
    for year in years:
        x = x_of(date(year, 1, 1))
        parts.append(f'<line x1="{x:.1f}" y1="44" x2="{x:.1f}" y2="{axis_y}" stroke="#eee"/>')
        if (year - years[0]) % every == 0 and year < years[-1]:
            parts.append(f'<text x="{x + 2:.1f}" y="{axis_y + 12}" font-size="10">{year}</text>')
    parts.append(
        f'<line id="trade-day" x1="{x0}" y1="40" x2="{x0}" y2="{axis_y}" stroke="#d7191c" '
        'stroke-width="2" visibility="hidden"/>'
    )
    note = (
        "Bars span their period; gaps are periods without a figure. Red: the day shown. "
        "China's customs (GAC) figures unless noted."
    )
    parts.append(f'<text x="10" y="{height - 8}" font-size="10">{escape(note)}</text>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="China–DPRK trade chart" '
        f'font-family="Arial, sans-serif" data-first-day="{first_day.isoformat()}" '
        f'data-days="{days}" data-x0="{x0}" data-span="{span}">{"".join(parts)}</svg>'
    )


def overview_map(
    crossings: Sequence[Crossing],
    timelines: Sequence[Sequence[StatusStep]],
    histories: Sequence[Sequence[Observation]],
    observations: Sequence[Observation],
    trade: Sequence[TradeFigure],
    *,
    as_of: date,
    start: date,
    today: date,
    structures: Sequence[Structure] = (),
) -> folium.Map:
    """Return the map of every crossing, coloured by status on ``as_of``.

    Parameters
    ----------
    crossings, timelines, histories : sequences of the same length
        Each crossing, its status steps (:func:`geo.query.status_timeline`)
        and its records, oldest first.
    observations : sequence of Observation
        Records to show at their own points (others are in the popups).
    trade : sequence of TradeFigure
        Figures for the trade chart.
    as_of, start, today : date
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
    _controls(fmap)
    if located:
        lats = [c.location.lat for c in located if c.location]
        lons = [c.location.lon for c in located if c.location]
        # Room on the left for the search box and the legend.
        fmap.fit_bounds(
            [(min(lats), min(lons)), (max(lats), max(lons))],
            padding_top_left=(270, 60),
            padding_bottom_right=(240, 40),
        )
    chart = trade_chart_svg(trade)
    fmap.get_root().html.add_child(
        _verbatim(f'<div id="trade-chart" class="xing-chart">{chart}</div>'),
        name="trade_chart",
    )
    data = _page_data(
        crossings,
        timelines,
        histories,
        observations,
        as_of=as_of,
        start=start,
        today=today,
        unmapped=[c for c in crossings if c.location is None],
        structures=structures,
        pages=crossings,
    )
    _finish(
        fmap,
        data,
        {
            "crossings": crossings_layer.get_name(),
            "infrastructure": infrastructure.get_name(),
            "other": other.get_name(),
        },
        title=f"China–DPRK border crossings: status on {as_of.isoformat()}",
    )
    return fmap


def crossing_map(
    crossing: Crossing,
    timeline: Sequence[StatusStep],
    history: Sequence[Observation],
    *,
    as_of: date,
    start: date,
    today: date,
    ring_km: float = RING_KM,
    structures: Sequence[Structure] = (),
    pages: Sequence[Crossing] = (),
) -> folium.Map:
    """Return one crossing's map: zoomed to it, its located records, a ring, its timeline beside.

    Its structures (bridges, dams, gates) with a point are drawn as markers of
    their own. A crossing without a point is shown with its timeline only, and
    says so. ``pages`` are the crossings whose pages it links to.
    """
    folium = _import_folium()
    fmap = _base_map(width="66%")
    crossings_layer = folium.FeatureGroup(name="Crossing").add_to(fmap)
    infrastructure = folium.FeatureGroup(name="Infrastructure observations").add_to(fmap)
    other = folium.FeatureGroup(name="Other observations").add_to(fmap)
    _controls(fmap)
    if crossing.location is not None:
        center = (crossing.location.lat, crossing.location.lon)
        fmap.location = list(center)
        fmap.options["zoom"] = 13
        folium.Circle(
            center,
            radius=ring_km * 1000,
            color="#555",
            weight=1,
            fill=False,
            dash_array="6",
        ).add_to(fmap)
        # The ring says what it is, on the ring, without a hover (phones have none).
        folium.Marker(
            (center[0] + ring_km / 111.2, center[1]),
            icon=folium.DivIcon(
                html=f'<div class="xing-ring-label">{ring_km:g} km ring</div>',
                icon_size=(80, 16),
                icon_anchor=(40, 8),
            ),
            interactive=False,
        ).add_to(fmap)
    else:
        fmap.location = [41.5, 127.5]
        fmap.options["zoom"] = 6
    fmap.get_root().html.add_child(
        _verbatim('<div id="crossing-side" class="xing-side"></div>'), name="side"
    )
    data = _page_data(
        [crossing],
        [timeline],
        [history],
        history,
        as_of=as_of,
        start=start,
        today=today,
        unmapped=[crossing] if crossing.location is None else [],
        structures=structures,
        pages=pages,
    )
    data["ringKm"] = ring_km  # the page's script fits the ring to any screen, at once
    _finish(
        fmap,
        data,
        {
            "crossings": crossings_layer.get_name(),
            "infrastructure": infrastructure.get_name(),
            "other": other.get_name(),
        },
        title=f"{crossing.name_en} ({crossing.name_zh} · {crossing.name_ko}): border crossing",
    )
    return fmap
