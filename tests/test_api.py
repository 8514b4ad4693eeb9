from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geo


def _imports_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_import_geo_does_not_import_folium_or_geopandas():
    loaded = _imports_after("import geo, geo.cli")
    assert "folium" not in loaded
    assert "geopandas" not in loaded


def test_command_line_start_loads_no_numeric_or_gis_library():
    # `crossings --help` stays quick: these load only in the commands that use them.
    loaded = _imports_after("import geo.cli")
    assert not loaded & {"numpy", "pyproj", "shapely", "fiona", "pyogrio", "geopandas", "folium"}


def test_the_import_check_can_fail():
    # Companion: the same check sees folium once render is imported.
    assert "folium" in _imports_after("import geo.render; geo.render._import_folium()")


def test_public_names():
    assert sorted(geo.__all__) == sorted(set(geo.__all__))
    for name in geo.__all__:
        assert hasattr(geo, name)


def test_example_notebook_runs_top_to_bottom(shipped_store, tmp_path):
    import shutil

    import nbformat
    from nbclient import NotebookClient

    root = Path(__file__).parent.parent
    notebook = nbformat.read(root / "examples" / "quickstart.ipynb", as_version=4)
    # The notebook opens layers/crossings.gpkg beside it: give it a copy of the shipped store.
    (tmp_path / "layers").mkdir()
    shutil.copyfile(shipped_store, tmp_path / "layers" / "crossings.gpkg")
    (tmp_path / "examples").mkdir()
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path / "examples")}},
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any("leaflet" in h.lower() for h in html)  # the map, inline
    assert any("9037 m" in o.get("text", "") for o in outputs if o.output_type == "stream")


def test_status_frames_notebook_runs_top_to_bottom(shipped_store, tmp_path):
    import shutil

    import nbformat
    from nbclient import NotebookClient

    root = Path(__file__).parent.parent
    notebook = nbformat.read(root / "examples" / "status-frames.ipynb", as_version=4)
    (tmp_path / "layers").mkdir()
    shutil.copyfile(shipped_store, tmp_path / "layers" / "crossings.gpkg")
    (tmp_path / "examples").mkdir()
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path / "examples")}},
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.get("name") == "stderr"]  # no warning either
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the chart of the periods
    html = "\n".join(o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {}))
    on_day = geo.status_frame(shipped_store, as_of="2021-06-01")
    for shown in [*on_day["crossing_id"], *on_day["evidence_record"].dropna()]:
        assert f">{shown}<" in html
    for record in geo.changes_frame(shipped_store, "2020", "2023")["record"].dropna():
        assert f">{record}<" in html


def test_each_backend_implements_the_whole_store_interface():
    import inspect

    from geo.store.base import Store
    from geo.store.gpkg import GeoPackageStore
    from geo.store.postgis import PostgisStore

    required = [
        name
        for name, member in vars(Store).items()
        if inspect.isfunction(member) and "raise NotImplementedError" in inspect.getsource(member)
    ]
    assert {"crossings", "add_observations", "iter_observations", "close"} <= set(required)
    for backend in (GeoPackageStore, PostgisStore):
        missing = [name for name in required if name not in vars(backend)]
        assert missing == [], (backend.__name__, missing)
