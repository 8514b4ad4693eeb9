"""``crossings list`` and ``crossings show``: read the inventory."""

from __future__ import annotations

from datetime import date

import click

from geo.cli.options import as_of_option, format_option, store_option
from geo.cli.output import crossing_fields, echo_records, observation_fields, status_fields, table
from geo.inventory import list_crossings, show_crossing

__all__ = ["COMMANDS"]


@click.command("list")
@store_option
@as_of_option
@format_option
def list_command(store: str, as_of: date | None, output_format: str) -> None:
    """List every crossing with its status, and the date and source of that status.

    A status comes from the records known to be on or before the day (a
    month or year record counts from its last day), in date order: each of
    the crossing's own records sets it. Records about the whole border
    (marked "border-wide") are limits: a closure lowers a crossing that is
    more open, a reopening raises one that is less open (open > restricted >
    closed); neither touches a crossing never opened. Records of the same
    date that disagree are shown as CONFLICT.

    \b
    Example:
      crossings list
      crossings list --as-of 2021-06-01 --format json
    """
    rows = []
    for item in list_crossings(store, as_of=as_of):
        fields = {**crossing_fields(item.crossing), **status_fields(item.status)}
        record = item.status.record
        fields["since"] = record.date.label if record else ""
        basis = (record.source_name if record else "no record") + (
            " (border-wide)" if fields["status_border_wide"] else ""
        )
        fields["source"] = basis + (" CONFLICT" if item.status.is_conflicted else "")
        rows.append(fields)
    echo_records(
        rows,
        output_format,
        columns=("id", "name_en", "name_zh", "name_ko", "status", "since", "source"),
    )


def _history_rows(history_records: list, superseded: frozenset[str]) -> list[dict[str, object]]:
    rows = []
    for record in history_records:
        fields = observation_fields(record)
        fields["when"] = record.date.label
        fields["source"] = record.source_name + (
            f" <{record.source_url}>" if record.source_url else ""
        )
        fields["scope"] = "border-wide" if record.crossing_id is None else ""
        fields["superseded"] = record.id in superseded
        rows.append(fields)
    return rows


@click.command("show")
@click.argument("crossing_id", metavar="ID")
@store_option
@as_of_option
@format_option
def show_command(crossing_id: str, store: str, as_of: date | None, output_format: str) -> None:
    """Show one crossing: its names, places, point, and its whole dated history, oldest first.

    ID is the crossing's id or any of its names, in any script (Wonjong, 圈河口岸,
    원정리 통상구); a name two crossings share (Sinuiju) is refused with both ids.
    The history includes records about the whole border (marked border-wide)
    and keeps superseded records, marked as such.

    \b
    Example:
      crossings show new-yalu-river-bridge
      crossings show 圈河口岸 --format json
    """
    history = show_crossing(store, crossing_id, as_of=as_of)
    crossing = history.crossing
    rows = _history_rows(history.records, history.superseded)
    status = status_fields(history.status)
    if output_format == "json":
        import json

        document = {"crossing": crossing_fields(crossing), "status": status, "history": rows}
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    if output_format in ("csv", "geojson"):
        own = [r for r in rows if r["lon"] is not None]
        if output_format == "geojson":
            echo_records([{**crossing_fields(crossing), **status}, *own], "geojson", columns=())
        else:
            echo_records(rows, "csv", columns=())
        return
    location = crossing.location
    lines = [
        f"{crossing.name_en}  {crossing.name_zh}  {crossing.name_ko}   [{crossing.id}]",
        f"also: {'; '.join(crossing.aliases)}" if crossing.aliases else "",
        f"China side: {crossing.cn_place}, {crossing.cn_province}",
        f"DPRK side:  {crossing.kp_place}, {crossing.kp_province}",
        f"river: {crossing.river}   mode: {crossing.mode}"
        + (f" ({crossing.mode_detail})" if crossing.mode_detail else "")
        + f"   kind: {crossing.kind}",
        (
            f"point: {location.lat:.5f}, {location.lon:.5f} (lat, lon)"
            f" ±{crossing.location_precision_m} m"
            f" - {crossing.location_note}; source: {crossing.location_source}"
            + (f" <{crossing.location_source_url}>" if crossing.location_source_url else "")
            if location
            else f"point: none - {crossing.location_note}"
        ),
        f"structure: {crossing.structure}" if crossing.structure else "",
        f"notes: {crossing.notes}" if crossing.notes else "",
    ]
    record = history.status.record
    if record:
        lines.append(
            f"status on {status['as_of']}: {history.status.status} since {record.date.label}"
            f" ({record.source_name}{', border-wide' if record.crossing_id is None else ''})"
        )
        for other in history.status.conflicts:
            lines.append(
                f"  CONFLICT: {other.source_name} says {other.status}"
                f" ({other.date.label}, {other.id})"
            )
    else:
        lines.append(f"status on {status['as_of']}: no record states one")
    click.echo("\n".join(line for line in lines if line))
    click.echo()
    for row in rows:
        row["note"] = "; ".join(
            part
            for part in (
                "SUPERSEDED" if row["superseded"] else "",
                str(row["scope"]),
                str(row["notes"] or ""),
            )
            if part
        )
    click.echo(table(rows, ("when", "kind", "status", "summary", "source", "id", "note"), limit=70))


COMMANDS = [list_command, show_command]
