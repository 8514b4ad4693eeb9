"""Timelines a server keeps (geo.timelines): the rule's answers, continued as records arrive.

Every answer from the kept timelines is held to the rule's own, read through
the store's indexes, on every day a status may turn; after records are added,
the continued timelines are held to timelines read afresh.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest

from geo.store import open_store
from geo.store.digest import first_day
from geo.store.edits import ensure_edit_marks, has_edit_marks
from geo.store.schema import OBSERVATIONS
from geo.timelines import KeptTimelines, StatusKeeper
from tests.common import execute, run_gdal_validator
from tests.test_postgis_status import days_of, generated, through_indexes
from tests.test_status import obs

if TYPE_CHECKING:
    from geo.model import Observation


@pytest.fixture
def keep():
    """Make a keeper of a store (its edit marks made, as a server makes them): it and what it keeps.

    Each keeper's connection is closed when the test ends.
    """
    made: list[StatusKeeper] = []

    def keeper_of(store) -> tuple[StatusKeeper, KeptTimelines]:
        with open_store(store, writable=True) as opened:
            ensure_edit_marks(opened)
        keeper = StatusKeeper(str(store), page_box_deg=0.3)
        made.append(keeper)
        kept = keeper.current()
        assert kept is not None
        return keeper, kept

    yield keeper_of
    for keeper in made:
        keeper.close()


def assert_kept_answers(store: str, kept, days: list[date]) -> None:
    """The kept answers equal the rule's through the indexes, every crossing, every day."""
    with open_store(store) as opened:
        for day in days:
            rule = through_indexes(opened, day)
            assert {c.id: a for c, a in kept.answers(day)} == rule, day


def record(ident: str, crossing: str | None, when: str, **fields) -> Observation:
    """A status record (open, with a source address) unless ``fields`` say otherwise."""
    made = obs(ident, when, "open", crossing=crossing, url=f"https://example.org/{ident}")
    return made._replace(summary=f"kept timelines {ident}", **fields)


def test_the_shipped_seed_on_every_day_a_status_may_turn(shipped_store, keep):
    _, kept = keep(str(shipped_store))
    with open_store(shipped_store) as opened:
        days = days_of(opened)
    turning = {d + timedelta(days=k) for d in days for k in (-1, 0, 1)}
    assert_kept_answers(str(shipped_store), kept, sorted(turning))


@pytest.mark.parametrize("seed", [1, 2])
def test_records_added_continue_the_timelines_they_concern(seed: int, store, keep):
    """Records added in batches, each continued from its day: the same as read afresh."""
    records = generated(seed, 150)
    keeper, kept = keep(str(store))
    first_epoch = kept.epoch
    for start in range(0, len(records), 30):
        batch = records[start : start + 30]
        with open_store(store, writable=True) as opened:
            opened.add_observations(batch)
            kept = keeper.current()
        assert kept.epoch == first_epoch  # continued, not read again
        _, fresh = keep(str(store))
        assert kept.steps == fresh.steps and kept.plans == fresh.plans
        assert kept.first_day == fresh.first_day
    with open_store(store) as opened:
        days = days_of(opened)
    assert_kept_answers(str(store), kept, days)


def test_a_record_earlier_than_any_moves_the_maps_first_day(any_store: str, keep):
    """The first day kept is the maps': continued with a record before every other, as read."""
    keeper, kept = keep(any_store)
    with open_store(any_store) as opened:
        assert kept.first_day == first_day(opened, list(opened.crossings()))
    assert kept.first_day is not None and kept.first_day > date(1960, 1, 1)
    with open_store(any_store, writable=True) as opened:
        opened.add_observations([record("k-old", "quanhe-wonjong", "1960-01", kind="context")])
        opened.add_observations([record("k-new", None, "2026-01", kind="context")])
    moved = keeper.current()
    assert moved is not None and moved.epoch == kept.epoch  # continued, not read again
    assert moved.first_day == date(1960, 1, 1)


def test_a_record_changes_the_page_count_of_its_crossing_only(store, keep):
    keeper, kept = keep(str(store))
    before = {c: kept.page_version(c) for c in kept.crossings}
    overview = kept.page_version(None)
    with open_store(store, writable=True) as opened:
        opened.add_observations([record("k-1", "quanhe-wonjong", "2026-02", kind="traffic")])
        kept = keeper.current()
    after = {c: kept.page_version(c) for c in kept.crossings}
    assert [c for c in before if before[c] != after[c]] == ["quanhe-wonjong"]
    assert kept.page_version(None) != overview
    with open_store(store, writable=True) as opened:  # the whole border's: every page
        opened.add_observations(
            [record("k-2", None, "2026-03", applies_to=("all",), status="closed")]
        )
        kept = keeper.current()
    assert all(kept.page_version(c) != after[c] for c in kept.crossings)
    assert kept.answer("quanhe-wonjong", date(2026, 4, 1)).status == "closed"


def test_a_record_at_a_point_near_another_crossing_changes_its_page_too(store, keep):
    keeper, kept = keep(str(store))
    friendship = kept.crossings["friendship-bridge"].location
    before = {c: kept.page_version(c) for c in kept.crossings}
    near = record(
        "k-near", "new-yalu-river-bridge", "2026-02", kind="traffic", location=friendship,
        has_own_location=True,
    )  # fmt: skip
    with open_store(store, writable=True) as opened:
        opened.add_observations([near])
        kept = keeper.current()
    changed = {c for c in before if before[c] != kept.page_version(c)}
    assert {"friendship-bridge", "new-yalu-river-bridge"} <= changed
    assert "quanhe-wonjong" not in changed


def test_a_correction_continues_from_the_day_of_the_record_it_replaces(store, keep):
    keeper, kept = keep(str(store))
    with open_store(store, writable=True) as opened:
        opened.add_observations([record("k-old", "quanhe-wonjong", "2026-01-10", status="closed")])
        kept = keeper.current()
    assert kept.answer("quanhe-wonjong", date(2026, 2, 1)).status == "closed"
    with open_store(store, writable=True) as opened:  # recorded later, about the same day
        fixed = record("k-fix", "quanhe-wonjong", "2026-01-10", status="open", replaces="k-old")
        opened.add_observations([fixed])
        kept = keeper.current()
    _, fresh = keep(str(store))
    assert kept.steps == fresh.steps
    assert kept.answer("quanhe-wonjong", date(2026, 2, 1)).record.id == "k-fix"


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE observations SET status = 'closed' WHERE status = 'open'",
        "DELETE FROM observations WHERE kind = 'status' AND crossing_id = 'quanhe-wonjong'",
        "DELETE FROM structures WHERE crossing_id = 'new-yalu-river-bridge'",
    ],
)
def test_a_change_in_place_by_another_program_reads_every_timeline_again(change, any_store, keep):
    keeper, kept = keep(any_store)
    execute(any_store, change)  # behind the tool's back, as QGIS may do
    again = keeper.current()
    assert again is not None and again.epoch == kept.epoch + 1
    _, fresh = keep(any_store)
    assert again.steps == fresh.steps != kept.steps and again.structures == fresh.structures
    assert_kept_answers(any_store, again, [date(2019, 6, 1), date(2024, 6, 1), date(2026, 6, 1)])


def test_the_trade_figures_kept_are_read_again_when_another_program_changes_them(any_store, keep):
    """The maps take the trade figures from what a server keeps: they follow the store."""
    keeper, kept = keep(any_store)
    with open_store(any_store) as opened:
        assert list(kept.trade) == opened.trade() != []
    execute(any_store, "UPDATE trade SET value_usd = value_usd + 1")  # behind the tool's back
    again = keeper.current()
    assert again is not None
    with open_store(any_store) as opened:
        assert list(again.trade) == opened.trade() != list(kept.trade)


def test_the_status_snapshot_the_tool_writes_is_not_an_edit(any_store, keep):
    keeper, kept = keep(any_store)
    with open_store(any_store, writable=True) as opened:
        opened.add_observations([record("k-s", "quanhe-wonjong", "2026-02", status="closed")])
        again = keeper.current()
    assert again is not None and again.epoch == kept.epoch  # continued: the snapshot was kept


def test_without_edit_marks_nothing_is_kept(store):
    keeper = StatusKeeper(str(store))
    with open_store(store) as opened:
        assert not has_edit_marks(opened)
    assert keeper.current() is None
    keeper.close()


def test_a_file_replaced_by_another_is_read_again(store, keep, tmp_path):
    """The kept connection would read the old file: the file's identity is asked too."""
    keeper, kept = keep(str(store))
    other = tmp_path / "other.gpkg"
    shutil.copyfile(store, other)
    with open_store(other, writable=True) as opened:
        opened.add_observations([record("k-other", "quanhe-wonjong", "2026-02", status="closed")])
    os.replace(other, store)
    again = keeper.current()
    assert again is not None and again.epoch == kept.epoch + 1
    assert again.answer("quanhe-wonjong", date(2026, 3, 1)).status == "closed"
    with open_store(store, writable=True) as opened:  # and the new file's writes are followed
        opened.add_observations([record("k-then", "quanhe-wonjong", "2026-04", status="open")])
    later = keeper.current()
    assert later is not None and later.epoch == again.epoch
    assert later.answer("quanhe-wonjong", date(2026, 5, 1)).status == "open"


def test_a_look_older_than_what_is_kept_reads_nothing_again(store, keep, monkeypatch):
    """A server's threads look on connections of their own: a look may arrive out of order."""
    keeper, kept = keep(str(store))
    with open_store(store, writable=True) as opened:
        opened.add_observations([record("k-a", "quanhe-wonjong", "2026-02", status="closed")])
    newer = keeper.current()
    assert newer is not None and newer.last_record == kept.last_record + 1
    # Another thread's look, taken before the record was added, arrives after it was kept.
    monkeypatch.setattr(keeper, "_look", lambda: (kept.frame, kept.last_record))
    assert keeper.current() is newer


def test_a_file_no_write_has_changed_is_not_asked_again(store, keep, monkeypatch):
    """Its change counter, read from its header, says so: no query, no lock."""
    keeper, kept = keep(str(store))
    asked = []
    real_ask = keeper._ask
    monkeypatch.setattr(keeper, "_ask", lambda *args: asked.append(1) or real_ask(*args))
    assert keeper.current() is kept and keeper.current() is kept
    assert asked == []  # the look that kept them still holds
    with open_store(store, writable=True) as opened:  # another process's write, as the CLI's
        opened.add_observations([record("k-c", "quanhe-wonjong", "2026-02", status="closed")])
    again = keeper.current()
    assert asked == [1] and again is not None
    assert again.answer("quanhe-wonjong", date(2026, 3, 1)).status == "closed"


def test_a_keeper_given_what_another_found_follows_without_asking(
    any_store: str, keep, monkeypatch
):
    """A server's painter is given what the server's keeper found: no look of its own."""
    server, _ = keep(any_store)
    painter, before = keep(any_store)
    with open_store(any_store, writable=True) as opened:
        opened.add_observations([record("k-g", "quanhe-wonjong", "2026-02", status="closed")])
    found = server.current()
    assert found is not None
    monkeypatch.setattr(painter, "_look", lambda: pytest.fail("the painter asked the store"))
    followed = painter.current((found.frame, found.last_record))
    assert followed is not None and followed.last_record == before.last_record + 1
    assert followed.answer("quanhe-wonjong", date(2026, 3, 1)).status == "closed"
    assert followed.steps == found.steps
    assert painter.current((found.frame, found.last_record)) is followed  # nothing read again


def test_a_file_in_write_ahead_log_mode_is_asked_each_time(store, keep):
    """QGIS puts a GeoPackage it edits in WAL mode: commits then leave the header as it was."""
    execute(store, "PRAGMA journal_mode = WAL")
    keeper, kept = keep(str(store))
    with open_store(store, writable=True) as opened:
        opened.add_observations([record("k-w", "quanhe-wonjong", "2026-02", status="closed")])
    again = keeper.current()
    assert again is not None and again.last_record == kept.last_record + 1
    assert again.answer("quanhe-wonjong", date(2026, 3, 1)).status == "closed"


def test_a_store_unchanged_is_not_read_again(store, keep):
    keeper, kept = keep(str(store))
    assert keeper.current() is kept


@pytest.mark.gdal
def test_the_geopackage_with_edit_marks_passes_gdals_validator(store, keep):
    keep(str(store))
    execute(store, "UPDATE observations SET summary = summary || '.' WHERE fid = 1")
    with open_store(store) as opened:
        assert opened._query("SELECT sum(edits) FROM layer_edits", {})[0][0] == 1
        registered = opened._query(
            "SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_edits'", {}
        )
    assert registered == [("attributes",)]
    done = run_gdal_validator(store)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_change_of_many_rows_in_a_database_counts_once(database: str, keep):
    keep(database)
    execute(database, "UPDATE observations SET summary = summary || '.'")
    execute(database, "UPDATE crossings SET status_now = NULL")  # the snapshot: not an edit
    with open_store(database) as opened:
        assert opened._query("SELECT sum(edits) FROM layer_edits", {})[0][0] == 1


def test_edit_marks_dropped_while_kept_stop_the_keeping(any_store: str, keep):
    keeper, _ = keep(any_store)
    on = "" if not any_store.startswith("postgresql:") else " ON observations"
    execute(any_store, f"DROP TRIGGER observations_edited{on}")  # a file's schema cookie changes
    assert keeper.current() is None


def test_a_look_at_a_database_is_one_question(database: str, keep, monkeypatch):
    """What changed and whether the edit marks are still there: one round trip a look."""
    keeper, kept = keep(database)
    watch = keeper._watch
    assert watch is not None
    asked: list[str] = []
    real_query = watch._query
    monkeypatch.setattr(watch, "_query", lambda sql, p: asked.append(sql) or real_query(sql, p))
    assert keeper.current() is kept and keeper.current() is kept
    assert len(asked) == 2


def test_requests_to_a_database_share_a_look_begun_after_they_came(database, keep, monkeypatch):
    """Requests that come during a look wait for the next, which one of them asks for all.

    Each sees the record committed before it came, and the database is asked
    twice, not once a request: a server's requests no longer queue behind one
    connection, a round trip each.
    """
    keeper, _ = keep(database)
    asks: list[int] = []
    first_under_way, go_on = threading.Event(), threading.Event()
    real_ask = keeper._ask

    def slow_first_ask(*args):
        asks.append(1)
        if len(asks) == 1:
            first_under_way.set()
            go_on.wait(10)
        return real_ask(*args)

    monkeypatch.setattr(keeper, "_ask", slow_first_ask)
    first = threading.Thread(target=keeper.current)
    first.start()
    assert first_under_way.wait(10)
    with open_store(database, writable=True) as opened:  # committed while the first look is out
        opened.add_observations([record("k-s", "quanhe-wonjong", "2026-02", status="closed")])
    answers: list[KeptTimelines | None] = []
    later = [threading.Thread(target=lambda: answers.append(keeper.current())) for _ in range(8)]
    for thread in later:
        thread.start()
    deadline = time.monotonic() + 10
    while keeper._arrived < 9 and time.monotonic() < deadline:  # all eight are waiting
        time.sleep(0.01)
    go_on.set()
    for thread in [first, *later]:
        thread.join(10)
    assert len(asks) == 2
    assert len(answers) == 8
    for kept in answers:
        assert kept is not None
        assert kept.answer("quanhe-wonjong", date(2026, 3, 1)).status == "closed"


def test_records_of_a_database_commit_in_the_order_of_their_ids(database: str, keep):
    """A record given a lower id, committed after one with a higher, is not missed.

    The tool holds a transaction open after adding a record; another program adds
    one meanwhile (a copy of a row, as QGIS adds one). The program waits for the
    tool's transaction: a reader following the last id never passes over a record
    still to come.
    """
    keeper, _ = keep(database)
    second_done = threading.Event()
    columns = ", ".join(f'"{name}"' for name in OBSERVATIONS.names if name != "id")
    copy = (
        f"INSERT INTO observations (geom, id, {columns}) SELECT geom, 'k-late', {columns} "
        "FROM observations WHERE crossing_id = 'new-yalu-river-bridge' LIMIT 1"
    )

    def second() -> None:
        execute(database, copy)
        second_done.set()

    with open_store(database, writable=True) as first, first.transaction():
        first.add_observations([record("k-early", "quanhe-wonjong", "2026-02", status="closed")])
        writer = threading.Thread(target=second)
        writer.start()
        assert not second_done.wait(1.0)  # it waits for the tool's transaction
        mid = keeper.current()  # neither is committed: neither is seen
        assert mid is not None and mid.answer("quanhe-wonjong", date(2026, 3, 1)).status != "closed"
    writer.join(10)
    assert second_done.is_set()
    kept = keeper.current()
    assert kept is not None
    assert kept.answer("quanhe-wonjong", date(2026, 3, 1)).status == "closed"
    _, fresh = keep(database)
    assert kept.steps == fresh.steps
