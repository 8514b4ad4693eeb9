"""A store shared by a team: writers at once, crashes mid-write, copies between backends.

The PostGIS tests run against a real server the tests start (tests/postgres.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from geo.browse import list_crossings
from geo.cli import cli
from geo.store import open_store
from tests.common import execute, run_gdal_validator

ROOT = Path(__file__).parent.parent

#: A process that adds ``count`` records, one command each, and prints how many it added.
WRITER = """
import sys
from geo.record import add_observation
store, worker, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
for n in range(count):
    add_observation(store, {
        "crossing_id": "quanhe-wonjong", "date": "2025-06", "kind": "traffic",
        "summary": f"Trucks counted by writer {worker}, sighting {n}",
        "source_url": "https://example.org/t", "source_type": "satellite_imagery",
    })
print(count)
"""


def writers(store: str, workers: int, count: int) -> list[subprocess.CompletedProcess[str]]:
    started = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, store, str(worker), str(count)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for worker in range(workers)
    ]
    done = []
    for process in started:
        out, err = process.communicate(timeout=600)
        done.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return done


def traffic_records(store: str) -> int:
    with open_store(store) as opened:
        return sum(1 for o in opened.observations("quanhe-wonjong") if o.kind == "traffic")


@pytest.mark.slow
def test_four_writers_at_once_into_postgis_store_every_record(database: str):
    before = traffic_records(database)
    done = writers(database, 4, 300)
    assert [d.returncode for d in done] == [0, 0, 0, 0], [d.stderr[-500:] for d in done]
    assert all("Error" not in d.stderr and "Traceback" not in d.stderr for d in done)
    assert traffic_records(database) == before + 1200


@pytest.mark.slow
def test_two_writers_at_once_into_one_geopackage_store_every_record(store: Path):
    before = traffic_records(str(store))
    done = writers(str(store), 2, 300)
    assert [d.returncode for d in done] == [0, 0], [d.stderr[-500:] for d in done]
    assert traffic_records(str(store)) == before + 600


OBSERVE = [
    sys.executable, "-m", "geo", "observe", "quanhe-wonjong", "--on", "2025-07", "--kind",
    "traffic", "--summary", "Queue seen", "--source-url", "https://example.org/w",
    "--source-type", "satellite_imagery",
]  # fmt: skip


def test_a_record_added_from_two_machines_at_once_is_stored_once(any_store: str):
    # Two processes add the same record (same content, so the same id) at the same moment.
    command = [*OBSERVE, "--store", any_store]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, "cwd": ROOT}
    started = [subprocess.Popen(command, **pipes) for _ in range(2)]
    done = [(p.wait(timeout=120), *p.communicate()) for p in started]
    assert sorted(code for code, _, _ in done) == [0, 1]
    (_, _, refused) = next(d for d in done if d[0] == 1)
    last = refused.strip().splitlines()[-1]  # after a line saying it waited, if it did
    assert last.startswith("Error: observation: ") and "is already in the store" in last
    with open_store(any_store) as opened:
        found = [o for o in opened.observations("quanhe-wonjong") if o.summary == "Queue seen"]
    assert len(found) == 1


def test_a_writer_that_waits_says_so(any_store: str):
    """Another writer holds the store: the command says it waits, then writes when it may."""
    if any_store.startswith("postgresql://"):
        import psycopg

        holder = psycopg.connect(any_store)
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (0x58494E47,))
        release = holder.rollback
    else:
        import sqlite3

        holder = sqlite3.connect(any_store, isolation_level=None)  # type: ignore[assignment]
        holder.execute("BEGIN IMMEDIATE")
        release = lambda: holder.execute("ROLLBACK")  # noqa: E731
    process = subprocess.Popen(
        [*OBSERVE, "--store", any_store],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        time.sleep(3)
        assert process.poll() is None  # still waiting
    finally:
        release()
        holder.close()
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "another" in err and "writ" in err and "waiting" in err
    assert json.loads(out)["id"].startswith("o-")


KILLER = """
import os, signal, sys
import geo.record as record

def killed(opened, touched=None):  # the records are written; the snapshot is not yet
    os.kill(os.getpid(), signal.SIGKILL)

record.refresh_status_snapshot = killed
record.add_observation(sys.argv[1], {
    "crossing_id": "quanhe-wonjong", "date": "2026-02", "kind": "status", "status": "closed",
    "summary": "Closed after a flood", "source_url": "https://example.org/f",
    "source_type": "news_report",
})
"""


def test_a_writer_killed_between_its_records_and_the_snapshot_leaves_them_in_step(
    any_store: str,
):
    done = subprocess.run(
        [sys.executable, "-c", KILLER, any_store],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL
    with open_store(any_store, writable=True) as opened:  # undoes what the crash left
        snapshot = dict(opened._query("SELECT id, status_now FROM crossings", {}))
        summaries = [o.summary for o in opened.observations("quanhe-wonjong")]
    assert "Closed after a flood" not in summaries  # the write was undone whole
    derived = {s.crossing.id: s.status.status for s in list_crossings(any_store)}
    assert snapshot == derived
    assert derived["quanhe-wonjong"] == "open"


def run(*args: str) -> object:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def stored(store: str) -> dict[str, object]:
    with open_store(store) as opened:
        return {
            "crossings": opened.crossings(),
            "structures": opened.structures(),
            "observations": {o.id: o for o in opened.observations()},
            "trade": opened.trade(),
        }


def test_copy_geopackage_to_postgis_and_back_loses_nothing(
    shipped_store: Path, postgres_server, tmp_path: Path
):
    database = postgres_server.database()
    there = run("copy", str(shipped_store), database)
    assert there.exit_code == 0, there.output
    with open_store(shipped_store) as opened:
        assert json.loads(there.output)["observations"] == opened.count()
    back = tmp_path / "back.gpkg"
    again = run("copy", database, str(back))
    assert again.exit_code == 0, again.output
    original, copied = stored(str(shipped_store)), stored(str(back))
    assert copied == original  # ids, every field, points, dates with precision, corrections
    assert stored(database) == original
    assert run_gdal_validator(back).returncode == 0
    # A copy never lands on a store that exists, unless asked to.
    refused = run("copy", str(shipped_store), database)
    assert refused.exit_code == 1 and "already holds a crossings store" in refused.output
    assert run("copy", str(shipped_store), database, "--force").exit_code == 0


def test_copy_checks_each_record_and_writes_nothing_on_a_bad_one(
    any_store: str, postgres_server, tmp_path: Path
):
    execute(any_store, "UPDATE observations SET source_type = 'rumour' WHERE fid = 3")
    target = tmp_path / "copy.gpkg"
    result = run("copy", any_store, str(target))
    assert result.exit_code == 1
    assert "row 3: source_type: 'rumour' is not a known value" in result.output
    assert not target.exists()


def test_merge_from_a_database(any_store: str, postgres_server, _built_database: str):
    database = postgres_server.database(template=_built_database)  # a colleague's store
    added = run(
        "observe", "quanhe-wonjong", "--on", "2025-09", "--kind", "traffic", "--summary",
        "Buses seen", "--source-url", "https://example.org/b", "--source-type",
        "ground_observation", "--store", database,
    )  # fmt: skip
    new_id = json.loads(added.output)["id"]
    merged = run("merge", database, "--store", any_store)
    assert merged.exit_code == 0, merged.output
    assert json.loads(merged.output)["observations"] == [new_id]
    assert json.loads(run("merge", database, "--store", any_store).output)["observations"] == []


def test_an_unreachable_database_is_named_without_its_password(postgres_server):
    url = f"postgresql://crossings:s3cret@127.0.0.1:{postgres_server.port + 1}/nowhere"
    result = CliRunner().invoke(cli, ["list", "--store", url])
    assert result.exit_code == 1
    assert (
        result.output.startswith("Error: postgresql://crossings:***@127.0.0.1:")
        and "cannot reach the database" in result.output
    )
    assert "s3cret" not in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_database_without_a_store_says_how_to_make_one(postgres_server):
    url = postgres_server.database()
    result = CliRunner().invoke(cli, ["list", "--store", url])
    assert result.exit_code == 1
    assert "holds no crossings store" in result.output
    assert f"crossings init --store {url}" in result.output


def test_environment_names_the_database(database: str):
    result = CliRunner().invoke(
        cli, ["list", "--format", "json"], env={"CROSSINGS_STORE": database}
    )
    assert result.exit_code == 0
    assert len(json.loads(result.output)) == 4


def test_the_snapshot_is_written_with_its_records(any_store: str):
    # The snapshot QGIS styles by follows a new status record at once.
    os.environ.pop("CROSSINGS_STORE", None)
    result = run(
        "observe", "quanhe-wonjong", "--on", "2026-01", "--kind", "status", "--status",
        "closed", "--summary", "Closed", "--source-url", "https://example.org/c",
        "--source-type", "news_report", "--store", any_store,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with open_store(any_store) as opened:
        row = opened._query("SELECT status_now FROM crossings WHERE id = 'quanhe-wonjong'", {})
    assert row[0][0] == "closed"


def test_a_database_store_changed_by_another_tool_is_named_for_it(database: str):
    execute(database, "ALTER TABLE observations DROP COLUMN lifecycle")
    result = CliRunner().invoke(cli, ["list", "--store", database])
    assert result.exit_code == 1
    assert "its table 'observations' lacks the column(s) lifecycle" in result.output
    assert "Traceback" not in result.output


def test_a_user_who_may_not_enable_postgis_is_told_whom_to_ask(postgres_server, data_dir: Path):
    url = postgres_server.url(postgres_server.database(template="template0").rsplit("/", 1)[1])
    postgres_server.sql("DO $$ BEGIN CREATE ROLE clerk LOGIN; EXCEPTION WHEN duplicate_object "
                        "THEN NULL; END $$")  # fmt: skip
    database = url.rsplit("/", 1)[1]
    postgres_server.sql(f"GRANT CREATE ON DATABASE {database} TO clerk")
    postgres_server.sql("GRANT CREATE ON SCHEMA public TO clerk", database)
    clerk = url.replace("crossings@", "clerk@")
    result = run("init", "--seed", str(data_dir / "seed"), "--store", clerk)
    assert result.exit_code == 1
    assert "PostGIS is not enabled in this database, and this user may not enable it" in (
        result.output
    )
    assert "CREATE EXTENSION postgis" in result.output


def test_database_faults_are_named_for_what_they_are():
    import psycopg

    from geo.store.postgis import database_fault

    url = "postgresql://desk:s3cret@db.example.org:5432/crossings"
    said = {
        kind: str(database_fault(kind("the server's words"), url))
        for kind in (
            psycopg.errors.DiskFull,
            psycopg.errors.DeadlockDetected,
            psycopg.errors.InsufficientPrivilege,
            psycopg.OperationalError,
            psycopg.errors.UndefinedTable,
        )
    }
    assert "disk is full" in said[psycopg.errors.DiskFull]
    assert "another writer changed the same records" in said[psycopg.errors.DeadlockDetected]
    assert "refused this user" in said[psycopg.errors.InsufficientPrivilege]
    assert "cannot reach the database" in said[psycopg.OperationalError]
    assert "the database reported an error" in said[psycopg.errors.UndefinedTable]
    for message in said.values():
        assert message.startswith("postgresql://desk:***@db.example.org:5432/crossings: ")
        assert "s3cret" not in message and "the server's words" in message
    hidden = str(
        database_fault(psycopg.OperationalError("no"), url + "?sslmode=require&password=s3cret")
    )
    assert "s3cret" not in hidden and "sslmode=require&password=***" in hidden


def test_copy_refuses_its_own_source_and_a_file_that_exists(store: Path, tmp_path: Path):
    before = store.read_bytes()
    same = run("copy", str(store), str(store.parent / "." / store.name))
    assert same.exit_code == 1 and "DST: " in same.output and "is SRC itself" in same.output
    other = tmp_path / "other.gpkg"
    other.write_bytes(b"kept")
    refused = run("copy", str(store), str(other))
    assert refused.exit_code == 1
    assert f"{other} already exists. Fix: pass --force to replace it" in refused.output
    assert other.read_bytes() == b"kept" and store.read_bytes() == before
    # --force replaces a store, never a file that is not one.
    forced = run("copy", str(store), str(other), "--force")
    assert forced.exit_code == 1 and "is a file that is not a SQLite database" in forced.output
    assert other.read_bytes() == b"kept"
    kept = tmp_path / "kept.gpkg"
    assert run("copy", str(store), str(kept)).exit_code == 0
    assert run("copy", str(store), str(kept), "--force").exit_code == 0
    assert json.loads(run("list", "--format", "json", "--store", str(kept)).output)


def test_a_folder_is_not_a_store(tmp_path: Path):
    result = run("list", "--store", str(tmp_path))
    assert result.exit_code == 1
    assert f"{tmp_path}: is a folder, not a store" in result.output


# -- the status periods layer, on both backends ---------------------------------------------


def test_the_status_periods_are_the_same_on_both_backends_after_each_write(
    store: Path, database: str
):
    def periods(target: str) -> list[object]:
        with open_store(target) as opened:
            return list(opened.status_periods())

    assert periods(database) == periods(str(store)) != []
    closed = [
        "observe", "quanhe-wonjong", "--on", "2025-11", "--kind", "status", "--status", "closed",
        "--summary", "Shut for the winter", "--source-url", "https://example.org/w",
        "--source-type", "news_report",
    ]  # fmt: skip
    for target in (str(store), database):
        assert run(*closed, "--store", target).exit_code == 0
    after = periods(database)
    assert after == periods(str(store))
    last = [p for p in after if p.crossing_id == "quanhe-wonjong"][-1]  # type: ignore[attr-defined]
    assert (last.start.isoformat(), last.end, last.status) == ("2025-11-30", None, "closed")  # type: ignore[attr-defined]
    # A layer QGIS reads: points of EPSG:4326 at the crossing, dates as dates.
    with open_store(database) as opened:
        (row,) = opened._query(
            'SELECT ST_SRID(p.geom), ST_Equals(p.geom, c.geom), pg_typeof(p."end")::text '
            "FROM status_periods p JOIN crossings c ON c.id = p.crossing_id "
            "WHERE p.crossing_id = 'quanhe-wonjong' AND p.\"start\" = '2023-02-28'",
            {},
        )
    assert row == (4326, True, "date")


def test_a_copy_between_backends_derives_the_same_status_periods(
    shipped_store: Path, postgres_server
):
    database = postgres_server.database()
    assert run("copy", str(shipped_store), database).exit_code == 0
    with open_store(shipped_store) as there, open_store(database) as here:
        assert here.status_periods() == there.status_periods() != []
