"""A throwaway PostgreSQL + PostGIS server for the tests and benchmarks.

A new cluster in a temporary folder, listening on a free loopback port only,
with trust authentication for its one user; stopped and removed at the end.
The server is Debian's (postgresql-15 and postgresql-15-postgis-3), run as the
``postgres`` system user when the tests run as root, as PostgreSQL requires.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count
from pathlib import Path

USER = "crossings"
TEMPLATE = "crossings_template"
#: A user who must give a password (every other user is trusted): the tests of secrets log in
#: as this user, so a password that reaches the server wrongly is refused.
KEEPER = "keeper"


def _bin_dir() -> Path:
    """The newest installed server that has PostGIS."""
    for bin_dir in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        version = bin_dir.parent.name
        if Path(f"/usr/share/postgresql/{version}/extension/postgis.control").is_file():
            return bin_dir
    raise RuntimeError(
        "no PostgreSQL server with PostGIS is installed: `make test` installs "
        "postgresql-15-postgis-3 from Debian"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Cluster:
    """A running server: the URL of a new empty database for each call of :meth:`database`."""

    port: int
    bin_dir: Path
    _numbers: Iterator[int]

    folder: Path

    def url(self, database: str) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def log(self) -> str:
        """What the server has written to its log."""
        return (self.folder / "server.log").read_text(encoding="utf-8", errors="replace")

    def sql(self, statement: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as connection:
            connection.execute(statement)  # type: ignore[arg-type]

    def database(self, *, template: str = TEMPLATE) -> str:
        """Create a new database, a copy of ``template`` (by default empty, with PostGIS)."""
        name = f"store_{next(self._numbers)}"
        self.sql(f"CREATE DATABASE {name} TEMPLATE {template}")
        return self.url(name)


def _run(command: list[str], *, as_user: str | None) -> None:
    result = subprocess.run(
        command, user=as_user, capture_output=True, text=True, check=False, timeout=120
    )
    if result.returncode:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stdout}{result.stderr}")


@contextmanager
def cluster() -> Iterator[Cluster]:
    """Start a throwaway server; stop it and remove its files on leaving."""
    bin_dir = _bin_dir()
    as_user = "postgres" if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="crossings-pg-"))
    try:
        if as_user:
            entry = pwd.getpwnam(as_user)
            os.chown(folder, entry.pw_uid, entry.pw_gid)
        data = folder / "data"
        _run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", USER, "--auth=trust",
             "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            as_user=as_user,
        )  # fmt: skip
        hba = data / "pg_hba.conf"
        hba.write_text(
            f"host all {KEEPER} 127.0.0.1/32 scram-sha-256\n" + hba.read_text(encoding="utf-8"),
            encoding="utf-8",
        )
        port = _free_port()
        options = (
            f"-p {port} -c listen_addresses=127.0.0.1 -k {folder} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=40"
        )
        _run(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"),
             "-o", options, "-w", "-t", "60", "start"],
            as_user=as_user,
        )  # fmt: skip
        try:
            server = Cluster(port, bin_dir, count(1), folder)
            server.sql(f"CREATE DATABASE {TEMPLATE}")
            server.sql("CREATE EXTENSION postgis", TEMPLATE)
            yield server
        finally:
            _run(
                [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                as_user=as_user,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
