"""``crossings map``: write the overview map."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from geo.cli.options import as_of_option, store_option

__all__ = ["COMMANDS"]


@click.command("map")
@store_option
@as_of_option
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="maps",
    show_default=True,
    help="Folder the HTML files are written to.",
)
def map_command(store: str, as_of: date | None, out: str) -> None:
    """Write the overview map of every crossing to OUT/index.html and print its path.

    \b
    Example:
      crossings map
      crossings map --as-of 2021-06-01 --out /tmp/maps
    """
    from geo.inventory import overview_map

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "index.html"
    overview_map(store, as_of=as_of).save(str(target))
    click.echo(str(target))


COMMANDS = [map_command]
