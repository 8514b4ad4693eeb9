"""``crossings serve``: the live maps, the record form, review and the activity log."""

from __future__ import annotations

from pathlib import Path

import click

from geo.cli.options import store_option
from geo.cli.output import emit
from geo.cli.users import web_extra
from geo.store import store_name

__all__ = ["COMMANDS"]


@click.command("serve")
@store_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. The default takes only this machine's own requests: put a "
    "reverse proxy with TLS in front before you listen on another (docs/web.md).",
)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--readers-need-login",
    is_flag=True,
    help="Ask for an account to read anything (by default anyone who can reach the server "
    "reads the maps and the log; only proposing and reviewing need one).",
)
@click.option(
    "--secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file of the key that signs session cookies (made with mode 0600 if absent). "
    "Default: CROSSINGS_SECRET, else a file beside a GeoPackage store "
    "(STORE.web-secret). A PostGIS store needs one of the two, shared by every server "
    "process.",
)
@click.option(
    "--base-url",
    metavar="URL",
    help="The address readers reach the server at, behind a proxy "
    "(https://desk.example.org/crossings/): the feeds' links use it, whatever a request's "
    "Host header says. Default: the address each request was made to.",
)
def serve_command(
    store: str,
    host: str,
    port: int,
    readers_need_login: bool,
    secret_file: Path | None,
    base_url: str | None,
) -> None:
    """Serve the store in a browser: live maps, a record form, review and the activity log.

    The overview and each crossing's page are the maps of `crossings map`,
    drawn from the store as it is at each request: a record accepted shows at
    the next load. A contributor proposes a record with the fields and the
    checks of `crossings observe`; a reviewer accepts it (it joins the records
    and may change a status) or rejects it with a reason. Accounts: `crossings
    users`. Several processes may serve one PostGIS store (give each the same
    secret). The first run adds the team's tables to the store, and triggers
    that count rows other programs change in place (layers/README.md). Stop it
    with Ctrl-C.

    \b
    Example:
      crossings users add editor --role reviewer
      crossings serve
      crossings serve --store postgresql://desk@db/crossings --secret-file /etc/crossings/secret
    """
    app = web_extra("geo.web.app")
    settings = app.Settings.load(
        store,
        secret_file=secret_file,
        readers_need_login=readers_need_login,
        base_url=base_url,
        draw_apart=True,
    )
    emit(f"serving {store_name(store)} on http://{host}:{port}/ (Ctrl-C stops it)", err=True)
    app.run(settings, host=host, port=port)


COMMANDS = [serve_command]
