"""The GeoPackage store: the only module that opens the file.

Layers are created by GDAL (through fiona, which writes typed DATE, DATETIME
and BOOLEAN columns), so the file is a real OGC GeoPackage with R-tree spatial
indexes. Records are written with SQLite directly: one INSERT per record inside
one transaction, so adding a record never rewrites a layer. GDAL's R-tree
triggers call ``ST_IsEmpty``/``ST_MinX``/...; this module registers those
functions on its own connections, as GDAL and QGIS do on theirs.
"""

from __future__ import annotations

import logging
import math
import os
import sqlite3
import stat
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import date, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from geo.errors import (
    DamagedStoreError,
    NotAStoreError,
    SchemaVersionError,
    StoreExistsError,
    StoreFaultError,
)
from geo.leftovers import building_prefix, sweep_leftovers
from geo.model import (
    BBox,
    Crossing,
    LonLat,
    Observation,
    Sighting,
    Structure,
    TradeFigure,
)
from geo.query import Ellipse, dwithin_boxes, dwithin_ellipse
from geo.status import can_change_status
from geo.store import rtree, schema, tally
from geo.store.base import Store, WrittenIds
from geo.store.blob import (
    blob_arrays,
    blob_point,
    blob_points,
    point_blob,
    st_coordinate,
    st_is_empty,
)
from geo.store.described import describe_fields
from geo.store.migrations import (
    GEOPACKAGE_STEPS,
    MIGRATING,
    create_indexes,
    create_indexes_3,
    insert_default_styles,
)
from geo.store.periods import FIRST_VERSION as PERIODS_VERSION
from geo.store.schema import SCHEMA_VERSION
from geo.store.source import IN_FORCE, IndexBoxes, question_filters

__all__ = [
    "BUSY_TIMEOUT_S",
    "CHECKED_BEFORE_WRITES_BYTES",
    "SCHEMA_VERSION",
    "GeoPackageStore",
    "IndexBoxes",
    "change_counter",
    "create_store",
    "is_geopackage",
    "open_store",
    "store_fault",
]

_log = logging.getLogger(__name__)

_APPLICATION = "crossings"
_GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"


def _types(layer: schema.Layer, *, since: int | None = None) -> dict[str, str]:
    """Return the layer's fields and types (only those added in version ``since``, if given)."""
    return {f.name: f.type for f in layer.fields if since is None or f.since == since}


_CROSSING_FIELDS = _types(schema.CROSSINGS, since=1)
_OBSERVATION_FIELDS = _types(schema.OBSERVATIONS)
# Schema version 3: what a record says beyond its date and status (see geo.model.Observation).
_OBSERVATION_FIELDS_3 = _types(schema.OBSERVATIONS, since=3)
_SELECTED = ", ".join(_OBSERVATION_FIELDS)
_STRUCTURE_FIELDS = _types(schema.STRUCTURES)
_TRADE_FIELDS = _types(schema.TRADE)
_PERIOD_FIELDS = _types(schema.STATUS_PERIODS)


#: How far (degrees) the spatial index's boxes may reach past a point: it rounds outwards.
_INDEX_SLACK = 1e-4


#: Stores up to this size are checked whole (SQLite's quick check) before every write:
#: about 40 ms here at this size, against about 1 s for a store of a million records.
CHECKED_BEFORE_WRITES_BYTES = 16 * 1024 * 1024

#: How long a command waits for another process that is writing to the store.
BUSY_TIMEOUT_S = 30.0

# What SQLite says, and what it means for the person at the keyboard.
_FAULTS = (
    (
        ("locked", "busy"),
        (
            "another process has been writing to the store for more than {timeout:g} s; nothing "
            "was changed and the records are intact. Fix: wait for it to finish, then run the "
            "command again"
        ),
    ),
    (
        ("readonly", "read-only"),
        (
            "the store cannot be written: the file or its folder is read-only ({err}); nothing "
            "was changed. Fix: check the permissions, or work on a copy in a writable folder"
        ),
    ),
    (
        ("disk is full", "database or disk is full"),
        (
            "the disk is full ({err}); the write was undone and nothing was changed. Fix: free "
            "some space, then run the command again"
        ),
    ),
    (
        ("malformed", "corrupt"),
        (
            "the store is damaged: the integrity check fails ({err}). This command changed "
            "nothing. Fix: do not write to it; restore it from a copy (`crossings validate "
            "--store PATH` lists what is damaged)"
        ),
    ),
    (
        ("disk i/o error", "unable to open"),
        (
            "the store could not be read or written ({err}); nothing was changed. Fix: check "
            "that the disk and the file are there, then run the command again"
        ),
    ),
)


_INTERRUPTED = (
    "holds a write that was interrupted (a crash, or a process killed midway), which only a "
    "writable open can undo; the records as they were before that write are intact. Fix: make "
    "the file and its folder writable and run any command, which undoes it; or copy the store "
    "together with its -journal file to a writable folder and use the copy"
)


def store_fault(err: sqlite3.Error, path: Path | str = "the store") -> StoreFaultError:
    """Return the error that names a fault SQLite reported, what it means and the fix."""
    text = str(err)
    if getattr(err, "sqlite_errorname", "") in (
        "SQLITE_READONLY_ROLLBACK",
        "SQLITE_READONLY_RECOVERY",
    ):
        return StoreFaultError(f"{path}: {_INTERRUPTED}")
    for needles, message in _FAULTS:
        if any(needle in text.lower() for needle in needles):
            kind = DamagedStoreError if "malformed" in needles else StoreFaultError
            return kind(f"{path}: " + message.format(err=text, timeout=BUSY_TIMEOUT_S))
    return StoreFaultError(f"{path}: SQLite reported an error ({text}); nothing was changed")


def _recover_interrupted_write(path: Path) -> None:
    """Undo a write that a crash left half done, which a read-only connection cannot.

    Called when SQLite finds a hot journal on a read-only open. Where the store
    can be written, a writable connection reads once: SQLite rolls the journal
    back. The rollback is logged only if the journal is gone while that read
    still holds its lock: a live writer's journal stays until it commits, and
    it cannot commit while the lock is held.
    """
    journal = path.with_name(path.name + "-journal")
    if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        return  # the read-only open then names the fault
    connection = sqlite3.connect(
        path.resolve().as_uri() + "?mode=rw", uri=True, timeout=0.1, isolation_level=None
    )
    try:
        connection.execute("BEGIN")
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        undone = not _has_content(journal)
        connection.execute("COMMIT")
    except sqlite3.OperationalError:
        return  # another process is writing: its journal is not left over
    finally:
        connection.close()
    if undone:
        _log.warning(
            "%s: a write that was interrupted (a crash, or a process killed midway) was undone; "
            "the store holds the records as they were before it",
            path,
        )


def _has_content(journal: Path) -> bool:
    try:
        return journal.stat().st_size > 0
    except FileNotFoundError:
        return False


#: SQLite's word for a read-only connection that found a hot journal it cannot roll back.
_READONLY_ROLLBACK = 776


def _connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    connection = _open(path, readonly=readonly)
    if readonly:
        try:  # the first read finds a write a crash left half done, if any
            connection.execute("PRAGMA schema_version").fetchone()
        except sqlite3.DatabaseError as err:
            # Any other fault (not a database, damaged, locked) is named by the checks that
            # follow, which meet it again.
            if getattr(err, "sqlite_errorcode", None) == _READONLY_ROLLBACK:
                connection.close()
                _recover_interrupted_write(path)
                connection = _open(path, readonly=readonly)
    return connection


def change_counter(descriptor: int) -> int | None:
    """Return the change counter of the file open as ``descriptor``.

    SQLite increments it as each write commits. Four bytes of the file's header,
    read without SQLite's locks: a process that keeps what it read of a store
    learns with one read that nothing changed. None where the counter says
    nothing: a file in write-ahead-log mode (QGIS sets it while it edits)
    commits into its log and leaves the header as it was.
    """
    try:
        header = os.pread(descriptor, 28, 0)
    except OSError:
        return None
    if len(header) < 28 or header[18] != 1 or header[19] != 1:  # not the rollback journal's
        return None
    return int.from_bytes(header[24:28], "big")


def _open(path: Path, *, readonly: bool) -> sqlite3.Connection:
    uri = path.resolve().as_uri() + ("?mode=ro" if readonly else "?mode=rw")
    try:
        # Used by one thread at a time, not always the one that opened it (a server's threads).
        connection = sqlite3.connect(
            uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as err:
        raise NotAStoreError(f"{path}: cannot be opened ({err})") from err
    for name, function in (
        ("ST_IsEmpty", st_is_empty),
        ("ST_MinX", st_coordinate(0)),
        ("ST_MaxX", st_coordinate(0)),
        ("ST_MinY", st_coordinate(1)),
        ("ST_MaxY", st_coordinate(1)),
    ):
        connection.create_function(name, 1, function, deterministic=True)
    return connection


# -- creating a store --------------------------------------------------------


def _create_layers(path: Path) -> None:
    """Create the empty layers and tables with GDAL (through fiona)."""
    import fiona

    for layer in schema.LAYERS:
        # fiona writes an attributes table (no geometry column) for "None".
        layout = {"geometry": "Point" if layer.point else "None", "properties": _types(layer)}
        crs = "EPSG:4326" if layer.point else None
        with fiona.open(path, "w", driver="GPKG", layer=layer.name, schema=layout, crs=crs):
            pass
    connection = _connect(path, readonly=False)
    try:
        connection.execute("BEGIN")  # one commit for what follows, not one a statement
        create_indexes(connection, 1)
        create_indexes_3(connection)
        create_indexes(connection, 6)
        for statement in tally.gpkg_statements():
            connection.execute(statement)
        connection.executemany(
            "INSERT INTO crossings_meta (key, value) VALUES (?, ?)",
            [("application", _APPLICATION), ("schema_version", str(SCHEMA_VERSION))],
        )
        insert_default_styles(connection)
        connection.executemany(
            "UPDATE gpkg_contents SET description = ? WHERE table_name = ?",
            [(layer.description, layer.name) for layer in schema.LAYERS],
        )
        describe_fields(connection)
        connection.execute("COMMIT")
    finally:
        connection.close()


def create_store(
    path: str | Path,
    crossings: Iterable[Crossing],
    observations: Iterable[Observation],
    trade: Iterable[TradeFigure],
    *,
    structures: Iterable[Structure] = (),
    force: bool = False,
) -> Path:
    """Write a new store holding the given records.

    The file is built beside ``path`` and moved into place only when complete,
    so a failure never leaves a half-written store.

    Parameters
    ----------
    path : str or Path
        Where to write the GeoPackage.
    crossings, observations, trade : iterables of records
        The records, already validated.
    structures : iterable of Structure, default ()
        The crossings' bridges, dams and gates.
    force : bool, default False
        Replace an existing file.

    Returns
    -------
    Path
        The store's path.

    Raises
    ------
    StoreExistsError
        If ``path`` exists and ``force`` is false.
    """
    path = Path(path)
    foreign = what_file_is(path)
    if foreign is not None:  # never replaced, with --force or without: it is not a store
        raise StoreExistsError(
            f"{path}: is {foreign}, not a crossings store; nothing was written. Fix: choose "
            "another path (--force replaces only a crossings store)"
        )
    if path.exists() and not force:
        raise StoreExistsError(
            f"{path} already exists. Fix: pass --force to rebuild it from the seed "
            "(records added since are lost), or choose another --store path"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_leftovers(path)
    handle, temporary = tempfile.mkstemp(
        suffix=".gpkg", dir=path.parent, prefix=building_prefix(path)
    )
    os.close(handle)
    os.unlink(temporary)
    building = Path(temporary)
    try:
        _create_layers(building)
        with GeoPackageStore(building, writable=True) as store:
            with store._transaction() as connection:
                store._insert_crossings(connection, crossings)
                store._insert_structures(connection, structures)
                store._insert_trade(connection, trade)
            store.add_observations(observations)  # streamed: memory stays flat
        os.replace(building, path)
    finally:
        building.unlink(missing_ok=True)
    return path


def open_store(path: str | Path, *, writable: bool = False) -> GeoPackageStore:
    """Open an existing store.

    Raises
    ------
    NotAStoreError
        If the file is missing, not a GeoPackage, or not a crossings store.
    SchemaVersionError
        If it was written by a newer release.
    """
    return GeoPackageStore(Path(path), writable=writable)


# -- reading and writing -----------------------------------------------------


#: Rows a bulk load sorts into grid order at a time (memory: a few tens of MB).
_BULK_BATCH = 20_000


#: The columns of a prepared row: the geometry, then the fields of observation_row.
_INSERTED = ("geom", *_OBSERVATION_FIELDS)
_OWN_POINT_AT = _INSERTED.index("has_own_location")
_ROW_ID = itemgetter(_INSERTED.index("id"))


class PreparedBatch(NamedTuple):
    """A batch of records as the observations table takes them (see :func:`prepare_batches`)."""

    #: Each record's geometry blob (its own point, else its crossing's), then its observation_row.
    rows: list[tuple[object, ...]]
    #: The extent of the rows' points (west, south, east, north); None: none has a point.
    box: tuple[float, float, float, float] | None
    #: The records that may change a status, by their place in ``rows``: noted once written.
    notable: dict[int, Observation]
    #: The batch's first record, when it replaces another: checked before the batch is written.
    corrects: Observation | None


def prepare_batches(
    records: Iterable[Observation], crossings: Mapping[str, Crossing], *, bulk: bool = False
) -> Iterator[PreparedBatch]:
    """Yield records in batches of rows ready to insert, as they come.

    A record that replaces another starts a batch: it is checked against what
    is written before it. With ``bulk``, batches are larger and each is in grid
    order (see :func:`_grid_order`). Needs no store: another process may make them.
    """
    size = _BULK_BATCH if bulk else 1000
    batch: list[Observation] = []
    for record in records:
        if record.replaces is not None and batch:
            yield _prepared(batch, crossings, bulk=bulk)
            batch = []
        batch.append(record)
        if len(batch) == size:
            yield _prepared(batch, crossings, bulk=bulk)
            batch = []
    if batch:
        yield _prepared(batch, crossings, bulk=bulk)


def _prepared(
    batch: list[Observation], crossings: Mapping[str, Crossing], *, bulk: bool
) -> PreparedBatch:
    corrects = batch[0] if batch[0].replaces is not None else None
    points = [
        record.location or (crossings[record.crossing_id].location if record.crossing_id else None)
        for record in batch
    ]
    located = [point for point in points if point is not None]
    box = None
    if located:  # the extent covers every feature, own point or not
        lons, lats = [p.lon for p in located], [p.lat for p in located]
        box = (min(lons), min(lats), max(lons), max(lats))
    if bulk:
        order = _grid_order(points)
        batch = [batch[n] for n in order]
        points = [points[n] for n in order]
    rows = [
        (point_blob(point), *row)
        for point, row in zip(points, schema.observation_rows(batch), strict=True)
    ]
    notable = {n: record for n, record in enumerate(batch) if can_change_status(record)}
    return PreparedBatch(rows, box, notable, corrects)


def _row_record(row: Sequence[Any]) -> Observation:
    """Return the record of a prepared row (its point: the blob's, if the record's own)."""
    point = blob_point(row[0]) if row[_OWN_POINT_AT] else None  # type: ignore[arg-type]
    return schema.observation_from_row(point, row[1:])


def _grid_order(points: Sequence[LonLat | None]) -> list[int]:
    """Return the order of points in a grid of about 1 km cells (no point last).

    A bulk load writes records so: records near each other then share pages,
    and a question "within N km" reads fewer.
    """
    import numpy as np  # here, not at import: it slows the command line's start

    lons = np.array([math.inf if p is None else p.lon for p in points])
    lats = np.array([math.inf if p is None else p.lat for p in points])
    return np.lexsort((np.round(lats, 2), np.round(lons, 2))).tolist()  # type: ignore[no-any-return]


def what_file_is(path: Path) -> str | None:
    """Say what a file that is not a crossings store is; None where it is one (or is missing).

    Messages name a file for what it is, so that no advice destroys data that
    is not a store: an empty file, a device or a pipe, a SQLite database or a
    GeoPackage of another program, a file of another kind.
    """
    return _what_file_is_not_sqlite(path) or _what_database_is(path)


def _what_file_is_not_sqlite(path: Path) -> str | None:
    """Say what a file is when it is no SQLite database (None: it is one, or is missing).

    It reads the file's first bytes: see :func:`_what_path_cannot_be` for why a
    store about to be opened is not read so.
    """
    kind = _what_path_cannot_be(path)
    if kind is not None or not path.is_file():
        return kind
    with path.open("rb") as handle:
        start = handle.read(16)
    return None if start == b"SQLite format 3\x00" else "a file that is not a SQLite database"


def _what_path_cannot_be(path: Path) -> str | None:
    """Say what a path is when its kind or size alone rule out a store (None: it may be one).

    The file is not opened. A process that closes any descriptor of a file
    loses every lock it holds on it (POSIX locks, which SQLite takes): a write
    under way in another thread of the process would lose its own, and a reader
    in another process could then take the file halfway through that write, and
    roll it back as a crash's leftover.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        return "a link to nothing" if path.is_symlink() else None
    except OSError:
        return None  # unreadable: the open names the fault
    if stat.S_ISDIR(info.st_mode):
        return "a folder"
    if not stat.S_ISREG(info.st_mode):
        return "a device, a named pipe or a socket"
    return "an empty file" if info.st_size == 0 else None


def _not_a_store(path: Path, foreign: str) -> NotAStoreError:
    return NotAStoreError(
        f"{path}: is {foreign}, not a crossings store. Fix: pass the path of the store's .gpkg "
        "file with --store; `crossings init --store NEW.gpkg` builds one"
    )


def _what_database_is(path: Path) -> str | None:
    try:
        connection = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=1)
        try:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
            (application_id,) = connection.execute("PRAGMA application_id").fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        return None  # locked or damaged: the store's own checks name that
    if "crossings_meta" in tables:
        return None
    if application_id == _GPKG_APPLICATION_ID or "gpkg_contents" in tables:
        return "a GeoPackage of another program"
    return "a SQLite database of another program"


#: The files whose tables were found whole, with their schema cookie (see _check_columns).
_COLUMNS_CHECKED: set[tuple[object, ...]] = set()


def _insert_filled(
    names: Sequence[str], rows: list[tuple[object, ...]]
) -> tuple[str, list[tuple[object, ...]]]:
    """Return an INSERT of observations naming only the columns some row fills, and the rows so cut.

    Binding a NULL costs as much as binding a value, and most of a record's fields are
    empty: an import's rows bound whole took twice as long to write. A column left out is
    NULL, as bound.
    """
    columns = list(zip(*rows, strict=True))
    kept = [n for n, column in enumerate(columns) if column.count(None) < len(column)]
    marks = ", ".join("?" * len(kept))
    insert = f"INSERT INTO observations ({', '.join(names[n] for n in kept)}) VALUES ({marks})"
    if len(kept) == len(columns):
        return insert, rows
    return insert, list(zip(*(columns[n] for n in kept), strict=True))


#: The crossings and the structures last built, each by the rows it was built from.
_BUILT: dict[str, tuple[list[Any], dict[str, Any]]] = {}

_Built = TypeVar("_Built", Crossing, Structure)


def _built(
    layer: str, rows: list[Any], build: Callable[[LonLat | None, Sequence[Any]], _Built]
) -> dict[str, _Built]:
    """Return the objects of a layer's rows by id, built again only when the rows differ.

    A process that opens a store for each record it adds read and built the
    inventory each time: a tenth of what adding one record costs. The rows are
    still read (another program may have changed them); comparing them is cheaper
    than building from them. The objects are frozen; the dict is the caller's.
    """
    last = _BUILT.get(layer)
    if last is not None and last[0] == rows:
        return dict(last[1])
    found = {}
    for geom, *values in rows:
        item = build(blob_point(geom), values)
        found[item.id] = item
    _BUILT[layer] = (rows, found)
    return dict(found)


class GeoPackageStore(Store):
    """An open crossings GeoPackage. Use :func:`open_store` to get one."""

    def __init__(self, path: Path, *, writable: bool = False) -> None:
        self.path = path
        if path.is_dir():
            raise NotAStoreError(
                f"{path}: is a folder, not a store. Fix: pass the path of the store's .gpkg file "
                "(or a postgresql:// URL) with --store"
            )
        # A SQLite file is asked what it holds only when it turns out not to be a store (one
        # connection for a store: opening is most of what adding one record costs), and its
        # bytes are read only when SQLite finds it is no database.
        foreign = _what_path_cannot_be(path)
        if foreign is not None:
            raise _not_a_store(path, foreign)
        if not path.is_file():
            raise NotAStoreError(
                f"{path}: no such store. Fix: run `crossings init` to build it from the "
                "seed, or pass --store PATH (or set CROSSINGS_STORE)"
            )
        self._connection = _connect(path, readonly=not writable)
        self._writable = writable
        self._crossings: dict[str, Crossing] | None = None
        self._depth = 0  # nesting of _transaction
        self._border: list[Observation] | None = None
        self._structures: dict[str, Structure] | None = None
        self._forget_periods()
        try:
            if writable:
                self._refuse_if_damaged()
            if self._check_format() < SCHEMA_VERSION:  # read-only: an older store is not migrated
                self._read_older_schema_as_this()
        except BaseException:
            self._connection.close()
            raise

    def close(self) -> None:
        """Close the file."""
        self._connection.close()

    def _check_format(self) -> int:
        """Check that the file is a store this release reads; return its schema version.

        A store opened for writing is migrated first (the version returned is then this
        release's).
        """
        fix = "Fix: pass the path of a store made by `crossings init`"
        try:
            (application_id,) = self._connection.execute("PRAGMA application_id").fetchone()
            meta = dict(self._connection.execute("SELECT key, value FROM crossings_meta"))
        except sqlite3.DatabaseError as err:
            foreign = _what_database_is(self.path) if "no such table" in str(err) else None
            if foreign is not None:
                raise NotAStoreError(
                    f"{self.path}: is {foreign}, not a crossings store. Fix: pass the path of "
                    "the store's .gpkg file with --store; `crossings init --store NEW.gpkg` "
                    "builds one"
                ) from err
            if "no such table" in str(err):
                raise NotAStoreError(
                    f"{self.path}: is a GeoPackage but not a crossings store (no crossings_meta "
                    f"table). {fix}"
                ) from err
            if "not a database" not in str(err):  # locked, damaged, unreadable: not foreign
                raise store_fault(err, self.path) from err
            foreign = _what_file_is_not_sqlite(self.path)
            if foreign is not None:
                raise _not_a_store(self.path, foreign) from err
            raise NotAStoreError(f"{self.path}: is not a GeoPackage ({err}). {fix}") from err
        if application_id != _GPKG_APPLICATION_ID or meta.get("application") != _APPLICATION:
            raise NotAStoreError(f"{self.path}: is not a crossings GeoPackage. {fix}")
        version_text = str(meta.get("schema_version", "0"))
        if not version_text.isascii() or not version_text.isdigit():
            raise SchemaVersionError(
                f"{self.path}: has schema version {version_text!r}, which is not a number. "
                "It was not written by crossings, or was changed by another tool. Fix: use a "
                "store made by `crossings init`, or restore this one from a copy"
            )
        version = int(version_text)
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"{self.path}: has schema version {version}, newer than this release "
                f"reads ({SCHEMA_VERSION}). Fix: upgrade crossings"
            )
        if version < 1:
            raise SchemaVersionError(f"{self.path}: has no schema version. {fix}")
        self._check_columns(version)
        if version < SCHEMA_VERSION and self._writable:
            self._migrate(version)
            return SCHEMA_VERSION
        return version

    def _check_columns(self, version: int) -> None:
        """Refuse a store that says it is one but lacks columns its version has.

        A process that opens the same file again (a server, a notebook, a loop of
        adds) checks it once for each change of its tables: SQLite's schema
        cookie changes with every one.
        """
        info = self.path.stat()
        (cookie,) = self._connection.execute("PRAGMA schema_version").fetchone()
        seen = (info.st_dev, info.st_ino, cookie, version)  # the file, whatever its path
        if seen in _COLUMNS_CHECKED:
            return
        self._check_each_layer(version)
        _COLUMNS_CHECKED.add(seen)

    def _check_each_layer(self, version: int) -> None:
        came_with = {schema.STRUCTURES: 3, schema.STATUS_PERIODS: PERIODS_VERSION}
        layers = {
            layer.name: [*(["geom"] if layer.point else []), *(f.name for f in layer.at(version))]
            for layer in (
                schema.CROSSINGS,
                schema.OBSERVATIONS,
                schema.TRADE,
                schema.STRUCTURES,
                schema.STATUS_PERIODS,
            )
            if version >= came_with.get(layer, 1)
        }
        for layer, wanted in layers.items():
            present = {row[1] for row in self._connection.execute(f'PRAGMA table_info("{layer}")')}
            missing = [name for name in wanted if name not in present]
            if missing:
                raise NotAStoreError(
                    f"{self.path}: says it is a crossings store of schema version {version}, "
                    f"but its layer {layer!r} lacks the column(s) {', '.join(missing)}. It was "
                    "not written by crossings, or was changed by another tool. Fix: use a store "
                    "made by `crossings init`, or restore this one from a copy"
                )

    def _refuse_if_damaged(self) -> None:
        """Refuse to write into a damaged file, where a write could bury the damage.

        SQLite's quick check reads every page: it runs before each write on a
        store of up to ``CHECKED_BEFORE_WRITES_BYTES``. On a larger store a
        write finds damage only in the pages it touches (``crossings validate``
        checks all of them), so that a write costs the same at any size.
        """
        if self.path.stat().st_size > CHECKED_BEFORE_WRITES_BYTES:
            return
        try:
            (verdict,) = self._connection.execute("PRAGMA quick_check(1)").fetchone()
        except sqlite3.DatabaseError as err:
            if "locked" in str(err) or "busy" in str(err):
                raise store_fault(err, self.path) from err
            foreign = _what_file_is_not_sqlite(self.path) if "not a database" in str(err) else None
            if foreign is not None:
                raise _not_a_store(self.path, foreign) from err
            verdict = str(err)
        if verdict != "ok":
            raise store_fault(sqlite3.DatabaseError(f"malformed: {verdict}"), self.path)

    def _read_older_schema_as_this(self) -> None:
        """Read a store of an older version as this version's, without writing to it.

        An older store opened read-only is not migrated: temporary views (in
        memory, never written) give it this version's columns, empty.
        """
        for layer in (schema.OBSERVATIONS, schema.STRUCTURES):
            if not self._has_table(layer.name):
                continue
            present = {
                row[1] for row in self._connection.execute(f"PRAGMA table_info({layer.name})")
            }
            missing = [name for name in layer.names if name not in present]
            if missing:
                extra = ", ".join(f"NULL AS {name}" for name in missing)
                self._connection.execute(
                    f"CREATE TEMP VIEW {layer.name} AS SELECT *, {extra} FROM main.{layer.name}"
                )
        for layer in (schema.STRUCTURES, schema.STATUS_PERIODS):  # layers of later versions
            if not self._has_table(layer.name):
                columns = ", ".join(f'NULL AS "{name}"' for name in layer.names)
                self._connection.execute(
                    f"CREATE TEMP VIEW {layer.name} AS SELECT NULL AS fid, NULL AS geom, "
                    f"{columns} WHERE 0"
                )
        if not self._has_table(tally.CELLS.table):  # counted at each read, as if kept
            self._connection.execute(
                f"CREATE TEMP VIEW {tally.CELLS.table} (cell_x, cell_y, records) AS "
                + tally.GPKG_INDEX_COUNTED
            )

    def _has_table(self, name: str) -> bool:
        return (
            self._connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
            ).fetchone()
            is not None
        )

    def _migrate(self, version: int) -> None:
        """Bring an older store up to this release's schema before writing to it."""
        _log.warning(MIGRATING, self.path, version, SCHEMA_VERSION)
        with self._transaction() as connection:
            for target in range(version + 1, SCHEMA_VERSION + 1):
                GEOPACKAGE_STEPS[target](connection)
                connection.execute(
                    "INSERT INTO crossings_meta (key, value) VALUES (?, "
                    "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                    (f"migrated_to_{target}",),
                )
            connection.execute(
                "UPDATE crossings_meta SET value = ? WHERE key = 'schema_version'",
                (str(SCHEMA_VERSION),),
            )
            if version < PERIODS_VERSION:  # filled as the migration commits
                for crossing_id in self.crossings():
                    self._periods_from(crossing_id, date.min)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Run writes in one immediate transaction: all of them or none.

        Nested uses join the outer transaction, so several writes (records and
        the status snapshot derived from them) commit together.
        """
        connection = self._connection
        if self._depth:
            self._depth += 1
            try:
                yield connection
            finally:
                self._depth -= 1
            return
        self._begin_write(connection)
        self._depth = 1
        try:
            yield connection
            self._settle_periods()  # derived from what was written, committed with it
        except BaseException:
            self._undo(connection)
            raise
        finally:
            self._depth = 0
        try:
            connection.execute("COMMIT")
        except sqlite3.Error:
            self._undo(connection)
            raise

    def _begin_write(self, connection: sqlite3.Connection) -> None:
        """Take the store's write lock; if another writer holds it, say so, then wait for it."""
        connection.execute("PRAGMA busy_timeout = 0")
        try:
            connection.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) and "busy" not in str(err):
                raise
        finally:
            connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        _log.warning(
            "%s: another process is writing to the store; waiting for it to finish (up to %g s)",
            self.path,
            BUSY_TIMEOUT_S,
        )
        connection.execute("BEGIN IMMEDIATE")

    def _undo(self, connection: sqlite3.Connection) -> None:
        """Roll a failed write back, leaving no journal behind; the first error is the one told.

        After a full disk or an I/O error SQLite may have ended the transaction
        itself, leaving its journal hot: a read then rolls the file back at once
        rather than at the next command ("cannot rollback" is never reported).
        """
        with suppress(sqlite3.Error):
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        self._crossings = self._structures = self._border = None
        self._forget_periods()

    def add_crossings(self, crossings: Sequence[Crossing]) -> None:
        """Add crossings (validated, ids not yet stored) in one transaction."""
        with self._transaction() as connection:
            self._insert_crossings(connection, crossings)

    def add_structures(self, structures: Sequence[Structure]) -> None:
        """Add structures (validated, ids not yet stored) in one transaction."""
        with self._transaction() as connection:
            self._insert_structures(connection, structures)

    def add_trade(self, figures: Sequence[TradeFigure]) -> None:
        """Add trade figures (validated) in one transaction."""
        with self._transaction() as connection:
            self._insert_trade(connection, figures)

    # crossings -------------------------------------------------------------

    def crossings(self) -> dict[str, Crossing]:
        """Return every crossing by id, in inventory order."""
        if self._crossings is None:
            columns = ", ".join(_CROSSING_FIELDS)
            rows = self._connection.execute(f"SELECT geom, {columns} FROM crossings ORDER BY fid")
            self._crossings = _built("crossings", rows.fetchall(), schema.crossing_from_row)
        return self._crossings

    def _insert_crossings(
        self, connection: sqlite3.Connection, crossings: Iterable[Crossing]
    ) -> None:
        columns = ", ".join(_CROSSING_FIELDS)
        marks = ", ".join("?" * (len(_CROSSING_FIELDS) + 1))
        crossings = list(crossings)
        rows = [(point_blob(c.location), *schema.crossing_row(c)) for c in crossings]
        connection.executemany(f"INSERT INTO crossings (geom, {columns}) VALUES ({marks})", rows)
        self._extend_extent(connection, "crossings", [c.location for c in crossings])
        self._crossings = None
        for crossing in crossings:  # records of the whole border may name it
            self._periods_from(crossing.id, date.min)

    # structures ------------------------------------------------------------

    def structures(self) -> dict[str, Structure]:
        """Return every structure (bridge, dam, gate) by id, in inventory order."""
        if self._structures is not None:
            return self._structures
        columns = ", ".join(_STRUCTURE_FIELDS)
        rows = self._connection.execute(f"SELECT geom, {columns} FROM structures ORDER BY fid")
        self._structures = _built("structures", rows.fetchall(), schema.structure_from_row)
        return self._structures

    def _insert_structures(
        self, connection: sqlite3.Connection, structures: Iterable[Structure]
    ) -> None:
        columns = ", ".join(_STRUCTURE_FIELDS)
        marks = ", ".join("?" * (len(_STRUCTURE_FIELDS) + 1))
        structures = list(structures)
        rows = [(point_blob(s.location), *schema.structure_row(s)) for s in structures]
        connection.executemany(f"INSERT INTO structures (geom, {columns}) VALUES ({marks})", rows)
        self._extend_extent(connection, "structures", [s.location for s in structures])
        self._structures = None
        for structure in structures:  # its crossing may show its structures' lifecycle
            self._periods_from(structure.crossing_id, date.min)

    # observations ------------------------------------------------------------

    @staticmethod
    def _observation(geom: bytes | None, values: Sequence[Any]) -> Observation:
        return schema.observation_from_row(blob_point(geom), values)

    def observations(
        self, crossing_id: str | None = None, *, include_border_wide: bool = True
    ) -> list[Observation]:
        """Return observations, oldest first.

        Parameters
        ----------
        crossing_id : str or None, default None
            Only this crossing's records (plus border-wide ones if
            ``include_border_wide``); None: every record.
        include_border_wide : bool, default True
            With ``crossing_id``, also return the records about the whole border.
        """
        sql = f"SELECT geom, {_SELECTED} FROM observations"
        params: tuple[object, ...] = ()
        if crossing_id is not None:
            sql += " WHERE crossing_id = ?" + (
                " OR crossing_id IS NULL" if include_border_wide else ""
            )
            params = (crossing_id,)
        # Rows come in feature-id order; a stable sort in Python is quicker than SQLite's
        # walk of the date index, which visits the table's pages out of order.
        rows = self._connection.execute(sql + " ORDER BY fid", params).fetchall()  # see trade()
        records = [self._observation(geom, values) for geom, *values in rows]
        records.sort(key=lambda o: (o.date.start, o.date.end))
        return records

    def iter_observations(self) -> Iterator[Observation]:
        """Yield every observation in the order it was stored, so each after what it replaces."""
        rows = self._connection.execute(f"SELECT geom, {_SELECTED} FROM observations ORDER BY fid")
        for geom, *values in rows:
            yield self._observation(geom, values)

    def observation(self, observation_id: str) -> Observation | None:
        """Return one observation by id, or None."""
        row = self._connection.execute(
            f"SELECT geom, {_SELECTED} FROM observations WHERE id = ?", (observation_id,)
        ).fetchone()
        return None if row is None else self._observation(row[0], row[1:])

    def _row_values(self, record: Observation) -> Sequence[object]:
        return self._observation_row(record)

    def _execute(self, sql: str, params: Mapping[str, object]) -> None:
        self._connection.execute(sql, params)

    def observations_by_id(self, ids: Sequence[str]) -> list[Observation]:
        """Return the stored observations among ``ids`` (unknown ids are left out)."""
        found: list[Observation] = []
        for start in range(0, len(ids), 500):  # SQLite limits bound parameters
            chunk = list(ids[start : start + 500])
            marks = ", ".join("?" * len(chunk))
            rows = self._connection.execute(
                f"SELECT geom, {_SELECTED} FROM observations WHERE id IN ({marks})", chunk
            )
            found += [self._observation(geom, values) for geom, *values in rows]
        return found

    def index_boxes(
        self,
        boxes: Sequence[BBox],
        *,
        since: date | None = None,
        until: date | None = None,
        kind: str | None = None,
        source_type: str | None = None,
    ) -> IndexBoxes:
        """Return the R-tree rows of the observations in any of ``boxes``.

        Only the spatial index is read, unless a filter is given: ``since`` /
        ``until`` keep records whose date interval overlaps them, ``kind`` and
        ``source_type`` records of that kind or source type. Read the records
        wanted with :meth:`observations_by_fid`.
        """
        import numpy as np  # here, not at import: it slows the command line's start

        sql, params = self._index_query(
            "r.id, r.minx, r.maxx, r.miny, r.maxy", boxes, None, since, until, kind, source_type
        )
        rows = self._connection.execute(sql, params).fetchall()
        table = np.array(rows, dtype=float).reshape(-1, 5)
        return IndexBoxes(table[:, 0].astype(np.int64), *table[:, 1:].T)

    def fids_near(
        self,
        center: LonLat,
        distance_m: float,
        *,
        since: date | None = None,
        until: date | None = None,
        kind: str | None = None,
        source_type: str | None = None,
    ) -> list[int]:
        """Return the feature ids of the observations that may lie within ``distance_m``.

        In file order. The R-tree finds the box around the circle and SQLite
        leaves out, before any row reaches Python, the boxes outside the ellipse
        of :func:`geo.query.dwithin_ellipse`; the caller measures what is left.
        Filters as in :meth:`index_boxes`.
        """
        sql, params = self._index_query(
            "r.id",
            dwithin_boxes(center, distance_m),
            dwithin_ellipse(center, distance_m),
            since,
            until,
            kind,
            source_type,
        )
        return sorted(fid for (fid,) in self._connection.execute(sql, params))

    @staticmethod
    def _index_query(
        columns: str,
        boxes: Sequence[BBox],
        ellipse: Ellipse | None,
        since: date | None,
        until: date | None,
        kind: str | None,
        source_type: str | None,
    ) -> tuple[str, list[object]]:
        """Build the R-tree query for ``boxes`` (and ``ellipse``), joined for filters."""
        where = " OR ".join(["(minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?)"] * len(boxes))
        params: list[object] = []
        for box in boxes:
            params += [box.east, box.west, box.north, box.south]
        sql = f"SELECT {columns} FROM rtree_observations_geom r WHERE ({where or '0'})"
        if ellipse is not None:
            # From the centre to the nearest point of each R-tree box (which holds the
            # point, rounded outwards to 32 bits), in the ellipse's weighted degrees.
            sql += (
                " AND max(r.miny - ?, ? - r.maxy, 0) * max(r.miny - ?, ? - r.maxy, 0)"
                " + ? * max(r.minx - ?, ? - r.maxx, 0) * max(r.minx - ?, ? - r.maxx, 0) <= ?"
            )
            lat, lon = ellipse.center.lat, ellipse.center.lon
            params += [lat, lat, lat, lat, ellipse.lon_weight, lon, lon, lon, lon, ellipse.limit]
        filters = [
            (f"o.{test} ?", value.isoformat() if isinstance(value, date) else value)
            for test, value in question_filters(since, until, kind, source_type)
        ]
        if filters:
            sql = sql.replace(" r WHERE", " r JOIN observations o ON o.fid = r.id WHERE")
            sql += "".join(f" AND {condition}" for condition, _ in filters)
        return sql, params + [value for _, value in filters]

    def sightings_by_fid(self, fids: Sequence[int]) -> list[Sighting]:
        """Return light records of these feature ids in force, in the same order."""
        columns = ", ".join(schema.SIGHTING_FIELDS)
        found: dict[int, Sighting] = {}
        fids = [int(f) for f in fids]
        for start in range(0, len(fids), 500):  # SQLite limits bound parameters
            chunk = fids[start : start + 500]
            rows = self._connection.execute(
                f"SELECT fid, geom, {columns} FROM observations o "
                f"WHERE fid IN ({', '.join('?' * len(chunk))}) AND {IN_FORCE}",
                chunk,
            ).fetchall()
            points = blob_points([row[1] for row in rows])
            for (fid, _, *values), point in zip(rows, points, strict=True):
                found[fid] = schema.sighting_from_row(point, values)
        return [found[fid] for fid in fids if fid in found]

    def observations_by_fid(
        self, fids: Sequence[int], *, in_force: bool = False
    ) -> list[Observation]:
        """Return the observations with these feature ids, in the same order.

        With ``in_force``, leave out the records a later record corrects or withdraws,
        and the withdrawals themselves.
        """
        fids = [int(f) for f in fids]
        found: dict[int, Observation] = {}
        where = f" AND {IN_FORCE}" if in_force else ""
        for start in range(0, len(fids), 500):  # SQLite limits bound parameters
            chunk = fids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            rows = self._connection.execute(
                f"SELECT fid, geom, {_SELECTED} FROM observations o WHERE fid IN ({marks}){where}",
                chunk,
            ).fetchall()
            points = blob_points([row[1] for row in rows])
            for (fid, _, *values), point in zip(rows, points, strict=True):
                found[fid] = schema.observation_from_row(point, values)
        return [found[fid] for fid in fids if fid in found]

    _COLUMNS = f"geom, {_SELECTED}"

    def _decode(self, rows: list[tuple[Any, ...]]) -> list[Observation]:
        return [self._observation(geom, values) for geom, *values in rows]

    def _query(self, sql: str, params: Mapping[str, object]) -> list[tuple[Any, ...]]:
        return self._connection.execute(sql, params).fetchall()

    def add_observations(
        self,
        records: Iterable[Observation],
        *,
        on_duplicate: str = "error",
        bulk: bool = False,
        expected_rows: int = 0,
    ) -> list[str]:
        """Add records in one transaction: all of them, or none if one is refused.

        Records are written as they come, so an iterator of any length is read
        once and never held whole.

        Parameters
        ----------
        records : iterable of Observation
            Validated records.
        on_duplicate : {"error", "ignore"}, default "error"
            What to do with a record already in the store: refuse the batch,
            or skip that record.
        bulk : bool, default False
            For a load that is large against the store: the secondary indexes
            and the spatial index are built once after the rows are in, not
            row by row, with a larger page cache. Still one transaction.
        expected_rows : int, default 0
            With ``bulk``, about how many records will come: the page cache is
            sized to hold the index of their ids (64 MiB to 1 GiB).

        Returns
        -------
        list of str
            Ids of the records written (skipped duplicates are not listed).

        Raises
        ------
        DuplicateRecordError
            A record is already stored (or twice in ``records``).
        UnknownRecordError
            A record replaces an id that is not in the store.
        RecordValidationError
            A record replaces one of another crossing.
        """
        batches = prepare_batches(records, self.crossings(), bulk=bulk)
        return self.add_prepared(
            batches, on_duplicate=on_duplicate, bulk=bulk, expected_rows=expected_rows
        )

    def add_prepared(
        self,
        batches: Iterable[PreparedBatch],
        *,
        on_duplicate: str = "error",
        bulk: bool = False,
        expected_rows: int = 0,
    ) -> list[str]:
        """Add the rows of prepared batches in one transaction (see :meth:`add_observations`).

        The batches are made by :func:`prepare_batches`, in this process or
        another (an import checks a large file in a process of its own).
        """
        if on_duplicate not in ("error", "ignore"):
            raise ValueError(f"on_duplicate={on_duplicate!r}: must be 'error' or 'ignore'")
        written = WrittenIds()
        box = [math.inf, math.inf, -math.inf, -math.inf]
        with self._transaction() as connection:
            deferred = self._defer_indexes(connection, expected_rows) if bulk else None
            for batch in batches:
                if batch.corrects is not None:
                    self._check_replaces(batch.corrects)  # against what is written so far
                self._write(connection, batch, written, on_duplicate)
                if batch.box is not None:
                    west, south, east, north = batch.box
                    box = [min(box[0], west), min(box[1], south), max(box[2], east),
                           max(box[3], north)]  # fmt: skip
            if deferred is not None:
                self._restore_indexes(connection, deferred)
            self._border = None  # border-wide records may be among them
            if written and box[0] <= box[2]:
                self._extend_extent(
                    connection, "observations", [LonLat(box[0], box[1]), LonLat(box[2], box[3])]
                )
        return written.as_list()

    def _write(
        self,
        connection: sqlite3.Connection,
        batch: PreparedBatch,
        written: WrittenIds,
        on_duplicate: str,
    ) -> None:
        """Insert a batch of rows; the unique index on id finds a record stored already."""
        if not batch.rows:
            return
        insert, rows = _insert_filled(_INSERTED, batch.rows)
        connection.execute("SAVEPOINT batch")
        try:
            connection.executemany(insert, rows)
            connection.execute("RELEASE batch")
            written.add(map(_ROW_ID, batch.rows))
            for record in batch.notable.values():
                self._note_periods(record)
        except sqlite3.IntegrityError:
            connection.execute("ROLLBACK TO batch")
            connection.execute("RELEASE batch")
            stored = []
            for n, (whole, row) in enumerate(zip(batch.rows, rows, strict=True)):
                try:  # one by one, to name the record stored already
                    connection.execute(insert, row)
                except sqlite3.IntegrityError:
                    if self.observation(_ROW_ID(whole)) is None:
                        raise
                    self._refuse_duplicate(_row_record(whole), on_duplicate)
                    continue
                stored.append(_ROW_ID(whole))
                if n in batch.notable:
                    self._note_periods(batch.notable[n])
            written.add(stored)

    #: The index of the observations layer that a bulk load keeps while it writes: the
    #: unique id, which refuses duplicates and finds the records a correction replaces.
    _KEPT_WHILE_LOADING = ("observations_id",)
    _DEFERRED_TRIGGERS = (
        "rtree_observations_geom_insert",
        *(f"{counted.table}_added" for counted in tally.TALLIES),
        "trigger_insert_feature_count_observations",
    )

    def _defer_indexes(
        self, connection: sqlite3.Connection, expected_rows: int
    ) -> tuple[list[str], list[str]]:
        """Drop the observations' secondary indexes and R-tree trigger until the load is in."""
        (last_fid,) = connection.execute(
            "SELECT coalesce(max(fid), 0) FROM observations"
        ).fetchone()
        indexes = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = 'observations' AND sql IS NOT NULL"
        ).fetchall()
        recreate = []
        for name, sql in indexes:
            if name not in self._KEPT_WHILE_LOADING:
                connection.execute(f'DROP INDEX "{name}"')
                recreate.append(sql)
        # The R-tree's, the grid counts' and GDAL's feature count's triggers, per row: done
        # once at the end.
        names = ", ".join(f"'{name}'" for name in self._DEFERRED_TRIGGERS)
        triggers = [
            sql
            for (sql,) in connection.execute(
                f"SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({names})"
            )
        ]
        for name in self._DEFERRED_TRIGGERS:
            connection.execute(f'DROP TRIGGER IF EXISTS "{name}"')
        # While loading, a cache that holds the index of ids (about 100 bytes a record).
        cache_kib = min(max(64 * 1024, (expected_rows + last_fid) // 10), 1024 * 1024)
        connection.execute(f"PRAGMA cache_size = -{cache_kib}")
        return recreate, triggers

    def _restore_indexes(
        self, connection: sqlite3.Connection, deferred: tuple[list[str], list[str]]
    ) -> None:
        """Build the dropped indexes once, and pack the spatial index anew."""
        recreate, triggers = deferred
        for sql in recreate + triggers:
            connection.execute(sql)
        connection.execute(
            "UPDATE gpkg_ogr_contents SET feature_count = (SELECT count(*) FROM observations) "
            "WHERE lower(table_name) = 'observations'"
        )
        # The spatial index, packed from every point at once (geo.store.rtree), and the grid
        # counted anew from the same points.
        fids, lons, lats = self._all_points(connection)
        rtree.pack(connection, "rtree_observations_geom", fids, lons, lats)
        if self._has_table(tally.CELLS.table):
            tally.recount(connection, lons, lats)
        connection.execute("PRAGMA cache_size = -2000")

    @staticmethod
    def _all_points(connection: sqlite3.Connection) -> tuple[Any, Any, Any]:
        """Return the feature ids and points of the observations with one, as arrays."""
        import numpy as np  # here, not at import: it slows the command line's start

        fids, lons, lats = [], [], []
        rows = connection.execute("SELECT fid, geom FROM observations WHERE geom IS NOT NULL")
        while chunk := rows.fetchmany(65_536):
            lon, lat = blob_arrays([geom for _, geom in chunk])
            has_point = ~(np.isnan(lon) | np.isnan(lat))
            fids.append(np.fromiter((fid for fid, _ in chunk), np.int64, len(chunk))[has_point])
            lons.append(lon[has_point])
            lats.append(lat[has_point])
        if not fids:
            return np.empty(0, np.int64), np.empty(0), np.empty(0)
        return np.concatenate(fids), np.concatenate(lons), np.concatenate(lats)

    def _has(self, observation_id: str) -> bool:
        return (
            self._connection.execute(
                "SELECT 1 FROM observations WHERE id = ?", (observation_id,)
            ).fetchone()
            is not None
        )

    _observation_row = staticmethod(schema.observation_row)

    @staticmethod
    def _extend_extent(
        connection: sqlite3.Connection, table: str, points: Iterable[LonLat | None]
    ) -> None:
        """Grow the layer's extent in gpkg_contents to cover new points."""
        xs = [p.lon for p in points if p is not None]
        ys = [p.lat for p in points if p is not None]
        if not xs:
            return
        connection.execute(
            """UPDATE gpkg_contents SET
                 min_x = min(coalesce(min_x, :x0), :x0), max_x = max(coalesce(max_x, :x1), :x1),
                 min_y = min(coalesce(min_y, :y0), :y0), max_y = max(coalesce(max_y, :y1), :y1),
                 last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
               WHERE table_name = :table""",
            {"x0": min(xs), "x1": max(xs), "y0": min(ys), "y1": max(ys), "table": table},
        )

    def _insert_periods(
        self, crossing: Crossing, rows: Sequence[tuple[date, date | None, tuple[object, ...]]]
    ) -> None:
        """Write a crossing's status periods at its point (see geo.store.periods)."""
        if not rows:
            return
        columns = ", ".join(f'"{name}"' for name in _PERIOD_FIELDS)
        marks = ", ".join("?" * (len(_PERIOD_FIELDS) + 1))
        blob = point_blob(crossing.location)
        self._connection.executemany(
            f"INSERT INTO status_periods (geom, {columns}) VALUES ({marks})",
            [
                (
                    blob,
                    crossing.id,
                    crossing.name_en,
                    start.isoformat(),
                    end.isoformat() if end else None,
                    *values,
                )
                for start, end, values in rows
            ],
        )
        self._extend_extent(self._connection, "status_periods", [crossing.location])

    # trade --------------------------------------------------------------------

    def write_status_snapshot(
        self, statuses: Iterable[tuple[str, str | None, str | None, str | None]], as_of: date
    ) -> None:
        """Store each crossing's ``(id, status, since, source)`` on ``as_of``, for GIS styling."""
        with self._transaction() as connection:
            connection.executemany(
                "UPDATE crossings SET status_now = ?, status_since = ?, status_source = ?, "
                "status_as_of = ? WHERE id = ?",
                [
                    (status, since, source, as_of.isoformat(), crossing_id)
                    for crossing_id, status, since, source in statuses
                ],
            )

    def status_snapshot_day(self, crossing_id: str) -> date | None:
        """Return the day a crossing's status snapshot was computed (None: never)."""
        row = self._connection.execute(
            "SELECT status_as_of FROM crossings WHERE id = ?", (crossing_id,)
        ).fetchone()
        return date.fromisoformat(row[0]) if row and row[0] else None

    def _insert_trade(self, connection: sqlite3.Connection, trade: Iterable[TradeFigure]) -> None:
        columns = ", ".join(_TRADE_FIELDS)
        marks = ", ".join("?" * len(_TRADE_FIELDS))
        connection.executemany(
            f"INSERT INTO trade ({columns}) VALUES ({marks})", map(schema.trade_row, trade)
        )

    def trade(self) -> list[TradeFigure]:
        """Return every trade figure, by period."""
        columns = ", ".join(_TRADE_FIELDS)
        # Read whole before decoding: a row that cannot be decoded must not leave the statement
        # (and its lock on the file) open in the error's traceback.
        rows = self._connection.execute(
            f"SELECT {columns} FROM trade ORDER BY period_start, period_end, fid"
        ).fetchall()
        return [schema.trade_from_row(values) for values in rows]

    # data frames, for notebooks and geopandas ------------------------------------

    def _frame(self, layer: str) -> Any:

        import pyogrio

        with warnings.catch_warnings():
            # GDAL notes the SQLite functions it cannot find in our connection; harmless here.
            warnings.simplefilter("ignore", RuntimeWarning)
            return pyogrio.read_dataframe(self.path, layer=layer, fid_as_index=True)

    def crossings_frame(self) -> Any:
        """Return the crossings as a GeoDataFrame (EPSG:4326)."""
        return self._frame("crossings")

    def observations_frame(self, crossing_id: str | None = None) -> Any:
        """Return observations as a GeoDataFrame, with real date columns, oldest first.

        ``date_start`` and ``date_end`` are the first and last day the ``date``
        text can mean (``2025-03``: 1 to 31 March); ``recorded_at`` is a timestamp.
        """
        frame = self._frame("observations")
        if crossing_id is not None:
            frame = frame[frame["crossing_id"] == crossing_id]
        return frame.sort_values(["date_start", "date_end"], kind="stable")

    def trade_frame(self) -> Any:
        """Return the trade figures as a DataFrame, by period."""
        return self._frame("trade").sort_values(["period_start", "period_end"], kind="stable")

    # integrity ----------------------------------------------------------------

    def migrated_at(self, version: int) -> datetime | None:
        """Return when this store was migrated to ``version`` (None: built at it or later)."""
        row = self._connection.execute(
            "SELECT value FROM crossings_meta WHERE key = ?", (f"migrated_to_{version}",)
        ).fetchone()
        return None if row is None else datetime.fromisoformat(row[0].replace("Z", "+00:00"))

    def integrity_problems(self) -> list[str]:
        """Return what SQLite and the store's own references find wrong (empty: fine)."""
        try:
            problems = [
                f"sqlite: {message}"
                for (message,) in self._connection.execute("PRAGMA integrity_check")
                if message != "ok"
            ]
        except sqlite3.DatabaseError as err:  # damage the check itself cannot read past
            return [f"sqlite: {err}"]
        if problems:  # the records cannot be read soundly: the damage is the report
            return problems
        problems += self._reference_problems()
        # The point layers this store has (an older one, read as it is, lacks the later ones).
        layers = [
            name
            for name in ("crossings", "structures", "observations", "status_periods")
            if self._has_table(f"rtree_{name}_geom")
        ]
        for layer in layers:
            problems += self._extent_problems(layer)
        (indexed,) = self._connection.execute(
            "SELECT count(*) FROM rtree_observations_geom"
        ).fetchone()
        (located,) = self._connection.execute(
            "SELECT count(*) FROM observations WHERE geom IS NOT NULL"
        ).fetchone()
        if indexed != located:
            problems.append(
                f"observations: spatial index holds {indexed} rows, layer has {located} points"
            )
        if self._has_table(tally.CELLS.table):
            problems += tally.problems(self, postgis=False)
        for layer in layers:
            problems += [
                f"{layer}: spatial index: {message}"
                for message in rtree.problems(self._connection, f"rtree_{layer}_geom")
            ]
        return problems

    def _extent_problems(self, layer: str) -> list[str]:
        """Say where a layer's extent in gpkg_contents fails to cover its features."""
        stored = self._connection.execute(
            "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?", (layer,)
        ).fetchone()
        found = self._connection.execute(
            f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM rtree_{layer}_geom"
        ).fetchone()
        if stored is None or found is None or found[0] is None:
            return []
        if None in stored or (
            stored[0] > found[0] + _INDEX_SLACK
            or stored[1] > found[1] + _INDEX_SLACK
            or stored[2] < found[2] - _INDEX_SLACK
            or stored[3] < found[3] - _INDEX_SLACK
        ):
            corners = tuple(round(v, 5) for v in found)
            problem = (
                f"{layer}: the extent in gpkg_contents {stored} does not cover the layer's "
                f"features {corners}; GIS tools zoom to the wrong area"
            )
            return [problem]
        return []


def is_geopackage(store: object) -> bool:
    """Whether an open store is a GeoPackage file (else a database)."""
    return isinstance(store, GeoPackageStore)
