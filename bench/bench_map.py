"""The overview map of a store with 100,000 observations: ours beside geopandas ``explore()``.

Run: .venv/bin/python bench/bench_map.py [--records 100000]

Prints, for each way, the time to build the page, its size, and the time until
Debian's Chromium has drawn it (network blocked, scripts served from local
copies), in one run.
"""

from __future__ import annotations

import argparse
import mimetypes
import tempfile
import time
from pathlib import Path

from common import shared_store

from geo.assets import local_path
from geo.publish import overview_map
from geo.render import _use_pinned_assets

CHROMIUM = "/usr/bin/chromium"


def ours(store: Path, out: Path) -> tuple[float, int]:
    start = time.perf_counter()
    html = overview_map(store).get_root().render()
    out.write_text(html, encoding="utf-8")
    return time.perf_counter() - start, out.stat().st_size


def explore(store: Path, out: Path) -> tuple[float, int]:
    import geopandas as gpd

    start = time.perf_counter()  # from the store to the page, as for ours
    frame = gpd.read_file(store, layer="observations")
    fmap = frame.explore()
    _use_pinned_assets(fmap, ["leaflet", "jquery"], ["leaflet_css"])  # served locally, as ours
    html = fmap.get_root().render()
    out.write_text(html, encoding="utf-8")
    return time.perf_counter() - start, out.stat().st_size


def load_seconds(browser, page_path: Path, ready: str) -> float:
    page = browser.new_page(viewport={"width": 1400, "height": 900})

    def route(request_route) -> None:
        url = request_route.request.url
        path = None if url.startswith(("file:", "data:")) else local_path(url)
        if url.startswith(("file:", "data:")):
            request_route.continue_()
        elif path is None:
            request_route.abort()
        else:
            kind = mimetypes.guess_type(path.name)[0] or "text/plain"
            request_route.fulfill(
                status=200, body=path.read_bytes(), headers={"Content-Type": kind}
            )

    page.route("**/*", route)
    start = time.perf_counter()
    page.goto(page_path.as_uri(), timeout=300_000)
    page.wait_for_function(ready, timeout=300_000)
    seconds = time.perf_counter() - start
    page.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    store = shared_store(args.records)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        rows = []
        ours_page, explore_page = Path(tmp) / "ours.html", Path(tmp) / "explore.html"
        build, size = ours(store, ours_page)
        ready = load_seconds(browser, ours_page, "document.body.dataset.mapReady === 'true'")
        rows.append(("ours: crossings map", build, size, ready))
        build, size = explore(store, explore_page)
        ready = load_seconds(
            browser,
            explore_page,
            "document.querySelectorAll('.leaflet-marker-icon, path').length > 0",
        )
        rows.append(("geopandas explore()", build, size, ready))
        browser.close()
    print(f"{'':22}{'build':>10}{'size':>12}{'Chromium ready':>17}")
    for name, build, size, ready in rows:
        print(f"{name:22}{build:>9.1f}s{size / 1e6:>10.1f}MB{ready:>16.1f}s")


if __name__ == "__main__":
    main()
