from __future__ import annotations

import subprocess
import sys

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
