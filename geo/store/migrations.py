"""Named, recorded migrations of both backends: each brings a store of the version before up.

A store is migrated in one transaction when it is opened for writing (a
GeoPackage; a PostGIS store, which begins at version 3, whenever it is
opened: its readers share it), and each step is noted in ``crossings_meta``
(``migrated_to_N``). A step that only adds the fields a version declares (in
:mod:`geo.schema`, ``since=N``) is :func:`added_fields`: the same on both backends.
A step that adds a derived layer (version 6, the status periods) creates it
empty: the store fills it before the migration commits.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from geo.qgis import DEFAULT_STYLES, STYLE_NAME, Style, crossings_qml, layer_qml
from geo.store import schema, tally
from geo.store.described import describe_fields

__all__ = [
    "GEOPACKAGE_STEPS",
    "MIGRATING",
    "PG_TYPES",
    "POSTGIS_STEPS",
    "SQL_TYPES",
    "added_fields",
    "create_indexes",
    "create_indexes_3",
    "insert_default_styles",
    "postgis_ddl",
    "write_postgis_styles",
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


#: Said as a migration begins: counting a large store's records takes a while.
MIGRATING = (
    "%s: bringing the store from schema version %s up to %s, once; its records are kept "
    "(a store of millions of records takes a minute or more)"
)

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


def insert_default_styles(
    connection: sqlite3.Connection, styles: Sequence[Style] = DEFAULT_STYLES
) -> None:
    """Write layers' default QGIS styles into a GeoPackage (QGIS reads them as it opens each).

    A style is found by its layer's table and geometry column (none for a
    table without points), as QGIS asks for it.
    """
    connection.executemany(
        "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
        "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
        "owner, ui, update_time) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', "
        "'', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        [
            (
                style.layer.name,
                "geom" if style.layer.point else "",
                style.name,
                layer_qml(style),
                style.description,
            )
            for style in styles
        ],
    )


def postgis_ddl(layer: schema.Layer) -> list[str]:
    """Return the statements that create a layer's table in PostGIS, described as declared."""
    columns = ", ".join(f'"{f.name}" {PG_TYPES[f.type]}' for f in layer.fields)
    geometry = "geom geometry(Point, 4326), " if layer.point else ""
    statements = [
        f"CREATE TABLE {layer.name} (fid BIGSERIAL PRIMARY KEY, {geometry}{columns})",
        f"COMMENT ON TABLE {layer.name} IS '{layer.description.replace(chr(39), chr(39) * 2)}'",
    ]
    if layer.point:
        statements.append(f"CREATE INDEX {layer.name}_geom ON {layer.name} USING GIST (geom)")
    for field in layer.fields:
        text = field.description.replace("'", "''")
        statements.append(f"COMMENT ON COLUMN {layer.name}.\"{field.name}\" IS '{text}'")
    return statements


def write_postgis_styles(connection: Any, styles: Sequence[Style] = DEFAULT_STYLES) -> None:
    """Write layers' default QGIS styles into a PostGIS database, replacing this release's own.

    QGIS's PostgreSQL provider finds a style by the database's and schema's
    names, the table and its geometry column (NULL for a table without points).
    """
    for style in styles:
        connection.execute(
            "DELETE FROM public.layer_styles WHERE f_table_catalog = current_database() AND "
            "f_table_schema = current_schema() AND f_table_name = %s AND stylename = %s",
            (style.layer.name, style.name),
        )
        connection.execute(
            "INSERT INTO public.layer_styles (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, stylename, styleqml, stylesld, useasdefault, description) "
            "VALUES (current_database(), current_schema(), %s, %s, %s, %s, '', true, %s)",
            (
                style.layer.name,
                "geom" if style.layer.point else None,
                style.name,
                layer_qml(style),
                style.description,
            ),
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
    insert_default_styles(connection, DEFAULT_STYLES[:1])  # the crossings layer's


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


def create_indexes(connection: Any, version: int) -> None:
    """Create the indexes that schema ``version`` added (geo.store.schema.INDEXES)."""
    for statement, since in schema.INDEXES:
        if since == version:
            connection.execute(statement)


def _migrate_to_6(connection: sqlite3.Connection) -> None:
    """Version 6: the status periods layer, every layer's QGIS style, the fields' descriptions.

    The layer is created empty; the store fills it, for every crossing, before
    the migration's transaction commits (geo.store.base.Store._settle_periods).
    """
    for statement, params in _layer_ddl("status_periods", _types(schema.STATUS_PERIODS)):
        connection.execute(statement, params)
    connection.execute(
        "INSERT OR IGNORE INTO gpkg_ogr_contents (table_name, feature_count) "
        "VALUES ('status_periods', 0)"
    )
    create_indexes(connection, 6)
    for layer in (schema.STATUS_PERIODS, schema.LAYER_STYLES):
        connection.execute(
            "UPDATE gpkg_contents SET description = ? WHERE table_name = ?",
            (layer.description, layer.name),
        )
    insert_default_styles(connection, DEFAULT_STYLES[1:])  # the crossings layer's is there
    describe_fields(connection)


def _migrate_to_6_postgis(connection: Any) -> None:
    """Version 6: the status periods layer and every layer's QGIS style.

    The layer is created empty; the store fills it, for every crossing, before
    the migration's transaction commits.
    """
    for statement in postgis_ddl(schema.STATUS_PERIODS):
        connection.execute(statement)
    create_indexes(connection, 6)
    write_postgis_styles(connection)


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


def _migrate_to_7(connection: sqlite3.Connection) -> None:
    """Version 7: the records counted on a grid and a year, kept by triggers (geo.store.tally)."""
    for statement in tally.gpkg_statements():
        connection.execute(statement)


def _migrate_to_7_postgis(connection: Any) -> None:
    """Version 7: the records counted on a grid and a year, kept by triggers (geo.store.tally)."""
    for statement in tally.postgis_statements():
        connection.execute(statement)


# The version each step brings a store of the version before up to. Version 1 is the first
# GeoPackage schema; PostGIS stores begin at version 3.
GEOPACKAGE_STEPS: dict[int, Callable[[sqlite3.Connection], None]] = {
    2: _migrate_to_2,
    3: _migrate_to_3,
    4: _add_fields_gpkg(4),
    5: _add_fields_gpkg(5),
    6: _migrate_to_6,
    7: _migrate_to_7,
}
POSTGIS_STEPS: dict[int, Callable[[Any], None]] = {
    4: _add_fields_postgis(4),
    5: _add_fields_postgis(5),
    6: _migrate_to_6_postgis,
    7: _migrate_to_7_postgis,
}
