from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.model import FuzzyDate, Observation
from geo.query import in_force, status_as_of, status_timeline
from geo.validate import parse_fuzzy_date


def obs(
    ident: str,
    when: str,
    status: str | None,
    *,
    crossing: str | None = "x",
    kind: str = "status",
    replaces: str | None = None,
) -> Observation:
    return Observation(
        id=ident,
        crossing_id=crossing,
        date=parse_fuzzy_date(when, today=date(2026, 11, 23)),
        kind=kind,
        status=status,
        summary=ident,
        source_name="s",
        source_url=None,
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
    )


def test_no_record_no_status():
    answer = status_as_of([], date(2021, 6, 1))
    assert answer.status is None and answer.record is None


def test_latest_record_on_or_before_the_day_wins():
    records = [obs("a", "2020-01-31", "closed"), obs("b", "2022-01-16", "restricted")]
    assert status_as_of(records, date(2021, 6, 1)).status == "closed"
    assert status_as_of(records, date(2022, 1, 16)).status == "restricted"
    assert status_as_of(records, date(2022, 1, 15)).status == "closed"


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 3, 30), "closed"),  # March not over: the month record is not yet known
        (date(2025, 3, 31), "open"),  # last day of the month: it is
        (date(2025, 12, 30), "open"),
        (date(2025, 12, 31), "restricted"),  # the year record counts from 31 December
    ],
)
def test_month_and_year_records_count_from_their_last_day(day, expected):
    records = [
        obs("a", "2024", "closed"),
        obs("b", "2025-03", "open"),
        obs("c", "2025", "restricted"),
    ]
    assert status_as_of(records, day).status == expected


def test_disagreeing_records_of_the_same_date_are_flagged_not_picked():
    records = [
        obs("a", "2023-08", "closed"),
        obs("b", "2023-08", "open"),
        obs("c", "2023-07", "open"),
    ]
    answer = status_as_of(records, date(2024, 1, 1))
    assert answer.is_conflicted
    assert {answer.record.id, *(o.id for o in answer.conflicts)} == {"a", "b"}


def test_same_date_same_status_is_no_conflict():
    records = [obs("a", "2023-08", "open"), obs("b", "2023-08", "open")]
    assert not status_as_of(records, date(2024, 1, 1)).is_conflicted


def test_a_retraction_withdraws_the_record():
    records = [
        obs("a", "2020-01", "open"),
        obs("b", "2021-01", "closed"),
        obs("r", "2021-02", None, kind="retraction", replaces="b"),
    ]
    assert [o.id for o in in_force(records)] == ["a"]
    assert status_as_of(records, date(2022, 1, 1)).record.id == "a"


def test_a_correction_replaces_the_record():
    records = [obs("b", "2021-01", "closed"), obs("c", "2021-01", "restricted", replaces="b")]
    answer = status_as_of(records, date(2022, 1, 1))
    assert answer.status == "restricted" and not answer.is_conflicted


def test_border_wide_records_count_for_a_crossing_in_service():
    records = [obs("a", "2019-04-08", "open"), obs("z", "2020-01-31", "closed", crossing=None)]
    answer = status_as_of(records, date(2021, 6, 1))
    assert answer.status == "closed" and answer.record.crossing_id is None


def test_border_wide_records_do_not_close_a_bridge_never_opened():
    records = [
        obs("a", "2014-10-30", "built_not_opened"),
        obs("z", "2020-01-31", "closed", crossing=None),
    ]
    assert status_as_of(records, date(2021, 6, 1)).status == "built_not_opened"


def test_fuzzy_date_is_a_value():
    assert FuzzyDate("2025", "year", date(2025, 1, 1), date(2025, 12, 31)) == parse_fuzzy_date(
        "2025", today=date(2026, 1, 1)
    )


def test_a_border_wide_reopening_does_not_lower_an_open_crossing():
    records = [
        obs("z1", "2020-01-31", "closed", crossing=None),
        obs("a", "2023-02", "open"),
        obs("z2", "2023-08-27", "restricted", crossing=None),  # loosening: closed -> restricted
    ]
    answer = status_as_of(records, date(2024, 1, 1))
    assert (answer.status, answer.record.id) == ("open", "a")


def test_a_border_wide_reopening_raises_a_closed_crossing():
    records = [
        obs("a", "2019-04-08", "open"),
        obs("z1", "2020-01-31", "closed", crossing=None),
        obs("z2", "2023-08-27", "restricted", crossing=None),
    ]
    answer = status_as_of(records, date(2024, 1, 1))
    assert (answer.status, answer.record.id) == ("restricted", "z2")


def test_a_border_wide_tightening_lowers_but_never_raises():
    records = [
        obs("a", "2019-12", "closed"),
        obs("z1", "2020-01-22", "restricted", crossing=None),  # first border record: tightening
    ]
    assert status_as_of(records, date(2020, 6, 1)).record.id == "a"
    records[0] = obs("a", "2019-12", "open")
    assert status_as_of(records, date(2020, 6, 1)).record.id == "z1"


_DATES = ["2019", "2020", "2020-01", "2020-01-31", "2020-06", "2021", "2021-06-01", "2023-08-27"]


@settings(max_examples=200, deadline=None)
@given(
    records=st.lists(
        st.tuples(
            st.sampled_from(["x", None]),
            st.sampled_from(_DATES),
            st.sampled_from(["open", "restricted", "closed", "built_not_opened"]),
        ),
        max_size=10,
    ),
    day=st.dates(min_value=date(2018, 12, 25), max_value=date(2024, 1, 5)),
)
def test_the_timeline_gives_the_status_of_every_day(records, day):
    observations = [
        obs(f"r{n}", when, status, crossing=crossing)
        for n, (crossing, when, status) in enumerate(records)
    ]
    steps = status_timeline(observations, until=date(2026, 1, 1))
    current = [step for step in steps if step.since <= day]
    expected = status_as_of(observations, day)
    got = current[-1] if current else None
    assert (got.status if got else None) == expected.status
    assert (got.record.id if got and got.record else None) == (
        expected.record.id if expected.record else None
    )
    assert (got.is_conflicted if got else False) == expected.is_conflicted
