"""The status of every crossing asked of the PostGIS server in one round trip (postgis_status).

The server runs the rule itself; these tests hold its answers to those of the
rule read through the indexes, on the same store, and to the GeoPackage's, on
the shipped seed and on generated histories with every kind of record the rule
reads. A libpq trace counts the round trips.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from geo.browse import list_crossings
from geo.build import init_inventory
from geo.cli import cli
from geo.fields import parse_fuzzy_date
from geo.inventory import status_on, structure_ids
from geo.model import STATUSES, FuzzyDate, Observation
from geo.status import StatusAnswer, evaluate
from geo.store import open_store
from geo.store.base import Store

ROOT = Path(__file__).parent.parent


def fuzzy(text: str) -> FuzzyDate:
    return parse_fuzzy_date(text, today=date.max)


def through_indexes(opened: Store, day: date) -> dict[str, StatusAnswer]:
    """Every crossing's answer as the rule reads it through the indexes, one lookup at a time."""
    owned = structure_ids(opened)
    return {
        c: evaluate(Store.status_source(opened, c), day, structure_ids=owned.get(c, ()))
        for c in opened.crossings()
    }


def by_server(opened: Store, day: date) -> dict[str, StatusAnswer]:
    """Every crossing's answer as the status commands ask it (geo.inventory.status_on)."""
    return {c: status_on(opened, c, day) for c in opened.crossings()}


def said(answer: StatusAnswer) -> tuple[object, ...]:
    """What an answer says, by record id: the same on every backend."""

    def ident(record: Observation | None) -> str | None:
        return record.id if record is not None else None

    return (
        answer.as_of,
        answer.status,
        answer.is_lifecycle,
        answer.since,
        ident(answer.since_record),
        ident(answer.record),
        ident(answer.evidence),
        answer.supporting,
        tuple(o.id for o in answer.conflicts),
        tuple(o.id for o in answer.plans),
        answer.traffic,
        answer.evidence_age_days,
        answer.is_border_wide,
        answer.is_uncertain,
    )


def days_of(opened: Store) -> list[date]:
    """Each day a record begins or ends to count: between two, every answer stays the same."""
    found = {date(1990, 1, 1), date(2026, 12, 1)}
    for record in opened.observations():
        found.add(record.date.end)
        if record.until is not None:
            found.add(record.until.end + timedelta(days=1))
    return sorted(found)


def assert_same_everywhere(url: str, gpkg: Path | str, days: list[date], *, every: int = 1) -> int:
    """Compare the server's answers with the GeoPackage's, and with the indexes' (same store).

    The indexes are asked on every ``every``-th day only: they take many round trips.
    """
    compared = 0
    with open_store(url) as server, open_store(gpkg) as file:
        for n, day in enumerate(days):
            answers = by_server(server, day)
            if n % every == 0:
                assert answers == through_indexes(server, day), day
            assert {c: said(a) for c, a in answers.items()} == {
                c: said(a) for c, a in by_server(file, day).items()
            }, day
            compared += len(answers)
    return compared


@pytest.fixture(scope="module")
def shipped_database(postgres_server) -> str:
    """A PostGIS store built from the shipped seed (layers/seed), read only."""
    url = postgres_server.database()
    init_inventory(url, seed=ROOT / "layers" / "seed")
    return url


def test_the_shipped_seed_on_every_day_a_status_may_turn(shipped_database: str, shipped_store):
    with open_store(shipped_database) as opened:
        days = days_of(opened)
    assert len(days) > 100
    assert assert_same_everywhere(shipped_database, shipped_store, days, every=3) == 17 * len(days)


def test_list_crossings_and_the_status_command_say_the_same_on_both_backends(
    shipped_database: str, shipped_store
):
    for day in ("2020-03-01", "2021-06-01", "2023-09-01", "2026-12-01"):
        asked = date.fromisoformat(day)
        server = [(i.crossing, i.status) for i in list_crossings(shipped_database, as_of=asked)]
        file = [(i.crossing, i.status) for i in list_crossings(shipped_store, as_of=asked)]
        assert [(c.id, said(a)) for c, a in server] == [(c.id, said(a)) for c, a in file]
        outputs = [
            CliRunner().invoke(
                cli, ["status", "--as-of", day, "--format", "json", "--store", str(store)]
            )
            for store in (shipped_database, shipped_store)
        ]
        assert all(o.exit_code == 0 for o in outputs), [o.output for o in outputs]
        assert json.loads(outputs[0].output) == json.loads(outputs[1].output)
    matrix = ["status", "--as-of", "2020-03-01", "--as-of", "2024-01-01", "--format", "json"]
    both = [
        CliRunner().invoke(cli, [*matrix, "--store", str(store)])
        for store in (shipped_database, shipped_store)
    ]
    assert json.loads(both[0].output) == json.loads(both[1].output)


# -- generated histories ------------------------------------------------------------------

CROSSINGS = ("friendship-bridge", "new-yalu-river-bridge", "quanhe-wonjong", "jian-manpo-road")
STRUCTURES = {
    "friendship-bridge": ("friendship-bridge-1943",),
    "new-yalu-river-bridge": ("new-yalu-bridge",),
    "quanhe-wonjong": ("quanhe-old-bridge", "quanhe-new-bridge"),
}
#: Few dates, so that records of the same dates disagree (a conflict) and runs are long.
DATES = ("2018", "2019-05", "2019-05-31", "2020", "2020-01", "2020-01-31", "2020-02-15",
         "2021-06", "2021-06-30", "2022", "2022-12-31", "2023-03", "2023-03-01")  # fmt: skip
LIFECYCLES = ("planned", "under_construction", "built_not_opened", "in_service")
TRAFFIC = ((), (), ("freight_road",), ("freight_rail", "tourists"))


@dataclass
class History:
    """A generated history: records written in order, each after those it replaces."""

    rng: random.Random
    records: list[Observation]

    def base(self, ident: str, crossing: str | None, kind: str, **fields: Any) -> Observation:
        rng = self.rng
        return Observation(
            id=ident,
            crossing_id=crossing,
            date=fuzzy(rng.choice(DATES)),
            kind=kind,
            status=None,
            summary=f"generated {ident}",
            source_name="s",
            source_url=rng.choice((None, f"https://example.org/{ident}")),
            source_published=None,
            source_type="news_report",
            source_detail="",
            side=None,
            location=None,
            has_own_location=False,
            replaces=None,
            notes="",
            recorded_at=datetime(2026, 1, 1, tzinfo=UTC),
            recorded_by="",
            source_quote=rng.choice(("", "", "the source's words")),
        )._replace(**fields)

    def status(self, ident: str) -> Observation:
        rng = self.rng
        crossing = rng.choice((*CROSSINGS, *CROSSINGS, None))
        applies: tuple[str, ...] = ()
        if crossing is None:
            applies = rng.choice((("all",), (), tuple(rng.sample(CROSSINGS, 2))))
        record = self.base(
            ident,
            crossing,
            "status",
            status=rng.choice(STATUSES),
            applies_to=applies,
            traffic=rng.choice(TRAFFIC),
        )
        if rng.random() < 0.15:  # temporary: until a later day
            until = record.date.end + timedelta(days=rng.choice((0, 20, 200, 700)))
            record = record._replace(until=fuzzy(until.isoformat()))
        return record

    def lifecycle(self, ident: str) -> Observation:
        crossing = self.rng.choice(tuple(STRUCTURES))
        return self.base(
            ident,
            crossing,
            "infrastructure",
            structure_id=self.rng.choice(STRUCTURES[crossing]),
            lifecycle=self.rng.choice(LIFECYCLES),
        )

    def plan(self, ident: str) -> Observation:
        crossing = self.rng.choice((*CROSSINGS, None))
        record = self.base(ident, crossing, "plan", status=self.rng.choice(STATUSES[:3]))
        applies = ("all",) if crossing is None else ()
        return record._replace(expected=fuzzy("2027"), applies_to=applies)

    def replacing(self, ident: str, *, withdraw: bool) -> Observation | None:
        targets = [r for r in self.records if r.kind == "status"]
        if not targets:
            return None
        target = self.rng.choice(targets)
        if withdraw:
            return self.base(ident, target.crossing_id, "retraction", replaces=target.id)
        return self.status(ident)._replace(
            crossing_id=target.crossing_id, applies_to=target.applies_to, replaces=target.id
        )


def generated(seed: int, count: int) -> list[Observation]:
    history = History(random.Random(seed), [])
    for n in range(count):
        ident = f"g{seed}-{n:04d}"
        roll = history.rng.random()
        if roll < 0.6:
            record: Observation | None = history.status(ident)
        elif roll < 0.75:
            record = history.lifecycle(ident)
        elif roll < 0.82:
            record = history.plan(ident)
        elif roll < 0.92:
            record = history.replacing(ident, withdraw=False)
        else:
            record = history.replacing(ident, withdraw=True)
        if record is not None:
            history.records.append(record)
    return history.records


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_histories_on_every_day_a_status_may_turn(seed: int, database: str, store):
    """Conflicts, corrections, withdrawals, temporaries, lifecycles, border-wide records, plans."""
    records = generated(seed, 160)
    kinds = {r.kind for r in records} | {"border" for r in records if r.crossing_id is None}
    assert kinds >= {"status", "infrastructure", "plan", "retraction", "border"}
    for target in (database, store):
        with open_store(target, writable=True) as opened:
            opened.add_observations(records)
    with open_store(database) as opened:
        days = days_of(opened)
        answers = [a for day in days for a in by_server(opened, day).values()]
    assert any(a.is_lifecycle for a in answers) and any(a.conflicts for a in answers)
    assert any(a.since_record is None and a.status for a in answers)  # a temporary ended
    assert {"closed", "open", "restricted"} <= {a.status for a in answers}
    assert assert_same_everywhere(database, store, days) == len(CROSSINGS) * len(days)


def test_a_long_run_with_conflicts_at_every_date(database: str, store):
    """Many records of the same dates: the run's start steps back over outranked ones."""
    rng = random.Random(7)
    records = []
    for n in range(240):
        day = date(2015, 1, 1) + timedelta(days=rng.randrange(0, 3000, 30))
        records.append(
            History(rng, []).base(
                f"run-{n:04d}",
                "quanhe-wonjong",
                "status",
                date=fuzzy(day.isoformat()[: rng.choice((7, 10))]),
                status=rng.choice(("open", "open", "open", "closed")),
                traffic=rng.choice(TRAFFIC[:3]),
            )
        )
    for target in (database, store):
        with open_store(target, writable=True) as opened:
            opened.add_observations(records)
    days = [date(2015, 1, 1) + timedelta(days=d) for d in range(0, 3200, 11)]
    assert assert_same_everywhere(database, store, days) == len(CROSSINGS) * len(days)


# -- round trips --------------------------------------------------------------------------


@contextmanager
def round_trips(opened: Store) -> Iterator[list[int]]:
    """Count the answers the server sends back (libpq's trace of the connection's messages)."""
    import psycopg

    counted: list[int] = []
    connection = opened._connection  # type: ignore[attr-defined]
    with tempfile.TemporaryFile("w+", encoding="utf-8") as trace:
        connection.pgconn.trace(trace.fileno())
        connection.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            yield counted
        finally:
            connection.pgconn.untrace()
        trace.seek(0)
        counted.append(sum("\tReadyForQuery" in line for line in trace))


def test_every_crossing_in_one_round_trip(shipped_database: str):
    with open_store(shipped_database) as opened:
        by_server(opened, date(2020, 3, 1))  # functions created, statement prepared
        with round_trips(opened) as counted:
            answers = by_server(opened, date(2021, 6, 1))
        assert len(answers) == 17 and counted == [1]
        with round_trips(opened) as counted:
            for day in (date(2022, 1, 1), date(2023, 9, 1), date(2026, 12, 1)):
                by_server(opened, day)
        assert counted == [3]  # one a question


def test_reading_through_the_indexes_costs_many_round_trips(shipped_database: str):
    """The companion: the counter sees the round trips of the lookups the server spares."""
    with open_store(shipped_database) as opened:
        through_indexes(opened, date(2020, 3, 1))
        with round_trips(opened) as counted:
            through_indexes(opened, date(2021, 6, 1))
    assert counted[0] > 17 * 3


def test_a_question_asked_again_is_asked_of_the_server_again(shipped_database: str):
    """Answers wait for the other crossings once; a crossing asked twice starts a new question."""
    day = date(2021, 6, 1)
    with open_store(shipped_database) as opened:
        by_server(opened, day)
        with round_trips(opened) as counted:
            first = status_on(opened, "friendship-bridge", day)
            again = status_on(opened, "friendship-bridge", day)
        assert first == again and counted == [2]


def test_a_write_drops_the_answers_waiting(database: str):
    day = date(2026, 12, 1)
    with open_store(database, writable=True) as opened:
        before = status_on(opened, "friendship-bridge", day)
        assert "quanhe-wonjong" in opened._day_answers[day][1]  # type: ignore[attr-defined]
        closed = History(random.Random(1), []).base(
            "closing", "quanhe-wonjong", "status", date=fuzzy("2026-11-30"), status="closed"
        )
        opened.add_observations([closed])
        assert opened._day_answers == {}  # type: ignore[attr-defined]
        answer = status_on(opened, "quanhe-wonjong", day)
    assert before.status is not None and (answer.status, answer.record.id) == ("closed", "closing")


def test_a_timeline_reads_through_the_indexes(shipped_database: str):
    """Only a source's first question is the server's: a timeline reads as before."""
    from geo.status import source_timeline, status_timeline

    with open_store(shipped_database) as opened:
        records = opened.observations("quanhe-wonjong")
        owned = structure_ids(opened)["quanhe-wonjong"]
        indexed = source_timeline(
            opened.status_source("quanhe-wonjong"), until=date(2026, 1, 1), structure_ids=owned
        )
    whole = status_timeline(records, "quanhe-wonjong", until=date(2026, 1, 1), structure_ids=owned)
    assert indexed == whole and len(whole) > 3


def test_a_server_that_refuses_the_functions_answers_through_the_indexes(
    postgres_server, shipped_database: str
):
    """A user without the right to create temporary objects: the same answers, more round trips."""
    name = shipped_database.rsplit("/", 1)[1]
    postgres_server.sql(f"REVOKE TEMPORARY ON DATABASE {name} FROM PUBLIC")
    postgres_server.sql("CREATE ROLE reader LOGIN")
    postgres_server.sql("GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader", name)
    reader = shipped_database.replace("crossings@", "reader@")
    try:
        day = date(2021, 6, 1)
        with open_store(reader) as opened, open_store(shipped_database) as owner:
            assert by_server(opened, day) == through_indexes(owner, day)
            with round_trips(opened) as counted:
                by_server(opened, date(2023, 9, 1))
        assert counted[0] > 17
    finally:
        from geo.store.postgis import close_idle_connections

        close_idle_connections()
        postgres_server.sql(f"GRANT TEMPORARY ON DATABASE {name} TO PUBLIC")
        postgres_server.sql("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM reader", name)
        postgres_server.sql("DROP ROLE reader")
