"""Maps as folium objects and page text: data, escaping, assets (the browser tests open them)."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from geo.assets import ASSETS, inline_assets
from geo.chart import trade_chart_html, trade_chart_svg
from geo.publish import maps
from geo.render import STATUS_COLOURS
from tests.common import PAYLOADS, add_payloads


def page_data(html: str) -> dict:
    match = re.search(
        r'<script type="application/json" id="crossings-data">(.*?)</script>', html, re.S
    )
    assert match, "the page carries its data"
    return json.loads(match.group(1))


def test_overview_data(store):
    fmap = maps(store, as_of=date(2026, 11, 23))["index"]
    html = fmap.get_root().render()
    data = page_data(html)
    assert [c["id"] for c in data["crossings"]] == [
        "friendship-bridge",
        "new-yalu-river-bridge",
        "quanhe-wonjong",
        "jian-manpo-road",
    ]
    assert data["unmapped"] == ["Ji'an–Manpo road bridge (highway port)"]
    friendship = data["crossings"][0]

    # The timeline holds the status of every day: closed from the end of 2020 (the border-wide
    # closure that applies to all, known to the year), open in 2026.
    def named(kind: str, row: list) -> dict:  # rows are read by their fields' names
        assert len(row) == len(data["fields"][kind])
        return dict(zip(data["fields"][kind], row, strict=True))

    def record(index: int) -> dict:
        return named("record", data["records"][index])

    steps = {step["since"]: step for step in (named("step", s) for s in friendship["timeline"])}
    assert steps["2020-12-31"]["status"] == "closed" and steps["2026-03-12"]["status"] == "open"
    evidence = record(steps["2020-12-31"]["record"])
    assert evidence["id"] == "o-7f5ec12262" and evidence["border"] == 1  # border-wide
    assert data["strings"][steps["2022-01-16"]["text"]] == "restricted"
    assert data["colours"] == STATUS_COLOURS
    assert data["start"] == "2014-10-30" and data["asOf"] == "2026-11-23"
    assert data["staleAfterDays"] == 731
    # The history in the rule's order, each record with what the rule does with it.
    history = [named("history", row) for row in friendship["history"]]
    roles = {record(h["record"])["id"]: data["strings"][h["role"]] for h in history}
    assert roles["o-7f5ec12262"] == "sets status (border-wide)"
    assert roles["o-ef0053a6c1"] == "sets status"
    new_yalu = data["crossings"][1]
    (bridge,) = new_yalu["structures"]
    assert bridge["id"] == "new-yalu-bridge"
    lifecycle = [named("lifecycle", step)["lifecycle"] for step in bridge["lifecycle"]]
    assert lifecycle == ["built_not_opened", "built_not_opened"]


def test_every_text_from_the_store_stays_text(store):
    add_payloads(store)
    html = maps(store)["index"].get_root().render()
    data_block = re.search(
        r'<script type="application/json" id="crossings-data">.*?</script>', html, re.S
    )
    assert data_block and "<" not in data_block.group(0)[50:-9]  # nothing can close the block
    rest = html.replace(data_block.group(0), "")
    for payload in PAYLOADS:
        assert payload not in rest
    assert set(PAYLOADS) <= set(page_data(html)["strings"])  # intact once the script reads them


def test_trade_chart_is_inline_svg_with_escaped_titles(store):
    from geo.store import open_store

    with open_store(store) as opened:
        svg = trade_chart_svg(opened.trade())
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert "<title>2011: 5.63 US$ bn — AP (Statistics Korea annual report)</title>" in svg
    assert "<title>2025-04: 222 US$ M" in svg
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")


def test_the_chart_lists_every_figure_it_draws_with_its_source(store):
    from geo.store import open_store

    with open_store(store) as opened:
        html = trade_chart_html(opened.trade())
    drawn = re.findall(r'<rect [^>]*fill="#4575b4" data-period="([^"]+)"', html)
    listed = re.findall(r"<tr><td>([^<]+)</td>", html)
    assert drawn == listed == ["2011", "2025-04"]
    assert "GAC unless noted" not in html  # the sources are each named instead


def test_trade_chart_places_bars_by_date_with_gaps_as_gaps():
    from geo.validate import parse_trade_figure

    def figure(period: str, value: int):
        return parse_trade_figure(
            {"period": period, "flow": "total", "value_usd": str(value), "source_name": "GAC"}
        )

    svg = trade_chart_svg(
        [
            figure("2012", 5_930_000_000),
            figure("2013", 6_540_000_000),
            figure("2016", 5_370_000_000),
        ]
        + [figure(p, 200_000_000) for p in ("2012-01", "2017-12", "2018-12")]
    )
    x = {
        period: float(left)
        for period, left in re.findall(r'<rect x="([\d.]+)"[^>]*data-period="([^"]+)"', svg)
        for period, left in [(left, period)]
    }
    year = x["2013"] - x["2012"]
    assert year > 0
    assert x["2016"] - x["2013"] == pytest.approx(3 * year, rel=0.01)  # 2014 and 2015 are a gap
    assert x["2018-12"] - x["2017-12"] == pytest.approx(
        year, rel=0.01
    )  # a year apart, not adjacent
    assert x["2012-01"] == pytest.approx(x["2012"], abs=0.5)  # the same axis for both panels
    first_day, days = re.search(r'data-first-day="([\d-]+)" data-days="(\d+)"', svg).groups()
    assert first_day == "2012-01-01" and int(days) == 7 * 365 + 2  # 2012 to 2018, two leap years


def test_pinned_assets_only(store):
    html = maps(store)["index"].get_root().render()
    loaded = re.findall(r'<script src="([^"]+)"|<link rel="stylesheet" href="([^"]+)"', html)
    urls = {a or b for a, b in loaded}
    assert urls <= {asset.url for asset in ASSETS.values()}
    assert ASSETS["leaflet"].url in urls


def test_inline_assets_leaves_no_network_reference(store):
    html = inline_assets(maps(store)["index"].get_root().render())
    assert "<script src=" not in html and 'rel="stylesheet"' not in html
    assert "url(images/" not in html  # stylesheet images became data URIs


def test_inline_assets_refuses_an_unknown_script():
    from geo.errors import GeoError

    with pytest.raises(GeoError, match=r"loads https://example.org/x.js, which has no local copy"):
        inline_assets('<script src="https://example.org/x.js"></script>')


def test_crossing_map_has_the_crossing_and_its_ring(store):
    fmap = maps(store)["quanhe-wonjong"]
    data = page_data(fmap.get_root().render())
    assert (data["ringKm"], data["ringLabel"]) == (3, "3 km ring")
    assert [c["id"] for c in data["crossings"]] == ["quanhe-wonjong"]


def test_a_page_of_many_observations_draws_counts_not_a_marker_each(store):
    from geo.model import LonLat
    from geo.render import CELL_DEG, MARKER_LIMIT, MapDays, _page_data
    from geo.store import open_store

    with open_store(store) as opened:
        template = next(o for o in opened.observations() if o.kind == "infrastructure")
    many = [
        template._replace(
            id=f"o-{n:08x}",
            location=LonLat(124.0 + (n % 50) * CELL_DEG, 40.0 + (n // 50) * 0.001),
            has_own_location=True,
        )
        for n in range(MARKER_LIMIT + 500)
    ]
    days = MapDays(date(2026, 1, 1), date(2000, 1, 1), date(2026, 1, 1))
    drawn = _page_data([], [], [], many, days=days)["observations"]
    assert "summary" not in drawn  # no per-record marker, no per-record text
    assert sum(drawn["count"]) == len(many)
    assert len(drawn["lon"]) < MARKER_LIMIT
    few = _page_data([], [], [], many[:10], days=days)["observations"]
    assert len(few["lon"]) == 10 and "count" not in few
