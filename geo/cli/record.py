"""``crossings observe`` and ``crossings import``: add records."""

from __future__ import annotations

import json

import click

from geo.cli.options import store_option
from geo.inventory import add_observation, import_observations
from geo.model import OBSERVATION_KINDS, SIDES, SOURCE_TYPES, STATUSES
from geo.validate import split_lat_lon

__all__ = ["COMMANDS"]


@click.command("observe")
@click.argument("crossing_id", metavar="ID")
@click.option(
    "--on",
    "on",
    required=True,
    metavar="DATE",
    help="The date the record describes: YYYY, YYYY-MM or YYYY-MM-DD (precision follows).",
)
@click.option(
    "--kind", required=True, metavar="KIND", help=f"One of: {', '.join(OBSERVATION_KINDS)}."
)
@click.option("--summary", required=True, help="What was seen or reported.")
@click.option("--source-url", required=True, metavar="URL", help="http(s) address of the source.")
@click.option(
    "--source-type", required=True, metavar="TYPE", help=f"One of: {', '.join(SOURCE_TYPES)}."
)
@click.option("--source-name", default="", help="Name of the source (default: the URL's host).")
@click.option("--published", default="", metavar="DATE", help="When the source was published.")
@click.option(
    "--status",
    default="",
    metavar="STATUS",
    help=f"Status after this record (required for --kind status): {', '.join(STATUSES)}.",
)
@click.option(
    "--side", default="", metavar="SIDE", help=f"Which side it concerns: {', '.join(SIDES)}."
)
@click.option(
    "--at", default="", metavar="LAT,LON", help="Its own location, within 25 km of the crossing."
)
@click.option(
    "--replaces", default="", metavar="OBS_ID", help="Id of the record this corrects or retracts."
)
@click.option("--notes", default="", help="Uncertainty, conflicts, context.")
@click.option("--by", "recorded_by", default="", help="Who records it (default: your user name).")
@click.option(
    "--ignore", is_flag=True, help="If the record is stored already, print its id and exit 0."
)
@store_option
def observe_command(
    crossing_id: str,
    on: str,
    kind: str,
    summary: str,
    source_url: str,
    source_type: str,
    source_name: str,
    published: str,
    status: str,
    side: str,
    at: str,
    replaces: str,
    notes: str,
    recorded_by: str,
    ignore: bool,
    store: str,
) -> None:
    """Add one observation of crossing ID and print its id.

    ID is a crossing id (see `crossings list`) or "border" for the whole
    border. The record is checked in full before anything is written.
    Records are never edited: to correct one, add a new record with
    --replaces OLD_ID; to withdraw one, add --kind retraction --replaces OLD_ID.

    \b
    Example:
      crossings observe new-yalu-river-bridge --on 2025-03 --kind infrastructure \\
        --summary "Small buildings going up on the DPRK side" \\
        --source-url https://www.38north.org/ --source-type satellite_imagery \\
        --side dprk --status built_not_opened
    """
    lat, lon = split_lat_lon(at) if at else ("", "")
    fields = {
        "crossing_id": crossing_id,
        "date": on,
        "kind": kind,
        "status": status,
        "summary": summary,
        "source_url": source_url,
        "source_name": source_name,
        "source_type": source_type,
        "source_published": published,
        "side": side,
        "lat": lat,
        "lon": lon,
        "replaces": replaces,
        "notes": notes,
        "recorded_by": recorded_by,
    }
    click.echo(json.dumps({"id": add_observation(store, fields, ignore_duplicate=ignore)}))


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--ignore", is_flag=True, help="Skip records already in the store instead of failing."
)
@store_option
def import_command(file: str, ignore: bool, store: str) -> None:
    """Add every observation in a CSV or GeoJSON FILE, or none.

    Columns (CSV) or properties (GeoJSON) are those of `crossings show
    --format csv`: crossing_id, date, kind, summary, source_url or
    source_name, source_type, and optionally precision, status,
    source_published, source_detail, side, lat, lon (CSV; GeoJSON uses the
    point geometry), replaces, notes, recorded_by. Every bad row is reported
    with its row number, field and value, and nothing is written.

    \b
    Example:
      crossings import new-observations.csv
    """
    ids = import_observations(store, file, ignore_duplicates=ignore)
    click.echo(json.dumps({"imported": len(ids), "ids": ids}))


COMMANDS = [observe_command, import_command]
