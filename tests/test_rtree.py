"""The packed R-tree of a bulk load: SQLite accepts it, and it answers as one built row by row."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from geo.store import open_store, rtree

NAME = "rtree_t_geom"


def _tree(count: int, seed: int = 1) -> tuple[sqlite3.Connection, np.ndarray, np.ndarray]:
    """An R-tree as a GeoPackage declares it, packed with ``count`` random points."""
    connection = sqlite3.connect(":memory:")
    connection.execute(f"CREATE VIRTUAL TABLE {NAME} USING rtree(id, minx, maxx, miny, maxy)")
    rng = np.random.default_rng(seed)
    lons = rng.uniform(124.0, 131.0, count)
    lats = rng.uniform(39.5, 43.0, count)
    fids = rng.permutation(np.arange(1, count + 1, dtype=np.int64) * 3)  # not 1..n, any order
    with connection:
        rtree.pack(connection, NAME, fids, lons, lats)
    order = np.argsort(fids)
    return connection, np.stack([fids[order], lons[order], lats[order]]).T, fids


def _found(connection: sqlite3.Connection, box: tuple[float, float, float, float]) -> set[int]:
    west, south, east, north = box
    rows = connection.execute(
        f"SELECT id FROM {NAME} WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?",
        (east, west, north, south),
    )
    return {fid for (fid,) in rows}


def _depth(connection: sqlite3.Connection) -> int:
    (root,) = connection.execute(f"SELECT data FROM {NAME}_node WHERE nodeno = 1").fetchone()
    return int.from_bytes(root[:2], "big")


@pytest.mark.parametrize(
    ("count", "depth"), [(0, 0), (1, 0), (51, 0), (52, 1), (2601, 1), (2602, 2), (20_000, 2)]
)
def test_a_packed_tree_passes_sqlites_check_and_finds_every_point(count, depth):
    connection, points, _ = _tree(count)
    assert rtree.problems(connection, NAME) == []
    assert _depth(connection) == depth  # 51 cells a node, as SQLite sizes them for GeoPackages
    (stored,) = connection.execute(f"SELECT count(*) FROM {NAME}").fetchone()
    assert stored == count
    # Each point lies in its stored box: 32-bit floats, rounded outwards.
    for fid, minx, maxx, miny, maxy in connection.execute(f"SELECT * FROM {NAME}"):
        _, lon, lat = points[np.searchsorted(points[:, 0], fid)]
        assert minx <= lon <= maxx and miny <= lat <= maxy
    rng = np.random.default_rng(count)
    for _ in range(40):
        west, south = rng.uniform(124, 131), rng.uniform(39.5, 43)
        box = (west, south, west + rng.uniform(0, 0.8), south + rng.uniform(0, 0.5))
        inside = (
            (points[:, 1] >= box[0])
            & (points[:, 1] <= box[2])
            & (points[:, 2] >= box[1])
            & (points[:, 2] <= box[3])
        )
        found = _found(connection, box)
        assert {int(f) for f in points[inside, 0]} <= found
        assert len(found) - int(inside.sum()) <= 2  # only points within 32-bit rounding of an edge


def test_a_packed_tree_takes_later_inserts_and_deletes():
    connection, _, fids = _tree(6_000)
    with connection:
        connection.executemany(
            f"INSERT INTO {NAME} VALUES (?, ?, ?, ?, ?)",
            [(100_000 + n, 126.0 + n / 1e3, 126.0 + n / 1e3, 41.0, 41.0) for n in range(500)],
        )
        connection.executemany(f"DELETE FROM {NAME} WHERE id = ?", [(int(f),) for f in fids[::3]])
    assert rtree.problems(connection, NAME) == []
    (stored,) = connection.execute(f"SELECT count(*) FROM {NAME}").fetchone()
    assert stored == 6_000 + 500 - len(fids[::3])
    assert len(_found(connection, (125.9999, 40.9999, 126.5001, 41.0001))) >= 500


def test_a_damaged_tree_is_named_by_validate(store, tmp_path):
    """A leaf cell whose box has left its parent's: SQLite's check finds it, validate says so."""
    import shutil

    from geo.model import LonLat

    path = tmp_path / "damaged.gpkg"
    shutil.copyfile(store, path)
    with open_store(path, writable=True) as opened:
        template = opened.observations("quanhe-wonjong")[-1]
        records = [
            template._replace(id=f"x-{n:04d}", summary=f"r{n}", replaces=None,
                              location=LonLat(130.5 + n / 1e3, 42.5), has_own_location=True)
            for n in range(300)
        ]  # fmt: skip
        opened.add_observations(iter(records), bulk=True)  # packed: leaves under a root
        assert opened.integrity_problems() == []
    connection = sqlite3.connect(path)
    (leaf,) = connection.execute(
        "SELECT nodeno FROM rtree_observations_geom_rowid WHERE nodeno != 1 LIMIT 1"
    ).fetchone()
    (data,) = connection.execute(
        "SELECT data FROM rtree_observations_geom_node WHERE nodeno = ?", (leaf,)
    ).fetchone()
    damaged = bytearray(data)
    damaged[4 + 8 : 4 + 16] = np.zeros(2, dtype=">f4").tobytes()  # first cell: minx = maxx = 0
    with connection:
        connection.execute(
            "UPDATE rtree_observations_geom_node SET data = ? WHERE nodeno = ?",
            (bytes(damaged), leaf),
        )
    connection.close()
    with open_store(path) as opened:
        problems = opened.integrity_problems()
    assert any(
        p.startswith("observations: spatial index: ") and "corrupt" in p for p in problems
    ), problems


def test_a_tree_that_cannot_be_read_is_named_not_raised():
    connection = sqlite3.connect(":memory:")
    connection.execute(f"CREATE VIRTUAL TABLE {NAME} USING rtree(id, minx, maxx, miny, maxy)")
    connection.execute(f"DROP TABLE {NAME}_rowid")  # as a crash or another tool might leave it
    (problem,) = rtree.problems(connection, NAME)
    assert problem.startswith("cannot be checked (")


@pytest.mark.gdal
def test_a_bulk_loaded_store_passes_gdals_validator_and_gdal_reads_its_index(store, tmp_path):
    """GDAL reads the packed R-tree for a box as it reads one built row by row."""
    import shutil

    import geopandas as gpd

    from geo.model import LonLat
    from tests.common import run_gdal_validator

    path = tmp_path / "bulk.gpkg"
    shutil.copyfile(store, path)
    rng = np.random.default_rng(3)
    with open_store(path, writable=True) as opened:
        template = opened.observations("quanhe-wonjong")[-1]
        records = [
            template._replace(id=f"x-{n:05d}", summary=f"r{n}", replaces=None,
                              location=LonLat(float(x), float(y)), has_own_location=True)
            for n, (x, y) in enumerate(zip(rng.uniform(129.5, 130.5, 5000),
                                           rng.uniform(42.0, 43.0, 5000), strict=True))
        ]  # fmt: skip
        opened.add_observations(iter(records), bulk=True)
    done = run_gdal_validator(path)
    assert done.returncode == 0, done.stdout + done.stderr
    box = (129.8, 42.2, 130.1, 42.45)
    read = gpd.read_file(path, layer="observations", bbox=box)
    inside = {
        r.id
        for r in records
        if box[0] <= r.location.lon <= box[2] and box[1] <= r.location.lat <= box[3]
    }
    assert inside and inside <= set(read["id"])
    assert len(set(read["id"]) - inside) <= 2  # at most a point within 32-bit rounding of an edge
