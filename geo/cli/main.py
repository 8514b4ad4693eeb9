"""The ``crossings`` command group: options common to every command, and error handling."""

from __future__ import annotations

import importlib
import os
import sqlite3
import sys
from typing import Any

import click

from geo import __version__
from geo.cli.options import complete_crossings, completes_crossings, verbosity_options
from geo.cli.output import bounded, terminal_safe
from geo.errors import GeoError
from geo.outputs import file_fault
from geo.store import store_fault
from geo.store.postgis import database_fault

__all__ = ["cli"]

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


#: Each command, by the module of geo.cli that declares it (in its COMMANDS). A command's module
#: is imported when the command runs: a question does not load the maps' and the server's code.
COMMAND_MODULES = {
    **dict.fromkeys(["init", "validate", "merge", "copy"], "build"),
    **dict.fromkeys(["list", "show", "structures", "trade"], "browse"),
    **dict.fromkeys(["observe", "import", "export"], "record"),
    **dict.fromkeys(
        ["near", "around", "nearest", "within", "status", "changes", "distance"], "ask"
    ),
    "audit": "review",
    **dict.fromkeys(["map", "figure", "report"], "maps"),
    "users": "users",
    "serve": "serve",
}


class _Group(click.Group):
    """A group that turns library errors into one line on stderr and exit status 1.

    Each command it is given takes ``-v``/``-q`` as the group does (before or
    after the command's name), and completes a crossing's id in the shell
    wherever it takes one. Commands are loaded by name, when asked for
    (:data:`COMMAND_MODULES`); ``commands`` loads them all.
    """

    @property  # type: ignore[override]
    def commands(self) -> dict[str, click.Command]:
        for module in dict.fromkeys(COMMAND_MODULES.values()):
            self._load(module)
        return self._commands

    @commands.setter
    def commands(self, value: dict[str, click.Command]) -> None:
        self._commands = dict(value)
        self._loaded: set[str] = set()

    def _load(self, module: str) -> None:
        if module not in self._loaded:
            self._loaded.add(module)
            for command in importlib.import_module(f"geo.cli.{module}").COMMANDS:
                self.add_command(command)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMAND_MODULES:
            self._load(COMMAND_MODULES[cmd_name])
        return self._commands.get(cmd_name)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """Add a command, with the options every command takes and crossing ids to complete."""
        cmd.params.extend(verbosity_options())
        for param in cmd.params:
            if completes_crossings(param):
                # click's hook for a parameter's own completion (``shell_complete=``).
                param._custom_shell_complete = complete_crossings
        self._commands[name or cmd.name or ""] = cmd

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GeoError as err:
            raise click.ClickException(terminal_safe(bounded(str(err)))) from err
        except sqlite3.Error as err:  # a fault of the file or the disk, named for what it is
            path = ctx.meta.get("store", "the store")
            raise click.ClickException(terminal_safe(bounded(str(store_fault(err, path))))) from err
        except BrokenPipeError:  # the reader stopped reading (`| head`): not a fault
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)
        except OSError as err:  # a file the command reads or writes: full disk, permissions
            raise click.ClickException(terminal_safe(bounded(str(file_fault(err))))) from err
        except Exception as err:
            if not type(err).__module__.startswith("psycopg"):
                raise
            # A database fault the store did not meet first (while streaming rows, say).

            url = str(ctx.meta.get("store", "the database"))
            raise click.ClickException(
                terminal_safe(bounded(str(database_fault(err, url))))
            ) from err


@click.group(cls=_Group, context_settings=CONTEXT_SETTINGS, params=verbosity_options())
@click.version_option(__version__, prog_name="crossings")
def cli() -> None:
    """Keep and query the inventory of China–DPRK border crossings.

    The inventory is a GeoPackage of crossings and their dated, sourced
    observations: layers/crossings.gpkg of this repository, or, installed
    elsewhere, ~/.local/share/crossings/crossings.gpkg ($XDG_DATA_HOME), unless
    --store or CROSSINGS_STORE names another: a file, or a PostGIS database
    (postgresql://USER@HOST:PORT/DATABASE) that a team shares. Tables fit the terminal; use
    --format wide for long lines, json|csv|geojson for scripts.

    \b
    Start with:
      crossings init                 build the store from the seed
      crossings list                 every crossing and its status today
      crossings show quanhe-wonjong  one crossing and its history

    -v and -q may come before or after the command. With this line in
    ~/.bashrc, the shell completes commands, options and crossing ids (zsh
    and fish: docs/completion.md):

    \b
      eval "$(_CROSSINGS_COMPLETE=bash_source crossings)"
    """
