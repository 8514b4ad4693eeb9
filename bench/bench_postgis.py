"""The same questions and writes on PostGIS and on the GeoPackage, at 100,000 and 1,000,000 records.

Run: .venv/bin/python bench/bench_postgis.py [--sizes 100000,1000000]

Starts a throwaway PostgreSQL + PostGIS server on a loopback port (as the tests
do), loads each benchmark store into it, and prints, in one run, for each size:
"observations within 2 km of a crossing" (around) and "status of every crossing
on a date" on both backends, with geopandas' usual PostGIS way beside them
(``read_postgis`` with ST_DWithin); the ratio of PostGIS to GeoPackage; the
growth from size to size; and records written per second by 1 and by 4
processes at once on each backend (each record a whole ``add_observation``).

The status of every crossing is timed three ways, one call of each in turn: on
the GeoPackage, on PostGIS (the server runs the rule: one round trip), and on
PostGIS reading through the indexes as before (a round trip a lookup).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import date
from pathlib import Path

from common import ROOT, interleaved_medians, median_time, shared_store

from geo.browse import list_crossings
from geo.inventory import structure_ids
from geo.query import dwithin_boxes
from geo.questions import around
from geo.status import evaluate
from geo.store import create_store, open_store
from geo.store.base import Store

sys.path.insert(0, str(ROOT / "tests"))
import postgres  # the tests' throwaway server

CROSSINGS = ("quanhe-wonjong", "friendship-bridge")
KM = 2.0
AS_OF = date(2021, 6, 1)
WRITER = """
import sys
from geo.record import add_observation
store, worker, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
for n in range(count):
    add_observation(store, {
        "crossing_id": "quanhe-wonjong", "date": "2025-06", "kind": "traffic",
        "summary": f"Bench writer {worker}, sighting {n}",
        "source_url": "https://example.org/w", "source_type": "satellite_imagery",
    })
"""


def load(path: Path, url: str) -> float:
    """Copy a benchmark store into the database as stored (its synthetic ids kept).

    Then vacuumed, as the server's autovacuum does some minutes after a load of
    a million rows: measured at once, that work would be measured with the
    questions (the figures are of a database in its usual state). The time
    returned is the load's alone.
    """
    import psycopg

    start = time.perf_counter()
    with open_store(path) as source:
        create_store(
            url,
            list(source.crossings().values()),
            source.iter_observations(),
            source.trade(),
            structures=list(source.structures().values()),
        )
    seconds = time.perf_counter() - start
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")
    return seconds


def geopandas_within(url: str, name: str) -> int:
    """geopandas' usual PostGIS way: read_postgis of ST_DWithin on geography, after the index.

    The box test (``&&``) lets the GIST index pick the rows; ST_DWithin on
    geography then measures in metres, as ours does.
    """
    import psycopg

    import geopandas as gpd

    with open_store(url) as store:
        center = store.crossings()[name].location
    assert center is not None
    box = dwithin_boxes(center, KM * 1000)[0]
    with psycopg.connect(url) as connection, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pandas names SQLAlchemy; psycopg works
        frame = gpd.read_postgis(
            "SELECT * FROM observations o WHERE geom && ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, "
            "%(n)s, 4326) AND ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint(%(lon)s, "
            "%(lat)s), 4326)::geography, %(m)s) AND kind != 'retraction' AND NOT EXISTS "
            "(SELECT 1 FROM observations r WHERE r.replaces = o.id)",
            connection,
            geom_col="geom",
            params={
                "w": box.west, "s": box.south, "e": box.east, "n": box.north,
                "lon": center.lon, "lat": center.lat, "m": KM * 1000,
            },
        )  # fmt: skip
    return len(frame)


def through_indexes(url: str) -> list[object]:
    """Every crossing's status as PostGIS read it before: the rule's lookups, a round trip each."""
    with open_store(url) as store:
        owned = structure_ids(store)
        return [
            evaluate(Store.status_source(store, c), AS_OF, structure_ids=owned.get(c, ()))
            for c in store.crossings()
        ]


def status_times(backends: dict[str, str]) -> dict[str, float]:
    """Time the status of every crossing three ways, in turn, and check that they agree."""
    url = backends["PostGIS"]
    timed = interleaved_medians(
        {
            "GeoPackage": lambda: list_crossings(backends["GeoPackage"], as_of=AS_OF),
            "PostGIS": lambda: list_crossings(url, as_of=AS_OF),
            "indexes": lambda: through_indexes(url),
        },
        15,
    )
    file, server, indexes = (timed[k][1] for k in ("GeoPackage", "PostGIS", "indexes"))
    assert [i.status for i in server] == indexes  # the same answers, record for record
    said = [
        [(i.crossing.id, i.status.status, getattr(i.status.evidence, "id", None)) for i in found]
        for found in (file, server)
    ]
    assert said[0] == said[1]
    return {name: seconds for name, (seconds, _) in timed.items()}


def writes_per_second(store: str, writers: int, each: int) -> float:
    start = time.perf_counter()
    started = [
        subprocess.Popen(  # each wait is said on stderr: not the figures
            [sys.executable, "-c", WRITER, store, f"{writers}.{w}", str(each)],
            cwd=ROOT,
            stderr=subprocess.DEVNULL,
        )
        for w in range(writers)
    ]
    if any(p.wait() != 0 for p in started):
        raise SystemExit("a writer failed")
    return writers * each / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="store sizes, comma-separated")
    parser.add_argument("--writes", type=int, default=200, help="records each writer adds")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    previous: dict[str, float] = {}
    with postgres.cluster() as server:
        for records in sizes:
            path = shared_store(records)
            url = server.database()
            print(f"  loaded into PostGIS in {load(path, url):.1f} s")
            backends = {"GeoPackage": str(path), "PostGIS": url}
            for name in CROSSINGS:
                found = {}
                times = {}
                for backend, store in backends.items():
                    times[backend], result = median_time(
                        lambda store=store, name=name: around(store, name, km=KM), 15
                    )
                    found[backend] = len(result)  # type: ignore[arg-type]
                usual, count = median_time(
                    lambda name=name, url=url: geopandas_within(url, name), 5
                )
                assert found["GeoPackage"] == found["PostGIS"] == count, (found, count)
                ratio = times["PostGIS"] / times["GeoPackage"]
                print(f"  within {KM:g} km of {name}: {count:,} found by each way")
                for backend, seconds in times.items():
                    print(f"    ours, around() on {backend:<10}          {seconds * 1000:8.1f} ms")
                print(f"    geopandas read_postgis (box + ST_DWithin)   {usual * 1000:8.1f} ms")
                print(f"    PostGIS / GeoPackage: x{ratio:.2f}")
                key = f"around {name}"
                if key in previous:
                    growth = times["PostGIS"] / previous[key]
                    print(f"    growth from the smaller store (PostGIS): x{growth:.2f}")
                previous[key] = times["PostGIS"]
            status = status_times(backends)
            print(f"  status of every crossing on {AS_OF} (medians of 15, one of each in turn):")
            for backend in backends:
                print(
                    f"    ours, list_crossings() on {backend:<10}  {status[backend] * 1000:8.1f} ms"
                )
            print(
                f"    PostGIS through the indexes (before)     {status['indexes'] * 1000:8.1f} ms"
            )
            ratio, before = (status[k] / status["GeoPackage"] for k in ("PostGIS", "indexes"))
            print(f"    PostGIS / GeoPackage: x{ratio:.2f} (through the indexes: x{before:.2f})")
            if "status" in previous:
                growth = status["PostGIS"] / previous["status"]
                print(f"    growth from the smaller store (PostGIS): x{growth:.2f}")
            previous["status"] = status["PostGIS"]
            with tempfile.TemporaryDirectory() as scratch:
                writable = Path(scratch) / "store.gpkg"  # the shared store stays as built
                shutil.copyfile(path, writable)
                for backend, store in (("GeoPackage", str(writable)), ("PostGIS", url)):
                    one = writes_per_second(store, 1, args.writes)
                    four = writes_per_second(store, 4, args.writes)
                    print(f"  records written per second on {backend}: 1 writer {one:.0f}, "
                          f"4 writers at once {four:.0f}")  # fmt: skip
            print(flush=True)


if __name__ == "__main__":
    main()
