# The two commands of the README: `make map` and `make test`.
# Both work on a fresh machine: they create .venv and install what they need.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STORE := layers/crossings.gpkg
# Debian packages the tests use: GDAL's Python bindings run GDAL's own GeoPackage validator.
DEB_PACKAGES := python3-gdal

.PHONY: map test lint bench clean

$(BIN)/crossings: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e . --group dev
	# validate_gpkg.py ships in gdal-utils; its GDAL bindings come from Debian, not PyPI.
	$(BIN)/python -m pip install --quiet --no-deps "gdal-utils>=3.6"
	touch $@

$(STORE): | $(BIN)/crossings
	$(BIN)/crossings init --store $(STORE)

map: $(BIN)/crossings $(STORE)
	$(BIN)/crossings map --store $(STORE) --out maps

.system-packages:
	@if ! /usr/bin/python3 -c "import osgeo" 2>/dev/null; then \
	  echo "installing Debian packages: $(DEB_PACKAGES)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_PACKAGES); \
	fi
	touch $@

test: $(BIN)/crossings .system-packages
	$(BIN)/python -m pytest -q

lint: $(BIN)/crossings
	$(BIN)/ruff check geo tests bench
	$(BIN)/mypy

bench: $(BIN)/crossings
	$(BIN)/python bench/bench_add.py
	$(BIN)/python bench/bench_query.py

clean:
	rm -rf $(VENV) .system-packages $(STORE) maps/*.html
