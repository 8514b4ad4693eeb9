"""``crossings audit``: the statuses that rest on weak evidence, on a day or over a range."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from geo.audit import FINDINGS, audit_statuses, finding_totals
from geo.cli.options import format_option, store_option
from geo.cli.output import echo_records, emit, table, wrapped
from geo.fields import date_range

__all__ = ["COMMANDS"]

#: Column names of the totals table, short enough for 80 columns.
_SHORT = {"no_quote": "no_quote", "border_wide": "border", "no_url": "no_url", "old": "old",
          "conflict": "conflict"}  # fmt: skip


def _day(text: str | None) -> str | None:
    return datetime.now(UTC).date().isoformat() if text == "today" else text


@click.command("audit")
@click.option("--from", "since", metavar="DATE", help="First day: YYYY[-MM[-DD]] or today.")
@click.option("--to", "until", metavar="DATE", help="Last day (default: --from, or today).")
@click.option(
    "--finding",
    "kinds",
    multiple=True,
    type=click.Choice(list(FINDINGS)),
    help="Only this kind of finding (repeatable).",
)
@store_option
@format_option
def audit_command(
    since: str | None, until: str | None, kinds: tuple[str, ...], store: str, output_format: str
) -> None:
    """List the statuses that rest on weak evidence, on a day or over a range of days.

    For each crossing and each stretch of days, the evidence of its status (the
    record a reader can check best, see `crossings status`) is a finding when
    it has no quote of its source (no_quote, with the reason the record gives),
    is a border-wide record (border_wide), has no web address (no_url), is over
    two years older than the day (old), or when another record of the same
    dates disagrees (conflict). The totals count days per crossing and kind.
    Without dates, today; a year or a month means all of its days.

    \b
    Example:
      crossings audit --from 2019-01-01 --to today
      crossings audit --from 2020 --to 2023 --finding no_quote --format json
    """
    since, until = _day(since), _day(until)
    first, last = date_range(since or until, until or since, names=("--from", "--to"))
    today = datetime.now(UTC).date()
    first, last = first or today, last or today
    found = audit_statuses(store, first=first, last=last, findings=kinds or tuple(FINDINGS))
    totals = finding_totals(found)
    rows = [
        {
            "crossing_id": f.crossing_id,
            "from": f.first.isoformat(),
            "to": f.last.isoformat(),
            "finding": f.finding,
            "record": f.record,
            "status_text": f.status_text,
            "detail": f.detail,
        }
        for f in found
    ]
    if output_format in ("json", "geojson"):
        emit(json.dumps({"from": first.isoformat(), "to": last.isoformat(), "findings": rows,
                         "totals_days": totals}, ensure_ascii=False, indent=2))  # fmt: skip
        return
    columns = ["crossing_id", "from", "to", "finding", "record"]
    if output_format == "wide":
        columns += ["status_text", "detail"]
    echo_records(rows, output_format, columns=columns)
    if output_format in ("table", "wide") and totals:
        emit()
        title = f"Days of each finding, {first.isoformat()} to {last.isoformat()}:"
        emit(wrapped(title, 0 if output_format == "wide" else None))
        emit(
            table(
                [
                    {"crossing_id": c, **{_SHORT[k]: n for k, n in t.items()}}
                    for c, t in totals.items()
                ],
                ["crossing_id", *_SHORT.values()],
                width=0 if output_format == "wide" else None,
            )
        )


COMMANDS = [audit_command]
