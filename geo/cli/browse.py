"""``crossings list``, ``crossings show`` and ``crossings structures``: read the inventory."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import click

from geo.answers import crossing_document, history_rows, list_row
from geo.browse import list_crossings, list_structures, show_crossing, trade_figures
from geo.cli.options import (
    as_of_option,
    crossing_filters,
    format_option,
    keeps,
    store_option,
    text_matches,
    with_status_rule,
)
from geo.cli.output import (
    crossing_fields,
    echo_records,
    emit,
    evidence_line,
    quote_lines,
    status_fields,
    structure_fields,
    table,
    wrapped,
)
from geo.exchange import trade_fields
from geo.status import StatusAnswer, describe_status

if TYPE_CHECKING:
    from geo.browse import CrossingHistory, StructureState
    from geo.model import Crossing

__all__ = ["COMMANDS"]


@click.command("list")
@store_option
@as_of_option
@crossing_filters
@format_option
def list_command(store: str, as_of: date | None, output_format: str, **filters: Any) -> None:
    """List every crossing with its status, since when, and the record it rests on.

    The evidence column names the record, its source, its age on the day, and
    whether it is border-wide; "?" marks evidence over two years old.

    \b
    Example:
      crossings list
      crossings list --as-of 2021-06-01 --status open
      crossings list --river tumen --mode rail --format json
    """
    rows = []
    for item in list_crossings(store, as_of=as_of):
        if not keeps(item.crossing, item.status.status, **filters):
            continue
        rows.append(list_row(item.crossing, item.status))
    echo_records(
        rows,
        output_format,
        columns=("id", "name_en", "status_text", "since", "evidence"),
    )


with_status_rule(list_command)


@click.command("show")
@click.argument("crossing_id", metavar="ID")
@store_option
@as_of_option
@click.option("--text", metavar="TEXT", help="Only history records whose summary or notes hold it.")
@format_option
def show_command(
    crossing_id: str, store: str, as_of: date | None, text: str | None, output_format: str
) -> None:
    """Show one crossing: names, places, point, status with its evidence, structures, history.

    ID is the crossing's id or any of its names, in any script (Wonjong, 圈河口岸,
    원정리 통상구), or a part of one only one crossing has (圈河); a name two
    crossings share (Sinuiju) is refused with both ids.
    The history is in the order the status rule applies it (a month or year
    counts from its last day); the "rule" column says what each record does:
    sets the status, is a plan, gives a structure's lifecycle, is border-wide
    context, or is superseded by a later record.

    \b
    Example:
      crossings show new-yalu-river-bridge
      crossings show 圈河 --text bridge
      crossings show 圈河口岸 --format json
    """
    history = show_crossing(store, crossing_id, as_of=as_of)
    crossing = history.crossing
    shown = [r for r in history.records if text_matches(text, r.summary, r.notes)]
    rows = history_rows(shown, history.superseded, crossing.id)
    status = status_fields(history.status)
    if output_format in ("json", "csv", "geojson"):
        _emit_crossing_data(history, status, rows, output_format)
        return
    lines = [*_crossing_lines(crossing), *_status_lines(history.status, status)]
    lines += _structure_lines(history.structures)
    wide = output_format == "wide"
    emit("\n".join(wrapped(line, 0 if wide else None) for line in lines if line))
    emit()
    columns = ("when", "kind", "status", "summary", "source", "id", "rule")
    emit(table(rows, columns, width=0 if wide else None))


def _emit_crossing_data(
    history: CrossingHistory,
    status: dict[str, object],
    rows: list[dict[str, object]],
    output_format: str,
) -> None:
    """Print a crossing for scripts: JSON whole, CSV its history, GeoJSON its points."""
    crossing = history.crossing
    if output_format == "json":
        document = crossing_document(history, rows)
        emit(json.dumps(document, ensure_ascii=False, indent=2))
        return
    own = [r for r in rows if r["lon"] is not None]
    if output_format == "geojson":
        echo_records([{**crossing_fields(crossing), **status}, *own], "geojson", columns=())
    else:
        echo_records(rows, "csv", columns=())


def _crossing_lines(crossing: Crossing) -> list[str]:
    """Return what a reader asks first of a crossing: names, places, point and structure."""
    location = crossing.location
    return [
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


def _status_lines(answer: StatusAnswer, status: dict[str, object]) -> list[str]:
    """Return the status on the day with its evidence, any conflict, and the plans announced."""
    lines = []
    if answer.record:
        lines.append(
            f"status on {status['as_of']}: {status['status_text']} since {status['status_since']}"
        )
        lines.append(f"  evidence: {evidence_line(answer)}")
        lines += [f"    {line}" for line in quote_lines(answer.evidence)]  # type: ignore[arg-type]
        for other in answer.conflicts:
            lines.append(
                f"  CONFLICT: {other.source_name} says {other.status}"
                f" ({other.date.text}, {other.id})"
            )
    else:
        lines.append(f"status on {status['as_of']}: unknown - no record names this crossing")
    for plan in status["plans"]:  # type: ignore[attr-defined]
        passed = "; the expected date has passed" if plan["date_passed"] else ""
        lines.append(
            f"  plan ({plan['announced']}, {plan['source']}): "
            f"{describe_status(plan['status'], plan['traffic'])} from {plan['expected']}{passed}"
        )
    return lines


def _structure_lines(structures: Sequence[StructureState]) -> list[str]:
    """Return a line per structure of the crossing: its lifecycle and the record that says so."""
    return [
        f"structure {s.structure.id}: {s.structure.name_en} ({s.structure.kind}) - "
        + (
            f"{describe_status(s.lifecycle, is_lifecycle=True)}"
            f" ({s.record.date.text}, {s.record.id})"
            if s.record
            else "no lifecycle record"
        )
        for s in structures
    ]


@click.command("structures")
@click.argument("crossing_id", metavar="[ID]", required=False)
@store_option
@as_of_option
@format_option
def structures_command(
    crossing_id: str | None, store: str, as_of: date | None, output_format: str
) -> None:
    """List the bridges, dams and gates of every crossing (or of ID) and their lifecycle.

    A structure's lifecycle (planned, under_construction, built_not_opened,
    in_service, out_of_service, destroyed) comes from the latest
    infrastructure record that names it; records about a structure never set
    the crossing's traffic status.

    \b
    Example:
      crossings structures
      crossings structures quanhe-wonjong --as-of 2016-01-01
    """
    rows = []
    for state in list_structures(store, crossing_id, as_of=as_of):
        record = state.record
        rows.append(
            {
                **structure_fields(state.structure),
                "lifecycle": state.lifecycle,
                "lifecycle_date": record.date.text if record else None,
                "lifecycle_record": record.id if record else None,
                "lifecycle_source": record.source_name if record else None,
            }
        )
    echo_records(
        rows,
        output_format,
        columns=(
            "id",
            "crossing_id",
            "name_en",
            "kind",
            "lifecycle",
            "lifecycle_date",
            "lifecycle_record",
        ),
    )


@click.command("trade")
@click.option("--from", "since", metavar="DATE", help="Periods that end on or after this date.")
@click.option("--to", "until", metavar="DATE", help="Periods that start on or before this date.")
@click.option(
    "--flow",
    type=click.Choice(("total", "cn_to_kp", "kp_to_cn")),
    help="Both ways, China to the DPRK, or the DPRK to China (default: all).",
)
@store_option
@format_option
def trade_command(
    since: str | None, until: str | None, flow: str | None, store: str, output_format: str
) -> None:
    """List the sourced China–DPRK trade figures: period, flow, US dollars, and source.

    A figure a source gave as "more than", "about" or "nearly" says so in the
    qualifier column. Where sources give different figures for a period, each
    is listed.

    \b
    Example:
      crossings trade --from 2019 --to 2021
      crossings trade --flow total --format csv > trade.csv
    """
    rows = [trade_fields(f) for f in trade_figures(store, since=since, until=until, flow=flow)]
    echo_records(
        rows,
        output_format,
        columns=("period", "flow", "value_usd", "qualifier", "source_name", "source_url"),
    )


COMMANDS = [list_command, show_command, structures_command, trade_command]
