"""Pack a GeoPackage's R-tree of points in one pass, as a bulk load needs.

SQLite's R-tree module inserts one entry at a time: each insert walks the tree
and may split nodes, so a load of n points costs n times the tree's depth, and
the depth grows with the store. A bulk load instead sorts the points once
(sort-tile-recursive: slices by longitude, each sorted by latitude), fills the
leaves in that order, and builds each level above from the one below. This is
what GDAL's and SpatiaLite's bulk loaders do.

The nodes are written in the module's own stored form, which SQLite keeps
stable: three tables beside the virtual one, ``<name>_node(nodeno, data)``,
``<name>_rowid(rowid, nodeno)`` and ``<name>_parent(nodeno, parentnode)``.
A node is a blob of fixed size: a 2-byte depth (the root's, else 0), a 2-byte
cell count, then its cells, each an 8-byte id (a feature id in a leaf, a child
node's number above) and the box as four 32-bit floats (minx, maxx, miny,
maxy), all big-endian. The root is node 1. SQLite's own ``rtreecheck()``
checks the result (see :func:`problems`).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = ["pack", "problems"]

_CELL_BYTES = 24  # an id, then four 32-bit coordinates
_HEADER_BYTES = 4
_CHUNK = 65_536  # rows handed to SQLite per slice
_CELL = [("id", ">i8"), ("minx", ">f4"), ("maxx", ">f4"), ("miny", ">f4"), ("maxy", ">f4")]


def pack(
    connection: sqlite3.Connection,
    name: str,
    fids: np.ndarray,
    lons: np.ndarray,
    lats: np.ndarray,
) -> None:
    """Replace the contents of the R-tree ``name`` with these points, packed.

    Runs inside the caller's transaction. ``fids`` are the features' ids;
    each point is stored as a box rounded outwards to 32 bits, as SQLite does,
    so that the box always holds the point.
    """
    import numpy as np

    node_bytes = _node_bytes(connection, name)
    capacity = (node_bytes - _HEADER_BYTES) // _CELL_BYTES
    for table in ("node", "rowid", "parent"):
        connection.execute(f'DELETE FROM "{name}_{table}"')

    cells = np.empty(len(fids), dtype=_CELL)
    cells["id"] = fids
    cells["minx"], cells["maxx"] = _outwards(np.asarray(lons, dtype=np.float64))
    cells["miny"], cells["maxy"] = _outwards(np.asarray(lats, dtype=np.float64))
    levels = []  # per level, bottom up: (cells in order, first cell of each node)
    while True:
        cells = cells[_tile_order(cells, capacity)]
        starts = _node_starts(len(cells), capacity)
        levels.append((cells, starts))
        if len(starts) <= 1:
            break
        cells = _parents(cells, starts)  # ids are filled in once nodes are numbered

    # Number the nodes from the root down: the root is 1, each level follows the one above.
    first_number, number = 1, []
    for _, starts in reversed(levels):
        number.append(first_number)
        first_number += len(starts)
    number.reverse()  # number[level] is the number of that level's first node
    depth = len(levels) - 1
    for level, (level_cells, starts) in enumerate(levels):
        node_numbers = number[level] + np.arange(len(starts), dtype=np.int64)
        if level > 0:  # a parent's cells name its children, numbered in their level's order
            level_cells["id"] += number[level - 1]
        connection.executemany(
            f'INSERT INTO "{name}_node" (nodeno, data) VALUES (?, ?)',
            _blobs(level_cells, starts, node_numbers, node_bytes, depth if level == depth else 0),
        )
        owner = np.repeat(node_numbers, np.diff(np.append(starts, len(level_cells))))
        ids = level_cells["id"].astype(np.int64)
        if level == 0:  # leaves: each feature's node, in rowid order (appends)
            order = np.argsort(ids, kind="stable")
            ids, owner = ids[order], owner[order]
        table, columns = (
            ("rowid", "rowid, nodeno") if level == 0 else ("parent", "nodeno, parentnode")
        )
        connection.executemany(
            f'INSERT INTO "{name}_{table}" ({columns}) VALUES (?, ?)', _pairs(ids, owner)
        )


def problems(connection: sqlite3.Connection, name: str) -> list[str]:
    """Return what SQLite's ``rtreecheck()`` finds wrong with the R-tree ``name`` (none: [])."""
    try:
        (verdict,) = connection.execute("SELECT rtreecheck(?)", (name,)).fetchone()
    except sqlite3.OperationalError as err:
        if "no such function" in str(err):  # a SQLite older than 3.24 cannot check
            return []
        return [f"cannot be checked ({err})"]
    except sqlite3.DatabaseError as err:
        return [f"cannot be checked ({err})"]
    return [] if verdict == "ok" else [line for line in str(verdict).splitlines() if line]


def _node_bytes(connection: sqlite3.Connection, name: str) -> int:
    """Return the node size the R-tree was created with: that of its root, as SQLite reads it."""
    row = connection.execute(f'SELECT length(data) FROM "{name}_node" WHERE nodeno = 1').fetchone()
    if row is None or row[0] is None:
        raise sqlite3.DatabaseError(f"the R-tree {name} has no root node")
    return int(row[0])


def _outwards(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Round to 32-bit floats, down and up: the pair holds each value."""
    import numpy as np

    near = values.astype(np.float32)
    wide = near.astype(np.float64)
    down = np.where(wide > values, np.nextafter(near, np.float32(-np.inf)), near)
    up = np.where(wide < values, np.nextafter(near, np.float32(np.inf)), near)
    return down, up


def _node_starts(count: int, capacity: int) -> np.ndarray:
    """First cell of each node: as few nodes as hold ``count`` cells, filled evenly."""
    import numpy as np

    nodes = max(1, math.ceil(count / capacity))
    return (np.arange(nodes, dtype=np.int64) * count) // nodes


def _tile_order(cells: np.ndarray, capacity: int) -> np.ndarray:
    """Sort-tile-recursive order: vertical slices by box centre x, each sorted by y."""
    import numpy as np

    nodes = max(1, math.ceil(len(cells) / capacity))
    per_slice = math.ceil(nodes / max(1, math.ceil(math.sqrt(nodes)))) * capacity
    x = cells["minx"].astype(np.float64) + cells["maxx"]
    y = cells["miny"].astype(np.float64) + cells["maxy"]
    by_x = np.argsort(x, kind="stable")
    slice_of = np.empty(len(cells), dtype=np.int64)
    slice_of[by_x] = np.arange(len(cells)) // per_slice
    return np.lexsort((y, slice_of))


def _parents(cells: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """One cell per node: the box around the node's cells."""
    import numpy as np

    parents = np.empty(len(starts), dtype=_CELL)
    parents["id"] = np.arange(len(starts))  # the child's index in its level, for now
    for low, high in (("minx", "maxx"), ("miny", "maxy")):
        parents[low] = np.minimum.reduceat(cells[low], starts)
        parents[high] = np.maximum.reduceat(cells[high], starts)
    return parents


def _pairs(first: np.ndarray, second: np.ndarray) -> Iterator[tuple[int, int]]:
    """Yield rows from two columns, a slice at a time: memory stays flat."""
    for at in range(0, len(first), _CHUNK):
        yield from zip(
            first[at : at + _CHUNK].tolist(), second[at : at + _CHUNK].tolist(), strict=True
        )


def _blobs(
    cells: np.ndarray, starts: np.ndarray, numbers: np.ndarray, node_bytes: int, depth: int
) -> Iterator[tuple[int, bytes]]:
    """Yield each node's number and blob (header, cells, zeros to the node size)."""
    import numpy as np

    ends = np.append(starts[1:], len(cells))
    raw = cells.view(np.uint8).reshape(-1, _CELL_BYTES)
    step = max(1, _CHUNK // 64)
    for at in range(0, len(starts), step):
        first, last = starts[at : at + step], ends[at : at + step]
        counts = last - first
        out = np.zeros((len(first), node_bytes), dtype=np.uint8)
        out[:, 0], out[:, 1] = depth >> 8, depth & 0xFF
        out[:, 2], out[:, 3] = counts >> 8, counts & 0xFF
        # Nodes hold q or q + 1 cells: each group of one count is copied as a block.
        for count in np.unique(counts).tolist():
            nodes = np.flatnonzero(counts == count)
            rows = first[nodes][:, None] + np.arange(count)
            block = raw[rows].reshape(len(nodes), count * _CELL_BYTES)
            out[nodes, _HEADER_BYTES : _HEADER_BYTES + count * _CELL_BYTES] = block
        yield from zip(
            numbers[at : at + step].tolist(), (row.tobytes() for row in out), strict=True
        )
