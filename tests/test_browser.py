"""The maps as a person uses them: Debian's Chromium driven by Playwright, network blocked.

Every request that leaves the machine is refused; the pinned scripts and
stylesheets are served from their local copies. Screenshots of each map are
saved under tests/output/screenshots/.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from geo.cli import cli
from tests.common import PAYLOADS, SHIPPED_MAPPED, SHIPPED_UNMAPPED, Page, add_payloads

pytestmark = pytest.mark.browser

SCREENS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1400, "height": 900}}


def write_maps(store: Path | str, out: Path, *extra: str) -> Path:
    result = CliRunner().invoke(cli, ["map", "--store", str(store), "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def shipped_maps(shipped_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_maps(shipped_store, tmp_path_factory.mktemp("maps"))


def test_overview_markers_legend_and_no_errors(browser, shipped_maps):
    page = Page(browser, shipped_maps / "index.html")
    assert page.page.locator(".xing-icon").count() == SHIPPED_MAPPED  # with a point
    legend = page.page.locator("#status-legend")
    # 8 statuses, the hollow and the approximate marker, the two kinds of observation markers.
    assert legend.locator(".legend-item").count() == 12
    assert "approximate point" in legend.inner_text()
    # Status without colour alone: a sign in each marker, the same in the legend.
    for status, sign in (("closed", "×"), ("restricted", "–"), ("built_not_opened", "B")):
        marker = page.page.locator(f'.xing-icon[data-status="{status}"] .xing-glyph').first
        assert marker.inner_text() == sign
        assert legend.locator(f'.legend-item[data-status="{status}"] .swatch').inner_text() == sign
    assert "infrastructure observation" in legend.inner_text()
    assert "built, never opened" in legend.inner_text()
    assert "hollow: evidence over two years older than the day" in legend.inner_text()
    assert f"{SHIPPED_UNMAPPED} crossing(s) not mapped" in legend.inner_text()
    page.screenshot("overview")
    page.close()


def test_quanhe_popup_names_and_history_in_order(browser, shipped_maps):
    page = Page(browser, shipped_maps / "index.html")
    page.page.click('.xing-icon[data-crossing="quanhe-wonjong"]')
    popup = page.page.locator(".leaflet-popup-content .xing-popup")
    text = popup.inner_text()
    assert "圈河" in text and "원정" in text
    items = popup.locator("ol.history > li")
    labels = [items.nth(n).locator("b").inner_text() for n in range(items.count())]
    assert labels[0] == "15 Mar 2010" and labels[-1] == "Mar 2026"
    assert labels.index("30 Sep 2016") < labels.index("Feb 2023")
    link = items.nth(0).locator("a")
    assert link.get_attribute("href") == "https://korean.cri.cn/1660/2010/03/16/1s158162.htm"
    assert link.get_attribute("target") == "_blank"
    assert link.get_attribute("rel") == "noopener noreferrer"
    page.screenshot("overview-quanhe-popup")
    page.close()


def test_switching_a_layer_off_hides_its_markers(browser, shipped_maps):
    page = Page(browser, shipped_maps / "index.html")
    checkbox = page.page.locator(".leaflet-control-layers-overlays label", has_text="Crossings")
    checkbox.locator("input").uncheck()
    assert page.page.locator(".xing-icon").count() == 0
    checkbox.locator("input").check()
    assert page.page.locator(".xing-icon").count() == SHIPPED_MAPPED
    page.close()


@pytest.mark.parametrize("query", ["Sinuiju", "신의주", "新义州", "sinŭiju"])
def test_search_finds_a_crossing_by_any_name(browser, shipped_maps, query):
    page = Page(browser, shipped_maps / "index.html")
    page.page.fill("#crossing-search", query)
    found = page.page.locator("#crossing-search-results a")
    ids = {found.nth(n).get_attribute("data-crossing") for n in range(found.count())}
    assert ids == {"friendship-bridge", "new-yalu-river-bridge"}
    page.page.click('#crossing-search-results a[data-crossing="friendship-bridge"]')
    assert "中朝友谊桥" in page.page.locator(".leaflet-popup-content").inner_text()
    page.close()


def test_time_control_recolours_by_the_records(browser, shipped_maps):
    page = Page(browser, shipped_maps / "index.html")
    assert page.status_of("friendship-bridge") == "restricted"  # trains for some since Mar 2026
    page.page.fill("#time-date", "2021-06-01")
    page.page.dispatch_event("#time-date", "change")
    assert page.status_of("friendship-bridge") == "closed"  # the border shut in January 2020
    assert page.status_of("new-yalu-river-bridge") == "built_not_opened"
    assert page.page.locator("#status-legend .legend-date").inner_text() == "2021-06-01"
    colour = page.page.eval_on_selector(
        '.xing-icon[data-crossing="friendship-bridge"]', "e => getComputedStyle(e).backgroundColor"
    )
    assert colour == "rgb(215, 48, 39)"  # the "closed" red
    page.screenshot("overview-2021-06-01")
    page.page.fill("#time-date", "2023-01-01")
    page.page.dispatch_event("#time-date", "change")
    assert page.status_of("friendship-bridge") == "restricted"  # freight trains since Sep 2022
    page.page.fill("#time-date", "2019-06-01")
    page.page.dispatch_event("#time-date", "change")
    assert page.status_of("friendship-bridge") == "none"  # no status record names it before 2020
    page.page.click("#time-today")
    assert page.status_of("friendship-bridge") == "restricted"
    page.close()


def test_popup_names_the_evidence_and_its_age(browser, shipped_maps):
    page = Page(browser, shipped_maps / "index.html")
    page.page.fill("#time-date", "2021-06-01")
    page.page.dispatch_event("#time-date", "change")
    # At the first zoom the New Yalu marker covers it: open it as a reader would, by search.
    page.page.fill("#crossing-search", "Dandong")
    page.page.click('#crossing-search-results a[data-crossing="friendship-bridge"]')
    status = page.page.locator(".leaflet-popup-content .status")
    text = status.inner_text()
    assert "Status on 2021-06-01: closed since 21 Jan 2020" in text
    # The evidence is the record of the run best checked: it names the bridge, links and
    # quotes its source; five more records agree, the border-wide ones among them.
    assert "Evidence: o-97f115c27a · Aug 2020 · " in text and "5 more records agree" in text
    assert "border-wide record" not in text and "Uncertain" not in text
    words = status.locator(".quote .words").inner_text()
    assert words.startswith("Railroad freight traffic between North Korea and China halted")
    assert "Checked against the source on 2026-12-03" in text
    history = page.page.locator(".leaflet-popup-content ol.history")
    assert "evidence" in history.locator('li[data-record="o-97f115c27a"]').get_attribute("class")
    plan = history.locator('li[data-record="o-68ed013bfb"]')
    assert "plan for Aug 2025" in plan.inner_text()
    assert "superseded" in history.locator('li[data-record="o-79a6fadbcb"]').inner_text()
    page.screenshot("overview-friendship-2021-06-01")
    page.close()


@pytest.mark.parametrize("screen", SCREENS)
def test_the_quote_is_under_the_evidence_and_a_missing_address_says_why(
    browser, shipped_maps, screen
):
    # A link to a day when Quanhe's status rests on a KBS broadcast, which has no web address.
    page = Page(browser, shipped_maps / "index.html", viewport=SCREENS[screen])
    page.page.goto(
        (shipped_maps / "index.html").as_uri() + "#date=2023-02-10&crossing=quanhe-wonjong"
    )
    # The address is applied in the open tab; a reload then opens the same day and popup.
    page.page.wait_for_function("location.hash.includes('crossing=quanhe-wonjong')")
    page.page.locator(".leaflet-popup").wait_for()
    page.page.reload()
    page.page.wait_for_function("document.body.dataset.mapReady === 'true'", timeout=15000)
    status = page.page.locator(".leaflet-popup-content .status")
    status.locator(".quote .words").wait_for()
    evidence = status.locator(".evidence")
    quote = status.locator(".quote")
    assert "Evidence: o-3fa28ee8b2 · 31 Jan 2023 · KBS" in evidence.inner_text()
    # The words sit right under the evidence line, then the English, the check and the reason.
    below = page.page.evaluate(
        "() => { const e = document.querySelector('.leaflet-popup-content .status .evidence');"
        " const q = document.querySelector('.leaflet-popup-content .status .quote');"
        " return q.getBoundingClientRect().top - e.getBoundingClientRect().bottom; }"
    )
    assert 0 <= below < 8
    assert quote.locator(".words").inner_text().startswith("오늘 오전 중국 훈춘 취안허 세관")
    assert quote.locator(".words-en").inner_text().startswith("In English: This morning")
    assert (
        quote.locator(".no-url")
        .inner_text()
        .startswith("No web address: KBS television news of 2023-02-01")
    )
    copy = quote.locator(".checked a")
    assert copy.get_attribute("href").startswith("https://") and copy.inner_text() == "a copy"
    page.screenshot(f"{screen}-quote-under-the-evidence")
    page.close()


def test_old_evidence_is_drawn_hollow_and_said_uncertain(browser, shipped_maps):
    page = Page(browser, shipped_maps / "index.html")
    page.page.fill("#time-date", "2026-11-26")
    page.page.dispatch_event("#time-date", "change")
    quanhe = '.xing-icon[data-crossing="quanhe-wonjong"]'
    friendship = '.xing-icon[data-crossing="friendship-bridge"]'
    assert page.page.get_attribute(quanhe, "data-uncertain") == "true"  # evidence of Feb 2023
    assert page.page.get_attribute(friendship, "data-uncertain") == "false"  # of Mar 2026
    style = "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).borderTopColor]"
    # Quanhe: restricted (orange) on evidence of 2023, hollow; the Friendship Bridge filled.
    assert page.page.eval_on_selector(quanhe, style) == ["rgb(255, 255, 255)", "rgb(243, 156, 18)"]
    assert page.page.eval_on_selector(friendship, style)[0] == "rgb(243, 156, 18)"
    page.page.click(quanhe)
    text = page.page.locator(".leaflet-popup-content .status").inner_text()
    assert "Uncertain: the evidence is more than two years older than this day." in text
    page.page.fill("#time-date", "2023-09-01")  # the same record was recent then
    page.page.dispatch_event("#time-date", "change")
    assert page.page.get_attribute(quanhe, "data-uncertain") == "false"
    page.screenshot("overview-uncertain")
    page.close()


@pytest.mark.parametrize("screen", ["phone", "desktop"])
def test_trade_chart_opens_offline(browser, shipped_maps, screen):
    size = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1400, "height": 900}}
    page = Page(browser, shipped_maps / "index.html", viewport=size[screen])
    chart = page.page.locator("#trade-chart")
    assert not chart.is_visible()
    page.page.click("#trade-chart-button")
    assert chart.is_visible()
    assert chart.locator("svg rect").count() >= 15
    # The day shown is a line on the chart, and moves with the date control.
    line = chart.locator("#trade-day")
    assert line.get_attribute("visibility") == "hidden"  # today: after the last figure
    page.page.fill("#time-date", "2019-06-01")
    page.page.dispatch_event("#time-date", "change")
    assert line.get_attribute("visibility") == "visible"
    before = float(line.get_attribute("x1"))
    page.page.fill("#time-date", "2015-06-01")
    page.page.dispatch_event("#time-date", "change")
    assert float(line.get_attribute("x1")) < before
    page.page.wait_for_function("(" + INSIDE + ")('#trade-chart')", timeout=3000)  # fits
    page.screenshot(f"{screen}-trade-chart")
    page.close()


def test_crossing_map_with_ring_and_timeline(browser, shipped_maps):
    page = Page(browser, shipped_maps / "new-yalu-river-bridge.html")
    side = page.page.locator("#crossing-side")
    assert "新鸭绿江大桥" in side.inner_text()
    assert side.locator("ol.history > li").count() >= 20
    assert page.page.locator("path.leaflet-interactive").count() >= 1  # the 3 km ring
    assert "built, never opened" in side.locator(".status").inner_text()
    assert "Evidence: o-" in side.locator(".status").inner_text()
    page.screenshot("new-yalu-river-bridge")
    page.close()


def test_crossing_page_draws_its_structures_and_follows_the_date(browser, shipped_maps):
    page = Page(browser, shipped_maps / "tumen-namyang-road.html")
    # The old road bridge has a point of its own; the new one has none and is only listed.
    assert (
        page.page.locator('.xing-structure[data-structure="tumen-namyang-old-road-bridge"]').count()
        == 1
    )
    side = page.page.locator("#crossing-side")
    structures = side.locator(".structures").inner_text()
    assert "New Tumen–Namyang road bridge" in structures and "built not opened" in structures
    page.page.fill("#time-date", "2017-06-01")
    page.page.dispatch_event("#time-date", "change")
    structures = side.locator(".structures").inner_text()
    assert "under construction" in structures
    assert "Status on 2017-06-01: unknown" in side.locator(".status").inner_text()
    # 45 m from the crossing's point: under its marker at this zoom, so the click is sent to it.
    page.page.dispatch_event(
        '.xing-structure[data-structure="tumen-namyang-old-road-bridge"]', "click"
    )
    assert "±100 m · wikimapia" in page.page.locator(".leaflet-popup-content").inner_text()
    page.screenshot("tumen-namyang-road-2017")
    page.close()


def test_payloads_show_as_text_and_run_nothing(browser, any_store, tmp_path):
    # From either backend: what a shared database holds reaches the page as text too.
    add_payloads(any_store)
    out = write_maps(any_store, tmp_path / "maps")
    page = Page(browser, out / "index.html")
    page.page.click('.xing-icon[data-crossing="quanhe-wonjong"]')
    text = page.page.locator(".leaflet-popup-content").inner_text()
    for payload in PAYLOADS:
        assert payload in text
    assert page.page.evaluate("document.querySelectorAll('img[src=x]').length") == 0
    scripts = page.page.evaluate("Array.from(document.scripts).map(s => s.textContent)")
    assert not any("alert(1)" == s.strip() for s in scripts)
    page.close()  # no dialog opened, no error


def test_self_contained_map_works_with_the_network_off(browser, shipped_store, tmp_path):
    out = write_maps(shipped_store, tmp_path / "maps", "--self-contained")
    page = Page(browser, out / "index.html", serve_local=False)
    assert page.page.locator(".xing-icon").count() == SHIPPED_MAPPED
    assert all("cdn.jsdelivr.net" not in url for url in page.blocked)  # only tiles were refused
    # The shipped base layer: the boundary and the land, with no network, under the markers.
    assert page.page.locator("path.xing-boundary").count() == 1
    assert (
        "OpenStreetMap contributors (ODbL)"
        in page.page.locator(".leaflet-control-attribution").inner_text()
    )
    page.page.fill("#crossing-search", "신의주")
    assert page.page.locator("#crossing-search-results a").count() == 2
    page.screenshot("self-contained")
    page.close()


def test_page_of_a_crossing_without_a_point(browser, shipped_maps):
    page = Page(browser, shipped_maps / "shatuozi-saebyol.html")
    assert page.page.locator(".xing-icon").count() == 0
    side = page.page.locator("#crossing-side")
    assert "沙坨子口岸" in side.inner_text() and "Point: none" in side.inner_text()
    assert "1 crossing(s) not mapped" in page.page.locator("#status-legend").inner_text()
    page.close()


INSIDE = (
    "(selector) => Array.from(document.querySelectorAll(selector)).every(e => {"
    " const r = e.getBoundingClientRect();"
    " return r.left >= 0 && r.right <= innerWidth && r.top >= 0 && r.bottom <= innerHeight })"
)


# The controls an open popup covers (none, when it opens where the controls leave it room).
CLEAR_OF_CONTROLS = (
    "() => { const p = document.querySelector('.leaflet-popup-content-wrapper')"
    ".getBoundingClientRect();"
    " return Array.from(document.querySelectorAll('.leaflet-control')).filter(c => {"
    " const r = c.getBoundingClientRect(); return r.width > 0 && r.height > 0 &&"
    " r.left < p.right && p.left < r.right && r.top < p.bottom && p.top < r.bottom })"
    ".map(c => c.className) }"
)


#: A popup has settled: inside the screen and clear of every control (waited on, never slept).
SETTLED = (
    f"() => ({INSIDE})('.leaflet-popup-content-wrapper') && ({CLEAR_OF_CONTROLS})().length === 0"
)


@pytest.mark.parametrize("screen", SCREENS)
def test_the_first_view_holds_every_crossing_and_each_can_be_tapped(browser, shipped_maps, screen):
    size = SCREENS[screen]
    page = Page(browser, shipped_maps / "index.html", viewport=size)
    assert page.page.locator(".xing-icon").count() == SHIPPED_MAPPED
    page.page.wait_for_function(f"({INSIDE})('.xing-icon')", timeout=5000)
    # No control takes more than a quarter of the screen.
    areas = page.page.evaluate(
        "Array.from(document.querySelectorAll('.leaflet-control')).map(e => {"
        " const r = e.getBoundingClientRect(); return [e.className, r.width * r.height] })"
    )
    for name, area in areas:
        assert area <= size["width"] * size["height"] / 4, (name, area)
    # Every marker is a tap target of its own: no two closer than a fingertip (measured once
    # the markers stop moving, as Page waits for).
    centres = page.page.evaluate(
        "Array.from(document.querySelectorAll('.xing-icon')).map(e => {"
        " const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2] })"
    )
    for n, (x1, y1) in enumerate(centres):
        for x2, y2 in centres[n + 1 :]:
            assert ((x1 - x2) ** 2 + (y1 - y2) ** 2) ** 0.5 >= 24
    # A real click at the first view, where the New Yalu River Bridge is 7 km away.
    page.page.click('.xing-icon[data-crossing="friendship-bridge"]')
    title = page.page.locator(".leaflet-popup-content h4").inner_text()
    assert title.startswith("Sino-Korean Friendship Bridge")
    # Waits for the pan that brings the popup into view, and fails if it never comes.
    page.page.wait_for_function(SETTLED, timeout=5000)
    assert page.page.evaluate(f"({CLEAR_OF_CONTROLS})()") == []  # the legend included
    assert "crossing=friendship-bridge" in page.page.evaluate("location.hash")
    page.screenshot(f"{screen}-overview-friendship")
    page.close()


@pytest.mark.parametrize("screen", SCREENS)
def test_search_results_stay_visible(browser, shipped_maps, screen):
    page = Page(browser, shipped_maps / "index.html", viewport=SCREENS[screen])
    page.page.fill("#crossing-search", "신의주")
    assert page.page.locator("#crossing-search-results a").count() == 2
    # Each result is on the screen and is what a tap there reaches (nothing covers it).
    on_top = page.page.evaluate(
        "Array.from(document.querySelectorAll('#crossing-search-results a')).every(a => {"
        " const r = a.getBoundingClientRect();"
        " const hit = document.elementFromPoint(r.x + 5, r.y + r.height / 2);"
        " return r.right <= innerWidth && r.bottom <= innerHeight && a.contains(hit) })"
    )
    assert on_top
    page.page.locator("#crossing-search-results a").first.click()
    assert page.page.locator(".leaflet-popup-content h4").is_visible()
    page.close()


@pytest.mark.parametrize("screen", SCREENS)
def test_every_popup_opens_inside_the_screen(browser, shipped_maps, screen):
    page = Page(browser, shipped_maps / "index.html", viewport=SCREENS[screen])
    ids = page.page.evaluate(
        "Array.from(document.querySelectorAll('.xing-icon')).map(e => e.dataset.crossing)"
    )
    for crossing_id in ids:
        page.page.evaluate(f"crossingsState.markers['{crossing_id}'].openPopup()")
        from playwright.sync_api import TimeoutError as Unsettled

        with contextlib.suppress(Unsettled):  # the assertions below name the popup and the fault
            page.page.wait_for_function(SETTLED, timeout=3000)
        inside = page.page.evaluate(f"({INSIDE})('.leaflet-popup-content-wrapper')")
        assert inside, crossing_id
        assert page.page.evaluate(f"({CLEAR_OF_CONTROLS})()") == [], crossing_id
    page.screenshot(f"{screen}-overview-popup")
    page.close()


def test_a_link_reopens_the_same_date_and_crossing(browser, shipped_maps):
    target = (shipped_maps / "index.html").as_uri() + "#date=2021-06-01&crossing=quanhe-wonjong"
    page = Page(browser, shipped_maps / "index.html")
    page.page.goto(target)
    # Applied in the open tab first; the reload then reads the address the page keeps.
    page.page.wait_for_function("location.hash.includes('crossing=quanhe-wonjong')")
    page.page.locator(".leaflet-popup").wait_for()
    page.page.reload()
    page.page.wait_for_function("document.body.dataset.mapReady === 'true'", timeout=15000)
    page.page.locator(".leaflet-popup").wait_for()
    assert page.page.input_value("#time-date") == "2021-06-01"
    assert page.page.locator(".legend-date").inner_text() == "2021-06-01"
    popup = page.page.locator(".leaflet-popup-content")
    assert popup.locator("h4").inner_text().startswith("Quanhe")
    assert "Status on 2021-06-01" in popup.inner_text()
    page.close()


@pytest.mark.parametrize("screen", SCREENS)
def test_crossing_page_links_titles_and_follows_the_date(browser, shipped_maps, screen):
    page = Page(browser, shipped_maps / "quanhe-wonjong.html", viewport=SCREENS[screen])
    # The first view is drawn whole at once: the base layer's land covers the map when ready.
    covered = page.page.evaluate(
        "(() => { const m = document.querySelector('.folium-map').getBoundingClientRect();"
        " return Array.from(document.querySelectorAll('.leaflet-xing-base-pane path'))"
        " .some(p => { const r = p.getBoundingClientRect();"
        " return p.getAttribute('fill') !== 'none' && r.left <= m.left"
        " && r.top <= m.top + 1 && r.width >= m.width / 2 }); })()"
    )
    assert covered
    assert page.page.title().startswith("Quanhe–Wonjong")
    side = page.page.locator("#crossing-side")
    overview = side.locator("nav a.page-link")
    assert overview.get_attribute("href").startswith("index.html#date=")
    assert side.locator("#crossing-pages option").count() == 17  # the 16 others and a prompt
    # The list of pages fits the side panel, on a phone too (its names are long).
    fits = page.page.evaluate(
        "(() => { const s = document.querySelector('#crossing-pages').getBoundingClientRect();"
        " const p = document.querySelector('#crossing-side').getBoundingClientRect();"
        " return s.right <= p.right + 0.5 && s.right <= window.innerWidth; })()"
    )
    assert fits
    assert page.page.locator(".xing-ring-label").inner_text() == "3 km ring"
    # The ring's label is readable: no control of the map lies over it, on a phone too.
    covered_by = page.page.evaluate(
        "(() => { const l = document.querySelector('.xing-ring-label').getBoundingClientRect();"
        " return Array.from(document.querySelectorAll('.leaflet-control'))"
        " .filter(c => { const r = c.getBoundingClientRect(); return r.width && r.height"
        " && l.left < r.right && r.left < l.right && l.top < r.bottom && r.top < l.bottom; })"
        " .map(c => c.className); })()"
    )
    assert covered_by == []
    for day in ("2020-03-01", "2021-06-01", "2023-09-01"):
        page.page.fill("#time-date", day)
        page.page.dispatch_event("#time-date", "change")
        marker = page.status_of("quanhe-wonjong")
        text = side.locator(".status").inner_text()
        assert f"Status on {day}:" in text
        assert page.page.evaluate("crossingsState.markers['quanhe-wonjong'] !== undefined"), (
            "the crossing's marker"
        )
        evidence = side.locator("ol.history li.evidence")
        if marker != "none":  # the record the status rests on is marked in the history
            assert evidence.count() == 1
            assert evidence.get_attribute("data-record") in text
        later = side.locator("ol.history li.later b").all_inner_texts()
        assert later, "records after the day are greyed"
        shown = text.split(":", 1)[1].split(" since ")[0].strip()
        assert shown.startswith(marker.replace("_", " ")) or (marker, shown) == ("none", "unknown")
    # On a phone the side panel is below the map, full width.
    box = page.page.evaluate(
        "(() => { const r = document.getElementById('crossing-side').getBoundingClientRect();"
        " return {width: r.width, top: r.top + scrollY}; })()"
    )
    if screen == "phone":
        assert box["width"] >= 380 and box["top"] >= 0.6 * 844
    else:
        assert box["width"] < 0.4 * 1400 and box["top"] == 0
    page.page.evaluate("scrollTo(0, 0)")
    page.screenshot(f"{screen}-quanhe-wonjong")
    page.close()


def test_overview_popups_link_to_the_crossing_pages(browser, shipped_maps):
    page = Page(browser, shipped_maps / "index.html")
    page.page.evaluate("crossingsState.markers['quanhe-wonjong'].openPopup()")
    link = page.page.locator(".leaflet-popup-content a.page-link")
    assert link.get_attribute("href").startswith("quanhe-wonjong.html#date=")
    assert (shipped_maps / "quanhe-wonjong.html").exists()
    page.close()


def test_printing_shows_title_date_legend_and_scale_but_no_controls(browser, shipped_maps):
    page = Page(browser, shipped_maps / "index.html", viewport=SCREENS["phone"])
    page.page.fill("#time-date", "2021-06-01")
    page.page.dispatch_event("#time-date", "change")
    page.page.emulate_media(media="print")
    page.page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    title = page.page.locator(".xing-print-title")
    assert title.is_visible()
    assert title.inner_text() == "China–DPRK border crossings: status on 2021-06-01"
    for control in (
        ".xing-time",
        ".xing-search",
        ".leaflet-control-zoom",
        ".leaflet-control-layers",
    ):
        assert not page.page.locator(control).is_visible(), control
    for kept in (".xing-legend", ".leaflet-control-scale", ".leaflet-control-attribution"):
        assert page.page.locator(kept).first.is_visible(), kept
    page.screenshot("print-overview")
    page.page.emulate_media(media="screen")
    assert not title.is_visible()
    page.close()


def test_approximate_points_say_so(browser, shipped_maps):
    page = Page(browser, shipped_maps / "index.html")
    approximate = page.page.locator(".xing-icon.xing-approx")
    assert approximate.count() >= 2  # Nanping and Sanhe are town centres
    crossing_id = approximate.first.get_attribute("data-crossing")
    page.page.evaluate(f"crossingsState.markers['{crossing_id}'].openPopup()")
    text = page.page.locator(".leaflet-popup-content .approx").inner_text()
    assert text.startswith("Approximate: ±") and "km" in text
    page.close()


#: Pieces of hostile text: markup that would run or add elements, links that would run,
#: control and escape characters, text-reordering marks.
HOSTILE = [
    '<img src=x onerror="window.__ran=1" class="injected">',
    "<script>window.__ran=1</script>",
    '"><b class="injected">x</b>',
    "javascript:window.__ran=1",
    "</div><svg onload=window.__ran=1 class=injected>",
    "\x1b]0;title\x07",
    "\x1b[2J",
    "\u202e",
    "\x00",
    "${window.__ran=1}",
    "{{7*7}}",
]
hostile_text = st.lists(
    st.one_of(st.sampled_from(HOSTILE), st.text(max_size=8)), min_size=1, max_size=4
).map("".join)
#: The free-text fields of each layer (identifiers and vocabularies are checked elsewhere).
TEXT_FIELDS = {
    "crossings": (
        "name_en", "name_zh", "name_ko", "aliases", "cn_place", "cn_province", "kp_place",
        "kp_province", "mode_detail", "location_note", "location_source",
        "location_source_url", "alt_locations", "structure", "notes",
    ),
    "structures": (
        "name_en", "name_zh", "name_ko", "location_source", "location_source_url", "notes",
    ),
    "observations": (
        "summary", "source_name", "source_url", "source_detail", "notes", "recorded_by",
    ),
}  # fmt: skip


@settings(
    max_examples=6,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a failure is shown, not shrunk
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(texts=st.lists(hostile_text, min_size=8, max_size=8))
def test_any_text_in_any_field_shows_as_text_and_runs_nothing(
    browser, _built_store, tmp_path_factory, texts
):
    import shutil

    from geo.store.gpkg import _connect

    folder = tmp_path_factory.mktemp("hostile")
    store = folder / "s.gpkg"
    shutil.copyfile(_built_store, store)
    # Written behind the tool's back, as another program sharing the store could.
    connection = _connect(store, readonly=False)
    where = {"crossings": "id", "structures": "crossing_id", "observations": "crossing_id"}
    for n, (layer, fields) in enumerate(TEXT_FIELDS.items()):
        values = {field: texts[(n + i) % len(texts)] for i, field in enumerate(fields)}
        assignments = ", ".join(f"{field} = :{field}" for field in fields)
        connection.execute(
            f"UPDATE {layer} SET {assignments} WHERE {where[layer]} = 'friendship-bridge'",
            values,
        )
    connection.close()
    out = write_maps(store, folder / "maps")
    for name in ("index.html", "friendship-bridge.html"):
        page = Page(browser, out / name)
        icon = page.page.locator('.xing-icon[data-crossing="friendship-bridge"]')
        icon.dispatch_event("mouseover")  # the tooltip
        icon.dispatch_event("click")  # the popup
        if name == "index.html":
            page.page.fill("#crossing-search", "Friendship")
        else:
            structure = page.page.locator(".xing-structure")
            if structure.count():
                structure.first.dispatch_event("click")
        ran = page.page.evaluate("window.__ran === undefined")
        injected = page.page.evaluate(
            "document.querySelectorAll('.injected, img[src=x], svg[onload]').length"
        )
        links = page.page.evaluate(
            "Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"
            ".filter(h => !/^(https?:|file:|#)/.test(h) && h !== '')"
        )
        assert ran and injected == 0 and links == [], (name, texts, links)
        page.close()  # no dialog opened, no error


# Parts of an address as a crafted link could hold them: malformed escapes, the names of an
# object's own properties, numbers out of any range.
HASH_PARTS = st.one_of(
    st.sampled_from([
        "date=%E0%A4%A", "crossing=constructor", "crossing=__proto__", "crossing=toString",
        "view=1e308,1e308,1e308", "view=-91,0,5", "view=40,124,99", "view=NaN,1,2", "%=%",
        "date=2021-13-45", "date=99999-01-01", "crossing=quanhe-wonjong", "date=2021-06-01",
        "view=40.1,124.4,10", "=", "&&", "crossing=%00", "date=",
    ]),
    st.text(alphabet="%=&,.-_0123456789abcdefxyz", max_size=30),
)  # fmt: skip


@pytest.mark.parametrize("page_name", ["index.html", "quanhe-wonjong.html"])
@settings(
    max_examples=8,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(parts=st.lists(HASH_PARTS, min_size=1, max_size=4))
def test_the_maps_survive_any_address(browser, shipped_maps, page_name, parts):
    page = Page(browser, shipped_maps / page_name)
    page.page.goto((shipped_maps / page_name).as_uri() + "#" + "&".join(parts))
    page.page.reload()
    page.page.wait_for_function("document.body.dataset.mapReady === 'true'", timeout=15000)
    page.close()  # no error on the page, no dialog


def test_a_crafted_link_keeps_its_good_parts(browser, shipped_maps):
    page = Page(browser, shipped_maps / "index.html")
    target = "#date=%E0%A4%A&crossing=constructor&view=1e308,1,1&date=2021-06-01"
    page.page.goto((shipped_maps / "index.html").as_uri() + target)
    page.page.reload()
    page.page.wait_for_function("document.body.dataset.mapReady === 'true'", timeout=15000)
    assert page.page.input_value("#time-date") == "2021-06-01"  # the readable date applied
    assert page.page.locator(".leaflet-popup-content").count() == 0
    page.close()
