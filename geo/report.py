"""A printable report of one crossing: a PDF with its names, point, status, structures and history.

Two steps, kept apart. :func:`report_content` reads the store and says what the
report holds, as paragraphs of plain text in order (every text from the store
stays text: nothing in it is read as markup, a link or a page-number alias).
:func:`render_report` sets those paragraphs on A4 pages with fpdf2, the long
ones wrapped onto as many pages as they need, with a small map of the crossing
drawn by matplotlib from the shipped boundary and base layer: no network.

The fonts are embedded: Noto Sans CJK (Debian: fonts-noto-cjk) for every
script of the store's names, and DejaVu Sans (shipped with matplotlib) for the
characters it lacks. Noto Sans CJK has PostScript (CFF) outlines, which fpdf2
embeds under a custom encoding that some PDF readers (pypdf, pdfminer) cannot
extract text from; the report's characters are therefore cut out of the font
and given TrueType outlines first, so that the text of the PDF reads back as
written in any reader. A character no font has is printed as its code point,
``[U+1F600]``, so nothing is dropped silently.
"""

from __future__ import annotations

import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo.basemap import ATTRIBUTION, BORDER_ATTRIBUTION, basemap, border_line
from geo.browse import CrossingHistory, StructureState, show_crossing
from geo.errors import GeoError, RecordValidationError
from geo.figure import PROJECTION
from geo.inventory import today_or
from geo.model import STATUS_COLOURS
from geo.outputs import check_target, written_beside
from geo.status import (
    STALE_AFTER_DAYS,
    StatusAnswer,
    describe_status,
    lifecycle_records,
    record_role,
    status_as_of,
)

if TYPE_CHECKING:
    from geo.model import Crossing, LonLat, Observation

__all__ = [
    "Inset",
    "Paragraph",
    "Report",
    "WrittenReport",
    "render_report",
    "report_content",
    "write_report",
]

#: How each kind of paragraph is set: bold or not, and its size in points. All text is black:
#: fpdf2 2.8 loses the font of a coloured paragraph's second line when a fallback font is used.
STYLES: dict[str, tuple[str, float]] = {
    "title": ("B", 16),
    "names": ("", 13),
    "heading": ("B", 12.5),
    "entry": ("B", 9.5),
    "text": ("", 9.5),
    "quote": ("", 9.5),
    "note": ("", 8),
}
#: A paragraph of this style starts a new page (its text is not printed).
PAGE_BREAK = "page"
#: The families the fonts are registered under, and the faces of Noto Sans CJK to use, best
#: first: the Korean face sets Latin quotes and dashes proportionally, as English text wants.
_FAMILY, _FALLBACK = "report", "report-fallback"
_CJK_FACES = ("Noto Sans CJK KR", "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC")
_MARGIN_MM, _INDENT_MM, _INSET_MM = 16.0, 5.0, 72.0
#: Around the crossing, the map inset shows at least this far on each side, in metres.
_INSET_REACH_M = 6_000


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of a report: its text, how it is set, and how many steps it is indented."""

    text: str
    style: str = "text"
    indent: int = 0


@dataclass(frozen=True)
class Inset:
    """What the map inset draws: the crossing's point and its structures' points, lettered."""

    point: LonLat | None
    precision_m: int | None
    colour: str
    structures: tuple[tuple[str, LonLat], ...]


@dataclass(frozen=True)
class Report:
    """A crossing's report: paragraphs beside the map inset, then the rest, in order."""

    crossing: Crossing
    as_of: date
    today: date
    beside_map: tuple[Paragraph, ...]
    body: tuple[Paragraph, ...]
    inset: Inset | None
    records: int


@dataclass(frozen=True)
class WrittenReport:
    """A report written: the file, its pages, the crossing and the day it shows."""

    path: Path
    pages: int
    crossing_id: str
    as_of: date


# --- content ------------------------------------------------------------------------------------


def _age(days: int) -> str:
    """Return an age as a reader says it (as the command line does).

    Examples
    --------
    >>> _age(12), _age(200), _age(1000), _age(-3)
    ('12 days', '7 months', '2.7 years', '-3 days')
    """
    if days < 60:
        return f"{days} days"
    if days < 730:
        return f"{round(days / 30.44)} months"
    return f"{days / 365.25:.1f} years"


def _letter(index: int) -> str:
    """Return the letter a structure has on the map inset: A to Z, then numbers."""
    return chr(ord("A") + index) if index < 26 else str(index + 1)


def _point_text(point: LonLat | None, precision_m: int | None) -> str:
    if point is None:
        return ""
    within = f", within ±{precision_m:,}\u00a0m" if precision_m is not None else ""  # one line
    return f"lat {point.lat:.5f}, lon {point.lon:.5f} (WGS84){within}"


def _quote_paragraphs(record: Observation, indent: int) -> list[Paragraph]:
    """Return the source's words behind a record: its quote, in English, when it was checked."""
    if not record.source_quote:
        return [Paragraph("Quote: none (no copy of the source was read).", "note", indent)]
    found = [Paragraph(f"Quote: “{record.source_quote}”", "quote", indent)]
    if record.quote_en:
        found.append(Paragraph(f"In English: “{record.quote_en}”", "quote", indent))
    checked = f"Checked on {record.checked_on}" if record.checked_on else "Not checked"
    archive = f"; archived copy: {record.archive_url}" if record.archive_url else ""
    found.append(Paragraph(f"{checked}{archive}.", "note", indent))
    return found


def _source_paragraphs(record: Observation, indent: int) -> list[Paragraph]:
    """Return where a record's source can be read: its name, type, date, address and detail."""
    mirror = " (a mirror of the original)" if record.source_is_mirror else ""
    published = f", published {record.source_published.text}" if record.source_published else ""
    kind = record.source_type.replace("_", " ")
    found = [Paragraph(f"Source: {record.source_name}{mirror} ({kind}{published})", "text", indent)]
    if record.source_url:
        found.append(Paragraph(f"URL: {record.source_url}", "text", indent))
    else:
        found.append(Paragraph("URL: none.", "text", indent))
    if record.source_detail:
        found.append(Paragraph(f"Source detail: {record.source_detail}", "text", indent))
    return found


def _identity(crossing: Crossing) -> list[Paragraph]:
    """Return the paragraphs beside the map: names, places, river, mode and the point."""
    names = "   ".join(name for name in (crossing.name_zh, crossing.name_ko) if name)
    mode = crossing.mode + (f" ({crossing.mode_detail})" if crossing.mode_detail else "")
    found = [
        Paragraph(crossing.name_en or crossing.id, "title"),
        Paragraph(names or "No Chinese or Korean name in the store.", "names"),
        Paragraph(f"Crossing id: {crossing.id}", "note"),
        Paragraph(f"China side: {crossing.cn_place}, {crossing.cn_province}"),
        Paragraph(f"DPRK side: {crossing.kp_place}, {crossing.kp_province}"),
        Paragraph(f"River: {crossing.river}. Mode: {mode}. Kind: {crossing.kind}."),
    ]
    if crossing.aliases:
        found.insert(3, Paragraph(f"Also known as: {'; '.join(crossing.aliases)}"))
    if crossing.location is None:
        why = crossing.location_note or "the store does not say why"
        found.append(
            Paragraph(f"No point: the store holds no coordinates for it ({why}).", "entry")
        )
    else:
        where = _point_text(crossing.location, crossing.location_precision_m)
        found.append(Paragraph(f"Point: {where}.", "entry"))
        if crossing.location_note:
            found.append(Paragraph(f"What the point is: {crossing.location_note}", "text", 1))
        url = f" <{crossing.location_source_url}>" if crossing.location_source_url else ""
        found.append(Paragraph(f"Source of the point: {crossing.location_source}{url}", "text", 1))
    if crossing.alt_locations:
        found.append(Paragraph(f"Other positions given: {crossing.alt_locations}", "text", 1))
    return found


def _about(crossing: Crossing) -> list[Paragraph]:
    """Return what the store says of the crossing's structure and its notes."""
    found = []
    if crossing.structure:
        found.append(Paragraph(f"Structure: {crossing.structure}"))
    if crossing.notes:
        found.append(Paragraph(f"Notes: {crossing.notes}"))
    return found


def _status(title: str, answer: StatusAnswer) -> list[Paragraph]:
    """Return a status on a day with its evidence, its source's words, conflicts and plans."""
    found = [Paragraph(title, "heading")]
    evidence = answer.evidence
    if answer.record is None or evidence is None:
        return [*found, Paragraph("Unknown: no record names this crossing by this day.", "entry")]
    text = describe_status(answer.status, answer.traffic, is_lifecycle=answer.is_lifecycle)
    since = answer.since_record.date.text if answer.since_record else answer.since
    found.append(Paragraph(f"{text}" + (f", since {since}" if since else ""), "entry"))
    age = answer.evidence_age_days or 0
    stale = (
        f" Over {STALE_AFTER_DAYS // 365} years old: the status may no longer hold."
        if answer.is_uncertain
        else ""
    )
    wide = ", a border-wide record that lists this crossing" if answer.is_border_wide else ""
    found.append(
        Paragraph(
            f"Evidence: record {evidence.id}, dated {evidence.date.text}{wide}; "
            f"{_age(age)} old on {answer.as_of}.{stale}",
            "text",
            1,
        )
    )
    found += _source_paragraphs(evidence, 1) + _quote_paragraphs(evidence, 2)
    if answer.record.id != evidence.id:
        decider = answer.record
        found.append(
            Paragraph(
                f"The latest record of the run, which decides it: {decider.id} "
                f"({decider.date.text}, {decider.source_name}).",
                "note",
                1,
            )
        )
    if answer.supporting > 1:
        more = answer.supporting - 1
        found.append(Paragraph(f"{more} more record(s) of the run say the same.", "note", 1))
    for other in answer.conflicts:
        found.append(
            Paragraph(
                f"CONFLICT: {other.source_name} says {other.status} "
                f"({other.date.text}, {other.id})",
                "entry",
                1,
            )
        )
    return found + _plans(answer)


def _status_today(now: StatusAnswer, then: StatusAnswer) -> list[Paragraph]:
    """Return today's status: whole where it differs from the day's, else its evidence's age."""
    title = f"Status today, {now.as_of}"
    same = (now.status, now.traffic, now.evidence, now.conflicts, now.since) == (
        then.status,
        then.traffic,
        then.evidence,
        then.conflicts,
        then.since,
    )
    if not same or now.evidence is None:
        return _status(title, now)
    text = describe_status(now.status, now.traffic, is_lifecycle=now.is_lifecycle)
    stale = " (over two years old: the status may no longer hold)" if now.is_uncertain else ""
    return [
        Paragraph(title, "heading"),
        Paragraph(f"{text}: the same status, since the same day, on the same evidence.", "entry"),
        Paragraph(
            f"Evidence: record {now.evidence.id}, dated {now.evidence.date.text}; "
            f"{_age(now.evidence_age_days or 0)} old today{stale}.",
            "text",
            1,
        ),
        *_plans(now)[len(then.plans) :],
    ]


def _plans(answer: StatusAnswer) -> list[Paragraph]:
    found = []
    for plan in answer.plans:
        expected = plan.expected.text if plan.expected else "an unknown date"
        passed = (
            "; the expected date has passed"
            if plan.expected and plan.expected.end < answer.as_of
            else ""
        )
        found.append(
            Paragraph(
                f"Plan announced {plan.date.text} ({plan.source_name}, {plan.id}): "
                f"{describe_status(plan.status, plan.traffic)} from {expected}{passed}.",
                "text",
                1,
            )
        )
    return found


def _structures(history: CrossingHistory, day: date) -> list[Paragraph]:
    """Return each structure with its point, its lifecycle on the day and every lifecycle record."""
    found = [Paragraph("Structures", "heading")]
    if not history.structures:
        return [*found, Paragraph("The store holds no structure (bridge, dam, gate) for it.")]
    for index, state in enumerate(history.structures):
        structure = state.structure
        names = "  ".join(n for n in (structure.name_zh, structure.name_ko) if n)
        kind = structure.kind.replace("_", " ")
        found.append(Paragraph(f"{_letter(index)}. {structure.name_en}  {names} ({kind})", "entry"))
        where = _point_text(structure.location, structure.location_precision_m) or "no point"
        length = f"; {structure.length_m:,}\u00a0m long" if structure.length_m else ""
        found.append(Paragraph(f"Id: {structure.id}; {where}{length}", "text", 1))
        found.append(_lifecycle_on(state, day))
        for record in lifecycle_records(history.records, structure.id):
            found.append(
                Paragraph(
                    f"{record.date.text}: {describe_status(record.lifecycle, is_lifecycle=True)}"
                    f" (record {record.id}, {record.source_name})",
                    "text",
                    2,
                )
            )
        if structure.notes:
            found.append(Paragraph(f"Notes: {structure.notes}", "text", 1))
    return found


def _lifecycle_on(state: StructureState, day: date) -> Paragraph:
    if state.record is None:
        return Paragraph(f"On {day}: no lifecycle record yet.", "text", 1)
    lifecycle = describe_status(state.lifecycle, is_lifecycle=True)
    return Paragraph(
        f"On {day}: {lifecycle} (record {state.record.id}, {state.record.date.text}). "
        "Its lifecycle records:",
        "text",
        1,
    )


def _record(record: Observation, history: CrossingHistory) -> list[Paragraph]:
    """Return one record of the history: what it says, what the rule does with it, its source."""
    what = [record.date.text, record.kind]
    if record.status:
        what.append(describe_status(record.status, record.traffic))
    if record.lifecycle:
        what.append(f"{record.structure_id}: {record.lifecycle}")
    found = [Paragraph(f"{' · '.join(what)}   [{record.id}]", "entry")]
    role = record_role(record, history.crossing.id, superseded=history.superseded, iso=True)
    notes = [role] if role and role != f"{record.structure_id}: {record.lifecycle}" else []
    if record.replaces:
        notes.append(f"replaces {record.replaces}")
    if record.until:
        notes.append(f"until {record.until.text}")
    if record.side:
        notes.append(f"side: {record.side}")
    if notes:
        found.append(Paragraph("; ".join(notes), "note", 1))
    found.append(Paragraph(record.summary or "(no summary)", "text", 1))
    found += _source_paragraphs(record, 1) + _quote_paragraphs(record, 2)
    if record.notes:
        found.append(Paragraph(f"Notes: {record.notes}", "text", 1))
    when = record.recorded_at.date().isoformat()
    found.append(
        Paragraph(f"Recorded {when} by {record.recorded_by or 'someone unnamed'}", "note", 1)
    )
    return found


def _inset(history: CrossingHistory, answer: StatusAnswer) -> Inset | None:
    """Return what the map inset draws (None: neither the crossing nor a structure has a point)."""
    crossing = history.crossing
    lettered = []
    for index, state in enumerate(history.structures):
        if state.structure.location is not None:
            lettered.append((_letter(index), state.structure.location))
    if crossing.location is None and not lettered:
        return None
    colour = STATUS_COLOURS.get(answer.status or "", STATUS_COLOURS[""])
    return Inset(crossing.location, crossing.location_precision_m, colour, tuple(lettered))


def report_content(
    store: str | Path, crossing_id: str, *, as_of: date | None = None, today: date | None = None
) -> Report:
    """Return what the report of a crossing holds, read from the store.

    Parameters
    ----------
    store : str or Path
        The GeoPackage or database.
    crossing_id : str
        The crossing's id or any of its names, or a part of a name only it has.
    as_of : date, optional
        The day whose status the report shows beside today's (default: today).
    today : date, optional
        Today (default: today, UTC).

    Raises
    ------
    UnknownCrossingError
        If no crossing, or more than one, has that id or name.
    """
    today = today_or(today)
    day = as_of or today
    history = show_crossing(store, crossing_id, as_of=day)
    crossing = history.crossing
    ids = tuple(s.structure.id for s in history.structures)
    body = _about(crossing)
    body += _status(f"Status on {day}" + (", today" if day == today else ""), history.status)
    if day != today:
        now = status_as_of(history.records, crossing.id, today, structure_ids=ids)
        body += _status_today(now, history.status)
    body += _structures(history, day)
    body += [
        Paragraph("", PAGE_BREAK),
        Paragraph(f"History: {len(history.records)} records", "heading"),
        Paragraph(
            "Every record of the crossing and every border-wide record, in the order the status "
            "rule applies them (a month or a year counts from its last day).",
            "note",
        ),
    ]
    for record in history.records:
        body += _record(record, history)
    inset = _inset(history, history.status)
    return Report(
        crossing, day, today, tuple(_identity(crossing)), tuple(body), inset, len(history.records)
    )


# --- layout -------------------------------------------------------------------------------------


def _cjk_faces() -> dict[str, tuple[str, int]]:
    """Return the file and face number of Noto Sans CJK, regular ("") and bold ("B").

    Raises
    ------
    GeoError
        If no such font is installed.
    """
    from matplotlib import font_manager

    faces: dict[str, tuple[str, int]] = {}
    for name in reversed(_CJK_FACES):  # the best last, so it wins
        for entry in font_manager.fontManager.ttflist:
            if entry.name == name and entry.weight in (400, "normal", 700, "bold"):
                style = "B" if entry.weight in (700, "bold") else ""
                faces[style] = (entry.fname, getattr(entry, "index", 0))
    if set(faces) != {"", "B"}:
        raise GeoError(
            "the report needs Noto Sans CJK (regular and bold) for the names in Chinese and "
            "Korean, and it was not found. Fix: install it (Debian: apt install fonts-noto-cjk)"
        )
    return faces


def _truetype_subset(path: str, index: int, characters: Iterable[str], out: Path) -> set[int]:
    """Write the glyphs of ``characters`` of a font as a TrueType font; return its code points."""
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    with TTFont(path, fontNumber=index, lazy=True) as font:
        options = subset.Options()
        options.layout_features, options.notdef_outline, options.name_IDs = [], True, ["*"]
        options.drop_tables += ["VORG", "vhea", "vmtx", "BASE"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes={ord(c) for c in characters})
        subsetter.subset(font)
        order, outlines = font.getGlyphOrder(), font.getGlyphSet()
        glyf = newTable("glyf")
        glyf.glyphOrder, glyf.glyphs = order, {}
        for name in order:  # PostScript curves to TrueType ones, within a unit of 1,000 an em
            pen = TTGlyphPen(outlines)
            outlines[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
            glyf.glyphs[name] = pen.glyph()
        if "CFF " in font:
            del font["CFF "]
        font["loca"], font["glyf"] = newTable("loca"), glyf
        maxp = font["maxp"] = newTable("maxp")
        maxp.tableVersion, maxp.maxZones = 0x00010000, 1
        for field in ("TwilightPoints", "Storage", "FunctionDefs", "InstructionDefs",
                      "StackElements", "SizeOfInstructions", "ComponentElements"):  # fmt: skip
            setattr(maxp, f"max{field}", 0)
        metrics = font["hmtx"]
        for name in order:
            glyph = glyf.glyphs[name]
            glyph.recalcBounds(glyf)
            metrics[name] = (metrics[name][0], getattr(glyph, "xMin", 0))
        post = font["post"]
        post.formatType, post.extraNames, post.mapping, post.glyphOrder = 2.0, [], {}, order
        font.sfntVersion = "\x00\x01\x00\x00"
        font.save(out)
        return set(font.getBestCmap())


def _printable(text: str, covered: set[int]) -> str:
    """Return text as it can be printed: a character no font has, or a control, as its code.

    Examples
    --------
    >>> _printable("a\\tb\\x1b\\r\\nc", {ord(c) for c in "abc"})
    'a b[U+001B]\\nc'
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return "".join(
        ch
        if ch in " \n"
        or (ord(ch) in covered and unicodedata.category(ch)[0] != "C" and ch not in "\u2028\u2029")
        else f"[U+{ord(ch):04X}]"
        for ch in text
    )


def _fonts(pdf: Any, texts: Iterable[str], folder: Path) -> set[int]:
    """Register the report's fonts with ``pdf``; return the code points they can print."""
    import matplotlib
    from fontTools.ttLib import TTFont

    wanted = {ch for text in texts for ch in text} | set("[]U+0123456789ABCDEF")
    covered: set[int] = set()
    for style, (path, index) in _cjk_faces().items():
        out = folder / f"cjk{style}.ttf"
        covered |= _truetype_subset(path, index, wanted, out)
        pdf.add_font(_FAMILY, style, str(out))
    dejavu = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    extra = {ord(ch) for ch in wanted} - covered
    with TTFont(dejavu / "DejaVuSans.ttf", lazy=True) as fallback:
        extra &= set(fallback.getBestCmap())
    if extra:  # only where needed: with a fallback font, fpdf2 measures text a letter at a time
        pdf.add_font(_FALLBACK, "", str(dejavu / "DejaVuSans.ttf"))
        pdf.add_font(_FALLBACK, "B", str(dejavu / "DejaVuSans-Bold.ttf"))
        pdf.set_fallback_fonts([_FALLBACK], exact_match=False)
    return covered | extra


def _inset_frame(inset: Inset) -> tuple[list[tuple[float, float]], float, Any]:
    """Return the inset's points, projected, its reach in metres and a lon/lat box around it.

    The first point is the crossing's (or the middle of its structures); the box
    is what the base layers are clipped to.
    """
    from pyproj import Transformer
    from shapely import box

    forward = Transformer.from_crs(4326, PROJECTION, always_xy=True)
    points = [p for p in (inset.point, *(point for _, point in inset.structures)) if p is not None]
    xy = [forward.transform(p.lon, p.lat) for p in points]
    if inset.point is None:  # the middle of the structures
        xy.insert(0, (sum(x for x, _ in xy) / len(xy), sum(y for _, y in xy) / len(xy)))
    (cx, cy), others = xy[0], xy[1:]
    spread = max((((x - cx) ** 2 + (y - cy) ** 2) ** 0.5 for x, y in others), default=0.0)
    reach = max(_INSET_REACH_M, 1.4 * spread, 1.3 * (inset.precision_m or 0))
    back = Transformer.from_crs(PROJECTION, 4326, always_xy=True)
    corners = [back.transform(cx + dx * reach, cy + dy * reach) for dx in (-2, 2) for dy in (-2, 2)]
    lons, lats = [lon for lon, _ in corners], [lat for _, lat in corners]
    return xy, reach, box(min(lons) - 0.1, min(lats) - 0.1, max(lons) + 0.1, max(lats) + 0.1)


def _draw_base(axes: Any, around: Any) -> None:
    """Draw the land and the boundary (OpenStreetMap) inside ``around``, projected."""
    import numpy as np

    from pyproj import Transformer
    from shapely import transform
    from shapely.geometry import shape

    forward = Transformer.from_crs(4326, PROJECTION, always_xy=True)

    def project(lonlat: Any) -> Any:
        return np.column_stack(forward.transform(lonlat[:, 0], lonlat[:, 1]))

    axes.set_facecolor("#d6e6f0")
    for feature in basemap()["features"]:
        if feature["properties"]["kind"] == "land":
            land = transform(shape(feature["geometry"]).intersection(around), project)
            for polygon in getattr(land, "geoms", [land]):
                if polygon.geom_type == "Polygon" and not polygon.is_empty:
                    axes.fill(*polygon.exterior.xy, color="#f2efe9", ec="#9a9a9a", lw=0.4)
    border = transform(border_line().intersection(around), project)
    for line in getattr(border, "geoms", [border]):
        if line.geom_type == "LineString" and not line.is_empty:
            axes.plot(*line.xy, color="#b2182b", lw=1.4, ls="--")


def _inset_png(inset: Inset) -> bytes:
    """Draw the map inset: land, the boundary, the crossing's point and its lettered structures.

    Only the report's own words are drawn here (letters, the scale): a store's
    text never reaches matplotlib, which would read ``$...$`` in it as maths.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle
    from matplotlib_scalebar.scalebar import ScaleBar

    xy, reach, around = _inset_frame(inset)
    figure = Figure(figsize=(3.2, 3.2), dpi=200)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    _draw_base(axes, around)
    if inset.point is not None:
        if inset.precision_m:
            axes.add_patch(Circle(xy[0], inset.precision_m, fill=False, ls=":", ec="#333", lw=0.8))
        axes.plot(*xy[0], marker="o", ms=10, mfc=inset.colour, mec="#222", zorder=5)
    for (letter, _), (x, y) in zip(inset.structures, xy[1:], strict=True):
        axes.plot(x, y, marker="^", ms=7, mfc="white", mec="#222", zorder=6)
        axes.annotate(letter, (x, y), xytext=(5, 4), textcoords="offset points", fontsize=8,
                      fontweight="bold", zorder=7)  # fmt: skip
    cx, cy = xy[0]
    axes.set_xlim(cx - reach, cx + reach)
    axes.set_ylim(cy - reach, cy + reach)
    axes.set_aspect("equal")
    axes.set_axis_off()
    axes.add_artist(
        ScaleBar(1, "m", location="lower left", box_alpha=0.7, font_properties={"size": 7})
    )
    axes.annotate("N ↑", xy=(0.95, 0.95), xycoords="axes fraction", ha="right", va="top",
                  fontsize=8, fontweight="bold")  # fmt: skip
    buffer = BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _draw(pdf: Any, paragraphs: Iterable[Paragraph], width: float, covered: set[int]) -> None:
    """Set paragraphs one under another from the left margin, each wrapped to ``width`` mm."""
    bottom = pdf.h - pdf.b_margin
    for paragraph in paragraphs:
        if paragraph.style == PAGE_BREAK:
            pdf.add_page()
            continue
        bold, size = STYLES[paragraph.style]
        if paragraph.style in ("heading", "entry") and pdf.get_y() > bottom - 24:
            pdf.add_page()  # a heading never ends a page: it stays with what follows
        if paragraph.style in ("heading", "title"):
            pdf.ln(3 if paragraph.style == "heading" else 0)
        elif paragraph.style == "entry" and paragraph.indent == 0:
            pdf.ln(1.5)
        pdf.set_font(_FAMILY, bold, size)
        indent = paragraph.indent * _INDENT_MM
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(
            width - indent,
            size * 0.45,
            _printable(paragraph.text, covered),
            align="L",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        if paragraph.style == "heading":
            pdf.set_draw_color(160)
            pdf.line(pdf.l_margin, pdf.get_y() + 0.5, pdf.l_margin + width, pdf.get_y() + 0.5)
            pdf.ln(1.5)


def _footers(pdf: Any, report: Report, covered: set[int]) -> None:
    """Write on every page the crossing, the day shown, the date made and the page number."""
    pages = pdf.pages_count
    pdf.set_auto_page_break(False)
    for number in range(1, pages + 1):
        pdf.page = number
        pdf.set_xy(pdf.l_margin, pdf.h - _MARGIN_MM + 5)
        # Set twice: fpdf2 writes a font into a page only when it changes, and this page's
        # text may have ended in another.
        pdf.set_font(_FAMILY, "B", 7.5)
        pdf.set_font(_FAMILY, "", 7.5)
        pdf.cell(pdf.epw, 4, _printable(_footer(report, number, pages), covered), align="C")


def render_report(report: Report) -> tuple[bytes, int]:
    """Return a report as PDF bytes, with the number of its pages.

    The map inset sits at the top right of the first page, beside the names;
    the status, the structures and, from a new page, the whole history follow,
    each long text wrapped onto as many pages as it needs.

    Raises
    ------
    GeoError
        If the fonts with Chinese and Korean characters are not installed.
    """
    from fpdf import FPDF

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.alias_nb_pages("")  # no page-number alias: a store's text holding "{nb}" stays as written
    pdf.set_margins(_MARGIN_MM, _MARGIN_MM, _MARGIN_MM)
    pdf.set_auto_page_break(True, margin=_MARGIN_MM + 4)
    pdf.set_creator("crossings report")
    texts = [p.text for p in (*report.beside_map, *report.body)] + [_footer(report, 0, 0)]
    if report.inset is not None:
        texts.append(_caption(report.inset, report.as_of))
    with tempfile.TemporaryDirectory(prefix="crossings-report-") as folder:
        covered = _fonts(pdf, texts, Path(folder))
        pdf.set_title(_printable(report.crossing.name_en, covered))
        pdf.add_page()
        width = pdf.epw
        if report.inset is not None:
            left = pdf.w - pdf.r_margin - _INSET_MM
            pdf.image(BytesIO(_inset_png(report.inset)), x=left, y=pdf.t_margin, w=_INSET_MM)
            pdf.set_xy(left, pdf.t_margin + _INSET_MM + 1)
            pdf.set_font(_FAMILY, "", 6.5)
            caption = _printable(_caption(report.inset, report.as_of), covered)
            pdf.multi_cell(_INSET_MM, 2.8, caption, align="L")
            width = pdf.epw - _INSET_MM - 6
        pdf.set_xy(pdf.l_margin, pdf.t_margin)
        _draw(pdf, report.beside_map, width, covered)
        if pdf.page == 1 and report.inset is not None:  # under the map, if the names end beside it
            pdf.set_y(max(pdf.get_y(), pdf.t_margin + _INSET_MM + 18))
        _draw(pdf, report.body, pdf.epw, covered)
        _footers(pdf, report, covered)
        data = bytes(pdf.output())
        for font in pdf.fonts.values():  # fpdf2 leaves the files of some fonts open
            getattr(font, "close", lambda: None)()
    return data, pdf.pages_count


def _caption(inset: Inset, day: date) -> str:
    """Return what is said under the map inset: what it shows and where its lines come from."""
    point = (
        f"● the crossing, coloured by its status on {day}; dotted circle: the point's stated "
        "precision. "
        if inset.point is not None
        else "The crossing has no point: the map is centred on its structures. "
    )
    structures = "▲ its structures, lettered as listed. " if inset.structures else ""
    return (
        f"{point}{structures}Red dashes: the China–DPRK boundary ({BORDER_ATTRIBUTION}). "
        f"Land: {ATTRIBUTION}. Projection {PROJECTION}."
    )


def _footer(report: Report, number: int, pages: int) -> str:
    """Return the line at the foot of a page."""
    return (
        f"{report.crossing.id}: status on {report.as_of}; made on {report.today} by "
        f"`crossings report` from the crossings inventory. Page {number} of {pages}"
    )


def write_report(
    store: str | Path,
    out: str | Path,
    crossing_id: str,
    *,
    as_of: date | None = None,
    force: bool = False,
) -> WrittenReport:
    """Write the PDF report of a crossing; return the file, its pages and the crossing.

    The file is written beside ``out`` and renamed into place, so a reader never
    sees half a report; the store, and an existing file without ``force``, are
    refused before anything is read.

    Raises
    ------
    RecordValidationError
        If ``out`` does not end in .pdf, is the store or one of its files, or exists
        without ``force``; UnknownCrossingError if no crossing has that id or name.
    GeoError
        If the fonts with Chinese and Korean characters are not installed.
    """
    target = Path(out)
    if target.suffix.lower() != ".pdf":
        raise RecordValidationError(
            "--out",
            str(target),
            "does not end in .pdf",
            "a file name ending in .pdf",
            f"name the file e.g. {target.stem or 'report'}.pdf",
        )
    check_target(target, force=force, reads=[store])
    report = report_content(store, crossing_id, as_of=as_of)
    data, pages = render_report(report)
    with written_beside(target, force=force, reads=[store]) as building:
        building.write_bytes(data)
    return WrittenReport(target, pages, report.crossing.id, report.as_of)
