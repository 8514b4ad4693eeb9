from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.build import init_inventory
from geo.errors import (
    BatchValidationError,
    DuplicateRecordError,
    NotAStoreError,
    RecordValidationError,
    SchemaVersionError,
    StoreExistsError,
    UnknownRecordError,
)
from geo.model import STATUSES, content
from geo.qgis import DEFAULT_STYLES
from geo.record import add_observation, import_observations
from geo.store import SCHEMA_VERSION, open_store
from geo.validate import parse_observation
from tests.common import run_gdal_validator


def new_record(**changes: object) -> dict[str, object]:
    record: dict[str, object] = {
        "crossing_id": "quanhe-wonjong",
        "date": "2025-06",
        "kind": "infrastructure",
        "summary": "New warehouse roofs at the Chinese customs area",
        "source_url": "https://example.org/quanhe-2025-06",
        "source_type": "satellite_imagery",
    }
    record.update(changes)
    return record


@pytest.mark.gdal
def test_gdal_validator_accepts_the_store_before_and_after_adding(store: Path):
    before = run_gdal_validator(store)
    assert before.returncode == 0, before.stdout + before.stderr
    add_observation(store, new_record(lat="42.57", lon="130.53"))
    add_observation(store, new_record(summary="Second record, no own point"))
    after = run_gdal_validator(store)
    assert after.returncode == 0, after.stdout + after.stderr


@pytest.mark.gdal
def test_gdal_validator_can_fail(store: Path):
    # The companion of the test above: a broken GeoPackage is reported.
    with sqlite3.connect(store) as connection:
        connection.execute("PRAGMA application_id = 0")
    result = run_gdal_validator(store)
    assert result.returncode != 0
    assert "application_id" in (result.stdout + result.stderr)


def test_store_layers_are_real_geopackage_layers(store: Path):
    import pyogrio

    layers = dict(pyogrio.list_layers(store))
    assert layers["crossings"] == "Point" and layers["observations"] == "Point"
    assert layers["trade"] is None
    info = pyogrio.read_info(store, layer="observations")
    assert info["crs"] == "EPSG:4326"
    assert (
        dict(zip(info["fields"], info["dtypes"], strict=True))["date_start"] == "datetime64[D]"
    )  # a DATE column
    frame = pyogrio.read_dataframe(store, layer="observations")
    with open_store(store) as opened:
        assert len(frame) == opened.count()


def test_rtree_index_follows_appends(store: Path):
    add_observation(store, new_record(lat="42.60", lon="130.55"))
    with sqlite3.connect(store) as connection:
        rows = connection.execute(
            "SELECT o.id FROM observations o JOIN rtree_observations_geom r ON r.id = o.fid "
            "WHERE r.minx BETWEEN 130.549 AND 130.551 AND r.miny BETWEEN 42.599 AND 42.601"
        ).fetchall()
        (extent,) = connection.execute(
            "SELECT max_y FROM gpkg_contents WHERE table_name = 'observations'"
        ).fetchone()
    assert len(rows) == 1
    assert extent >= 42.60


def test_added_record_reads_back(store: Path):
    new_id = add_observation(
        store, new_record(kind="status", status="open", side="china", notes="n")
    )
    with open_store(store) as opened:
        record = opened.observation(new_id)
    assert record is not None
    assert (record.crossing_id, record.date.text, record.status, record.side) == (
        "quanhe-wonjong",
        "2025-06",
        "open",
        "china",
    )
    # No own point: the record sits on the crossing's point.
    assert record.location is not None and not record.has_own_location


def test_rejected_record_leaves_the_file_unchanged(store: Path):
    before = store.read_bytes()
    with pytest.raises(RecordValidationError):
        add_observation(store, new_record(date="2025-02-30"))
    with pytest.raises(RecordValidationError):
        add_observation(store, new_record(crossing_id="nowhere"))
    assert store.read_bytes() == before


def test_duplicate_is_refused_or_ignored(store: Path):
    first = add_observation(store, new_record())
    before = store.read_bytes()
    with pytest.raises(
        DuplicateRecordError, match=rf"observation: '{first}' is already in the store"
    ):
        add_observation(
            store, new_record(summary="new warehouse roofs at the  Chinese customs area")
        )
    assert store.read_bytes() == before
    assert add_observation(store, new_record(), ignore_duplicate=True) == first
    with open_store(store) as opened:
        assert sum(o.id == first for o in opened.observations()) == 1


def test_a_batch_reads_back_field_for_field_whichever_rows_fill_a_field(store: Path):
    """A batch's INSERT names only the columns some row fills: each row keeps its own values."""
    with open_store(store) as opened:
        crossings = opened.crossings()
    records = [
        parse_observation(new_record(summary=f"Roofs {n}", **extra), crossings)
        for n, extra in enumerate(
            [{}, {"notes": "only here", "side": "china"}, {"lat": "42.44", "lon": "130.6"}]
        )
    ]
    only_empty = [parse_observation(new_record(summary="Roofs again"), crossings)]
    with open_store(store, writable=True) as opened, opened.transaction():
        opened.add_observations([records[0]])  # stored: the next batch has a duplicate
        # One by one (a duplicate skipped), then whole, then a batch with no notes at all.
        opened.add_observations(records, on_duplicate="ignore")
        opened.add_observations(only_empty)
    with open_store(store) as opened:
        for record in [*records, *only_empty]:
            stored = opened.observation(record.id)
            assert stored is not None
            assert content(stored) == content(record)
            assert stored.recorded_by == record.recorded_by
    assert records[1].notes == "only here" and records[0].notes == ""
    assert records[2].has_own_location and not records[1].has_own_location


def test_crossings_and_structures_changed_by_another_program_are_read_anew(store: Path):
    """What one open built is reused by the next only while the rows are the same."""
    for _ in range(2):  # the second is built from the first's rows
        with open_store(store) as opened:
            before = opened.crossings()
            before["quanhe-wonjong"] = before["friendship-bridge"]  # the caller's own dict
            structures = opened.structures()
    with open_store(store) as opened:
        assert opened.crossings()["quanhe-wonjong"].id == "quanhe-wonjong"
    structure_id = next(iter(structures))
    from geo.store.gpkg import _connect

    connection = _connect(store, readonly=False)  # as another program would, R-tree and all
    with connection:
        connection.execute(
            "UPDATE crossings SET name_en = 'Renamed elsewhere' WHERE id = 'quanhe-wonjong'"
        )
        connection.execute("UPDATE structures SET notes = 'noted' WHERE id = ?", (structure_id,))
    with open_store(store) as opened:
        assert opened.crossings()["quanhe-wonjong"].name_en == "Renamed elsewhere"
        assert opened.crossings()["friendship-bridge"].id == "friendship-bridge"
        assert opened.structures()[structure_id].notes == "noted"
    with connection:
        connection.execute("UPDATE crossings SET name_en = 'Quanhe' WHERE id = 'quanhe-wonjong'")
    connection.close()
    with open_store(store) as opened:
        assert opened.crossings()["quanhe-wonjong"].name_en == "Quanhe"


def test_replaces_must_name_a_stored_record_of_the_same_crossing(store: Path):
    first = add_observation(store, new_record())
    with pytest.raises(UnknownRecordError, match=r"replaces: 'o-ffffffffff' is not an observation"):
        add_observation(
            store, new_record(kind="retraction", replaces="o-ffffffffff", summary="wrong")
        )
    with pytest.raises(
        RecordValidationError, match=r"belongs to quanhe-wonjong, not friendship-bridge"
    ):
        add_observation(
            store, new_record(crossing_id="friendship-bridge", replaces=first, summary="fix")
        )
    retraction = add_observation(
        store, new_record(kind="retraction", replaces=first, summary="Misread image")
    )
    with open_store(store) as opened:
        assert opened.observation(first) is not None  # kept: history is never edited
        assert opened.observation(retraction).replaces == first


def test_import_is_all_or_nothing(store: Path, tmp_path: Path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "crossing_id,date,kind,summary,source_url,source_type\n"
        "quanhe-wonjong,2025-05,traffic,Trucks queued,https://example.org/a,ground_observation\n"
        "quanhe-wonjong,2025-13,traffic,Trucks queued,https://example.org/b,ground_observation\n"
        "nowhere,2025-05,traffic,Trucks queued,https://example.org/c,ground_observation\n",
        encoding="utf-8",
    )
    before = store.read_bytes()
    with pytest.raises(Exception, match=r"2 problem\(s\), nothing was imported") as info:
        import_observations(store, bad)
    text = str(info.value)
    assert "row 3: date: '2025-13' has no month 13" in text
    assert "row 4: crossing_id: 'nowhere' is not a crossing" in text
    assert store.read_bytes() == before


def test_import_refuses_a_row_repeated_in_the_file(store: Path, tmp_path: Path):
    path = tmp_path / "twice.csv"
    row = "quanhe-wonjong,2025-05,traffic,Trucks queued,https://example.org/a,ground_observation\n"
    path.write_text("crossing_id,date,kind,summary,source_url,source_type\n" + row + row)
    with pytest.raises(Exception, match=r"row 3: observation: 'o-\w+' repeats row 2"):
        import_observations(store, path)
    assert len(import_observations(store, path, ignore_duplicates=True).ids) == 1


def test_import_geojson_points_are_lon_lat(store: Path, tmp_path: Path):
    import json

    path = tmp_path / "points.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [130.53, 42.57]},
                        "properties": new_record(),
                    }
                ],
            }
        )
    )
    (new_id,) = import_observations(store, path).ids
    with open_store(store) as opened:
        record = opened.observation(new_id)
    assert record is not None and record.has_own_location
    assert (record.location.lon, record.location.lat) == (130.53, 42.57)


def test_init_refuses_to_overwrite(store: Path, data_dir: Path):
    before = store.read_bytes()
    with pytest.raises(StoreExistsError, match=r"already exists\. Fix: pass --force"):
        init_inventory(store, seed=data_dir / "seed")
    assert store.read_bytes() == before
    init_inventory(store, seed=data_dir / "seed", force=True)


def test_bad_seed_writes_nothing(tmp_path: Path, data_dir: Path):
    seed = tmp_path / "seed"
    shutil.copytree(data_dir / "seed", seed)
    text = (seed / "observations.csv").read_text(encoding="utf-8")
    (seed / "observations.csv").write_text(
        text.replace("2022-04-29", "2022-04-31"), encoding="utf-8"
    )
    with pytest.raises(Exception, match=r"'2022-04-31' is not a calendar date"):
        init_inventory(tmp_path / "x.gpkg", seed=seed)
    assert not (tmp_path / "x.gpkg").exists()
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, r"no such store\. Fix: run `crossings init`"),
        (b"hello, this is not a database" * 10, r"is a file that is not a SQLite database, not"),
        (b"", r"is an empty file, not a crossings store"),
        ("plain-sqlite", r"is a SQLite database of another program, not a crossings store"),
        ("other-gpkg", r"is a GeoPackage of another program, not a crossings store"),
    ],
)
def test_not_a_store(tmp_path: Path, content, message):
    path = tmp_path / "x.gpkg"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content == "plain-sqlite":
        sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    elif content == "other-gpkg":
        import geopandas as gpd
        from shapely import Point

        gpd.GeoDataFrame({"a": [1]}, geometry=[Point(1, 2)], crs=4326).to_file(path)
    with pytest.raises(NotAStoreError, match=message):
        open_store(path)


VERSION_2 = Path(__file__).parent / "data" / "store-version-2.gpkg"


def version_2_store(tmp_path: Path) -> Path:
    """A copy of a store built by version 2 (from tests/data/seed of then, plus a user's record)."""
    path = tmp_path / "v2.gpkg"
    shutil.copyfile(VERSION_2, path)
    return path


def _rows(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        return connection.execute(
            "SELECT fid, id, crossing_id, date, kind, status, summary, source_url, replaces, "
            "recorded_at, recorded_by, geom FROM observations ORDER BY fid"
        ).fetchall()


def test_a_version_1_store_is_read_as_it_is_and_migrated_before_a_write(tmp_path: Path):
    from geo.browse import list_crossings

    store = version_2_store(tmp_path)
    connection = sqlite3.connect(store)
    for column in ("status_now", "status_since", "status_source", "status_as_of"):
        connection.execute(f"ALTER TABLE crossings DROP COLUMN {column}")
    connection.execute("DROP TABLE layer_styles")
    connection.execute("DELETE FROM gpkg_contents WHERE table_name = 'layer_styles'")
    connection.execute("UPDATE crossings_meta SET value = '1' WHERE key = 'schema_version'")
    connection.commit()
    connection.close()
    assert len(list_crossings(store)) == 4  # reading needs no migration
    add_observation(store, new_record())
    with sqlite3.connect(store) as connection:
        meta = dict(connection.execute("SELECT key, value FROM crossings_meta"))
        styles = connection.execute("SELECT count(*) FROM layer_styles").fetchone()[0]
        status = dict(connection.execute("SELECT id, status_now FROM crossings"))
    assert meta["schema_version"] == str(SCHEMA_VERSION) and {
        f"migrated_to_{version}" for version in range(2, SCHEMA_VERSION + 1)
    } <= set(meta)
    assert styles == len(DEFAULT_STYLES) and status["quanhe-wonjong"] == "open"
    assert run_gdal_validator(store).returncode == 0


def test_a_version_2_store_is_read_as_it_is(tmp_path: Path):
    from geo.browse import list_crossings

    store = version_2_store(tmp_path)
    before = store.read_bytes()
    rows = {r.crossing.id: r.status for r in list_crossings(store, as_of=date(2021, 6, 1))}
    # Its border-wide records name no crossing: they are context, not a status.
    assert rows["jian-manpo-road"].status == "open"
    assert rows["friendship-bridge"].status is None  # only the 31 Jan 2020 notice, context
    assert store.read_bytes() == before  # read-only: nothing written, not even a migration


@pytest.mark.gdal
def test_a_version_2_store_is_migrated_in_one_transaction_records_unchanged(tmp_path: Path):
    store = version_2_store(tmp_path)
    before = _rows(store)
    with open_store(store, writable=True):
        pass
    with sqlite3.connect(store) as connection:
        meta = dict(connection.execute("SELECT key, value FROM crossings_meta"))
        columns = {row[1] for row in connection.execute("PRAGMA table_info(observations)")}
        layers = {row[0] for row in connection.execute("SELECT table_name FROM gpkg_contents")}
    assert meta["schema_version"] == str(SCHEMA_VERSION) and "migrated_to_3" in meta
    assert {"applies_to", "until", "structure_id", "traffic", "lifecycle"} <= columns
    assert "structures" in layers
    assert _rows(store) == before  # every record and id as it was
    result = run_gdal_validator(store)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_failed_migration_leaves_the_store_as_it_was(tmp_path: Path, monkeypatch):
    import geo.store

    store = version_2_store(tmp_path)
    before = store.read_bytes()

    def broken(connection):
        geo.store.migrations._migrate_to_3(connection)
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setitem(geo.store.migrations.GEOPACKAGE_STEPS, 3, broken)
    with pytest.raises(sqlite3.OperationalError):
        open_store(store, writable=True)
    with sqlite3.connect(store) as connection:
        meta = dict(connection.execute("SELECT key, value FROM crossings_meta"))
        columns = {row[1] for row in connection.execute("PRAGMA table_info(observations)")}
    assert meta["schema_version"] == "2" and "applies_to" not in columns
    assert _rows(store) == _rows(VERSION_2) and store.read_bytes() == before


@pytest.mark.gdal
def test_merge_brings_a_version_2_store_up_to_date_keeping_its_users_records(
    tmp_path: Path, data_dir: Path
):
    from geo.browse import list_crossings
    from geo.build import merge_inventory, validate_inventory

    store = version_2_store(tmp_path)
    users = [r for r in _rows(store) if r[10] == "analyst"]
    assert len(users) == 1  # the record a user added with version 2
    report = merge_inventory(store, data_dir / "seed")
    assert sorted(report.observations) == ["o-7f5ec12262", "o-ddae3da94d"]
    assert report.structures == [
        "friendship-bridge-1943", "new-yalu-bridge", "quanhe-old-bridge", "quanhe-new-bridge"
    ]  # fmt: skip
    # Records the seed now says otherwise are listed and kept as stored, never overwritten.
    assert set(report.differing_observations) == {"o-e42649c65b", "o-71ae78bba5", "o-ef0053a6c1"}
    # Made before version 3, o-e42649c65b gains that version's fields; its status stays.
    assert report.completed_observations == ["o-e42649c65b"]
    with open_store(store) as opened:
        (completed,) = opened.observations_by_id(["o-e42649c65b"])
    assert (completed.structure_id, completed.lifecycle) == ("new-yalu-bridge", "built_not_opened")
    assert completed.status == "built_not_opened"  # as it was recorded
    assert report.differing_crossings == []
    assert [r for r in _rows(store) if r[10] == "analyst"] == users
    again = merge_inventory(store, data_dir / "seed")
    assert (again.observations, again.structures, again.crossings, again.trade) == ([], [], [], 0)
    assert validate_inventory(store) == []
    result = run_gdal_validator(store)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {r.crossing.id: r.status for r in list_crossings(store, as_of=date(2021, 6, 1))}
    assert rows["new-yalu-river-bridge"].status == "built_not_opened"
    assert rows["new-yalu-river-bridge"].is_lifecycle
    assert rows["jian-manpo-road"].record.id == "o-7f5ec12262"  # applies to all


def test_merge_is_all_or_nothing(tmp_path: Path, data_dir: Path):
    from geo.build import merge_inventory
    from geo.errors import BatchValidationError

    store = version_2_store(tmp_path)
    seed = tmp_path / "seed"
    shutil.copytree(data_dir / "seed", seed)
    with (seed / "observations.csv").open("a", encoding="utf-8") as handle:
        handle.write(",quanhe-wonjong,2025-13,,status,open,bad month,S,https://e.org/x,,"
                     "news_report,,,,,,,,,,,,,,,\n")  # fmt: skip
    before = store.read_bytes()
    with pytest.raises(BatchValidationError, match=r"date: '2025-13' has no month 13"):
        merge_inventory(store, seed)
    assert store.read_bytes() == before


def test_merge_from_another_store(store: Path, tmp_path: Path):
    from geo.build import merge_inventory

    other = version_2_store(tmp_path)
    report = merge_inventory(store, other)
    # The other store's user record is new here; the seed records are the same ids.
    assert len(report.observations) == 1
    assert report.completed_observations == []  # built at version 3: nothing to complete
    with open_store(store) as opened:
        (added,) = opened.observations_by_id(report.observations)
    assert (added.recorded_by, added.summary) == ("analyst", "A record a user added with version 2")


def test_newer_schema_version_is_refused(store: Path):
    with sqlite3.connect(store) as connection:
        connection.execute("UPDATE crossings_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(SchemaVersionError, match=r"schema version 99, newer than this release"):
        open_store(store)


texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=80
).filter(lambda s: s.strip())


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    summary=texts,
    year=st.integers(1900, 2025),
    month=st.one_of(st.none(), st.integers(1, 12)),
    status=st.one_of(st.none(), st.sampled_from(STATUSES)),
    dlat=st.floats(-0.1, 0.1),
    dlon=st.floats(-0.1, 0.1),
    own=st.booleans(),
    extra=st.sampled_from(
        [
            {},
            {"until": "2025-12", "traffic": "freight_road,tourists"},
            {"kind": "plan", "expected": "2027-01", "traffic": "passenger_rail"},
            {
                "kind": "infrastructure",
                "structure_id": "quanhe-new-bridge",
                "lifecycle": "in_service",
            },
            {"crossing_id": "border", "applies_to": "quanhe-wonjong,friendship-bridge"},
            {"crossing_id": "border", "applies_to": "all", "source_is_mirror": "true"},
        ]
    ),
)
def test_write_read_round_trip(
    _built_store, tmp_path_factory, summary, year, month, status, dlat, dlon, own, extra
):
    when = f"{year}" if month is None else f"{year}-{month:02d}"
    raw = new_record(
        date=when,
        kind="status",
        summary=summary + " 신의주 新义州 <b>'\"`",
        status=status or "open",
    )
    raw.update(extra)
    if raw["kind"] == "infrastructure":
        raw["status"] = ""
    elif "traffic" in raw:
        raw["status"] = "restricted"  # what still moves is said of an open or restricted status
    if "until" in raw:
        raw["until"] = f"{max(year, 2025)}-12"
    if own:
        raw.update(lat=str(42.568379 + dlat), lon=str(130.523456 + dlon))
    store = tmp_path_factory.mktemp("round-trip") / "crossings.gpkg"
    shutil.copyfile(_built_store, store)
    with open_store(store, writable=True) as opened:
        record = parse_observation(
            raw, opened.crossings(), structures=opened.structures(),
            now=datetime(2026, 1, 1, tzinfo=UTC),
        )  # fmt: skip
        assert opened.add_observations([record]) == [record.id]
        back = opened.observation(record.id)
    assert back is not None
    if own or record.crossing_id is None:
        assert back == record
    else:
        assert back.location is not None  # the crossing's point
        assert back == record._replace(location=back.location)


def test_recorded_at_is_a_conformant_geopackage_datetime(store: Path):
    import pyogrio

    add_observation(store, new_record())  # recorded now, with sub-second time
    # GDAL warns (an error here) about a DATETIME not in YYYY-MM-DDTHH:MM:SS.SSSZ form.
    frame = pyogrio.read_dataframe(store, layer="observations")
    assert str(frame["recorded_at"].dtype).startswith("datetime64")
    assert frame["recorded_at"].notna().all()


def _add_many(path: str, prefix: str, count: int) -> None:
    for n in range(count):
        add_observation(path, new_record(summary=f"{prefix} {n}"))


def test_two_writers_lose_nothing(store: Path):
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_add_many, args=(str(store), name, 25)) for name in "ab"]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
        assert writer.exitcode == 0
    with open_store(store) as opened:
        summaries = {o.summary for o in opened.observations("quanhe-wonjong")}
        assert opened.integrity_problems() == []
    assert {f"{p} {n}" for p in "ab" for n in range(25)} <= summaries


def test_frames_for_notebooks(store: Path):
    with open_store(store) as opened:
        crossings = opened.crossings_frame()
        observations = opened.observations_frame("friendship-bridge")
        trade = opened.trade_frame()
    assert len(crossings) == 4 and crossings.crs == "EPSG:4326"
    assert list(observations["date"]) == [
        "2022-01-16",
        "2022-04-29",
        "2022-09-26",
        "2026-03-12",
        "2026-03-12",
    ]
    assert str(observations["date_start"].dtype).startswith("datetime64")
    assert observations["date_start"].is_monotonic_increasing
    assert set(trade["period"]) == {"2011", "2025-04"}


def test_two_records_with_one_id_are_not_taken_for_a_duplicate(store: Path):
    # Ids are 10 hex digits of a hash: at a million records two contents may share one.
    with open_store(store, writable=True) as opened:
        stored = opened.observations("quanhe-wonjong")[-1]
        same = stored._replace(recorded_by="someone else")  # the same content: a duplicate
        assert opened.add_observations([same], on_duplicate="ignore") == []
        other = stored._replace(summary="A different record that hashes alike")
        with pytest.raises(RecordValidationError, match=r"id: .* is the id of another stored"):
            opened.add_observations([other], on_duplicate="ignore")


def test_the_status_snapshot_follows_the_records_that_can_change_it(store: Path):
    def snapshot() -> dict[str, tuple[str | None, str | None]]:
        with sqlite3.connect(store) as connection:
            return {
                row[0]: (row[1], row[2])
                for row in connection.execute("SELECT id, status_now, status_as_of FROM crossings")
            }

    today = datetime.now(UTC).date().isoformat()
    before = snapshot()
    assert before["quanhe-wonjong"] == ("open", today)
    # A traffic record changes no status: the snapshot of today stays as it is.
    add_observation(store, new_record(kind="traffic", summary="Trucks queue"))
    assert snapshot() == before
    # A status record may: the crossing's snapshot follows it at once.
    add_observation(
        store, new_record(kind="status", status="closed", summary="Gate shut", date="2025-12")
    )
    assert snapshot()["quanhe-wonjong"] == ("closed", today)
    # A snapshot of another day is brought up to today by any record of the crossing.
    from geo.store.gpkg import _connect  # writes as another program would, with GDAL's functions

    connection = _connect(store, readonly=False)
    connection.execute("UPDATE crossings SET status_as_of = '2020-01-01'")
    connection.close()
    add_observation(store, new_record(kind="traffic", summary="Trucks queue again"))
    assert snapshot()["quanhe-wonjong"] == ("closed", today)
    assert snapshot()["friendship-bridge"][1] == "2020-01-01"  # untouched crossings keep theirs


# -- the status periods layer ------------------------------------------------------------


def periods_by_crossing(store: Path | str) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    with open_store(store) as opened:
        for period in opened.status_periods():
            found.setdefault(period.crossing_id, []).append(period)
    return found


def period_rows(store: Path) -> list[tuple[object, ...]]:
    """The layer's rows as stored, feature ids included: a row rewritten gets a new one."""
    with sqlite3.connect(store) as connection:
        return connection.execute(
            'SELECT fid, crossing_id, "start", "end", status, evidence_id FROM status_periods '
            "ORDER BY fid"
        ).fetchall()


def test_the_status_periods_tile_time_and_say_what_the_rule_says(store: Path):
    from geo.inventory import status_on

    periods = periods_by_crossing(store)
    assert set(periods) == {
        "friendship-bridge", "jian-manpo-road", "new-yalu-river-bridge", "quanhe-wonjong"
    }  # fmt: skip
    with open_store(store) as opened:
        for crossing_id, rows in periods.items():
            # Each period ends where the next begins; the last lasts; neighbours differ.
            assert [r.end for r in rows[:-1]] == [r.start for r in rows[1:]], crossing_id
            assert rows[-1].end is None and all(r.start < r.end for r in rows[:-1])  # type: ignore[operator]
            said = [(r.status, r.status_text, r.evidence_id) for r in rows]
            assert all(a != b for a, b in pairwise(said)), crossing_id
            # The day a period begins, the day before and a day inside: the rule's answer.
            days = {r.start + timedelta(days) for r in rows for days in (-1, 0, 9)}
            for day in days:
                answer = status_on(opened, crossing_id, day)
                shown = [r for r in rows if r.start <= day and (r.end is None or day < r.end)]
                expected = [] if answer.status is None else [(answer.status, answer.evidence.id)]  # type: ignore[union-attr]
                assert [(r.status, r.evidence_id) for r in shown] == expected, (crossing_id, day)
    last = periods["quanhe-wonjong"][-1]
    assert (last.start, last.status, last.evidence_id, last.evidence_date) == (
        date(2023, 2, 28), "open", "o-be53d6c7e2", "2023-02"
    )  # fmt: skip
    assert last.name_en.startswith("Quanhe–Wonjong") and last.source_url is not None
    closed = periods["jian-manpo-road"][-1]  # a border-wide record names it
    assert (closed.start, closed.status, closed.evidence_date) == (
        date(2020, 12, 31), "closed", "2020"
    )  # fmt: skip


def test_an_observe_rewrites_only_its_crossings_periods_from_its_date(store: Path):
    before = period_rows(store)
    add_observation(
        store, new_record(kind="status", status="closed", date="2024-05", summary="Customs shut")
    )
    after = period_rows(store)
    # Other crossings' rows are not rewritten: the same rows, the same feature ids.
    assert [r for r in after if r[1] != "quanhe-wonjong"] == [
        r for r in before if r[1] != "quanhe-wonjong"
    ]
    kept, new = (
        [r for r in after if r[1] == "quanhe-wonjong"],
        [r for r in before if r[1] == "quanhe-wonjong"],
    )
    assert kept[:2] == new[:2]  # 2016-2020 open, 2020-2023 closed: before the record, kept
    assert [r[2:5] for r in kept[2:]] == [
        ("2023-02-28", "2024-05-31", "open"),  # runs on up to the record's last day
        ("2024-05-31", None, "closed"),
    ]
    # What a write leaves is what deriving every crossing anew gives.
    with open_store(store, writable=True) as opened:
        written = opened.status_periods()
        opened.refresh_status_periods()
        assert opened.status_periods() == written
    assert period_rows(store) == after  # true already: nothing was rewritten


def test_a_write_derives_only_the_crossings_it_can_change(store: Path, monkeypatch):
    import geo.store.base

    derived: list[tuple[str, date]] = []
    real = geo.store.base.derive_periods

    def spy(opened, crossing_id, structure_ids, since, kept=None):  # type: ignore[no-untyped-def]
        derived.append((crossing_id, since))
        return real(opened, crossing_id, structure_ids, since, kept)

    monkeypatch.setattr(geo.store.base, "derive_periods", spy)
    before = period_rows(store)
    add_observation(store, new_record(kind="traffic", summary="Trucks queue"))
    assert derived == [] and period_rows(store) == before  # a traffic record sets no status
    add_observation(store, new_record(kind="status", status="closed", summary="Shut"))
    # From the start of the period in force the day before the record counts: no earlier.
    assert derived == [("quanhe-wonjong", date(2023, 2, 28))]
    derived.clear()
    add_observation(
        store,
        new_record(
            crossing_id="border", kind="status", status="closed", date="2025-08",
            applies_to="quanhe-wonjong, jian-manpo-road", summary="Both closed for a typhoon",
        ),
    )  # fmt: skip
    assert sorted(c for c, _ in derived) == ["jian-manpo-road", "quanhe-wonjong"]
    periods = periods_by_crossing(store)
    # Already closed: the status runs on, resting from then on a record a reader can check.
    jian = periods["jian-manpo-road"]
    assert [(p.start, p.status) for p in jian[-2:]] == [
        (date(2020, 12, 31), "closed"),
        (date(2025, 8, 31), "closed"),
    ]
    assert jian[-1].source_url == "https://example.org/quanhe-2025-06"
    # Quanhe was closed by its own record, which the evidence stays: its periods stay as stored.
    assert periods["quanhe-wonjong"][-1].start == date(2025, 6, 30)
    assert periods["quanhe-wonjong"][-1].evidence_date == "2025-06"


def test_a_withdrawal_rewrites_the_periods_from_the_record_it_withdraws(store: Path):
    # The Friendship Bridge's closure of 2022-04-29 is withdrawn by a record of 2026: the
    # periods change from the withdrawn record's day, not from the withdrawal's.
    with open_store(store) as opened:
        closure = next(
            o for o in opened.observations("friendship-bridge") if o.date.text == "2022-04-29"
        )
    add_observation(
        store,
        new_record(
            crossing_id="friendship-bridge", kind="retraction", date="2026-01",
            replaces=closure.id, summary="The closure of April 2022 was misreported",
        ),
    )  # fmt: skip
    periods = periods_by_crossing(store)["friendship-bridge"]
    assert closure.id not in {p.evidence_id for p in periods}
    assert next(p.status for p in periods if p.start >= date(2022, 1, 16)) == "restricted"
    assert "closed" not in {p.status for p in periods if p.start >= date(2022, 1, 16)}
    with open_store(store, writable=True) as opened:
        written = opened.status_periods()
        opened.refresh_status_periods(["friendship-bridge"])
        assert opened.status_periods() == written


def test_a_failed_write_leaves_the_records_and_their_periods_as_they_were(
    any_store: str, monkeypatch
):
    import geo.store.base
    from tests.common import contents

    before = contents(any_store)

    def broken(*args: object) -> object:
        raise RuntimeError("interrupted while deriving the periods")

    monkeypatch.setattr(geo.store.base, "rows_from", broken)
    with pytest.raises(RuntimeError, match="interrupted"):
        add_observation(any_store, new_record(kind="status", status="closed", summary="Shut"))
    assert contents(any_store) == before  # the record went with its periods: one transaction
    monkeypatch.undo()
    add_observation(any_store, new_record(kind="status", status="closed", summary="Shut"))
    assert periods_by_crossing(any_store)["quanhe-wonjong"][-1].status == "closed"


def test_an_import_refused_leaves_the_periods_as_they_were(store: Path, tmp_path: Path):
    import csv

    path = tmp_path / "rows.csv"
    good = new_record(kind="status", status="closed", summary="Shut", date="2025-07")
    bad = new_record(kind="status", status="ajar", summary="Half shut", date="2025-08")
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(bad))
        writer.writeheader()
        writer.writerows([good, bad])
    before = period_rows(store)
    with pytest.raises(BatchValidationError):
        import_observations(store, path)
    assert period_rows(store) == before
