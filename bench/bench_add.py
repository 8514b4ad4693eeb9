"""Adding one observation to a store of 10 and of 1,000,000 records, beside geopandas.

Run: .venv/bin/python bench/bench_add.py [--records 1000000] [--repeat 30]

Prints, for each store size, the median time of our ``add_observation`` (open,
validate, insert, commit; in-process) and of the usual geopandas way,
``GeoDataFrame.to_file(path, layer="observations", mode="a")``, on the same file.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from common import ROOT, shared_store

from geo.inventory import add_observation, init_inventory
from geo.store import open_store


def time_ours(path: Path, repeat: int) -> float:
    times = []
    for n in range(repeat):
        fields = {
            "crossing_id": "quanhe-wonjong",
            "date": "2025-06",
            "kind": "traffic",
            "summary": f"bench record {n}",
            "source_url": "https://example.org/b",
            "source_type": "ground_observation",
            "lat": "42.57",
            "lon": "130.52",
        }
        start = time.perf_counter()
        add_observation(path, fields)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_geopandas(path: Path, repeat: int) -> float:
    import geopandas as gpd
    from shapely import Point

    times = []
    for n in range(repeat):
        frame = gpd.GeoDataFrame(
            {
                "id": [f"g-{n}"],
                "crossing_id": ["quanhe-wonjong"],
                "date": ["2025-06"],
                "date_precision": ["month"],
                "date_start": ["2025-06-01"],
                "date_end": ["2025-06-30"],
                "kind": ["traffic"],
                "summary": [f"geopandas record {n}"],
                "source_name": ["x"],
                "source_type": ["ground_observation"],
                "has_own_location": [True],
                "recorded_at": [datetime.now(UTC)],
                "recorded_by": ["bench"],
            },
            geometry=[Point(130.52, 42.57)],
            crs=4326,
        )
        start = time.perf_counter()
        frame.to_file(path, layer="observations", mode="a", driver="GPKG")
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp) / "small.gpkg"
        init_inventory(small, seed=ROOT / "tests" / "data" / "seed")
        large = Path(tmp) / "large.gpkg"
        # A copy of the shared benchmark store: the timed adds must not change it.
        shutil.copyfile(shared_store(args.records), large)
        print(
            f"{'store size':>12}  {'ours: add_observation':>22}  {'geopandas: to_file(mode=a)':>27}"
        )
        for path in (small, large):
            with open_store(path) as store:
                size = store.count()
            ours = time_ours(path, args.repeat)
            theirs = time_geopandas(path, max(3, args.repeat // 6))
            print(f"{size:>12,}  {ours * 1000:>19.1f} ms  {theirs * 1000:>24.1f} ms")


if __name__ == "__main__":
    main()
