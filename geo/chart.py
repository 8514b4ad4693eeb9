"""The China–DPRK trade chart of the overview map: inline SVG, and the list of its figures.

Both panels read from the left axis in US dollars; the years' panel and the
months' panel share one time axis in days, so a bar sits where its period
lies, and the page's script moves one line (``#trade-day``) to the day shown.
A year inside the span without a figure is drawn as a gap that says so, never
as a bar of zero. Every figure shown is listed under the chart with its
source, so a phone (which has no hover) and a printout show them too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from operator import attrgetter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from geo.model import TradeFigure

__all__ = ["trade_chart_html", "trade_chart_svg"]

#: Marks of a figure a source gave as "more than", "about" or "nearly".
QUALIFIER_MARKS = {"more_than": ">", "about": "~", "nearly": "<~"}
WIDTH, X0, SPAN = 820, 70, 730
#: Text sizes in px: a phone shows the chart at its own size (it scrolls), never smaller.
TEXT, SMALL = 13, 11


@dataclass(frozen=True)
class _Panel:
    figures: list[TradeFigure]
    top: float
    height: float
    scale: float
    unit: str
    title: str


def _shown(trade: Sequence[TradeFigure]) -> tuple[list[TradeFigure], list[TradeFigure]]:
    """Return the yearly and monthly totals: where sources give one period, the first listed."""
    yearly: dict[int, TradeFigure] = {}
    monthly: dict[str, TradeFigure] = {}
    for figure in trade:
        if figure.flow != "total":
            continue
        if figure.period_kind == "year":
            yearly.setdefault(figure.period_start.year, figure)
        elif figure.period_kind == "month":
            monthly.setdefault(figure.period, figure)
    order = attrgetter("period_start")
    return sorted(yearly.values(), key=order), sorted(monthly.values(), key=order)


def _ticks(highest: float) -> list[float]:
    """Return 0 and round values (1, 2, 2.5 or 5 x 10^n) up to the first at or over ``highest``."""
    if highest <= 0:
        return [0.0, 1.0]
    magnitude = 10 ** math.floor(math.log10(highest / 4))
    step = next(s * magnitude for s in (1, 2, 2.5, 5, 10) if highest / (s * magnitude) <= 5)
    return [step * n for n in range(math.ceil(highest / step - 1e-9) + 1)]


def _value_text(figure: TradeFigure, scale: float) -> str:
    value = figure.value_usd / scale
    digits = 2 if scale == 1e9 or value < 10 else 1 if value < 100 else 0  # three figures or so
    return f"{QUALIFIER_MARKS.get(figure.qualifier, '')}{value:,.{digits}f}"


def _axis(panel: _Panel, ticks: list[float]) -> list[str]:
    """Return the panel's title, y-axis with its unit, grid lines and baseline."""
    base = panel.top + panel.height
    title = f'x="10" y="{panel.top - 10}" font-size="{TEXT}" font-weight="bold"'
    # The unit in the title: a label of its own beside it would overlap a long title.
    parts = [f"<text {title}>{escape(panel.title)}, {escape(panel.unit)}</text>"]
    for tick in ticks:
        y = base - panel.height * tick / ticks[-1]
        parts.append(
            f'<line x1="{X0}" y1="{y:.1f}" x2="{X0 + SPAN}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{X0 - 6}" y="{y + 4:.1f}" font-size="{SMALL}" text-anchor="end">'
            f"{tick:,g}</text>"
        )
    parts.append(f'<line x1="{X0}" y1="{panel.top}" x2="{X0}" y2="{base}" stroke="#333"/>')
    parts.append(f'<line x1="{X0}" y1="{base}" x2="{X0 + SPAN}" y2="{base}" stroke="#333"/>')
    return parts


def _bars(panel: _Panel, ticks: list[float], x_of: Callable[[date], float]) -> list[str]:
    """Return a bar over each figure's period, its value above where the last leaves room."""
    base, parts, last_label = panel.top + panel.height, [], -math.inf
    for figure in panel.figures:
        left = x_of(figure.period_start)
        bar_w = max(x_of(figure.period_end + timedelta(days=1)) - left - 1, 2.0)
        bar_h = panel.height * figure.value_usd / panel.scale / ticks[-1]
        value = _value_text(figure, panel.scale)
        tip = f"{figure.period}: {value} {panel.unit} — {figure.source_name}"
        parts.append(
            f'<rect x="{left:.1f}" y="{base - bar_h:.1f}" width="{bar_w:.1f}" '
            f'height="{max(bar_h, 0.5):.1f}" fill="#4575b4" data-period="{escape(figure.period)}">'
            f"<title>{escape(tip)}</title></rect>"
        )
        centre = left + bar_w / 2
        if centre - last_label >= 8 * len(value):  # room for the label: about 7 px a character
            last_label = centre
            parts.append(
                f'<text x="{centre:.1f}" y="{base - bar_h - 3:.1f}" font-size="{SMALL}" '
                f'text-anchor="middle" class="value">{escape(value)}</text>'
            )
    return parts


def _gaps(panel: _Panel, x_of: Callable[[date], float]) -> list[str]:
    """Return each year inside the years' span that has no figure, as a gap that says so."""
    known = {f.period_start.year for f in panel.figures}
    if not known:
        return []
    parts = []
    for year in range(min(known), max(known)):
        if year in known:
            continue
        left, right = x_of(date(year, 1, 1)), x_of(date(year + 1, 1, 1))
        parts.append(
            f'<rect x="{left + 1:.1f}" y="{panel.top:.1f}" width="{right - left - 2:.1f}" '
            f'height="{panel.height:.1f}" fill="#f4f4f4" stroke="#999" stroke-dasharray="3 3" '
            f'class="gap" data-period="{year}"><title>{year}: no figure</title></rect>'
            # "no" above "figure", read top to bottom near the baseline.
            f'<text x="{(left + right) / 2:.1f}" y="{panel.top + panel.height - 6 - SMALL:.1f}" '
            f'font-size="{SMALL}" text-anchor="middle" fill="#555">no</text>'
            f'<text x="{(left + right) / 2:.1f}" y="{panel.top + panel.height - 6:.1f}" '
            f'font-size="{SMALL}" text-anchor="middle" fill="#555">figure</text>'
        )
    return parts


def _time_axis(
    first_day: date, days: int, axis_y: float, x_of: Callable[[date], float]
) -> list[str]:
    """Return a tick at each year's start, labelled each year (each other when crowded)."""
    years = range(first_day.year, first_day.year + round(days / 365.25) + 1)
    every = 1 if len(years) <= 12 else 2
    parts = []
    for year in years:
        x = x_of(date(year, 1, 1))
        parts.append(
            f'<line x1="{x:.1f}" y1="{axis_y - 4}" x2="{x:.1f}" y2="{axis_y + 3}" stroke="#333"/>'
        )
        if (year - years[0]) % every == 0 and year < years[-1]:
            parts.append(
                f'<text x="{x + 2:.1f}" y="{axis_y + 16}" font-size="{SMALL}">{year}</text>'
            )
    return parts


def trade_chart_svg(trade: Sequence[TradeFigure]) -> str:
    """Return the chart of China–DPRK trade as inline SVG: years above, months below.

    Values a source gave as "more than", "about" or "nearly" are marked ``>``,
    ``~`` or ``<~``. Where several sources give a figure for one period, the
    chart uses the first listed; the others stay in the store.
    """
    yearly, monthly = _shown(trade)
    shown = [*yearly, *monthly]
    if shown:
        first_day = date(min(f.period_start.year for f in shown), 1, 1)
        days = (date(max(f.period_end.year for f in shown), 12, 31) - first_day).days + 1
    else:
        first_day, days = date(2000, 1, 1), 1

    def x_of(day: date) -> float:
        return X0 + SPAN * (day - first_day).days / days

    panels = (
        _Panel(yearly, 56, 150, 1e9, "US$ bn", "A year"),
        _Panel(monthly, 260, 80, 1e6, "US$ M", "A month (where known)"),
    )
    # The day line first: the labels drawn after it stay readable over it.
    day_line = (
        f'<line id="trade-day" x1="{X0}" y1="44" x2="{X0}" y2="346" stroke="#d7191c" '
        'stroke-width="2" stroke-opacity="0.7" visibility="hidden"/>'
    )
    parts = [day_line]
    if not shown:
        parts.append(
            f'<text x="10" y="40" font-size="{TEXT}">No trade figures in the store.</text>'
        )
    parts += _gaps(panels[0], x_of)  # the years' panel: months are shown only where known
    for panel in panels:
        ticks = _ticks(max((f.value_usd / panel.scale for f in panel.figures), default=0))
        parts += _axis(panel, ticks) + _bars(panel, ticks, x_of)
    parts += _time_axis(first_day, days, 340, x_of)
    height = 366
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" '
        f'aria-label="China–DPRK trade, both ways: a bar per year and per month where known" '
        f'font-family="Arial, sans-serif" data-first-day="{first_day.isoformat()}" '
        f'data-days="{days}" data-x0="{X0}" data-span="{SPAN}">{"".join(parts)}</svg>'
    )


def trade_chart_html(trade: Sequence[TradeFigure]) -> str:
    """Return the chart with its heading, its note and every figure it shows with its source."""
    yearly, monthly = _shown(trade)
    rows = []
    for figure in [*yearly, *monthly]:
        scale, unit = (1e9, "US$ bn") if figure.period_kind == "year" else (1e6, "US$ M")
        source = escape(figure.source_name)
        if figure.source_url and figure.source_url.startswith(("https://", "http://")):
            source = (
                f'<a href="{escape(figure.source_url)}" target="_blank" '
                f'rel="noopener noreferrer">{source}</a>'
            )
        rows.append(
            f"<tr><td>{escape(figure.period)}</td><td class=num>{_value_text(figure, scale)} "
            f"{unit}</td><td>{source}</td></tr>"
        )
    note = (
        "Bars span their period; a dashed box is a year without a figure, not a zero. "
        "Red: the day shown. > more than, ~ about, <~ nearly, as the source gave it. "
        "Each figure's source is listed below; where sources disagree, the first listed is drawn."
    )
    table = (
        '<table class="xing-trade-sources"><caption>The figures and their sources</caption>'
        "<thead><tr><th>Period</th><th>Value</th><th>Source</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    return (
        '<h4 class="xing-chart-title">China–DPRK trade, both ways (total)</h4>'
        f'<div class="xing-chart-plot">{trade_chart_svg(trade)}</div>'
        f'<p class="xing-chart-note">{escape(note)}</p>{table}'
    )
