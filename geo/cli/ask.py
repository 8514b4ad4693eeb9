"""Questions by crossing: near, around, nearest, within, status, changes, distance."""

from __future__ import annotations

from datetime import date

import click

from geo.cli.options import as_of_option, format_option, store_option
from geo.cli.output import (
    crossing_fields,
    echo_records,
    observation_fields,
    rounded,
    status_fields,
)
from geo.model import OBSERVATION_KINDS, SOURCE_TYPES

__all__ = ["COMMANDS"]

DATE_RULE = (
    "Dates are YYYY, YYYY-MM or YYYY-MM-DD. A record dated to a month or a year is an "
    "interval and matches if any day of it is in the range: 2025-03 matches --since 2025-03-15."
)


@click.command("near")
@click.argument("lat", type=str)
@click.argument("lon", type=str)
@click.option(
    "--km", type=float, default=10.0, show_default=True, help="Search radius in kilometres."
)
@store_option
@format_option
def near_command(lat: str, lon: str, km: float, store: str, output_format: str) -> None:
    """List the crossings within a distance of a point, nearest first.

    Distances are geodesic metres on WGS84.

    \b
    Example:
      crossings near 40.10 124.40 --km 15
    """
    from geo.questions import near

    rows = [
        {
            **crossing_fields(n.item),
            "distance_m": round(n.distance_m, 1),
            "bearing_deg": rounded(n.bearing_deg),
        }
        for n in near(store, lat, lon, km=km)
    ]
    echo_records(rows, output_format, columns=("id", "name_en", "distance_m", "bearing_deg"))


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
    of it is in the range: 2025-03 matches --since 2025-03-15.

    \b
    Example:
      crossings around quanhe-wonjong --km 3 --since 2024
      crossings around new-yalu-river-bridge --kind infrastructure --format geojson
    """
    from geo.questions import around

    rows = []
    for n in around(
        store, crossing_id, km=km, since=since, until=until, kind=kind, source_type=source_type
    ):
        record = n.item
        fields = observation_fields(record)  # type: ignore[arg-type]
        if record.location is not None:  # type: ignore[union-attr]
            fields["lon"], fields["lat"] = record.location.lon, record.location.lat  # type: ignore[union-attr]
        rows.append(
            {
                **fields,
                "distance_m": round(n.distance_m, 1),
                "bearing_deg": rounded(n.bearing_deg),
            }
        )
    echo_records(
        rows,
        output_format,
        columns=(
            "date",
            "crossing_id",
            "kind",
            "status",
            "summary",
            "distance_m",
            "bearing_deg",
            "source_name",
        ),
    )


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
    from geo.questions import nearest

    rows = [
        {
            "row": m.row,
            "lat": m.point.lat,
            "lon": m.point.lon,
            "crossing_id": m.crossing.id if m.crossing else None,
            "name_en": m.crossing.name_en if m.crossing else None,
            "distance_m": round(m.distance_m, 1) if m.distance_m is not None else None,
            "matched": m.crossing is not None,
        }
        for m in nearest(store, file, max_km=max_km)
    ]
    echo_records(
        rows, output_format, columns=("row", "lat", "lon", "crossing_id", "distance_m", "matched")
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
    from geo.questions import within

    crossings, observations = within(store, file)
    rows = [{"type": "crossing", **crossing_fields(c)} for c in crossings]
    for record in observations:
        fields = observation_fields(record)
        if record.location is not None:
            fields["lon"], fields["lat"] = record.location.lon, record.location.lat
        rows.append({"type": "observation", **fields})
    echo_records(
        rows, output_format, columns=("type", "id", "crossing_id", "date", "summary", "name_en")
    )


@click.command("status")
@store_option
@as_of_option
@format_option
def status_command(store: str, as_of: date | None, output_format: str) -> None:
    """Show the status of every crossing on a day (default: today) and the record it rests on.

    The rule is that of `crossings list --help`. Records of the same date that
    disagree are flagged in the "conflict" column with the other record's id.

    \b
    Example:
      crossings status --as-of 2021-06-01
    """
    from geo.inventory import list_crossings

    rows = []
    for item in list_crossings(store, as_of=as_of):
        fields = {
            "id": item.crossing.id,
            "name_en": item.crossing.name_en,
            **status_fields(item.status),
            "lon": item.crossing.location.lon if item.crossing.location else None,
            "lat": item.crossing.location.lat if item.crossing.location else None,
        }
        fields["conflict"] = ", ".join(o.id for o in item.status.conflicts)
        rows.append(fields)
    echo_records(
        rows,
        output_format,
        columns=("id", "status", "status_date", "status_source", "status_record", "conflict"),
    )


@click.command("changes")
@click.option("--from", "since", required=True, metavar="DATE", help="First date (YYYY[-MM[-DD]]).")
@click.option("--to", "until", required=True, metavar="DATE", help="Last date (YYYY[-MM[-DD]]).")
@store_option
@format_option
def changes_command(since: str, until: str, store: str, output_format: str) -> None:
    """List every status and infrastructure record between two dates, by crossing, with sources.

    A record dated to a month or a year counts if any day of it is in the
    range. Corrected records show as corrected; retracted ones are left out.

    \b
    Example:
      crossings changes --from 2025-01 --to 2026-03
    """
    from geo.questions import changes

    rows = []
    for change in changes(store, since, until):
        fields = observation_fields(change.record)
        fields["crossing"] = change.crossing.name_en if change.crossing else "(border-wide)"
        fields["source"] = change.record.source_name
        rows.append(fields)
    echo_records(
        rows, output_format, columns=("crossing_id", "date", "kind", "status", "summary", "source")
    )


@click.command("distance")
@click.argument("first_id", metavar="ID1")
@click.argument("second_id", metavar="ID2")
@store_option
@format_option
def distance_command(first_id: str, second_id: str, store: str, output_format: str) -> None:
    """Print the geodesic distance (metres, WGS84) and bearing from crossing ID1 to ID2.

    \b
    Example:
      crossings distance friendship-bridge new-yalu-river-bridge
    """
    from geo.questions import distance_between

    found = distance_between(store, first_id, second_id)
    row = {
        "from": first_id,
        "to": found.item.id,
        "distance_m": round(found.distance_m, 1),  # type: ignore[union-attr]
        "bearing_deg": rounded(found.bearing_deg),
    }
    echo_records([row], output_format, columns=("from", "to", "distance_m", "bearing_deg"))


COMMANDS = [
    near_command,
    around_command,
    nearest_command,
    within_command,
    status_command,
    changes_command,
    distance_command,
]
