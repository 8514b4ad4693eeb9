"""Shared fixtures: the tiny seed in tests/data/seed and a fresh store per test.

``any_store`` runs a test once on each backend: a GeoPackage file, and a
PostGIS database on a throwaway PostgreSQL server that the tests start on a
loopback port (tests/postgres.py) and stop at the end of the session.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from geo.build import init_inventory

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def _built_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("built") / "crossings.gpkg"
    init_inventory(path, seed=DATA / "seed")
    return path


@pytest.fixture
def store(_built_store: Path, tmp_path: Path) -> Path:
    """A fresh store built from tests/data/seed, private to the test."""
    path = tmp_path / "crossings.gpkg"
    shutil.copyfile(_built_store, path)
    return path


@pytest.fixture(scope="session")
def shipped_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store built from the shipped seed in layers/seed (read-only use)."""
    path = tmp_path_factory.mktemp("shipped") / "crossings.gpkg"
    init_inventory(path, seed=ROOT / "layers" / "seed")
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    from tests.common import CHROMIUM

    assert Path(CHROMIUM).exists(), "Debian's chromium is not installed (make test installs it)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


def file_bytes(path: Path) -> bytes:
    return path.read_bytes()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    """A PostgreSQL server with PostGIS for this session (started here, never mocked)."""
    sys.path.insert(0, str(Path(__file__).parent))
    import postgres

    with postgres.cluster() as server:
        yield server


@pytest.fixture(scope="session")
def _built_database(postgres_server) -> str:
    """A database built from tests/data/seed once: each test gets a copy of it."""
    from geo.store.postgis import close_idle_connections

    url = postgres_server.database()
    init_inventory(url, seed=DATA / "seed")
    close_idle_connections()  # a template must have no connection when it is copied
    return url.rsplit("/", 1)[1]


@pytest.fixture
def database(postgres_server, _built_database: str) -> str:
    """The URL of a fresh PostGIS store built from tests/data/seed, private to the test."""
    return postgres_server.database(template=_built_database)


@pytest.fixture(params=["gpkg", "postgis"])
def any_store(request: pytest.FixtureRequest) -> str:
    """A fresh store built from tests/data/seed, on each backend in turn: a path or a URL."""
    if request.param == "gpkg":
        return str(request.getfixturevalue("store"))
    return str(request.getfixturevalue("database"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by what it needs, from what it uses, so no mark can be forgotten.

    A test that runs GDAL's validator is ``gdal``; one that uses the PostgreSQL
    server (through any fixture) is ``postgis``. ``make test-fast`` leaves these out.
    """
    import inspect

    for item in items:
        function = getattr(item, "function", None)
        if function is not None and "run_gdal_validator(" in inspect.getsource(function):
            item.add_marker(pytest.mark.gdal)
        callspec = getattr(item, "callspec", None)
        on_postgis = callspec is not None and callspec.params.get("any_store") == "postgis"
        if on_postgis or "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgis)
