"""The `crossings` commands: exit codes, JSON output, and the exact error texts."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from geo.cli import cli
from geo.cli.output import table
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


def _data_words(output: str) -> Counter[str]:
    """The words of a command's output but its tables' column names and web addresses."""
    lines = output.splitlines()
    names = [i - 1 for i, line in enumerate(lines) if line and set(line) <= {"-", " "}]
    return Counter(
        word
        for i, line in enumerate(lines)
        if i not in names and not (line and set(line) <= {"-", " "})
        for word in line.split()
        if "://" not in word
    )


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
    # Only a web address is shortened (with an ellipsis); no other word is cut.
    assert all("://" in word for word in result.output.split() if "…" in word)
    wide = CliRunner().invoke(cli, [*command, "--format", "wide", "--store", str(shipped_store)])
    # Every word of the unwrapped table is in the narrow one, whole, as often: wrapping moved
    # words and cut none. Column names may move into the rows ("summary: …") and web
    # addresses may be shortened, so neither is counted.
    missing = _data_words(wide.output) - Counter(result.output.split())
    assert not missing
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


# --- JSON answers of the commands that check and write ------------------------------------------


def test_validate_json_gives_each_problem_with_its_parts(any_store: str):
    execute(any_store, "UPDATE observations SET source_type = 'rumour' WHERE fid = 1")
    execute(any_store, "UPDATE observations SET replaces = 'o-missing' WHERE fid = 2")
    result = run("validate", "--format", "json", store=any_store)
    assert result.exit_code == 1  # as without --format json
    assert result.stderr.rstrip().endswith("2 problem(s)")
    problems = json.loads(result.stdout)
    by_field = {problem["field"]: problem for problem in problems}
    assert set(by_field) == {"source_type", "replaces"}
    bad = by_field["source_type"]
    assert bad["layer"] == "observations" and bad["record_id"].startswith("o-")
    assert bad["value"] == "rumour" and bad["problem"] == "is not a known value"
    assert bad["fix"] and "satellite_imagery" in bad["allowed"]
    missing = by_field["replaces"]
    assert missing["layer"] == "observations" and missing["value"] == "o-missing"
    assert missing["problem"] == "replaces 'o-missing', which is not in the store"
    # Each object is the line the text report prints, in parts.
    text = run("validate", store=any_store)
    assert [p["message"] for p in problems] == text.stdout.splitlines()


def test_validate_json_of_a_sound_store_is_an_empty_list(store: Path):
    result = run("validate", "--format", "json", store=store)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []
    assert result.stderr == f"{store}: ok\n"


def test_validate_json_names_a_point_off_the_boundary(store: Path):
    from geo.model import LonLat
    from geo.store.blob import point_blob

    moved = point_blob(LonLat(130.4, 42.2)).hex()  # Quanhe's point, some 11 km into the DPRK
    execute(store, f"UPDATE crossings SET geom = X'{moved}' WHERE id = 'quanhe-wonjong'")
    result = run("validate", "--format", "json", store=store)
    assert result.exit_code == 1
    (problem,) = json.loads(result.stdout)
    assert (problem["layer"], problem["record_id"], problem["field"]) == (
        "crossings",
        "quanhe-wonjong",
        "location",
    )
    assert problem["value"] == [130.4, 42.2]  # lon, lat
    assert problem["problem"].startswith("its point lies ")
    assert problem["fix"].startswith("check the coordinates")


def test_map_json_lists_the_pages_written(store: Path, tmp_path: Path):
    out = tmp_path / "maps"
    result = run("map", "--out", str(out), "--cdn", "--format", "json", store=store)
    assert result.exit_code == 0, result.output
    pages = json.loads(result.stdout)
    assert pages[0] == {
        "path": str(out / "index.html"),
        "crossing_id": None,
        "bytes": (out / "index.html").stat().st_size,
    }
    assert [p["crossing_id"] for p in pages[1:]] == [
        "friendship-bridge",
        "new-yalu-river-bridge",
        "quanhe-wonjong",
        "jian-manpo-road",
    ]
    assert all(Path(p["path"]).stat().st_size == p["bytes"] > 1000 for p in pages)


def test_figure_json_says_what_was_drawn(store: Path, tmp_path: Path):
    out = tmp_path / "border.svg"
    args = ("figure", "--out", str(out), "--as-of", "2021-06", "--lang", "zh", "--format", "json")
    result = run(*args, store=store)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "path": str(out),
        "bytes": out.stat().st_size,
        "as_of": "2021-06-30",
        "crossing": None,
        "lang": "zh",
        "format": "svg",
    }


def test_report_json_replaces_the_line_for_a_reader(store: Path, tmp_path: Path):
    out = tmp_path / "quanhe.pdf"
    args = ("report", "圈河口岸", "--out", str(out), "--as-of", "2023-02-01")
    result = run(*args, "--format", "json", store=store)
    assert result.exit_code == 0, result.output
    written = json.loads(result.stdout)
    assert written["path"] == str(out) and written["bytes"] == out.stat().st_size
    assert (written["crossing_id"], written["as_of"]) == ("quanhe-wonjong", "2023-02-01")
    assert written["pages"] >= 1 and result.stderr == ""
    again = run(*args, "--force", store=store)  # without --format json: one line on stderr
    assert again.stdout == "" and f"{written['pages']} pages" in again.stderr


# --- -v and -q anywhere -------------------------------------------------------------------------


@pytest.fixture
def root_level():
    import logging

    root = logging.getLogger()
    kept = root.level
    yield root.getEffectiveLevel
    root.setLevel(kept)


@pytest.mark.parametrize(
    ("args", "level"),
    [
        (["list"], "WARNING"),
        (["list", "-v"], "INFO"),
        (["-v", "list"], "INFO"),
        (["-v", "list", "--verbose"], "DEBUG"),
        (["list", "-vv"], "DEBUG"),
        (["list", "-q"], "ERROR"),
        (["-v", "list", "-q"], "WARNING"),
        (["list", "-qqqq"], "CRITICAL"),
    ],
)
def test_verbose_and_quiet_mean_the_same_before_or_after_the_command(
    store: Path, root_level, args: list[str], level: str
):
    import logging

    result = run(*args, store=store)
    assert result.exit_code == 0, result.output
    assert logging.getLevelName(root_level()) == level


def test_every_command_takes_verbose_and_quiet(store: Path):
    for name, command in cli.commands.items():
        options = {opt for param in command.params for opt in getattr(param, "opts", ())}
        assert {"-v", "--verbose", "-q", "--quiet"} <= options, name
    assert run("no-such-command", "-v").exit_code == 2  # still a usage error


# --- shell completion ---------------------------------------------------------------------------


def complete(words: str, store: object, shell: str = "bash") -> str:
    """What `crossings` answers the shell completing the last word of ``words``."""
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    env = {
        "_CROSSINGS_COMPLETE": f"{shell}_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(cword),
        "CROSSINGS_STORE": str(store),
    }
    result = CliRunner().invoke(cli, [], prog_name="crossings", env=env, catch_exceptions=False)
    assert result.exit_code == 0
    return result.output


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("crossings show qu", ["quanhe-wonjong"]),
        ("crossings show QU", ["quanhe-wonjong"]),
        ("crossings show 圈", ["quanhe-wonjong"]),  # a name, in any script
        ("crossings show hunchun", ["quanhe-wonjong"]),  # any word of a name
        ("crossings show -v new-y", ["new-yalu-river-bridge"]),
        ("crossings report f", ["friendship-bridge"]),
        ("crossings distance friendship-bridge j", ["jian-manpo-road"]),
        ("crossings figure --crossing j", ["jian-manpo-road"]),
        ("crossings export --crossing j", ["jian-manpo-road"]),
        ("crossings around j", ["jian-manpo-road"]),
        ("crossings structures j", ["jian-manpo-road"]),
        ("crossings observe j", ["jian-manpo-road"]),
        (
            "crossings observe x --applies-to friendship-bridge,q",
            ["friendship-bridge,quanhe-wonjong"],
        ),
        ("crossings observe x --applies-to al", ["all"]),
        ("crossings show zz", []),
    ],
)
def test_completion_gives_the_crossing_ids_of_the_store(store: Path, words: str, expected):
    offered = [line for line in complete(words, store).splitlines() if line]
    assert offered == [f"plain,{value}" for value in expected]


def test_completion_lists_every_crossing_with_its_name(store: Path):
    answer = complete("crossings show ", store, shell="zsh").splitlines()
    ids = answer[1::3]
    assert ids == [
        "friendship-bridge",
        "new-yalu-river-bridge",
        "quanhe-wonjong",
        "jian-manpo-road",
    ]
    assert answer[2] == "Sino-Korean Friendship Bridge (Dandong–Sinuiju)"


def test_completion_reads_the_store_given_before_the_word(store: Path, tmp_path: Path):
    words = f"crossings show --store {store} qu"
    assert complete(words, tmp_path / "elsewhere.gpkg") == "plain,quanhe-wonjong\n"


def test_completion_still_completes_commands_and_choices(store: Path):
    assert "plain,validate" in complete("crossings val", store).splitlines()
    assert complete("crossings list --river y", store) == "plain,yalu\n"


@pytest.mark.parametrize(
    "target",
    [
        "missing.gpkg",
        "postgresql://desk:s3cret@127.0.0.1:9/crossings",  # nothing listens on port 9
        "postgresql://desk:s3cret@[not-an-address/crossings",
    ],
)
def test_completion_of_a_store_that_cannot_be_read_says_nothing(tmp_path: Path, target: str):
    store = tmp_path / target if target.endswith(".gpkg") else target
    result = CliRunner().invoke(
        cli,
        [],
        prog_name="crossings",
        env={
            "_CROSSINGS_COMPLETE": "bash_complete",
            "COMP_WORDS": "crossings show qu",
            "COMP_CWORD": "2",
            "CROSSINGS_STORE": str(store),
        },
    )
    assert result.exit_code == 0 and result.exception is None
    assert result.output == "\n"  # no word to offer, and no message
    assert not (tmp_path / "missing.gpkg").exists()


def test_completion_check_can_fail(store: Path):
    # Companion of the tests above: a word no crossing starts gets nothing, a prefix gets one.
    assert complete("crossings show quanhe-wonjong", store) == "plain,quanhe-wonjong\n"
    assert complete("crossings show nowhere", store) == "\n"


def test_every_parameter_that_takes_a_crossing_completes_it():
    completing = {
        (name, param.name)
        for name, command in cli.commands.items()
        for param in command.params
        if param._custom_shell_complete is not None
    }
    assert completing == {
        ("around", "crossing_id"),
        ("distance", "first_id"),
        ("distance", "second_id"),
        ("export", "crossing_id"),
        ("figure", "crossing_id"),
        ("observe", "applies_to"),
        ("observe", "crossing_id"),
        ("report", "crossing_id"),
        ("show", "crossing_id"),
        ("structures", "crossing_id"),
    }


# --- the PostGIS store is an extra --------------------------------------------------------------


@pytest.mark.parametrize("command", [["list"], ["init", "--force"], ["validate"]])
def test_a_database_store_without_its_driver_names_the_extra(monkeypatch, command: list[str]):
    import sys

    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if `pip install crossings` only
    result = CliRunner().invoke(
        cli, [*command, "--store", "postgresql://desk:s3cret@db.example.org/crossings"]
    )
    assert result.exit_code == 1
    assert result.output == (
        "Error: postgresql://desk:***@db.example.org/crossings: a PostGIS store needs the "
        "database driver psycopg, which is not installed. Fix: pip install 'crossings[postgis]'\n"
    )
    assert "s3cret" not in result.output


# --- tables never split a word --------------------------------------------------------------

#: The fields of `show --format json` whose values are ids (of records, crossings, structures).
_ID_KEYS = {
    "id", "crossing_id", "structure_id", "replaces", "record", "status_record",
    "evidence_record", "status_since_record", "lifecycle_record", "status_conflicts",
}  # fmt: skip


def _ids(document: object) -> set[str]:
    """Every id a JSON document holds, at any depth."""
    found: set[str] = set()
    if isinstance(document, dict):
        for key, value in document.items():
            if key in _ID_KEYS and isinstance(value, str):
                found.add(value)
            elif key in _ID_KEYS and isinstance(value, list):
                found.update(v for v in value if isinstance(v, str))
            else:
                found |= _ids(value)
    elif isinstance(document, list):
        for item in document:
            found |= _ids(item)
    return found


def _whole(word: str, text: str) -> bool:
    """Whether text holds word with no letter, digit or hyphen joined to either end."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


@pytest.mark.parametrize("width", [80, 100, 120])
def test_show_keeps_every_id_whole_and_on_its_record_line(shipped_store: Path, width: int):
    args = ["show", "friendship-bridge", "--as-of", "2026-12-01", "--store", str(shipped_store)]
    document = json.loads(CliRunner().invoke(cli, [*args, "--format", "json"]).output)
    ids = _ids(document)
    assert {"friendship-bridge", "friendship-bridge-1943", "o-769ff1188d"} <= ids
    result = CliRunner(env={"COLUMNS": str(width)}).invoke(cli, args)
    assert result.exit_code == 0
    assert [i for i in sorted(ids) if not _whole(i, result.output)] == []
    lines = result.output.splitlines()
    assert max(_columns(line) for line in lines) <= width
    # `grep ID` finds the record's line, with its date: the history row is never lost.
    for row in document["history"]:
        found = [line for line in lines if _whole(row["id"], line) and row["when"] in line]
        assert found, row["id"]


def _addresses(output: str) -> list[str]:
    """The web addresses of an output, in order, without the brackets around them."""
    return [w.strip("<>()[],;.") for w in output.split() if "://" in w]


def _shortened_from(short: str, url: str) -> bool:
    """Whether ``short`` shows ``url``: whole, or its start and its end around an ellipsis."""
    if "…" not in short:
        return short == url
    start, _, end = short.partition("…")
    return len(start) > len("https://") and url.startswith(start) and url.endswith(end)


@pytest.mark.parametrize("width", [80, 120])
def test_show_shortens_web_addresses_on_one_line_and_wide_keeps_them(
    shipped_store: Path, width: int
):
    args = ["show", "friendship-bridge", "--store", str(shipped_store)]
    narrow = CliRunner(env={"COLUMNS": str(width)}).invoke(cli, args).output
    wide = CliRunner(env={"COLUMNS": str(width)}).invoke(cli, [*args, "--format", "wide"]).output
    url = "https://beyondparallel.csis.org/imagery-analysis-of-rail-and-road-traffic-between-dandong-and-sinuiju-and-the-effects-of-covid-19/"
    assert url in _addresses(wide) and "…" not in wide
    assert url not in narrow
    # Each address of the wide output is in the narrow one, in the same place, on one line:
    # whole, or its start and end around an ellipsis.
    shown, whole = _addresses(narrow), _addresses(wide)
    assert len(shown) == len(whole)
    assert [s for s, u in zip(shown, whole, strict=True) if not _shortened_from(s, u)] == []
    assert any("…" in s for s in shown)


def test_a_table_counts_wide_characters_twice_and_cuts_only_what_cannot_fit():
    names = "圈河口岸 원정리 통상구 " * 2
    rows = [
        {"id": "quanhe-wonjong", "name": names, "n": 1234567},
        {"id": "o-769ff1188d", "name": "Antidisestablishmentarianism" * 2, "n": 0},
    ]
    for width in (40, 60, 80):
        text = table(rows, ["id", "name", "n"], width=width)
        assert max(_columns(line) for line in text.splitlines()) <= width, text
        assert _whole("quanhe-wonjong", text) and _whole("o-769ff1188d", text)
        assert "1,234,567" in text and "1234567" not in text
        # A word longer than its room is cut with an ellipsis, not spilled onto the next line.
        (long_word,) = [w for w in text.split() if w.startswith("Antidis")]
        assert long_word.endswith("…") and "\n…" not in text
        assert "0" in text.split()  # a zero is shown, not taken for an empty cell
    wide = table(rows, ["id", "name", "n"], width=0)
    assert "Antidisestablishmentarianism" * 2 in wide and "…" not in wide


def test_every_command_is_loaded_from_the_module_that_declares_it():
    import importlib

    from geo.cli import main

    declared = {
        command.name: module
        for module in set(main.COMMAND_MODULES.values())
        for command in importlib.import_module(f"geo.cli.{module}").COMMANDS
    }
    assert declared == main.COMMAND_MODULES
    assert sorted(cli.commands) == sorted(declared)


def test_a_question_loads_neither_the_maps_nor_the_server(store):
    """A command imports only what it runs: a cold `around` starts quicker."""
    script = (
        "import sys\n"
        "from geo.cli import cli\n"
        "try:\n"
        "    cli(['around', 'quanhe-wonjong', '--km', '5', '--store', sys.argv[1], "
        "'--format', 'json'])\n"
        "except SystemExit as done:\n"
        "    assert not done.code, done.code\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(store)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)  # it answered
    loaded = set(done.stderr.split())
    assert "geo.questions" in loaded
    heavy = {"geo.publish", "geo.render", "geo.frames", "geo.web", "geo.feeds", "geo.report"}
    assert not heavy & loaded
    assert not {"folium", "pandas", "geopandas", "matplotlib", "starlette"} & loaded
