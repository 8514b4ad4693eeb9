"""Static map figures to publish: the border's crossings and their status on a day.

Drawn with matplotlib (what print and PDF workflows expect, with text kept as
text in SVG and PDF) in EPSG:5179, the transverse Mercator centred on 127.5°E
that maps of Korea use, so the scale bar (matplotlib-scalebar) measures true
distances across the border. The base is the layer that ships with the package
(:func:`geo.basemap.basemap`): no network is needed. Never writes files;
:func:`geo.publish.write_figure` does.

A status reads by its mark's shape as well as its colour (grey print, colour-blind
readers). Every word comes from one table per language (:data:`WORDS`); the
names of crossings and towns come from the store, in the script asked for. No
label overlaps another: each is placed in turn at the first free spot around
what it names (a deterministic search, so a figure is the same run to run),
with a leader line when it had to move away from its crossing.
"""

from __future__ import annotations

import math
import re
import textwrap
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import combinations
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, NamedTuple

from geo.basemap import basemap
from geo.errors import GeoError
from geo.model import STATUS_COLOURS, STATUS_LABELS

if TYPE_CHECKING:
    from geo.browse import CrossingStatus
    from geo.model import Crossing

__all__ = ["LANGUAGES", "PROJECTION", "WORDS", "save_figure", "status_figure"]

#: Label scripts: English, Chinese, Korean (each crossing's name in that script).
LANGUAGES = {"en": "name_en", "zh": "name_zh", "ko": "name_ko"}
PROJECTION = "EPSG:5179"

_EN = {
    "title": "China–DPRK border crossings: status on {day}",
    "title_one": "{name}: status on {day}",
    "legend_title": "Status on {day}",
    **{f"status:{key}": label for key, label in STATUS_LABELS.items()},
    "hollow": "hollow: evidence over two years older than the day",
    "road": "road",
    "rail": "rail",
    "road+rail": "road and rail",
    "boundary": "China–DPRK boundary",
    "china": "China",
    "dprk": "DPRK",
    "yalu": "Yalu",
    "tumen": "Tumen",
    "north": "N",
    "km": "km",
    "m": "m",
    "sources": "Status: the crossings inventory, {records} record(s) (`{command}` lists them). "
    "Base: {base}. Projection: {projection}.",
    "unmapped": "Not drawn (no point in the inventory): {names}.",
    "unlabelled": "Drawn but not named (no room): {names}.",
    "separator": ", ",
}
_ZH = {
    "title": "中朝边境口岸：{day} 的状态",
    "title_one": "{name}：{day} 的状态",
    "legend_title": "{day} 的状态",
    "status:open": "开放",
    "status:restricted": "限制通行",
    "status:closed": "关闭",
    "status:unknown": "不明",
    "status:planned": "已规划，从未建成",
    "status:under_construction": "在建，从未开通",
    "status:built_not_opened": "已建成，从未开通",
    "status:": "无记录提及",
    "hollow": "空心：证据比当日早两年以上",
    "road": "公路",
    "rail": "铁路",
    "road+rail": "公路和铁路",
    "boundary": "中朝边界",
    "china": "中国",
    "dprk": "朝鲜",
    "yalu": "鸭绿江",
    "tumen": "图们江",
    "north": "北",
    "km": "公里",
    "m": "米",
    "sources": "状态：口岸清单中的 {records} 条记录（`{command}` 列出）。"
    "底图：{base}。投影：{projection}。",
    "unmapped": "未绘出（清单中无坐标）：{names}。",
    "unlabelled": "已绘出但无处标注名称：{names}。",
    "separator": "、",
}
_KO = {
    "title": "중국–조선 국경 통과 지점: {day} 현황",
    "title_one": "{name}: {day} 현황",
    "legend_title": "{day} 현황",
    "status:open": "개방",
    "status:restricted": "제한",
    "status:closed": "폐쇄",
    "status:unknown": "불명",
    "status:planned": "계획됨, 건설되지 않음",
    "status:under_construction": "건설 중, 개통되지 않음",
    "status:built_not_opened": "완공, 개통되지 않음",
    "status:": "기록 없음",
    "hollow": "속이 빈 기호: 근거가 그날보다 2년 넘게 오래됨",
    "road": "도로",
    "rail": "철도",
    "road+rail": "도로와 철도",
    "boundary": "중국–조선 국경",
    "china": "중국",
    "dprk": "조선",
    "yalu": "압록강",
    "tumen": "두만강",
    "north": "북",
    "km": "km",
    "m": "m",
    "sources": "현황: 통과 지점 목록의 기록 {records}건(`{command}`로 확인). "
    "바탕 지도: {base}. 투영: {projection}.",
    "unmapped": "그리지 않음(목록에 위치 없음): {names}.",
    "unlabelled": "그렸으나 이름 넣을 자리 없음: {names}.",
    "separator": ", ",
}
#: Every word the figure prints, one table per language (names come from the store, and
#: the base layer's credit from the layer).
WORDS: dict[str, dict[str, str]] = {"en": _EN, "zh": _ZH, "ko": _KO}

#: Around one crossing: its figure shows this far on each side, in metres.
_CROSSING_REACH_M = 15_000
#: A status's mark: its shape reads without colour (grey print, colour-blind readers).
_GLYPHS = {
    "open": "o",
    "restricted": "^",
    "closed": "X",
    "unknown": "h",
    "planned": "v",
    "under_construction": "p",
    "built_not_opened": "s",
    "": "d",
}
_OTHER_GLYPH = "8"  # a status the table has no shape for (a destroyed structure's lifecycle)
_MARK_PT = 9.0
#: A rail crossing's mark has a bar through it; a road and rail crossing's, a cross.
_MODE_BARS = {"rail": "_", "road+rail": "+"}
_BAR_PT = 19.0
#: SVG and PDF keep text as text (searchable, editable, and named in the file).
_TEXT_AS_TEXT: dict[str, Any] = {"svg.fonttype": "none", "pdf.fonttype": 42}
#: And SVG ids from a fixed seed, not a random one: the same figure is the same file.
_SAVING: dict[str, Any] = {**_TEXT_AS_TEXT, "svg.hashsalt": "crossings"}
_LAND, _SEA, _BORDER = "#f2efe9", "#d6e6f0", "#b2182b"
#: The base layer's land: the region around (where it has one), then the land near the border.
_LAND_KINDS = ("land-overview", "land")
_LABEL_BOX = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8}
_TOWN_BOX = {"boxstyle": "round,pad=0.1", "fc": _LAND, "ec": "none", "alpha": 0.7}
#: Directions a label may sit in around its point, in degrees, the preferred first.
_DIRECTIONS = (0, 180, 30, 150, -30, -150, 15, 165, -15, -165, 45, 135, -45, -135,
               60, 120, -60, -120, 75, 105, -75, -105, 90, -90)  # fmt: skip
_LEADER_RADII_PT = (16, 26, 38, 52, 68, 86, 106, 130, 160, 200, 250)
_TOWN_RADII_PT = (6, 12, 20)
#: A river runs this far along the boundary past its last crossing, at least (the Yalu
#: and the Tumen rise some 100 km beyond their last crossings with a point).
_RIVER_BEYOND_M = 60_000
_GAP_PX = 2.0  # the least room between two labels

_LATIN = re.compile(r"[A-Za-z]")
_HAN = re.compile(r"[\u3400-\u9fff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")

_Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in display pixels
_Segment = tuple[tuple[float, float], tuple[float, float]]


class _Search(NamedTuple):
    """How to look for a label's spot: the radii in points, which side first, how strictly."""

    radii: Sequence[float]
    mirror: bool  # left of the point first
    strict: bool  # the leader line may cross no other label
    per_pt: float  # display pixels in a point
    mark_pt: float = 0.0  # the half width of the mark labelled: no leader line within it


def _mark_half(mode: str) -> tuple[float, float]:
    """Return the half width and half height of a crossing's mark, in points."""
    half = _MARK_PT / 2 + 1
    bar = {"rail": (_BAR_PT / 2, half), "road+rail": (_BAR_PT / 2, _BAR_PT / 2)}
    return bar.get(mode, (half, half))


def _colour(status: str | None) -> str:
    """Return the map's colour of a status (a lifecycle the map has no colour for: none)."""
    return STATUS_COLOURS.get(status or "", STATUS_COLOURS[""])


def _glyph(status: str | None) -> str:
    """Return the marker shape of a status."""
    return _GLYPHS.get(status or "", _OTHER_GLYPH)


def _status_label(status: str, words: dict[str, str]) -> str:
    """Return a status's words (one the table lacks: its own name, spaced)."""
    return words.get(f"status:{status}", status.replace("_", " "))


def _name(crossing: Crossing, lang: str) -> str:
    """Return a crossing's name in the script asked for (its English one if it has none)."""
    return str(getattr(crossing, LANGUAGES[lang])) or crossing.name_en


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


# Towns: only the names the store holds -----------------------------------------------


def _folded(name: str) -> str:
    """Return a romanised name without accents, apostrophes, hyphens or spaces, lower case."""
    plain = unicodedata.normalize("NFKD", name)
    return "".join(c for c in plain if c.isalnum() and not unicodedata.combining(c)).lower()


def _is_latin(alias: str) -> bool:
    """Whether an alias is written in Latin letters only (no Chinese or Korean)."""
    return bool(_LATIN.search(alias)) and not _HAN.search(alias) and not _HANGUL.search(alias)


def _in_script(alias: str, lang: str) -> bool:
    """Whether an alias is a bare Chinese (zh) or Korean (ko) name, with no Latin or notes."""
    if _LATIN.search(alias) or "(" in alias:
        return False
    if lang == "ko":
        return bool(_HANGUL.search(alias))
    return bool(_HAN.search(alias)) and not _HANGUL.search(alias)


def _town(crossing: Crossing, place: str, lang: str) -> str | None:
    """Return the town a crossing's place text names first, in ``lang``, from its aliases.

    The town is the alias (in Latin letters) that the place text (``cn_place`` or
    ``kp_place``) names first; in Chinese or Korean, it is the first alias in that
    script that follows it in the aliases, before any other romanised name (the
    store lists a town's spellings together: Dandong; 丹东; 단둥). None when the
    store holds no such name: nothing is translated or made up.
    """
    aliases = crossing.aliases
    found = []
    for index, alias in enumerate(aliases):
        match = re.search(rf"(?<!\w){re.escape(alias)}(?!\w)", place) if _is_latin(alias) else None
        if match:
            found.append((match.start(), -len(alias), index))
    if not found:
        return None
    first = min(found)[2]
    if lang == "en":
        return aliases[first]
    folded = _folded(aliases[first])
    for alias in aliases[first + 1 :]:
        if _is_latin(alias):
            other = _folded(alias)
            if not (other.startswith(folded) or folded.startswith(other)):
                return None  # another place's name: the spellings of this one are over
        elif _in_script(alias, lang):
            return alias
        elif _LATIN.search(alias):
            return None  # a name with a note ("… (DPRK name)"): the spellings are over
    return None


# Label placement: a deterministic search for free room ------------------------------


def _overlaps(a: _Box, b: _Box) -> bool:
    """Whether two boxes come closer than the least gap."""
    return (
        a[0] < b[2] + _GAP_PX
        and b[0] < a[2] + _GAP_PX
        and a[1] < b[3] + _GAP_PX
        and b[1] < a[3] + _GAP_PX
    )


def _crosses(segment: _Segment, box: _Box) -> bool:
    """Whether a line segment passes through a box (Liang–Barsky clipping)."""
    (x, y), (x1, y1) = segment
    start, end = 0.0, 1.0
    for delta, low, high, at in ((x1 - x, box[0], box[2], x), (y1 - y, box[1], box[3], y)):
        if delta == 0:
            if not low <= at <= high:
                return False
            continue
        enter, leave = sorted(((low - at) / delta, (high - at) / delta))
        start, end = max(start, enter), min(end, leave)
        if start > end:
            return False
    return True


def _segments_cross(a: _Segment, b: _Segment) -> bool:
    """Whether two line segments cross."""

    def turn(p: tuple[float, float], q: tuple[float, float], r: tuple[float, float]) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    return turn(*a, b[0]) * turn(*a, b[1]) < 0 and turn(*b, a[0]) * turn(*b, a[1]) < 0


@dataclass
class _Room:
    """The axes' free room: the boxes and leader lines taken so far, in display pixels."""

    bounds: _Box
    boxes: list[_Box] = field(default_factory=list)
    leaders: list[_Segment] = field(default_factory=list)
    border: Any = None  # the boundary in display pixels (shapely), for labels kept off it

    def off_border(
        self, centre: tuple[float, float], size: tuple[float, float], degrees: float
    ) -> bool:
        """Whether a label (turned by ``degrees`` about its centre) keeps clear of the boundary."""
        from shapely import Polygon

        cos, sin = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
        half_w, half_h = size[0] / 2, size[1] / 2
        corners = [
            (centre[0] + u * cos - v * sin, centre[1] + u * sin + v * cos)
            for u, v in ((-half_w, -half_h), (half_w, -half_h), (half_w, half_h), (-half_w, half_h))
        ]
        return self.border is None or not self.border.intersects(Polygon(corners))

    def fits(self, box: _Box, leader: _Segment | None = None) -> bool:
        """Whether a label's box (and its leader line) would touch nothing taken."""
        left, bottom, right, top = self.bounds
        if box[0] < left or box[1] < bottom or box[2] > right or box[3] > top:
            return False
        if any(_overlaps(box, taken) for taken in self.boxes):
            return False
        if any(_crosses(line, box) for line in self.leaders):
            return False
        if leader is None:
            return True
        return not any(_crosses(leader, taken) for taken in self.boxes) and not any(
            _segments_cross(leader, line) for line in self.leaders
        )

    def take(self, box: _Box, leader: _Segment | None = None) -> None:
        """Mark a label's box (and its leader line) as taken."""
        self.boxes.append(box)
        if leader is not None:
            self.leaders.append(leader)


def _aligned(box_w: float, box_h: float, at: tuple[float, float], ha: str, va: str) -> _Box:
    """Return the box of a label of that size aligned at a display point."""
    x0 = at[0] - {"left": 0.0, "center": box_w / 2, "right": box_w}[ha]
    y0 = at[1] - {"bottom": 0.0, "center": box_h / 2, "top": box_h}[va]
    return (x0, y0, x0 + box_w, y0 + box_h)


def _offsets(radii: Sequence[float], mirror: bool) -> Iterator[tuple[float, float, str, str]]:
    """Yield label offsets in points around a point, nearest first, with their alignment."""
    for radius in radii:
        for degrees in _DIRECTIONS:
            angle = math.radians(180 - degrees if mirror else degrees)
            dx, dy = radius * math.cos(angle), radius * math.sin(angle)
            ha = "left" if dx > 0.35 * radius else "right" if dx < -0.35 * radius else "center"
            va = "bottom" if dy > 0.35 * radius else "top" if dy < -0.35 * radius else "center"
            yield dx, dy, ha, va


def _size(axes: Any, text: str, style: dict[str, Any]) -> tuple[float, float]:
    """Return a label's width and height in display pixels, its box's pad included."""
    probe = axes.text(0, 0, text, **{k: v for k, v in style.items() if k != "bbox"})
    extent = probe.get_window_extent(axes.figure.canvas.get_renderer())
    probe.remove()
    pad = 0.0
    if "bbox" in style:
        pad_fraction = float(style["bbox"]["boxstyle"].split("pad=")[1])
        pad = pad_fraction * style["fontsize"] * axes.figure.dpi / 72
    return extent.width + 2 * pad, extent.height + 2 * pad


# The figure's parts ------------------------------------------------------------------


@dataclass(frozen=True)
class _Scene:
    """What a figure draws, projected: the crossings with a point, the base, the boundary."""

    mapped: list[CrossingStatus]
    xy: list[tuple[float, float]]
    base: Any
    border: Any
    lang: str
    words: dict[str, str]
    lands: tuple[Any, ...] = ()  # the base's land in view, prepared (countries not told apart)


def _scene(statuses: Sequence[CrossingStatus], lang: str, crossing_id: str | None) -> _Scene:
    """Return the crossings to draw and the base, projected to :data:`PROJECTION`."""
    import geopandas as gpd
    from shapely import Point, line_merge

    mapped = [s for s in statuses if s.crossing.location is not None]
    if crossing_id is not None:
        mapped = [s for s in mapped if s.crossing.id == crossing_id]
    if not mapped:
        raise GeoError("no crossing with a point to draw. Fix: choose a crossing that has one")
    base = gpd.GeoDataFrame.from_features(basemap()["features"], crs=4326).to_crs(PROJECTION)
    points = gpd.GeoSeries(
        [Point(s.crossing.location) for s in mapped],  # type: ignore[arg-type]
        crs=4326,
    ).to_crs(PROJECTION)
    border = _chained(line_merge(base[base["kind"] == "border"].union_all()))
    xy = [(p.x, p.y) for p in points]
    return _Scene(mapped, xy, base, border, lang, WORDS[lang])


def _chained(border: Any) -> Any:
    """Return the boundary as one line from its western end (the Yalu's mouth) to the Tumen.

    A simplified boundary comes in pieces; each is joined to the end of the line
    at the end nearest it, so the line can be walked (and its sides told apart).
    """
    import numpy as np

    from shapely import LineString, get_parts

    parts = [np.asarray(part.coords) for part in get_parts(border)]
    first = min(range(len(parts)), key=lambda i: min(parts[i][0][0], parts[i][-1][0]))
    start = parts.pop(first)
    line = [start if start[0][0] <= start[-1][0] else start[::-1]]
    while parts:
        end = line[-1][-1]
        gaps = [(math.dist(end, part[0]), i, False) for i, part in enumerate(parts)]
        gaps += [(math.dist(end, part[-1]), i, True) for i, part in enumerate(parts)]
        _, nearest, backwards = min(gaps)
        part = parts.pop(nearest)
        line.append(part[::-1] if backwards else part)
    return LineString(np.concatenate(line))


def _framed(axes: Any, scene: _Scene) -> _Scene:
    """Return the scene with its land cut to the view (and a little past), its boundary to a pixel.

    Both are then quicker to draw and to test points against.
    """
    from shapely import prepare

    (west, east), (south, north) = axes.get_xlim(), axes.get_ylim()
    pad = (east - west) * 0.02
    base = scene.base.copy()
    land = base["kind"].isin(_LAND_KINDS)
    base.loc[land, "geometry"] = base.loc[land, "geometry"].clip_by_rect(
        west - pad, south - pad, east + pad, north + pad
    )
    lands = tuple(shape for shape in base.loc[land, "geometry"] if not shape.is_empty)
    for shape in lands:
        prepare(shape)
    (x0, _), (x1, _) = axes.transData.transform([(0, 0), (1, 0)])
    border = scene.border.simplify(1 / (x1 - x0))  # to a pixel: as drawn, and quicker to walk
    return replace(scene, base=base, lands=lands, border=border)


def _on_land(scene: _Scene, xy: Any) -> Any:
    """Return whether each point is on land."""
    import numpy as np

    from shapely import contains_xy

    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    return np.any([contains_xy(shape, xy[:, 0], xy[:, 1]) for shape in scene.lands], axis=0)


def _draw_base(axes: Any, scene: _Scene) -> None:
    """Draw the sea, the land and the China–DPRK boundary."""
    base = scene.base
    axes.set_facecolor(_SEA)
    for kind in _LAND_KINDS:  # no outline: where the near land ends inside the view, none shows
        land = base[base["kind"] == kind]
        if len(land):
            land.plot(ax=axes, color=_LAND, edgecolor="none")
    base[base["kind"] == "border"].plot(ax=axes, color=_BORDER, lw=1.2, linestyle="--")
    axes.set_xlabel("")  # geopandas names the axes after the projection's
    axes.set_ylabel("")


def _draw_crossings(axes: Any, scene: _Scene) -> None:
    """Draw each crossing's mark: shape and colour by status, a bar through it for rail."""
    for status, (x, y) in zip(scene.mapped, scene.xy, strict=True):
        answer, crossing = status.status, status.crossing
        colour, hollow = _colour(answer.status), answer.is_uncertain
        bar = _MODE_BARS.get(crossing.mode)
        if bar:
            axes.plot(x, y, marker=bar, markersize=_BAR_PT, mew=2.4, color="#222", zorder=4)
        axes.plot(
            x,
            y,
            marker=_glyph(answer.status),
            markersize=_MARK_PT + (1.5 if _glyph(answer.status) in "X^v" else 0),
            markerfacecolor="white" if hollow else colour,
            markeredgecolor=colour if hollow else "#222",
            markeredgewidth=2.2 if hollow else 1.0,
            zorder=5,
            gid=f"crossing-{crossing.id}",
        )


def _spread(axes: Any, scene: _Scene) -> _Scene:
    """Move apart the marks that would cover each other (a road and a rail bridge side by side).

    Marks closer than a mark's width are grouped; each group is scaled about its
    middle until no two of its marks are closer (marks on one spot: set side by
    side). At the scale of the whole border this moves a mark by a few kilometres.
    """
    gap = (_MARK_PT + 3) * axes.figure.dpi / 72
    px = [tuple(axes.transData.transform(xy)) for xy in scene.xy]
    group = list(range(len(px)))
    for a, b in combinations(range(len(px)), 2):
        if math.dist(px[a], px[b]) < gap:
            merged, kept = group[b], group[a]
            group = [kept if g == merged else g for g in group]
    moved = list(px)
    for members in ([i for i in range(len(px)) if group[i] == g] for g in sorted(set(group))):
        if len(members) == 1:
            continue
        x = sum(px[i][0] for i in members) / len(members)
        y = sum(px[i][1] for i in members) / len(members)
        closest = min(math.dist(px[a], px[b]) for a, b in combinations(members, 2))
        members.sort(key=lambda i: (px[i][0], scene.mapped[i].crossing.id))
        for rank, i in enumerate(members):
            if closest < 0.5:  # on one spot: side by side
                moved[i] = (x + (rank - (len(members) - 1) / 2) * gap, y)
            else:
                scale = gap / closest
                moved[i] = (x + (px[i][0] - x) * scale, y + (px[i][1] - y) * scale)
    to_data = axes.transData.inverted().transform
    return replace(scene, xy=[tuple(to_data(p)) for p in moved])


def _set_view(axes: Any, scene: _Scene, zoomed: bool) -> None:
    """Frame the crossings (one crossing: 15 km around it), north up, without ticks."""
    xs, ys = [x for x, _ in scene.xy], [y for _, y in scene.xy]
    if zoomed:
        (x, y), reach = scene.xy[0], _CROSSING_REACH_M
        axes.set_xlim(x - reach, x + reach)
        axes.set_ylim(y - reach, y + reach)
    else:
        west, south, east, north = min(xs), min(ys), max(xs), max(ys)
        pad = max(east - west, north - south, 10 * _CROSSING_REACH_M) * 0.1
        axes.set_xlim(west - pad, east + pad)
        axes.set_ylim(south - pad * 1.3, north + pad * 0.7)
    axes.set_aspect("equal")
    axes.set_xticks([])
    axes.set_yticks([])
    axes.apply_aspect()


def _legend(axes: Any, scene: _Scene, day: date) -> Any:
    """Add the legend: each status shown (shape and colour), hollow marks, modes, boundary."""
    from matplotlib.lines import Line2D

    words, order = scene.words, list(STATUS_COLOURS)
    shown = sorted(
        {s.status.status or "" for s in scene.mapped},
        key=lambda k: (order.index(k) if k in order else len(order), k),
    )
    mark: dict[str, Any] = {"ls": "", "markersize": 8, "markeredgecolor": "#222"}
    entries: list[tuple[Any, str]] = [
        (Line2D([], [], marker=_glyph(key), markerfacecolor=_colour(key), **mark),
         _status_label(key, words))
        for key in shown
    ]  # fmt: skip
    if any(s.status.is_uncertain for s in scene.mapped):
        hollow: dict[str, Any] = {**mark, "markerfacecolor": "white", "markeredgecolor": "#7f7f7f"}
        entries.append((Line2D([], [], marker="o", markeredgewidth=2.2, **hollow), words["hollow"]))
    grey: dict[str, Any] = {**mark, "markerfacecolor": "#bdbdbd", "markeredgecolor": "#555"}
    modes = {s.crossing.mode for s in scene.mapped}
    for mode in (m for m in ("road", "rail", "road+rail") if m in modes):
        plain = Line2D([], [], marker="o", **grey)
        bar = _MODE_BARS.get(mode)
        through = Line2D([], [], ls="", marker=bar, markersize=15, mew=2.0, color="#222")
        entries.append(((through, plain) if bar else plain, words[mode]))
    entries.append((Line2D([], [], color=_BORDER, ls="--"), words["boundary"]))
    return axes.legend(
        handles=[handle for handle, _ in entries],
        labels=[label for _, label in entries],
        loc="lower right",
        fontsize=7.5,
        title=words["legend_title"].format(day=day.isoformat()),
        title_fontsize=8.5,
    )


def _furniture(axes: Any, scene: _Scene, font: str | None) -> list[_Box]:
    """Add the scale bar and the north arrow; return the boxes they cover, in pixels."""
    from matplotlib_scalebar.scalebar import ScaleBar

    words = scene.words
    axes.add_artist(
        ScaleBar(
            1,
            "m",
            location="lower left",
            length_fraction=0.2,
            box_alpha=0.7,
            font_properties={"family": font} if font else None,
            scale_formatter=lambda value, unit: f"{value} {words.get(unit, unit)}",
        )
    )
    arrow = axes.annotate(
        words["north"],
        xy=(0.04, 0.95),
        xytext=(0.04, 0.86),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=11,
        fontweight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "#222", "lw": 1.5},
    )
    renderer = axes.figure.canvas.get_renderer()
    letter = arrow.get_window_extent(renderer)
    tip = axes.transAxes.transform((0.04, 0.95))
    frame = axes.get_window_extent(renderer)
    per_pt = axes.figure.dpi / 72
    bar = (frame.x0, frame.y0, frame.x0 + 0.22 * frame.width + 8 * per_pt, frame.y0 + 34 * per_pt)
    north = (min(letter.x0, tip[0] - 6), letter.y0, max(letter.x1, tip[0] + 6), tip[1] + 2)
    return [bar, north]


def _notes(
    axes: Any,
    scene: _Scene,
    statuses: Sequence[CrossingStatus],
    day: date,
    zoomed: bool,
    unlabelled: Sequence[str],
) -> None:
    """Add the title, the line naming the sources, and the crossings left undrawn or unnamed."""
    words, lang = scene.words, scene.lang
    if zoomed:
        title = words["title_one"].format(name=_name(scene.mapped[0].crossing, lang), day=day)
    else:
        title = words["title"].format(day=day.isoformat())
    axes.set_title(title, fontsize=12)
    evidence = {s.status.record.id for s in scene.mapped if s.status.record is not None}
    sources = words["sources"].format(
        records=len(evidence),
        command=f"crossings status --as-of {day.isoformat()}",
        base=basemap()["attribution"],  # a credit: as the layer gives it, in any language
        projection=PROJECTION,
    )
    size = 6.5
    small = {"xycoords": "axes fraction", "va": "top", "fontsize": size, "color": "#444"}
    width_pt = axes.get_window_extent().width * 72 / axes.figure.dpi  # as wide as the map
    sources = _wrapped(sources, width_pt, size)
    axes.annotate(sources, xy=(0, -0.012), **small)
    notes = []
    unmapped = [_name(s.crossing, lang) for s in statuses if s.crossing.location is None]
    if unmapped and not zoomed:
        notes.append(words["unmapped"].format(names=words["separator"].join(unmapped)))
    if unlabelled:
        notes.append(words["unlabelled"].format(names=words["separator"].join(unlabelled)))
    if notes:
        text = "\n".join(_wrapped(note, width_pt, size) for note in notes)
        below = -(sources.count("\n") + 1) * size * 1.5
        axes.annotate(text, xy=(0, -0.012), xytext=(0, below), textcoords="offset points",
                      gid="notes", **small)  # fmt: skip


def _wrapped(text: str, width_pt: float, size: float) -> str:
    """Return text wrapped to a width given in points.

    A Chinese or Korean character is about as wide as the type is high; another, about half.
    """
    wide = len(_HAN.findall(text)) + len(_HANGUL.findall(text))
    per_char = size * (wide + 0.55 * (len(text) - wide)) / max(len(text), 1)
    return textwrap.fill(text, int(width_pt / per_char))


# Labels ------------------------------------------------------------------------------


def _spot(room: _Room, size: tuple[float, float], at: tuple[float, float], search: _Search) -> Any:
    """Return the first free spot for a label around a point: offset, alignment, box, leader."""
    for dx, dy, ha, va in _offsets(search.radii, mirror=search.mirror):
        radius, scale = math.hypot(dx, dy), search.per_pt
        box = _aligned(*size, (at[0] + dx * scale, at[1] + dy * scale), ha, va)
        leader = None
        if radius > search.mark_pt + 3:
            start = search.mark_pt / radius  # from the mark's edge to the label's middle
            middle = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
            leader = ((at[0] + dx * scale * start, at[1] + dy * scale * start), middle)
        if room.fits(box, leader if search.strict else None):
            return dx, dy, ha, va, box, leader
    return None


def _label_crossings(
    axes: Any, scene: _Scene, room: _Room, waiting: list[int], *, near: bool, strict: bool = True
) -> list[int]:
    """Name the crossings waiting, beside their marks (``near``) or further off with leader lines.

    The most crowded are placed first. Returns the crossings still without room.
    """
    per_pt = axes.figure.dpi / 72
    style = {"fontsize": 7.5, "zorder": 6, "bbox": _LABEL_BOX}
    at = [tuple(axes.transData.transform(xy)) for xy in scene.xy]
    middle = (min(p[0] for p in at) + max(p[0] for p in at)) / 2

    def crowd(index: int) -> tuple[int, str]:
        x, y = at[index]
        near = sum(math.hypot(x - u, y - v) < 80 * per_pt for u, v in at)
        return -near, scene.mapped[index].crossing.id

    arrow = {"arrowstyle": "-", "color": "#555", "lw": 0.6, "shrinkA": 0, "shrinkB": 5}
    left = []
    for index in sorted(waiting, key=crowd):
        crossing = scene.mapped[index].crossing
        mark = max(_mark_half(crossing.mode))
        radii = (mark + 2,) if near else _LEADER_RADII_PT
        search = _Search(radii, at[index][0] > middle, strict, per_pt, mark)
        spot = _spot(room, _size(axes, _name(crossing, scene.lang), style), at[index], search)
        if spot is None:
            left.append(index)
            continue
        dx, dy, ha, va, box, leader = spot
        room.take(box, leader)
        axes.annotate(_name(crossing, scene.lang), scene.xy[index], xytext=(dx, dy),
                      textcoords="offset points", ha=ha, va=va,
                      arrowprops=arrow if leader else None, label="crossing", **style)  # fmt: skip
    return left


def _towns(scene: _Scene) -> list[tuple[str, str, tuple[float, float]]]:
    """Return each town the crossings name (side, name, where), once, at its crossings' mean."""
    where: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for status, xy in zip(scene.mapped, scene.xy, strict=True):
        crossing = status.crossing
        for side, place in (("china", crossing.cn_place), ("dprk", crossing.kp_place)):
            name = _town(crossing, place, scene.lang)
            if name:
                where.setdefault((side, name), []).append(xy)
    named = {_name(s.crossing, scene.lang) for s in scene.mapped}  # a crossing named as its town
    return [
        (side, name, (sum(x for x, _ in xys) / len(xys), sum(y for _, y in xys) / len(xys)))
        for (side, name), xys in where.items()
        if name not in named
    ]


def _sides(scene: _Scene, xy: Any) -> Any:
    """Return the side of the boundary each point is on: 1 China's, -1 the DPRK's.

    China lies on the left of the boundary walked from its western end (the
    Yalu's mouth) to the Tumen: the sign of the cross product of the boundary's
    direction near the point and the way to the point.
    """
    import numpy as np

    from shapely import get_coordinates, line_interpolate_point, line_locate_point, points

    border, xy = scene.border, np.asarray(xy, dtype=float).reshape(-1, 2)
    at = line_locate_point(border, points(xy))
    before, after = (
        get_coordinates(line_interpolate_point(border, np.clip(at + step, 0, border.length)))
        for step in (-2_000, 2_000)
    )
    cross = (after[:, 0] - before[:, 0]) * (xy[:, 1] - before[:, 1]) - (
        after[:, 1] - before[:, 1]
    ) * (xy[:, 0] - before[:, 0])
    return np.sign(cross)  # the line runs from its western end: see _chained


_SIDE = {"china": 1, "dprk": -1}


def _label_towns(axes: Any, scene: _Scene, room: _Room) -> None:
    """Name the towns at each crossing, each on its own side (a town with no room: not named)."""
    to_px, to_data = axes.transData.transform, axes.transData.inverted().transform
    per_pt = axes.figure.dpi / 72
    style = {"fontsize": 6.5, "color": "#333", "zorder": 5.5, "bbox": _TOWN_BOX}
    for side, name, xy in _towns(scene):
        (x, y), size = to_px(xy), _size(axes, name, style)
        spots = [
            (dx, dy, ha, va, _aligned(*size, (x + dx * per_pt, y + dy * per_pt), ha, va))
            for dx, dy, ha, va in _offsets(_TOWN_RADII_PT, mirror=side == "china")
        ]
        middles = [((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for *_, b in spots]
        where = to_data(middles)
        on_side = _on_land(scene, where) & (_sides(scene, where) == _SIDE[side])
        for (dx, dy, ha, va, box), middle, ok in zip(spots, middles, on_side, strict=True):
            if ok and room.fits(box) and room.off_border(middle, size, 0):
                room.take(box)
                axes.annotate(name, xy, xytext=(dx, dy), textcoords="offset points",
                              ha=ha, va=va, label="town", **style)  # fmt: skip
                break


def _rotated_box(centre: tuple[float, float], size: tuple[float, float], degrees: float) -> _Box:
    """Return the upright box around a label of that size turned by ``degrees``."""
    cos, sin = abs(math.cos(math.radians(degrees))), abs(math.sin(math.radians(degrees)))
    half_w = (size[0] * cos + size[1] * sin) / 2
    half_h = (size[0] * sin + size[1] * cos) / 2
    return (centre[0] - half_w, centre[1] - half_h, centre[0] + half_w, centre[1] + half_h)


def _along(axes: Any, border: Any, span: tuple[float, float], length: float) -> list[Any]:
    """Return stretches of the boundary a label long, middles in ``span``, straightest first.

    Each is (bend in pixels, distance along, centre in pixels, angle in degrees).
    """
    import numpy as np

    from shapely import get_coordinates, line_interpolate_point

    to_px = axes.transData.transform
    low, high = span
    starts = np.arange(low - length / 2, high - length / 2 + 1, length / 16)  # middle in span
    along = np.clip(starts[:, None] + np.linspace(0, length, 9), 0, border.length)  # not from
    samples = get_coordinates(line_interpolate_point(border, along.ravel()))  # the other end
    found = []
    for start, px in zip(starts, to_px(samples).reshape(len(starts), 9, 2), strict=True):
        (x0, y0), (x1, y1) = px[0], px[-1]
        chord = math.hypot(x1 - x0, y1 - y0) or 1.0
        bend = float(np.max(np.abs((px[:, 0] - x0) * (y1 - y0) - (px[:, 1] - y0) * (x1 - x0))))
        angle = math.degrees(math.atan2(y1 - y0, x1 - x0))
        angle = angle - 180 if angle > 90 else angle + 180 if angle <= -90 else angle
        found.append((round(bend / chord, 1), float(start), ((x0 + x1) / 2, (y0 + y1) / 2), angle))
    return sorted(
        found, key=lambda f: (f[0] + abs(f[3]) / 10, abs(f[1] - (low + high - length) / 2))
    )


def _label_rivers(
    axes: Any, scene: _Scene, room: _Room, rivers: Sequence[str], *, strict: bool
) -> list[str]:
    """Name the rivers beside the boundary, on its straightest free stretch; return those left.

    A river's stretch runs from its first crossing to its last (and 60 km on). With
    ``strict``, a name keeps clear of the line; without, it may lie across it.
    """
    to_data = axes.transData.inverted().transform
    metres_per_px = 1 / (axes.transData.transform((1, 0))[0] - axes.transData.transform((0, 0))[0])
    style = {"fontsize": 9, "color": "#2166ac", "zorder": 5.5}
    style["style"] = "italic" if scene.lang == "en" else "normal"
    left = []
    for river in rivers:
        on = [
            scene.border.project(_point(xy))
            for s, xy in zip(scene.mapped, scene.xy, strict=True)
            if s.crossing.river == river
        ]
        if not on:
            continue
        size = _size(axes, scene.words[river], style)
        reach = _RIVER_BEYOND_M
        span = (max(0.0, min(on) - reach), min(scene.border.length, max(on) + reach))
        stretches = _along(axes, scene.border, span, size[0] * 1.1 * metres_per_px)
        spot = _river_spot(room, size, stretches, axes.figure.dpi / 72, strict=strict)
        if spot is None:
            left.append(river)
            continue
        centre, angle = spot
        axes.text(*to_data(centre), scene.words[river], rotation=angle, rotation_mode="anchor",
                  ha="center", va="center", label="river", **style)  # fmt: skip
    return left


def _river_spot(
    room: _Room, size: tuple[float, float], stretches: list[Any], per_pt: float, *, strict: bool
) -> tuple[tuple[float, float], float] | None:
    """Return the first stretch with room for a river's name beside the line: centre, angle."""
    for bend, _, (x, y), angle in stretches:
        if strict and bend > size[1]:
            continue  # too curved to follow
        normal = (-math.sin(math.radians(angle)), math.cos(math.radians(angle)))
        # Beside the line, clear of its bends; not strict: on it, or a line's height off.
        for side in (1, -1) if strict else (0, 1, -1, 2, -2):
            shift = side * (size[1] / 2 + 2 * per_pt + (bend if strict else 0))
            centre = (x + normal[0] * shift, y + normal[1] * shift)
            box = _rotated_box(centre, size, angle)
            if room.fits(box) and (not strict or room.off_border(centre, size, angle)):
                room.take(box)
                return centre, angle
    return None


def _in_pixels(axes: Any, line: Any) -> Any:
    """Return a line in display pixels, prepared for quick tests."""
    from shapely import prepare, transform

    pixels = transform(line, axes.transData.transform)
    prepare(pixels)
    return pixels


def _point(xy: tuple[float, float]) -> Any:
    """Return a shapely point."""
    from shapely import Point

    return Point(xy)


def _label_countries(axes: Any, scene: _Scene, room: _Room) -> None:
    """Name China and the DPRK, each deep inside its land in view."""
    import numpy as np

    from shapely import distance, points

    (west, east), (south, north) = axes.get_xlim(), axes.get_ylim()
    style = {"fontsize": 14, "color": "#8c8c8c", "fontweight": "bold", "zorder": 3}
    to_px = axes.transData.transform
    xs, ys = np.meshgrid(np.linspace(west, east, 40), np.linspace(south, north, 30))
    grid = np.column_stack([xs.ravel(), ys.ravel()])
    if not scene.lands:
        return
    coast = scene.lands[0]  # the widest land: its edge is the coast (or the view's edge)
    grid = grid[_on_land(scene, grid)]
    sides = _sides(scene, grid)
    for side in ("china", "dprk"):
        inside = grid[sides == _SIDE[side]]
        if not len(inside):
            continue
        away = points(inside)  # from the coast, the edge of the view and the boundary
        depth = np.minimum(distance(away, coast.boundary), distance(away, scene.border))
        size = _size(axes, scene.words[side], style)
        for index in np.lexsort((inside[:, 0], -np.round(depth, -2))):
            box = _aligned(*size, tuple(to_px(inside[index])), "center", "center")
            if room.fits(box):
                room.take(box)
                axes.text(*inside[index], scene.words[side], ha="center", va="center",
                          label="country", **style)  # fmt: skip
                break


def _label(axes: Any, scene: _Scene, taken: list[_Box]) -> list[str]:
    """Place every label, none over another or over a mark, the legend or the scale bar.

    Returns the names of the crossings left without room (none on a figure of this size).

    The crossings that fit beside their marks come first, then the rivers (which
    have few spots: beside the line, then, if none is free, across it), the other
    crossings with leader lines, the towns, and the countries (the most room).
    """
    renderer = axes.figure.canvas.get_renderer()
    frame = axes.get_window_extent(renderer)
    room = _Room((frame.x0 + 2, frame.y0 + 2, frame.x1 - 2, frame.y1 - 2), list(taken))
    room.border = _in_pixels(axes, scene.border)
    legend = axes.get_legend().get_window_extent(renderer)
    room.take((legend.x0, legend.y0, legend.x1, legend.y1))
    per_pt = axes.figure.dpi / 72
    for status, xy in zip(scene.mapped, scene.xy, strict=True):
        (x, y), (half_w, half_h) = axes.transData.transform(xy), _mark_half(status.crossing.mode)
        room.take(
            (x - half_w * per_pt, y - half_h * per_pt, x + half_w * per_pt, y + half_h * per_pt)
        )
    waiting = _label_crossings(axes, scene, room, list(range(len(scene.mapped))), near=True)
    rivers = _label_rivers(axes, scene, room, ("yalu", "tumen"), strict=True)
    waiting = _label_crossings(axes, scene, room, waiting, near=False)
    _label_rivers(axes, scene, room, rivers, strict=False)
    waiting = _label_crossings(axes, scene, room, waiting, near=False, strict=False)
    _label_towns(axes, scene, room)
    _label_countries(axes, scene, room)
    return [_name(scene.mapped[index].crossing, scene.lang) for index in sorted(waiting)]


def status_figure(
    statuses: Sequence[CrossingStatus],
    *,
    day: date,
    lang: str = "en",
    crossing_id: str | None = None,
) -> Any:
    """Return a matplotlib Figure of the crossings and their status on ``day``.

    Parameters
    ----------
    statuses : sequence of CrossingStatus
        Each crossing and its status answer on ``day``. Those without a point
        are named in a note under the map.
    day : date
        The day of the statuses, in the title and the legend.
    lang : {"en", "zh", "ko"}, default "en"
        The language of every word, and the script of the names.
    crossing_id : str, optional
        Zoom to this crossing (15 km around it) instead of the whole border.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    GeoError
        If no crossing to draw has a point, or no font has the script's characters.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only: no window, no display needed
    import matplotlib.pyplot as plt

    font = _cjk_font(lang)
    scene = _scene(statuses, lang, crossing_id)
    zoomed = crossing_id is not None
    with plt.rc_context({**_TEXT_AS_TEXT, **({"font.family": font} if font else {})}):  # type: ignore[arg-type, dict-item]
        figure, axes = plt.subplots(figsize=(10, 7.5))
        _set_view(axes, scene, zoomed)
        scene = _spread(axes, _framed(axes, scene))
        _draw_base(axes, scene)
        _draw_crossings(axes, scene)
        _legend(axes, scene, day)
        unlabelled = _label(axes, scene, _furniture(axes, scene, font))
        _notes(axes, scene, statuses, day, zoomed, unlabelled)
    return figure


def save_figure(figure: Any, path: Any) -> None:
    """Save a figure; the format follows the suffix (PNG at 200 dpi, SVG, PDF).

    The file has no date and no random ids in it: the same figure is the same file.
    """
    import matplotlib.pyplot as plt

    undated = {".pdf": {"CreationDate": None}, ".svg": {"Date": None}}
    metadata = undated.get(PurePath(str(path)).suffix.lower())
    with plt.rc_context(_SAVING):  # type: ignore[arg-type]  # read when the file is written
        figure.savefig(path, dpi=200, bbox_inches="tight", metadata=metadata)
    plt.close(figure)
