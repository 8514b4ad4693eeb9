"""Work run in a process of its own (geo.apart): its items, its errors, its end."""

from __future__ import annotations

import itertools
import os
import pickle
from pathlib import Path

import pytest

from geo.apart import results
from geo.errors import BatchValidationError, RecordValidationError, RowProblem, WorkerStoppedError


def children() -> set[int]:
    """The processes this one has started and not yet reaped (Linux)."""
    found: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        found.update(int(pid) for pid in (task / "children").read_text().split())
    return found


def test_the_items_come_in_order_and_the_process_ends():
    before = children()
    assert list(results(itertools.repeat, {"a": [1, 2]}, 3)) == [{"a": [1, 2]}] * 3
    assert children() == before


def test_an_error_of_the_work_is_raised_here_after_the_items_before_it():
    found = results(map, int, ["1", "2", "x"])
    assert next(found) == 1
    assert next(found) == 2
    with pytest.raises(ValueError, match="invalid literal for int"):
        next(found)


def test_a_process_that_ends_before_its_work_is_named():
    with pytest.raises(WorkerStoppedError, match="ended with code 3 before it finished"):
        list(results(map, os._exit, [3]))


def test_reading_stopped_early_ends_the_other_process():
    before = children()
    endless = results(itertools.count)
    assert [next(endless) for _ in range(3)] == [0, 1, 2]
    assert children() != before  # it runs while it is read
    endless.close()
    assert children() == before


def test_the_errors_of_the_library_pass_between_processes_whole():
    error = RecordValidationError("date", "2025-13", "has no month 13", "YYYY-MM", "check it")
    batch = BatchValidationError("rows.csv", [RowProblem(3, error)])
    again = pickle.loads(pickle.dumps(batch))
    assert type(again) is BatchValidationError
    assert str(again) == str(batch)
    (problem,) = again.problems
    assert (problem.row, problem.error.field, str(problem.error)) == (3, "date", str(error))


def test_a_process_whose_reader_has_ended_stops_without_a_word(tmp_path):
    """The importing process killed: the other one stops at its next item, printing nothing."""
    import subprocess
    import sys

    reading, writing = os.pipe()
    os.close(reading)  # the reader has ended
    done = subprocess.run(
        [sys.executable, "-m", "geo.apart", str(writing)],
        input=pickle.dumps((itertools.count, ())),
        pass_fds=(writing,),
        capture_output=True,
        timeout=60,
        check=False,
    )
    os.close(writing)
    assert done.stderr == b""
    assert done.returncode == 0


def test_a_folder_named_geo_where_the_work_starts_does_not_stand_in_for_the_package(
    tmp_path, monkeypatch
):
    (tmp_path / "geo").mkdir()
    (tmp_path / "geo" / "__init__.py").write_text("raise SystemExit(9)\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert list(results(itertools.repeat, 1, 2)) == [1, 1]
