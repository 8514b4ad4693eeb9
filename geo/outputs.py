"""Files the commands write (maps, exports): checked first, built beside, renamed into place.

A reader of the old file sees it whole until the new one is complete; a failure
midway (a full disk, a crash) leaves the old file as it was and no partial new
one. A path that is a symbolic link is refused, so a write never lands on a
file elsewhere; an existing file is replaced only when the user says so; the
store a command reads, and SQLite's files beside it, are never written over.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from geo.errors import GeoError, RecordValidationError
from geo.fields import is_slug
from geo.leftovers import building_prefix, sweep_leftovers
from geo.model import OVERVIEW_PAGE
from geo.store import is_database

__all__ = [
    "OutputError",
    "check_target",
    "file_fault",
    "is_store_file",
    "page_name",
    "same_file",
    "written_beside",
]

#: What SQLite keeps beside a database file: its rollback journal, its write-ahead log and
#: the log's shared memory. A file written under one of these names would be read as part of
#: the store the next time it opens.
SQLITE_COMPANIONS = ("-journal", "-wal", "-shm")


class OutputError(GeoError, OSError):
    """A file could not be written; the message names the file, the fault and the fix."""


def same_file(path: str | Path, other: str | Path) -> bool:
    """Whether two paths name one file: by their real paths, or as hard links of one file.

    Either may not exist yet; a path that is not there is only its real path.
    """
    if Path(os.path.realpath(path)) == Path(os.path.realpath(other)):
        return True
    try:
        return os.path.samefile(path, other)
    except OSError:  # one of them does not exist (or cannot be read): not one file
        return False


def is_store_file(path: str | Path, store: str | Path) -> bool:
    """Whether writing ``path`` would write over the GeoPackage ``store`` or SQLite's files by it.

    The store may be reached by another name: a relative path, a folder that is
    a link, a hard link. A database URL has no files, so nothing is one of them.

    Examples
    --------
    >>> is_store_file("layers/crossings.gpkg-wal", "layers/../layers/crossings.gpkg")
    True
    >>> is_store_file("layers/crossings.gpkg", "postgresql://desk@localhost/crossings")
    False
    """
    if is_database(store) or is_database(path):
        return False
    real = Path(os.path.realpath(store))
    files = [real, *(real.with_name(real.name + suffix) for suffix in SQLITE_COMPANIONS)]
    return any(same_file(path, file) for file in files)


def check_target(
    path: Path, *, force: bool, field: str = "--out", reads: Iterable[str | Path] = ()
) -> None:
    """Refuse a path a command must not write to.

    That is the store the command reads (``reads``) or a file of SQLite's beside
    it, with or without force; a link; a folder; or a file kept without force.

    Raises
    ------
    RecordValidationError
        Naming the path and the fix.
    """
    for store in reads:
        if is_store_file(path, store):
            raise RecordValidationError(
                field,
                str(path),
                f"is the store this command reads ({store}) or one of SQLite's files beside "
                "it; writing it would destroy the store",
                "a path outside the store",
                "write to another path; to copy the whole store, use `crossings copy`",
            )
    if path.is_symlink():  # also a link to nowhere: writing would create its target
        raise RecordValidationError(
            field,
            str(path),
            "is a symbolic link",
            "the path of a plain file",
            "remove the link, or write to another path",
        )
    if path.is_dir():
        raise RecordValidationError(
            field, str(path), "is a folder", "the path of a file", "give a file name"
        )
    if path.exists() and not path.is_file():  # a device, a named pipe, a socket
        raise RecordValidationError(
            field,
            str(path),
            "is not a plain file (a device, a named pipe or a socket)",
            "the path of a plain file; --force replaces only plain files",
            "write to a file, then copy it where it should go",
        )
    if path.exists() and not force:
        raise RecordValidationError(
            field,
            str(path),
            "exists already",
            "a new file, or an existing one with --force",
            "choose another path, or pass --force to replace it",
        )


@contextmanager
def written_beside(
    path: Path, *, force: bool, field: str = "--out", reads: Iterable[str | Path] = ()
) -> Iterator[Path]:
    """Yield a fresh path beside ``path`` to write; on success it replaces ``path`` at once.

    The yielded path does not exist yet and has ``path``'s name, so writers
    that choose a format by the suffix, or refuse an existing file, work as on
    the target. On any error nothing is left behind and ``path`` is unchanged.
    ``path`` is checked as :func:`check_target` checks it.
    """
    check_target(path, force=force, field=field, reads=reads)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        sweep_leftovers(path)
        folder = Path(tempfile.mkdtemp(prefix=building_prefix(path), dir=path.parent))
    except OSError as err:
        raise OSError(err.errno, err.strerror, str(path)) from err
    try:
        building = folder / path.name
        yield building
        os.replace(building, path)
    except OSError as err:
        if str(folder) in str(err.filename):  # name the file the user asked for
            raise OSError(err.errno, err.strerror, str(path)) from err
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def page_name(identifier: str, what: str = "crossing id") -> str:
    """Return the file name of a page for an id, refusing one that could leave the folder.

    Ids are slugs on every way into a store; a store written by other tools may
    still hold another, so the check is made again where the id becomes a path.
    """
    if not is_slug(identifier) or identifier == OVERVIEW_PAGE:
        raise RecordValidationError(
            what,
            identifier,
            "cannot name a page: it is not a slug, or it is the overview's name",
            f"lower-case letters, digits and single hyphens, other than {OVERVIEW_PAGE!r}",
            "correct the id in the store; `crossings validate` lists every such id",
        )
    return f"{identifier}.html"


def file_fault(err: OSError) -> OutputError:
    """Return the error that names a fault of a file the command reads or writes."""
    where = err.filename or "a file"
    if err.errno == errno.ENOSPC:
        problem = "the disk is full; nothing was replaced. Fix: free some space and run it again"
    elif err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        problem = (
            "cannot be written: the file or its folder is read-only; nothing was replaced. "
            "Fix: check the permissions, or write to another folder"
        )
    else:
        problem = f"{err.strerror or err}. Fix: check the path and the disk, then run it again"
    return OutputError(f"{where}: {problem}")
