"""Options shared by several commands, each declared once."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import click

from geo.errors import RecordValidationError
from geo.fields import fold, parse_fuzzy_date
from geo.inventory import DEFAULT_STORE
from geo.model import CROSSING_KINDS, MODES, RIVERS, STATUSES
from geo.schema import CARRIED_FIELDS

if TYPE_CHECKING:
    from geo.model import Crossing

__all__ = [
    "STATUS_CHOICES",
    "STATUS_RULE",
    "as_of_option",
    "carried_options",
    "crossing_filters",
    "format_option",
    "keeps",
    "parse_day",
    "store_option",
    "text_matches",
    "with_status_rule",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Output formats every listing command offers: "wide" is a table that never wraps.
FORMATS = ("table", "wide", "json", "csv", "geojson")


def _remember_store(ctx: click.Context, _param: click.Parameter, value: str) -> str:
    # So that a fault met anywhere in the command is reported with the store's path.
    ctx.find_root().meta["store"] = value
    return value


def store_option(function: F) -> F:
    """``--store PATH|URL``: the GeoPackage or PostGIS database (also ``CROSSINGS_STORE``)."""
    return click.option(
        "--store",
        metavar="PATH|URL",
        default=str(DEFAULT_STORE),
        envvar="CROSSINGS_STORE",
        show_default=True,
        show_envvar=True,
        help="The crossings GeoPackage, or a PostGIS database shared by a team "
        "(postgresql://USER@HOST:PORT/DATABASE).",
        callback=_remember_store,
    )(function)


def carried_options(function: F) -> F:
    """Add an option for each field a record carries as given (``geo.schema.CARRIED_FIELDS``).

    ``source_quote`` becomes ``--source-quote TEXT``; the command receives each
    by its field's name.
    """
    metavars = {"url": "URL", "day": "YYYY-MM-DD", "text": "TEXT"}
    for field in reversed(CARRIED_FIELDS):
        function = click.option(
            "--" + field.name.replace("_", "-"),
            field.name,
            default="",
            metavar=metavars[field.rule],
            help=field.description
            + (f" (at most {field.limit:,} characters)." if field.rule == "text" else "."),
        )(function)
    return function


def format_option(function: F) -> F:
    """``--format``: a readable table, or JSON / CSV / GeoJSON for scripts."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="Output format: a table that fits the terminal, a wide one (long lines, URLs "
        "whole), or JSON / CSV / GeoJSON for scripts.",
    )(function)


def parse_day(value: str | None, field: str = "--as-of") -> date | None:
    """Return the day a date option names, or raise a usage error.

    A year or a month means its last day, as the status rule counts a record
    dated to a month from its last day: ``--as-of 2021-06`` is 2021-06-30.
    """
    if value is None:
        return None

    try:
        return parse_fuzzy_date(value, field=field, today=date.max).end
    except RecordValidationError as err:
        raise click.BadParameter(
            f"{value!r} is not a date. Allowed: YYYY, YYYY-MM or YYYY-MM-DD (a year or a month "
            "means its last day), e.g. 2021-06-01.",
            param_hint=field,
        ) from err


#: What --status can ask for: a traffic status, a lifecycle shown as one, or none at all.
STATUS_CHOICES = (*STATUSES, "planned", "under_construction", "built_not_opened", "none")


def crossing_filters(function: F) -> F:
    """``--status``, ``--river``, ``--mode``, ``--kind``: keep only the crossings that match."""
    for option in reversed(
        (
            click.option(
                "--status", "status_filter", type=click.Choice(STATUS_CHOICES), multiple=True,
                help="Only crossings with this status on the day (repeatable).",
            ),
            click.option("--river", type=click.Choice(RIVERS), help="Only crossings on this river"),
            click.option("--mode", type=click.Choice(MODES), help="Only crossings of this mode."),
            click.option(
                "--kind", "crossing_kind", type=click.Choice(CROSSING_KINDS),
                help="Only crossings of this kind.",
            ),
        )
    ):  # fmt: skip
        function = option(function)
    return function


def keeps(
    crossing: Crossing,
    status: str | None,
    *,
    status_filter: Sequence[str],
    river: str | None,
    mode: str | None,
    crossing_kind: str | None,
) -> bool:
    """Say whether a crossing passes the filters of :func:`crossing_filters`."""
    return (
        (not status_filter or (status or "none") in status_filter)
        and (river is None or crossing.river == river)
        and (mode is None or crossing.mode == mode)
        and (crossing_kind is None or crossing.kind == crossing_kind)
    )


def text_matches(query: str | None, *texts: str | None) -> bool:
    """Say whether any text holds the query, ignoring case and accents (as the map's search)."""
    if not query:
        return True
    wanted = fold(query)
    return any(wanted in fold(text) for text in texts if text)


#: The status rule in a few lines, for the help of the commands that show statuses.
STATUS_RULE = """\b
The status rule (docs/status.md):
- only a status record that names the crossing sets its status; a
  border-wide record only where its applies_to lists the crossing
  (or says all), else it is context and sets nothing;
- traffic, infrastructure and context records and plans set nothing;
- a month or year counts from its last day; a record with --until
  ends, and the status before it returns;
- "since" is the day the status began; the latest record of the run
  decides, and the evidence shown is the record of the run a reader
  can check best (names the crossing, links and quotes its source,
  finest date), with its age; evidence over two years old is marked
  uncertain (?); same-date records that disagree: CONFLICT;
- a crossing none of whose structures ever entered service shows
  their lifecycle (built, never opened)."""


def with_status_rule(command: click.Command) -> click.Command:
    """Put the status rule into a command's help, before its examples."""
    text = inspect.cleandoc(command.help or "")
    head, sep, examples = text.partition("\b\nExample:")
    command.help = f"{head.rstrip()}\n\n{STATUS_RULE}\n\n{sep}{examples}"
    return command


def as_of_option(function: F) -> F:
    """``--as-of YYYY-MM-DD``: the day a status is asked for (default: today)."""
    return click.option(
        "--as-of",
        metavar="DATE",
        callback=lambda ctx, param, value: parse_day(value),
        help="Show the status on this day instead of today (YYYY, YYYY-MM: its last day).",
    )(function)
