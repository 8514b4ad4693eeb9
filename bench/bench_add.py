"""Adding one observation to stores of 100,000 and 1,000,000 records (10,000,000 with --large).

Run: .venv/bin/python bench/bench_add.py [--large] [--repeat 30]

Prints, for each store size, the median time of our ``add_observation`` (open,
validate, insert, commit; in-process) for a traffic record and for a status record
(which also recomputes the crossing's status snapshot), of the write alone on a
store already open (``Store.add_observations``: what a notebook pays), of the
floor (one bare INSERT of the same row, its point included, and COMMIT on the same
table, indexes and triggers; beside it, the same row without its point) and of the
usual geopandas way, ``GeoDataFrame.to_file(path, layer="observations",
mode="a")``, on the same file, and the growth from size to size. Ours and the floor
are called in turn, round by round, after the copy of the store has reached the
disk (timed first, ours paid for the copy's writing-back).
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from common import ROOT, interleaved_medians, shared_store

from geo.record import add_observation
from geo.store import open_store
from geo.store.gpkg import _connect


def adder(path: Path, kind: str = "traffic"):  # type: ignore[no-untyped-def]
    """One record a call, each new. A status record also refreshes the snapshot."""
    count = itertools.count()

    def add() -> None:
        n = next(count)
        add_observation(
            path,
            {
                "crossing_id": "quanhe-wonjong",
                "date": "2025-06",
                "kind": kind,
                **({"status": "open"} if kind == "status" else {}),
                "summary": f"bench {kind} record {n}",
                "source_url": "https://example.org/b",
                "source_type": "ground_observation",
                "lat": "42.57",
                "lon": "130.52",
            },
        )

    return add


def time_open_store(path: Path, repeat: int) -> float:
    """The write itself, on a store already open (a notebook, a long-lived process)."""
    from geo.validate import parse_observation

    times = []
    with open_store(path, writable=True) as store:
        crossings, structures = store.crossings(), store.structures()
        for n in range(repeat):
            record = parse_observation(
                {
                    "crossing_id": "quanhe-wonjong",
                    "date": "2025-06",
                    "kind": "traffic",
                    "summary": f"bench open-store record {n}",
                    "source_url": "https://example.org/b",
                    "source_type": "ground_observation",
                    "lat": "42.57",
                    "lon": "130.52",
                },
                crossings,
                structures=structures,
            )
            start = time.perf_counter()
            store.add_observations([record])
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


def inserter(path: Path, connection, *, point: bool = True):  # type: ignore[no-untyped-def]
    """One bare INSERT of a full row and a COMMIT a call: the least a write can cost.

    With ``point``, the row has its point, as ours has: the store's triggers then keep
    the R-tree (GeoPackage's own) and the grid's counts, as for any program that writes
    a feature. Without, only the table and its indexes are written.
    """
    from geo.store.blob import point_blob
    from geo.store.gpkg import _OBSERVATION_FIELDS

    columns = ", ".join(("geom", *_OBSERVATION_FIELDS))
    marks = ", ".join("?" * (len(_OBSERVATION_FIELDS) + 1))
    with open_store(path) as store:
        record = store.observations("quanhe-wonjong")[-1]
        row = store._observation_row(record)
    blob = point_blob(record.location) if point else None
    count = itertools.count()

    def insert() -> None:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(
            f"INSERT INTO observations ({columns}) VALUES ({marks})",
            (blob, f"f-{next(count)}-{point}", *row[1:]),
        )
        connection.execute("COMMIT")

    return insert


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also 10,000,000 (builds it once)")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    sizes = [100_000, 1_000_000] + ([10_000_000] if args.large else [])
    print(f"{'store size':>12}  {'ours: traffic record':>21}  {'ours: status record':>20}  "
          f"{'ours: store open':>17}  {'floor: INSERT+COMMIT':>21}  "
          f"{'geopandas: to_file(mode=a)':>27}")  # fmt: skip
    previous = None
    for records in sizes:
        with tempfile.TemporaryDirectory(dir=ROOT / "bench") as tmp:
            path = Path(tmp) / "copy.gpkg"
            # A copy of the shared benchmark store: the timed adds must not change it.
            shutil.copyfile(shared_store(records), path)
            os.sync()  # the copy reaches the disk before a write is timed, not during one
            connection = _connect(path, readonly=False)
            # Called in turn, round by round: the disk's pace falls on each alike.
            timed = interleaved_medians(
                {
                    "ours": adder(path),
                    "status": adder(path, "status"),
                    "floor": inserter(path, connection),
                    "bare": inserter(path, connection, point=False),
                },
                args.repeat,
            )
            connection.close()
            ours, status, floor, bare = (
                timed[name][0] for name in ("ours", "status", "floor", "bare")
            )
            opened = time_open_store(path, args.repeat)
            theirs = time_geopandas(path, max(3, args.repeat // 6))
        line = f"{records:>12,}  {ours * 1000:>18.1f} ms  {status * 1000:>17.1f} ms  "
        line += f"{opened * 1000:>14.2f} ms  {floor * 1000:>18.2f} ms  {theirs * 1000:>24.1f} ms"
        line += f"   ours / floor x{ours / floor:.2f}, store open / floor x{opened / floor:.2f}"
        line += f" (a row without its point: {bare * 1000:.2f} ms, ours / it x{ours / bare:.2f})"
        if previous is not None:
            line += f"   growth: ours x{ours / previous:.2f}"
        print(line, flush=True)
        previous = ours


if __name__ == "__main__":
    main()
