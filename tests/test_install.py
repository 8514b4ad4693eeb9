"""The package as a user installs it: a wheel, a fresh environment, no repository around."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.common import SHIPPED_MAPPED, Page

ROOT = Path(__file__).parent.parent


def run(*args: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
    assert "Traceback" not in done.stderr
    return done.stdout


@pytest.mark.slow
@pytest.mark.browser
def test_the_wheel_works_in_a_fresh_environment_anywhere(browser, tmp_path: Path):
    dist = tmp_path / "dist"
    python = sys.executable
    env = {k: v for k, v in os.environ.items() if k not in ("CROSSINGS_STORE", "XDG_DATA_HOME")}
    run(python, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT), cwd=tmp_path, env=env)
    (wheel,) = dist.glob("*.whl")
    run(python, "-m", "twine", "check", str(wheel), cwd=tmp_path, env=env)
    names = zipfile.ZipFile(wheel).namelist()
    assert "geo/seed/observations.csv" in names and "geo/static/basemap.geojson" in names
    assert "geo/vendor/leaflet@1.9.4/dist/leaflet.js" in names
    assert "geo/vendor/leaflet@1.9.4/LICENSE" in names and "geo/vendor/SHA256SUMS" in names
    assert not any(name.startswith(("tests/", "layers/")) for name in names)

    venv = tmp_path / "venv"
    run(python, "-m", "venv", str(venv), cwd=tmp_path, env=env)
    run(str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel), cwd=tmp_path,
        env=env)  # fmt: skip
    installed = run(str(venv / "bin" / "python"), "-m", "pip", "list", cwd=tmp_path, env=env)
    for tool in ("pytest", "playwright", "mypy", "ruff", "hypothesis", "psycopg"):
        assert f"\n{tool} " not in installed.lower(), f"{tool} is not a runtime dependency"

    home = tmp_path / "home"
    work = tmp_path / "somewhere"  # no repository around
    work.mkdir()
    user = {**env, "HOME": str(home), "PATH": f"{venv / 'bin'}:{env['PATH']}"}
    crossings = str(venv / "bin" / "crossings")
    made = json.loads(run(crossings, "init", cwd=work, env=user))
    # A database needs the postgis extra, and the command says so in one line.
    refused = subprocess.run(
        [crossings, "list", "--store", "postgresql://desk:s3cret@127.0.0.1:9/crossings"],
        cwd=work, env=user, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.endswith("Fix: pip install 'crossings[postgis]'\n")
    assert "s3cret" not in refused.stderr and "Traceback" not in refused.stderr
    assert made["store"] == str(home / ".local" / "share" / "crossings" / "crossings.gpkg")
    assert made["crossings"] == 17 and made["observations"] >= 139
    added = run(
        crossings, "observe", "quanhe-wonjong", "--on", "2025-06", "--kind", "traffic",
        "--summary", "Trucks queued at Quanhe customs", "--source-url",
        "https://example.org/quanhe", "--source-type", "ground_observation", cwd=work, env=user,
    )  # fmt: skip
    record = json.loads(added)["id"]
    assert "quanhe-wonjong" in run(crossings, "list", cwd=work, env=user)
    assert record in run(crossings, "show", "quanhe-wonjong", cwd=work, env=user)
    run(crossings, "map", "--out", "maps", cwd=work, env=user)
    exported = json.loads(
        run(crossings, "export", "--format", "csv", "--out", "o.csv", cwd=work, env=user)
    )
    assert exported["rows"] == made["observations"] + 1
    trade = json.loads(run(crossings, "trade", "--format", "json", cwd=work, env=user))
    assert len(trade) == made["trade"]
    # The map works offline: everything it loads is inside the page.
    page = Page(browser, work / "maps" / "index.html", serve_local=False)
    assert page.page.locator(".xing-icon").count() == SHIPPED_MAPPED
    assert all("cdn.jsdelivr.net" not in url for url in page.blocked)
    page.close()


# --- what the package declares ------------------------------------------------------------------


def _name(requirement: str) -> str:
    """A requirement's distribution name, normalized (``psycopg[binary]>=3.2``: psycopg)."""
    return re.sub(r"[-_.]+", "-", re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0]).lower()


def _imported_libraries() -> set[str]:
    """The top-level modules geo/ imports that are neither the standard library nor geo."""
    modules: set[str] = set()
    for path in (ROOT / "geo").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"geo", "__future__"}


def undeclared(declared: set[str]) -> set[str]:
    """The distributions geo/ imports from that ``declared`` does not name."""
    distributions = importlib.metadata.packages_distributions()
    return {_name(distributions[module][0]) for module in _imported_libraries()} - declared


def test_every_library_geo_imports_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    required = {_name(r) for r in project["dependencies"]}
    postgis = {_name(r) for r in project["optional-dependencies"]["postgis"]}
    web = {_name(r) for r in project["optional-dependencies"]["web"]}
    # The PostGIS store's driver and the web application's libraries: extras.
    assert undeclared(required | web) == {"psycopg"}
    assert postgis == {"psycopg"}
    assert {"numpy", "pandas", "branca"} <= required  # imported, not only pulled in by others


def test_the_declaration_check_can_fail():
    # Companion of the test above: a library left out of the list is found.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    required = {_name(r) for r in project["dependencies"]}
    web = {_name(r) for r in project["optional-dependencies"]["web"]}
    assert undeclared(required - {"numpy"} | web) == {"numpy", "psycopg"}
