"""Cost that grows with the answer, not the store, checked without timing.

SQLite's query plans must use the indexes, and the work of a status answer
(counted in SQLite virtual-machine steps, the same on any machine) must not
grow with the number of records.
"""

from __future__ import annotations

import random
import shutil
from datetime import date
from pathlib import Path

import pytest

from geo.browse import list_crossings
from geo.fields import parse_fuzzy_date
from geo.model import BBox, LonLat
from geo.status import evaluate, status_as_of
from geo.store import open_store
from geo.validate import parse_observation

DAY = date(2026, 11, 23)


def grow(path: Path, records: int, *, seed: int = 7) -> None:
    """Add status records of random statuses and dates to two crossings, in one bulk load."""
    rng = random.Random(seed)
    with open_store(path, writable=True) as store:
        crossings = store.crossings()
        template = parse_observation(
            {
                "crossing_id": "quanhe-wonjong",
                "date": "2020-01",
                "kind": "status",
                "status": "open",
                "summary": "synthetic",
                "source_url": "https://example.org/s",
                "source_type": "news_report",
            },
            crossings,
            today=DAY,
        )
        months = [parse_fuzzy_date(f"{y}-{m:02d}", today=DAY) for y in range(2010, 2026)
                  for m in range(1, 13)]  # fmt: skip
        start = store.count()
        records_ = (
            template._replace(
                id=f"s-{start + n:08d}",
                crossing_id=("quanhe-wonjong", "friendship-bridge")[n % 2],
                date=rng.choice(months),
                status=rng.choice(("open", "restricted", "closed")),
                source_url=rng.choice((None, "https://example.org/s")),
                location=LonLat(130.52, 42.57) if n % 2 == 0 else LonLat(124.39, 40.11),
            )
            for n in range(records)
        )
        store.add_observations(records_, bulk=True)


def vm_steps(path: Path) -> int:
    """SQLite virtual-machine steps spent answering every crossing's status on a day."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    import geo.store

    original = geo.store.gpkg._connect

    def counting(*args, **kwargs):
        connection = original(*args, **kwargs)
        connection.set_progress_handler(count, 100)
        return connection

    geo.store.gpkg._connect = counting
    try:
        list_crossings(path, as_of=date(2021, 6, 1))
    finally:
        geo.store.gpkg._connect = original
    return steps


@pytest.fixture(scope="module")
def small_and_large(_built_store, tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("scale")
    small, large = folder / "small.gpkg", folder / "large.gpkg"
    shutil.copyfile(_built_store, small)
    grow(small, 2_000)
    shutil.copyfile(small, large)
    grow(large, 20_000, seed=8)
    return small, large


def test_the_work_of_a_status_answer_does_not_grow_with_the_store(small_and_large):
    small, large = small_and_large
    with open_store(small) as a, open_store(large) as b:
        assert b.count() > 9 * a.count()
    few, many = vm_steps(small), vm_steps(large)
    assert many < 1.5 * few, (few, many)


def test_the_work_count_can_fail(small_and_large, monkeypatch):
    # Companion: reading every record of the crossing, as a rule without indexes would,
    # grows with the store and is caught by the same measure.
    import geo.browse

    def whole_history(opened, crossing_id, day):
        return status_as_of(opened.observations(crossing_id), crossing_id, day)

    monkeypatch.setattr(geo.browse, "status_on", whole_history)
    small, large = small_and_large
    assert vm_steps(large) > 5 * vm_steps(small)


def test_the_indexed_answer_is_the_whole_history_answer(small_and_large):
    _, large = small_and_large
    with open_store(large) as opened:
        for crossing in ("quanhe-wonjong", "friendship-bridge"):
            for day in (date(2012, 5, 1), date(2021, 6, 1), date(2025, 12, 31)):
                whole = status_as_of(opened.observations(crossing), crossing, day)
                assert evaluate(opened.status_source(crossing), day) == whole


def test_status_queries_use_the_indexes(small_and_large):
    _, large = small_and_large
    with open_store(large) as opened:
        sql: list[str] = []
        opened._connection.set_trace_callback(sql.append)
        evaluate(opened.status_source("quanhe-wonjong"), date(2021, 6, 1))
        opened._connection.set_trace_callback(None)
        plans = {
            statement: [
                row[3] for row in opened._connection.execute("EXPLAIN QUERY PLAN " + statement)
            ]
            for statement in sql
            if statement.lstrip().upper().startswith("SELECT")
        }
    assert plans
    for statement, plan in plans.items():
        # No statement reads the observations layer from end to end.
        assert not any(step.startswith(("SCAN o", "SCAN observations")) for step in plan), (
            statement,
            plan,
        )
    lasting = [plan for statement, plan in plans.items() if "date_end <=" in statement]
    assert lasting and all(
        any("USING INDEX observations_lasting" in step for step in plan) for plan in lasting
    )


def test_a_plan_check_can_fail(small_and_large):
    # Companion: a status lookup without the partial index's condition scans the layer.
    _, large = small_and_large
    with open_store(large) as opened:
        plan = [
            row[3]
            for row in opened._connection.execute(
                "EXPLAIN QUERY PLAN SELECT * FROM observations WHERE status = 'open' "
                "ORDER BY date_end DESC LIMIT 1"
            )
        ]
    assert any(step.startswith("SCAN observations") for step in plan)


def test_a_bulk_load_writes_what_a_row_by_row_load_writes(_built_store, tmp_path):
    one, bulk = tmp_path / "one.gpkg", tmp_path / "bulk.gpkg"
    shutil.copyfile(_built_store, one)
    shutil.copyfile(_built_store, bulk)
    with open_store(one, writable=True) as a, open_store(bulk, writable=True) as b:
        template = a.observations("quanhe-wonjong")[-1]
        records = [
            template._replace(id=f"x-{n:05d}", summary=f"r{n}", replaces=None,
                              location=LonLat(130.5 + n / 1e4, 42.5 + n / 2e4),
                              has_own_location=True)
            for n in range(3_000)
        ]  # fmt: skip
        a.add_observations(records)
        b.add_observations(iter(records), bulk=True)
    area = [BBox(130.0, 42.0, 131.0, 43.0)]
    with open_store(one) as a, open_store(bulk) as b:
        assert a.observations() == b.observations()
        assert a.integrity_problems() == b.integrity_problems() == []  # R-tree and layer agree
        # The spatial index built after the load finds what the one built row by row finds.
        assert sorted(a.index_boxes(area).fid) == sorted(b.index_boxes(area).fid)
        assert len(b.index_boxes(area).fid) >= 3_000
