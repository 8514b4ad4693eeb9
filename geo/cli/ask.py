"""Questions by crossing: near, around, nearest, within, status, changes, distance."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import click

from geo.answers import (
    change_record_row,
    change_window,
    near_crossing_row,
    status_row,
    transition_row,
)
from geo.browse import status_matrix
from geo.cli.options import (
    crossing_filters,
    format_option,
    keeps,
    parse_day,
    store_option,
    text_matches,
    with_status_rule,
)
from geo.cli.output import (
    crossing_fields,
    distance_text,
    echo_blocks,
    echo_records,
    echo_rows,
    matrix_cell,
    record_blocks,
    rounded,
    status_fields,
)
from geo.exchange import CROSSING_COLUMNS
from geo.fields import split_lat_lon
from geo.model import OBSERVATION_KINDS, SOURCE_TYPES
from geo.questions import (
    RECORD_FIELDS,
    Chunked,
    Streamed,
    changes,
    distance_between,
    near,
    nearest,
    sightings_around,
    stream_around,
    stream_observations_near,
    stream_within,
    transitions,
)

__all__ = ["COMMANDS"]

DATE_RULE = (
    "Dates are YYYY, YYYY-MM or YYYY-MM-DD. A record dated to a month or a year is an "
    "interval and matches if any day of it is in the range: 2025-03 matches --since 2025-03-15."
)


@click.command("near")
@click.argument("point", nargs=-1, required=True, metavar="LAT,LON | LAT LON")
@click.option(
    "--km", type=float, default=10.0, show_default=True, help="Search radius in kilometres."
)
@click.option("--observations", is_flag=True, help="List the observations near the point instead.")
@store_option
@format_option
def near_command(
    point: tuple[str, ...], km: float, observations: bool, store: str, output_format: str
) -> None:
    """List the crossings (or observations) within a distance of a point, nearest first.

    The point is LAT,LON or LAT LON in decimal degrees, latitude first.
    Distances are geodesic on WGS84: metres in the JSON, and in the table
    metres up to 10 km, kilometres beyond.

    \b
    Example:
      crossings near 40.10,124.40 --km 15
      crossings near 42.57 130.52 --km 2 --observations
    """
    if len(point) == 1:
        lat, lon = split_lat_lon(point[0], field="point")
    elif len(point) == 2:
        lat, lon = point
    else:
        raise click.BadParameter(
            f"{' '.join(point)!r} is not a point. Allowed: LAT,LON or LAT LON, e.g. 40.10,124.40",
            param_hint="POINT",
        )
    if observations:
        columns = ("id", "crossing_id", "date", "kind", "summary", "distance")
        fields = columns[:-1] if output_format in ("table", "wide") else RECORD_FIELDS
        with stream_observations_near(store, lat, lon, km=km, fields=fields) as found:
            echo_rows(*_measured(found), output_format, columns=columns)
        return
    rows = [near_crossing_row(n) for n in near(store, lat, lon, km=km)]
    echo_records(rows, output_format, columns=("id", "name_en", "distance", "bearing_deg"))


@click.command("around")
@click.argument("crossing_id", metavar="ID")
@click.option("--km", type=float, default=3.0, show_default=True, help="Radius in kilometres.")
@click.option("--since", metavar="DATE", help="Only records on or after this date.")
@click.option("--until", metavar="DATE", help="Only records on or before this date.")
@click.option("--kind", type=click.Choice(OBSERVATION_KINDS), help="Only records of this kind.")
@click.option("--source-type", type=click.Choice(SOURCE_TYPES), help="Only this type of source.")
@store_option
@format_option
def around_command(
    crossing_id: str,
    km: float,
    since: str | None,
    until: str | None,
    kind: str | None,
    source_type: str | None,
    store: str,
    output_format: str,
) -> None:
    """List the observations within a distance of crossing ID, tagged to it or not.

    Each comes with its distance (geodesic metres) and bearing (degrees from
    north) from the crossing, nearest first. Records without a point of their
    own sit on their crossing's point. Dates are YYYY, YYYY-MM or YYYY-MM-DD;
    a record dated to a month or a year is an interval and matches if any day
    of it is in the range: 2025-03 matches --since 2025-03-15. Records that a
    later record corrects or withdraws are left out (`crossings show` keeps
    them).

    \b
    Example:
      crossings around quanhe-wonjong --km 3 --since 2024
      crossings around new-yalu-river-bridge --kind infrastructure --format geojson
    """
    asked = {"since": since, "until": until, "kind": kind, "source_type": source_type}
    if output_format not in ("table", "wide"):  # every field, written as it is read
        with stream_around(store, crossing_id, km=km, **asked) as found:
            echo_rows(*_measured(found), output_format, columns=AROUND_COLUMNS)
        return
    # A table shows a few fields: light records suffice, read in bulk.
    rows = (
        (
            s.date_text,
            s.crossing_id,
            s.kind,
            s.status,
            s.lifecycle,
            s.summary,
            distance_text(n.distance_m),
            rounded(n.bearing_deg),
            s.source_name,
        )
        for n in sightings_around(store, crossing_id, km=km, **asked)
        for s in (n.item,)
    )
    echo_rows(AROUND_COLUMNS, rows, output_format, columns=AROUND_COLUMNS)


#: What a table of ``crossings around`` shows.
AROUND_COLUMNS = (
    "date",
    "crossing_id",
    "kind",
    "status",
    "lifecycle",
    "summary",
    "distance",
    "bearing_deg",
    "source_name",
)


def _measured(found: Streamed) -> tuple[tuple[str, ...], Chunked]:
    """Return a streamed answer's fields and rows with its distances as the output says them."""
    fields = (*found.fields[:-2], "distance_m", "distance", "bearing_deg")

    def said(columns: list[Sequence[Any]]) -> list[Sequence[Any]]:
        *values, distances, bearings = columns
        metres = [round(d, 1) for d in distances]
        degrees = [None if b is None else round(b, 1) for b in bearings]
        return [*values, metres, list(map(distance_text, distances)), degrees]

    return fields, found.rows.changed(said)


@click.command("nearest")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--max-km",
    type=float,
    default=25.0,
    show_default=True,
    help="Points farther than this from every crossing are unmatched.",
)
@store_option
@format_option
def nearest_command(file: str, max_km: float, store: str, output_format: str) -> None:
    """For each point of a CSV (lat, lon columns) or GeoJSON FILE, name the nearest crossing.

    \b
    Example:
      crossings nearest photos.csv --max-km 10
    """
    rows = [
        {
            "row": m.row,
            "lat": m.point.lat,
            "lon": m.point.lon,
            "crossing_id": m.crossing.id if m.crossing else None,
            "name_en": m.crossing.name_en if m.crossing else None,
            "distance_m": round(m.distance_m, 1) if m.distance_m is not None else None,
            "distance": distance_text(m.distance_m) if m.distance_m is not None else "",
            "matched": m.crossing is not None,
        }
        for m in nearest(store, file, max_km=max_km)
    ]
    echo_records(
        rows, output_format, columns=("row", "lat", "lon", "crossing_id", "distance", "matched")
    )


@click.command("within")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@store_option
@format_option
def within_command(file: str, store: str, output_format: str) -> None:
    """List the crossings and observations inside the polygons of a GeoJSON FILE.

    \b
    Example:
      crossings within dandong-area.geojson --format geojson
    """
    columns = ("type", "id", "crossing_id", "date", "summary", "name_en")
    fields = columns[1:-1] if output_format in ("table", "wide") else RECORD_FIELDS
    with stream_within(store, file, fields=fields) as (crossings, found):
        typed = [{"type": "crossing", **crossing_fields(c)} for c in crossings]
        records = found.rows.changed(lambda columns: [["observation"] * len(columns[0]), *columns])
        blocks = itertools.chain(record_blocks(typed), [(("type", *found.fields), records)])
        echo_blocks(blocks, output_format, columns=columns, csv_header=WITHIN_CSV_COLUMNS)


#: The columns of ``crossings within --format csv``: a crossing's and a record's fields (the
#: names they share once); each row leaves empty the fields of the other kind.
WITHIN_CSV_COLUMNS = ("type", *dict.fromkeys((*CROSSING_COLUMNS, *RECORD_FIELDS)))


@click.command("status")
@store_option
@click.option(
    "--as-of",
    "days",
    multiple=True,
    metavar="DATE",
    callback=lambda ctx, param, values: [parse_day(v) for v in values],
    help="The day asked about (default: today; YYYY or YYYY-MM: its last day); repeat it for "
    "a crossing x date matrix.",
)
@crossing_filters
@format_option
def status_command(store: str, days: list[date], output_format: str, **filters: Any) -> None:
    """Show the status of every crossing on a day, or on several days as a matrix.

    With one day, each crossing's status, since when, and the record it rests
    on (id, source, date, age, border-wide or not), and --format wide adds the
    source's words. The evidence is the record of the status's run a reader
    can check best (it names the crossing, links its source, quotes it, has
    the finest date), with how many more agree. With several --as-of, a
    crossing x date table: each cell is the status and the day it began; "?"
    marks evidence more than two years old, "!" a conflict. JSON gives, for
    each crossing and day, status, status_record (the deciding record),
    evidence_record with its quote, status_date, status_since,
    evidence_age_days, supporting_records and traffic.

    \b
    Example:
      crossings status --as-of 2021-06-01 --status open
      crossings status --as-of 2020-03-01 --as-of 2021-06-01 --as-of 2023-09-01
    """
    days = days or [datetime.now(UTC).date()]
    # A crossing is kept when it passes the filters on any of the days asked.
    matrix = [
        (crossing, answers)
        for crossing, answers in status_matrix(store, days)
        if any(keeps(crossing, a.status, **filters) for a in answers)
    ]
    if len(days) == 1:
        rows = [status_row(crossing, answer) for crossing, (answer,) in matrix]
        columns: tuple[str, ...] = ("id", "status_text", "status_since", "evidence")
        if output_format == "wide":  # the source's words behind each status, whole
            columns += ("quote",)
        echo_records(rows, output_format, columns=columns)
        return
    rows = []
    for crossing, answers in matrix:
        row: dict[str, object] = {"id": crossing.id}
        if output_format in ("json", "geojson"):
            row["statuses"] = [status_fields(a) for a in answers]
            row["lon"] = crossing.location.lon if crossing.location else None
            row["lat"] = crossing.location.lat if crossing.location else None
        else:
            for day, answer in zip(days, answers, strict=True):
                row[day.isoformat()] = matrix_cell(answer)
        rows.append(row)
    echo_records(rows, output_format, columns=("id", *(d.isoformat() for d in days)))


with_status_rule(status_command)


@click.command("changes")
@click.option(
    "--from",
    "since",
    metavar="DATE",
    help="First date (YYYY[-MM[-DD]]; default: a year before --to).",
)
@click.option("--to", "until", metavar="DATE", help="Last date (YYYY[-MM[-DD]]; default: today).")
@click.option(
    "--records",
    is_flag=True,
    help="List the status and infrastructure records dated in the range instead.",
)
@click.option(
    "--text", metavar="TEXT", help="Only changes whose record's summary or notes hold it."
)
@store_option
@format_option
def changes_command(
    since: str | None,
    until: str | None,
    records: bool,
    text: str | None,
    store: str,
    output_format: str,
) -> None:
    """List each crossing's status changes between two dates: from, to, day and record.

    A change happens on the day a record begins to count (a month or year
    record on its last day), or on the day after a temporary record ends
    (then no record is named). With --records, every status and
    infrastructure record whose date overlaps the range is listed instead;
    corrected records show as corrected, retracted ones are left out.

    Without dates, the last twelve months.

    \b
    Example:
      crossings changes
      crossings changes --from 2020 --to 2023-12
      crossings changes --from 2025-01 --to 2026-03 --records
    """
    since, until = change_window(since, until)

    rows = []
    if records:
        for change in changes(store, since, until):
            if text_matches(text, change.record.summary, change.record.notes):
                rows.append(change_record_row(change))
        echo_records(
            rows,
            output_format,
            columns=("crossing_id", "date", "kind", "status", "summary", "source"),
        )
        return
    for found in transitions(store, since, until):
        record = found.record
        if text and not (record and text_matches(text, record.summary, record.notes)):
            continue
        rows.append(transition_row(found))
    echo_records(
        rows, output_format, columns=("crossing_id", "day", "from", "to", "record", "source")
    )


@click.command("distance")
@click.argument("first_id", metavar="ID1")
@click.argument("second_id", metavar="ID2")
@store_option
@format_option
def distance_command(first_id: str, second_id: str, store: str, output_format: str) -> None:
    """Print the geodesic distance (WGS84) and bearing from crossing ID1 to ID2.

    The table says metres up to 10 km and kilometres beyond; JSON gives
    distance_m.

    \b
    Example:
      crossings distance friendship-bridge new-yalu-river-bridge
    """
    found = distance_between(store, first_id, second_id)
    row = {
        "from": first_id,
        "to": found.item.id,
        "distance_m": round(found.distance_m, 1),  # type: ignore[union-attr]
        "distance": distance_text(found.distance_m),  # type: ignore[arg-type]
        "bearing_deg": rounded(found.bearing_deg),
    }
    echo_records([row], output_format, columns=("from", "to", "distance", "bearing_deg"))


COMMANDS = [
    near_command,
    around_command,
    nearest_command,
    within_command,
    status_command,
    changes_command,
    distance_command,
]
