"""``crossings init``, ``validate``, ``merge`` and ``copy``: build, check and fill stores."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from geo.build import copy_store, init_inventory, inventory_problems, merge_inventory
from geo.cli.options import answer_format_option, store_option
from geo.cli.output import emit, emit_written
from geo.inventory import DEFAULT_SEED
from geo.store import store_name

__all__ = ["COMMANDS"]


@click.command("init")
@store_option
@click.option(
    "--seed",
    type=click.Path(file_okay=False, exists=True),
    default=str(DEFAULT_SEED),
    show_default=True,
    help="Folder of the seed CSV files.",
)
@click.option(
    "--force", is_flag=True, help="Replace an existing store (its added records are lost)."
)
def init_command(store: str, seed: str, force: bool) -> None:
    """Build the store from the seed files.

    Every seed row is checked first; nothing is written if one is bad. An
    existing store is kept unless --force is given.

    \b
    Example:
      crossings init
      crossings init --store test.gpkg --force
    """
    counts = init_inventory(store, seed=seed, force=force)
    emit_written(json.dumps({"store": store_name(store), **counts}), store_name(store))


@click.command("validate")
@store_option
@answer_format_option
def validate_command(store: str, output_format: str) -> None:
    """Check a whole store: file, spatial index, references, dates, sources.

    Prints each problem; exits with status 1 if there is any. --format json
    prints them as one list instead, each problem an object: its message (the
    line), problem, layer, record_id, field, value, allowed and fix, the parts
    a problem lacks null; an empty list when the store is sound.

    \b
    Example:
      crossings validate --store layers/crossings.gpkg
      crossings validate --format json | jq -r '.[].record_id'
    """
    problems = inventory_problems(store)
    if output_format == "json":
        rows = [asdict(problem) for problem in problems]
        emit(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
    else:
        for problem in problems:
            emit(str(problem))
    if problems:
        raise click.ClickException(f"{store_name(store)}: {len(problems)} problem(s)")
    emit(f"{store_name(store)}: ok", err=output_format == "json")


@click.command("merge")
@click.argument("source", metavar="SOURCE")
@store_option
def merge_command(source: str, store: str) -> None:
    """Add what SOURCE (a seed folder, a GeoPackage or a database URL) has and the store lacks.

    All or nothing: every row of SOURCE is checked first. Records the store
    has are kept as stored, even where SOURCE differs (they are listed, never
    overwritten: a wrong record is corrected by a new one that replaces it). A
    second run adds nothing. An older store is migrated first, in one
    transaction, its records and ids unchanged.

    \b
    Example:
      crossings merge layers/seed
      crossings merge colleague.gpkg --store layers/crossings.gpkg
      crossings merge colleague.gpkg --store postgresql://desk@db.example.org/crossings
    """
    report = merge_inventory(store, source)
    emit_written(
        json.dumps(
            {"store": store_name(store), "source": store_name(source), **asdict(report)},
            indent=2,
        ),
        f"what {store_name(source)} adds, in {store_name(store)}",
    )


@click.command("copy")
@click.argument("source", metavar="SRC")
@click.argument("target", metavar="DST")
@click.option("--force", is_flag=True, help="Replace a store that DST holds already.")
def copy_command(source: str, target: str, force: bool) -> None:
    """Copy the whole store SRC into a new store DST, losing nothing.

    Each is a GeoPackage path or a database URL (postgresql://USER@HOST:PORT/DB),
    so this moves a store into PostGIS for a team, or takes a copy out of it.
    Ids, dates with their precision, sources, points, corrections, structures
    and trade figures are copied as stored; each record is checked on the
    way. DST is written all or nothing. To add to a store that exists, use
    `crossings merge`.

    \b
    Example:
      crossings copy layers/crossings.gpkg postgresql://desk@db.example.org/crossings
      crossings copy postgresql://desk@db.example.org/crossings backup.gpkg --force
    """
    counts = copy_store(source, target, force=force)
    emit_written(
        json.dumps({"source": store_name(source), "target": store_name(target), **counts}),
        f"the copy of {store_name(source)} in {store_name(target)}",
    )


COMMANDS = [init_command, validate_command, merge_command, copy_command]
