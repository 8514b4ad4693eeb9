"""``crossings users``: the accounts of ``crossings serve`` (add, list, disable)."""

from __future__ import annotations

import importlib
import json
from types import ModuleType

import click

from geo.cli.options import format_option, store_option
from geo.cli.output import echo_records, emit, emit_written
from geo.inventory import recorder
from geo.store import open_store, store_name

__all__ = ["COMMANDS", "web_extra"]

#: What to install when the web application's libraries are missing.
WEB_EXTRA_FIX = "Fix: pip install 'crossings[web]'"


def web_extra(module: str) -> ModuleType:
    """Import a module that needs the ``web`` extra, or say in one line how to install it.

    The accounts and the web application use libraries (Starlette, uvicorn,
    argon2-cffi, ...) that a plain install leaves out: they are imported when a
    command needs them, so that every other command starts without them.
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        missing = err.name or "a library of the web extra"
        raise click.ClickException(
            f"crossings serve and crossings users need the web extra ({missing} is not "
            f"installed). {WEB_EXTRA_FIX}"
        ) from err


def _console() -> str:
    """Return how the log names whoever manages accounts from the command line."""
    return f"console:{recorder() or 'unknown'}"


@click.group("users")
def users_group() -> None:
    """Manage the accounts of `crossings serve`: add, list, disable.

    Roles, each allowed what the ones before it are: reader (reads the live
    maps, the proposals and the activity log, where --readers-need-login
    asks for an account), contributor (proposes records from the form),
    reviewer (accepts or rejects proposals with a reason), admin (manages
    accounts). Passwords are asked twice and never shown; they are kept as
    Argon2 hashes in the store, whose tables the accounts share with every
    server process. Each change is written to the activity log.

    \b
    Example:
      crossings users add jkim --role contributor
      crossings users list
      crossings users disable jkim
    """


@users_group.command("add")
@click.argument("name")
@click.option(
    "--role",
    required=True,
    type=click.Choice(("reader", "contributor", "reviewer", "admin")),
    help="What the account may do.",
)
@store_option
def add_command(name: str, role: str, store: str) -> None:
    """Add the account NAME with a role; its password is asked twice, hidden."""
    team = web_extra("geo.team")
    password = click.prompt(
        f"Password for {name}", hide_input=True, confirmation_prompt=True, err=True
    )
    with open_store(store, writable=True) as opened:
        user = team.add_user(opened, name, role, password, actor=_console())
    text = json.dumps({"name": user.name, "role": user.role})
    emit_written(text, f"account {user.name} ({user.role}) in {store_name(store)}")


@users_group.command("list")
@store_option
@format_option
def list_command(store: str, output_format: str) -> None:
    """List the accounts: name, role, whether disabled, who added each and when."""
    team = web_extra("geo.team")
    with open_store(store) as opened:
        users = team.list_users(opened)
    rows = [
        {
            "name": u.name,
            "role": u.role,
            "disabled": u.disabled,
            "created_at": u.created_at,
            "created_by": u.created_by,
        }
        for u in users
    ]
    if output_format in ("json", "geojson"):
        emit(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    echo_records(rows, output_format, columns=["name", "role", "disabled", "created_at"])


@users_group.command("disable")
@click.argument("name")
@store_option
def disable_command(name: str, store: str) -> None:
    """Disable the account NAME: it cannot sign in, and its open sessions end at once."""
    team = web_extra("geo.team")
    with open_store(store, writable=True) as opened:
        user = team.disable_user(opened, name, actor=_console())
    emit_written(json.dumps({"name": user.name, "disabled": True}), f"account {user.name} disabled")


COMMANDS = [users_group]
