"""The records counted on a grid, kept by every write: what a map draws past its marker limit.

A map of a large store draws its records as counts on a grid of
:data:`CELL_DEG` degrees. Counting them afresh reads the whole spatial index
(19 s at 10,000,000 records); the ``observation_cells`` table keeps each
cell's count instead, and triggers on the observations layer keep it true in
the transaction of each write, by this tool or by any other program sharing
the store (QGIS, ``ogr2ogr``, a script): a map then reads as many rows as
it draws cells. Schema version 7 added it; its migration counts the records
once.

A cell is named by its centre in whole cells from 0°, 0°:
``round(lon / CELL_DEG)``, rounded half away from zero, as SQLite's and
PostgreSQL's ``round`` of a number round. A record counts where the spatial
index holds it (a record without a point of its own at its crossing's point;
one without a point at all nowhere).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "CELLS_TABLE",
    "CELL_DEG",
    "GPKG_COUNTED",
    "GPKG_INDEX_COUNTED",
    "POSTGIS_COUNTED",
    "cell_numbers",
    "gpkg_statements",
    "postgis_statements",
    "problems",
    "read_cells",
    "recount",
]

#: The grid's cell, in degrees (about 2 km): finer than the rings of ``crossings around``.
CELL_DEG = 0.02
CELLS_TABLE = "observation_cells"
_DESCRIPTION = (
    "Observations counted on a grid of 0.02 degrees, kept by triggers: what a map draws "
    "past its marker limit"
)
_REGISTER = (
    "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
    f"SELECT '{CELLS_TABLE}', 'attributes', '{CELLS_TABLE}', '{_DESCRIPTION}', "
    "strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
    f"WHERE NOT EXISTS (SELECT 1 FROM gpkg_contents WHERE table_name = '{CELLS_TABLE}')"
)


def _sqlite_cell(geom: str, axis: str) -> str:
    return f"CAST(round(ST_Min{axis}({geom}) / {CELL_DEG}) AS INTEGER)"


def _sqlite_count(row: str, change: str) -> str:
    """Return the statement that adds ``change`` to the cell of ``row``'s point, if it has one."""
    # As the R-tree's own triggers test a point: a null or empty geometry is not indexed.
    return (
        f"INSERT INTO {CELLS_TABLE} (cell_x, cell_y, records) "
        f"SELECT {_sqlite_cell(row + '.geom', 'X')}, {_sqlite_cell(row + '.geom', 'Y')}, "
        f"{change} WHERE {row}.geom IS NOT NULL AND NOT ST_IsEmpty({row}.geom) "
        f"ON CONFLICT (cell_x, cell_y) DO UPDATE SET records = records + {change};"
    )


#: Every record's cell counted afresh in a GeoPackage, as the triggers count them.
GPKG_COUNTED = (
    f"SELECT {_sqlite_cell('geom', 'X')} AS cx, {_sqlite_cell('geom', 'Y')} AS cy, count(*) "
    "FROM observations WHERE geom IS NOT NULL AND NOT ST_IsEmpty(geom) GROUP BY cx, cy"
)


#: The same in PostGIS.
POSTGIS_COUNTED = (
    f"SELECT round(ST_X(geom)::numeric / {CELL_DEG}), round(ST_Y(geom)::numeric / {CELL_DEG}), "
    "count(*) FROM observations WHERE geom IS NOT NULL AND NOT ST_IsEmpty(geom) GROUP BY 1, 2"
)


#: The cells counted from a GeoPackage's spatial index, for a store too old to keep them and
#: opened read-only: the index holds each point as a box of single-precision floats around it.
GPKG_INDEX_COUNTED = (
    f"SELECT CAST(round((minx + maxx) / 2 / {CELL_DEG}) AS INTEGER) AS cx, "
    f"CAST(round((miny + maxy) / 2 / {CELL_DEG}) AS INTEGER) AS cy, count(*) "
    "FROM rtree_observations_geom GROUP BY cx, cy"
)


def gpkg_statements() -> list[str]:
    """Return the statements that add the table and its triggers to a GeoPackage, and fill it."""
    return [
        (
            f"CREATE TABLE {CELLS_TABLE} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "
            "cell_x INTEGER NOT NULL, cell_y INTEGER NOT NULL, records INTEGER NOT NULL, "
            "UNIQUE (cell_x, cell_y))"
        ),
        f"INSERT INTO {CELLS_TABLE} (cell_x, cell_y, records) {GPKG_COUNTED}",
        (
            f"CREATE TRIGGER {CELLS_TABLE}_added AFTER INSERT ON observations BEGIN "
            f"{_sqlite_count('NEW', '1')} END"
        ),
        (
            f"CREATE TRIGGER {CELLS_TABLE}_removed AFTER DELETE ON observations BEGIN "
            f"{_sqlite_count('OLD', '-1')} END"
        ),
        (
            f"CREATE TRIGGER {CELLS_TABLE}_moved AFTER UPDATE OF geom ON observations BEGIN "
            f"{_sqlite_count('OLD', '-1')} {_sqlite_count('NEW', '1')} END"
        ),
        _REGISTER,
    ]


def _pg_count(rows: str, sign: str) -> str:
    # In cell order, so two writers lock the cells they share in one order.
    return (
        f"INSERT INTO {CELLS_TABLE} (cell_x, cell_y, records) "
        f"SELECT round(ST_X(geom)::numeric / {CELL_DEG}), round(ST_Y(geom)::numeric / "
        f"{CELL_DEG}), {sign}count(*) FROM {rows} WHERE geom IS NOT NULL AND NOT ST_IsEmpty(geom) "
        "GROUP BY 1, 2 ORDER BY 1, 2 "
        f"ON CONFLICT (cell_x, cell_y) DO UPDATE SET records = {CELLS_TABLE}.records + "
        "EXCLUDED.records;"
    )


def postgis_statements() -> list[str]:
    """Return the statements that add the table and its triggers to PostGIS, and fill it.

    Once a statement, from its transition tables: a load of a million records
    counts them in one grouped update.
    """
    body = {
        "added": _pg_count("added", ""),
        "removed": _pg_count("removed", "-"),
        "moved": _pg_count("removed", "-") + " " + _pg_count("added", ""),
        "emptied": f"DELETE FROM {CELLS_TABLE};",
    }
    statements = [
        (
            f"CREATE TABLE {CELLS_TABLE} (fid BIGSERIAL PRIMARY KEY, cell_x INTEGER NOT NULL, "
            "cell_y INTEGER NOT NULL, records BIGINT NOT NULL, UNIQUE (cell_x, cell_y))"
        ),
        f"COMMENT ON TABLE {CELLS_TABLE} IS '{_DESCRIPTION}'",
        f"INSERT INTO {CELLS_TABLE} (cell_x, cell_y, records) {POSTGIS_COUNTED}",
    ]
    for name, sql in body.items():
        statements.append(
            f"CREATE OR REPLACE FUNCTION crossings_cells_{name}() RETURNS trigger "
            f"LANGUAGE plpgsql AS $body$ BEGIN {sql} RETURN NULL; END $body$"
        )
    # Each trigger: its event, and the transition tables its function reads.
    for name, event in (
        ("added", "INSERT ON observations REFERENCING NEW TABLE AS added"),
        ("removed", "DELETE ON observations REFERENCING OLD TABLE AS removed"),
        ("moved", "UPDATE ON observations REFERENCING OLD TABLE AS removed NEW TABLE AS added"),
        ("emptied", "TRUNCATE ON observations"),
    ):
        statements.append(
            f"CREATE TRIGGER {CELLS_TABLE}_{name} AFTER {event} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION crossings_cells_{name}()"
        )
    return statements


def cell_numbers(values: np.ndarray) -> np.ndarray:
    """Return the cells of coordinates held in an array, rounded as the databases round."""
    import numpy as np

    scaled = values / CELL_DEG
    return (np.sign(scaled) * np.trunc(np.abs(scaled) + 0.5)).astype(np.int64)


def recount(connection: Any, lons: np.ndarray, lats: np.ndarray) -> None:
    """Count every point of a GeoPackage's observations anew (after a bulk load), in arrays."""
    import numpy as np

    cells, counts = np.unique(
        np.stack([cell_numbers(lons), cell_numbers(lats)], axis=1), axis=0, return_counts=True
    )
    connection.execute(f"DELETE FROM {CELLS_TABLE}")
    connection.executemany(
        f"INSERT INTO {CELLS_TABLE} (cell_x, cell_y, records) VALUES (?, ?, ?)",
        ((int(x), int(y), int(n)) for (x, y), n in zip(cells, counts, strict=True)),
    )


def read_cells(
    store: Any, box: tuple[float, float, float, float] | None = None
) -> list[tuple[int, int, int]]:
    """Return the kept counts (cell_x, cell_y, records), of the cells whose centres lie in ``box``.

    The cells of ``box`` are found along the table's unique index; cost follows
    the cells read, not the records counted.
    """
    where, params = "records > 0", {}
    if box is not None:
        west, south, east, north = box
        # A cell's centre, x * CELL_DEG, in the box: its number within one of the box's own.
        where += (
            " AND cell_x BETWEEN :x0 AND :x1 AND cell_y BETWEEN :y0 AND :y1 "
            "AND cell_x * :cell >= :west AND cell_x * :cell <= :east "
            "AND cell_y * :cell >= :south AND cell_y * :cell <= :north"
        )
        params = {
            "x0": int(west / CELL_DEG) - 1,
            "x1": int(east / CELL_DEG) + 1,
            "y0": int(south / CELL_DEG) - 1,
            "y1": int(north / CELL_DEG) + 1,
            "cell": CELL_DEG,
            "west": west,
            "south": south,
            "east": east,
            "north": north,
        }
    rows = store._query(
        f"SELECT cell_x, cell_y, records FROM {CELLS_TABLE} WHERE {where} ORDER BY cell_x, cell_y",
        params,
    )
    return [(int(x), int(y), int(n)) for x, y, n in rows]


def problems(store: Any, counted: str) -> list[str]:
    """Say where the kept counts differ from the records counted afresh (a full pass)."""
    kept = {(x, y): n for x, y, n in read_cells(store)}
    fresh = {(int(x), int(y)): int(n) for x, y, n in store._query(counted, {})}
    wrong = sorted(cell for cell in kept.keys() | fresh.keys() if kept.get(cell) != fresh.get(cell))
    if not wrong:
        return []
    x, y = wrong[0]
    kept_n, held_n = kept.get((x, y), 0), fresh.get((x, y), 0)
    message = (
        f"{CELLS_TABLE}: {len(wrong)} cells of the grid count other than the records do "
        f"(first: the cell at {x * CELL_DEG:.2f}, {y * CELL_DEG:.2f} keeps {kept_n}, holds "
        f"{held_n}); its triggers were dropped or bypassed, and maps of many records draw "
        "wrong counts. Fix: `crossings copy` the store into a new one, which counts them anew"
    )
    return [message]
