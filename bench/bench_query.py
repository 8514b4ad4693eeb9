"""Questions on a store of 1,000,000 observations: ours beside the geopandas way, one run.

Run: .venv/bin/python bench/bench_query.py [--records 1000000]

Prints, for "observations within 2 km of a crossing" and "status of every crossing
on a date": our in-process time (median), geopandas ``read_file`` of the whole
layer and ``read_file(bbox=...)`` followed by a geodesic distance filter, the raw
R-tree lookup, a cold ``crossings around`` process (wall time, peak memory) and
``crossings --help`` start-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from common import shared_store

from geo.inventory import list_crossings
from geo.query import dwithin_boxes
from geo.questions import around
from geo.store import open_store

CROSSINGS = ("quanhe-wonjong", "friendship-bridge")
KM = 2.0
AS_OF = date(2021, 6, 1)


def median_time(function, repeat: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def geopandas_within(path: Path, name: str, *, bbox: bool) -> int:
    import geopandas as gpd
    from pyproj import Geod

    with open_store(path) as store:
        center = store.crossings()[name].location
    assert center is not None
    box = dwithin_boxes(center, KM * 1000)[0]
    frame = gpd.read_file(path, layer="observations", bbox=tuple(box) if bbox else None)
    count = len(frame)
    _, _, distance = Geod(ellps="WGS84").inv(
        [center.lon] * count,
        [center.lat] * count,
        frame.geometry.x.to_numpy(),
        frame.geometry.y.to_numpy(),
    )
    return int((distance <= KM * 1000).sum())


def raw_rtree(path: Path, name: str) -> int:
    import sqlite3

    with open_store(path) as store:
        center = store.crossings()[name].location
    assert center is not None
    box = dwithin_boxes(center, KM * 1000)[0]
    with sqlite3.connect(path) as connection:
        return len(
            connection.execute(
                "SELECT id FROM rtree_observations_geom "
                "WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?",
                (box.east, box.west, box.north, box.south),
            ).fetchall()
        )


def cold_process(args: list[str]) -> tuple[float, int]:
    """Wall seconds and peak resident memory (MB) of one fresh process."""
    start = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{args} failed with {process.returncode}")
    return wall, usage.ru_maxrss // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args()
    path = shared_store(args.records)
    print()

    # Fresh processes first, while this one is small (a child starts as a copy of it).
    crossings = str(Path(sys.executable).parent / "crossings")
    for args_ in (["around", CROSSINGS[1], "--km", str(KM)], ["status"]):
        wall, peak = cold_process([crossings, *args_, "--store", str(path), "--format", "json"])
        print(f"cold `crossings {' '.join(args_)}`: {wall:.2f} s wall, peak memory {peak} MB")
    help_times = [cold_process([crossings, "--help"])[0] for _ in range(5)]
    print(f"`crossings --help` start-up: {statistics.median(help_times):.2f} s (median of 5)")

    print()

    full_time = 0.0
    for name in CROSSINGS:
        ours, found = median_time(lambda name=name: around(path, name, km=KM), 20)
        count = len(found)  # type: ignore[arg-type]
        bbox_time, bbox_count = median_time(
            lambda name=name: geopandas_within(path, name, bbox=True), 3
        )
        if not full_time:  # reading the whole layer takes long: once is enough
            full_time, full_count = median_time(
                lambda name=name: geopandas_within(path, name, bbox=False), 1
            )
            assert full_count == count, (full_count, count)
        rtree_time, _ = median_time(lambda name=name: raw_rtree(path, name), 20)
        assert count == bbox_count, (count, bbox_count)
        print(f"observations within {KM:g} km of {name}: {count:,} found by each way")
        print(f"  ours, around() in-process            {ours * 1000:9.1f} ms")
        print(f"  geopandas read_file(bbox) + distance {bbox_time * 1000:9.1f} ms")
        print(
            f"  geopandas read_file + distance       {full_time * 1000:9.1f} ms   "
            f"({full_time / ours:,.0f}x ours)"
        )
        print(f"  raw R-tree lookup only               {rtree_time * 1000:9.1f} ms\n")

    status_time, _ = median_time(lambda: list_crossings(path, as_of=AS_OF), 5)
    print(f"status of every crossing on {AS_OF}:")
    print(f"  ours, list_crossings() in-process    {status_time * 1000:9.1f} ms")
    print(f"  geopandas read_file (before any logic) {full_time * 1000:7.1f} ms\n")


if __name__ == "__main__":
    main()
