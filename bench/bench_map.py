"""`crossings map` of stores of 100,000 and 1,000,000 records (10,000,000 with --large).

Run: .venv/bin/python bench/bench_map.py [--large] [--explore-up-to 100000]

Prints, for each size, in one run: the command in a fresh process (wall time,
peak memory), the largest file it writes and the overview's size, and the time
until Debian's Chromium has drawn the overview at 1400x900 and at 390x844
(network blocked, scripts served from local copies; the median of five loads,
each in a new page, with the slowest beside it); beside it, geopandas'
usual way (``read_file`` of the layer + ``explore()``), up to the size given
(its page holds every record: 90 MB at 100,000 records, and grows with the store);
then the growth from size to size.
"""

from __future__ import annotations

import argparse
import mimetypes
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import cold_process, shared_store

from geo.assets import local_path

CHROMIUM = "/usr/bin/chromium"
SCREENS = {"1400x900": (1400, 900), "390x844": (390, 844)}
OURS_READY = "document.body.dataset.mapReady === 'true'"
EXPLORE_READY = "document.querySelectorAll('.leaflet-marker-icon, path').length > 0"


def ours(store: Path, out: Path) -> dict[str, float]:
    """The command a user runs, in a fresh process: wall seconds, peak MB, file sizes."""
    crossings = str(Path(sys.executable).parent / "crossings")
    wall, peak = cold_process([crossings, "map", "--store", str(store), "--out", str(out), "-q"])
    sizes = {page.name: page.stat().st_size for page in out.glob("*.html")}
    return {
        "build": wall,
        "memory": peak,
        "largest": max(sizes.values()) / 1e6,
        "overview": sizes["index.html"] / 1e6,
    }


#: geopandas' usual way, from the store to the page, run as a fresh process as ours is.
EXPLORE = """
import sys
import geopandas as gpd
from geo.render import _use_pinned_assets
fmap = gpd.read_file(sys.argv[1], layer="observations").explore()
_use_pinned_assets(fmap, ["leaflet", "jquery"], ["leaflet_css"])  # served locally, as ours
open(sys.argv[2], "w", encoding="utf-8").write(fmap.get_root().render())
"""


def explore(store: Path, out: Path) -> dict[str, float]:
    wall, peak = cold_process([sys.executable, "-c", EXPLORE, str(store), str(out)])
    size = out.stat().st_size / 1e6
    return {"build": wall, "memory": peak, "largest": size, "overview": size}


#: Loads of a page timed: a single load swings by a few tenths of a second from run to run.
LOADS = 5


def ready_seconds(
    browser, page_path: Path, ready: str, screen: tuple[int, int]
) -> tuple[float, float]:
    """The median and the slowest time of LOADS loads, each in a new page."""
    times = sorted(load_seconds(browser, page_path, ready, screen) for _ in range(LOADS))
    return statistics.median(times), times[-1]


def load_seconds(browser, page_path: Path, ready: str, screen: tuple[int, int]) -> float:
    page = browser.new_page(viewport={"width": screen[0], "height": screen[1]})

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
    page.goto(page_path.as_uri(), timeout=600_000)
    page.wait_for_function(ready, timeout=600_000)
    seconds = time.perf_counter() - start
    page.close()
    return seconds


def measure(browser, records: int, explore_up_to: int, tmp: Path) -> dict[str, dict[str, float]]:
    store = shared_store(records)
    folder = tmp / f"ours-{records}"
    rows = {"ours: crossings map": ours(store, folder)}
    for name, screen in SCREENS.items():
        rows["ours: crossings map"][name], rows["ours: crossings map"][f"{name} slowest"] = (
            ready_seconds(browser, folder / "index.html", OURS_READY, screen)
        )
    if records <= explore_up_to:
        page = tmp / f"explore-{records}.html"
        rows["geopandas explore()"] = explore(store, page)
        for name, screen in SCREENS.items():
            rows["geopandas explore()"][name], rows["geopandas explore()"][f"{name} slowest"] = (
                ready_seconds(browser, page, EXPLORE_READY, screen)
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also 10,000,000 (builds it once)")
    parser.add_argument(
        "--explore-up-to",
        type=int,
        default=100_000,
        help="the largest store geopandas explore() is run on (default 100,000: its page "
        "holds every record, 90 MB at 100,000)",
    )
    args = parser.parse_args()
    sizes = [100_000, 1_000_000] + ([10_000_000] if args.large else [])
    from playwright.sync_api import sync_playwright

    results: dict[int, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        for records in sizes:
            results[records] = measure(browser, records, args.explore_up_to, Path(tmp))
        browser.close()
    header = f"{'records':>11}  {'':22}{'build':>8}{'memory':>9}{'largest':>9}{'overview':>10}"
    print(header + "".join(f"{name + ' (slowest)':>21}" for name in SCREENS))
    for records, rows in results.items():
        for way, row in rows.items():
            print(
                f"{records:>11,}  {way:22}{row['build']:>7.1f}s{row['memory']:>7.0f}MB"
                f"{row['largest']:>7.2f}MB{row['overview']:>8.2f}MB"
                + "".join(
                    f"{row[name]:>12.2f}s ({row[name + ' slowest']:.2f}s)" for name in SCREENS
                )
            )
    ours_rows = [rows["ours: crossings map"] for rows in results.values()]
    for n in range(1, len(sizes)):
        a, b = ours_rows[n - 1], ours_rows[n]
        print(
            f"growth {sizes[n - 1]:,} -> {sizes[n]:,}: build x{b['build'] / a['build']:.2f}, "
            f"memory x{b['memory'] / a['memory']:.2f}, "
            f"overview x{b['overview'] / a['overview']:.2f}"
        )


if __name__ == "__main__":
    main()
