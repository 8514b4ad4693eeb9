"""Bulk loads at 100,000 and 1,000,000 records (10,000,000 with --large), beside geopandas.

Run: .venv/bin/python bench/bench_load.py [--large] [--import-only]

Prints, for each size, the time to load the records into a new store, the bytes
the load wrote against the size of the file, and the growth from size to size;
then a 1,000,000-row CSV imported by the command in a fresh process (wall time
and peak memory) beside geopandas reading the same file with ``read_file`` and
writing it with ``to_file``, also in a fresh process, and the same rows as a
GeoJSON file imported both ways. Beside each load, geopandas
writing the same points to a GeoPackage with ``to_file`` in the same run.
``--import-only`` runs only the imports, of 200,000 and 1,000,000 rows. A CSV
row whose 10-digit id is another row's is left out of the file (the import
refuses such a pair).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

from common import build_store, cold_process

from geo.build import init_inventory

ROOT = Path(__file__).resolve().parent.parent


def written_bytes() -> int:
    """Bytes this process has caused to be written to storage so far."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


def ours(records: int) -> tuple[float, int, int]:
    """Build the benchmarks' shared store of ``records`` anew (the other benchmarks reuse it)."""
    path = ROOT / "bench" / f"observations-{records}.gpkg"
    path.unlink(missing_ok=True)
    before = written_bytes()
    seconds = build_store(path, records)
    return seconds, written_bytes() - before, path.stat().st_size


def geopandas(folder: Path, records: int) -> tuple[float, int, int]:
    import numpy as np

    import geopandas as gpd

    rng = np.random.default_rng(42)
    frame = gpd.GeoDataFrame(
        {
            "id": [f"g-{n:09d}" for n in range(records)],
            "crossing_id": "quanhe-wonjong",
            "date": "2024-05",
            "kind": "traffic",
            "summary": "synthetic observation",
            "source_url": "https://example.org/bench",
        },
        geometry=gpd.points_from_xy(
            130.52 + rng.uniform(-0.2, 0.2, records), 42.57 + rng.uniform(-0.15, 0.15, records)
        ),
        crs=4326,
    )
    path = folder / f"geopandas-{records}.gpkg"
    before = written_bytes()
    start = time.perf_counter()
    frame.to_file(path, layer="observations", driver="GPKG")
    return time.perf_counter() - start, written_bytes() - before, path.stat().st_size


def csv_of(folder: Path, records: int) -> tuple[Path, int]:
    """Write a CSV of distinct records; return it and how many rows were left out.

    Ids are 10 hex digits of a hash: among a million records a few pairs share one,
    and the import refuses such a pair, so the rows that would are left out here.
    """
    from geo.model import observation_id

    path = folder / f"import-{records}.csv"
    ids: set[str] = set()
    skipped = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["crossing_id", "date", "kind", "summary", "source_url", "source_type",
                         "lat", "lon"])  # fmt: skip
        for n in range(records):
            when = f"{2010 + n % 16}-{1 + n % 12:02d}"
            key = observation_id(
                "quanhe-wonjong", when, "traffic", f"trucks seen {n}",
                "https://example.org/import", "",
            )  # fmt: skip
            if key in ids:
                skipped += 1
                continue
            ids.add(key)
            writer.writerow(
                ["quanhe-wonjong", when, "traffic",
                 f"trucks seen {n}", "https://example.org/import", "satellite_imagery",
                 f"{42.57 + (n % 997) / 10000:.5f}", f"{130.52 + (n % 991) / 10000:.5f}"]
            )  # fmt: skip
    return path, skipped


def geojson_of(source: Path) -> Path:
    """Write the rows of a CSV made by csv_of as a GeoJSON FeatureCollection of points."""
    path = source.with_suffix(".geojson")
    with source.open(encoding="utf-8", newline="") as rows, path.open("w", encoding="utf-8") as out:
        out.write('{"type": "FeatureCollection", "features": [')
        for n, row in enumerate(csv.DictReader(rows)):
            point = [float(row.pop("lon")), float(row.pop("lat"))]
            feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": point},
                       "properties": row}  # fmt: skip
            out.write(("," if n else "") + "\n" + json.dumps(feature))
        out.write("\n]}\n")
    return path


def cold_import(store: Path, path: Path) -> tuple[float, int]:
    """Wall seconds and peak resident memory (MB) of `crossings import` in a fresh process."""
    crossings = str(Path(sys.executable).parent / "crossings")
    return cold_process([crossings, "import", str(path), "--store", str(store)])


#: geopandas' way with the same file, in a process of its own: read it, make the points (of a
#: CSV), write.
GEOPANDAS_IMPORT = """
import sys
import geopandas as gpd
frame = gpd.read_file(sys.argv[1])
if "lon" in frame:  # a CSV: the points are made from its columns (a GeoJSON file has them)
    frame = gpd.GeoDataFrame(
        frame.drop(columns="geometry", errors="ignore"),
        geometry=gpd.points_from_xy(frame["lon"].astype(float), frame["lat"].astype(float)),
        crs=4326,
    )
frame.to_file(sys.argv[2], layer="observations", driver="GPKG")
"""


def cold_geopandas_import(folder: Path, path: Path) -> tuple[float, int]:
    """Wall seconds and peak memory (MB) of geopandas `read_file` + `to_file` of the same CSV."""
    target = folder / f"geopandas-{path.stem}.gpkg"
    target.unlink(missing_ok=True)
    return cold_process([sys.executable, "-c", GEOPANDAS_IMPORT, str(path), str(target)])


def compare_imports(folder: Path, sizes: list[int]) -> None:
    """Print `crossings import` of a CSV, and of the same rows as GeoJSON, beside geopandas."""
    print(f"\n{'rows':>16}  {'crossings import':>22}  {'geopandas read+write':>22}  ratio")
    for records in sizes:
        source, skipped = csv_of(folder, records)
        for path in (source, geojson_of(source)):
            store = folder / f"import-{records}.gpkg"
            store.unlink(missing_ok=True)
            init_inventory(store, seed=ROOT / "layers" / "seed")
            wall, peak = cold_import(store, path)
            g_wall, g_peak = cold_geopandas_import(folder, path)
            kind = "GeoJSON" if path.suffix == ".geojson" else "CSV"
            print(
                f"{kind:>7} {records - skipped:>8,}  {wall:>9.1f} s {peak:>6} MB  "
                f"{g_wall:>9.1f} s {g_peak:>6} MB  x{wall / g_wall:.2f}",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also 10,000,000 (minutes)")
    parser.add_argument(
        "--import-only",
        action="store_true",
        help="only the imports, CSV and GeoJSON (200,000 and 1,000,000)",
    )
    args = parser.parse_args()
    sizes = [100_000, 1_000_000] + ([10_000_000] if args.large else [])
    with tempfile.TemporaryDirectory(dir=ROOT / "bench") as tmp:
        folder = Path(tmp)
        if args.import_only:
            compare_imports(folder, [200_000, 1_000_000])
            return
        print(f"{'records':>12}  {'ours: load':>11}  {'written/file':>12}  "
              f"{'geopandas to_file':>17}  {'written/file':>12}")  # fmt: skip
        previous = None
        for records in sizes:
            seconds, written, size = ours(records)
            line = f"{records:>12,}  {seconds:>9.1f} s  {written / size:>11.2f}x"
            if records <= 1_000_000:  # a frame of ten million points would not fit this run
                g_seconds, g_written, g_size = geopandas(folder, records)
                line += f"  {g_seconds:>15.1f} s  {g_written / g_size:>11.2f}x"
            if previous is not None:
                line += f"   growth: time x{seconds / previous:.1f} for x10 records"
            print(line, flush=True)
            previous = seconds
        compare_imports(folder, [1_000_000])


if __name__ == "__main__":
    main()
