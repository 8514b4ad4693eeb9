"""Edit marks: how many times each layer's rows were changed or deleted in place.

Records are added, never rewritten, by this tool; a process that keeps what
it read (a server's timelines, see geo.timelines) learns of additions from the
layers' last feature ids. Another program sharing the store (QGIS, a script)
may also change or delete rows in place: triggers count those changes in the
``layer_edits`` table, on both backends, so a reader finds them with one query.
Additions are not counted (an import stays as fast as before), and neither is
the status snapshot this tool writes into the crossings layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from geo.store.gpkg import is_geopackage
from geo.store.schema import CROSSINGS

if TYPE_CHECKING:
    from geo.store.base import Store

__all__ = ["EDITS_TABLE", "EDITS_TOTAL", "ensure_edit_marks", "has_edit_marks"]

EDITS_TABLE = "layer_edits"
#: The layers a reader keeps what it read of.
_MARKED = ("observations", "crossings", "structures", "trade")
#: The status snapshot this tool keeps in the crossings layer: not an edit.
_SNAPSHOT = ("status_now", "status_since", "status_source", "status_as_of")
_CROSSING_FIELDS = ", ".join(
    ["geom", *(f'"{f.name}"' for f in CROSSINGS.fields if f.name not in _SNAPSHOT)]
)
_TRIGGERS = tuple(f"{layer}_{event}" for layer in _MARKED for event in ("edited", "deleted"))
#: PostgreSQL: one trigger a layer for every kind of change, and the order of new records.
_PG_TRIGGERS = (*(f"{layer}_edited" for layer in _MARKED), "observations_in_order")
#: Every change counted so far.
EDITS_TOTAL = f"SELECT sum(edits) FROM {EDITS_TABLE}"

_REGISTER = (
    "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
    "SELECT :name, 'attributes', :name, :description, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
    "WHERE NOT EXISTS (SELECT 1 FROM gpkg_contents WHERE table_name = :name)"
)
_DESCRIPTION = "Changes and deletions of each layer's rows in place, counted by triggers"


_SQLITE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {EDITS_TABLE} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "
    "layer TEXT NOT NULL UNIQUE, edits INTEGER NOT NULL DEFAULT 0)"
)
_POSTGRES_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {EDITS_TABLE} (fid BIGSERIAL PRIMARY KEY, "
    "layer TEXT NOT NULL UNIQUE, edits BIGINT NOT NULL DEFAULT 0)"
)
#: Once a statement: a change of many rows counts once, and costs one update.
_POSTGRES_COUNT = (
    "CREATE OR REPLACE FUNCTION crossings_layer_edited() RETURNS trigger LANGUAGE plpgsql "
    f"AS $body$ BEGIN UPDATE {EDITS_TABLE} SET edits = edits + 1 WHERE layer = "
    "TG_TABLE_NAME; RETURN NULL; END $body$"
)


def _sqlite_statements() -> list[str]:
    found = [_SQLITE_TABLE]
    for layer in _MARKED:
        found.append(f"INSERT OR IGNORE INTO {EDITS_TABLE} (layer, edits) VALUES ('{layer}', 0)")
        count = f"BEGIN UPDATE {EDITS_TABLE} SET edits = edits + 1 WHERE layer = '{layer}'; END"
        changed = f"UPDATE OF {_CROSSING_FIELDS}" if layer == "crossings" else "UPDATE"
        found.append(
            f"CREATE TRIGGER IF NOT EXISTS {layer}_edited AFTER {changed} ON {layer} {count}"
        )
        found.append(
            f"CREATE TRIGGER IF NOT EXISTS {layer}_deleted AFTER DELETE ON {layer} {count}"
        )
    return found


#: A database gives new records their ids from a sequence, before their transactions commit: a
#: record with a lower id could then commit after one with a higher, and a reader that follows
#: the last id would miss it. Each statement that adds records first takes a lock that its
#: transaction keeps to its end, so ids are given, and records committed, in one order (as a
#: GeoPackage, written by one transaction at a time, gives them).
_POSTGRES_IN_ORDER = (
    (
        "CREATE OR REPLACE FUNCTION crossings_records_in_order() RETURNS trigger LANGUAGE plpgsql "
        f"AS $body$ BEGIN PERFORM 1 FROM {EDITS_TABLE} WHERE layer = 'observations' FOR UPDATE; "
        "RETURN NULL; END $body$"
    ),
    (
        "CREATE OR REPLACE TRIGGER observations_in_order BEFORE INSERT ON observations "
        "FOR EACH STATEMENT EXECUTE FUNCTION crossings_records_in_order()"
    ),
)


def _postgres_statements() -> list[str]:
    found = [_POSTGRES_TABLE, _POSTGRES_COUNT]
    for layer in _MARKED:
        found.append(
            f"INSERT INTO {EDITS_TABLE} (layer, edits) VALUES ('{layer}', 0) "
            "ON CONFLICT (layer) DO NOTHING"
        )
        changed = f"UPDATE OF {_CROSSING_FIELDS}" if layer == "crossings" else "UPDATE"
        found.append(
            f"CREATE OR REPLACE TRIGGER {layer}_edited AFTER {changed} OR DELETE OR TRUNCATE "
            f"ON {layer} FOR EACH STATEMENT EXECUTE FUNCTION crossings_layer_edited()"
        )
    return [*found, *_POSTGRES_IN_ORDER]


def has_edit_marks(store: Store) -> bool:
    """Whether the store counts its edits in place (:func:`ensure_edit_marks` was run on it)."""
    sql, wanted = edit_marks_counted(store)
    return int(store._query(sql, {})[0][0]) == wanted


def edit_marks_counted(store: Store) -> tuple[str, int]:
    """Return a query counting the store's triggers that mark edits, and how many it must find."""
    triggers = _TRIGGERS if is_geopackage(store) else _PG_TRIGGERS
    names = ", ".join(f"'{name}'" for name in triggers)
    if is_geopackage(store):
        sql = f"SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ({names})"
    else:
        sql = (
            "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE "
            "c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) "
            f"AND t.tgname IN ({names})"
        )
    return sql, len(triggers)


def ensure_edit_marks(store: Store) -> None:
    """Create the table and triggers where the store lacks them (the store must be writable).

    ``IF NOT EXISTS`` and ``OR REPLACE``, in one transaction: two servers
    starting at once create them once.
    """
    if has_edit_marks(store):
        return
    with store.transaction():
        for statement in _sqlite_statements() if is_geopackage(store) else _postgres_statements():
            store._execute(statement, {})
        if is_geopackage(store):
            store._execute(_REGISTER, {"name": EDITS_TABLE, "description": _DESCRIPTION})
