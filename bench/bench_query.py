"""Questions on stores of 100,000 and 1,000,000 observations (10,000,000 with --large).

Run: .venv/bin/python bench/bench_query.py [--large]

Prints, for each size:

- ``around``, ``within`` and ``near --observations`` through the command itself
  (in-process, each ``--format``, the answer written to a file), beside geopandas
  answering the same question: ``read_file(bbox=...)`` of the area, the records a
  later record corrects or withdraws left out, the geodesic distance (``around``,
  ``near``) or the polygon (``within``), the order, and its own writer of the same
  answer into a file (``to_csv`` for the table and CSV, ``to_json`` for JSON,
  ``to_file(driver="GeoJSON")`` for GeoJSON); with the ratio. Ours and geopandas'
  are called in turn, round by round, so that a burst of load on the machine
  falls on all alike; each figure is a median.
- the floor of ``around`` (the R-tree lookup alone);
- "status of every crossing on a date", in-process, and its floor;
- cold ``crossings status`` and ``crossings around`` processes (the page cache
  emptied first where the system allows it; the output says whether it did):
  wall time and peak memory; and the growth from size to size.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from datetime import date
from pathlib import Path

from common import cold_process, interleaved_medians, median_time, shared_store

from geo.browse import list_crossings
from geo.cli import cli
from geo.model import LonLat
from geo.query import dwithin_boxes
from geo.store import open_store

CROSSINGS = ("quanhe-wonjong", "friendship-bridge")
KM = 2.0
AS_OF = date(2021, 6, 1)
FORMATS = ("table", "json", "csv", "geojson")
#: ``within``: a box of about 2.5 x 2.4 km around the crossing.
HALF_BOX = (0.015, 0.011)
#: ``near --observations``: a point about 550 m north of the crossing.
NORTH = 0.005


def command(args: list[str], out: Path) -> None:
    """Run a command in this process, its standard output into ``out``."""
    stdout = sys.stdout
    with out.open("w", encoding="utf-8") as sink:
        sys.stdout = sink
        try:
            cli.main(args, standalone_mode=False)
        finally:
            sys.stdout = stdout


def read_area(path: Path, west: float, south: float, east: float, north: float):  # type: ignore[no-untyped-def]
    import geopandas as gpd

    frame = gpd.read_file(path, layer="observations", bbox=(west, south, east, north))
    # As ours: leave out what a later record corrects or withdraws (a correction sits on the
    # same crossing, so in the same box), and the withdrawals.
    return frame[~frame["id"].isin(frame["replaces"].dropna()) & (frame["kind"] != "retraction")]


def geopandas_near(path: Path, center: LonLat, output_format: str, out: Path) -> int:
    import numpy as np

    from pyproj import Geod

    box = dwithin_boxes(center, KM * 1000)[0]
    frame = read_area(path, *box)
    count = len(frame)
    bearing, _, distance = Geod(ellps="WGS84").inv(
        [center.lon] * count,
        [center.lat] * count,
        frame.geometry.x.to_numpy(),
        frame.geometry.y.to_numpy(),
    )
    frame = frame.assign(distance_m=distance, bearing_deg=np.mod(bearing, 360))
    frame = frame[frame["distance_m"] <= KM * 1000].sort_values("distance_m", kind="stable")
    return write_frame(frame, output_format, out)


def geopandas_within(path: Path, center: LonLat, output_format: str, out: Path) -> int:
    import shapely

    west, south = center.lon - HALF_BOX[0], center.lat - HALF_BOX[1]
    east, north = center.lon + HALF_BOX[0], center.lat + HALF_BOX[1]
    frame = read_area(path, west, south, east, north)
    frame = frame[frame.intersects(shapely.box(west, south, east, north))]
    frame = frame.sort_values(["crossing_id", "date_start"], kind="stable")
    return write_frame(frame, output_format, out)


def write_frame(frame, output_format: str, out: Path) -> int:  # type: ignore[no-untyped-def]
    if output_format == "json":
        out.write_text(frame.to_json(default=str), encoding="utf-8")
    elif output_format == "geojson":
        out.unlink(missing_ok=True)
        frame.to_file(out, driver="GeoJSON")
    else:
        frame.to_csv(out)
    return len(frame)


def raw_rtree(path: Path, center: LonLat) -> int:
    import sqlite3

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


def questions(path: Path, name: str, folder: Path) -> dict[str, tuple[list[str], object]]:
    """Each question asked of the crossing ``name``: our command, and geopandas' way."""
    with open_store(path) as store:
        center = store.crossings()[name].location
    assert center is not None
    area = folder / "area.geojson"
    west, south = center.lon - HALF_BOX[0], center.lat - HALF_BOX[1]
    east, north = center.lon + HALF_BOX[0], center.lat + HALF_BOX[1]
    ring = f"[[{west},{south}],[{east},{south}],[{east},{north}],[{west},{north}],[{west},{south}]]"
    area.write_text(f'{{"type": "Polygon", "coordinates": [{ring}]}}', encoding="utf-8")
    point = LonLat(center.lon, center.lat + NORTH)
    return {
        "around": (
            ["around", name, "--km", str(KM)],
            lambda f, o: geopandas_near(path, center, f, o),
        ),
        "within": (["within", str(area)], lambda f, o: geopandas_within(path, center, f, o)),
        "near --observations": (
            ["near", f"{point.lat},{point.lon}", "--km", str(KM), "--observations"],
            lambda f, o: geopandas_near(path, point, f, o),
        ),
    }  # fmt: skip


def compare(path: Path, name: str, records: int, folder: Path) -> dict[str, float]:
    """Print each question of one crossing, each format, ours beside geopandas'.

    Returns our time of each question and format.
    """
    rounds = 15 if records <= 1_000_000 else 3
    worst: dict[str, float] = {}
    ours_times: dict[str, float] = {}
    for question, (args, theirs) in questions(path, name, folder).items():
        functions = {}
        for fmt in FORMATS:
            ours_out, their_out = folder / f"ours.{fmt}", folder / f"theirs.{fmt}"
            functions[f"ours {fmt}"] = lambda a=args, f=fmt, o=ours_out: command(
                [*a, "--store", str(path), "--format", f], o
            )
            functions[f"geopandas {fmt}"] = lambda f=fmt, o=their_out, t=theirs: t(f, o)
        timed = interleaved_medians(functions, rounds)
        found = timed["geopandas csv"][1]
        answer = json.loads((folder / "ours.json").read_text(encoding="utf-8"))
        ours_found = sum(row.get("type", "observation") == "observation" for row in answer)
        assert ours_found == found, (question, ours_found, found)
        print(f"  `{question}` at {name} ({found:,} records found by each)")
        for fmt in FORMATS:
            ours, theirs_time = timed[f"ours {fmt}"][0], timed[f"geopandas {fmt}"][0]
            ratio = ours / theirs_time
            worst[question] = max(worst.get(question, 0.0), ratio)
            ours_times[f"{question} {fmt}"] = ours
            print(f"    {fmt:8s} ours {ours * 1000:8.1f} ms   "
                  f"geopandas {theirs_time * 1000:8.1f} ms   {ratio:.2f}x")  # fmt: skip
    floor, _ = median_time(lambda: raw_rtree(path, questions_center(path, name)), rounds)
    print(f"    floor of `around`: the R-tree lookup alone {floor * 1000:.1f} ms")
    print(f"    worst ratio: {', '.join(f'{q} {r:.2f}x' for q, r in worst.items())}")
    return ours_times


def questions_center(path: Path, name: str) -> LonLat:
    with open_store(path) as store:
        center = store.crossings()[name].location
    assert center is not None
    return center


def cold(path: Path, crossings: str, bytecode: Path) -> None:
    """Time fresh processes, the page cache emptied first where the system allows it.

    The package's compiled bytecode is kept (in ``bytecode``), as an installed
    package has it: a run in an environment that writes none (PYTHONDONTWRITEBYTECODE)
    would compile every module of the package at each start.
    """
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(bytecode)
    for args in (["status"], ["around", CROSSINGS[1], "--km", str(KM)]):
        command = [crossings, *args, "--store", str(path), "--format", "json"]
        cold_process(command)  # writes the bytecode, once
        dropped = drop_caches()
        state = "page cache emptied first" if dropped else "page cache NOT emptied (not allowed)"
        wall, peak = cold_process(command)
        print(f"  cold `crossings {' '.join(args)} --format json` ({state}): "
              f"{wall:.2f} s wall, peak {peak} MB")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also 10,000,000 (builds it once)")
    parser.add_argument("--sizes", type=int, nargs="*", help="only these sizes of store")
    args = parser.parse_args()
    sizes = args.sizes or [100_000, 1_000_000] + ([10_000_000] if args.large else [])
    crossings = str(Path(sys.executable).parent / "crossings")
    help_times = [cold_process([crossings, "--help"])[0] for _ in range(5)]
    print(f"`crossings --help` start-up: {statistics.median(help_times):.2f} s (median of 5)\n")
    previous: dict[str, float] = {}  # our last time, by crossing (and status)
    with tempfile.TemporaryDirectory() as folder:
        for records in sizes:
            path = shared_store(records)
            cold(path, crossings, Path(folder) / "bytecode")
            for name in CROSSINGS:
                ours = compare(path, name, records, Path(folder))
                if name in previous:
                    growth = ours["around json"] / previous[name]
                    print(f"    growth of `around --format json`: x{growth:.2f}")
                previous[name] = ours["around json"]
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
