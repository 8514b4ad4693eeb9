"""Adding one observation to a store of 10 and of 1,000,000 records, beside geopandas.

Run: .venv/bin/python bench/bench_add.py [--records 1000000] [--repeat 30]

Prints, for each store size, the median time of our ``add_observation`` (open,
validate, insert, commit; in-process) and of the usual geopandas way,
``GeoDataFrame.to_file(path, layer="observations", mode="a")``, on the same file.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from geo.inventory import add_observation, init_inventory
from geo.model import LonLat
from geo.store import open_store
from geo.validate import parse_observation

ROOT = Path(__file__).resolve().parent.parent


def fill(path: Path, records: int) -> None:
    """Add synthetic observations within about 20 km of the located crossings."""
    rng = random.Random(42)
    with open_store(path, writable=True) as store:
        crossings = [c for c in store.crossings().values() if c.location]
        template = parse_observation(
            {
                "crossing_id": crossings[0].id,
                "date": "2024-05",
                "kind": "traffic",
                "summary": "synthetic",
                "source_url": "https://example.org/bench",
                "source_type": "satellite_imagery",
            },
            store.crossings(),
        )
        batch = []
        existing = store.count()
        for n in range(records - existing):
            crossing = crossings[n % len(crossings)]
            point = LonLat(
                crossing.location.lon + rng.uniform(-0.2, 0.2),
                crossing.location.lat + rng.uniform(-0.15, 0.15),
            )
            batch.append(
                replace(
                    template,
                    id=f"b-{n:09d}",
                    crossing_id=crossing.id,
                    location=point,
                    has_own_location=True,
                )
            )
            if len(batch) == 100_000:
                store.add_observations(batch)
                batch = []
        store.add_observations(batch)


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
        shutil.copyfile(small, large)
        start = time.perf_counter()
        fill(large, args.records)
        built = time.perf_counter() - start
        print(f"built a store of {args.records:,} observations in {built:.1f} s")
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
