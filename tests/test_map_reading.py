"""The maps as an analyst reads and cites them: typed days, steps, links, names a screen reader
speaks, an accessibility check, printing, the trade chart, and crossing pages.

Debian's Chromium driven by Playwright with the network blocked, at 390x844 and 1400x900.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from geo.cli import cli
from tests.common import Page

pytestmark = pytest.mark.browser

SCREENS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1400, "height": 900}}
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="module")
def maps(shipped_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("maps")
    result = CliRunner().invoke(
        cli, ["map", "--store", str(shipped_store), "--out", str(out), "--as-of", "2026-12-01"]
    )
    assert result.exit_code == 0, result.output
    return out


def statuses(store: Path, day: str) -> dict[str, str]:
    """What `crossings status` says of every crossing on a day (the maps must agree)."""
    got = CliRunner().invoke(
        cli, ["status", "--store", str(store), "--as-of", day, "--format", "json"]
    )
    assert got.exit_code == 0, got.output
    return {row["id"]: row["status"] or "none" for row in json.loads(got.output)}


def status_texts(store: Path, day: str) -> dict[str, str]:
    got = CliRunner().invoke(
        cli, ["status", "--store", str(store), "--as-of", day, "--format", "json"]
    )
    return {row["id"]: row["status_text"] for row in json.loads(got.output)}


def shown(page: Page) -> dict[str, str]:
    icons = page.page.locator(".xing-icon")
    return {
        icons.nth(i).get_attribute("data-crossing"): icons.nth(i).get_attribute("data-status")
        for i in range(icons.count())
    }


def agrees(page: Page, store: Path, day: str) -> None:
    page.page.wait_for_function(f"document.querySelector('#time-date').value === '{day}'")
    expected = statuses(store, day)
    assert shown(page) == {c: expected[c] for c in shown(page)}


def boxes_overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


@pytest.mark.parametrize("screen", SCREENS)
def test_a_day_typed_or_stepped_shows_the_statuses_of_that_day(
    browser, maps, shipped_store, screen
):
    page = Page(browser, maps / "index.html", viewport=SCREENS[screen])
    field = page.page.locator("#time-date")
    field.fill("")
    field.press_sequentially("2021-06-01")  # typed key by key: never rewritten on the way
    assert field.input_value() == "2021-06-01"
    agrees(page, shipped_store, "2021-06-01")
    # A month-first or day-first day is refused with a message, and left as typed.
    field.fill("")
    field.press_sequentially("06/01/2021")
    field.press("Enter")
    message = page.page.locator("#time-message")
    assert "2021-06-01 or 2021-01-06" in message.inner_text()
    assert "YYYY-MM-DD" in message.inner_text()
    assert field.input_value() == "06/01/2021"
    assert page.page.locator("#time-slider").input_value() == str(
        page.page.evaluate("Date.UTC(2021, 5, 1) / 86400000")
    )
    # A day past the map's range is refused, and says why.
    field.fill("2999-01-01")
    field.press("Enter")
    assert "2999-01-01 is after" in message.inner_text()
    # Buttons and keys step: a year, a month, a day.
    field.fill("2021-06-01")
    field.press("Enter")
    page.page.click('button[aria-label="A year later"]')
    agrees(page, shipped_store, "2022-06-01")
    assert message.inner_text() == ""
    page.page.click('button[aria-label="A month earlier"]')
    agrees(page, shipped_store, "2022-05-01")
    field.focus()
    field.press("ArrowDown")
    agrees(page, shipped_store, "2022-04-30")
    field.press("PageDown")
    agrees(page, shipped_store, "2022-03-30")
    page.close()


def test_the_slider_spans_the_status_records_and_the_field_reaches_further(browser, maps):
    page = Page(browser, maps / "index.html")
    slider = page.page.locator("#time-slider")
    first_status = page.page.evaluate(
        "JSON.parse(document.getElementById('crossings-data').textContent).firstStatus"
    )
    start = page.page.evaluate(
        "JSON.parse(document.getElementById('crossings-data').textContent).start"
    )
    assert first_status > start  # the slider does not spend its width on 1945-2000
    day = page.page.evaluate(f"Date.parse('{first_status}') / 86400000")
    assert float(slider.get_attribute("min")) == day
    page.page.fill("#time-date", start)
    page.page.press("#time-date", "Enter")
    page.page.wait_for_function(
        f"document.querySelector('#time-date').value === '{start}' && "
        "document.querySelector('#time-message').textContent === ''"
    )
    page.close()


def test_an_address_edited_in_an_open_tab_is_applied(browser, maps, shipped_store):
    page = Page(browser, maps / "index.html")
    page.page.evaluate("location.hash = '#date=2020-03-01&crossing=quanhe-wonjong'")
    agrees(page, shipped_store, "2020-03-01")
    popup = page.page.locator(".leaflet-popup-content .xing-popup h4")
    popup.wait_for()
    assert popup.inner_text().startswith("Quanhe")
    page.close()


@pytest.mark.parametrize("screen", SCREENS)
def test_every_marker_is_named_for_a_screen_reader(browser, maps, shipped_store, screen):
    page = Page(browser, maps / "index.html", viewport=SCREENS[screen])
    names = page.page.evaluate(
        "Object.values(crossingsState.markers).map(m => m.getElement().getAttribute('aria-label'))"
    )
    data = page.page.evaluate(
        "JSON.parse(document.getElementById('crossings-data').textContent).crossings"
    )
    mapped = [c for c in data if c["lat"] is not None]
    assert len(names) == len(mapped)
    expected = status_texts(shipped_store, "2026-12-01")
    for crossing in mapped:
        label = next(n for n in names if n.startswith(crossing["name_en"] + ":"))
        assert label.split(": ", 1)[1].startswith(expected[crossing["id"]] or "status unknown")
    # The glyphs inside are not read out ("×", "B").
    assert page.page.locator(".xing-glyph[aria-hidden=true]").count() == len(mapped)
    assert page.page.evaluate("document.documentElement.lang") == "en"
    assert page.page.locator("label[for=time-date]").count() == 1
    page.close()


def axe_findings(page: Page) -> list[str]:
    digest = hashlib.sha256(AXE.read_bytes()).hexdigest()
    pinned = (AXE.parent / "SHA256SUMS").read_text().split()[0]
    assert digest == pinned, "tests/vendor/axe-core/axe.min.js is not the pinned file"
    page.page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    found = page.page.evaluate("axe.run(document).then(r => r.violations)")
    return [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("page_name", ["index.html", "quanhe-wonjong.html"])
def test_an_accessibility_checker_finds_no_serious_issue(browser, maps, screen, page_name):
    page = Page(browser, maps / page_name, viewport=SCREENS[screen])
    assert axe_findings(page) == []
    page.close()


@pytest.mark.parametrize("screen", SCREENS)
def test_escape_closes_a_popup_and_gives_the_focus_back(browser, maps, screen):
    page = Page(browser, maps / "index.html", viewport=SCREENS[screen])
    marker = page.page.locator('.xing-icon[data-crossing="friendship-bridge"]')
    marker.click()
    page.page.locator(".leaflet-popup").wait_for()
    page.page.keyboard.press("Escape")
    page.page.locator(".leaflet-popup").wait_for(state="detached")
    focused = page.page.evaluate("document.activeElement.getAttribute('aria-label') || ''")
    assert focused.startswith("Sino-Korean Friendship Bridge")
    page.close()


def test_search_results_are_chosen_with_the_keyboard(browser, maps):
    page = Page(browser, maps / "index.html")
    page.page.fill("#crossing-search", "Sinuiju")
    page.page.press("#crossing-search", "ArrowDown")
    first = page.page.locator("#crossing-search-results li").first
    assert first.get_attribute("aria-selected") == "true"
    chosen = first.get_attribute("data-crossing")
    page.page.press("#crossing-search", "Enter")
    page.page.locator(".leaflet-popup-content .xing-popup").wait_for()
    assert page.page.evaluate("location.hash").find(f"crossing={chosen}") != -1
    page.close()


def test_choosing_a_crossing_without_a_point_opens_its_page_which_says_why(browser, maps):
    page = Page(browser, maps / "index.html")
    data = page.page.evaluate(
        "JSON.parse(document.getElementById('crossings-data').textContent).crossings"
    )
    unmapped = next(c for c in data if c["lat"] is None)
    page.page.fill("#crossing-search", unmapped["name_en"])
    page.page.press("#crossing-search", "ArrowDown")
    page.page.press("#crossing-search", "Enter")
    page.page.wait_for_url(re.compile(re.escape(unmapped["id"]) + r"\.html"))
    page.page.wait_for_function("document.body.dataset.mapReady === 'true'")
    note = page.page.locator("#no-point")
    assert note.is_visible()
    assert unmapped["note"] in note.inner_text()
    page.close()


@pytest.mark.parametrize("screen", SCREENS)
def test_the_first_view_keeps_every_marker_clear_of_the_controls(browser, maps, screen):
    page = Page(browser, maps / "index.html", viewport=SCREENS[screen])
    controls = page.page.locator(".leaflet-control")
    boxes = [controls.nth(i).bounding_box() for i in range(controls.count())]
    icons = page.page.locator(".xing-icon")
    for i in range(icons.count()):
        icon = icons.nth(i).bounding_box()
        assert not any(b and boxes_overlap(icon, b) for b in boxes), icons.nth(i).get_attribute(
            "data-crossing"
        )
    page.close()


@pytest.mark.parametrize("screen", SCREENS)
def test_a_popup_shows_its_evidence_at_once_and_a_tap_no_tooltip(browser, maps, screen):
    page = Page(browser, maps / "index.html", viewport=SCREENS[screen])
    page.page.locator('.xing-icon[data-crossing="friendship-bridge"]').click()
    content = page.page.locator(".leaflet-popup-content .xing-popup")
    content.wait_for()
    evidence = content.locator(".status .evidence").bounding_box()
    frame = content.bounding_box()
    assert evidence["y"] + evidence["height"] <= frame["y"] + frame["height"] + 1
    assert page.page.locator(".leaflet-tooltip:visible").count() == 0
    page.close()


@pytest.mark.parametrize("screen", SCREENS)
def test_a_shared_link_opens_its_popup_clear_of_the_controls(browser, maps, screen):
    page = Page(browser, maps / "index.html", viewport=SCREENS[screen])
    page.page.goto((maps / "index.html").as_uri() + "#crossing=friendship-bridge")
    page.page.wait_for_function("location.hash.includes('crossing=friendship-bridge')")
    page.page.reload()
    page.page.wait_for_function("document.body.dataset.mapReady === 'true'")
    popup = page.page.locator(".leaflet-popup-content-wrapper")
    popup.wait_for()
    page.still(".leaflet-popup-content-wrapper")  # the pan that clears the controls has ended
    box = popup.bounding_box()
    controls = page.page.locator(".leaflet-top .leaflet-control")
    for i in range(controls.count()):
        other = controls.nth(i).bounding_box()
        assert not (other and boxes_overlap(box, other)), controls.nth(i).get_attribute("class")
    page.close()


def pdf_text(data: bytes) -> str:
    """The PDF's text without white space: lines wrap, and extraction spaces letters apart."""
    from pypdf import PdfReader

    return squeeze(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_overview_prints_every_crossing_with_its_status(browser, maps, shipped_store):
    page = Page(browser, maps / "index.html")
    page.page.locator('.xing-icon[data-crossing="friendship-bridge"]').click()
    page.page.emulate_media(media="print")
    text = pdf_text(page.page.pdf(format="A4"))
    data = page.page.evaluate(
        "JSON.parse(document.getElementById('crossings-data').textContent).crossings"
    )
    for crossing in data:
        assert squeeze(crossing["name_en"]) in text, crossing["name_en"]
    # The open popup prints too, with its evidence.
    assert "Evidence:" in text
    page.close()


def test_a_crossing_page_prints_its_whole_history(browser, maps):
    page = Page(browser, maps / "friendship-bridge.html")
    page.page.emulate_media(media="print")
    pdf = page.page.pdf(format="A4")
    text = pdf_text(pdf)
    items = page.page.locator(".xing-side .history li")
    assert items.count() > 6
    for i in range(items.count()):
        record = items.nth(i).locator("b").inner_text()
        summary = items.nth(i).inner_text().split("] ", 1)[1][:25]
        assert squeeze(record) in text and squeeze(summary) in text, summary
    from pypdf import PdfReader

    assert len(PdfReader(io.BytesIO(pdf)).pages) > 1
    page.close()


@pytest.mark.parametrize("screen", SCREENS)
def test_the_trade_chart_has_axes_gaps_and_its_sources(browser, maps, screen):
    page = Page(browser, maps / "index.html", viewport=SCREENS[screen])
    page.page.click("#trade-chart-button")
    chart = page.page.locator("#trade-chart")
    assert chart.is_visible()
    text = chart.inner_text()
    assert "US$ bn" in text and "US$ M" in text
    assert chart.locator('rect.gap[data-period="2015"]').count() == 1
    rows = chart.locator(".xing-trade-sources tbody tr")
    bars = chart.locator("rect[data-period]:not(.gap)")
    assert rows.count() == bars.count() > 15
    # No text in the chart under 11 px, as the screen shows it.
    smallest = page.page.evaluate(
        "Math.min(...[...document.querySelectorAll('#trade-chart svg text')]"
        ".map(t => t.getBoundingClientRect().height))"
    )
    assert smallest >= 11
    # Its own button closes it (on a phone it covers the map's); a popup opening closes it.
    page.page.click("#trade-chart-close")
    assert not chart.is_visible()
    page.page.click("#trade-chart-button")
    page.page.evaluate("crossingsState.markers['friendship-bridge'].openPopup()")
    assert not chart.is_visible()
    page.close()


def test_quanhe_draws_both_bridges_apart(browser, maps):
    page = Page(browser, maps / "quanhe-wonjong.html")
    marks = page.page.locator(".xing-structure")
    assert {marks.nth(i).get_attribute("data-structure") for i in range(marks.count())} == {
        "quanhe-old-bridge",
        "quanhe-new-bridge",
    }
    a, b = marks.nth(0).bounding_box(), marks.nth(1).bounding_box()
    assert not boxes_overlap(a, b)
    page.close()


def test_an_approximate_point_gets_a_ring_of_its_precision(browser, maps):
    page = Page(browser, maps / "index.html")
    data = page.page.evaluate(
        "JSON.parse(document.getElementById('crossings-data').textContent).crossings"
    )
    page.close()
    rough = next(c for c in data if c["precision"] and c["precision"] > 1000 and c["lat"])
    page = Page(browser, maps / f"{rough['id']}.html")
    label = page.page.locator(".xing-ring-label")
    assert label.count() == 1
    assert label.inner_text().startswith(f"{rough['precision'] / 1000:g} km")
    page.close()


def test_no_request_of_a_page_fails_but_the_network_tiles_which_say_so(browser, maps):
    for name in ("index.html", "quanhe-wonjong.html"):
        page = Page(browser, maps / name)
        page.page.wait_for_function("!document.querySelector('.xing-offline').hidden")
        assert page.failed == []
        assert all(re.search(r"tile|arcgisonline", url) for url in page.blocked), page.blocked
        page.close()
