"""Answers written as they are read: the same text as whole records gave, in flat memory.

`around`, `near --observations` and `within` read the fields their output needs, a chunk
of records at a time, and write them as they come. Each output is compared with the text
the commands printed before, made here the way they made it: whole records, a mapping a
row, ``json.dumps(indent=2)``, ``csv.DictWriter`` and the table of those mappings.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import json
import os
import random
import shutil
import sys
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.answers import distance_text, rounded
from geo.cli import cli
from geo.cli.ask import WITHIN_CSV_COLUMNS
from geo.cli.output import _feature, echo_rows, table, terminal_safe
from geo.exchange import crossing_fields, csv_cell, observation_fields
from geo.model import LonLat
from geo.questions import (
    RECORD_FIELDS,
    Chunked,
    around,
    observations_near,
    sightings_around,
    within,
)
from geo.store import open_store
from geo.store.blob import st_coordinate, st_is_empty
from geo.validate import parse_observation

FORMATS = ("table", "wide", "json", "csv", "geojson")
AROUND_COLUMNS = (
    "date", "crossing_id", "kind", "status", "lifecycle", "summary", "distance",
    "bearing_deg", "source_name",
)  # fmt: skip
NEAR_COLUMNS = ("id", "crossing_id", "date", "kind", "summary", "distance")
WITHIN_COLUMNS = ("type", "id", "crossing_id", "date", "summary", "name_en")
#: Texts a store may hold: formulas, quotes, wide characters, addresses, spaces.
TEXTS = (
    "=SUM(A1:A2) looks like a formula",
    "+1 trucks",
    "-3 trains",
    "@mention",
    "'quoted already",
    'quotes "double", a comma; a semicolon \\ a backslash',
    "圈河口岸 원정리 통상구: wide characters that take two columns each, long enough to wrap",
    "see <https://www.nknews.org/2025/05/trade/opening-ceremony-of-the-new-bridge> now",
    "https://example.org/a/very/long/path/that/never/ends/and/goes/on/for/a/while.html",
    "averyveryveryveryveryveryverylongwordthatexceedsthirtycolumns and more",
    "   spaced    out   ",
    "50% of 100%s",
    "",
)
#: Texts only another program writes: a terminal would act on these characters.
RAW_TEXTS = ("Gate \x1b[2J opened", "bidi \u202e reversed", "del\x7f c1 \x85", "bell \x07\x01")


def write_records(path: Path, count: int, *, seed: int = 7) -> None:
    """Add ``count`` records around the crossings of a store, varied as real ones are."""
    rng = random.Random(seed)
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with open_store(path, writable=True) as store:
        crossings = store.crossings()
        located = [c for c in crossings.values() if c.location]
        records, ids = [], {}  # the ids of each crossing's records (a correction's own)
        for n in range(count):
            crossing = located[n % len(located)]
            assert crossing.location is not None
            raw: dict[str, object] = {
                "crossing_id": "border" if n % 11 == 0 else crossing.id,
                "date": rng.choice(["2024", "2024-05", "2024-05-03", "2019-11", "2025-02-28"]),
                "kind": rng.choice(["traffic", "infrastructure", "context", "status"]),
                "summary": rng.choice(TEXTS) or "plain",
                "source_name": rng.choice(TEXTS),
                "source_url": rng.choice(["https://example.org/b?x=1&y=2", ""]),
                "source_type": rng.choice(["news_report", "satellite_imagery"]),
                "notes": rng.choice(TEXTS),
            }
            if not raw["source_url"]:
                raw["source_detail"] = "print only"
                raw["source_name"] = raw["source_name"] or "A newspaper"
            if raw["kind"] == "status":
                raw["status"] = rng.choice(["open", "closed", "restricted"])
            if (n % 3 and raw["crossing_id"] != "border") or n % 11 == 0:
                # Many at the crossing's very point: ties in distance go by date, then order.
                spread = rng.choice([0.0, 0.0001, 0.01, 0.02])
                raw["lat"] = crossing.location.lat + rng.uniform(-spread, spread)
                raw["lon"] = crossing.location.lon + rng.uniform(-spread, spread)
            earlier = ids.setdefault(raw["crossing_id"], [])
            if earlier and n % 17 == 0:  # corrections and withdrawals leave records out
                raw["replaces"] = rng.choice(earlier)
                if n % 34 == 0:
                    raw["kind"] = "retraction"
                    raw.pop("status", None)
            record = parse_observation(raw, crossings, now=now)
            record = record._replace(id=f"o-{n:010x}")
            records.append(record)
            earlier.append(record.id)
        store.add_observations(records)


def connect(path: Path):  # type: ignore[no-untyped-def]
    """Open a store as another program would, with the functions its triggers call."""
    import sqlite3

    connection = sqlite3.connect(path)
    for name, function in (
        ("ST_IsEmpty", st_is_empty),
        ("ST_MinX", st_coordinate(0)),
        ("ST_MaxX", st_coordinate(0)),
        ("ST_MinY", st_coordinate(1)),
        ("ST_MaxY", st_coordinate(1)),
    ):
        connection.create_function(name, 1, function)
    return connection


def write_raw_texts(path: Path) -> None:
    """Put characters a terminal acts on into some records, as another program could."""
    connection = connect(path)
    fids = [f for (f,) in connection.execute("SELECT fid FROM observations ORDER BY fid")]
    with connection:
        for n, fid in enumerate(fids[::9]):
            text = RAW_TEXTS[n % len(RAW_TEXTS)]
            connection.execute(
                "UPDATE observations SET summary = summary || ' ' || ?, source_name = ? "
                "WHERE fid = ?",
                (text, text, fid),
            )
    connection.close()


@pytest.fixture(scope="module")
def varied_store(tmp_path_factory: pytest.TempPathFactory, _built_store: Path) -> Path:
    path = tmp_path_factory.mktemp("varied") / "crossings.gpkg"
    shutil.copyfile(_built_store, path)
    write_records(path, 1500)
    write_raw_texts(path)
    return path


# -- the text the commands printed from whole records ----------------------------------------


def printed(
    rows: list[dict[str, object]],
    output_format: str,
    columns: tuple[str, ...],
    csv_header: tuple[str, ...] | None = None,
) -> str:
    """The text echo_records printed before: a row at a time, from mappings."""
    if output_format in ("table", "wide"):
        text = table(rows, columns, width=0 if output_format == "wide" else 100)
        return terminal_safe(text) + "\n"
    if output_format == "csv":
        buffer = io.StringIO()
        fields = list(csv_header or (rows[0] if rows else columns))
        writer = csv.DictWriter(buffer, fields, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: csv_cell(v) for k, v in row.items()})
        return terminal_safe(buffer.getvalue())
    geojson = output_format == "geojson"
    pad = "\n    " if geojson else "\n  "
    items = [
        json.dumps(_feature(row) if geojson else row, ensure_ascii=False, indent=2).replace(
            "\n", pad
        )
        for row in rows
    ]
    body = "".join(("," if n else "") + pad + item for n, item in enumerate(items))
    if geojson:
        opening = '{\n  "type": "FeatureCollection",\n  "features": ['
        return terminal_safe(opening + body + "\n  ]\n}\n")
    return terminal_safe("[" + body + ("\n" if items else "") + "]\n")


def measured(found) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {
        "distance_m": round(found.distance_m, 1),
        "distance": distance_text(found.distance_m),
        "bearing_deg": rounded(found.bearing_deg),
    }


def with_point(fields: dict[str, object], record) -> dict[str, object]:  # type: ignore[no-untyped-def]
    if record.location is not None:
        fields["lon"], fields["lat"] = record.location.lon, record.location.lat
    return fields


def around_rows(
    store: Path, crossing_id: str, km: float, output_format: str, **filters: str
) -> list[dict[str, object]]:
    if output_format in ("table", "wide"):  # its tables were made of light records
        light = sightings_around(store, crossing_id, km=km, **filters)  # type: ignore[arg-type]
        return [{**n.item._asdict(), "date": n.item.date_text, **measured(n)} for n in light]
    found = around(store, crossing_id, km=km, **filters)  # type: ignore[arg-type]
    return [{**with_point(observation_fields(n.item), n.item), **measured(n)} for n in found]


def near_rows(store: Path, point: tuple[float, float], km: float) -> list[dict[str, object]]:
    found = observations_near(store, *point, km=km)
    return [{**observation_fields(n.item), **measured(n)} for n in found]


def within_rows(store: Path, area: Path) -> list[dict[str, object]]:
    crossings, records = within(store, area)
    rows = [{"type": "crossing", **crossing_fields(c)} for c in crossings]
    rows += [{"type": "observation", **with_point(observation_fields(r), r)} for r in records]
    return rows


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    return result.output


def area_file(folder: Path, west: float, south: float, east: float, north: float) -> Path:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    path = folder / "area.geojson"
    geometry = {"type": "Polygon", "coordinates": [ring]}
    feature = {"type": "Feature", "properties": {}, "geometry": geometry}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


# -- the same text --------------------------------------------------------------------------


@pytest.fixture(params=["held", "read again"])
def rows_read(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """An answer's rows held from the reading of its points (few), or read again (many)."""
    if request.param == "read again":
        monkeypatch.setattr("geo.questions._HELD_AT_MOST", 0)
    return str(request.param)


@pytest.mark.parametrize("output_format", FORMATS)
@pytest.mark.parametrize(
    ("crossing_id", "km", "filters"),
    [
        ("friendship-bridge", 3.0, {}),
        ("friendship-bridge", 0.0, {}),
        ("quanhe-wonjong", 40.0, {"since": "2024-05-02"}),
        ("friendship-bridge", 5.0, {"kind": "status", "until": "2024"}),
    ],
)
@pytest.mark.usefixtures("rows_read")
def test_around_prints_what_whole_records_printed(
    varied_store: Path, crossing_id: str, km: float, filters: dict[str, str], output_format: str
):
    rows = around_rows(varied_store, crossing_id, km, output_format, **filters)
    expected = printed(rows, output_format, AROUND_COLUMNS)
    asked = [f"--{k.replace('_', '-')}={v}" for k, v in filters.items()]
    got = run("around", crossing_id, "--km", str(km), *asked, "--store", str(varied_store),
              "--format", output_format)  # fmt: skip
    assert got == expected


@pytest.mark.parametrize("output_format", FORMATS)
@pytest.mark.usefixtures("rows_read")
def test_near_observations_prints_what_whole_records_printed(
    varied_store: Path, output_format: str
):
    with open_store(varied_store) as store:
        point = store.crossings()["friendship-bridge"].location
    assert point is not None
    lat, lon = point.lat + 0.005, point.lon
    expected = printed(near_rows(varied_store, (lat, lon), 4.0), output_format, NEAR_COLUMNS)
    got = run("near", f"{lat},{lon}", "--km", "4", "--observations", "--store", str(varied_store),
              "--format", output_format)  # fmt: skip
    assert got == expected


@pytest.mark.parametrize("output_format", FORMATS)
@pytest.mark.parametrize("box", [(124.30, 40.00, 124.45, 40.15), (0.0, 0.0, 1.0, 1.0)])
@pytest.mark.usefixtures("rows_read")
def test_within_prints_what_whole_records_printed(
    varied_store: Path, tmp_path: Path, box: tuple[float, ...], output_format: str
):
    area = area_file(tmp_path, *box)
    rows = within_rows(varied_store, area)
    expected = printed(rows, output_format, WITHIN_COLUMNS, WITHIN_CSV_COLUMNS)
    got = run("within", str(area), "--store", str(varied_store), "--format", output_format)
    assert got == expected


@pytest.mark.parametrize("output_format", FORMATS)
def test_the_seed_prints_what_whole_records_printed(shipped_store: Path, output_format: str):
    rows = around_rows(shipped_store, "new-yalu-river-bridge", 3.0, output_format)
    expected = printed(rows, output_format, AROUND_COLUMNS)
    got = run("around", "new-yalu-river-bridge", "--km", "3", "--store", str(shipped_store),
              "--format", output_format)  # fmt: skip
    assert got == expected


def test_the_comparison_can_fail(varied_store: Path):
    json_text = run("around", "friendship-bridge", "--km", "3", "--store", str(varied_store),
                    "--format", "json")  # fmt: skip
    rows = around_rows(varied_store, "friendship-bridge", 3.0, "json")
    rows[1]["summary"] = str(rows[1]["summary"]) + "!"
    assert json_text != printed(rows, "json", AROUND_COLUMNS)
    assert json.loads(json_text)[0] == rows[0]


def test_a_streamed_record_has_the_fields_of_a_whole_one(varied_store: Path):
    with open_store(varied_store) as store:
        record = store.observations()[0]
    assert RECORD_FIELDS == tuple(observation_fields(record))


def test_a_bad_value_another_program_wrote_names_the_record(varied_store: Path, tmp_path: Path):
    path = tmp_path / "bad.gpkg"
    shutil.copyfile(varied_store, path)
    connection = connect(path)
    with connection:
        connection.execute("UPDATE observations SET recorded_at = 'yesterday'")
    connection.close()
    result = CliRunner().invoke(
        cli, ["around", "friendship-bridge", "--km", "3", "--store", str(path), "--format", "csv"]
    )
    assert result.exit_code == 1
    assert "holds a value another program wrote that cannot be read" in result.output


# -- flat memory ----------------------------------------------------------------------------


def rows_of(count: int) -> Iterator[tuple[object, ...]]:
    for n in range(count):
        yield (f"o-{n:010x}", "friendship-bridge", "2024-05", "traffic", "a summary " * 3,
               124.39 + n * 1e-9, 40.11, float(n), f"{n:,} m")  # fmt: skip


FIELDS = ("id", "crossing_id", "date", "kind", "summary", "lon", "lat", "distance_m", "distance")


def peak_of(function) -> int:  # type: ignore[no-untyped-def]
    """Peak bytes allocated while ``function`` runs, its output sent nowhere."""
    gc.collect()
    stdout = sys.stdout
    with open(os.devnull, "w", encoding="utf-8") as sink:
        sys.stdout = sink
        tracemalloc.start()
        try:
            function()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            sys.stdout = stdout


#: Values of a CSV cell: what a spreadsheet would run, what the writer quotes, and the rest.
CELLS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(alphabet=st.sampled_from(",\"\r\n\t=+-@' ;a\x00\x1b圈"), max_size=6),
    st.text(max_size=8),
    st.lists(st.text(max_size=4), max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 4).flatmap(lambda width: st.lists(st.lists(CELLS, min_size=width,
       max_size=width).map(tuple), max_size=6)), st.data())  # fmt: skip
def test_csv_is_what_the_csv_writer_writes_of_each_cell(rows: list[tuple[object, ...]], data):
    width = len(rows[0]) if rows else data.draw(st.integers(1, 4))
    fields = tuple(f"f{n}" for n in range(width))
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\n")
    writer.writerows([fields, *([csv_cell(v) for v in row] for row in rows)])
    for given_as in (iter(rows), Chunked.of_rows(rows)):  # rows, or a chunk's columns
        got = io.StringIO()
        with contextlib.redirect_stdout(got):
            echo_rows(fields, given_as, "csv", columns=fields)
        assert got.getvalue() == terminal_safe(expected.getvalue())


#: Fields of a JSON row: a point's, and names JSON escapes or a template would misread.
JSON_FIELDS = ("lon", "lat", "id", 'a "quoted" name', "50%s", "圈河")
POINTS = st.one_of(st.none(), st.floats(-180, 180))


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, len(JSON_FIELDS)),
    st.lists(st.tuples(POINTS, POINTS, *[CELLS] * 4), max_size=5),
    st.sampled_from(["json", "geojson"]),
)
def test_json_is_what_json_dumps_writes_of_each_row(
    width: int, values: list[tuple[object, ...]], output_format: str
):
    fields = JSON_FIELDS[:width]
    rows = [row[:width] for row in values]
    expected = printed([dict(zip(fields, row, strict=True)) for row in rows], output_format, fields)
    for given_as in (iter(rows), Chunked.of_rows(rows)) if width else (iter(rows),):
        got = io.StringIO()
        with contextlib.redirect_stdout(got):
            echo_rows(fields, given_as, output_format, columns=fields)
        assert got.getvalue() == expected


@pytest.mark.parametrize("output_format", ["json", "csv", "geojson"])
def test_rows_are_written_in_memory_that_does_not_grow(output_format: str):
    def write(count: int) -> int:
        return peak_of(lambda: echo_rows(FIELDS, rows_of(count), output_format, columns=FIELDS))

    small, large = write(20_000), write(100_000)
    assert large < small * 1.2 + 100_000, (small, large)
    assert large < 5_000_000  # 100,000 rows of these as text: about 20 MB


@pytest.fixture(scope="module")
def large_store(tmp_path_factory: pytest.TempPathFactory, _built_store: Path) -> Path:
    """A store of 100,000 records within 2 km of the Friendship Bridge: 20,000 of them status."""
    path = tmp_path_factory.mktemp("large") / "crossings.gpkg"
    shutil.copyfile(_built_store, path)
    rng = random.Random(3)
    with open_store(path, writable=True) as store:
        crossings = store.crossings()
        center = crossings["friendship-bridge"].location
        assert center is not None
        template = parse_observation(
            {"crossing_id": "friendship-bridge", "date": "2024-05", "kind": "traffic",
             "summary": "a record among many", "source_url": "https://example.org/many",
             "source_type": "satellite_imagery"},
            crossings,
        )  # fmt: skip

        def records():  # type: ignore[no-untyped-def]
            for n in range(100_000):
                point = LonLat(center.lon + rng.uniform(-0.01, 0.01),
                               center.lat + rng.uniform(-0.01, 0.01))  # fmt: skip
                kind = "status" if n % 5 == 0 else "traffic"
                yield template._replace(
                    id=f"m-{n:09d}", kind=kind, status="open" if kind == "status" else None,
                    location=point, has_own_location=True,
                )  # fmt: skip

        store.add_observations(records(), bulk=True, expected_rows=100_000)
    return path


# One format end to end (the writers of every format are checked alone above): each run is two
# answers under tracemalloc, which slows every allocation.
@pytest.mark.parametrize("output_format", ["json"])
def test_an_answer_of_100000_records_is_written_in_flat_memory(
    large_store: Path, output_format: str
):
    def answer(*kind: str) -> int:
        args = ["around", "friendship-bridge", "--km", "2", *kind, "--store", str(large_store),
                "--format", output_format]  # fmt: skip
        return peak_of(lambda: cli.main(args, standalone_mode=False))

    few, all_of_them = answer("--kind", "status"), answer()  # 20,000 and 100,000 records
    with open_store(large_store) as store:
        one_record = len(
            json.dumps(observation_fields(store.observations_by_id(["m-000099999"])[0]))
        )
    held = 100_000 * one_record  # what the records would hold as text alone (~100 MB)
    assert all_of_them < held / 4, (all_of_them, held)
    # Only the order grows: a few numbers a record, not the records.
    assert (all_of_them - few) / 80_000 < 200, (few, all_of_them)


def test_a_slow_reader_of_a_long_answer_has_only_a_few_chunks_read_ahead(
    varied_store: Path, monkeypatch: pytest.MonkeyPatch
):
    """The chunks of an answer are read by several connections, but never far ahead of the
    reader: one slower than the disk (a busy machine, a pipe) would have them all held."""
    import threading
    import time

    from geo import questions

    read: list[int] = []
    lock = threading.Lock()

    opened: list[Apart] = []

    class Apart:
        closed = False

        def _query(self, sql: str, params: dict[str, str]) -> list[object]:
            with lock:
                read.append(json.loads(params["fids"])[0])
            return [params["fids"]]

        def close(self) -> None:
            self.closed = True

    def open_apart(path: object) -> Apart:
        opened.append(Apart())
        return opened[-1]

    monkeypatch.setattr(questions, "open_store", open_apart)
    chunks = [[n] for n in range(60)]
    answer = questions._read_apart(varied_store, "SELECT", chunks)
    assert next(answer) == [json.dumps([0])]
    time.sleep(0.3)  # the reader is slow: the connections could read every chunk meanwhile
    assert len(read) <= 2 * questions._READ_APART + 1, len(read)
    assert [rows[0] for rows in answer] == [json.dumps([n]) for n in range(1, 60)]
    assert sorted(read) == list(range(60))
    # One store a connection, opened once for every chunk it reads, and closed at the end.
    assert 1 <= len(opened) <= questions._READ_APART
    assert all(apart.closed for apart in opened)


@pytest.mark.parametrize("from_disk", [False, True])
def test_the_chunks_of_an_answer_are_read_apart_only_once_one_came_from_the_disk(
    varied_store: Path, monkeypatch: pytest.MonkeyPatch, from_disk: bool
):
    """Read from memory, every chunk is read on the store's own connection; once a chunk was
    slow (from the disk), the rest are read by several connections at once, in order."""
    from geo import questions

    apart: list[list[list[int]]] = []

    def read_apart(path: Path, sql: str, chunks: list[list[int]]) -> Iterator[list[object]]:
        apart.append(chunks)
        for chunk in chunks:
            yield [("apart", chunk[0])]

    monkeypatch.setattr(questions, "_read_apart", read_apart)
    monkeypatch.setattr(questions, "_FROM_DISK_S", -1.0 if from_disk else float("inf"))
    sql = f"SELECT o.fid FROM observations o WHERE {questions._AMONG}"
    with open_store(varied_store) as store:
        fids = [fid for (fid,) in store._connection.execute("SELECT fid FROM observations")]
        chunks = [[fid] for fid in fids[:20]]
        found = list(questions._read_chunks(store, sql, chunks))
    assert found[0] == [(chunks[0][0],)]  # the first on the store's own connection
    if from_disk:
        assert apart == [chunks[1:]]
        assert found[1:] == [[("apart", chunk[0])] for chunk in chunks[1:]]
    else:
        assert apart == []
        assert found == [[(chunk[0],)] for chunk in chunks]
