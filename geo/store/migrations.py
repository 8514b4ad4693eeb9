"""Named, recorded migrations of both backends: each brings a store of the version before up.

A store is migrated in one transaction when it is opened for writing (a
GeoPackage; a PostGIS store, which begins at version 3, whenever it is
opened: its readers share it), and each step is noted in ``crossings_meta``
(``migrated_to_N``). A step that only adds the fields a version declares (in
:mod:`geo.schema`, ``since=N``) is :func:`added_fields`: the same on both backends.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from geo.qgis import STYLE_NAME, crossings_qml
from geo.store import schema

__all__ = [
    "GEOPACKAGE_STEPS",
    "PG_TYPES",
    "POSTGIS_STEPS",
    "SQL_TYPES",
    "added_fields",
    "create_indexes_3",
    "insert_default_style",
]

#: The column type of each field type: in a GeoPackage (for columns a migration adds; GDAL
#: creates a new store's), and in PostGIS.
SQL_TYPES = {
    "str": "TEXT",
    "int": "INTEGER",
    "bool": "BOOLEAN",
    "date": "DATE",
    "datetime": "DATETIME",
}
PG_TYPES = {
    "str": "TEXT",
    "int": "INTEGER",
    "int64": "BIGINT",
    "bool": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMPTZ",
}


def _types(layer: schema.Layer, *, since: int | None = None) -> dict[str, str]:
    return {f.name: f.type for f in layer.fields if since is None or f.since == since}


# The structures layer as version 3 made it: later versions add their own fields.
_STRUCTURE_FIELDS = {f.name: f.type for f in schema.STRUCTURES.at(3)}
_LAYER_STYLE_FIELDS = _types(schema.LAYER_STYLES)
_OBSERVATION_FIELDS_3 = _types(schema.OBSERVATIONS, since=3)


def added_fields(version: int) -> list[tuple[schema.Layer, schema.Field]]:
    """Return the fields that ``version`` adds to layers that exist before it, by layer."""
    return [
        (layer, field)
        for layer in (schema.CROSSINGS, schema.OBSERVATIONS, schema.STRUCTURES, schema.TRADE)
        for field in layer.fields
        if field.since == version
    ]


def insert_default_style(connection: sqlite3.Connection) -> None:
    """Write the crossings layer's default QGIS style into a GeoPackage."""
    connection.execute(
        "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
        "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
        "owner, ui, update_time) VALUES ('', '', 'crossings', 'geom', ?, ?, '', 1, ?, '', "
        "'', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        (STYLE_NAME, crossings_qml(), "Crossings coloured by status_now, labelled with names"),
    )


def _migrate_to_2(connection: sqlite3.Connection) -> None:
    """Version 2: the status snapshot columns and the QGIS style of the crossings layer."""
    for name, kind in (
        ("status_now", "TEXT"),
        ("status_since", "TEXT"),
        ("status_source", "TEXT"),
        ("status_as_of", "DATE"),
    ):
        connection.execute(f'ALTER TABLE crossings ADD COLUMN "{name}" {kind}')
    columns = ", ".join(f'"{name}" {SQL_TYPES[kind]}' for name, kind in _LAYER_STYLE_FIELDS.items())
    connection.execute(
        f'CREATE TABLE layer_styles ("fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, {columns})'
    )
    connection.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
        "VALUES ('layer_styles', 'attributes', 'layer_styles', "
        "'QGIS styles: the crossings layer''s default style', "
        "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
    )
    insert_default_style(connection)


def _layer_ddl(name: str, fields: dict[str, str]) -> list[tuple[str, tuple[object, ...]]]:
    """Return the statements with which GDAL creates a point layer, to replay in a migration.

    GDAL writes the layer into a scratch GeoPackage; its table, R-tree and
    triggers, and its rows of the gpkg_* tables, are read back as statements.
    """
    import fiona

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "layer.gpkg"
        layout = {"geometry": "Point", "properties": fields}
        with fiona.open(path, "w", driver="GPKG", layer=name, schema=layout, crs="EPSG:4326"):
            pass
        source = sqlite3.connect(path)
        try:
            # The table, the R-tree's virtual table (its shadow tables come with it), triggers.
            statements: list[tuple[str, tuple[object, ...]]] = [
                (sql, ())
                for (sql,) in source.execute(
                    "SELECT sql FROM sqlite_master WHERE tbl_name IN (?, ?) AND sql IS NOT NULL "
                    "ORDER BY type = 'trigger', rowid",
                    (name, f"rtree_{name}_geom"),
                )
            ]
            for table in ("gpkg_contents", "gpkg_geometry_columns", "gpkg_extensions"):
                for row in source.execute(f"SELECT * FROM {table} WHERE table_name = ?", (name,)):
                    marks = ", ".join("?" * len(row))
                    statements.append((f"INSERT INTO {table} VALUES ({marks})", tuple(row)))
        finally:
            source.close()
    return statements


def _migrate_to_3(connection: sqlite3.Connection) -> None:
    """Version 3: structures, and what a record says beyond its date and status.

    Observations gain applies_to, until, structure_id, traffic, expected,
    lifecycle and source_is_mirror (empty on existing records, which keep
    their ids and contents); a ``structures`` point layer is added.
    """
    for name, kind in _OBSERVATION_FIELDS_3.items():
        connection.execute(f'ALTER TABLE observations ADD COLUMN "{name}" {SQL_TYPES[kind]}')
    for statement, params in _layer_ddl("structures", _STRUCTURE_FIELDS):
        connection.execute(statement, params)
    # GDAL's feature count of the layer, which its triggers keep (every store has the table).
    connection.execute(
        "INSERT OR IGNORE INTO gpkg_ogr_contents (table_name, feature_count) "
        "VALUES ('structures', 0)"
    )
    create_indexes_3(connection)
    # Version 2 widened the observations' extent only for records with a point of their own.
    connection.execute(_TRUE_OBSERVATIONS_EXTENT)
    # The default style gains the statuses of this version (a style, not a record).

    connection.execute(
        "UPDATE layer_styles SET styleQML = ?, update_time = strftime('%Y-%m-%dT%H:%M:%fZ', "
        "'now') WHERE f_table_name = 'crossings' AND styleName = ?",
        (crossings_qml(), STYLE_NAME),
    )


#: Set the observations' extent in gpkg_contents to its spatial index's, which covers all.
_TRUE_OBSERVATIONS_EXTENT = """
    UPDATE gpkg_contents SET (min_x, min_y, max_x, max_y) = (
        SELECT min(minx), min(miny), max(maxx), max(maxy) FROM rtree_observations_geom)
    WHERE table_name = 'observations'"""

#: Indexes of schema version 3 (see geo.store.schema.INDEXES), and those of version 2 that
#: served a rule this version no longer has (no question reads records by date alone: each
#: index costs every write).
_INDEXES_3 = (
    *(statement for statement, since in schema.INDEXES if since == 3),
    "DROP INDEX IF EXISTS observations_status",
    "DROP INDEX IF EXISTS observations_date",
)


def create_indexes_3(connection: sqlite3.Connection) -> None:
    """Create the indexes of version 3 in a GeoPackage, dropping those it no longer uses."""
    # One statement at a time: executescript() would commit a migration's transaction.
    for statement in _INDEXES_3:
        connection.execute(statement)
    connection.execute(
        "UPDATE gpkg_contents SET description = ? WHERE table_name = 'structures'",
        ("Bridges, dams and gates of the crossings, one point each",),
    )


def _add_fields_gpkg(version: int) -> Callable[[sqlite3.Connection], None]:
    def step(connection: sqlite3.Connection) -> None:
        for layer, field in added_fields(version):
            connection.execute(
                f'ALTER TABLE {layer.name} ADD COLUMN "{field.name}" {SQL_TYPES[field.type]}'
            )

    step.__doc__ = f"Version {version}: the fields it declares, empty on existing rows."
    return step


def _add_fields_postgis(version: int) -> Callable[[Any], None]:
    def step(connection: Any) -> None:
        for layer, field in added_fields(version):
            connection.execute(
                f'ALTER TABLE {layer.name} ADD COLUMN "{field.name}" {PG_TYPES[field.type]}'
            )
            text = field.description.replace("'", "''")
            connection.execute(f"COMMENT ON COLUMN {layer.name}.\"{field.name}\" IS '{text}'")

    step.__doc__ = f"Version {version}: the fields it declares, empty on existing rows."
    return step


# The version each step brings a store of the version before up to. Version 1 is the first
# GeoPackage schema; PostGIS stores begin at version 3.
GEOPACKAGE_STEPS: dict[int, Callable[[sqlite3.Connection], None]] = {
    2: _migrate_to_2,
    3: _migrate_to_3,
    4: _add_fields_gpkg(4),
    5: _add_fields_gpkg(5),
}
POSTGIS_STEPS: dict[int, Callable[[Any], None]] = {
    4: _add_fields_postgis(4),
    5: _add_fields_postgis(5),
}
