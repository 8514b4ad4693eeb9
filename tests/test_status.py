"""The status rule (geo.status) on small hand-made histories."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.fields import parse_fuzzy_date
from geo.model import FuzzyDate, Observation
from geo.status import (
    describe_status,
    in_force,
    status_as_of,
    status_timeline,
    structure_lifecycle,
)

X = "x"


def fuzzy(text: str) -> FuzzyDate:
    return parse_fuzzy_date(text, today=date.max)


def obs(
    ident: str,
    when: str,
    status: str | None = None,
    *,
    crossing: str | None = X,
    kind: str = "status",
    replaces: str | None = None,
    applies_to: tuple[str, ...] = (),
    until: str | None = None,
    structure: str | None = None,
    lifecycle: str | None = None,
    traffic: tuple[str, ...] = (),
    expected: str | None = None,
    url: str | None = None,
) -> Observation:
    return Observation(
        id=ident,
        crossing_id=crossing,
        date=fuzzy(when),
        kind=kind,
        status=status,
        summary=ident,
        source_name="s",
        source_url=url,
        source_published=None,
        source_type="news_report",
        source_detail="",
        side=None,
        location=None,
        has_own_location=False,
        replaces=replaces,
        notes="",
        recorded_at=datetime(2026, 1, 1, tzinfo=UTC),
        recorded_by="",
        applies_to=applies_to,
        until=fuzzy(until) if until else None,
        structure_id=structure,
        traffic=traffic,
        expected=fuzzy(expected) if expected else None,
        lifecycle=lifecycle,
    )


def status(records, day: date, **kw):
    return status_as_of(records, X, day, **kw)


def test_no_record_no_status():
    answer = status([], date(2021, 6, 1))
    assert answer.status is None and answer.record is None and answer.evidence_age_days is None


def test_latest_record_on_or_before_the_day_wins():
    records = [obs("a", "2020-01-31", "closed"), obs("b", "2022-01-16", "restricted")]
    assert status(records, date(2021, 6, 1)).status == "closed"
    assert status(records, date(2022, 1, 16)).status == "restricted"
    assert status(records, date(2022, 1, 15)).status == "closed"


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 3, 30), "closed"),  # March not over: the month record is not yet known
        (date(2025, 3, 31), "open"),
        (date(2025, 12, 30), "open"),  # the year record counts from 31 December
        (date(2025, 12, 31), "restricted"),
    ],
)
def test_month_and_year_records_count_from_their_last_day(day, expected):
    records = [
        obs("a", "2024-06-01", "closed"),
        obs("b", "2025-03", "open"),
        obs("c", "2025", "restricted"),
    ]
    assert status(records, day).status == expected


def test_a_border_wide_record_without_applies_to_sets_nothing():
    records = [obs("a", "2019-04-08", "open"), obs("z", "2020-01-31", "closed", crossing=None)]
    answer = status(records, date(2021, 6, 1))
    assert (answer.status, answer.record.id) == ("open", "a")
    assert status([records[1]], date(2021, 6, 1)).status is None


def test_a_border_wide_record_sets_only_the_crossings_it_names():
    closure = obs("z", "2020-01-31", "closed", crossing=None, applies_to=(X, "y"))
    records = [obs("a", "2019-04-08", "open"), closure]
    answer = status(records, date(2021, 6, 1))
    assert (answer.status, answer.record.id, answer.is_border_wide) == ("closed", "z", True)
    assert status_as_of(records, "other", date(2021, 6, 1)).status is None
    everywhere = closure._replace(applies_to=("all",))
    assert status_as_of([everywhere], "other", date(2021, 6, 1)).status == "closed"


def test_plans_never_set_a_status_and_stay_plans_when_their_date_passes():
    records = [
        obs("a", "2022-09-26", "restricted", traffic=("freight_rail",)),
        obs("p", "2025-07-12", "open", kind="plan", expected="2025-08"),
    ]
    before = status(records, date(2025, 7, 20))
    after = status(records, date(2026, 1, 1))
    assert before.status == after.status == "restricted"
    assert after.record.id == "a"
    assert [p.id for p in after.plans] == ["p"]
    assert status(records, date(2025, 7, 1)).plans == ()  # not announced yet


def test_a_temporary_record_ends_and_the_status_before_it_returns():
    records = [
        obs("a", "2023-02", "open"),
        obs("t", "2023-11-20", "closed", until="2023-11-26"),
    ]
    assert status(records, date(2023, 11, 19)).status == "open"
    during = status(records, date(2023, 11, 26))
    assert (during.status, during.record.id) == ("closed", "t")
    after = status(records, date(2023, 11, 27))
    assert (after.status, after.record.id) == ("open", "a")
    # The open run began again the day after the closure ended, on no record of its own.
    assert after.since == date(2023, 11, 27) and after.since_record is None


def test_a_temporary_record_with_nothing_before_it_leaves_no_status():
    records = [obs("t", "2024", "closed", until="2024")]
    assert status(records, date(2024, 12, 31)).status == "closed"
    assert status(records, date(2025, 1, 1)).status is None


def test_structure_records_leave_the_crossing_status_alone():
    records = [
        obs("a", "2010", "open"),
        obs(
            "n1", "2016-12", kind="infrastructure", structure="new", lifecycle="under_construction"
        ),
        obs("n2", "2020-08", kind="infrastructure", structure="new", lifecycle="built_not_opened"),
    ]
    answer = status(records, date(2020, 9, 1), structure_ids=("old", "new"))
    assert (answer.status, answer.record.id, answer.is_lifecycle) == ("open", "a", False)
    assert structure_lifecycle(records, "new", date(2020, 9, 1)).id == "n2"
    assert structure_lifecycle(records, "old", date(2020, 9, 1)) is None


def test_a_crossing_whose_structures_never_entered_service_shows_their_lifecycle():
    records = [
        obs(
            "b", "2014-10", kind="infrastructure", structure="bridge", lifecycle="built_not_opened"
        ),
        obs("z", "2020-01-31", "closed", crossing=None, applies_to=("all",)),
    ]
    answer = status(records, date(2021, 6, 1), structure_ids=("bridge",))
    assert (answer.status, answer.record.id, answer.is_lifecycle) == ("built_not_opened", "b", True)
    opened = [*records, obs("c", "2022", kind="infrastructure", structure="bridge",
                            lifecycle="in_service")]  # fmt: skip
    answer = status(opened, date(2023, 1, 1), structure_ids=("bridge",))
    assert (answer.status, answer.is_lifecycle) == ("closed", False)


def test_traffic_records_set_nothing_even_with_a_status():
    records = [obs("a", "2020-08", "closed"), obs("t", "2021-04-01", "open", kind="traffic")]
    assert status(records, date(2021, 6, 1)).record.id == "a"


def test_since_is_the_start_of_the_run_and_the_evidence_its_latest_record():
    records = [
        obs("a", "2020-08", "closed"),
        obs("b", "2021-03", "closed"),
        obs("c", "2022-01-16", "restricted"),
    ]
    answer = status(records, date(2021, 6, 1))
    assert answer.since == date(2020, 8, 31) and answer.since_record.id == "a"
    assert answer.record.id == "b"
    assert answer.evidence_age_days == (date(2021, 6, 1) - date(2021, 3, 1)).days


def test_evidence_older_than_two_years_is_uncertain():
    records = [obs("a", "2023-02-01", "open")]
    assert not status(records, date(2025, 2, 1)).is_uncertain
    assert status(records, date(2025, 2, 3)).is_uncertain


def test_disagreeing_records_of_the_same_date_are_flagged_not_picked():
    records = [obs("a", "2021-01", "closed"), obs("b", "2021-01", "open")]
    answer = status(records, date(2022, 1, 1))
    assert answer.is_conflicted
    assert {answer.record.id, *(o.id for o in answer.conflicts)} == {"a", "b"}
    same = [obs("a", "2021-01", "closed"), obs("b", "2021-01", "closed")]
    assert not status(same, date(2022, 1, 1)).is_conflicted


def test_corrections_and_retractions():
    records = [obs("b", "2021-01", "closed"), obs("c", "2021-01", "restricted", replaces="b")]
    answer = status(records, date(2022, 1, 1))
    assert answer.status == "restricted" and not answer.is_conflicted
    retracted = [obs("a", "2020", "open"), obs("b", "2021", "closed"),
                 obs("r", "2022", kind="retraction", replaces="b")]  # fmt: skip
    assert status(retracted, date(2022, 6, 1)).record.id == "a"
    assert [o.id for o in in_force(retracted)] == ["a"]


@pytest.mark.parametrize(
    ("args", "kw", "text"),
    [
        (("restricted", ["freight_road"]), {}, "restricted: freight by road only"),
        (("restricted", ["freight_road", "freight_rail"]), {},
         "restricted: freight by road and freight by rail only"),
        (("open", ["passenger_rail"]), {}, "open: passengers by rail"),
        (("closed", []), {}, "closed"),
        (("under_construction", []), {"is_lifecycle": True}, "under construction, never opened"),
    ],
)  # fmt: skip
def test_describe_status(args, kw, text):
    assert describe_status(*args, **kw) == text


_DATES = ["2019", "2020", "2020-01", "2020-01-31", "2020-06", "2021", "2021-06-01", "2023-08-27"]


@settings(max_examples=300, deadline=None)
@given(
    records=st.lists(
        st.tuples(
            st.sampled_from([X, None]),
            st.sampled_from(_DATES),
            st.sampled_from(["open", "restricted", "closed", "unknown"]),
            st.sampled_from([None, "2020-03", "2021-12", "2024"]),
            st.sampled_from([(), (X,), ("all",), ("y",)]),
        ),
        max_size=10,
    ),
    day=st.dates(min_value=date(2018, 12, 25), max_value=date(2025, 1, 5)),
)
def test_the_timeline_gives_the_status_of_every_day(records, day):
    observations = []
    for n, (crossing, when, value, until, applies) in enumerate(records):
        ends = until if until and fuzzy(until).end >= fuzzy(when).end else None
        observations.append(
            obs(f"r{n}", when, value, crossing=crossing, until=ends,
                applies_to=applies if crossing is None else ())
        )  # fmt: skip
    # A reference written from the rule's words: the latest record in force that day.
    live = sorted(
        (
            o
            for o in in_force(observations)
            if (o.crossing_id == X or X in o.applies_to or "all" in o.applies_to)
            and o.date.end <= day
            and (o.until is None or o.until.end >= day)
        ),
        key=lambda o: (o.date.end, o.date.start, o.crossing_id is not None, False, o.id),
    )
    assert status(observations, day).record == (live[-1] if live else None)
    steps = status_timeline(observations, X, until=date(2026, 1, 1))
    current = [step for step in steps if step.since <= day]
    expected = status(observations, day)
    got = current[-1] if current else None
    assert (got.status if got else None) == expected.status
    assert (got.record if got else None) == expected.record
    assert (got.is_conflicted if got else False) == expected.is_conflicted
    assert (got.run_since if got and got.status else None) == expected.since


# -- the evidence shown: the record of the run a reader can check best ---------------


def quoted(record: Observation, words: str = "the words") -> Observation:
    return record._replace(source_quote=words)


@pytest.mark.parametrize(
    ("better", "worse"),
    [
        # Names the crossing, before a border-wide record that lists it.
        (obs("own", "2020-02-01", "closed"), obs("all", "2020-03-01", "closed", crossing=None,
                                                applies_to=("all",))),
        # A web address, before none.
        (obs("linked", "2020-02-01", "closed", url="https://e.org/a"),
         obs("bare", "2020-03-01", "closed")),
        # The source's words, before none.
        (quoted(obs("words", "2020-02-01", "closed")), obs("none", "2020-03-01", "closed")),
        # A day, before a month or a year.
        (obs("day", "2020-02-01", "closed"), obs("month", "2020-03", "closed")),
    ],
)  # fmt: skip
def test_the_evidence_is_the_record_a_reader_can_check_best(better, worse):
    answer = status_as_of([better, worse], X, date(2021, 6, 1))
    assert answer.record == worse  # the latest record decides, and is kept as such
    assert answer.evidence == better and answer.supporting == 2
    (step,) = status_timeline([better, worse], X, until=date(2021, 6, 1))[-1:]
    assert step.evidence == better and step.record == worse


def test_the_evidence_is_chosen_only_among_records_that_say_the_same():
    before = obs("before", "2019-01-01", "closed", url="https://e.org/b")  # another run
    freight = quoted(obs("freight", "2020-01-01", "restricted", traffic=("freight_rail",)))
    trains = obs("trains", "2020-06", "restricted", traffic=("freight_rail", "passenger_rail"))
    answer = status_as_of([before, freight, trains], X, date(2021, 1, 1))
    assert answer.evidence == trains and answer.supporting == 1
    same = obs("same", "2020-09", "restricted", traffic=("freight_rail", "passenger_rail"))
    answer = status_as_of([before, freight, trains, same], X, date(2021, 1, 1))
    assert answer.record == same and answer.supporting == 2
    assert answer.evidence == same  # of two alike, the latest


def test_a_temporary_record_is_its_own_evidence():
    lasting = quoted(obs("lasting", "2020-01-01", "closed", url="https://e.org/l"))
    festival = obs("festival", "2020-04-14", "closed", until="2020-04-16")
    answer = status_as_of([lasting, festival], X, date(2020, 4, 15))
    assert answer.record == festival and answer.evidence == festival
