"""The PostGIS store: the same layers and answers as the GeoPackage, in a shared database.

A team points every command at one database (``--store postgresql://…``).
Tables are created from :mod:`geo.store.schema`: points are ``geometry(Point,
4326)`` with a GIST index (the GeoPackage's R-tree), dates are DATE, times
TIMESTAMPTZ. Every value is bound, never formatted into SQL.

Writers run at once from any number of processes and machines. Each write is
one transaction; a record's id is unique, so a record added twice (from two
machines) is stored once. Writes that change records take a lock of the
store for the length of their transaction, so the status snapshot derived in
that transaction always sees every record committed before it; reads never
wait.
"""

from __future__ import annotations

import atexit
import functools
import logging
import math
import re
import struct
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from geo.errors import (
    NotAStoreError,
    SchemaVersionError,
    StoreError,
    StoreExistsError,
    StoreFaultError,
)
from geo.model import BBox, Crossing, LonLat, Observation, Sighting, Structure, TradeFigure
from geo.qgis import DEFAULT_STYLES
from geo.query import Ellipse, dwithin_boxes, dwithin_ellipse
from geo.store import schema, tally
from geo.store.address import parse_address
from geo.store.base import Store, WrittenIds
from geo.store.migrations import MIGRATING, POSTGIS_STEPS, postgis_ddl, write_postgis_styles
from geo.store.periods import FIRST_VERSION as PERIODS_VERSION
from geo.store.postgis_status import ServerSource
from geo.store.schema import SCHEMA_VERSION, timestamp
from geo.store.source import IN_FORCE, IndexBoxes, question_filters

if TYPE_CHECKING:
    import psycopg

    from geo.status import StatusAnswer

__all__ = [
    "PostgisStore",
    "close_idle_connections",
    "create_postgis_store",
    "database_fault",
    "display_url",
]

_log = logging.getLogger(__name__)

_APPLICATION = "crossings"
#: The key of the lock that orders writers (an arbitrary constant: "XING").
_WRITE_LOCK = 0x58494E47
#: How long a command waits for the server to answer a connection.
CONNECT_TIMEOUT_S = 10


def display_url(url: str) -> str:
    """Return the address as messages name it: every password as ``***``.

    An address that cannot be read is not repeated at all: any part of it may
    be a password.
    """
    try:
        return parse_address(url).shown
    except NotAStoreError:
        return "the database address given"


def _said(err: Exception, url: str) -> str:
    """Return what the driver or the server said, on one line, without the address's secrets."""
    text = " ".join(str(err).split())
    try:
        return parse_address(url).scrub(text)
    except NotAStoreError:
        return "(not shown: the address cannot be read)"


def database_fault(err: Exception, url: str) -> StoreFaultError:
    """Return the error that names what the database server said, what it means and the fix."""
    import psycopg

    where = display_url(url)
    text = _said(err, url)
    if isinstance(err, psycopg.errors.InsufficientPrivilege):
        return StoreFaultError(
            f"{where}: the database refused this user ({text}); nothing was changed. Fix: ask "
            "the database's owner to grant this user access to the crossings tables"
        )
    if isinstance(err, psycopg.errors.DiskFull):
        return StoreFaultError(
            f"{where}: the database server's disk is full ({text}); the write was undone and "
            "nothing was changed. Fix: free space on the server, then run the command again"
        )
    if isinstance(err, psycopg.errors.DeadlockDetected | psycopg.errors.SerializationFailure):
        return StoreFaultError(
            f"{where}: another writer changed the same records at the same moment ({text}); "
            "this write was undone. Fix: run the command again"
        )
    # Checked after the faults above, some of which are operational errors too.
    if isinstance(err, psycopg.OperationalError) and not isinstance(
        err, psycopg.errors.QueryCanceled
    ):
        return StoreFaultError(
            f"{where}: cannot reach the database ({text}); nothing was changed. Fix: check the "
            "host, port, user, password and database name in the URL, and that the server runs"
        )
    return StoreFaultError(f"{where}: the database reported an error ({text}); nothing was changed")


# -- SQL ----------------------------------------------------------------------------------

_NAMED = re.compile(r"(?<![:\w]):([a-z_]+)\b")


@functools.lru_cache(maxsize=512)
def _sql(text: str) -> str:
    """Turn the shared SQL's parameters (``:name``, ``?``) into psycopg's."""
    return _NAMED.sub(r"%(\1)s", text.replace("%", "%%")).replace("?", "%s")


def _columns(layer: schema.Layer) -> str:
    return ", ".join(f'"{f.name}"' for f in layer.fields)


_LAYERS = (
    schema.CROSSINGS,
    schema.OBSERVATIONS,
    schema.STRUCTURES,
    schema.STATUS_PERIODS,
    schema.TRADE,
    schema.META,
)
#: QGIS's own table of layer styles, as QGIS creates it in PostGIS (it reads the default
#: style from it when it opens a layer).
_LAYER_STYLES_DDL = """
CREATE TABLE IF NOT EXISTS public.layer_styles (
    id SERIAL PRIMARY KEY, f_table_catalog VARCHAR, f_table_schema VARCHAR,
    f_table_name VARCHAR, f_geometry_column VARCHAR, stylename TEXT, styleqml XML,
    stylesld XML, useasdefault BOOLEAN, description TEXT, owner VARCHAR(63) DEFAULT CURRENT_USER,
    ui XML, update_time TIMESTAMP DEFAULT CURRENT_TIMESTAMP, type VARCHAR)"""


def _point(location: LonLat | None) -> bytes | None:
    """Return the WKB of a point (PostGIS reads it with ST_GeomFromWKB)."""
    if location is None:
        return None
    return struct.pack("<BIdd", 1, 1, location.lon, location.lat)


def _location(x: float | None, y: float | None) -> LonLat | None:
    if x is None or y is None or math.isnan(x) or math.isnan(y):
        return None
    return LonLat(x, y)


_GEOM_IN = "ST_SetSRID(ST_GeomFromWKB(%s), 4326)"
_GEOM_OUT = "ST_X(geom), ST_Y(geom)"
_OBS_COLUMNS = _columns(schema.OBSERVATIONS)
_BOOL_AT = [i for i, f in enumerate(schema.OBSERVATIONS.fields) if f.type == "bool"]


def _observation_values(record: Observation) -> list[object]:
    values = list(schema.observation_row(record))
    for i in _BOOL_AT:
        values[i] = bool(values[i])
    return values


#: Idle connections this process has opened, by URL: a process that asks many questions (a
#: notebook, a script) opens one connection per store, not one per question. The server
#: loads PostGIS once per connection, which costs more than most questions.
_IDLE: dict[str, list[psycopg.Connection[Any]]] = {}
_IDLE_LOCK = threading.Lock()
#: How many idle connections a process keeps, over all stores (the oldest closes first).
_IDLE_KEPT = 4


def close_idle_connections() -> None:
    """Close the connections this process keeps for its next questions (see ``_IDLE``)."""
    with _IDLE_LOCK:
        for idle in _IDLE.values():
            while idle:
                idle.pop().close()


atexit.register(close_idle_connections)


def _require_driver(url: str) -> None:
    """Check that psycopg, the database driver, is installed, or name the extra that installs it.

    Raises
    ------
    StoreError
        If it is not: a GeoPackage store needs no driver, so a plain install leaves it out.
    """
    try:
        import psycopg  # noqa: F401 - only whether it can be imported
    except ImportError as err:
        raise StoreError(
            f"{display_url(url)}: a PostGIS store needs the database driver psycopg, which is "
            "not installed. Fix: pip install 'crossings[postgis]'"
        ) from err


def _connect(url: str) -> psycopg.Connection[Any]:
    """Return an idle connection to ``url`` opened before by this process, or a new one."""
    _require_driver(url)
    import psycopg
    from psycopg.conninfo import make_conninfo

    with _IDLE_LOCK:
        idle = _IDLE.get(url, [])
        while idle:
            connection = idle.pop()
            if not connection.closed and not connection.broken:
                return connection
    # The driver is given keywords, never the address: a driver's message about an address
    # it cannot read may quote the part it stumbled on, and that may be the password.
    keywords = {
        "connect_timeout": str(CONNECT_TIMEOUT_S),
        "application_name": _APPLICATION,
        **parse_address(url).keywords,
    }
    try:
        connection = psycopg.connect(make_conninfo("", **keywords), autocommit=True)
        # Every statement prepared at its first use: planning one of the status rule's lookups
        # costs more than running it, and the rule asks each of them many times.
        connection.prepare_threshold = 0
        return connection
    except psycopg.Error as err:
        raise database_fault(err, url) from err
    except ValueError as err:  # psycopg's word for a value it cannot read
        raise NotAStoreError(
            f"{display_url(url)}: is not a database address ({_said(err, url)}). Fix: give "
            "postgresql://USER[:PASSWORD]@HOST:PORT/DATABASE"
        ) from err


#: Records a statement adds at most (each takes 33 parameters; PostgreSQL allows 65,535).
_BATCH_ROWS = 1000


@functools.lru_cache(maxsize=8)
def _insert_of(rows: int) -> str:
    """Return the statement that adds ``rows`` records, skipping ids stored already."""
    marks = ", ".join(["%s"] * len(schema.OBSERVATIONS.fields))
    values = ", ".join([f"({_GEOM_IN}, {marks})"] * rows)
    return (
        f"INSERT INTO observations (geom, {_OBS_COLUMNS}) VALUES {values} "
        "ON CONFLICT (id) DO NOTHING RETURNING id"
    )


def create_postgis_store(
    url: str,
    crossings: Iterable[Crossing],
    observations: Iterable[Observation],
    trade: Iterable[TradeFigure],
    *,
    structures: Iterable[Structure] = (),
    force: bool = False,
) -> str:
    """Create the layers in a database and write the records, in one transaction.

    The database must exist; PostGIS is enabled in it if it is not yet (which
    needs the right to create extensions). With ``force``, the crossings
    tables there are replaced; a failure leaves the database as it was.
    """
    _require_driver(url)
    import psycopg

    connection = _connect(url)
    try:
        with connection.transaction():
            existing = connection.execute(
                "SELECT to_regclass('crossings_meta') IS NOT NULL"
            ).fetchone()
            if existing and existing[0] and not force:
                raise StoreExistsError(
                    f"{display_url(url)} already holds a crossings store. Fix: pass --force to "
                    "rebuild it from the seed (records added since are lost), or name another "
                    "database"
                )
            _enable_postgis(connection, url)
            for layer in _LAYERS:
                connection.execute(f"DROP TABLE IF EXISTS {layer.name} CASCADE")  # type: ignore[arg-type]
                for statement in postgis_ddl(layer):
                    connection.execute(statement)  # type: ignore[arg-type]
            for counted in tally.TALLIES:
                connection.execute(f"DROP TABLE IF EXISTS {counted.table}")  # type: ignore[arg-type]
            for statement, _ in schema.INDEXES:
                connection.execute(statement)  # type: ignore[arg-type]
            for statement in tally.postgis_statements():
                connection.execute(statement)  # type: ignore[arg-type]
            connection.execute(_LAYER_STYLES_DDL)  # type: ignore[arg-type]
            connection.execute(
                "INSERT INTO crossings_meta (key, value) VALUES (%s, %s), (%s, %s)",
                ("application", _APPLICATION, "schema_version", str(SCHEMA_VERSION)),
            )
            write_postgis_styles(connection)
        with PostgisStore(url, writable=True, _connection=connection) as store:
            with store.transaction():
                store.add_crossings(list(crossings))
                store.add_structures(list(structures))
                store.add_trade(list(trade))
                store.add_observations(observations)
        # The planner's statistics of the new tables, before the first question rather than
        # whenever the server's autovacuum comes by: without them it may scan whole tables.
        for layer in _LAYERS:
            connection.execute(f"ANALYZE {layer.name}")  # type: ignore[arg-type]
    except psycopg.Error as err:
        raise database_fault(err, url) from err
    finally:
        connection.close()
    return url


def _enable_postgis(connection: psycopg.Connection[Any], url: str) -> None:
    """Enable PostGIS in the database if it is not yet, or say why it cannot be."""
    import psycopg

    if connection.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone():
        return
    try:
        with connection.transaction():
            connection.execute("CREATE EXTENSION postgis")
    except psycopg.errors.InsufficientPrivilege as err:
        raise StoreFaultError(
            f"{display_url(url)}: PostGIS is not enabled in this database, and this user may "
            "not enable it; nothing was written. Fix: ask the database's owner to run "
            "CREATE EXTENSION postgis in it"
        ) from err
    except psycopg.Error as err:
        raise StoreFaultError(
            f"{display_url(url)}: PostGIS cannot be enabled ({_said(err, url)}); "
            "nothing was written. Fix: install PostGIS on the database server (Debian: "
            "postgresql-15-postgis-3), then run the command again"
        ) from err


#: The columns of the layers' tables in the store's schema, as (table, column, NULL); read
#: from the catalog (information_schema's view of it costs four times as much).
_COLUMNS_PRESENT = (
    "SELECT c.relname::text, a.attname::text, NULL FROM pg_catalog.pg_attribute a "
    "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
    "WHERE c.relnamespace = "
    "(SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema()) "
    "AND c.relname = ANY(%s) "
    "AND a.attnum > 0 AND NOT a.attisdropped"
)


class PostgisStore(Store):
    """An open crossings database. Use :func:`geo.store.open_store` with its URL."""

    def __init__(
        self,
        url: str,
        *,
        writable: bool = False,
        _connection: psycopg.Connection[Any] | None = None,
    ) -> None:
        self.url = url
        self.path = display_url(url)  # what messages name
        self._own_connection = _connection is None
        self._connection = _connection if _connection is not None else _connect(url)
        self._writable = writable
        self._crossings: dict[str, Crossing] | None = None
        self._structures: dict[str, Structure] | None = None
        self._border: list[Observation] | None = None
        #: Every crossing's status on a day, as the server answered it at a moment (see
        #: geo.store.postgis_status.ServerSource): each handed out once, dropped by a write.
        self._day_answers: dict[date, tuple[float, dict[str, StatusAnswer]]] = {}
        self._depth = 0
        self._forget_periods()
        try:
            self._check_format()
            if writable:
                self._keep_default_style()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Give the connection back for this process's next question, or close it."""
        if not self._own_connection:
            return
        import psycopg

        connection = self._connection
        if connection.broken or connection.closed:
            return
        if connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            connection.close()
            return
        with _IDLE_LOCK:
            _IDLE.setdefault(self.url, []).append(connection)
            _IDLE[self.url] = _IDLE.pop(self.url)  # the most recent store last
            while sum(map(len, _IDLE.values())) > _IDLE_KEPT:
                oldest = next(url for url, idle in _IDLE.items() if idle)
                _IDLE[oldest].pop(0).close()

    def _check_format(self) -> None:
        fix = f"Fix: run `crossings init --store {self.path}` to create the layers there"
        import psycopg

        try:
            # The columns come in the same round trip: a server opens a store many times a second.
            rows = self._connection.execute(
                f"SELECT NULL, key, value FROM crossings_meta UNION ALL {_COLUMNS_PRESENT}",
                ([layer.name for layer in _LAYERS],),
            ).fetchall()
        except psycopg.errors.UndefinedTable as err:
            raise NotAStoreError(
                f"{self.path}: the database holds no crossings store (no crossings_meta table). "
                + fix
            ) from err
        except psycopg.Error as err:
            raise database_fault(err, self.url) from err
        meta = {key: value for table, key, value in rows if table is None}
        if meta.get("application") != _APPLICATION:
            raise NotAStoreError(f"{self.path}: is not a crossings store. {fix}")
        version_text = str(meta.get("schema_version", "0"))
        if not version_text.isascii() or not version_text.isdigit():
            raise SchemaVersionError(
                f"{self.path}: has schema version {version_text!r}, which is not a number. It "
                "was not written by crossings, or was changed by another tool"
            )
        if int(version_text) > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"{self.path}: has schema version {version_text}, newer than this release "
                f"reads ({SCHEMA_VERSION}). Fix: upgrade crossings"
            )
        if int(version_text) < min(POSTGIS_STEPS, default=SCHEMA_VERSION + 1) - 1:
            raise SchemaVersionError(
                f"{self.path}: has schema version {version_text}; PostGIS stores begin at "
                "version 3. Fix: restore it from a copy"
            )
        if int(version_text) < SCHEMA_VERSION:
            self._migrate()
            rows = self._rows(_COLUMNS_PRESENT, ([layer.name for layer in _LAYERS],))
        self._check_columns([(table, column) for table, column, _ in rows if table is not None])

    def _migrate(self) -> None:
        """Bring a store of an older version up to this release's, in one transaction.

        Whoever opens it first migrates it (its readers share it, and a read
        of an older table would miss columns); another process migrating at
        the same moment waits for the write lock, then finds nothing to do.
        """
        import psycopg

        with self._transaction() as connection:
            (version_text,) = connection.execute(
                "SELECT value FROM crossings_meta WHERE key = 'schema_version'"
            ).fetchone() or ("0",)
            if int(version_text) < SCHEMA_VERSION:  # else another process has just done it
                _log.warning(MIGRATING, self.path, version_text, SCHEMA_VERSION)
            try:
                for target in range(int(version_text) + 1, SCHEMA_VERSION + 1):
                    POSTGIS_STEPS[target](connection)
                    connection.execute(
                        "INSERT INTO crossings_meta (key, value) VALUES (%s, %s)",
                        (f"migrated_to_{target}", timestamp(datetime.now(UTC))),
                    )
                connection.execute(
                    "UPDATE crossings_meta SET value = %s WHERE key = 'schema_version'",
                    (str(SCHEMA_VERSION),),
                )
                if int(version_text) < PERIODS_VERSION:  # filled as the migration commits
                    for crossing_id in self.crossings():
                        self._periods_from(crossing_id, date.min)
            except psycopg.errors.InsufficientPrivilege as err:
                raise StoreFaultError(
                    f"{self.path}: has schema version {version_text}, and this user may not "
                    f"alter its tables to bring it to version {SCHEMA_VERSION} "
                    f"({_said(err, self.url)}); nothing was changed. Fix: ask the tables' owner "
                    "to run any crossings command against it once, e.g. `crossings validate`"
                ) from err

    def _check_columns(self, columns: Iterable[tuple[str, str]]) -> None:
        """Refuse a store that says it is one but lacks tables or columns of its version."""
        present: dict[str, set[str]] = {}
        for table, column in columns:
            present.setdefault(table, set()).add(column)
        for layer in _LAYERS:
            wanted = ["fid", *(["geom"] if layer.point else []), *layer.names]
            missing = [name for name in wanted if name not in present.get(layer.name, set())]
            if missing:
                raise NotAStoreError(
                    f"{self.path}: says it is a crossings store, but its table {layer.name!r} "
                    f"lacks the column(s) {', '.join(missing)}. It was changed by another tool. "
                    "Fix: restore it from a copy, or copy a sound store in with `crossings copy`"
                )

    def _keep_default_style(self) -> None:
        """Write the layers' QGIS styles again where this database has none of its own.

        QGIS finds a style by the database's name, so a database copied or
        renamed loses them; the next write puts them back.
        """
        found = {
            name
            for (name,) in self._rows(
                "SELECT f_table_name FROM public.layer_styles WHERE "
                "f_table_catalog = current_database() AND f_table_schema = current_schema() "
                "AND useasdefault"
            )
        }
        missing = [style for style in DEFAULT_STYLES if style.layer.name not in found]
        if missing:
            with self._transaction() as connection:
                write_postgis_styles(connection, missing)

    # transactions -----------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """One transaction for every write inside it (nested uses join it)."""
        import psycopg

        if self._depth:
            self._depth += 1
            try:
                yield self._connection
            finally:
                self._depth -= 1
            return
        self._depth = 1
        self._day_answers = {}  # answered before the write, or by its transaction
        try:
            with self._connection.transaction():
                self._lock_writers()
                yield self._connection
                self._settle_periods()  # derived from what was written, committed with it
        except psycopg.Error as err:
            self._crossings = self._structures = self._border = None
            self._forget_periods()
            raise database_fault(err, self.url) from err
        except BaseException:
            self._crossings = self._structures = self._border = None
            self._forget_periods()
            raise
        finally:
            self._depth = 0
            self._day_answers = {}

    def _lock_writers(self) -> None:
        """Queue behind other writers for as long as one transaction; say so when waiting.

        The status derived from the records written then counts every record
        committed before it.
        """
        taken = self._connection.execute("SELECT pg_try_advisory_xact_lock(%s)", (_WRITE_LOCK,))
        if taken.fetchone() == (True,):
            return
        _log.warning("%s: another writer is writing to the store; waiting for it", self.path)
        self._connection.execute("SELECT pg_advisory_xact_lock(%s)", (_WRITE_LOCK,))

    def _rows(self, sql: str, params: Sequence[object] | Mapping[str, object] = ()) -> list[Any]:
        import psycopg

        try:
            return self._connection.execute(sql, params).fetchall()  # type: ignore[arg-type]
        except psycopg.Error as err:
            raise database_fault(err, self.url) from err

    def _query(self, sql: str, params: Mapping[str, object]) -> list[tuple[Any, ...]]:
        return self._rows(_sql(sql), params)

    def status_source(self, crossing_id: str) -> ServerSource:
        """Return what the status rule reads of a crossing: its first question asked of the server.

        One day's status of every crossing is one statement the server answers
        (:mod:`geo.store.postgis_status`); anything else reads through the
        indexes as :meth:`geo.store.base.Store.status_source` does.
        """
        return ServerSource(self, crossing_id)

    # crossings, structures, trade ---------------------------------------------------------

    def add_crossings(self, crossings: Sequence[Crossing]) -> None:
        """Add crossings (validated, ids not yet stored) in one transaction."""
        self._insert(
            "crossings",
            schema.CROSSING_RECORD_FIELDS,
            [(_point(c.location), *schema.crossing_row(c)) for c in crossings],
        )
        self._crossings = None
        for crossing in crossings:  # records of the whole border may name it
            self._periods_from(crossing.id, date.min)

    def add_structures(self, structures: Sequence[Structure]) -> None:
        """Add structures (validated, ids not yet stored) in one transaction."""
        self._insert(
            "structures",
            schema.STRUCTURES.names,
            [(_point(s.location), *schema.structure_row(s)) for s in structures],
        )
        self._structures = None
        for structure in structures:  # its crossing may show its structures' lifecycle
            self._periods_from(structure.crossing_id, date.min)

    def add_trade(self, figures: Sequence[TradeFigure]) -> None:
        """Add trade figures (validated) in one transaction."""
        names = schema.TRADE.names
        marks = ", ".join(["%s"] * len(names))
        with self._transaction() as connection:
            connection.cursor().executemany(
                f"INSERT INTO trade ({', '.join(names)}) VALUES ({marks})",  # type: ignore[arg-type]
                [schema.trade_row(t) for t in figures],
            )

    def _insert(self, table: str, names: Sequence[str], rows: list[tuple[object, ...]]) -> None:
        marks = ", ".join(["%s"] * len(names))
        with self._transaction() as connection:
            connection.cursor().executemany(
                f"INSERT INTO {table} (geom, {', '.join(names)}) "  # type: ignore[arg-type]
                f"VALUES ({_GEOM_IN}, {marks})",
                rows,
            )

    def crossings(self) -> dict[str, Crossing]:
        """Return every crossing by id, in inventory order."""
        if self._crossings is None:
            columns = ", ".join(schema.CROSSING_RECORD_FIELDS)
            rows = self._rows(f"SELECT {_GEOM_OUT}, {columns} FROM crossings ORDER BY fid")
            found = [schema.crossing_from_row(_location(x, y), values) for x, y, *values in rows]
            self._crossings = {c.id: c for c in found}
        return self._crossings

    def structures(self) -> dict[str, Structure]:
        """Return every structure (bridge, dam, gate) by id, in inventory order."""
        if self._structures is None:
            columns = ", ".join(schema.STRUCTURES.names)
            rows = self._rows(f"SELECT {_GEOM_OUT}, {columns} FROM structures ORDER BY fid")
            found = [schema.structure_from_row(_location(x, y), values) for x, y, *values in rows]
            self._structures = {s.id: s for s in found}
        return self._structures

    def trade(self) -> list[TradeFigure]:
        """Return every trade figure, by period."""
        rows = self._rows(
            f"SELECT {', '.join(schema.TRADE.names)} FROM trade "
            "ORDER BY period_start, period_end, fid"
        )
        return [schema.trade_from_row(values) for values in rows]

    # observations ---------------------------------------------------------------------

    @staticmethod
    def _observation(row: Sequence[Any]) -> Observation:
        return schema.observation_from_row(_location(row[0], row[1]), row[2:])

    def _observations(
        self, sql: str, params: Sequence[object] | Mapping[str, object] = ()
    ) -> list[Observation]:
        return [self._observation(row) for row in self._rows(sql, params)]

    def observations(
        self, crossing_id: str | None = None, *, include_border_wide: bool = True
    ) -> list[Observation]:
        """Return observations, oldest first (see geo.store.gpkg.GeoPackageStore.observations)."""
        sql = f"SELECT {_GEOM_OUT}, {_OBS_COLUMNS} FROM observations"
        params: tuple[object, ...] = ()
        if crossing_id is not None:
            sql += " WHERE crossing_id = %s" + (
                " OR crossing_id IS NULL" if include_border_wide else ""
            )
            params = (crossing_id,)
        records = self._observations(sql + " ORDER BY fid", params)
        records.sort(key=lambda o: (o.date.start, o.date.end))
        return records

    def iter_observations(self) -> Iterator[Observation]:
        """Yield every observation in the order it was stored, so each after what it replaces.

        Read through a server-side cursor: memory stays flat at any size.
        """
        import psycopg

        try:
            with self._connection.transaction(), self._connection.cursor(name="records") as rows:
                rows.itersize = 5000
                rows.execute(f"SELECT {_GEOM_OUT}, {_OBS_COLUMNS} FROM observations ORDER BY fid")
                for row in rows:
                    yield self._observation(row)
        except psycopg.Error as err:
            raise database_fault(err, self.url) from err

    def observation(self, observation_id: str) -> Observation | None:
        """Return one observation by id, or None."""
        found = self._observations(
            f"SELECT {_GEOM_OUT}, {_OBS_COLUMNS} FROM observations WHERE id = %s",
            (observation_id,),
        )
        return found[0] if found else None

    def observations_by_id(self, ids: Sequence[str]) -> list[Observation]:
        """Return the stored observations among ``ids`` (unknown ids are left out)."""
        return self._observations(
            f"SELECT {_GEOM_OUT}, {_OBS_COLUMNS} FROM observations WHERE id = ANY(%s)",
            (list(ids),),
        )

    def _row_values(self, record: Observation) -> Sequence[object]:
        return _observation_values(record)

    def _execute(self, sql: str, params: Mapping[str, object]) -> None:
        self._connection.execute(_sql(sql), params)  # type: ignore[arg-type]

    def migrated_at(self, version: int) -> datetime | None:
        """Return when this store was migrated to ``version`` (None: built at it or later)."""
        found = self._rows(
            "SELECT value FROM crossings_meta WHERE key = %s", (f"migrated_to_{version}",)
        )
        return datetime.fromisoformat(found[0][0].replace("Z", "+00:00")) if found else None

    def index_boxes(
        self,
        boxes: Sequence[BBox],
        *,
        since: date | None = None,
        until: date | None = None,
        kind: str | None = None,
        source_type: str | None = None,
    ) -> IndexBoxes:
        """Return the spatial index's answer for ``boxes``: feature ids and their points.

        The GIST index finds them; filters as in the GeoPackage's ``index_boxes``.
        """
        import numpy as np

        where, params = self._index_where(boxes, None, since, until, kind, source_type)
        rows = self._rows(
            f"SELECT fid, ST_X(geom), ST_Y(geom) FROM observations WHERE {where}", params
        )
        table = np.array(rows, dtype=float).reshape(-1, 3)
        x, y = table[:, 1], table[:, 2]
        return IndexBoxes(table[:, 0].astype(np.int64), x, x, y, y)

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

        In file order: the GIST index finds the box around the circle, and the
        server leaves out the points outside :func:`geo.query.dwithin_ellipse`.
        """
        where, params = self._index_where(
            dwithin_boxes(center, distance_m),
            dwithin_ellipse(center, distance_m),
            since,
            until,
            kind,
            source_type,
        )
        rows = self._rows(f"SELECT fid FROM observations WHERE {where} ORDER BY fid", params)
        return [fid for (fid,) in rows]

    @staticmethod
    def _index_where(
        boxes: Sequence[BBox],
        ellipse: Ellipse | None,
        since: date | None,
        until: date | None,
        kind: str | None,
        source_type: str | None,
    ) -> tuple[str, list[object]]:
        """Build the condition for ``boxes`` (and ``ellipse``) and the filters, with its values."""
        where = " OR ".join(["geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)"] * len(boxes))
        params: list[object] = []
        for box in boxes:
            params += [box.west, box.south, box.east, box.north]
        where = f"({where or 'false'})"
        if ellipse is not None:
            where += " AND (ST_Y(geom) - %s) ^ 2 + %s * (ST_X(geom) - %s) ^ 2 <= %s"
            params += [ellipse.center.lat, ellipse.lon_weight, ellipse.center.lon, ellipse.limit]
        for test, value in question_filters(since, until, kind, source_type):
            where += f" AND {test} %s"
            params.append(value)
        return where, params

    def sightings_by_fid(self, fids: Sequence[int]) -> list[Sighting]:
        """Return light records of these feature ids in force, in the same order."""
        fids = [int(f) for f in fids]
        rows = self._rows(
            f"SELECT fid, {_GEOM_OUT}, {', '.join(schema.SIGHTING_FIELDS)} FROM observations o "
            f"WHERE fid = ANY(%s) AND {IN_FORCE}",
            (fids,),
        )
        found = {
            row[0]: schema.sighting_from_row(_location(row[1], row[2]), row[3:]) for row in rows
        }
        return [found[fid] for fid in fids if fid in found]

    def observations_by_fid(
        self, fids: Sequence[int], *, in_force: bool = False
    ) -> list[Observation]:
        """Return the observations with these feature ids, in the same order."""
        where = (
            " AND kind != 'retraction' AND NOT EXISTS "
            "(SELECT 1 FROM observations r WHERE r.replaces = o.id)"
            if in_force
            else ""
        )
        rows = self._rows(
            f"SELECT fid, {_GEOM_OUT}, {_OBS_COLUMNS} FROM observations o "
            f"WHERE fid = ANY(%s){where}",
            ([int(f) for f in fids],),
        )
        found = {row[0]: self._observation(row[1:]) for row in rows}
        return [found[int(fid)] for fid in fids if int(fid) in found]

    _COLUMNS = f"{_GEOM_OUT}, {_OBS_COLUMNS}"

    def _decode(self, rows: list[tuple[Any, ...]]) -> list[Observation]:
        return [self._observation(row) for row in rows]

    def add_observations(
        self,
        records: Iterable[Observation],
        *,
        on_duplicate: str = "error",
        bulk: bool = False,
        expected_rows: int = 0,
    ) -> list[str]:
        """Add records in one transaction: all of them, or none if one is refused.

        As :meth:`geo.store.gpkg.GeoPackageStore.add_observations`. A record another writer
        stored at the same moment is a duplicate like any other.
        """
        if on_duplicate not in ("error", "ignore"):
            raise ValueError(f"on_duplicate={on_duplicate!r}: must be 'error' or 'ignore'")
        crossings = self.crossings()
        written = WrittenIds()
        with self._transaction() as connection:
            batch: list[tuple[Observation, list[object]]] = []
            for record in records:
                if record.replaces is not None:
                    self._write(connection, batch, written, on_duplicate)
                    self._check_replaces(record)
                location = record.location
                if location is None and record.crossing_id is not None:
                    location = crossings[record.crossing_id].location
                batch.append((record, [_point(location), *_observation_values(record)]))
                if len(batch) == _BATCH_ROWS:
                    self._write(connection, batch, written, on_duplicate)
            self._write(connection, batch, written, on_duplicate)
            self._border = None
        return written.as_list()

    def _write(
        self,
        connection: psycopg.Connection[Any],
        batch: list[tuple[Observation, list[object]]],
        written: WrittenIds,
        on_duplicate: str,
    ) -> None:
        """Insert a batch in one statement, whose triggers then run once, not once a record.

        (The counts the store keeps are updated by statement, see geo.store.tally.)
        """
        if not batch:
            return
        stored = {
            row[0]
            for row in connection.execute(
                _insert_of(len(batch)),  # type: ignore[arg-type]
                [value for _, row in batch for value in row],
            )
        }
        seen: set[str] = set()
        kept = []
        for record, _ in batch:
            if record.id in stored and record.id not in seen:
                seen.add(record.id)
                kept.append(record.id)
                self._note_periods(record)
                continue
            self._refuse_duplicate(record, on_duplicate)
        written.add(kept)
        batch.clear()

    # the status snapshot and the status periods ------------------------------------------

    def _insert_periods(
        self, crossing: Crossing, rows: Sequence[tuple[date, date | None, tuple[object, ...]]]
    ) -> None:
        """Write a crossing's status periods at its point (see geo.store.periods)."""
        if not rows:
            return
        names = schema.STATUS_PERIODS.names
        columns = ", ".join(f'"{name}"' for name in names)
        marks = ", ".join(["%s"] * len(names))
        head = (_point(crossing.location), crossing.id, crossing.name_en)
        self._connection.cursor().executemany(
            f"INSERT INTO status_periods (geom, {columns}) VALUES ({_GEOM_IN}, {marks})",  # type: ignore[arg-type]
            [(*head, start, end, *said) for start, end, said in rows],
        )

    def write_status_snapshot(
        self, statuses: Iterable[tuple[str, str | None, str | None, str | None]], as_of: date
    ) -> None:
        """Store each crossing's ``(id, status, since, source)`` on ``as_of``, for GIS styling."""
        with self._transaction() as connection:
            connection.cursor().executemany(
                "UPDATE crossings SET status_now = %s, status_since = %s, status_source = %s, "
                "status_as_of = %s WHERE id = %s",
                [
                    (status, since, source, as_of, crossing_id)
                    for crossing_id, status, since, source in statuses
                ],
            )

    def status_snapshot_day(self, crossing_id: str) -> date | None:
        """Return the day a crossing's status snapshot was computed (None: never)."""
        rows = self._rows("SELECT status_as_of FROM crossings WHERE id = %s", (crossing_id,))
        return rows[0][0] if rows and rows[0][0] else None

    # data frames ----------------------------------------------------------------------

    def _frame(self, layer: schema.Layer, where: str = "", params: Sequence[object] = ()) -> Any:
        import pandas as pd

        import geopandas as gpd

        geometry = ", ST_AsBinary(geom) AS geom" if layer.point else ""
        cursor = self._connection.execute(
            f"SELECT fid, {_columns(layer)}{geometry} FROM {layer.name}{where} "  # type: ignore[arg-type]
            "ORDER BY fid",
            params,
        )
        names = [column.name for column in cursor.description or ()]
        frame = pd.DataFrame(cursor.fetchall(), columns=names).set_index("fid")
        for field in layer.fields:
            if field.type in ("date", "datetime"):
                frame[field.name] = pd.to_datetime(frame[field.name], utc=field.type == "datetime")
        if not layer.point:
            return frame
        geoms = gpd.GeoSeries.from_wkb(frame.pop("geom").map(bytes, na_action="ignore"))
        return gpd.GeoDataFrame(frame, geometry=geoms.values, crs="EPSG:4326")

    def crossings_frame(self) -> Any:
        """Return the crossings as a GeoDataFrame (EPSG:4326)."""
        return self._frame(schema.CROSSINGS)

    def observations_frame(self, crossing_id: str | None = None) -> Any:
        """Return observations as a GeoDataFrame, with real date columns, oldest first."""
        if crossing_id is None:
            frame = self._frame(schema.OBSERVATIONS)
        else:
            frame = self._frame(schema.OBSERVATIONS, " WHERE crossing_id = %s", (crossing_id,))
        return frame.sort_values(["date_start", "date_end"], kind="stable")

    def trade_frame(self) -> Any:
        """Return the trade figures as a DataFrame, by period."""
        return self._frame(schema.TRADE).sort_values(["period_start", "period_end"], kind="stable")

    # integrity ------------------------------------------------------------------------

    def integrity_problems(self) -> list[str]:
        """Return what the store's own references and geometries get wrong (empty: fine)."""
        problems = self._reference_problems()
        for layer in ("crossings", "structures", "observations", "status_periods"):
            problems += [
                f"{layer}: feature {fid} has a geometry that is not a point in EPSG:4326"
                for (fid,) in self._rows(
                    f"SELECT fid FROM {layer} WHERE geom IS NOT NULL AND "  # type: ignore[str-bytes-safe]
                    "(ST_SRID(geom) != 4326 OR GeometryType(geom) != 'POINT')"
                )
            ]
        return problems + tally.problems(self, postgis=True)
