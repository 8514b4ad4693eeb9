"""Faults and hostile input: every one named for what it is, nothing lost, nothing run."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from geo.build import validate_inventory
from geo.cli import cli
from geo.errors import RecordValidationError
from geo.publish import export_inventory
from geo.record import import_observations
from geo.store import open_store
from tests.test_timelines import record

ROOT = Path(__file__).parent.parent


def run(*args: str, store: Path | None = None):
    full = [*args, "--store", str(store)] if store is not None else list(args)
    return CliRunner().invoke(cli, full)


def crossings_command(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed command in its own process, as a user does."""
    command = Path(sys.executable).with_name("crossings")
    return subprocess.run(
        [str(command), *args], capture_output=True, text=True, timeout=120, check=False
    )


def raw(store: Path) -> sqlite3.Connection:
    """A connection that writes as another program would (with GDAL's R-tree functions)."""
    from geo.store.gpkg import _connect

    return _connect(store, readonly=False)


def tamper(store: Path, *statements: str) -> None:
    """Change the store behind the tool's back, as another program sharing it could."""
    connection = raw(store)
    try:
        for statement in statements:
            connection.execute(statement)
    finally:
        connection.close()


# -- outputs: written beside, renamed into place, never through a link --------


def test_export_kmz_is_a_real_kmz_with_every_placemark(store: Path, tmp_path: Path):
    out = tmp_path / "out.kmz"
    counts = export_inventory(store, out, "kml")
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == ["doc.kml", "files/pin.png"]
    kml = tmp_path / "out.kml"
    export_inventory(store, kml, "kml")
    import pyogrio

    def placemarks(source: str) -> int:
        return sum(
            pyogrio.read_info(source, layer=n)["features"] for n, _ in pyogrio.list_layers(source)
        )

    assert placemarks(f"/vsizip/{out}/doc.kml") == placemarks(str(kml)) == counts["placemarks"]
    assert counts["placemarks"] > counts["observations"]  # status periods as well


@pytest.mark.parametrize("name", ["out.txt", "out", "out.geojson"])
def test_export_file_name_must_match_the_format(store: Path, tmp_path: Path, name: str):
    out = tmp_path / name
    with pytest.raises(RecordValidationError, match=r"--out: .* which --format kml writes"):
        export_inventory(store, out, "kml")
    assert list(tmp_path.iterdir()) == [store] if store.parent == tmp_path else not out.exists()
    assert not out.exists()


def test_export_force_keeps_the_old_file_when_the_write_fails(
    store: Path, tmp_path: Path, monkeypatch
):
    out = tmp_path / "out.csv"
    export_inventory(store, out, "csv")
    before = out.read_bytes()

    def fail_midway(path, observations, crossings=None):
        Path(path).write_text("crossing_id,date\nhalf", encoding="utf-8")
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr("geo.publish.write_csv", fail_midway)
    with pytest.raises(OSError):
        export_inventory(store, out, "csv", force=True)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out.csv", store.name])
    result = run("export", "--format", "csv", "--out", str(out), "--force", store=store)
    assert result.exit_code == 1
    assert "the disk is full; nothing was replaced" in result.output
    assert "Traceback" not in result.output


def test_export_refuses_a_link_even_a_dangling_one(store: Path, tmp_path: Path):
    elsewhere = tmp_path / "elsewhere.csv"
    link = tmp_path / "out.csv"
    link.symlink_to(elsewhere)
    result = run("export", "--format", "csv", "--out", str(link), "--force", store=store)
    assert result.exit_code == 1
    assert f"--out: '{link}' is a symbolic link" in result.output
    assert not elsewhere.exists()


def test_map_keeps_existing_pages_without_force_and_never_writes_through_a_link(
    store: Path, tmp_path: Path
):
    out = tmp_path / "maps"
    assert run("map", "--out", str(out), store=store).exit_code == 0
    page = out / "quanhe-wonjong.html"
    page.write_text("my edited page", encoding="utf-8")
    result = run("map", "--out", str(out), store=store)
    assert result.exit_code == 1
    assert "exists already" in result.output and "pass --force" in result.output
    assert page.read_text(encoding="utf-8") == "my edited page"
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    (out / "index.html").unlink()
    (out / "index.html").symlink_to(victim)
    result = run("map", "--out", str(out), "--force", store=store)
    assert result.exit_code == 1 and "is a symbolic link" in result.output
    assert victim.read_text(encoding="utf-8") == "keep me"
    assert page.read_text(encoding="utf-8") == "my edited page"  # refused before any write
    (out / "index.html").unlink()
    assert run("map", "--out", str(out), "--force", store=store).exit_code == 0
    assert "<html" in page.read_text(encoding="utf-8").lower()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # nothing left beside


def test_a_crossing_id_that_is_a_path_writes_nothing_outside(store: Path, tmp_path: Path):
    tamper(
        store,
        "UPDATE crossings SET id = '../../escaped' WHERE id = 'quanhe-wonjong'",
        "UPDATE observations SET crossing_id = '../../escaped' "
        "WHERE crossing_id = 'quanhe-wonjong'",
    )
    out = tmp_path / "deep" / "maps"
    result = run("map", "--out", str(out), store=store)
    assert result.exit_code == 1
    assert "crossing id: '../../escaped' cannot name a page" in result.output
    assert not (tmp_path / "escaped.html").exists() and not out.exists()
    problems = validate_inventory(store)
    assert any(
        p.startswith("crossing '../../escaped': id: '../../escaped' is not a slug")
        for p in problems
    )


# -- store faults: named for what they are, never advice that destroys records -


def test_a_store_of_another_shape_is_named_as_such(store: Path):
    tamper(store, "ALTER TABLE observations RENAME COLUMN summary TO text")
    result = run("list", store=store)
    assert result.exit_code == 1
    assert "its layer 'observations' lacks the column(s) summary" in result.output
    assert "init" not in result.output.replace("made by `crossings init`", "")


def test_a_schema_version_that_is_not_a_number(store: Path):
    tamper(store, "UPDATE crossings_meta SET value = 'three' WHERE key = 'schema_version'")
    result = run("list", store=store)
    assert result.exit_code == 1
    assert "has schema version 'three', which is not a number" in result.output
    assert "Traceback" not in result.output


def test_a_write_into_a_damaged_store_is_refused(store: Path):
    connection = raw(store)
    (page,) = connection.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'observations'"
    ).fetchone()
    (size,) = connection.execute("PRAGMA page_size").fetchone()
    connection.close()
    data = bytearray(store.read_bytes())
    data[(page - 1) * size + 8 : (page - 1) * size + 40] = b"\x07" * 32  # its child pointers
    store.write_bytes(bytes(data))
    before = store.read_bytes()
    result = run(
        "observe", "friendship-bridge", "--on", "2025-03", "--kind", "infrastructure",
        "--summary", "New gate", "--source-url", "https://example.org/g",
        "--source-type", "news_report", store=store,
    )  # fmt: skip
    assert result.exit_code == 1
    assert "the store is damaged: the integrity check fails" in result.output
    assert store.read_bytes() == before
    for command in ("list", "show", "map", "export"):
        extra = {"show": ["quanhe-wonjong"], "export": ["--format", "csv", "--out", "x.csv"]}
        result = run(command, *extra.get(command, []), store=store)
        assert result.exit_code == 1, command
        assert "the store is damaged" in result.output and "Traceback" not in result.output
    result = run("validate", store=store)
    assert result.exit_code == 1 and "sqlite: " in result.output


def test_the_extent_covers_every_feature_and_validate_checks_it(store: Path):
    result = run(
        "observe", "border", "--on", "2025-03", "--kind", "context", "--summary", "Far away",
        "--source-url", "https://example.org/f", "--source-type", "news_report",
        "--at", "0,0", store=store,
    )  # fmt: skip
    assert result.exit_code == 1
    assert "location: '0.0, 0.0' is outside the border region" in result.output
    with open_store(store) as opened:
        before = opened._connection.execute(
            "SELECT min_x, max_x FROM gpkg_contents WHERE table_name = 'observations'"
        ).fetchone()
    tamper(store, "UPDATE gpkg_contents SET min_x = 0, max_x = 0 WHERE table_name = 'observations'")
    problems = validate_inventory(store)
    assert any("observations: the extent in gpkg_contents" in p for p in problems)
    assert before[0] <= 124.4 and before[1] >= 130.5  # the test seed's crossings, west to east


# -- a crash during an import --------------------------------------------------


def test_kill_during_import_then_every_read_works_and_says_nothing_misleading(
    store: Path, tmp_path: Path
):
    rows = ["crossing_id,date,kind,summary,source_url,source_type"]
    rows += [
        f"quanhe-wonjong,2024,traffic,Trucks counted {n},https://example.org/t,satellite_imagery"
        for n in range(120_000)
    ]
    big = tmp_path / "big.csv"
    big.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with open_store(store) as opened:
        records = opened.count()
    rng = random.Random(10)
    command = Path(sys.executable).with_name("crossings")
    journal = store.with_name(store.name + "-journal")
    landed = 0  # kills that left a write half done: a hot journal beside the file
    for moment in sorted(rng.uniform(0.5, 6.0) for _ in range(10)):
        process = subprocess.Popen([str(command), "import", str(big), "--store", str(store)])
        time.sleep(moment)
        process.send_signal(signal.SIGKILL)
        process.wait()
        landed += journal.exists() and journal.stat().st_size > 0
        for args in (["list"], ["show", "quanhe-wonjong"], ["status", "--as-of", "2021-06-01"]):
            done = crossings_command(*args, "--store", str(store))
            assert done.returncode == 0, (moment, args, done.stderr)
            assert "not a GeoPackage" not in done.stderr and "init" not in done.stderr
        with open_store(store) as opened:
            assert opened.count() in (records, records + 120_000)  # all or nothing
        assert validate_inventory(store) == []
    assert landed >= 1  # the test saw at least one write killed midway


def test_a_left_over_journal_is_undone_and_said(store: Path):
    # A hot journal as a killed writer leaves it: some of the writer's pages are in the file.
    with open_store(store) as opened:
        trade = opened.trade()
    script = (
        "import os, sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('PRAGMA cache_size = 1')\n"
        "c.execute('BEGIN IMMEDIATE')\n"
        "c.execute(\"UPDATE trade SET notes = 'changed'\")\n"
        "c.execute('CREATE TABLE filler AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL '\n"
        "          'SELECT i + 1 FROM n WHERE i < 20000) SELECT i, randomblob(200) AS b FROM n')\n"
        "os._exit(9)\n"
    )
    assert subprocess.run([sys.executable, "-c", script, str(store)], check=False).returncode == 9
    assert Path(f"{store}-journal").stat().st_size > 0
    done = crossings_command("list", "--format", "json", "--store", str(store))
    assert done.returncode == 0, done.stderr
    assert "a write that was interrupted" in done.stderr and "was undone" in done.stderr
    assert not Path(f"{store}-journal").exists()
    with open_store(store) as opened:
        assert opened.trade() == trade
        assert not opened._has_table("filler")


def test_a_journal_that_cannot_be_undone_is_named():
    from geo.store import store_fault

    error = sqlite3.OperationalError("attempt to write a readonly database")
    error.sqlite_errorname = "SQLITE_READONLY_ROLLBACK"  # type: ignore[attr-defined]
    message = str(store_fault(error, "s.gpkg"))
    assert message.startswith("s.gpkg: holds a write that was interrupted")
    assert "the records as they were before that write are intact" in message
    assert "init" not in message


# -- the terminal ---------------------------------------------------------------


def test_escape_sequences_from_a_store_never_reach_the_terminal(store: Path):
    tamper(
        store,
        "UPDATE observations SET summary = 'Gate \x1b]0;owned\x07 \x1b[2J opened \x9b31m'"
        " WHERE crossing_id = 'quanhe-wonjong'",
        "UPDATE crossings SET name_en = 'Quanhe\x1b[8m' WHERE id = 'quanhe-wonjong'",
    )
    for args in (
        ["show", "quanhe-wonjong"],
        ["list"],
        ["changes", "--from", "2000", "--to", "2026", "--records"],
    ):
        result = run(*args, store=store)
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\x07" not in result.output
        assert "\x9b" not in result.output
    assert (
        "Gate ␛]0;owned␇ ␛[2J opened"
        in run("show", "quanhe-wonjong", "--format", "wide", store=store).output
    )
    as_json = run("show", "quanhe-wonjong", "--format", "json", store=store).output
    assert "\x1b" not in as_json and "\x9b" not in as_json
    assert json.loads(as_json)["crossing"]["name_en"] == "Quanhe\x1b[8m"  # JSON escapes it


def test_text_that_is_not_utf8_on_the_command_line(store: Path):
    summary = b"Gate \xff opened".decode("utf-8", "surrogateescape")
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("crossings")), "observe", "quanhe-wonjong",
            "--on", "2025-03", "--kind", "infrastructure", "--summary", summary,
            "--source-url", "https://example.org/u", "--source-type", "news_report",
            "--store", str(store),
        ],
        capture_output=True, text=True, errors="surrogateescape", timeout=60, check=False,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
    )  # fmt: skip
    assert done.returncode == 1
    assert "summary:" in done.stderr and "holds bytes that are not UTF-8" in done.stderr
    assert "Traceback" not in done.stderr


def test_import_of_a_file_with_a_nul_byte_is_refused(store: Path, tmp_path: Path):
    path = tmp_path / "nul.csv"
    path.write_text(
        "crossing_id,date,kind,summary,source_url,source_type\n"
        "quanhe-wonjong,2025-03,infrastructure,Gate\x00 opened,https://example.org/n,news_report\n",
        encoding="utf-8",
    )
    before = store.read_bytes()
    with pytest.raises(Exception, match=r"row 2: summary: .* holds the control character U\+0000"):
        import_observations(store, path)
    assert store.read_bytes() == before


def test_a_full_disk_during_import_is_named_and_nothing_is_written(
    store: Path, tmp_path: Path, monkeypatch
):
    # SQLite's page limit makes the file "full" exactly as a full disk does (SQLITE_FULL).
    import geo.store

    connect = geo.store.gpkg._connect

    def small_disk(path: Path, *, readonly: bool) -> sqlite3.Connection:
        connection = connect(path, readonly=readonly)
        connection.execute("PRAGMA max_page_count = 1500")  # 6 MB: full midway through
        return connection

    monkeypatch.setattr(geo.store.gpkg, "_connect", small_disk)
    rows = ["crossing_id,date,kind,summary,source_url,source_type"]
    rows += [
        f"quanhe-wonjong,2024,traffic,Trucks counted {n},https://example.org/t,satellite_imagery"
        for n in range(60_000)  # a bulk load: its indexes are built at the end
    ]
    big = tmp_path / "big.csv"
    big.write_text("\n".join(rows) + "\n", encoding="utf-8")
    before = store.read_bytes()
    result = run("import", str(big), store=store)
    assert result.exit_code == 1
    assert "the disk is full" in result.output and "nothing was changed" in result.output
    assert "cannot rollback" not in result.output and "Traceback" not in result.output
    assert store.read_bytes() == before
    assert not Path(f"{store}-journal").exists()


def test_an_output_folder_that_cannot_be_written_is_named(store: Path):
    # Nobody, not even root, creates files in sysfs: a folder that refuses writes.
    result = run("export", "--format", "csv", "--out", "/sys/crossings.csv", store=store)
    assert result.exit_code == 1
    assert result.output == (
        "Error: /sys/crossings.csv: cannot be written: the file or its folder is read-only; "
        "nothing was replaced. Fix: check the permissions, or write to another folder\n"
    )


def test_a_reader_that_stops_reading_is_not_a_fault(shipped_store: Path):
    command = Path(sys.executable).with_name("crossings")
    done = subprocess.run(
        # About 100 kB of JSON: more than a pipe holds, so writing goes on after `head` left.
        f"'{command}' near 41,127 --km 1000 --observations --format json "
        f"--store '{shipped_store}' | head -1",
        shell=True, capture_output=True, text=True, timeout=60, check=False,
        executable="/bin/bash",
    )  # fmt: skip
    assert done.stdout == "[\n"
    assert done.stderr == ""  # no "Broken pipe" error, no traceback


def test_opening_a_store_keeps_the_lock_of_a_write_under_way_in_the_same_process(store: Path):
    """A process that closes any descriptor of a file loses its locks on it (POSIX): an open
    that read the file's header so let another process take the store in the middle of a
    write, and roll that write back as a crash's leftover."""
    try_write = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)\n"
        "try:\n"
        "    c.execute('BEGIN IMMEDIATE')\n"
        "except sqlite3.OperationalError as err:\n"
        "    print(err)\n"
        "else:\n"
        "    print('took the store')\n"
    )

    def other_process() -> str:
        run = subprocess.run(
            [sys.executable, "-c", try_write, str(store)],
            capture_output=True,
            text=True,
            check=True,
        )
        return run.stdout.strip()

    with open_store(store, writable=True) as writing, writing.transaction():
        writing.add_observations([record("w-under-way", "quanhe-wonjong", "2025-06")])
        assert other_process() == "database is locked"
        for _ in range(3):  # a server's other threads open the store meanwhile
            with open_store(store) as reading:
                reading.count()
        assert other_process() == "database is locked"
    assert other_process() == "took the store"


def test_reading_while_another_process_writes_undoes_nothing_and_says_nothing(
    store: Path, caplog: pytest.LogCaptureFixture
):
    """A live writer's journal is not a crash's: readers neither roll it back nor report one."""
    script = (
        "import sys, time\n"
        "from tests.test_timelines import record\n"
        "from geo.store import open_store\n"
        "end, n = time.time() + 4, 0\n"
        "while time.time() < end:\n"
        "    n += 1\n"
        "    with open_store(sys.argv[1], writable=True) as o:\n"
        "        o.add_observations([record(f'live-{n}', 'quanhe-wonjong', '2025-06')])\n"
        "print(n)\n"
    )
    root = Path(__file__).parent.parent
    writer = subprocess.Popen(
        [sys.executable, "-c", script, str(store)], cwd=root, stdout=subprocess.PIPE, text=True
    )
    journal = store.with_name(store.name + "-journal")
    seen_journal = 0
    with caplog.at_level("WARNING"):
        while writer.poll() is None:
            seen_journal += journal.exists()
            with open_store(store) as opened:
                opened.count()
    output, _ = writer.communicate()
    written = int(output)
    assert writer.returncode == 0 and written > 10
    assert seen_journal > 0  # the readers did meet the writer's journal
    assert "undone" not in caplog.text
    with open_store(store) as opened:
        rows = opened._query("SELECT count(*) FROM observations WHERE id LIKE 'live-%'", {})
    assert rows[0][0] == written
