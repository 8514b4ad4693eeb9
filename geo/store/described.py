"""The GeoPackage Schema extension: each field's description and vocabulary, in the file.

``gpkg_data_columns`` gives each declared field (:mod:`geo.schema`) its
description, as ``title`` (what GDAL 3.7 and later, and so QGIS, show as the
field's alias) and ``description`` (its comment); a field with a vocabulary
names its constraint in ``gpkg_data_column_constraints``, one ``enum`` row a
value. The two ``gpkg_extensions`` rows that the GeoPackage specification
requires of the extension (``gpkg_schema``, read-write) come with them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from geo.store.schema import LAYERS, Layer

__all__ = ["EXTENSION_DEFINITION", "constraint_name", "describe_fields"]

#: Where the GeoPackage specification defines the extension.
EXTENSION_DEFINITION = "http://www.geopackage.org/spec121/#extension_schema"

# The tables as the specification (1.2.1 on) defines them.
_TABLES = (
    """CREATE TABLE IF NOT EXISTS gpkg_data_columns (
        table_name TEXT NOT NULL, column_name TEXT NOT NULL, name TEXT, title TEXT,
        description TEXT, mime_type TEXT, constraint_name TEXT,
        CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
        CONSTRAINT gdc_tn UNIQUE (table_name, name))""",
    """CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (
        constraint_name TEXT NOT NULL, constraint_type TEXT NOT NULL, value TEXT, min NUMERIC,
        min_is_inclusive BOOLEAN, max NUMERIC, max_is_inclusive BOOLEAN, description TEXT,
        CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value))""",
)


def constraint_name(layer: Layer, field_name: str) -> str:
    """Return the name of a field's vocabulary in ``gpkg_data_column_constraints``.

    Examples
    --------
    >>> from geo.schema import OBSERVATIONS
    >>> constraint_name(OBSERVATIONS, "kind")
    'observations_kind'
    """
    return f"{layer.name}_{field_name}"


def describe_fields(connection: sqlite3.Connection, layers: Sequence[Layer] = LAYERS) -> None:
    """Write the descriptions and vocabularies of the layers' fields into a GeoPackage.

    What the tables held for these layers is replaced, so that the file says
    what this release declares; run inside the caller's transaction.
    """
    for statement in _TABLES:
        connection.execute(statement)
    for table in ("gpkg_data_columns", "gpkg_data_column_constraints"):
        connection.execute(
            "INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, "
            "scope) SELECT ?, NULL, 'gpkg_schema', ?, 'read-write' WHERE NOT EXISTS (SELECT 1 "
            "FROM gpkg_extensions WHERE table_name = ? AND extension_name = 'gpkg_schema')",
            (table, EXTENSION_DEFINITION, table),
        )
    for layer in layers:
        connection.execute("DELETE FROM gpkg_data_columns WHERE table_name = ?", (layer.name,))
        connection.executemany(
            "DELETE FROM gpkg_data_column_constraints WHERE constraint_name = ?",
            [(constraint_name(layer, f.name),) for f in layer.fields],
        )
        connection.executemany(
            "INSERT INTO gpkg_data_columns (table_name, column_name, name, title, description, "
            "mime_type, constraint_name) VALUES (?, ?, NULL, ?, ?, NULL, ?)",
            [
                (
                    layer.name,
                    f.name,
                    f.description,
                    f.description,
                    constraint_name(layer, f.name) if f.vocabulary else None,
                )
                for f in layer.fields
            ],
        )
        connection.executemany(
            "INSERT INTO gpkg_data_column_constraints (constraint_name, constraint_type, value, "
            "description) VALUES (?, 'enum', ?, ?)",
            [
                (constraint_name(layer, f.name), value, value.replace("_", " "))
                for f in layer.fields
                for value in f.vocabulary
            ],
        )
