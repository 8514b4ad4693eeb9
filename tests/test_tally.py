"""The records counted on a grid (geo.store.tally): kept true by every write, on both backends.

Each test holds the kept counts to the records' own points, counted here in
Python, after writes by this tool, by GDAL (as QGIS writes), and by SQL run
behind the tool's back.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from geo.cli import cli
from geo.errors import StoreFaultError
from geo.model import LonLat
from geo.store import is_database, open_store
from geo.store.blob import blob_point
from geo.store.digest import CELL_DEG, first_day, located_cells, year_counts
from geo.store.tally import CELLS, TALLIES, read_cells
from tests.common import execute
from tests.test_timelines import record

CELLS_TABLE = CELLS.table


def _cell(value: float) -> int:
    """A coordinate's cell, rounded half away from zero (written apart from the module's)."""
    scaled = value / CELL_DEG
    return int(math.copysign(math.floor(abs(scaled) + 0.5), scaled))


def counted_here(store) -> dict[tuple[int, int], int]:
    """Every record's point, read one by one and counted in Python."""
    with open_store(store) as opened:
        if is_database(str(store)):
            sql = "SELECT ST_X(geom), ST_Y(geom) FROM observations WHERE geom IS NOT NULL"
            points = [LonLat(x, y) for x, y in opened._query(sql, {})]
        else:
            rows = opened._query("SELECT geom FROM observations", {})
            points = [p for (blob,) in rows if (p := blob_point(blob)) is not None]
    found: dict[tuple[int, int], int] = {}
    for point in points:
        key = (_cell(point.lon), _cell(point.lat))
        found[key] = found.get(key, 0) + 1
    return found


def years_here(store) -> dict[tuple[str, int], int]:
    """Every record's crossing and year, read one by one and counted in Python."""
    found: dict[tuple[str, int], int] = {}
    with open_store(store) as opened:
        for o in opened.iter_observations():
            key = (o.crossing_id or "", o.date.end.year)
            found[key] = found.get(key, 0) + 1
    return found


def kept_years(store) -> dict[tuple[str, int], int]:
    with open_store(store) as opened:
        return {
            (crossing or "", year): n
            for crossing in [None, *opened.crossings()]
            for year, n in year_counts(opened, crossing)
        }


def kept(store) -> dict[tuple[int, int], int]:
    with open_store(store) as opened:
        return {(x, y): n for x, y, n in read_cells(opened)}


def test_a_new_store_keeps_the_count_of_every_cell_and_year(any_store):
    assert kept(any_store) == counted_here(any_store) != {}
    assert kept_years(any_store) == years_here(any_store) != {}


def test_records_added_deleted_and_moved_keep_the_counts(any_store):
    far = LonLat(127.5, 41.7)  # a cell no seed record is in
    with open_store(any_store, writable=True) as opened:
        opened.add_observations(
            [
                record(f"t-{n}", "quanhe-wonjong", "2026-02", kind="traffic", location=far,
                       has_own_location=True)
                for n in range(3)
            ]
        )  # fmt: skip
    assert kept(any_store)[(_cell(far.lon), _cell(far.lat))] == 3
    assert kept(any_store) == counted_here(any_store)
    # Behind the tool's back, as QGIS edits: one deleted, one moved to another cell.
    execute(any_store, "DELETE FROM observations WHERE id = 't-0'")
    moved = (
        "ST_GeomFromText('POINT(127.6 41.8)', 4326)"
        if is_database(any_store)
        else _blob_sql(LonLat(127.6, 41.8))  # a GeoPackage's blob, as GDAL writes one
    )
    execute(any_store, f"UPDATE observations SET geom = {moved} WHERE id = 't-1'")
    after = kept(any_store)
    assert after[(_cell(far.lon), _cell(far.lat))] == 1
    assert after[(_cell(127.6), _cell(41.8))] == 1
    assert after == counted_here(any_store)
    # A record moved to another crossing and year.
    execute(any_store, "UPDATE observations SET crossing_id = 'friendship-bridge', "
            "date_end = '2019-05-31' WHERE id = 't-2'")  # fmt: skip
    assert kept_years(any_store)[("friendship-bridge", 2019)] >= 1
    assert kept_years(any_store) == years_here(any_store)


def _blob_sql(point: LonLat) -> str:
    from geo.store.blob import point_blob

    blob = point_blob(point)
    assert blob is not None
    return f"X'{blob.hex()}'"


def test_a_records_deleted_all_at_once_empty_the_counts(any_store):
    statement = "TRUNCATE observations CASCADE" if is_database(any_store) else None
    execute(any_store, statement or "DELETE FROM observations")
    assert kept(any_store) == {} == counted_here(any_store)
    assert kept_years(any_store) == {}


def test_records_gdal_appends_are_counted(store: Path):
    """GDAL (as QGIS and ogr2ogr write a GeoPackage) calls its own functions in the triggers."""
    import fiona

    with fiona.open(store, "a", layer="observations") as layer:
        given = {"id": "g-1", "crossing_id": "quanhe-wonjong", "kind": "traffic"}
        properties = {name: given.get(name) for name in layer.schema["properties"]}
        layer.write(
            {"geometry": {"type": "Point", "coordinates": (129.1, 42.3)}, "properties": properties}
        )
    assert kept(store)[(_cell(129.1), _cell(42.3))] == 1
    assert kept(store) == counted_here(store)


def test_a_bulk_load_counts_anew_and_keeps_its_trigger(store: Path):
    spot = LonLat(126.0, 41.2)
    records = [
        record(f"b-{n}", "quanhe-wonjong", "2026-02", kind="traffic", location=spot,
               has_own_location=True)
        for n in range(40)
    ]  # fmt: skip
    with open_store(store, writable=True) as opened:
        opened.add_observations(records, bulk=True, expected_rows=len(records))
    assert kept(store)[(_cell(spot.lon), _cell(spot.lat))] == 40
    assert kept(store) == counted_here(store)
    assert kept_years(store) == years_here(store)
    with open_store(store, writable=True) as opened:  # the trigger is back for the next write
        opened.add_observations([record("b-after", "quanhe-wonjong", "2026-03", kind="traffic",
                                        location=spot, has_own_location=True)])  # fmt: skip
    assert kept(store)[(_cell(spot.lon), _cell(spot.lat))] == 41


def _as_version_6(store: Path) -> None:
    for tally in TALLIES:
        for name in ("added", "removed", "moved"):
            execute(store, f"DROP TRIGGER {tally.table}_{name}")
        execute(store, f"DROP TABLE {tally.table}")
        execute(store, f"DELETE FROM gpkg_contents WHERE table_name = '{tally.table}'")
    execute(store, "UPDATE crossings_meta SET value = '6' WHERE key = 'schema_version'")


def test_an_older_store_read_only_is_counted_from_its_index_and_left_as_it_is(store: Path):
    _as_version_6(store)
    before = store.read_bytes()
    with open_store(store) as opened:
        cells = located_cells(opened, CELL_DEG)
    assert dict(zip(zip(cells.lon, cells.lat, strict=True), cells.counts, strict=True)) == (
        counted_here(store)
    )
    assert kept_years(store) == years_here(store)
    assert store.read_bytes() == before


def test_migrating_an_older_store_counts_its_records_and_says_so(store: Path, caplog):
    _as_version_6(store)
    with open_store(store, writable=True) as opened:
        meta = dict(opened._query("SELECT key, value FROM crossings_meta", {}))
    assert meta["schema_version"] == "7" and "migrated_to_7" in meta
    assert "bringing the store from schema version 6 up to 7, once" in caplog.text
    assert kept(store) == counted_here(store)
    assert kept_years(store) == years_here(store)


@pytest.mark.parametrize("dates", [(), ("1999", "1999-12-31"), ("1999-12-31", "1999")])
def test_the_first_day_found_through_the_counts_is_the_first_day_of_any_record(any_store, dates):
    """Only the crossings whose records end earliest are looked at: none is passed over.

    ``dates``: a record of Quanhe and one of Ji'an, each at the border of a year.
    """
    added = [
        record(f"f-{n}", crossing, when, kind="traffic")
        for n, (crossing, when) in enumerate(
            zip(("quanhe-wonjong", "jian-manpo-road"), dates, strict=False)
        )
    ]
    with open_store(any_store, writable=True) as opened:
        opened.add_observations(added)
    with open_store(any_store) as opened:
        every = [o.date.start for o in opened.iter_observations()]
        assert first_day(opened, list(opened.crossings())) == min(every)
        quanhe = [o.date.start for o in opened.iter_observations()
                  if o.crossing_id in (None, "quanhe-wonjong")]  # fmt: skip
        assert first_day(opened, ["quanhe-wonjong"]) == min(quanhe)


def test_a_box_reads_the_cells_whose_centres_lie_in_it(any_store):
    with open_store(any_store) as opened:
        every = located_cells(opened, CELL_DEG)
        box = (124.3, 40.0, 124.5, 40.2)
        assert located_cells(opened, CELL_DEG, box) == every.within(box, CELL_DEG)
        assert located_cells(opened, CELL_DEG, box).counts  # the Friendship Bridge's records


@pytest.mark.parametrize("tally", TALLIES, ids=lambda t: t.table)
def test_counts_that_drifted_are_named_by_validate(tally, any_store):
    execute(any_store, f"UPDATE {tally.table} SET records = records + 3 WHERE fid = "
            f"(SELECT min(fid) FROM {tally.table})")  # fmt: skip
    done = CliRunner().invoke(cli, ["validate", "--store", any_store])
    assert done.exit_code == 1
    assert f"{tally.table}: 1 counts differ from the records'" in done.output
    assert "crossings copy" in done.output


@pytest.mark.parametrize("column", ["records", "key"])
@pytest.mark.parametrize("tally", TALLIES, ids=lambda t: t.table)
def test_a_count_another_program_made_text_is_named_not_a_traceback(tally, column, store: Path):
    column = tally.keys[1] if column == "key" else column  # the cell's row, or the year
    execute(store, f"UPDATE {tally.table} SET {column} = 'many' WHERE fid = 1")
    named = f"{tally.table}: holds a value another program wrote that is not a whole number"
    done = CliRunner().invoke(cli, ["validate", "--store", str(store)])
    assert done.exit_code == 1 and named in done.output and "Traceback" not in done.output
    with open_store(store) as opened, pytest.raises(StoreFaultError, match=named):
        for crossing in [None, *opened.crossings()]:  # a map past its limits reads these
            located_cells(opened, CELL_DEG)
            first_day(opened, list(opened.crossings()))
            year_counts(opened, crossing)


@pytest.mark.gdal
def test_the_counts_table_passes_gdals_validator(store: Path):
    from tests.common import run_gdal_validator

    execute(store, "DELETE FROM observations WHERE fid = 1")
    done = run_gdal_validator(store)
    assert done.returncode == 0, done.stdout + done.stderr
