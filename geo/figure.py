"""Static map figures to publish: the border's crossings coloured by status on a day.

Drawn with matplotlib (what print and PDF workflows expect, with text kept as
text in SVG and PDF) in EPSG:5179, the transverse Mercator centred on 127.5°E
that maps of Korea use, so the scale bar (matplotlib-scalebar) measures true
distances across the border. The base is the shipped Natural Earth layer: no
network is needed. Never writes files; :func:`geo.publish.write_figure` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from geo.basemap import ATTRIBUTION, basemap
from geo.errors import GeoError
from geo.model import STATUS_COLOURS, STATUS_LABELS

if TYPE_CHECKING:
    from geo.browse import CrossingStatus

__all__ = ["LANGUAGES", "PROJECTION", "save_figure", "status_figure"]

#: Label scripts: English, Chinese, Korean (each crossing's name in that script).
LANGUAGES = {"en": "name_en", "zh": "name_zh", "ko": "name_ko"}
PROJECTION = "EPSG:5179"
#: Around one crossing: its figure shows this far on each side, in metres.
_CROSSING_REACH_M = 15_000
_MARKERS = {"road": "o", "rail": "s", "road+rail": "D"}
#: SVG and PDF keep text as text (searchable, editable, and named in the file).
_TEXT_AS_TEXT: dict[str, Any] = {"svg.fonttype": "none", "pdf.fonttype": 42}


def _colour(status: str | None) -> str:
    """Return the map's colour of a status (a lifecycle the map has no colour for: none)."""
    return STATUS_COLOURS.get(status or "", STATUS_COLOURS[""])


def _cjk_font(lang: str) -> str | None:
    """Return a font family that has Chinese or Korean characters, or None for English."""
    if lang == "en":
        return None
    from matplotlib import font_manager

    wanted = {"zh": ("Noto Sans CJK SC", "Noto Sans CJK JP"), "ko": ("Noto Sans CJK KR",)}[lang]
    families = {font.name for font in font_manager.fontManager.ttflist}
    for family in (*wanted, "Noto Sans CJK JP", "Noto Serif CJK SC"):
        if family in families:
            return family
    raise GeoError(
        f"--lang {lang}: no font with {'Chinese' if lang == 'zh' else 'Korean'} characters was "
        "found. Fix: install one (Debian: fonts-noto-cjk), or use --lang en"
    )


def status_figure(
    statuses: Sequence[CrossingStatus],
    *,
    day: date,
    lang: str = "en",
    crossing_id: str | None = None,
) -> Any:
    """Return a matplotlib Figure of the crossings coloured by their status on ``day``.

    Parameters
    ----------
    statuses : sequence of CrossingStatus
        Each crossing and its status answer on ``day``.
    lang : {"en", "zh", "ko"}
        The script of the labels.
    crossing_id : str, optional
        Zoom to this crossing (15 km around it) instead of the whole border.
    """
    import matplotlib

    import geopandas as gpd

    matplotlib.use("Agg")  # files only: no window, no display needed
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib_scalebar.scalebar import ScaleBar

    from shapely import Point

    font = _cjk_font(lang)
    mapped = [s for s in statuses if s.crossing.location is not None]
    if crossing_id is not None:
        mapped = [s for s in mapped if s.crossing.id == crossing_id]
    if not mapped:
        raise GeoError("no crossing with a point to draw. Fix: choose a crossing that has one")
    base = gpd.GeoDataFrame.from_features(basemap()["features"], crs=4326).to_crs(PROJECTION)
    points = gpd.GeoSeries(
        [Point(s.crossing.location) for s in mapped],  # type: ignore[arg-type, dict-item]
        crs=4326,
    ).to_crs(PROJECTION)
    with plt.rc_context({**_TEXT_AS_TEXT, **({"font.family": font} if font else {})}):  # type: ignore[arg-type, dict-item]
        figure, axes = plt.subplots(figsize=(10, 7.5))
        axes.set_facecolor("#d6e6f0")
        base[base["kind"] == "land"].plot(ax=axes, color="#f2efe9", edgecolor="#9a9a9a", lw=0.4)
        base[base["kind"] == "border"].plot(ax=axes, color="#b2182b", lw=1.2, linestyle="--")
        middle = (points.total_bounds[0] + points.total_bounds[2]) / 2
        for status, point in zip(mapped, points, strict=True):
            answer = status.status
            colour = _colour(answer.status)
            hollow = answer.is_uncertain
            axes.plot(
                point.x,
                point.y,
                marker=_MARKERS.get(status.crossing.mode, "o"),
                markersize=9,
                markerfacecolor="white" if hollow else colour,
                markeredgecolor=colour if hollow else "#222",
                markeredgewidth=2.2 if hollow else 1.0,
                zorder=5,
            )
            east = point.x > middle  # labels point inwards, so none runs off the figure
            axes.annotate(
                getattr(status.crossing, LANGUAGES[lang]) or status.crossing.name_en,
                (point.x, point.y),
                xytext=(-7 if east else 7, 4),
                textcoords="offset points",
                ha="right" if east else "left",
                fontsize=7.5,
                zorder=6,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75},
            )
        if crossing_id is not None:
            x, y = points.iloc[0].x, points.iloc[0].y
            axes.set_xlim(x - _CROSSING_REACH_M, x + _CROSSING_REACH_M)
            axes.set_ylim(y - _CROSSING_REACH_M, y + _CROSSING_REACH_M)
        else:
            west, south, east, north = points.total_bounds
            pad = max(east - west, north - south) * 0.08
            axes.set_xlim(west - pad, east + pad)
            axes.set_ylim(south - pad, north + pad)
        axes.set_aspect("equal")
        axes.set_xticks([])
        axes.set_yticks([])
        axes.set_xlabel("")
        axes.set_ylabel("")
        order = list(STATUS_COLOURS)
        shown = sorted(
            {s.status.status or "" for s in mapped},
            key=lambda k: order.index(k) if k in order else len(order),
        )
        handles = [
            Line2D(
                [], [], ls="", marker="o", markersize=8, markerfacecolor=_colour(key),
                markeredgecolor="#222", label=STATUS_LABELS.get(key, key.replace("_", " ")),
            )
            for key in shown
        ]  # fmt: skip
        handles += [
            Line2D([], [], ls="", marker="o", markersize=8, markerfacecolor="white",
                   markeredgecolor="#7f7f7f", markeredgewidth=2.2,
                   label="hollow: evidence over two years older than the day"),
            Line2D([], [], ls="", marker="o", color="#555", label="road"),
            Line2D([], [], ls="", marker="s", color="#555", label="rail"),
            Line2D([], [], ls="", marker="D", color="#555", label="road and rail"),
            Line2D([], [], color="#b2182b", ls="--", label="China–DPRK boundary"),
        ]  # fmt: skip
        axes.legend(handles=handles, loc="lower right", fontsize=7.5, title=f"Status on {day}")
        axes.add_artist(ScaleBar(1, "m", location="lower left", box_alpha=0.7))
        axes.annotate(
            "N",
            xy=(0.04, 0.95),
            xytext=(0.04, 0.86),
            xycoords="axes fraction",
            ha="center",
            va="center",
            fontsize=11,
            fontweight="bold",
            arrowprops={"arrowstyle": "-|>", "color": "#222", "lw": 1.5},
        )
        title = "China–DPRK border crossings" if crossing_id is None else mapped[0].crossing.name_en
        axes.set_title(f"{title}: status on {day.isoformat()}", fontsize=12)
        evidence = sorted({s.status.record.id for s in mapped if s.status.record is not None})
        axes.annotate(
            f"Status: the crossings inventory, {len(evidence)} record(s) "
            f"(`crossings status --as-of {day.isoformat()}` lists them). "
            f"Base: {ATTRIBUTION}, 1:10m. Projection: {PROJECTION}.",
            xy=(0, -0.012),
            xycoords="axes fraction",
            va="top",
            fontsize=6.5,
            color="#444",
        )
    return figure


def save_figure(figure: Any, path: Any) -> None:
    """Save a figure; the format follows the suffix (PNG at 200 dpi, SVG, PDF)."""
    import matplotlib.pyplot as plt

    with plt.rc_context(_TEXT_AS_TEXT):  # type: ignore[arg-type]  # read when the file is written
        figure.savefig(path, dpi=200, bbox_inches="tight")
    plt.close(figure)
