# The two commands of the README: `make map` and `make test`.
# Both work on a fresh machine: they create .venv and install what they need.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STORE := layers/crossings.gpkg
# Debian packages the tests use: GDAL's Python bindings run GDAL's own GeoPackage validator;
# Chromium (driven by Playwright, never a downloaded browser) and CJK fonts for the map tests;
# QGIS's Python bindings to open the store as QGIS does; PostgreSQL and PostGIS, of which the
# tests start a throwaway server of their own on a loopback port.
DEB_PACKAGES := python3-gdal chromium fonts-noto-cjk python3-qgis qgis-providers \
	postgresql-15 postgresql-15-postgis-3

.PHONY: map test test-fast lint bench clean vendor

# The runtime only: what the commands use.
$(BIN)/crossings: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The tests' and checks' tools, on top of the runtime, the PostGIS store's driver and the
# web application's libraries.
$(VENV)/.test-tools: pyproject.toml $(BIN)/crossings
	$(BIN)/python -m pip install --quiet -e ".[test,postgis,web]"
	# validate_gpkg.py ships in gdal-utils; its GDAL bindings come from Debian, not PyPI.
	$(BIN)/python -m pip install --quiet --no-deps "gdal-utils>=3.6"
	touch $@

$(STORE): | $(BIN)/crossings
	$(BIN)/crossings init --store $(STORE)

# A maintainer's step: refresh the map's pinned scripts in geo/vendor/ from npm, checked
# against geo/vendor/SHA256SUMS. Users need neither npm nor this.
vendor: $(BIN)/crossings
	$(BIN)/python -m geo.assets

map: $(BIN)/crossings $(STORE)
	$(BIN)/crossings map --store $(STORE) --out maps --force

.system-packages: Makefile
	@if ! /usr/bin/python3 -c "import osgeo, qgis.core" 2>/dev/null || [ ! -x /usr/bin/chromium ] \
	    || [ ! -d /usr/share/fonts/opentype/noto ] \
	    || [ ! -f /usr/share/postgresql/15/extension/postgis.control ]; then \
	  echo "installing Debian packages: $(DEB_PACKAGES)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_PACKAGES); \
	fi
	touch $@

# Two workers, one a core: each starts its own browser and database server.
test: $(VENV)/.test-tools .system-packages
	$(BIN)/python -m pytest -q -n 2

# The inner loop: no browser, no database server, no GDAL or QGIS, no install (a few minutes
# less than `make test`, which runs everything, as CI does).
test-fast: $(VENV)/.test-tools
	$(BIN)/python -m pytest -q -m "not browser and not qgis and not gdal and not slow and not postgis"

lint: $(VENV)/.test-tools
	$(BIN)/ruff check geo tests bench
	$(BIN)/mypy

# The benchmarks at 100,000 and 1,000,000 records; add LARGE=--large for 10,000,000 (minutes).
# bench_postgis.py starts its own PostgreSQL server, as the tests do.
bench: $(VENV)/.test-tools .system-packages
	$(BIN)/python -m pip install --quiet -e ".[test,postgis,web,bench]"
	$(BIN)/python bench/bench_load.py $(LARGE)
	$(BIN)/python bench/bench_query.py $(LARGE)
	$(BIN)/python bench/bench_add.py $(LARGE)
	$(BIN)/python bench/bench_map.py $(LARGE)
	$(BIN)/python bench/bench_postgis.py
	$(BIN)/python bench/bench_serve.py

clean:
	rm -rf $(VENV) .system-packages .vendor $(STORE) maps/*.html
