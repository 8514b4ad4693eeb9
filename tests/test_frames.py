"""The frames for notebooks: the same answers as the commands, with real dates and points."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

import geo
from geo.browse import list_crossings
from geo.cli import cli
from geo.errors import RecordValidationError, UnknownCrossingError
from geo.frames import CHANGE_COLUMNS, PERIOD_COLUMNS, STATUS_COLUMNS
from geo.store import open_store

DAYS = ("2016-01-01", "2019-06-30", "2020-06-01", "2021-06-01", "2022-03-01", "2023-09-01")


def run_json(*args: str, store: Path | str) -> list[dict[str, object]]:
    result = CliRunner().invoke(cli, [*args, "--store", str(store), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def value(cell: object) -> object:
    """A cell as plain Python: a missing value (None, NaN, NaT, NA) as None."""
    import pandas as pd

    if cell is None or (not isinstance(cell, (list, tuple)) and pd.isna(cell)):
        return None
    if isinstance(cell, pd.Timestamp):
        return cell.date()
    return cell.item() if hasattr(cell, "item") else cell


def rows(frame, *columns: str) -> list[tuple[object, ...]]:
    return [tuple(value(cell) for cell in row) for row in frame[list(columns)].itertuples(False)]


def lon_lat(geometry: object) -> tuple[float | None, float | None]:
    return (None, None) if geometry is None else (geometry.x, geometry.y)


def check_points(frame, crossings: dict[str, geo.Crossing]) -> None:
    """Each row's geometry is its crossing's point (a Point), or None where it has none."""
    from shapely import Point

    assert str(frame.crs) == "EPSG:4326"
    for crossing_id, geometry in zip(frame["crossing_id"], frame.geometry, strict=True):
        where = crossings[crossing_id].location
        if where is None:
            assert geometry is None
        else:
            assert isinstance(geometry, Point)
            assert (geometry.x, geometry.y) == (where.lon, where.lat)


def check_dates(frame, columns) -> None:
    import pandas as pd

    for column in columns:
        assert pd.api.types.is_datetime64_any_dtype(frame[column]), (column, frame[column].dtype)


@pytest.mark.parametrize("day", DAYS)
def test_status_frame_says_what_crossings_status_says(any_store: str, day: str):
    frame = geo.status_frame(any_store, as_of=day)
    shown = run_json("status", "--as-of", day, store=any_store)
    assert rows(
        frame,
        "crossing_id",
        "status",
        "status_text",
        "since_text",
        "status_record",
        "evidence_record",
        "age_days",
        "uncertain",
    ) == [
        (
            r["id"],
            r["status"],
            r["status_text"],
            r["status_since"],
            r["status_record"],
            r["evidence_record"],
            r["evidence_age_days"],
            r["status_uncertain"],
        )
        for r in shown
    ]
    assert [lon_lat(g) for g in frame.geometry] == [(r["lon"], r["lat"]) for r in shown]


def test_status_frame_on_the_shipped_store_on_many_days(shipped_store: Path):
    days = [date(2012, 1, 1) + timedelta(days=200 * n) for n in range(26)]
    for day in days:
        frame = geo.status_frame(shipped_store, as_of=day)
        shown = run_json("status", "--as-of", day.isoformat(), store=shipped_store)
        assert rows(frame, "crossing_id", "status", "evidence_record", "conflicts") == [
            (r["id"], r["status"], r["evidence_record"], ",".join(r["status_conflicts"]) or None)
            for r in shown
        ], day


def test_status_frame_columns_dates_points_and_evidence(any_store: str):
    frame = geo.status_frame(any_store, as_of="2021-06-01")
    with open_store(any_store) as opened:
        crossings = opened.crossings()
        records = {o.id: o for o in opened.observations()}
    assert list(frame.columns) == [*STATUS_COLUMNS, "geometry"]
    assert list(frame["crossing_id"]) == list(crossings)
    check_dates(frame, ("as_of", "since", "evidence_date"))
    check_points(frame, crossings)
    assert frame["uncertain"].dtype == bool and frame["conflicted"].dtype == bool
    for item in list_crossings(any_store, as_of=date(2021, 6, 1)):
        row = frame[frame["crossing_id"] == item.crossing.id].iloc[0]
        answer = item.status
        assert value(row["since"]) == answer.since
        evidence = answer.evidence
        if evidence is None:
            assert value(row["evidence_record"]) is None
            continue
        stored = records[evidence.id]
        assert value(row["evidence_date"]) == stored.date.start
        assert row["evidence_date_text"] == stored.date.text
        assert row["evidence_precision"] == stored.date.precision
        assert value(row["source_url"]) == stored.source_url
        assert value(row["source_quote"]) == (stored.source_quote or None)
        assert value(row["quote_en"]) == (stored.quote_en or None)
        assert bool(row["border_wide"]) == (stored.crossing_id is None)


def test_status_frame_reads_a_day_however_it_is_given(store: Path):
    import pandas as pd

    def statuses(as_of: object) -> list[tuple[object, ...]]:
        return rows(geo.status_frame(store, as_of=as_of), "crossing_id", "status", "as_of")

    assert statuses("2021-06") == statuses(date(2021, 6, 30))  # a month means its last day
    assert statuses(pd.Timestamp("2021-06-30 15:00")) == statuses(date(2021, 6, 30))
    assert statuses("2020") == statuses("2020-12-31")
    assert statuses("2020") != statuses("2020-01-01")  # the check can fail
    with pytest.raises(RecordValidationError, match=r"as_of: 2021 is not a date"):
        geo.status_frame(store, as_of=2021)  # type: ignore[arg-type]
    with pytest.raises(RecordValidationError, match=r"as_of: '2021-13' has no month 13"):
        geo.status_frame(store, as_of="2021-13")


def untiled(frame) -> list[str]:
    """Where a crossing's periods do not follow one another: a gap, an overlap, an open middle."""
    problems = []
    for crossing_id, periods in frame.groupby("crossing_id", sort=False):
        starts, ends = list(periods["start"]), list(periods["end"])
        if starts != sorted(starts):
            problems.append(f"{crossing_id}: out of order")
        for n, end in enumerate(ends[:-1]):
            if end != starts[n + 1]:
                problems.append(
                    f"{crossing_id}: period {n} ends {end}, next starts {starts[n + 1]}"
                )
        if value(ends[-1]) is not None:
            problems.append(f"{crossing_id}: the last period ends")
    return problems


def status_by_periods(frame, crossing_id: str, day: date) -> object:
    """The status of the period holding ``day`` (None when none does)."""
    import pandas as pd

    moment = pd.Timestamp(day)
    periods = frame[frame["crossing_id"] == crossing_id]
    held = periods[
        (periods["start"] <= moment) & (periods["end"].isna() | (moment < periods["end"]))
    ]
    assert len(held) <= 1
    return value(held["status"].iloc[0]) if len(held) else None


def test_periods_tile_each_timeline_and_hold_the_status_of_their_days(any_store: str):
    frame = geo.periods_frame(any_store, until="2025-12-31")
    assert list(frame.columns) == [*PERIOD_COLUMNS, "geometry"]
    assert len(frame) > 8 and untiled(frame) == []
    check_dates(frame, ("start", "end", "since", "evidence_date"))
    with open_store(any_store) as opened:
        crossings = opened.crossings()
    check_points(frame, crossings)
    starts = sorted({value(s) for s in frame["start"]})
    days = sorted({*starts, *(d - timedelta(days=1) for d in starts), date(2025, 12, 31)})
    for day in days:
        statuses = geo.status_frame(any_store, as_of=day)
        for crossing_id, status in rows(statuses, "crossing_id", "status"):
            assert status_by_periods(frame, crossing_id, day) == status, (crossing_id, day)


def test_periods_on_the_shipped_store_hold_the_status_of_their_days(shipped_store: Path):
    frame = geo.periods_frame(shipped_store, until="2026-03-31")
    assert untiled(frame) == []
    starts = sorted({value(s) for s in frame["start"]})
    for day in starts[::3] + [s - timedelta(days=1) for s in starts[1::3]]:
        for crossing_id, status in rows(
            geo.status_frame(shipped_store, as_of=day), "crossing_id", "status"
        ):
            assert status_by_periods(frame, crossing_id, day) == status, (crossing_id, day)


def test_the_tiling_check_can_fail(store: Path):
    frame = geo.periods_frame(store, until="2025-12-31")
    gap = frame.drop(index=frame.index[1])  # the second period of the first crossing
    assert untiled(gap) != []
    assert status_by_periods(frame, "quanhe-wonjong", date(1900, 1, 1)) is None


def test_periods_since_and_until_choose_whole_periods(store: Path):
    import pandas as pd

    whole = geo.periods_frame(store, until="2025-12-31")
    later = geo.periods_frame(store, since="2022-03", until="2025-12-31")
    cut = pd.Timestamp("2022-03-01")
    kept = whole[whole["end"].isna() | (whole["end"] > cut)]
    assert rows(later, "crossing_id", "start", "status") == rows(
        kept, "crossing_id", "start", "status"
    )
    assert len(later) < len(whole)
    earlier = geo.periods_frame(store, until=date(2021, 6, 1))
    assert earlier["start"].max() <= pd.Timestamp("2021-06-01")
    assert len(earlier) < len(whole)


def test_no_period_before_the_first_record_and_the_frame_keeps_its_types(store: Path):
    frame = geo.periods_frame(store, until="1900")
    assert frame.empty
    assert list(frame.columns) == [*PERIOD_COLUMNS, "geometry"]
    check_dates(frame, ("start", "end", "since", "evidence_date"))
    assert str(frame.crs) == "EPSG:4326"


def test_changes_frame_says_what_crossings_changes_says(any_store: str):
    frame = geo.changes_frame(any_store, "2015", "2025-12")
    shown = run_json("changes", "--from", "2015", "--to", "2025-12", store=any_store)
    assert list(frame.columns) == [*CHANGE_COLUMNS, "geometry"]
    assert len(frame) == len(shown) > 3
    assert rows(frame, "crossing_id", "from_text", "to_text", "to_status", "record") == [
        (r["crossing_id"], r["from"], r["to"], r["to_status"], r["record"]) for r in shown
    ]
    assert [value(d).isoformat() for d in frame["day"]] == [r["day"] for r in shown]
    check_dates(frame, ("day", "record_date"))
    with open_store(any_store) as opened:
        crossings = opened.crossings()
        records = {o.id: o for o in opened.observations()}
    check_points(frame, crossings)
    for record_id, summary, source in rows(frame, "record", "summary", "source_name"):
        if record_id is not None:
            assert (summary, source) == (records[record_id].summary, records[record_id].source_name)


def test_changes_frame_takes_dates_as_the_command_does(store: Path):
    assert len(geo.changes_frame(store, date(2020, 1, 1), date(2023, 12, 31))) == len(
        geo.changes_frame(store, "2020", "2023")
    )
    assert len(geo.changes_frame(store)) >= len(geo.changes_frame(store, "2020", "2023"))
    with pytest.raises(RecordValidationError, match=r"since: '2024' is after until '2023'"):
        geo.changes_frame(store, "2024", "2023")


def test_observations_frame_one_row_per_record(any_store: str):
    frame = geo.observations_frame(any_store)
    with open_store(any_store) as opened:
        records = {o.id: o for o in opened.observations()}
        quanhe = {o.id for o in opened.observations("quanhe-wonjong")}
    assert sorted(frame["id"]) == sorted(records) and len(frame) == len(records)
    assert list(frame.index) == list(range(len(frame)))
    check_dates(frame, ("date_start", "date_end", "until_end", "recorded_at"))
    assert str(frame.crs) == "EPSG:4326"
    replaced = {o.replaces for o in records.values() if o.replaces}
    for row in frame.itertuples():
        record = records[row.id]
        assert (value(row.date_start), value(row.date_end)) == (record.date.start, record.date.end)
        assert value(row.source_quote) == (record.source_quote or None)
        assert value(row.quote_en) == (record.quote_en or None)
        assert row.superseded == (record.id in replaced)
        assert lon_lat(row.geometry) == (
            tuple(record.location) if record.location else (None, None)
        )
    by_name = geo.observations_frame(any_store, "Quanhe")
    assert set(by_name["id"]) == quanhe
    border = geo.observations_frame(any_store, "border")
    assert set(border["id"]) == {i for i, o in records.items() if o.crossing_id is None}
    with pytest.raises(UnknownCrossingError):
        geo.observations_frame(any_store, "no-such-crossing")
