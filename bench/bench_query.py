"""Questions on stores of 100,000 and 1,000,000 observations (10,000,000 with --large).

Run: .venv/bin/python bench/bench_query.py [--large]

Prints, for each size, "observations within 2 km of a crossing" and "status of
every crossing on a date": our in-process time (median; for the first, whole
records and the light records a table shows, each way called in turn, round by
round, so that a burst of load on the machine falls on all alike), geopandas
``read_file(bbox=...)`` followed by a geodesic distance filter (and, on the
smallest store, ``read_file`` of the whole layer), the floor (the R-tree lookup
alone; one indexed query per crossing), cold-cache ``crossings status`` and
``crossings around`` processes (wall time, peak memory), and the growth from
size to size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from datetime import date
from pathlib import Path

from common import cold_process, interleaved_medians, median_time, shared_store

from geo.browse import list_crossings
from geo.query import dwithin_boxes
from geo.questions import around, sightings_around
from geo.store import open_store

CROSSINGS = ("quanhe-wonjong", "friendship-bridge")
KM = 2.0
AS_OF = date(2021, 6, 1)


def geopandas_within(path: Path, name: str, *, bbox: bool) -> int:
    import geopandas as gpd
    from pyproj import Geod

    with open_store(path) as store:
        center = store.crossings()[name].location
    assert center is not None
    box = dwithin_boxes(center, KM * 1000)[0]
    frame = gpd.read_file(path, layer="observations", bbox=tuple(box) if bbox else None)
    # As ours: leave out what a later record corrects or withdraws (a correction sits on the
    # same crossing, so in the same box), and the withdrawals.
    frame = frame[~frame["id"].isin(frame["replaces"].dropna()) & (frame["kind"] != "retraction")]
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


def status_floor(path: Path) -> int:
    """One indexed query per crossing for its last status record: the least a status needs."""
    import sqlite3

    from geo.store.schema import LASTING as _LASTING

    with open_store(path) as store:
        ids = list(store.crossings())
    with sqlite3.connect(path) as connection:
        return sum(
            connection.execute(
                f"SELECT count(*) FROM (SELECT id FROM observations WHERE crossing_id = ? AND "
                f"{_LASTING} AND date_end <= ? ORDER BY date_end DESC, date_start DESC, "
                "(source_url IS NOT NULL) DESC, id DESC LIMIT 1)",
                (crossing, AS_OF.isoformat()),
            ).fetchone()[0]
            for crossing in ids
        )


def drop_caches() -> bool:
    """Empty the operating system's page cache, where allowed, for a cold run."""
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also 10,000,000 (builds it once)")
    args = parser.parse_args()
    sizes = [100_000, 1_000_000] + ([10_000_000] if args.large else [])
    crossings = str(Path(sys.executable).parent / "crossings")
    help_times = [cold_process([crossings, "--help"])[0] for _ in range(5)]
    print(f"`crossings --help` start-up: {statistics.median(help_times):.2f} s (median of 5)\n")
    previous: dict[str, float] = {}
    for records in sizes:
        path = shared_store(records)
        cold = "cold cache" if drop_caches() else "warm cache (could not empty it)"
        for args_ in (["status"], ["around", CROSSINGS[1], "--km", str(KM)]):
            drop_caches()
            wall, peak = cold_process([crossings, *args_, "--store", str(path), "--format", "json"])
            print(f"  {cold} `crossings {' '.join(args_)}`: {wall:.2f} s wall, peak {peak} MB")
        for name in CROSSINGS:
            # Ours and geopandas' in turn, round by round: fewer rounds where a round is long.
            timed = interleaved_medians(
                {
                    "whole": lambda name=name, path=path: around(path, name, km=KM),
                    "light": lambda name=name, path=path: sightings_around(path, name, km=KM),
                    "geopandas": lambda name=name, path=path: geopandas_within(
                        path, name, bbox=True
                    ),
                    "rtree": lambda name=name, path=path: raw_rtree(path, name),
                },
                15 if records <= 1_000_000 else 5,
            )
            (ours, found), (light, brief) = timed["whole"], timed["light"]
            bbox_time, bbox_count = timed["geopandas"]
            rtree_time = timed["rtree"][0]
            count = len(found)  # type: ignore[arg-type]
            assert count == bbox_count == len(brief), (count, bbox_count)  # type: ignore[arg-type]
            print(f"  within {KM:g} km of {name}: {count:,} found by each way")
            print(f"    ours, around() in-process            {ours * 1000:9.1f} ms"
                  f"   ({ours / bbox_time:.2f}x geopandas)")  # fmt: skip
            print(f"    ours, light records (the table's)    {light * 1000:9.1f} ms"
                  f"   ({light / bbox_time:.2f}x geopandas)")  # fmt: skip
            print(f"    geopandas read_file(bbox) + distance {bbox_time * 1000:9.1f} ms")
            print(f"    floor: R-tree lookup only            {rtree_time * 1000:9.1f} ms")
            if records == sizes[0] and name == CROSSINGS[0]:  # the whole layer: once
                full_time, full_count = median_time(
                    lambda name=name, path=path: geopandas_within(path, name, bbox=False), 1
                )
                assert full_count == count, (full_count, count)
                print(f"    geopandas read_file + distance       {full_time * 1000:9.1f} ms")
            if name in previous:
                print(f"    growth from the smaller store: x{ours / previous[name]:.2f}")
            previous[name] = ours
        status_time, _ = median_time(lambda path=path: list_crossings(path, as_of=AS_OF), 7)
        floor_time, _ = median_time(lambda path=path: status_floor(path), 7)
        print(f"  status of every crossing on {AS_OF}:")
        print(f"    ours, list_crossings() in-process    {status_time * 1000:9.1f} ms")
        print(f"    floor: one indexed query a crossing  {floor_time * 1000:9.1f} ms")
        if "status" in previous:
            print(f"    growth from the smaller store: x{status_time / previous['status']:.2f}")
        previous["status"] = status_time
        print(flush=True)


if __name__ == "__main__":
    main()
