"""Options shared by several commands, each declared once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import click

from geo.inventory import DEFAULT_STORE

__all__ = ["as_of_option", "format_option", "parse_day", "store_option"]

F = TypeVar("F", bound=Callable[..., Any])

#: Output formats every listing command offers.
FORMATS = ("table", "json", "csv", "geojson")


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


def as_of_option(function: F) -> F:
    """``--as-of YYYY-MM-DD``: the day a status is asked for (default: today)."""
    return click.option(
        "--as-of",
        metavar="YYYY-MM-DD",
        callback=lambda ctx, param, value: parse_day(value),
        help="Show the status on this day instead of today.",
    )(function)
