"""Options shared by several commands, each declared once."""

from __future__ import annotations

import contextlib
import inspect
import io
import logging
import os
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.shell_completion import CompletionItem

from geo.errors import RecordValidationError
from geo.fields import fold, parse_fuzzy_date
from geo.inventory import DEFAULT_STORE
from geo.model import CROSSING_KINDS, MODES, RIVERS, STATUSES
from geo.schema import CARRIED_FIELDS
from geo.store import open_store

if TYPE_CHECKING:
    from geo.model import Crossing

__all__ = [
    "STATUS_CHOICES",
    "STATUS_RULE",
    "answer_format_option",
    "as_of_option",
    "carried_options",
    "complete_crossings",
    "completes_crossings",
    "crossing_filters",
    "format_option",
    "keeps",
    "parse_day",
    "store_option",
    "text_matches",
    "verbosity_options",
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


def _remember_bom(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    # Read where the CSV is written (geo.cli.output.echo_records), whatever the command.
    ctx.find_root().meta["csv_bom"] = value
    return value


def format_option(function: F) -> F:
    """``--format``: a readable table, or JSON / CSV / GeoJSON for scripts; and ``--bom``."""
    function = click.option(
        "--bom",
        is_flag=True,
        expose_value=False,
        callback=_remember_bom,
        help="With --format csv: start with a UTF-8 byte-order mark, so that Excel reads "
        "Chinese and Korean text right.",
    )(function)
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="Output format: a table that fits the terminal, a wide one (long lines, URLs "
        "whole), or JSON / CSV / GeoJSON for scripts.",
    )(function)


def answer_format_option(function: F) -> F:
    """``--format text|json``: what a command that checks or writes says, for a reader or a script.

    ``json`` prints one JSON document on stdout in place of the lines for a reader.
    """
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(("text", "json")),
        default="text",
        show_default=True,
        help="What is printed: lines for a reader, or one JSON document for scripts.",
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


# --- options of every command -------------------------------------------------------------------


def _count_verbosity(ctx: click.Context, param: click.Parameter, value: int) -> int:
    """Add a count of -v or -q, given before or after the command, and set the log level."""
    if ctx.resilient_parsing:  # completing a word in the shell: nothing runs
        return value
    counts = ctx.find_root().meta.setdefault("crossings.verbosity", {})
    counts[ctx.command_path, param.name] = value
    verbosity = sum(n if name == "verbose" else -n for (_, name), n in counts.items())
    logging.basicConfig(format="%(levelname)s: %(message)s")
    level = logging.WARNING - 10 * verbosity
    logging.getLogger().setLevel(max(logging.DEBUG, min(level, logging.CRITICAL)))
    return value


def verbosity_options() -> list[click.Option]:
    """Return ``-v/--verbose`` and ``-q/--quiet``, for the group and each of its commands.

    Given before or after the command, they mean the same and add up:
    ``crossings -v status -v`` logs as ``-vv``.
    """
    return [
        click.Option(
            ["-v", "--verbose"],
            count=True,
            expose_value=False,
            callback=_count_verbosity,
            help="More log messages on stderr (repeatable).",
        ),
        click.Option(
            ["-q", "--quiet"],
            count=True,
            expose_value=False,
            callback=_count_verbosity,
            help="Fewer log messages on stderr.",
        ),
    ]


# --- shell completion ---------------------------------------------------------------------------

#: How a parameter that takes crossings is shown: ``ID``, ``[ID]``, ``ID1``, ``ID[,ID]|all``.
_ONE_CROSSING = re.compile(r"\[?ID\d?\]?")
_CROSSING_LIST = "ID[,ID]|all"


def completes_crossings(param: click.Parameter) -> bool:
    """Say whether a parameter takes crossings: its value is shown as ``ID`` (or a list of them)."""
    metavar = getattr(param, "metavar", None) or ""
    return metavar == _CROSSING_LIST or _ONE_CROSSING.fullmatch(metavar) is not None


@contextlib.contextmanager
def _silenced() -> Iterator[None]:
    """Say nothing while the shell waits for words: no log line, warning or message."""
    logging.disable(logging.CRITICAL)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(logging.NOTSET)


def _crossing_items(crossings: Iterable[Crossing], typed: str) -> list[CompletionItem]:
    """Return the ids that start with what was typed, then those with a word of a name that does.

    Names are folded as the commands fold them (no case, no accents): ``hunchun``
    finds quanhe-wonjong, ``圈`` finds 圈河口岸.
    """
    wanted = fold(typed)
    by_id, by_name = [], []
    for crossing in crossings:
        item = CompletionItem(crossing.id, help=crossing.name_en)
        words = (w for name in crossing.names for w in re.split(r"[\W_]+", fold(name)) if w)
        if crossing.id.startswith(wanted):
            by_id.append(item)
        elif wanted and any(word.startswith(wanted) for word in words):
            by_name.append(item)
    return by_id + by_name


def complete_crossings(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Return the crossings of the store (``--store``, CROSSINGS_STORE or the default) to complete.

    An id, or a name in any script, completes to the crossing's id. Nothing is
    ever printed: a store that cannot be read completes to nothing.
    """
    store = ctx.params.get("store")
    if not isinstance(store, str):
        store = os.environ.get("CROSSINGS_STORE") or str(DEFAULT_STORE)
    listed = getattr(param, "metavar", None) == _CROSSING_LIST
    head, typed = "", incomplete
    if listed:  # ID[,ID]: complete the last id of the list
        head, comma, typed = incomplete.rpartition(",")
        head += comma
    try:
        with _silenced(), open_store(store) as opened:
            crossings = list(opened.crossings().values())
    except Exception:  # whatever the store's fault, the shell gets no words, and no message
        return []
    items = [
        CompletionItem(head + item.value, help=item.help)
        for item in _crossing_items(crossings, typed)
    ]
    if listed and not head and "all".startswith(typed):
        items.append(CompletionItem("all", help="every crossing"))
    return items
