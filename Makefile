# The two commands of the README: `make map` and `make test`.
# Both work on a fresh machine: they create .venv and install what they need.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STORE := layers/crossings.gpkg
# Debian packages the tests use: GDAL's Python bindings run GDAL's own GeoPackage validator;
# Chromium (driven by Playwright, never a downloaded browser) and CJK fonts for the map tests;
# QGIS's Python bindings to open the store as QGIS does.
DEB_PACKAGES := python3-gdal chromium fonts-noto-cjk python3-qgis qgis-providers

.PHONY: map test lint bench clean vendor

$(BIN)/crossings: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e . --group dev
	# validate_gpkg.py ships in gdal-utils; its GDAL bindings come from Debian, not PyPI.
	$(BIN)/python -m pip install --quiet --no-deps "gdal-utils>=3.6"
	touch $@

$(STORE): | $(BIN)/crossings
	$(BIN)/crossings init --store $(STORE)

# Local copies of the map's pinned scripts (npm registry), for --self-contained and the tests.
.vendor/.fetched: geo/assets.py | $(BIN)/crossings
	$(BIN)/python -m geo.assets
	touch $@

vendor: .vendor/.fetched

map: $(BIN)/crossings $(STORE) .vendor/.fetched
	$(BIN)/crossings map --store $(STORE) --out maps --self-contained --force

.system-packages:
	@if ! /usr/bin/python3 -c "import osgeo, qgis.core" 2>/dev/null || [ ! -x /usr/bin/chromium ] \
	    || [ ! -d /usr/share/fonts/opentype/noto ]; then \
	  echo "installing Debian packages: $(DEB_PACKAGES)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_PACKAGES); \
	fi
	touch $@

test: $(BIN)/crossings .system-packages .vendor/.fetched
	$(BIN)/python -m pytest -q

lint: $(BIN)/crossings
	$(BIN)/ruff check geo tests bench
	$(BIN)/mypy

# The benchmarks at 100,000 and 1,000,000 records; add LARGE=--large for 10,000,000 (minutes).
bench: $(BIN)/crossings
	$(BIN)/python bench/bench_load.py $(LARGE)
	$(BIN)/python bench/bench_query.py $(LARGE)
	$(BIN)/python bench/bench_add.py $(LARGE)
	$(BIN)/python bench/bench_map.py

clean:
	rm -rf $(VENV) .system-packages .vendor $(STORE) maps/*.html
