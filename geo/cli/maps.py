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
@click.option(
    "--self-contained",
    is_flag=True,
    help="Inline every script and stylesheet: one file that works with no network "
    "(basemap tiles still need one).",
)
def map_command(store: str, as_of: date | None, out: str, self_contained: bool) -> None:
    """Write the maps: OUT/index.html (every crossing) and OUT/<crossing-id>.html.

    Prints the path of each file written. Markers are coloured by status on
    --as-of (default today); the time control on the map moves through every
    date from the first record to today.

    \b
    Example:
      crossings map
      crossings map --as-of 2021-06-01 --self-contained --out /tmp/maps
    """
    from geo.assets import inline_assets
    from geo.inventory import maps

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for name, fmap in maps(store, as_of=as_of).items():
        html = fmap.get_root().render()
        if self_contained:
            html = inline_assets(html)
        target = folder / f"{name}.html"
        target.write_text(html, encoding="utf-8")
        click.echo(str(target))


COMMANDS = [map_command]
