"""The `crossings` commands: exit codes, JSON output, and the exact error texts."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from geo.cli import cli
from tests.common import contents, execute


def run(*args: str, store: Path | None = None):
    full = [*args, "--store", str(store)] if store is not None else list(args)
    return CliRunner().invoke(cli, full, catch_exceptions=False)


OBSERVE = [
    "observe",
    "new-yalu-river-bridge",
    "--on",
    "2025-03",
    "--kind",
    "infrastructure",
    "--summary",
    "Small buildings going up on the DPRK side",
    "--source-url",
    "https://www.38north.org/2025/03/example",
    "--source-type",
    "satellite_imagery",
    "--side",
    "dprk",
    "--structure",
    "new-yalu-bridge",
    "--lifecycle",
    "built_not_opened",
]


def test_every_command_has_help():
    assert run("--help").exit_code == 0
    for name, command in cli.commands.items():
        result = run(name, "--help")
        assert result.exit_code == 0, name
        assert command.help and "Example:" in command.help, name
        assert "\n  Example:\n    crossings " in result.output, name  # kept verbatim


def test_help_check_can_fail():
    # Companion of the test above: an unknown command is an error, not help.
    assert run("no-such-command", "--help").exit_code == 2


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and "crossings, version" in result.output


def test_init_refuses_to_overwrite(tmp_path: Path, data_dir: Path):
    store = tmp_path / "s.gpkg"
    args = ("init", "--seed", str(data_dir / "seed"))
    first = run(*args, store=store)
    assert first.exit_code == 0
    assert json.loads(first.output) == {
        "store": str(store),
        "crossings": 4,
        "structures": 4,
        "observations": 14,
        "trade": 8,
    }
    again = run(*args, store=store)
    assert again.exit_code == 1
    assert again.output == (
        f"Error: {store} already exists. Fix: pass --force to rebuild it from the seed "
        "(records added since are lost), or choose another --store path\n"
    )
    assert run(*args, "--force", store=store).exit_code == 0


def test_list_json(any_store: str):
    result = run("list", "--format", "json", store=any_store)
    assert result.exit_code == 0
    rows = {row["id"]: row for row in json.loads(result.output)}
    assert set(rows) == {
        "friendship-bridge",
        "new-yalu-river-bridge",
        "quanhe-wonjong",
        "jian-manpo-road",
    }
    friendship = rows["friendship-bridge"]
    assert (friendship["name_zh"], friendship["name_ko"]) == ("中朝友谊桥", "조중우의교")
    assert (friendship["status"], friendship["status_date"]) == ("open", "2026-03-12")
    assert friendship["lon"] == pytest.approx(124.3925)


def test_list_as_of_and_store_from_environment(any_store: str):
    result = CliRunner().invoke(
        cli,
        ["list", "--as-of", "2021-06-01", "--format", "csv"],
        env={"CROSSINGS_STORE": str(any_store)},
    )
    assert result.exit_code == 0
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(result.output)))
    status = {row["id"]: (row["status"], row["status_kind"]) for row in rows}
    assert status["friendship-bridge"] == ("closed", "traffic")
    assert status["new-yalu-river-bridge"] == ("built_not_opened", "lifecycle")


def test_list_table_is_readable(any_store: str):
    result = run("list", "--format", "wide", store=any_store)
    assert result.exit_code == 0
    assert "friendship-bridge" in result.output and "2026-03-12" in result.output
    # jian-manpo-road rests on the 2020 closure, a record that says it applies to all
    assert "o-7f5ec12262 (border-wide), 2020" in result.output


def test_list_bad_as_of_is_a_usage_error(any_store: str):
    result = run("list", "--as-of", "June 2021", store=any_store)
    assert result.exit_code == 2
    assert (
        "Error: Invalid value for --as-of: 'June 2021' is not a date. Allowed: YYYY, YYYY-MM"
        in result.output
    )


def test_show_by_name_in_any_script(any_store: str):
    for name in ("quanhe-wonjong", "圈河口岸", "원정리 통상구", "Wonjong"):
        result = run("show", name, "--format", "json", store=any_store)
        assert result.exit_code == 0, name
        document = json.loads(result.output)
        assert document["crossing"]["id"] == "quanhe-wonjong"
    # In the order the rule applies the records: by the last day each date can mean.
    dates = [row["date_end"] for row in document["history"]]
    assert dates == sorted(dates)


def test_show_table(any_store: str):
    result = run("show", "friendship-bridge", "--format", "wide", store=any_store)
    assert result.exit_code == 0
    assert "status on" in result.output and "open since 2026-03-12" in result.output
    assert "evidence: o-b73afb584d, 2026-03-12, " in result.output
    assert "old, Newser (citing Reuters/BBC)" in result.output
    assert "structure friendship-bridge-1943: Sino-Korean Friendship Bridge" in result.output
    assert result.output.index("2022-01-16") < result.output.index("2022-04-29")


def test_show_unknown_id(any_store: str):
    result = run("show", "quanhe-wonjang", store=any_store)
    assert result.exit_code == 1
    assert result.output.startswith(
        "Error: ID: 'quanhe-wonjang' is not a crossing in the inventory. "
        "Allowed: a crossing id from `crossings list`, or 'border' for the whole border. "
        "Fix: did you mean quanhe-wonjong"
    )


def test_observe_prints_the_id_and_show_lists_it(any_store: str):
    result = run(*OBSERVE, store=any_store)
    assert result.exit_code == 0
    new_id = json.loads(result.output)["id"]
    shown = json.loads(
        run("show", "new-yalu-river-bridge", "--format", "json", store=any_store).output
    )
    assert new_id in [row["id"] for row in shown["history"]]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("--on", "2025-13"),
            (
                "Error: date: '2025-13' has no month 13. Allowed: YYYY (a year), "
                "YYYY-MM (a month) or YYYY-MM-DD (a day), month 01-12. Fix: check the month\n"
            ),
        ),
        (
            ("--kind", "gossip"),
            (
                "Error: kind: 'gossip' is not a known value. Allowed: status, "
                "infrastructure, traffic, trade, context, plan, retraction. Fix: use one of "
                "status, infrastructure, traffic, trade, context, plan, retraction\n"
            ),
        ),
        (
            ("--source-url", "www.38north.org"),
            (
                "Error: source_url: 'www.38north.org' is not a web "
                "address. Allowed: an http:// or https:// URL. "
                "Fix: paste the full address of the source, starting with https://\n"
            ),
        ),
        (
            ("--status", "built_not_opened"),
            (
                "Error: status: 'built_not_opened' is given for a record of kind "
                "'infrastructure'. Allowed: a status only on status records and plans. "
                "Fix: leave the status out (only status records set a crossing's status), "
                "or use --kind status if the source says what may cross now\n"
            ),
        ),
        (
            ("--applies-to", "all"),
            (
                "Error: applies_to: 'all' is given for a record of new-yalu-river-bridge. "
                "Allowed: applies_to only on records of the whole border ('border'). "
                "Fix: leave it out: a crossing's own record applies to that crossing\n"
            ),
        ),
        (
            ("--at", "41.5,124.37"),
            (
                "Error: location: '41.5, 124.37' is 162.6 km from "
                "new-yalu-river-bridge. Allowed: a point within 25 km of the crossing. "
                "Fix: check the coordinates (lat, lon order) or the crossing id\n"
            ),
        ),
    ],
)
def test_observe_bad_input_exit_1_nothing_written(any_store: str, change, message):
    args = list(OBSERVE)
    flag = change[0]
    if flag in args:
        args[args.index(flag) + 1] = change[1]
    else:
        args += list(change)
    before = contents(any_store)
    result = run(*args, store=any_store)
    assert result.exit_code == 1
    assert result.output == message
    assert contents(any_store) == before


def test_observe_duplicate(any_store: str):
    first = json.loads(run(*OBSERVE, store=any_store).output)["id"]
    again = run(*OBSERVE, store=any_store)
    assert again.exit_code == 1
    assert f"Error: observation: '{first}' is already in the store" in again.output
    ignored = run(*OBSERVE, "--ignore", store=any_store)
    assert ignored.exit_code == 0 and json.loads(ignored.output)["id"] == first


def test_observe_missing_option_is_a_usage_error(any_store: str):
    result = run("observe", "quanhe-wonjong", "--on", "2025", store=any_store)
    assert result.exit_code == 2
    assert "Missing option '--kind'" in result.output


def test_import_csv_and_report_every_bad_row(any_store: str, tmp_path: Path):
    good = tmp_path / "good.csv"
    good.write_text(
        "\ufeffcrossing_id,date,kind,status,summary,source_url,source_type,lat,lon\n"
        "quanhe-wonjong,2025-05,traffic,,트럭 대기열 圈河,https://example.org/a,ground_observation,42.57,130.52\n"
        "border,2025,trade,,Border-wide note,https://example.org/b,customs_data,,\n",
        encoding="utf-8",
    )
    result = run("import", str(good), store=any_store)
    assert result.exit_code == 0
    assert json.loads(result.output)["imported"] == 2
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "crossing_id,date,kind,summary,source_url,source_type\n"
        "quanhe-wonjong,2025-05,traffic,,https://example.org/c,ground_observation\n"
        "quanhe-wonjong,2025-05,traffic,ok,https://example.org/d,pigeon\n",
        encoding="utf-8",
    )
    before = contents(any_store)
    result = run("import", str(bad), store=any_store)
    assert result.exit_code == 1
    assert f"Error: {bad}: 2 problem(s), nothing was imported:" in result.output
    assert "row 2: summary: '' is empty." in result.output
    assert "row 3: source_type: 'pigeon' is not a known value." in result.output
    assert contents(any_store) == before


def test_import_unsupported_file(any_store: str, tmp_path: Path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    result = run("import", str(path), store=any_store)
    assert result.exit_code == 1
    assert "Error: file: " in result.output and "has an unsupported type" in result.output


def test_validate(any_store: str):
    result = run("validate", store=any_store)
    assert result.exit_code == 0 and result.output.endswith(": ok\n")


def test_validate_finds_problems(any_store: str):
    execute(any_store, "UPDATE observations SET source_type = 'rumour' WHERE fid = 1")
    execute(any_store, "UPDATE observations SET replaces = 'o-missing' WHERE fid = 2")
    result = run("validate", store=any_store)
    assert result.exit_code == 1
    assert "source_type: 'rumour' is not a known value" in result.output
    assert "replaces 'o-missing', which is not in the store" in result.output
    assert result.output.rstrip().endswith("2 problem(s)")


def test_a_file_that_is_not_a_store(tmp_path: Path):
    path = tmp_path / "notes.gpkg"
    path.write_bytes(b"not sqlite at all" * 100)
    result = run("list", store=path)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {path}: is a file that is not a SQLite database")
    assert "Traceback" not in result.output


def test_map_writes_every_map_and_prints_the_paths(any_store: str, tmp_path: Path):
    out = tmp_path / "maps"
    result = run("map", "--out", str(out), "--cdn", store=any_store)
    assert result.exit_code == 0
    names = [
        "index",
        "friendship-bridge",
        "new-yalu-river-bridge",
        "quanhe-wonjong",
        "jian-manpo-road",
    ]
    assert result.output.splitlines() == [str(out / f"{name}.html") for name in names]
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js" in html
    assert "Sino-Korean Friendship Bridge" in html


def test_map_self_contained_loads_nothing_from_the_network(any_store: str, tmp_path: Path):
    import re

    out = tmp_path / "maps"
    result = run("map", "--out", str(out), store=any_store)  # self-contained is the default
    assert result.exit_code == 0
    html = (out / "index.html").read_text(encoding="utf-8")
    assert not re.findall(r'<script src=|<link rel="stylesheet"', html)
    assert "L.markerClusterGroup" in html and "Leaflet 1.9.4" in html


def test_show_marks_what_a_correction_replaces(any_store: str):
    first = json.loads(run(*OBSERVE, store=any_store).output)["id"]
    fixed = OBSERVE[:]
    fixed[fixed.index("--summary") + 1] = "Larger buildings going up on the DPRK side"
    second = json.loads(run(*fixed, "--replaces", first, store=any_store).output)["id"]
    withdraw = OBSERVE[: OBSERVE.index("--structure")]
    withdraw[withdraw.index("--kind") + 1] = "retraction"
    withdraw[withdraw.index("--summary") + 1] = "Misread the imagery"
    retraction = json.loads(run(*withdraw, "--replaces", second, store=any_store).output)["id"]
    shown = json.loads(
        run("show", "new-yalu-river-bridge", "--format", "json", store=any_store).output
    )
    marks = {row["id"]: row["superseded"] for row in shown["history"]}
    # The retraction itself is in force: it withdraws a record, nothing replaces it.
    assert (marks[first], marks[second], marks[retraction]) == (True, True, False)
    roles = {row["id"]: row["rule"] for row in shown["history"]}
    assert (roles[first], roles[retraction]) == ("superseded", f"withdraws {second}")
    table = run("show", "new-yalu-river-bridge", "--format", "wide", store=any_store).output
    assert "superseded" in table and f"withdraws {second}" in table


def test_observe_what_a_record_says_beyond_its_status(any_store: str):
    closure = [
        "observe", "border", "--on", "2023-11-20", "--until", "2023-11-26", "--kind", "status",
        "--status", "closed", "--applies-to", "quanhe-wonjong", "--summary", "Customs closed",
        "--source-name", "KBS", "--source-detail", "a broadcast; no web page",
        "--source-type", "news_report",
    ]  # fmt: skip
    result = run(*closure, store=any_store)
    assert result.exit_code == 0, result.output
    during = json.loads(
        run("status", "--as-of", "2023-11-26", "--format", "json", store=any_store).output
    )
    after = json.loads(
        run("status", "--as-of", "2023-11-27", "--format", "json", store=any_store).output
    )
    quanhe = {r["id"]: r for r in during}["quanhe-wonjong"]
    assert (quanhe["status"], quanhe["status_border_wide"]) == ("closed", True)
    assert {r["id"]: r for r in after}["quanhe-wonjong"]["status"] == "open"
    assert {r["id"]: r for r in during}["jian-manpo-road"]["status_record"] != quanhe[
        "status_record"
    ]
    plan = [
        "observe", "friendship-bridge", "--on", "2025-07-12", "--kind", "plan", "--status", "open",
        "--traffic", "passenger_rail", "--expected", "2025-08", "--summary", "Trains may resume",
        "--source-url", "https://example.org/plan", "--source-type", "news_report",
    ]  # fmt: skip
    assert run(*plan, store=any_store).exit_code == 0
    shown = json.loads(
        run(
            "show",
            "friendship-bridge",
            "--as-of",
            "2025-09-01",
            "--format",
            "json",
            store=any_store,
        ).output
    )
    assert shown["status"]["status"] == "restricted"  # the plan sets nothing
    (announced,) = shown["status"]["plans"]
    assert (announced["expected"], announced["date_passed"]) == ("2025-08", True)
    assert announced["traffic"] == ["passenger_rail"]


def test_status_matrix(any_store: str):
    days = ("2020-03-01", "2021-06-01", "2023-09-01")
    args = [a for day in days for a in ("--as-of", day)]
    table = run("status", *args, "--format", "wide", store=any_store)
    assert table.exit_code == 0
    header = table.output.splitlines()[0].split()
    assert header == ["id", *days]
    rows = {line.split()[0]: line for line in table.output.splitlines()[2:]}
    assert "built, never opened (2014-10-30) ?" in rows["new-yalu-river-bridge"]
    assert rows["friendship-bridge"].split()[1:] == [
        "unknown", "closed", "(2020)", "restricted", "(2022-09-26)"
    ]  # fmt: skip
    document = json.loads(run("status", *args, "--format", "json", store=any_store).output)
    friendship = next(r for r in document if r["id"] == "friendship-bridge")
    assert [s["as_of"] for s in friendship["statuses"]] == list(days)
    on_2021 = friendship["statuses"][1]
    assert (on_2021["status"], on_2021["status_record"]) == ("closed", "o-7f5ec12262")
    assert on_2021["status_since"] == "2020"
    assert on_2021["evidence_age_days"] == (date(2021, 6, 1) - date(2020, 1, 1)).days


def test_changes_lists_transitions(any_store: str):
    result = run(
        "changes", "--from", "2022", "--to", "2022-12", "--format", "json", store=any_store
    )
    assert result.exit_code == 0
    found = [
        (r["crossing_id"], r["day"], r["from"], r["to"], r["record"])
        for r in json.loads(result.output)
    ]
    assert found == [
        ("friendship-bridge", "2022-01-16", "closed", "restricted", "o-7baba838b0"),
        ("friendship-bridge", "2022-04-29", "restricted", "closed", "o-59e6f3b3d9"),
        ("friendship-bridge", "2022-09-26", "closed", "restricted", "o-3d6d7a55c3"),
    ]
    records = run("changes", "--from", "2022", "--to", "2022-12", "--records", store=any_store)
    assert records.exit_code == 0 and "Rail freight suspended again" in records.output


def test_structures(any_store: str):
    result = run("structures", "--format", "json", store=any_store)
    assert result.exit_code == 0
    rows = {r["id"]: r for r in json.loads(result.output)}
    assert set(rows) == {
        "friendship-bridge-1943", "new-yalu-bridge", "quanhe-old-bridge", "quanhe-new-bridge"
    }  # fmt: skip
    assert rows["new-yalu-bridge"]["lifecycle"] == "built_not_opened"
    assert rows["quanhe-new-bridge"]["lifecycle"] is None
    quanhe = json.loads(run("structures", "圈河口岸", "--format", "json", store=any_store).output)
    assert {r["id"] for r in quanhe} == {"quanhe-old-bridge", "quanhe-new-bridge"}
    before = json.loads(
        run("structures", "new-yalu-river-bridge", "--as-of", "2014-01-01", "--format", "json",
            store=any_store).output
    )  # fmt: skip
    assert before[0]["lifecycle"] is None


def test_merge_adds_what_is_missing_once(any_store: str, data_dir: Path):
    added = run("observe", "quanhe-wonjong", "--on", "2025-05", "--kind", "traffic", "--summary",
                "Trucks queued", "--source-url", "https://example.org/mine", "--source-type",
                "ground_observation", store=any_store)  # fmt: skip
    mine = json.loads(added.output)["id"]
    first = run("merge", str(data_dir / "seed"), store=any_store)
    assert first.exit_code == 0
    assert json.loads(first.output)["observations"] == []  # built from this seed already
    shown = json.loads(run("show", "quanhe-wonjong", "--format", "json", store=any_store).output)
    assert mine in [r["id"] for r in shown["history"]]


# -- faults of the file and the disk: named for what they are, never a traceback ----------


def test_a_store_locked_by_another_writer_is_not_called_foreign(store: Path, monkeypatch):
    import sqlite3

    import geo.store

    monkeypatch.setattr(geo.store.gpkg, "BUSY_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process, mid-write
    try:
        result = run("list", store=store)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 1
    assert "another process has been writing to the store" in result.output
    assert "init" not in result.output and "not a GeoPackage" not in result.output
    assert run("list", store=store).exit_code == 0  # the records were intact


def test_a_read_only_store_is_named_as_such(store: Path, tmp_path: Path):
    import os

    if os.geteuid() == 0:  # root writes through file permissions: a read-only mount instead
        import sqlite3

        uri = store.resolve().as_uri() + "?mode=ro"
        error = sqlite3.connect(uri, uri=True)
        with pytest.raises(sqlite3.OperationalError) as info:
            error.execute("CREATE TABLE t (x)")
        from geo.store import store_fault

        message = str(store_fault(info.value, store))
        assert "the store cannot be written: the file or its folder is read-only" in message
        return
    store.chmod(0o444)
    result = run(*OBSERVE, store=store)
    assert result.exit_code == 1 and "read-only" in result.output


def test_a_damaged_store_is_named_as_such(store: Path):
    data = bytearray(store.read_bytes())
    page = 4096
    for start in range(2 * page, len(data) - page, 7 * page):  # scribble over some pages
        data[start + 100 : start + 2000] = b"\xff" * 1900
    store.write_bytes(bytes(data))
    result = run("list", store=store)
    assert result.exit_code == 1
    assert "the store is damaged" in result.output and "Traceback" not in result.output
    assert "do not write to it; restore it from a copy" in result.output


def _columns(line: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("command", [["list"], ["structures"], ["show", "quanhe-wonjong"]])
def test_tables_fit_the_terminal_and_lose_no_text(
    shipped_store: Path, width: int, command: list[str]
):
    result = CliRunner(env={"COLUMNS": str(width)}).invoke(
        cli, [*command, "--store", str(shipped_store)]
    )
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert max(_columns(line) for line in lines) <= width
    assert "…" not in result.output
    wide = CliRunner().invoke(cli, [*command, "--format", "wide", "--store", str(shipped_store)])
    # The same characters as the unwrapped table: wrapping moved text, cut none (the rule
    # line under the header is the only part that changes, so dashes are left out).
    from collections import Counter

    def characters(text: str) -> Counter[str]:
        return Counter(c for c in text if not c.isspace() and c != "-")

    assert characters(result.output) == characters(wide.output)
    if command[0] == "show":
        assert "圈河口岸" in result.output and "원정리" in result.output


def test_wide_tables_keep_each_url_on_one_line(shipped_store: Path):
    narrow = CliRunner(env={"COLUMNS": "80"}).invoke(
        cli, ["show", "quanhe-wonjong", "--store", str(shipped_store)]
    )
    wide = CliRunner(env={"COLUMNS": "80"}).invoke(
        cli, ["show", "quanhe-wonjong", "--format", "wide", "--store", str(shipped_store)]
    )
    url = "https://beyondparallel.csis.org/increase-in-sino-north-korean-trade-at-wonjong-ni-quanhe-border-crossing/"
    assert url not in narrow.output and url in wide.output
    assert max(_columns(line) for line in narrow.output.splitlines()) <= 80


def test_export_figure_and_trade_on_either_backend(any_store: str, tmp_path: Path):
    for output_format, name in (
        ("csv", "out.csv"),
        ("geojson", "out.geojson"),
        ("kml", "out.kml"),
        ("gpkg", "out.gpkg"),
    ):
        out = tmp_path / name
        result = run("export", "--format", output_format, "--out", str(out), store=any_store)
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["observations"] == 14
    rows = json.loads(
        run("list", "--format", "json", store=str(tmp_path / "out.gpkg")).output
    )  # the exported store is a store
    assert {row["id"] for row in rows} == {
        "friendship-bridge", "new-yalu-river-bridge", "quanhe-wonjong", "jian-manpo-road"
    }  # fmt: skip
    figure = tmp_path / "border.png"
    assert run("figure", "--out", str(figure), store=any_store).exit_code == 0
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    trade = json.loads(run("trade", "--format", "json", store=any_store).output)
    assert len(trade) == 8


def test_a_geopackage_export_writes_each_correction_after_what_it_corrects(
    shipped_store: Path, tmp_path: Path
):
    # The shipped seed corrects a record of 2010-06-30 with one dated to the year 2010, which
    # sorts before it by date; the export wrote them by date and refused its own subset.
    out = tmp_path / "all.gpkg"
    result = run("export", "--format", "gpkg", "--out", str(out), store=shipped_store)
    assert result.exit_code == 0, result.output
    seed = Path(__file__).parent.parent / "layers" / "seed" / "observations.csv"
    with seed.open(encoding="utf-8", newline="") as rows:
        assert json.loads(result.output)["observations"] == sum(1 for _ in csv.DictReader(rows))
    from geo.store import open_store

    with open_store(out) as exported:
        order = [o.id for o in exported.iter_observations()]
        corrections = [o for o in exported.observations() if o.replaces]
    assert corrections
    assert all(order.index(o.replaces) < order.index(o.id) for o in corrections)


def test_show_and_status_quote_the_evidence_and_say_why_it_has_no_address(shipped_store: Path):
    shown = run("show", "quanhe-wonjong", "--as-of", "2023-02-10", "--format", "wide",
                store=shipped_store)  # fmt: skip
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("  evidence: "))
    assert lines[at + 1].startswith("    quote: “오늘 오전 중국 훈춘 취안허 세관")
    assert lines[at + 2].startswith("    in English: “This morning, large container trucks")
    assert lines[at + 3].startswith("    checked on 2026-12-03; a copy: https://")
    assert lines[at + 4].startswith("    no web address: KBS television news of 2023-02-01")
    answers = json.loads(
        run("status", "--as-of", "2021-06-01", "--format", "json", store=shipped_store).output
    )
    bridge = next(a for a in answers if a["id"] == "friendship-bridge")
    # The deciding record is kept; the evidence is the one best checked, with its words.
    assert bridge["status_record"] and bridge["evidence_record"] == "o-97f115c27a"
    assert bridge["evidence_quote"].startswith("Railroad freight traffic between North Korea")
    assert bridge["supporting_records"] > 1
    wide = run("status", "--as-of", "2021-06-01", "--format", "wide", store=shipped_store).output
    assert "“Railroad freight traffic between North Korea and China halted in August 2020" in wide


def test_csv_to_standard_output_is_safe_in_a_spreadsheet(shipped_store: Path):
    import io

    result = run("trade", "--format", "csv", store=shipped_store)
    rows = list(csv.DictReader(io.StringIO(result.output)))
    notes = [row["notes"] for row in rows if "y/y" in row["notes"]]
    # A cell that starts like a formula (+62% y/y) is quoted as exported files quote it.
    assert notes and all(not n.startswith(("+", "-", "=", "@")) for n in notes)
    assert any(n.startswith("'+") for n in notes)


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("all.csv", None),
        ("all.kml", None),
        ("all.zip", "fits two formats"),
        ("all.txt", "does not say"),
    ],
)
def test_export_takes_its_format_from_the_file_name(store: Path, tmp_path: Path, name, said):
    result = run("export", "--out", str(tmp_path / name), store=store)
    if said is None:
        assert result.exit_code == 0, result.output
        assert (tmp_path / name).stat().st_size > 0
    else:
        assert result.exit_code == 1 and said in result.output
        assert not (tmp_path / name).exists()


@pytest.mark.parametrize(
    "name",
    [
        "Dandong–Sinuiju Friendship Bridge",  # the project's own name for it, words reordered
        "Dandong-Sinuiju Friendship Bridge",
        "dandong sinuiju friendship bridge",
        "SINO KOREAN FRIENDSHIP BRIDGE",
        "sino-korean friendship bridge (dandong-sinuiju)",
    ],
)
def test_names_as_people_type_them(shipped_store: Path, name: str):
    result = run("show", name, "--format", "json", store=shipped_store)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["crossing"]["id"] == "friendship-bridge"


def test_a_misspelt_name_is_answered_with_the_closest_crossings(shipped_store: Path):
    result = run("show", "quanhe wonjing", store=shipped_store)
    assert result.exit_code == 1 and "did you mean quanhe-wonjong" in result.output


def test_changes_without_dates_lists_the_last_twelve_months(shipped_store: Path):
    from datetime import UTC, datetime, timedelta

    result = run("changes", "--format", "json", store=shipped_store)
    assert result.exit_code == 0, result.output
    today = datetime.now(UTC).date()
    days = [date.fromisoformat(row["day"]) for row in json.loads(result.output)]
    assert all(today - timedelta(days=365) < day <= today for day in days)
    wider = json.loads(
        run("changes", "--from", "2000", "--format", "json", store=shipped_store).output
    )
    assert len(wider) > len(days)  # the default is a window, not everything
