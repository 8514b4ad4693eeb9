"""Records to an interactive Folium map. Returns a ``folium.Map``; never writes files.

The only module that imports folium, and only when a map is drawn. Every text
from the store is HTML-escaped before it reaches the page. Coordinates become
Folium's ``(lat, lon)`` here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape as _html_escape
from typing import TYPE_CHECKING

from geo.errors import GeoError

if TYPE_CHECKING:
    import folium

    from geo.model import Crossing, Observation
    from geo.query import StatusAnswer

__all__ = ["STATUS_COLOURS", "overview_map"]

#: Marker colour of each status; ``None`` is a crossing no record gives a status for.
STATUS_COLOURS: dict[str | None, str] = {
    "open": "#1a9850",
    "restricted": "#f39c12",
    "closed": "#d73027",
    "under_construction": "#7b3294",
    "built_not_opened": "#4575b4",
    "unknown": "#7f7f7f",
    None: "#bdbdbd",
}
_STATUS_LABELS = {
    "open": "open",
    "restricted": "restricted",
    "closed": "closed",
    "under_construction": "under construction",
    "built_not_opened": "built, not open",
    "unknown": "unknown",
    None: "no status on record",
}


def escape(text: str) -> str:
    r"""Escape text for HTML that Folium places inside a JavaScript template literal.

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
    except ImportError as err:  # pragma: no cover - folium is a dependency
        raise GeoError("drawing maps needs folium. Fix: pip install folium") from err
    return folium


def _source_link(record: Observation) -> str:
    name = escape(record.source_name)
    if not record.source_url:
        return name
    return (
        f'<a href="{escape(record.source_url)}" target="_blank" '
        f'rel="noopener noreferrer">{name}</a>'
    )


def _popup_html(crossing: Crossing, status: StatusAnswer, history: Sequence[Observation]) -> str:
    record = status.record
    if record is not None:
        scope = " (border-wide record)" if record.crossing_id is None else ""
        now = (
            f"<b>{escape(_STATUS_LABELS[status.status])}</b> since {escape(record.date.label)}"
            f" — {_source_link(record)}{scope}"
        )
    else:
        now = escape(_STATUS_LABELS[None])
    items = "".join(
        f"<li><b>{escape(o.date.label)}</b> [{escape(o.kind)}"
        f"{': ' + escape(_STATUS_LABELS.get(o.status, o.status or '')) if o.status else ''}] "
        f"{escape(o.summary)} — {_source_link(o)}</li>"
        for o in history
        if o.kind in ("status", "infrastructure") and o.crossing_id is not None
    )
    precision = (
        f"±{crossing.location_precision_m:,} m — {escape(crossing.location_note)}"
        if crossing.location_precision_m
        else escape(crossing.location_note)
    )
    return (
        '<div class="crossing-popup" style="max-height:320px;overflow:auto;width:380px">'
        f"<h4>{escape(crossing.name_en)}</h4>"
        f"<div>{escape(crossing.name_zh)} · {escape(crossing.name_ko)}</div>"
        f"<div>China: {escape(crossing.cn_place)}, {escape(crossing.cn_province)}<br>"
        f"DPRK: {escape(crossing.kp_place)}, {escape(crossing.kp_province)}<br>"
        f"River: {escape(crossing.river)} · Mode: {escape(crossing.mode)}<br>"
        f"Point: {precision}</div>"
        f"<p>Status on {status.as_of.isoformat()}: {now}</p>"
        f"<ol>{items}</ol></div>"
    )


def _legend_html(as_of: date, unmapped: Sequence[Crossing]) -> str:
    rows = "".join(
        f'<div><span style="display:inline-block;width:12px;height:12px;border-radius:6px;'
        f'background:{colour};margin-right:6px"></span>{escape(_STATUS_LABELS[status])}</div>'
        for status, colour in STATUS_COLOURS.items()
    )
    missing = ""
    if unmapped:
        names = ", ".join(escape(c.name_en) for c in unmapped)
        missing = (
            '<div style="margin-top:6px;max-width:220px">'
            f"Not mapped (no coordinates found): {names}</div>"
        )
    return (
        '<div id="status-legend" style="position:fixed;bottom:24px;left:12px;z-index:9999;'
        "background:white;padding:8px 10px;border:1px solid #999;border-radius:4px;"
        'font:12px sans-serif">'
        f"<b>Status on {as_of.isoformat()}</b>{rows}{missing}</div>"
    )


def overview_map(
    crossings: Sequence[Crossing],
    statuses: Sequence[StatusAnswer],
    histories: Sequence[Sequence[Observation]],
    *,
    as_of: date,
) -> folium.Map:
    """Return a map with one marker per located crossing, coloured by status.

    Parameters
    ----------
    crossings, statuses, histories : sequences of the same length
        Each crossing, its status on ``as_of`` and its records, oldest first.
    as_of : date
        The day the colours show.

    Returns
    -------
    folium.Map
    """
    folium = _import_folium()
    located = [c for c in crossings if c.location is not None]
    fmap = folium.Map(tiles=None, control_scale=True)
    folium.TileLayer("OpenStreetMap", name="Street map").add_to(fmap)
    folium.TileLayer(
        tiles="https://server.arcgisonline.com/ArcGIS/rest/services/World_Imagery/MapServer/tile/{z}/{y}/{x}",
        attr="Esri, Maxar, Earthstar Geographics",
        name="Satellite imagery (Esri)",
    ).add_to(fmap)
    layer = folium.FeatureGroup(name="Crossings").add_to(fmap)
    for crossing, status, history in zip(crossings, statuses, histories, strict=True):
        if crossing.location is None:
            continue
        folium.CircleMarker(
            location=(crossing.location.lat, crossing.location.lon),
            radius=9,
            color="#333333",
            weight=1,
            fill=True,
            fill_color=STATUS_COLOURS.get(status.status, STATUS_COLOURS[None]),
            fill_opacity=0.9,
            tooltip=escape(f"{crossing.name_en} · {crossing.name_zh} · {crossing.name_ko}"),
            popup=folium.Popup(_popup_html(crossing, status, history), max_width=400),
        ).add_to(layer)
    if located:
        fmap.fit_bounds(
            [
                (
                    min(c.location.lat for c in located if c.location),
                    min(c.location.lon for c in located if c.location),
                ),
                (
                    max(c.location.lat for c in located if c.location),
                    max(c.location.lon for c in located if c.location),
                ),
            ]
        )
    unmapped = [c for c in crossings if c.location is None]
    fmap.get_root().html.add_child(folium.Element(_legend_html(as_of, unmapped)))
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap
