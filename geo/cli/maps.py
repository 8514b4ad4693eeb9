"""``crossings map``: write the overview map."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from geo.assets import inline_assets
from geo.cli.options import answer_format_option, as_of_option, store_option
from geo.cli.output import emit, emit_written
from geo.feeds import feed_base_url, feed_files, write_feeds
from geo.inventory import today_or
from geo.model import OVERVIEW_PAGE
from geo.outputs import check_target, written_beside
from geo.publish import maps, write_figure
from geo.report import write_report

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
    "--self-contained/--cdn",
    default=True,
    show_default=True,
    help="Inline every script and stylesheet (the default: each page works with no network, "
    "basemap tiles aside), or load them from a CDN (smaller pages).",
)
@click.option("--force", is_flag=True, help="Replace pages that exist already.")
@click.option(
    "--base-url",
    metavar="URL",
    help="The address OUT is published at: also write the change feeds (feed.atom, feed.json, "
    "<crossing-id>.feed.atom|json), whose links need it.",
)
@answer_format_option
def map_command(
    store: str,
    as_of: date | None,
    out: str,
    self_contained: bool,
    force: bool,
    base_url: str | None,
    output_format: str,
) -> None:
    """Write the maps: OUT/index.html (every crossing) and OUT/<crossing-id>.html.

    Prints the path of each file written (--format json: one list of the
    pages, each with its path, crossing_id, null for the overview, and bytes).
    Markers are coloured by status on --as-of (default today); the time
    control on the map moves through every date from the first record to
    today. Pages that exist already are replaced only with --force; each is
    written beside the old one and renamed into place, so a reader never sees
    half a page. With --base-url, the Atom and JSON feeds of records and
    status changes (the border's and each crossing's) are written too, and
    listed after the pages (docs/api.md).

    \b
    Example:
      crossings map
      crossings map --as-of 2021-06-01 --out maps-2021 --force
      crossings map --base-url https://example.org/border/ --force
    """
    folder = Path(out)
    pages = maps(store, as_of=as_of)
    targets = {name: folder / f"{name}.html" for name in pages}
    site = feed_base_url(base_url) if base_url is not None else None
    feeds = feed_files(folder, [n for n in pages if n != OVERVIEW_PAGE]) if site else {}
    for target in [*targets.values(), *feeds.values()]:  # all refused before any is written
        check_target(target, force=force, reads=[store])
    written = []
    for name, fmap in pages.items():
        html = fmap.get_root().render()
        data = (inline_assets(html) if self_contained else html).encode("utf-8")
        with written_beside(targets[name], force=force, reads=[store]) as building:
            building.write_bytes(data)
        path = str(targets[name])
        if output_format == "json":
            page = None if name == OVERVIEW_PAGE else name
            written.append({"path": path, "crossing_id": page, "bytes": len(data)})
        else:
            emit_written(path, path)
    for (crossing, _), feed in (
        write_feeds(store, folder, site, force=force) if site else {}
    ).items():
        if output_format == "json":
            written.append(
                {"path": str(feed), "crossing_id": crossing, "bytes": feed.stat().st_size}
            )
        else:
            emit_written(str(feed), str(feed))
    if output_format == "json":
        text = json.dumps(written, ensure_ascii=False, indent=2)
        emit_written(text, f"the {len(written)} pages in {folder}")


@click.command("figure")
@store_option
@as_of_option
@click.option("--crossing", "crossing_id", metavar="ID", help="Only this crossing, 15 km around.")
@click.option(
    "--lang",
    type=click.Choice(("en", "zh", "ko")),
    default="en",
    show_default=True,
    help="Script of the labels: English, Chinese or Korean names.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False),
    help="The file: .png, .svg or .pdf (the format follows the suffix).",
)
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
@answer_format_option
def figure_command(
    store: str,
    as_of: date | None,
    crossing_id: str | None,
    lang: str,
    out: str,
    force: bool,
    output_format: str,
) -> None:
    """Write a static map to publish: the crossings coloured by status on a day.

    The border and the land come from the shipped OpenStreetMap layer, so no
    network is needed. The figure has a title with the day, a legend, a scale
    bar, a north arrow and a line naming its sources. SVG and PDF keep text as
    text. Prints the path written (--format json: an object with its path,
    bytes, as_of, crossing as given to --crossing, lang and format).

    \b
    Example:
      crossings figure --as-of 2021-06-01 --out border-2021.png
      crossings figure --crossing quanhe-wonjong --lang zh --out quanhe.svg
    """
    day = today_or(as_of)
    written = write_figure(store, out, as_of=day, crossing_id=crossing_id, lang=lang, force=force)
    if output_format == "json":
        answer = {
            "path": str(written),
            "bytes": written.stat().st_size,
            "as_of": day.isoformat(),
            "crossing": crossing_id,
            "lang": lang,
            "format": written.suffix.lower().removeprefix("."),
        }
        emit_written(json.dumps(answer, ensure_ascii=False, indent=2), str(written))
    else:
        emit_written(str(written), str(written))


@click.command("report")
@click.argument("crossing_id", metavar="ID")
@store_option
@as_of_option
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False),
    help="The PDF file to write.",
)
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
@answer_format_option
def report_command(
    crossing_id: str, store: str, as_of: date | None, out: str, force: bool, output_format: str
) -> None:
    """Write a printable PDF report of one crossing, offline, with its fonts embedded.

    ID is the crossing's id or any of its names, as for `crossings show`. The
    report holds the crossing's names in English, Chinese and Korean, its
    point and how precise it is (or why it has none), its status on --as-of
    (default today) and today, each with its evidence record (id, date,
    source, address, age) and the source's words, its structures and their
    lifecycles, a small map, and its whole history, every record with its
    source and quote, on as many pages as it needs. One line on stderr says
    what was written (--format json: an object on stdout instead, with its
    path, bytes, crossing_id, as_of and pages).

    \b
    Example:
      crossings report friendship-bridge --out friendship-bridge.pdf
      crossings report 圈河 --as-of 2021-06-01 --out quanhe-2021.pdf
    """
    written = write_report(store, out, crossing_id, as_of=as_of, force=force)
    if output_format == "json":
        answer = {
            "path": str(written.path),
            "bytes": written.path.stat().st_size,
            "crossing_id": written.crossing_id,
            "as_of": written.as_of.isoformat(),
            "pages": written.pages,
        }
        emit_written(json.dumps(answer, ensure_ascii=False, indent=2), str(written.path))
        return
    emit(
        f"{written.path}: the report of {written.crossing_id} on {written.as_of}, "
        f"{written.pages} pages",
        err=True,
    )


COMMANDS = [map_command, figure_command, report_command]
