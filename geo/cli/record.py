"""``crossings observe`` and ``crossings import``: add records."""

from __future__ import annotations

import json
from pathlib import Path

import click

from geo.cli.options import carried_options, store_option
from geo.cli.output import emit, emit_written
from geo.errors import RecordValidationError
from geo.exchange import CSV_ENCODINGS, CsvFormat, csv_encoding
from geo.fields import split_field_value, split_lat_lon
from geo.model import LIFECYCLES, OBSERVATION_KINDS, SIDES, SOURCE_TYPES, STATUSES, TRAFFIC
from geo.publish import export_inventory
from geo.record import add_observation, import_observations
from geo.store import store_name

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
@click.option("--source-url", default="", metavar="URL", help="http(s) address of the source.")
@click.option(
    "--source-type", required=True, metavar="TYPE", help=f"One of: {', '.join(SOURCE_TYPES)}."
)
@click.option("--source-name", default="", help="Name of the source (default: the URL's host).")
@click.option(
    "--source-detail",
    default="",
    help="More on the source; without --source-url, say why there is no address.",
)
@click.option("--mirror", is_flag=True, help="The URL is a copy of the original on another site.")
@click.option("--published", default="", metavar="DATE", help="When the source was published.")
@click.option(
    "--status",
    default="",
    metavar="STATUS",
    help=f"Traffic status after a status record (or announced by a plan): {', '.join(STATUSES)}.",
)
@click.option(
    "--traffic",
    default="",
    metavar="WHAT[,WHAT]",
    help=f"What still moves, with --status open or restricted: {', '.join(TRAFFIC)}.",
)
@click.option(
    "--applies-to",
    default="",
    metavar="ID[,ID]|all",
    help="For a border-wide record (ID border): the crossings whose status it sets, or all.",
)
@click.option(
    "--until", default="", metavar="DATE", help="Last day of a temporary closure or opening."
)
@click.option("--expected", default="", metavar="DATE", help="For --kind plan: when it is due.")
@click.option(
    "--structure",
    default="",
    metavar="STRUCTURE_ID",
    help="The bridge, dam or gate the record is about (see `crossings structures`).",
)
@click.option(
    "--lifecycle",
    default="",
    metavar="STAGE",
    help=f"With --structure: the structure's lifecycle after it: {', '.join(LIFECYCLES)}.",
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
@carried_options
@click.option("--notes", default="", help="Uncertainty, conflicts, context.")
@click.option("--by", "recorded_by", default="", help="Who records it (default: your user name).")
@click.option(
    "--ignore",
    is_flag=True,
    help="If the same record (alike in every field) is stored already, print its id and exit "
    "0. A stored record of the same id that says something else is a conflict either way.",
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
    source_detail: str,
    mirror: bool,
    published: str,
    status: str,
    traffic: str,
    applies_to: str,
    until: str,
    expected: str,
    structure: str,
    lifecycle: str,
    side: str,
    at: str,
    replaces: str,
    notes: str,
    recorded_by: str,
    ignore: bool,
    store: str,
    **carried: str,
) -> None:
    """Add one observation of crossing ID and print its id.

    ID is a crossing id (see `crossings list`) or "border" for the whole
    border. The record is checked in full before anything is written.
    Only --kind status sets a crossing's status; a border-wide one sets it
    only for the crossings in --applies-to. A plan (--kind plan --expected
    DATE) never sets one. Records are never edited: to correct one, add a
    new record with --replaces OLD_ID; to withdraw one, add --kind
    retraction --replaces OLD_ID.

    \b
    Example:
      crossings observe new-yalu-river-bridge --on 2025-03 --kind infrastructure \\
        --summary "Small buildings going up on the DPRK side" \\
        --source-url https://www.38north.org/ --source-type satellite_imagery \\
        --side dprk --structure new-yalu-bridge --lifecycle built_not_opened
      crossings observe changbai-hyesan --on 2023-11-20 --until 2023-11-26 \\
        --kind status --status closed --summary "Customs closed for elections" \\
        --source-url https://www.dailynk.com/20231129-4/ --source-type ground_observation
      crossings observe border --on 2020-10 --kind status --status closed --applies-to all \\
        --summary "Freight halted" --source-url https://example.org/ --source-type news_report
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
        "source_detail": source_detail,
        "source_is_mirror": "true" if mirror else "",
        "source_type": source_type,
        "traffic": traffic,
        "applies_to": applies_to,
        "until": until,
        "expected": expected,
        "structure_id": structure,
        "lifecycle": lifecycle,
        "source_published": published,
        "side": side,
        "lat": lat,
        "lon": lon,
        "replaces": replaces,
        "notes": notes,
        "recorded_by": recorded_by,
        **carried,
    }
    record_id = add_observation(store, fields, ignore_duplicate=ignore)
    emit_written(json.dumps({"id": record_id}), f"observation {record_id} in {store_name(store)}")


def _encoding_name(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return csv_encoding(value)
    except RecordValidationError as err:
        raise click.BadParameter(
            f"{value!r} is not an encoding crossings reads. Allowed: {err.allowed}.",
            param_hint="--encoding",
        ) from err


#: What to do about a CSV file whose encoding is not the one given, or none of those tried.
_ENCODING_FIX = (
    "name the file's encoding with --encoding (one of "
    f'{", ".join(CSV_ENCODINGS)}), or save it from the spreadsheet as "CSV UTF-8"'
)


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--ignore",
    is_flag=True,
    help="Skip true duplicates (records already stored, or repeated rows, the same in every "
    "field) instead of failing; prints how many were skipped. A row with the id of a record "
    "that says something else is refused either way.",
)
@click.option(
    "--set",
    "defaults",
    multiple=True,
    metavar="FIELD=VALUE",
    help="A value for a field the file's rows leave empty (repeatable).",
)
@click.option(
    "--encoding",
    metavar="NAME",
    callback=_encoding_name,
    help=f"The CSV file's encoding, one of {', '.join(CSV_ENCODINGS)}. Default: found from "
    "the file, and named on stderr where it is not UTF-8.",
)
@store_option
def import_command(
    file: str, ignore: bool, defaults: tuple[str, ...], encoding: str | None, store: str
) -> None:
    """Add every observation in a CSV, GeoJSON or KML FILE, or none.

    A CSV file may be separated by commas, semicolons or tabs (the header
    says which), and be in UTF-8 (with or without a byte-order mark),
    UTF-16, GB18030, CP949 (EUC-KR) or Big5, as spreadsheets save it. An
    encoding found other than UTF-8 is named on stderr, so that a wrong
    guess shows; --encoding names the right one.

    Columns (CSV), properties (GeoJSON) or ExtendedData (KML) are those of
    `crossings export`: crossing_id, date, kind, summary, source_url or
    source_name, source_type, and optionally precision, status,
    source_published, source_detail, side, lat, lon, replaces, notes,
    recorded_by, applies_to, until, structure_id, traffic, expected,
    lifecycle, source_is_mirror, source_quote, quote_en, checked_on,
    archive_url. GeoJSON and KML give the point. Placemarks drawn in Google
    Earth map their name to summary, description to notes, time stamp to date
    and point to lat/lon; give what they lack with --set. Every bad row is
    reported with its row number, field and value, and nothing is written;
    columns that were not understood are listed.

    \b
    Example:
      crossings import new-observations.csv
      crossings import observations-cn.csv --encoding gb18030
      crossings import placemarks.kml --set crossing_id=new-yalu-river-bridge \\
        --set kind=infrastructure --set source_type=satellite_imagery \\
        --set source_url=https://example.org/imagery
    """
    if encoding is not None and Path(file).suffix.lower() in (".geojson", ".json", ".kml", ".kmz"):
        raise click.UsageError(
            "--encoding is for a CSV file: GeoJSON is UTF-8, and KML names its own."
        )

    def named(found: CsvFormat) -> None:
        if found.found_by != "given" and found.encoding != "utf-8":
            emit(f"{file}: read as {found}", err=True)

    try:
        report = import_observations(
            store,
            file,
            ignore_duplicates=ignore,
            defaults=dict(split_field_value(d) for d in defaults),
            encoding=encoding,
            on_format=named,
        )
    except RecordValidationError as err:
        if err.field != "encoding":
            raise
        raise RecordValidationError(
            err.field, err.value, err.problem, err.allowed, _ENCODING_FIX
        ) from err
    emit_written(
        json.dumps(
            {
                "imported": len(report.ids),
                "skipped": report.skipped,
                "rows": report.rows,
                "ids": report.ids,
                "ignored_fields": report.ignored_fields,
            },
            ensure_ascii=False,
        ),
        f"{len(report.ids)} observation(s) of {file} in {store_name(store)}",
    )


@click.command("export")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(("geojson", "kml", "csv", "gpkg")),
    default=None,
    help="File format (default: the one the --out file's suffix says).",
)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="File to write.")
@click.option("--crossing", "crossing_id", metavar="ID", help="Only this crossing.")
@click.option("--since", metavar="DATE", help="Only records on or after this date.")
@click.option("--until", metavar="DATE", help="Only records on or before this date.")
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
@store_option
def export_command(
    output_format: str | None,
    out: str,
    crossing_id: str | None,
    since: str | None,
    until: str | None,
    force: bool,
    store: str,
) -> None:
    """Write crossings and observations for other tools: GeoJSON, KML, CSV or a GeoPackage.

    GeoJSON (RFC 7946) holds crossings and observations with every field; KML
    has a folder per crossing, a placemark per status period (Google Earth's
    time slider shows the status of the day) and per observation; CSV is UTF-8
    with a byte-order mark, for spreadsheets, and `crossings import` reads it
    back; a GeoPackage is a store of its own. A month or year record counts if
    any day of it is in --since/--until.

    \b
    Example:
      crossings export --format kml --out crossings.kml
      crossings export --format gpkg --out quanhe.gpkg --crossing quanhe-wonjong --since 2020
    """
    counts = export_inventory(
        store, out, output_format, crossing_id=crossing_id, since=since, until=until, force=force
    )
    emit_written(json.dumps({"out": out, **counts}), out)


COMMANDS = [observe_command, import_command, export_command]
