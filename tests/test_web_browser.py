"""`crossings serve` in a real browser: a record proposed, refused, fixed, accepted, and shown.

Debian's Chromium driven by Playwright at 390x844 and 1400x900, with every request
but those to the local server refused; on the GeoPackage and on PostGIS.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from geo.web.app import Settings, create_app
from tests.common import SCREENSHOTS
from tests.test_team import CLOSING, PASSWORD, team_of

pytestmark = pytest.mark.browser

SCREENS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1400, "height": 900}}


@pytest.fixture
def server(any_store: str, tmp_path: Path) -> Iterator[str]:
    """The application serving a fresh store with a team, on a free loopback port.

    As ``crossings serve`` makes it: edit marks in the store, pages drawn again by a
    process of their own.
    """
    team_of(any_store)
    app = create_app(Settings.load(any_store, secret_file=tmp_path / "secret", draw_apart=True))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    served = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    while not served.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    served.should_exit = True
    thread.join(timeout=10)


class Tab:
    """A tab on the local server; every other request is refused, and errors are kept."""

    def __init__(self, browser, base: str, viewport: dict) -> None:
        self.base = base
        self.errors: list[str] = []
        self.page = browser.new_page(viewport=viewport)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", self._console)
        self.page.route("**/*", self._route)

    def _route(self, route) -> None:
        if route.request.url.startswith(self.base + "/"):
            route.continue_()
        else:
            route.abort()

    def _console(self, message) -> None:
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.errors.append(message.text)

    def open(self, path: str) -> None:
        self.page.goto(self.base + path)

    def map_status(self, crossing_id: str) -> str:
        self.open("/")
        self.page.wait_for_selector("body[data-map-ready=true]", state="attached")
        return self.page.get_attribute(f'.xing-icon[data-crossing="{crossing_id}"]', "data-status")

    def sign_in(self, name: str, then: str) -> None:
        self.open(f"/login?next={then}")
        self.page.fill("#name", name)
        self.page.fill("#password", PASSWORD)
        self.page.click("form.web-form button[type=submit]")
        self.page.wait_for_url(self.base + then)

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def fill_record(page, fields: dict[str, str]) -> None:
    for name in ("crossing_id", "kind", "status", "source_type"):
        page.select_option(f"#{name}", fields[name])
    for name in ("date", "summary", "source_url", "source_quote"):
        page.fill(f"#{name}", fields[name])


@pytest.mark.parametrize("screen", SCREENS)
def test_a_record_proposed_fixed_and_accepted_changes_the_live_map(
    browser, server: str, any_store: str, screen: str
):
    backend = "postgis" if any_store.startswith("postgresql") else "gpkg"
    name = f"web-{screen}-{backend}"
    contributor = Tab(browser, server, SCREENS[screen])
    before = contributor.map_status("quanhe-wonjong")
    assert before != "closed"
    contributor.page.click("#web-bar summary")
    assert contributor.page.locator("#include-proposals").is_visible()
    contributor.sign_in("cora", "/records/new")
    fill_record(contributor.page, {**CLOSING, "date": "2026-11-31"})
    contributor.page.click("#record-form button[type=submit]")
    error = contributor.page.locator("#date-error")
    assert "has no day 31" in error.inner_text() or "2026-11-31" in error.inner_text()
    assert contributor.page.input_value("#summary") == CLOSING["summary"]  # kept
    assert contributor.page.locator("#date ~ #date-error").count() == 1  # beside its field
    assert error.is_visible()
    contributor.shot(f"{name}-refused")
    contributor.page.fill("#date", CLOSING["date"])
    contributor.page.click("#record-form button[type=submit]")
    contributor.page.wait_for_selector("#proposal-state")
    assert contributor.page.inner_text("#proposal-state").startswith("Proposed")
    assert contributor.map_status("quanhe-wonjong") == before  # a proposal sets no status
    contributor.page.click("#web-bar summary")
    contributor.page.check("#include-proposals")
    contributor.page.wait_for_selector("[data-proposal]", state="attached")
    contributor.shot(f"{name}-proposals")

    reviewer = Tab(browser, server, SCREENS[screen])
    reviewer.sign_in("rev", "/review")
    reviewer.shot(f"{name}-review")
    reviewer.page.click("button.web-accept")
    reviewer.page.wait_for_selector("#proposal-state")
    assert reviewer.page.inner_text("#proposal-state").startswith("Accepted")
    assert reviewer.map_status("quanhe-wonjong") == "closed"
    reviewer.shot(f"{name}-map")
    reviewer.open("/activity/crossing/quanhe-wonjong")
    log = reviewer.page.inner_text("#log")
    assert "rev proposal accepted" in log and "cora record proposed" in log
    assert "→ closed" in log
    reviewer.shot(f"{name}-activity")
    assert contributor.errors == [] and reviewer.errors == []
