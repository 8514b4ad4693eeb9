"""Options shared by several commands, each declared once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import click

from geo.inventory import DEFAULT_STORE

__all__ = [
    "STATUS_RULE",
    "as_of_option",
    "format_option",
    "parse_day",
    "store_option",
    "with_status_rule",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Output formats every listing command offers.
FORMATS = ("table", "json", "csv", "geojson")


def _remember_store(ctx: click.Context, _param: click.Parameter, value: str) -> str:
    # So that a fault met anywhere in the command is reported with the store's path.
    ctx.find_root().meta["store"] = value
    return value


def store_option(function: F) -> F:
    """``--store PATH``: the GeoPackage to use (also ``CROSSINGS_STORE``)."""
    return click.option(
        "--store",
        type=click.Path(dir_okay=False),
        default=str(DEFAULT_STORE),
        envvar="CROSSINGS_STORE",
        show_default=True,
        show_envvar=True,
        help="The crossings GeoPackage.",
        callback=_remember_store,
    )(function)


def format_option(function: F) -> F:
    """``--format``: a readable table, or JSON / CSV / GeoJSON for scripts."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="Output format.",
    )(function)


def parse_day(value: str | None, field: str = "--as-of") -> date | None:
    """Return the date a YYYY-MM-DD option names, or raise a usage error."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        raise click.BadParameter(
            f"{value!r} is not a day. Allowed: YYYY-MM-DD, e.g. 2021-06-01.", param_hint=field
        ) from err


#: The status rule in a few lines, for the help of the commands that show statuses.
STATUS_RULE = """\b
The status rule (README, "How a status is decided"):
- only a status record that names the crossing sets its status; a
  border-wide record only where its applies_to lists the crossing
  (or says all), else it is context and sets nothing;
- traffic, infrastructure and context records and plans set nothing;
- a month or year counts from its last day; a record with --until
  ends, and the status before it returns;
- "since" is the day the status began; the evidence is the latest
  record of the run, with its age; evidence over two years old is
  marked uncertain (?); same-date records that disagree: CONFLICT;
- a crossing none of whose structures ever entered service shows
  their lifecycle (built, never opened)."""


def with_status_rule(command: click.Command) -> click.Command:
    """Put the status rule into a command's help, before its examples."""
    import inspect

    text = inspect.cleandoc(command.help or "")
    head, sep, examples = text.partition("\b\nExample:")
    command.help = f"{head.rstrip()}\n\n{STATUS_RULE}\n\n{sep}{examples}"
    return command


def as_of_option(function: F) -> F:
    """``--as-of YYYY-MM-DD``: the day a status is asked for (default: today)."""
    return click.option(
        "--as-of",
        metavar="YYYY-MM-DD",
        callback=lambda ctx, param, value: parse_day(value),
        help="Show the status on this day instead of today.",
    )(function)
