"""The second round of hostile input and faults: nothing lost, nothing leaked, nothing misleading.

Each class of fault has the example that found it and tests beyond it.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import geo.outputs
from geo.build import validate_inventory
from geo.cli import cli
from geo.errors import BatchValidationError, ConflictingRecordError, RecordValidationError
from geo.publish import export_inventory
from geo.record import add_observation, import_observations
from geo.store import open_store

DATA = Path(__file__).parent / "data"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def counts(store: str | Path) -> tuple[int, int]:
    with open_store(store) as opened:
        return len(opened.crossings()), opened.count()


# -- 1. no command destroys the store it reads ----------------------------------


def test_export_of_a_subset_over_its_own_store_is_refused(store: Path):
    # The example: this reported success and left 1 of the crossings in the store.
    before, held = digest(store), counts(store)
    result = run(
        "export", "--format", "gpkg", "--out", str(store), "--force",
        "--crossing", "quanhe-wonjong", "--store", str(store),
    )  # fmt: skip
    assert result.exit_code == 1
    assert f"--out: '{store}' is the store this command reads" in result.output
    assert "writing it would destroy the store" in result.output
    assert digest(store) == before and counts(store) == held


def aliases(store: Path) -> dict[str, Path]:
    """Other names of the store, and of SQLite's files beside it (made here as needed)."""
    folder = store.parent
    (folder / "via").symlink_to(folder, target_is_directory=True)
    os.link(store, folder / "hard-link.gpkg")
    return {
        "the path": store,
        "a relative path with ..": Path(os.path.relpath(folder / "x" / ".." / store.name)),
        "through a linked folder": folder / "via" / store.name,
        "a hard link": folder / "hard-link.gpkg",
        "its journal": store.with_name(store.name + "-journal"),
        "its write-ahead log": store.with_name(store.name + "-wal"),
        "its shared memory": store.with_name(store.name + "-shm"),
    }


def test_every_other_name_of_the_store_is_known(store: Path):
    for name, path in aliases(store).items():
        assert geo.outputs.is_store_file(path, store), name
    assert not geo.outputs.is_store_file(store.with_name("other.gpkg"), store)
    assert not geo.outputs.is_store_file(store.with_name(store.name + "-old"), store)


def test_copy_never_writes_over_its_source_or_beside_it(store: Path):
    before = digest(store)
    for name, path in aliases(store).items():
        result = run("copy", str(store), str(path), "--force")
        assert result.exit_code == 1, name
        assert "is SRC itself, or one of SQLite's files beside it" in result.output, name
        assert digest(store) == before, name
    assert not list(store.parent.glob("*-journal")) and not list(store.parent.glob("*-wal"))


def test_init_never_writes_over_the_seed_it_reads(tmp_path: Path):
    seed = tmp_path / "seed"
    shutil.copytree(DATA / "seed", seed)
    target = seed / "observations.csv"
    before = digest(target)
    result = run("init", "--store", str(target), "--seed", str(seed), "--force")
    assert result.exit_code == 1
    assert "is observations.csv of the seed folder this command reads" in result.output
    assert digest(target) == before


def test_a_map_folder_that_holds_the_store_under_a_page_name(store: Path, tmp_path: Path):
    folder = tmp_path / "site"
    folder.mkdir()
    page = folder / "index.html"
    shutil.copyfile(store, page)  # a store may have any name
    before = digest(page)
    result = run("map", "--out", str(folder), "--force", "--store", str(page))
    assert result.exit_code == 1
    assert "is the store this command reads" in result.output
    assert digest(page) == before
    assert sorted(p.name for p in folder.iterdir()) == ["index.html"]  # refused before any write


# Every command that writes a file, with the suffix its --out must have.
WRITERS = {
    "export gpkg": (".gpkg", ["export", "--format", "gpkg", "--force"]),
    "export csv": (".csv", ["export", "--format", "csv", "--force"]),
    "export geojson": (".geojson", ["export", "--format", "geojson", "--force"]),
    "export kml": (".kml", ["export", "--format", "kml", "--force"]),
    "figure": (".png", ["figure", "--force"]),
    "map": ("", ["map", "--force"]),
    "copy": (".gpkg", ["copy"]),
}


@st.composite
def extra_records(draw: st.DrawFn) -> list[dict[str, str]]:
    """A few records to add to the seed's store, so no two stores are alike."""
    n = draw(st.integers(0, 3))
    return [
        {
            "crossing_id": draw(st.sampled_from(["quanhe-wonjong", "friendship-bridge"])),
            "date": f"{draw(st.integers(2000, 2025))}-0{draw(st.integers(1, 9))}",
            "kind": "infrastructure",
            "summary": draw(st.text("abcdefgh 中조", min_size=3, max_size=30)).strip() or "x",
            "source_url": f"https://example.org/{i}",
            "source_type": "satellite_imagery",
        }
        for i in range(n)
    ]


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    records=extra_records(),
    writer=st.sampled_from(sorted(WRITERS)),
    alias=st.sampled_from(["the path", "a relative path with ..", "through a linked folder",
                           "a hard link", "its journal", "its write-ahead log"]),
)  # fmt: skip
def test_no_command_that_writes_a_file_changes_the_store_it_reads(
    _built_store: Path, records: list[dict[str, str]], writer: str, alias: str
):
    suffix, command = WRITERS[writer]
    with tempfile.TemporaryDirectory() as folder:
        # Named as the writer's output must be; for the map, as one of its pages.
        store = Path(folder) / (f"crossings{suffix}" if suffix else "index.html")
        shutil.copyfile(_built_store, store)
        for record in records:
            add_observation(store, record, ignore_duplicate=True)
        before = digest(store)
        target = aliases(store)[alias]
        if writer == "copy":
            args = [*command, str(store), str(target), "--force"]
        elif writer == "map":
            args = [*command, "--out", str(target.parent), "--store", str(store)]
        else:
            args = [*command, "--out", str(target), "--store", str(store)]
        result = run(*args)
        assert result.exit_code != 0, (writer, alias, result.output)
        assert "Traceback" not in result.output
        assert digest(store) == before, (writer, alias)
        assert not store.with_name(store.name + "-journal").exists()
        assert not store.with_name(store.name + "-wal").exists()


# -- 2. identity and duplicates ---------------------------------------------


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


ROW = {
    "crossing_id": "quanhe-wonjong",
    "date": "2025-06-02",
    "kind": "status",
    "status": "open",
    "summary": "The bridge reopened to trucks",
    "source_url": "https://example.org/quanhe",
    "source_type": "news_report",
}


@pytest.mark.parametrize("ignore", [False, True])
def test_two_rows_of_one_identity_that_differ_are_a_conflict(
    store: Path, tmp_path: Path, ignore: bool
):
    # The example: under --ignore one row was imported without a word; without it, the
    # error said the second row "repeats" the first.
    path = write_rows(tmp_path / "rows.csv", [ROW, {**ROW, "status": "closed"}])
    before = digest(store)
    with pytest.raises(BatchValidationError) as caught:
        import_observations(store, path, ignore_duplicates=ignore)
    (problem,) = caught.value.problems  # rows are numbered as a spreadsheet shows them
    assert problem.row == 3
    assert isinstance(problem.error, ConflictingRecordError)
    assert "has the id of row 2" in str(problem.error)
    assert "status 'closed' (row 2: 'open')" in str(problem.error)
    assert "repeats" not in str(caught.value)
    assert digest(store) == before


def test_a_row_that_differs_from_a_stored_record_is_a_conflict_under_ignore(
    store: Path, tmp_path: Path
):
    add_observation(store, ROW)
    path = write_rows(tmp_path / "rows.csv", [{**ROW, "notes": "also passenger cars"}])
    before = digest(store)
    result = run("import", str(path), "--ignore", "--store", str(store))
    assert result.exit_code == 1
    assert "has the id of a stored record" in result.output
    assert "notes 'also passenger cars' (a stored record: '')" in result.output
    assert digest(store) == before
    stored_open = r"status 'closed' \(a stored record: 'open'\)"
    with pytest.raises(ConflictingRecordError, match=stored_open):
        add_observation(store, {**ROW, "status": "closed"}, ignore_duplicate=True)


def test_ignore_skips_only_true_duplicates_and_says_how_many(store: Path, tmp_path: Path):
    add_observation(store, ROW)
    other = {**ROW, "summary": "Trucks queued at the gate", "kind": "traffic", "status": ""}
    # Spacing and case of the summary, and who records, do not make a record another.
    rows = [
        {**ROW, "summary": "The bridge  reopened to TRUCKS", "recorded_by": "min"},
        other,
        other,
    ]
    path = write_rows(tmp_path / "rows.csv", rows)
    result = run("import", str(path), "--ignore", "--store", str(store))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) | {"ids": None} == {
        "imported": 1, "skipped": 2, "rows": 3, "ids": None, "ignored_fields": [],
    }  # fmt: skip
    without = run("import", str(path), "--store", str(store))
    assert without.exit_code == 1
    assert "row 4: observation" in without.output
    assert "repeats row 3 (the same in every field)" in without.output


@pytest.mark.parametrize("output_format", ["csv", "geojson", "kml"])
def test_an_export_imported_again_is_all_true_duplicates(
    store: Path, tmp_path: Path, output_format: str
):
    out = tmp_path / f"all.{output_format}"
    export_inventory(store, out, output_format)
    before = digest(store)
    report = import_observations(store, out, ignore_duplicates=True)
    assert report.ids == [] and report.skipped == report.rows > 0
    assert digest(store) == before


def test_a_conflict_on_postgis_too(database: str, tmp_path: Path):
    add_observation(database, ROW)
    held = counts(database)
    path = write_rows(tmp_path / "rows.csv", [{**ROW, "status": "closed"}, {**ROW, "date": "2025"}])
    with pytest.raises(RecordValidationError) as caught:
        import_observations(database, path, ignore_duplicates=True)
    assert "status 'closed' (a stored record: 'open')" in str(caught.value)
    assert counts(database) == held  # the good second row is not written either


# -- 3. secrets -----------------------------------------------------------------

# Passwords holding every character a URL reserves, and a '%' that starts no escape.
PASSWORDS = [
    "p%zz",
    "50%off",
    "a:b@c/d?e#f[g]h",
    "!$&'()*+,;=",
    'sp ace~"<>\\^`{|}',
    "Grüße-암호-密码",
]


@pytest.fixture
def keeper(postgres_server, database: str):
    """Log in as a user who must give a password: (address with a password, set password)."""
    from postgres import KEEPER

    def address(password: str, *, encode: bool = True) -> str:
        given = quote(password, safe="") if encode else password
        return database.replace("postgresql://crossings@", f"postgresql://{KEEPER}:{given}@")

    def set_password(password: str) -> None:
        literal = password.replace("'", "''")
        postgres_server.sql(
            f"DO $$ BEGIN CREATE ROLE {KEEPER} LOGIN SUPERUSER; EXCEPTION WHEN duplicate_object "
            f"THEN NULL; END $$; ALTER ROLE {KEEPER} PASSWORD '{literal}'"
        )

    return address, set_password


def no_secret(text: str, password: str) -> None:
    for form in {password, quote(password, safe=""), quote(password)}:
        if len(form) >= 3:
            assert form not in text, (form, text)


@pytest.mark.parametrize("password", PASSWORDS)
def test_a_password_with_reserved_characters_connects_and_is_never_shown(
    keeper, postgres_server, password: str
):
    address, set_password = keeper
    set_password(password)
    listed = run("list", "--format", "json", "--store", address(password))
    assert listed.exit_code == 0, listed.output
    assert len(json.loads(listed.output)) == 4
    wrong = run("-vv", "list", "--store", address(password + "x"))
    assert wrong.exit_code == 1
    assert "password authentication failed" in wrong.output
    assert ":***@127.0.0.1" in wrong.output
    no_secret(wrong.output, password)
    # As typed, not encoded: it connects, or the address is refused without repeating it.
    raw = run("-vv", "list", "--store", address(password, encode=False))
    assert "Traceback" not in raw.output
    no_secret(raw.output, password)
    no_secret(postgres_server.log(), password)


def test_the_examples_of_the_review(keeper):
    address, set_password = keeper
    set_password("p%zz")
    # A '%' that starts no escape: the driver's message quoted the password.
    result = run("list", "--store", address("p%zz", encode=False))
    assert result.exit_code == 1
    assert "has a '%' in its password that is not followed by two hex digits" in result.output
    assert "p%zz" not in result.output
    # A password given as a percent-encoded parameter name was printed in the clear.
    host = address("").replace(":@", "@").rsplit("@", 1)[1]
    for key in ["password", "pass%77ord", "PASSWORD"]:
        given = f"postgresql://keeper@{host}?{key}=s3cr%65t-wrong"
        result = run("list", "--store", given)
        assert result.exit_code == 1, result.output
        assert f"{key}=***" in result.output
        assert "s3cr" not in result.output


@pytest.mark.parametrize(
    "address",
    [
        "postgresql://u:se/cret@127.0.0.1/db",
        "postgresql://u:se@cret@127.0.0.1/db",
        "postgresql://u:secret@[::1/db",
        "postgresql://u:s%ffcret@127.0.0.1/db",
        "postgresql://u:secret@127.0.0.1/db?sslmode",
        "POSTGRESQL://u:secret@127.0.0.1:1/db",
        "postgresql://u:secret@127.0.0.1:1/db?row_factory=x",
        "postgresql://u:secret@127.0.0.1:notaport/db",
    ],
)
def test_an_address_that_cannot_be_used_is_named_without_its_secret(address: str, tmp_path: Path):
    for args in (
        ["list", "--store", address],
        ["copy", address, str(tmp_path / "out.gpkg")],
        ["copy", str(DATA / "none.gpkg"), address],
        ["merge", address],
    ):
        result = run(*args)
        assert result.exit_code == 1, (args, result.output)
        assert "Traceback" not in result.output and "cret" not in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1, result.output


# -- 4. the outcome told truly --------------------------------------------------


def crossings_to(stdout: str, *args: str):
    """Run the installed command in its own process, its standard output sent to ``stdout``."""
    import subprocess
    import sys

    command = Path(sys.executable).with_name("crossings")
    with open(stdout, "w") as sink:
        return subprocess.run(
            [str(command), *args], stdout=sink, stderr=subprocess.PIPE, text=True,
            timeout=120, check=False,
        )  # fmt: skip


def test_a_write_that_committed_is_not_reported_as_failed_when_the_output_is_full(
    store: Path, tmp_path: Path
):
    # The example: observe stored the record, then exited 1 saying "run it again", which gave a
    # duplicate error.
    args = ["observe", "quanhe-wonjong", "--on", "2025-06", "--kind", "traffic", "--summary",
            "Trucks at the gate", "--source-url", "https://e.org/t", "--source-type",
            "news_report", "--store", str(store)]  # fmt: skip
    done = crossings_to("/dev/full", *args)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("Written: observation o-")
    assert "nothing needs to be done again" in done.stderr and "Traceback" not in done.stderr
    held = counts(store)
    path = write_rows(tmp_path / "rows.csv", [ROW])
    imported = crossings_to("/dev/full", "import", str(path), "--store", str(store))
    assert imported.returncode == 0 and imported.stderr.startswith("Written: 1 observation(s)")
    assert counts(store) == (held[0], held[1] + 1)
    out = tmp_path / "all.csv"
    exported = crossings_to("/dev/full", "export", "--format", "csv", "--out", str(out),
                            "--store", str(store))  # fmt: skip
    assert exported.returncode == 0 and out.exists() and "Written: " in exported.stderr
    # Nothing was written: the failure is told as one, with the usual exit status.
    again = crossings_to("/dev/full", *args)
    assert again.returncode == 1 and "is already in the store" in again.stderr


# -- 9. outputs: only plain files are replaced; what a killed build left is removed ----


def test_force_replaces_only_plain_files(store: Path, tmp_path: Path):
    pipe = tmp_path / "out.csv"
    os.mkfifo(pipe)
    result = run("export", "--format", "csv", "--out", str(pipe), "--force", "--store", str(store))
    assert result.exit_code == 1
    assert "is not a plain file (a device, a named pipe or a socket)" in result.output
    assert pipe.is_fifo()
    folder = tmp_path / "site"
    folder.mkdir()
    os.mkfifo(folder / "index.html")
    result = run("map", "--out", str(folder), "--force", "--store", str(store))
    assert result.exit_code == 1 and "is not a plain file" in result.output
    assert (folder / "index.html").is_fifo() and list(folder.iterdir()) == [folder / "index.html"]


def a_finished_pid() -> int:
    import subprocess

    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


def test_what_a_killed_build_left_is_removed_by_the_next_build(store: Path, tmp_path: Path):
    import logging

    dead = a_finished_pid()
    out = tmp_path / "all.csv"
    left = tmp_path / f".all.csv.{dead}.abc123"
    left.mkdir()
    (left / "all.csv").write_text("half", encoding="utf-8")
    mine = tmp_path / f".all.csv.{os.getpid()}.running"  # a build still under way: kept
    mine.mkdir()
    seen = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("geo.leftovers").addHandler(handler)
    try:
        export_inventory(store, out, "csv")
    finally:
        logging.getLogger("geo.leftovers").removeHandler(handler)
    assert out.exists() and not left.exists() and mine.exists()
    assert any(f"removed what a build that was stopped left beside it: {left.name}" in m
               for m in seen)  # fmt: skip
    # A store's build too: its half-built GeoPackage and journal.
    target = tmp_path / "new.gpkg"
    stale = [tmp_path / f".new.gpkg.{dead}.x1.gpkg", tmp_path / f".new.gpkg.{dead}.x1.gpkg-journal"]
    for path in stale:
        path.write_bytes(b"half")
    assert run("init", "--store", str(target), "--seed", str(DATA / "seed")).exit_code == 0
    assert not any(path.exists() for path in stale)


def test_a_reader_that_stops_reading_does_not_stop_the_writes(store: Path, tmp_path: Path):
    import subprocess
    import sys

    command = Path(sys.executable).with_name("crossings")
    done = subprocess.run(
        f"'{command}' map --store '{store}' --out '{tmp_path / 'maps'}' | head -1",
        shell=True, capture_output=True, text=True, timeout=120, check=False,
        executable="/bin/bash",
    )  # fmt: skip
    assert done.stdout.strip().endswith("index.html") and done.stderr == ""
    with open_store(store) as opened:
        assert len(list((tmp_path / "maps").glob("*.html"))) == len(opened.crossings()) + 1


# -- 5. messages that cannot mislead ---------------------------------------------


@pytest.mark.parametrize("kind", ["sqlite", "empty", "text"])
def test_no_advice_destroys_a_file_that_is_not_a_store(tmp_path: Path, kind: str):
    import sqlite3

    path = tmp_path / "f.db"
    if kind == "sqlite":
        sqlite3.connect(path).execute("CREATE TABLE notes (x)").connection.close()
    else:
        path.write_bytes(b"" if kind == "empty" else b"my notes")
    before = path.read_bytes()
    for args in (["init", "--store", str(path)], ["init", "--store", str(path), "--force"]):
        result = run(*args)
        assert result.exit_code == 1, result.output
        assert "not a crossings store; nothing was written" in result.output
        assert "pass --force" not in result.output
    assert path.read_bytes() == before
    listed = run("list", "--store", str(path))
    assert "run `crossings init`" not in listed.output and "not a crossings store" in listed.output


def test_validate_on_a_damaged_store_does_not_advise_running_validate(store: Path):
    data = bytearray(store.read_bytes())
    data[100:4096] = b"\x07" * (4096 - 100)  # the schema's page
    store.write_bytes(bytes(data))
    result = run("validate", "--store", str(store))
    assert result.exit_code == 1
    assert "damaged" in result.output and "restore it from a copy" in result.output
    assert "crossings validate" not in result.output


# -- 11. a bounded excerpt of any value -------------------------------------------


@pytest.mark.parametrize("where", ["store", "summary", "crossing", "date"])
def test_a_huge_argument_is_not_echoed_whole(store: Path, where: str):
    huge = "a" * 100_000
    fields = {
        "crossing": "quanhe-wonjong",
        "date": "2025",
        "summary": "Trucks",
        "store": str(store),
    }
    fields[where] = huge
    result = run(
        "observe", fields["crossing"], "--on", fields["date"], "--kind", "traffic", "--summary",
        fields["summary"], "--source-url", "https://e.org/x", "--source-type", "news_report",
        "--store", fields["store"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert len(result.output) < 1_000 and "100,00" in result.output  # says how long it was


# -- 7. no traceback from any input or fault ---------------------------------------

KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark><name>Road</name><TimeStamp><when>2025-03</when></TimeStamp>
<LineString><coordinates>130.52,42.56 130.53,42.57</coordinates></LineString></Placemark>
<Placemark><name>Area</name><TimeStamp><when>2025-03</when></TimeStamp><Polygon><outerBoundaryIs>
<LinearRing><coordinates>130.52,42.56 130.53,42.57 130.52,42.57 130.52,42.56</coordinates>
</LinearRing></outerBoundaryIs></Polygon></Placemark>
</Document></kml>"""


def test_a_path_or_an_area_from_google_earth_is_refused_by_name(store: Path, tmp_path: Path):
    path = tmp_path / "drawn.kml"
    path.write_text(KML, encoding="utf-8")
    before = digest(store)
    result = run(
        "import", str(path), "--set", "crossing_id=quanhe-wonjong", "--set", "kind=infrastructure",
        "--set", "source_type=satellite_imagery", "--set", "source_url=https://e.org/i",
        "--store", str(store),
    )  # fmt: skip
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "row 1: geometry: 'LineString' is not a point" in result.output
    assert "row 2: geometry: 'Polygon' is not a point" in result.output
    assert digest(store) == before


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-23:59", "1700-01-01T00:00:00Z"]
)
def test_a_time_beyond_the_calendar_is_refused_by_name(store: Path, moment: str):
    with pytest.raises(RecordValidationError, match=r"^recorded_at: .* is out of range"):
        add_observation(store, {**ROW, "recorded_at": moment})


def test_values_another_program_wrote_badly_are_named_not_raised(store: Path):
    from tests.common import execute

    execute(store, "UPDATE trade SET value_usd = 'lots' WHERE rowid = 1")
    result = run("trade", "--store", str(store))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "trade.value_usd: 'lots'" in result.output and "another program" in result.output
    execute(store, "UPDATE observations SET date_start = 'not a date' WHERE rowid = 1")
    for args in (["list"], ["show", "quanhe-wonjong"], ["validate"]):
        result = run(*args, "--store", str(store))
        assert result.exit_code == 1 and "Traceback" not in result.output, args
        assert "another program wrote" in result.output or "problem" in result.output
    assert any("unreadable row: observation" in p for p in validate_inventory(store))


# -- 10. strict where it matters ----------------------------------------------------


@pytest.mark.parametrize("day", ["²⁰²¹", "２０２¹-06", "⑳21"])
def test_a_date_in_digits_that_are_not_digits_is_refused(store: Path, day: str):
    result = run("list", "--as-of", day, "--store", str(store))
    assert result.exit_code == 2 and "is not a date" in result.output
    assert run("list", "--as-of", "２０２１-０６-０１", "--store", str(store)).exit_code == 0


@pytest.mark.parametrize("point", ["4_0.1,124.39", "40.1,12_4.39", "nan,124", "40,inf"])
def test_a_coordinate_that_is_not_plain_digits_is_refused(store: Path, point: str):
    result = run("near", point, "--store", str(store))
    assert result.exit_code in (1, 2) and "Traceback" not in result.output
    assert "is not a number" in result.output or "is out of range" in result.output


def geojson(tmp_path: Path, name: str, body: dict) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(body, allow_nan=True), encoding="utf-8")
    return path


def test_an_area_with_a_vertex_that_is_not_a_number_is_refused(store: Path, tmp_path: Path):
    ring = [[130, 42], [131, 42], [float("nan"), 43], [130, 42]]
    body = {
        "type": "Feature",
        "properties": {},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    result = run("within", str(geojson(tmp_path, "area.geojson", body)), "--store", str(store))
    assert (
        result.exit_code == 1 and "a vertex that is not a number, or out of range" in result.output
    )


def test_geojson_in_another_reference_system_is_refused_never_ignored(store: Path, tmp_path: Path):
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}
    ring = [[130, 42], [131, 42], [131, 43], [130, 42]]
    polygon = {"type": "Polygon", "coordinates": [ring]}
    area = {"type": "FeatureCollection", "crs": crs, "features": [
        {"type": "Feature", "properties": {}, "geometry": polygon}
    ]}  # fmt: skip
    result = run("within", str(geojson(tmp_path, "area.geojson", area)), "--store", str(store))
    assert result.exit_code == 1 and "is not WGS84 longitude and latitude" in result.output
    points = {"type": "FeatureCollection", "crs": crs, "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [130.52, 42.57]},
         "properties": {**ROW, "kind": "traffic", "status": ""}}
    ]}  # fmt: skip
    before = digest(store)
    path = geojson(tmp_path, "points.geojson", points)
    result = run("import", str(path), "--store", str(store))
    assert result.exit_code == 1 and "EPSG::3857" in result.output and digest(store) == before


# -- 8. inputs read once ------------------------------------------------------------


def test_an_import_from_a_named_pipe_is_read_once(store: Path, tmp_path: Path):
    import threading

    # The example: an import whose input cannot be read twice never returned.
    pipe = tmp_path / "piped.csv"
    os.mkfifo(pipe)
    text = (
        "crossing_id,date,kind,summary,source_url,source_type\n"
        "quanhe-wonjong,2025-01,traffic,Trucks piped in,https://e.org/p,news_report\n"
    )
    writer = threading.Thread(target=pipe.write_text, args=(text,), daemon=True)
    writer.start()
    report = import_observations(store, pipe)
    writer.join(timeout=5)
    assert report.rows == 1 and len(report.ids) == 1


def test_an_input_over_the_limit_is_refused_by_name(store: Path, tmp_path: Path, monkeypatch):
    import geo.record

    monkeypatch.setattr(geo.record, "IMPORT_LIMIT_BYTES", 100)
    path = write_rows(tmp_path / "rows.csv", [ROW, {**ROW, "summary": "x" * 200}])
    with pytest.raises(RecordValidationError, match=r"is larger than .* \(or has no end\)"):
        import_observations(store, path)
    result = run("import", "/dev/zero", "--store", str(store))  # endless, and no known type
    assert result.exit_code == 1 and "has an unsupported type" in result.output


def test_a_full_disk_while_a_store_is_written_names_the_file_written(
    store: Path, tmp_path: Path, monkeypatch
):
    import sqlite3

    import geo.build
    import geo.publish

    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(geo.publish, "create_store", full)
    monkeypatch.setattr(geo.build, "create_store", full)
    out = tmp_path / "out.gpkg"
    for args in (["export", "--format", "gpkg", "--out", str(out)], ["copy", str(store), str(out)]):
        result = run(*args, "--store", str(store)) if args[0] == "export" else run(*args)
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert result.output.startswith(f"Error: {out}: the disk is full"), result.output
        assert not out.exists()
