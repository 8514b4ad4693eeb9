"""The quick paths of `crossings import`: the same stored rows and errors as row-by-row parsing.

An import checks a chunk of rows column by column (geo.columns.RowChecker.columns),
then a row it leaves by what repeats from row to row (RowChecker.__call__), and
parses a row alone only where neither can vouch for it; a large file is checked
in a process of its own (geo.apart) while the importing one writes. These tests
import the same files three ways (both quick checks, in a process of their own
where the load is bulk; only the row check; neither) and find no difference: in
the rows stored, in the report, and in the errors of bad rows.
"""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo import record
from geo.build import init_inventory
from geo.columns import RowChecker
from geo.errors import BatchValidationError, RecordValidationError
from geo.record import import_observations

DATA = Path(__file__).parent / "data"
#: Columns that differ between two imports of one file: the feature id (the order rows are
#: written in) and, for a row that does not say, when it was recorded (the time of the import).
_UNSTABLE = ("fid", "recorded_at")


@pytest.fixture(scope="module")
def bare_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of the test seed's crossings and structures, without observations."""
    folder = tmp_path_factory.mktemp("bare")
    seed = folder / "seed"
    seed.mkdir()
    for name in ("crossings.csv", "structures.csv", "trade.csv"):
        shutil.copyfile(DATA / "seed" / name, seed / name)
    with (DATA / "seed" / "observations.csv").open(encoding="utf-8") as handle:
        header = handle.readline()
    (seed / "observations.csv").write_text(header, encoding="utf-8")
    path = folder / "bare.gpkg"
    init_inventory(path, seed=seed)
    return path


def seed_rows() -> list[dict[str, str]]:
    with (DATA / "seed" / "observations.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def stored(path: Path) -> list[tuple[object, ...]]:
    """Every stored row of the observations and status periods, in id order, fid aside."""
    connection = sqlite3.connect(path)
    try:
        found = []
        for table, key in (("observations", "id"), ("status_periods", "crossing_id, start")):
            cursor = connection.execute(f"SELECT * FROM {table} ORDER BY {key}")
            names = [d[0] for d in cursor.description]
            for row in cursor:
                found.append(
                    (table, *(v for n, v in zip(names, row, strict=True) if n not in _UNSTABLE))
                )
        given_times = connection.execute(
            "SELECT id, recorded_at FROM observations WHERE recorded_by = 'crossings seed' "
            "ORDER BY id"
        ).fetchall()
        return found + [("recorded_at", *row) for row in given_times]
    finally:
        connection.close()


def _no_columns(self: RowChecker, columns: object, count: int) -> list[None]:
    return [None] * count


def import_both_ways(
    bare: Path, tmp_path: Path, source: Path, monkeypatch: pytest.MonkeyPatch, **options: object
) -> tuple[object, object]:
    """Import a file with the quick checks and without; return (result, stored) of each.

    The import with only the row check must agree too: it is compared here, and
    the first two ways are returned.
    """
    results = []
    for way in ("columns", "rows", "slow"):
        target = tmp_path / f"{way}-{source.stem}.gpkg"
        shutil.copyfile(bare, target)
        with monkeypatch.context() as patch:
            if way != "columns":  # checked in this process: another would not see the patches
                patch.setattr(record, "_APART", False)
                patch.setattr(RowChecker, "columns", _no_columns)
            if way == "slow":
                patch.setattr(RowChecker, "__call__", lambda self, raw: None)
            try:
                report = import_observations(target, source, **options)  # type: ignore[arg-type]
                outcome: object = (report.ids, report.rows, report.ignored_fields)
            except BatchValidationError as err:
                outcome = (str(err), [(p.row, str(p.error)) for p in err.problems])
        results.append((outcome, stored(target)))
    assert results[1] == results[2]  # the row check alone agrees with parsing row by row
    return results[0], results[2]


def mutated(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The seed's rows written as people write them: case, spaces, other digits and forms."""
    changed = []
    for n, written in enumerate(rows):
        row = dict(written)
        if n % 3 == 0:
            row["kind"] = row["kind"].upper()
            row["source_type"] = " " + row["source_type"].replace("_", " ") + " "
        if n % 4 == 1:
            row["summary"] = "  " + row["summary"].replace(" ", "   ", 2) + "\u200b"
            row["date"] = unicodedata.normalize("NFKC", row["date"]).translate(
                str.maketrans("0123456789-", "０１２３４５６７８９－")
            )
        if n % 5 == 2:
            row["notes"] = unicodedata.normalize("NFD", "Sinŭiju 신의주 " + row["notes"])
            row["id"] = ""
        if n % 7 == 3 and row["status"]:
            row["status"] = row["status"].title()
        if n % 6 == 5:
            row["recorded_at"] = ""
            row["recorded_by"] = ""
        changed.append(row)
    return changed


@pytest.mark.parametrize("bulk", [False, True], ids=["rows", "bulk"])
@pytest.mark.parametrize("form", ["as-is", "mutated"])
def test_quick_and_row_by_row_imports_store_the_same_rows(
    bare_store, tmp_path, monkeypatch, bulk, form
):
    if bulk:
        monkeypatch.setattr(record, "_BULK_ROWS", 1)
    rows = seed_rows()
    source = write_rows(tmp_path / "rows.csv", mutated(rows) if form == "mutated" else rows)
    quick, slow = import_both_ways(bare_store, tmp_path, source, monkeypatch)
    assert quick == slow
    assert len(quick[0][0]) == len(rows)  # every row was written
    assert len(quick[1]) > len(rows)  # and the status periods derived from them


def test_quick_and_row_by_row_imports_agree_on_geojson(bare_store, tmp_path, monkeypatch):
    rows = seed_rows()
    features = []
    for row in rows:
        properties: dict[str, object] = {k: v for k, v in row.items() if v}
        properties["source_is_mirror"] = row["source_is_mirror"] == "true"
        lon, lat = properties.pop("lon", None), properties.pop("lat", None)
        geometry = (
            None if lon is None else {"type": "Point", "coordinates": [float(lon), float(lat)]}
        )
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    source = tmp_path / "rows.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    quick, slow = import_both_ways(bare_store, tmp_path, source, monkeypatch)
    assert quick == slow
    assert len(quick[0][0]) == len(rows)


#: Bad values, each in one row: the fault the row-by-row parse names must be named the same.
BAD_VALUES = [
    ("date", "2025-13"),
    ("date", "2999-01"),
    ("precision", "day"),
    ("kind", "rumour"),
    ("status", "opened maybe"),
    ("crossing_id", "atlantis"),
    ("source_url", "ftp://example.org/a"),
    ("source_type", "hearsay"),
    ("source_published", "2024-02-30"),
    ("side", "north"),
    ("lat", "91"),
    ("lon", "east"),
    ("lat", "10"),
    ("summary", "   "),
    ("summary", "a\x07bell"),
    ("notes", "x" * 20_000),
    ("id", "o-0000000000"),
    ("recorded_at", "yesterday"),
    ("source_is_mirror", "perhaps"),
    ("checked_on", "2024-05"),
    ("quote_en", "said so"),
    ("structure_id", "no-such-bridge"),
    ("lifecycle", "in_service"),
    ("traffic", "freight_road"),
    ("until", "1999"),
    ("expected", "2030"),
    ("applies_to", "all"),
    ("replaces", ""),
]


@pytest.mark.parametrize(
    ("field", "value"), BAD_VALUES, ids=[f"{f}={v[:12]!r}" for f, v in BAD_VALUES]
)
@pytest.mark.parametrize("bulk", [False, True], ids=["rows", "bulk"])
def test_a_bad_value_is_named_as_row_by_row_parsing_names_it(
    bare_store, tmp_path, monkeypatch, field, value, bulk
):
    if bulk:  # the file is checked in a process of its own, which tells its errors
        monkeypatch.setattr(record, "_BULK_ROWS", 1)
    rows = seed_rows()
    for n in (0, len(rows) // 2, len(rows) - 1):
        rows[n][field] = value
        if field == "replaces":
            rows[n]["kind"] = "retraction"
    source = write_rows(tmp_path / "bad.csv", rows)
    quick, slow = import_both_ways(bare_store, tmp_path, source, monkeypatch)
    assert quick == slow
    message, problems = quick[0]
    assert problems, message  # refused
    assert quick[1] == stored(bare_store)  # nothing was written


def big_file(path: Path, count: int, bad: dict[int, tuple[str, str]]) -> Path:
    """A CSV of ``count`` distinct records; the rows of ``bad`` (0-based) get a bad value."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["crossing_id", "date", "kind", "summary", "source_url", "source_type",
                         "lat", "lon"])  # fmt: skip
        for n in range(count):
            row = {
                "crossing_id": "quanhe-wonjong",
                "date": f"{2010 + n % 16}-{1 + n % 12:02d}",
                "kind": "traffic",
                "summary": f"trucks seen {n}",
                "source_url": "https://example.org/import",
                "source_type": "satellite_imagery",
                "lat": f"{42.57 + (n % 97) / 10000:.5f}",
                "lon": f"{130.52 + (n % 91) / 10000:.5f}",
            }
            if n in bad:
                field, value = bad[n]
                row[field] = value
            writer.writerow(row.values())
    return path


@pytest.mark.slow
@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_a_bad_row_anywhere_in_a_big_file_writes_nothing(bare_store, tmp_path, where):
    count = 60_000  # past the bulk load's threshold
    at = {"start": 0, "middle": count // 2, "end": count - 1}[where]
    source = big_file(tmp_path / "big.csv", count, {at: ("date", "2025-13")})
    target = tmp_path / "big.gpkg"
    shutil.copyfile(bare_store, target)
    with pytest.raises(BatchValidationError) as caught:
        import_observations(target, source)
    assert [(p.row, p.error.field) for p in caught.value.problems] == [(at + 2, "date")]
    assert f"row {at + 2}" in str(caught.value)
    assert "'2025-13'" in str(caught.value)
    assert "has no month 13" in str(caught.value)
    assert stored(target) == stored(bare_store)


_PEAK = """
import resource, sys
from geo.record import import_observations
import_observations(sys.argv[1], sys.argv[2])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_kib(bare: Path, tmp_path: Path, count: int) -> int:
    """Peak memory (KiB) of a fresh process that imports a file of ``count`` rows."""
    source = big_file(tmp_path / f"rows-{count}.csv", count, {})
    target = tmp_path / f"rows-{count}.gpkg"
    shutil.copyfile(bare, target)
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, str(target), str(source)],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout.split()[-1])


@pytest.mark.slow
def test_memory_does_not_follow_the_file(bare_store, tmp_path):
    """Four times the rows cost far less than four times the memory: rows are not held.

    What an import keeps of each row is its id (for the report, and to find a row
    repeated): about 200 bytes. A record held whole costs several times that.
    """
    small, large = 20_000, 80_000
    grown = peak_kib(bare_store, tmp_path, large) - peak_kib(bare_store, tmp_path, small)
    per_row = grown * 1024 / (large - small)
    assert per_row < 600, f"{per_row:.0f} bytes a row"


def test_the_quick_check_vouches_for_the_rows_it_is_compared_on(bare_store):
    """The comparisons above are not vacuous: the quick check answers for most seed rows."""
    from geo.store import open_store

    with open_store(bare_store) as opened:
        check = RowChecker(opened.crossings(), structures=opened.structures())
        rows = [{k: v for k, v in row.items() if v} for row in seed_rows()]
        answered = [check(row) for row in rows]
    assert sum(found is not None for found in answered) >= len(rows) - 2
    assert check({**rows[0], "date": "2025-13"}) is None


@pytest.mark.parametrize("quick", [True, False], ids=["quick", "row-by-row"])
def test_the_rows_of_an_import_are_recorded_at_one_moment_the_imports(
    bare_store, tmp_path, monkeypatch, quick
):
    """Rows that do not say when they were recorded all get the moment the import began."""
    from datetime import UTC, datetime

    target = tmp_path / "moment.gpkg"
    shutil.copyfile(bare_store, target)
    if not quick:
        monkeypatch.setattr(RowChecker, "columns", _no_columns)
        monkeypatch.setattr(RowChecker, "__call__", lambda self, raw: None)
    before = datetime.now(UTC)
    import_observations(target, big_file(tmp_path / "rows.csv", 3000, {}))
    after = datetime.now(UTC)
    connection = sqlite3.connect(target)
    try:
        moments = {
            m for (m,) in connection.execute("SELECT DISTINCT recorded_at FROM observations")
        }
    finally:
        connection.close()
    assert len(moments) == 1  # 3,000 rows take more than the millisecond a stored time keeps
    (moment,) = moments
    assert (
        before.replace(microsecond=before.microsecond // 1000 * 1000)
        <= datetime.fromisoformat(moment)
        <= after
    )


def test_the_column_check_vouches_for_the_usual_rows(bare_store, tmp_path):
    """The column check is not a path that every row leaves: it answers for plain rows."""
    from geo.exchange import iter_csv_columns
    from geo.store import open_store

    with open_store(bare_store) as opened:
        check = RowChecker(opened.crossings(), structures=opened.structures())
        seed = {name: [row[name] for row in seed_rows()] for name in seed_rows()[0]}
        answered = check.columns(seed, len(seed["id"]))
        assert sum(found is not None for found in answered) >= len(answered) - 2
        plain = big_file(tmp_path / "plain.csv", 500, {})
        ((numbers, columns),) = iter_csv_columns(plain)
        assert None not in check.columns(columns, len(numbers))


#: Values a column may hold, good and bad, for the comparison below: texts to clean, forms
#: float() reads, points near, far and on the border, ids right and wrong.
_CELLS = {
    "crossing_id": [
        "quanhe-wonjong",
        "friendship-bridge",
        "border",
        "atlantis",
        " Quanhe-Wonjong",
        "",
    ],
    "date": ["2024-05", "2024", "2024-05-06", "２０２４-05", "2024-13", "", "2999"],
    "kind": ["traffic", "status", "retraction", "Context", "plan", "rumour"],
    "status": ["", "open", "closed", "maybe"],
    "summary": [
        "trucks seen",
        "  trucks  seen ",
        "",
        "a\x07bell",
        "Sinu\u0306iju",
        "신의주",
        "x" * 2001,
    ],
    "source_url": ["https://example.org/a", "", "ftp://example.org/a"],
    "source_name": ["", "Yonhap"],
    "source_detail": ["", "broadcast"],
    "source_type": ["news_report", "satellite_imagery", "hearsay"],
    "lat": [
        "10",
        "42.57",
        "",
        "42,57",
        "4_2.57",
        "nan",
        "91",
        "40.1",
        "４２.５７",
        " 42.57",
        "42.6",
    ],
    "lon": ["130.52", "", "130.6", "1e2", "inf", "124.39"],
    "side": ["", "cn", "KP", "north"],
    "replaces": ["", "o-0123456789"],
    "recorded_at": ["", "2025-01-02T03:04:05Z", "yesterday", "2999-01-01"],
    "recorded_by": ["", "analyst", "\u202eevil"],
    "notes": ["", "two\nlines", "tab\there", " padded "],
    "id": ["", "o-0000000000"],
    "source_quote": ["", "said so"],
    "quote_en": ["", "said so"],
    "checked_on": ["", "2025-01-02", "2025-01"],
    "archive_url": ["", "https://web.archive.org/x", "not a url"],
}


#: A row every check takes; the comparison varies a few of its columns.
_GOOD_ROW = {
    "crossing_id": "quanhe-wonjong",
    "date": "2024-05",
    "kind": "traffic",
    "summary": "trucks seen",
    "source_url": "https://example.org/a",
    "source_type": "news_report",
    "lat": "42.57",
    "lon": "130.52",
}


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_the_column_check_gives_each_row_what_parsing_it_alone_gives(bare_store, data):
    """Each row's record from the column check is the one parsing gives, or None (parsed alone).

    A row that parsing refuses must never get a record.
    """
    varied = data.draw(st.lists(st.sampled_from(sorted(_CELLS)), unique=True, max_size=3))
    count = data.draw(st.integers(1, 12))
    columns = {name: [value] * count for name, value in _GOOD_ROW.items()}
    for name in varied:  # a few columns vary from row to row, over good and bad values
        columns[name] = data.draw(
            st.lists(st.sampled_from(_CELLS[name]), min_size=count, max_size=count)
        )
    assert_columns_check_as_parsing(bare_store, columns, count)


#: Rows the comparison above may draw seldom: each differs from the good row in a few fields.
_RARE_ROWS = [
    {"crossing_id": "border", "lat": "10"},  # a point outside the border region
    {"crossing_id": "border"},  # a border-wide record with a point inside it
    {"notes": " padded "},
    {"lat": "4_2.57"},
    {"lat": "nan"},
    {"lon": ""},
    {"source_quote": "", "quote_en": "said so"},
    {"kind": "retraction"},
    {"id": "o-0000000000"},
]


@pytest.mark.parametrize("change", _RARE_ROWS, ids=[str(r) for r in _RARE_ROWS])
def test_the_column_check_gives_rare_rows_what_parsing_gives(bare_store, change):
    columns = {name: [value, value] for name, value in _GOOD_ROW.items()}
    for name, value in change.items():
        columns[name] = [_GOOD_ROW.get(name, ""), value]  # a good row, then the rare one
    found = assert_columns_check_as_parsing(bare_store, columns, 2)
    assert found[0] is not None  # the good row is answered by the columns


def assert_columns_check_as_parsing(
    bare_store: Path, columns: dict[str, list[str]], count: int
) -> list[object]:
    """Assert that the column check gives each row parsing's record, or None, never another."""
    from datetime import UTC, datetime

    from geo.store import open_store
    from geo.validate import parse_observation

    now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    with open_store(bare_store) as opened:
        crossings, structures = opened.crossings(), opened.structures()
    check = RowChecker(crossings, structures=structures, now=now, default_recorded_by="me")
    found = check.columns(columns, count)
    for row, answer in enumerate(found):
        fields = {name: values[row] for name, values in columns.items() if values[row]}
        try:
            parsed = parse_observation(
                fields, crossings, structures=structures, now=now, default_recorded_by="me"
            )
        except RecordValidationError:
            assert answer is None, fields
            continue
        assert answer is None or answer == parsed, fields
    return list(found)


def test_the_three_ways_agree_on_defaults_and_columns_named_otherwise(
    bare_store, tmp_path, monkeypatch
):
    """Values given for empty cells (--set) and a column under another name reach every way."""
    rows = []
    for n, seed in enumerate(seed_rows()):
        row = {("date_precision" if k == "precision" else k): v for k, v in seed.items()}
        if n % 2:
            row["notes"] = ""
            row["source_type"] = ""
        rows.append(row)
    source = write_rows(tmp_path / "renamed.csv", rows)
    defaults = {"notes": "set for the empty cells", "source_type": "news_report"}
    quick, slow = import_both_ways(bare_store, tmp_path, source, monkeypatch, defaults=defaults)
    assert quick == slow
    assert len(quick[0][0]) == len(rows)
    notes = [row for row in quick[1] if "set for the empty cells" in row]
    assert len(notes) == sum(not row["notes"] for row in rows)  # each row that left it empty


def test_the_check_apart_makes_no_garbage_in_cycles(bare_store, tmp_path):
    """The check runs without the cycle collector in its own process (geo.apart): it must
    leave nothing that only the collector would free, of good rows or bad. (The error it
    ends with holds each bad row's own error, with its traceback: sent, then the process ends.)
    """
    import gc
    from datetime import UTC, datetime

    from geo.store import open_store

    bad = dict.fromkeys(range(0, 3000, 7), ("date", "2025-13"))
    source = big_file(tmp_path / "rows.csv", 3000, bad)
    with open_store(bare_store) as opened:
        now = datetime.now(UTC)
        options = {"structures": opened.structures(), "now": now, "today": now.date()}
        job = record._Job(source, "rows.csv", None, {}, set(), opened.crossings(), False, options)
    gc.collect()
    gc.disable()
    try:
        with pytest.raises(BatchValidationError) as caught:
            for _ in record._prepared(job):
                pass
        assert len(caught.value.problems) == len(bad)
        assert gc.collect() == 0  # while the error is held: nothing else was left
    finally:
        gc.enable()
