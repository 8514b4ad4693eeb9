"""What several test modules share: named positions, hostile texts, and helpers."""

import importlib.util
import mimetypes
import subprocess
from pathlib import Path

from geo.assets import local_path
from geo.model import LonLat

FRIENDSHIP = LonLat(124.39250, 40.11500)
NEW_YALU = LonLat(124.36944, 40.03556)
QUANHE = LonLat(130.523456, 42.568379)
# About 24.9 km and 25.1 km due north of the Friendship Bridge (1° lat ≈ 111.0 km here).
JUST_INSIDE_25KM = LonLat(124.39250, 40.11500 + 24.9 / 111.03)
JUST_OUTSIDE_25KM = LonLat(124.39250, 40.11500 + 25.1 / 111.03)
NULL_ISLAND = LonLat(0.0, 0.0)
NEAR_POLE = LonLat(124.0, 89.9)
ANTIMERIDIAN = LonLat(180.0, 40.0)

#: Texts that must show as text on a map and run nothing (folium issues #850, #1640).
PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "`); alert(1); (`",
    "${alert(1)}",
    "\\x3cscript\\x3ealert(1)\\x3c/script\\x3e",
    "</script><script>alert(1)</script>",
    "Kim's bridge",
    "{{ 7 * 7 }} {% if true %}",
]


def add_payloads(store, crossing_id: str = "quanhe-wonjong") -> None:
    """Add one observation per payload, as summary and source name, with its own point."""
    from geo.record import add_observation

    for number, payload in enumerate(PAYLOADS):
        add_observation(
            store,
            {
                "crossing_id": crossing_id,
                "date": "2025-06",
                "kind": "infrastructure",
                "summary": payload,
                "source_name": payload,
                "source_url": f"https://example.org/{number}",
                "source_type": "news_report",
                "lat": "42.569",
                "lon": "130.524",
            },
        )


def contents(store) -> object:
    """Everything a store holds, to compare before and after a command: the file's bytes,
    or every row of every table of a database."""
    from pathlib import Path

    from geo.store import is_database

    if not is_database(store):
        return Path(store).read_bytes()
    import psycopg

    with psycopg.connect(str(store)) as connection:
        return {
            table: connection.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("crossings", "observations", "structures", "trade", "crossings_meta")
        }


def execute(store, statement: str) -> None:
    """Change a store behind the tool's back, as another program sharing it could."""
    from geo.store import is_database

    if is_database(store):
        import psycopg

        with psycopg.connect(str(store), autocommit=True) as connection:
            connection.execute(statement)
        return
    from pathlib import Path

    from geo.store.gpkg import _connect  # registers the functions GDAL's triggers call

    connection = _connect(Path(store), readonly=False)
    try:
        connection.execute(statement)
    finally:
        connection.close()


# -- GDAL's own GeoPackage validator ------------------------------------------

SYSTEM_PYTHON = Path("/usr/bin/python3")


def _validator() -> Path:
    spec = importlib.util.find_spec("osgeo_utils")
    assert spec is not None and spec.submodule_search_locations, "gdal-utils is not installed"
    return Path(next(iter(spec.submodule_search_locations))) / "samples" / "validate_gpkg.py"


def run_gdal_validator(path: Path) -> subprocess.CompletedProcess[str]:
    """Run GDAL's validate_gpkg.py (gdal-utils) under Debian's python3-gdal."""
    return subprocess.run(
        [str(SYSTEM_PYTHON), str(_validator()), str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _shipped_points() -> tuple[int, int]:
    import csv

    path = Path(__file__).parent.parent / "layers" / "seed" / "crossings.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    mapped = sum(1 for row in rows if row["lat"])
    return mapped, len(rows) - mapped


#: How many crossings of the shipped seed have a point, and how many have none.
SHIPPED_MAPPED, SHIPPED_UNMAPPED = _shipped_points()


# -- the maps in a real browser ----------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parent / "output" / "screenshots"


class Page:
    """A page with the network blocked, its errors and dialogs recorded."""

    def __init__(
        self, browser, path: Path, *, serve_local: bool = True, viewport: dict | None = None
    ) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.blocked: list[str] = []
        #: Requests that failed other than those refused here (the network): a missing file.
        self.failed: list[str] = []
        self.page = browser.new_page(viewport=viewport or {"width": 1400, "height": 900})
        self.page.on("requestfailed", self._failed)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", self._console)
        self.page.on("dialog", self._dialog)
        self.page.route("**/*", lambda route: self._route(route, serve_local))
        self.page.goto(path.as_uri())
        self.page.wait_for_function("document.body.dataset.mapReady === 'true'", timeout=15000)
        self.settle()

    def settle(self) -> None:
        """Wait until nothing on the page moves: markers may still glide when the map is ready
        (the cluster plugin's transition), and a test that measures them must not catch them
        halfway."""
        self.page.wait_for_function("document.getAnimations().length === 0", timeout=5000)

    def still(self, selector: str) -> None:
        """Wait until an element stays where it is for 100 ms: Leaflet pans the map (a popup
        opening pans it clear of the controls) frame by frame, with no CSS animation that
        settle() could see."""
        self.page.wait_for_function(
            """selector => {
                const box = document.querySelector(selector).getBoundingClientRect();
                const here = [box.x, box.y, box.width, box.height].join();
                const was = window.__stillAt;
                window.__stillAt = here;
                return was === here;
            }""",
            arg=selector,
            polling=100,
            timeout=5000,
        )

    def _console(self, message) -> None:
        # Refused tile requests are expected here; any other console error is a failure.
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.errors.append(message.text)

    def _failed(self, request) -> None:
        if request.url not in self.blocked:
            self.failed.append(request.url)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route, serve_local: bool) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
            return
        path = local_path(url) if serve_local else None
        if path is None:
            self.blocked.append(url)
            route.abort()
            return
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        route.fulfill(status=200, body=path.read_bytes(), headers={"Content-Type": kind})

    def status_of(self, crossing_id: str) -> str:
        return self.page.get_attribute(f'.xing-icon[data-crossing="{crossing_id}"]', "data-status")

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))

    def close(self) -> None:
        assert self.errors == [], self.errors
        assert self.failed == [], self.failed
        assert self.dialogs == [], self.dialogs
        self.page.close()
