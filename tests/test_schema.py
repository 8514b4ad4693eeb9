"""One declaration per field: every consumer reads geo.schema, and each migration step holds."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from geo import schema
from geo.cli import cli
from geo.errors import RecordValidationError
from geo.exchange import OBSERVATION_COLUMNS, observation_fields
from geo.model import STATUS_COLOURS, Observation
from geo.publish import export_inventory
from geo.qgis import DEFAULT_STYLES
from geo.record import add_observation, import_observations
from geo.store import open_store
from geo.store.schema import observation_from_row, observation_row

DATA = Path(__file__).parent / "data"
VERSION_3 = DATA / "store-version-3.gpkg"  # built by the release of schema version 3

QUOTED = {
    "crossing_id": "quanhe-wonjong",
    "date": "2023-02-01",
    "kind": "status",
    "status": "restricted",
    "traffic": "freight_road",
    "summary": "Trucks cross again",
    "source_url": "https://example.org/kbs",
    "source_type": "news_report",
    "source_quote": "원정리 세관을 통과한 화물차 5대가\n중국으로 들어갑니다.",
    "quote_en": "Five trucks that passed Wonjong-ri customs enter China.",
    "checked_on": "2026-12-03",
    "archive_url": "https://web.archive.org/web/2023/https://example.org/kbs",
}


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_every_carried_field_reaches_every_consumer():
    names = [f.name for f in schema.CARRIED_FIELDS]
    # The record type carries them last, in the declaration's order: the row codec relies on it.
    assert Observation._fields[-len(names) :] == tuple(names)
    options = run("observe", "--help").output
    for name in names:
        assert name in OBSERVATION_COLUMNS  # CSV, GeoJSON and KML columns; import reads them
        assert f"--{name.replace('_', '-')}" in options
        assert schema.TEXT_LIMITS[name] == next(
            f.limit for f in schema.CARRIED_FIELDS if f.name == name
        )


def test_a_field_the_record_type_lacks_is_caught(monkeypatch):
    # The companion of the test above: a field declared but not on the record type fails it.
    extra = schema.Field("source_page", "str", "Page", since=4, carried=True)
    monkeypatch.setattr(schema, "CARRIED_FIELDS", (*schema.CARRIED_FIELDS, extra))
    with pytest.raises(AssertionError, match="source_page"):
        test_every_carried_field_reaches_every_consumer()


def test_each_observation_field_has_its_place_in_the_row(store: Path):
    add_observation(store, QUOTED)
    with open_store(store) as opened:
        record = next(o for o in opened.observations() if o.source_quote)
    row = observation_row(record)
    assert len(row) == len(schema.OBSERVATIONS.fields)
    assert observation_from_row(record.location, row) == record
    assert set(observation_fields(record)) >= {f.name for f in schema.CARRIED_FIELDS}


def test_one_field_one_limit_over_every_layer():
    seen: dict[str, int] = {}
    for layer in schema.LAYERS:
        for field in layer.fields:
            assert seen.setdefault(field.name, field.limit) == field.limit, field.name


@pytest.mark.parametrize("output_format", ["csv", "geojson", "kml"])
def test_the_words_of_the_source_go_out_and_come_back(
    store: Path, tmp_path: Path, output_format: str
):
    record_id = add_observation(store, QUOTED)
    out = tmp_path / f"out.{output_format}"
    export_inventory(store, out, output_format)
    other = tmp_path / "other.gpkg"
    shutil.copyfile(DATA.parent / "data" / "store-version-3.gpkg", other)
    import_observations(other, out, ignore_duplicates=True)
    with open_store(store) as kept, open_store(other) as copied:
        stored, read_back = kept.observation(record_id), copied.observation(record_id)
    assert read_back is not None and stored is not None
    for name in ("source_quote", "quote_en", "checked_on", "archive_url"):
        assert getattr(read_back, name) == getattr(stored, name) == QUOTED[name]


def test_the_words_of_the_source_on_the_command_line(any_store: str):
    result = run(
        "observe", "quanhe-wonjong", "--on", "2023-02-01", "--kind", "status",
        "--status", "restricted", "--traffic", "freight_road",
        "--summary", "Trucks cross again", "--source-url", "https://example.org/kbs",
        "--source-type", "news_report", "--source-quote", QUOTED["source_quote"],
        "--quote-en", QUOTED["quote_en"], "--checked-on", "2026-12-03",
        "--archive-url", QUOTED["archive_url"], "--store", any_store,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    record_id = json.loads(result.output)["id"]
    with open_store(any_store) as opened:
        record = opened.observation(record_id)
    assert record is not None and record.source_quote == QUOTED["source_quote"]
    assert record.checked_on == "2026-12-03" and record.archive_url == QUOTED["archive_url"]


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("archive_url", "web.archive.org/x", "is not a web address"),
        ("archive_url", "https://[::1/x", "is not a web address"),
        ("checked_on", "2026-12", "is not a day"),
        ("checked_on", "2999-01-01", "is in the future"),
        ("source_quote", "x" * 601, "is 601 characters long. Allowed: at most 600"),
    ],
)
def test_the_words_of_the_source_are_checked(store: Path, field: str, value: str, says: str):
    before = store.read_bytes()
    with pytest.raises(RecordValidationError, match=rf"^{field}: .*{says}"):
        add_observation(store, {**QUOTED, field: value})
    assert store.read_bytes() == before


@pytest.mark.parametrize("field", ["quote_en", "checked_on"])
def test_a_rendering_or_a_check_needs_the_quote(store: Path, field: str):
    with pytest.raises(RecordValidationError, match=rf"^{field}: .* is given without source_quote"):
        other = "checked_on" if field == "quote_en" else "quote_en"
        add_observation(store, {**QUOTED, "source_quote": "", other: ""})


# -- migrations ----------------------------------------------------------------


def _records(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT * FROM observations ORDER BY fid").fetchall()


def test_a_version_3_geopackage_is_read_as_it_is_and_migrated_before_a_write(tmp_path: Path):
    from geo.browse import list_crossings

    store = tmp_path / "v3.gpkg"
    shutil.copyfile(VERSION_3, store)
    before, kept = store.read_bytes(), _records(store)
    assert len(list_crossings(store)) == 4  # read as it is, nothing written
    assert store.read_bytes() == before
    add_observation(store, QUOTED)
    with sqlite3.connect(store) as connection:
        meta = dict(connection.execute("SELECT key, value FROM crossings_meta"))
        columns = [row[1] for row in connection.execute("PRAGMA table_info(observations)")]
    assert meta["schema_version"] == str(schema.SCHEMA_VERSION) and "migrated_to_4" in meta
    assert columns[-4:] == ["source_quote", "quote_en", "checked_on", "archive_url"]
    assert [row + (None,) * 4 for row in kept] == _records(store)[: len(kept)]


@pytest.mark.gdal
def test_a_migrated_geopackage_passes_gdals_validator(tmp_path: Path):
    from tests.common import run_gdal_validator

    store = tmp_path / "v3.gpkg"
    shutil.copyfile(VERSION_3, store)
    add_observation(store, QUOTED)
    result = run_gdal_validator(store)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_version_3_postgis_store_is_migrated_when_opened(database: str):
    import psycopg

    # A store as the release of version 3 built it: without this version's columns.
    with psycopg.connect(database, autocommit=True) as connection:
        for field in schema.CARRIED_FIELDS:
            connection.execute(f'ALTER TABLE observations DROP COLUMN "{field.name}"')  # type: ignore[arg-type]
        connection.execute("ALTER TABLE structures DROP COLUMN length_m")
        connection.execute("DROP TABLE status_periods")
        for table in ("observation_cells", "observation_years"):  # version 7's, and triggers
            connection.execute(f"DROP TABLE {table}")  # type: ignore[arg-type]
            for name in ("added", "removed", "moved", "emptied"):
                connection.execute(f"DROP TRIGGER {table}_{name} ON observations")  # type: ignore[arg-type]
        connection.execute("DELETE FROM layer_styles WHERE f_table_name != 'crossings'")
        connection.execute("UPDATE crossings_meta SET value = '3' WHERE key = 'schema_version'")
        before = connection.execute("SELECT * FROM observations ORDER BY fid").fetchall()
    listed = run("list", "--format", "json", "--store", database)
    assert listed.exit_code == 0, listed.output
    with psycopg.connect(database) as connection:
        meta = dict(connection.execute("SELECT key, value FROM crossings_meta").fetchall())
        after = connection.execute("SELECT * FROM observations ORDER BY fid").fetchall()
        comment = connection.execute(
            "SELECT col_description('observations'::regclass, attnum) FROM pg_attribute "
            "WHERE attrelid = 'observations'::regclass AND attname = 'source_quote'"
        ).fetchone()
        styles = connection.execute(
            "SELECT f_table_name FROM layer_styles WHERE f_table_catalog = current_database()"
        ).fetchall()
    assert meta["schema_version"] == str(schema.SCHEMA_VERSION)
    assert {"migrated_to_4", "migrated_to_5", "migrated_to_6", "migrated_to_7"} <= set(meta)
    assert [row + (None,) * 4 for row in before] == after
    assert comment == ("Source: its words that support the record, verbatim",)
    # Version 6: the status periods, filled as the migration commits, and every layer's style.
    assert sorted(name for (name,) in styles) == sorted(s.layer.name for s in DEFAULT_STYLES)
    with open_store(database) as opened:
        periods = opened.status_periods("quanhe-wonjong")
    assert periods and periods[-1].end is None and periods[-1].status == "open"
    assert add_observation(database, QUOTED)
    with open_store(database) as opened:
        assert opened.migrated_at(4) is not None and opened.migrated_at(3) is None


def test_a_merge_completes_the_words_of_the_source_in_a_migrated_store(tmp_path: Path):
    import csv

    from geo.build import merge_inventory

    store = tmp_path / "v3.gpkg"
    shutil.copyfile(VERSION_3, store)
    seed = tmp_path / "seed"
    shutil.copytree(DATA / "seed", seed)
    path = seed / "observations.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[0].update(source_quote="The words", checked_on="2026-12-03")
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    report = merge_inventory(store, seed)
    assert report.completed_observations == [rows[0]["id"]]
    assert report.differing_observations == []  # completed, so as the seed has it
    with open_store(store) as opened:
        record = opened.observation(rows[0]["id"])
    assert record is not None and record.source_quote == "The words"
    # Recorded words are never overwritten: a second merge with other words changes nothing.
    rows[0].update(source_quote="Other words")
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    again = merge_inventory(store, seed)
    assert again.completed_observations == [] and again.differing_observations == [rows[0]["id"]]


def test_a_merge_fills_the_lengths_a_migration_added_and_validate_then_passes(
    shipped_store: Path, tmp_path: Path
):
    from geo.build import merge_inventory, validate_inventory
    from tests.common import execute

    store = tmp_path / "v4.gpkg"
    shutil.copyfile(shipped_store, store)
    # As a store of version 4 migrated to 5 holds them: structures without a length.
    execute(store, "UPDATE structures SET length_m = NULL")
    execute(
        store,
        "INSERT INTO crossings_meta (key, value) VALUES ('migrated_to_5', '2026-12-01T00:00Z')",
    )
    assert any("boundary" in p for p in validate_inventory(store))  # the Friendship Bridge
    report = merge_inventory(store, Path(__file__).parent.parent / "layers" / "seed")
    assert report.differing_structures == []
    with open_store(store) as opened:
        assert opened.structures()["friendship-bridge-1943"].length_m == 946
    assert validate_inventory(store) == []
    # A length a store holds is never replaced.
    execute(store, "UPDATE structures SET length_m = 1 WHERE id = 'new-yalu-bridge'")
    again = merge_inventory(store, Path(__file__).parent.parent / "layers" / "seed")
    assert again.differing_structures == ["new-yalu-bridge"]


# -- the GeoPackage Schema extension: each field's description and vocabulary ------------------


def test_the_geopackage_describes_every_declared_field_and_its_vocabulary(store: Path):
    from tests.common import run_gdal_validator

    with sqlite3.connect(store) as connection:
        columns = {
            (table, column): rest
            for table, column, *rest in connection.execute(
                "SELECT table_name, column_name, name, title, description, constraint_name "
                "FROM gpkg_data_columns"
            )
        }
        constraints: dict[str, set[str]] = {}
        for name, kind, value in connection.execute(
            "SELECT constraint_name, constraint_type, value FROM gpkg_data_column_constraints"
        ):
            assert kind == "enum"
            constraints.setdefault(name, set()).add(value)
        extensions = connection.execute(
            "SELECT table_name, column_name, scope FROM gpkg_extensions "
            "WHERE extension_name = 'gpkg_schema' ORDER BY table_name"
        ).fetchall()
    declared = {(layer.name, f.name): (layer, f) for layer in schema.LAYERS for f in layer.fields}
    assert set(columns) == set(declared)
    for key, (layer, field) in declared.items():
        name, title, description, constraint = columns[key]
        assert (name, title, description) == (None, field.description, field.description), key
        if field.vocabulary:
            assert constraint == f"{layer.name}_{field.name}"
            assert constraints.pop(constraint) == set(field.vocabulary)
        else:
            assert constraint is None
    assert constraints == {}  # no vocabulary left over
    assert extensions == [
        ("gpkg_data_column_constraints", None, "read-write"),
        ("gpkg_data_columns", None, "read-write"),
    ]
    result = run_gdal_validator(store)
    assert result.returncode == 0, result.stdout + result.stderr


def test_gdal_reads_the_vocabularies_as_field_domains(store: Path):
    from tests.common import SYSTEM_PYTHON

    script = (
        "import json, sys\n"
        "from osgeo import gdal\n"
        "ds = gdal.OpenEx(sys.argv[1], gdal.OF_VECTOR)\n"
        "defn = ds.GetLayerByName('status_periods').GetLayerDefn()\n"
        "name = defn.GetFieldDefn(defn.GetFieldIndex('status')).GetDomainName()\n"
        "print(json.dumps([name, sorted(ds.GetFieldDomain(name).GetEnumeration())]))\n"
    )
    done = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", script, str(store)], capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == [
        "status_periods_status",
        sorted(schema.STATUS_PERIODS.fields[4].vocabulary),
    ]


def test_a_field_left_undescribed_is_caught(store: Path):
    # The companion of the test above: a declared field the table lacks fails it.
    with sqlite3.connect(store) as connection:
        connection.execute(
            "DELETE FROM gpkg_data_columns WHERE table_name = 'status_periods' "
            "AND column_name = 'quote_en'"
        )
    with pytest.raises(AssertionError):
        test_the_geopackage_describes_every_declared_field_and_its_vocabulary(store)


# -- schema version 6: the status periods ----------------------------------------------------

VERSION_5 = DATA / "store-version-5.gpkg"  # built by the release of schema version 5


def test_a_version_5_geopackage_gains_the_status_periods_when_opened_for_writing(
    tmp_path: Path, store: Path
):
    from geo.browse import list_crossings
    from tests.common import run_gdal_validator

    old = tmp_path / "v5.gpkg"
    shutil.copyfile(VERSION_5, old)
    before = old.read_bytes()
    with open_store(old) as opened:
        assert opened.status_periods() == []  # read as it is: no layer yet, nothing written
    assert len(list_crossings(old)) == 4 and old.read_bytes() == before
    with open_store(old, writable=True) as opened:
        migrated = opened.status_periods()
        assert opened.migrated_at(6) is not None and opened.integrity_problems() == []
    # Filled as the migration commits: what a store of this release built from the same
    # records holds.
    with open_store(store) as fresh:
        assert migrated == fresh.status_periods()
    with sqlite3.connect(old) as connection:
        styles = dict(connection.execute("SELECT f_table_name, styleName FROM layer_styles"))
        described = connection.execute("SELECT count(*) FROM gpkg_data_columns").fetchone()[0]
        indexed = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'status_periods_crossing'"
        ).fetchone()
    assert indexed is not None
    assert set(styles) == {"crossings", "observations", "structures", "status_periods", "trade"}
    assert described == sum(len(layer.fields) for layer in schema.LAYERS)
    result = run_gdal_validator(old)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_failed_migration_to_version_6_leaves_the_store_as_it_was(tmp_path: Path, monkeypatch):
    import geo.store.base

    old = tmp_path / "v5.gpkg"
    shutil.copyfile(VERSION_5, old)
    before = old.read_bytes()

    def broken(*args: object) -> object:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(geo.store.base, "derive_periods", broken)  # fails as it fills the layer
    with pytest.raises(sqlite3.OperationalError):
        open_store(old, writable=True)
    assert old.read_bytes() == before


def test_the_status_period_record_type_is_the_declared_layer():
    from geo.store.periods import StatusPeriod

    assert StatusPeriod._fields == schema.STATUS_PERIODS.names
    # One vocabulary: the statuses and the lifecycles a crossing shows, as the map colours them.
    assert set(schema.STATUS_PERIODS.fields[4].vocabulary) == set(STATUS_COLOURS) - {""}
