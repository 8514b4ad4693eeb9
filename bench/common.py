"""Shared by the benchmarks: a store of synthetic observations around the crossings."""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import time
from pathlib import Path

from geo.build import init_inventory
from geo.model import LonLat
from geo.store import open_store
from geo.validate import parse_observation

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("traffic", "infrastructure", "status", "traffic", "context")
#: A status record's status, drawn at random: records of one month disagree, as sources do.
STATUSES = ("open", "restricted", "closed")


def build_store(path: Path, records: int, *, seed: Path = ROOT / "layers" / "seed") -> float:
    """Make ``path`` a store of ``records`` observations; reuse it if it already is one.

    Points spread evenly over a box of about 34 x 33 km around each located
    crossing (about 90 records a square kilometre), dates from 2010 to 2025.
    Returns seconds spent.
    """
    if path.exists():
        with open_store(path) as store:
            if store.count() == records:
                return 0.0
        path.unlink()
    start = time.perf_counter()
    init_inventory(path, seed=seed)
    rng = random.Random(42)
    with open_store(path, writable=True) as store:
        crossings = [c for c in store.crossings().values() if c.location]
        template = parse_observation(
            {
                "crossing_id": crossings[0].id,
                "date": "2024-05",
                "kind": "traffic",
                "summary": "synthetic observation",
                "source_url": "https://example.org/bench",
                "source_type": "satellite_imagery",
            },
            store.crossings(),
        )
        dates = [
            parse_observation(
                {
                    "crossing_id": "border",
                    "kind": "traffic",
                    "summary": "d",
                    "source_url": "https://example.org/d",
                    "source_type": "news_report",
                    "date": f"{y}-{m:02d}",
                },
                store.crossings(),
            ).date
            for y in range(2010, 2026)
            for m in range(1, 13)
        ]

        def synthetic():  # generated as written: the load never holds them all
            for n in range(records - store.count()):
                crossing = crossings[n % len(crossings)]
                assert crossing.location is not None
                point = LonLat(
                    crossing.location.lon + rng.uniform(-0.2, 0.2),
                    crossing.location.lat + rng.uniform(-0.15, 0.15),
                )
                k = rng.randrange(len(KINDS))
                yield template._replace(
                    id=f"b-{n:09d}",
                    crossing_id=crossing.id,
                    date=rng.choice(dates),
                    kind=KINDS[k],
                    status=rng.choice(STATUSES) if KINDS[k] == "status" else None,
                    location=point,
                    has_own_location=True,
                )

        store.add_observations(synthetic(), bulk=True, expected_rows=records)
    return time.perf_counter() - start


def median_time(function, repeat: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    """Median wall seconds of ``repeat`` calls, and the last call's answer."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def interleaved_medians(functions, repeat: int) -> dict[str, tuple[float, object]]:  # type: ignore[no-untyped-def]
    """Median wall seconds and last answer of each named function, called in turn.

    One call of each per round, so a burst of load on a shared machine falls on
    all of them alike rather than on whichever ran during it.
    """
    times: dict[str, list[float]] = {name: [] for name in functions}
    answers: dict[str, object] = {}
    for _ in range(repeat):
        for name, function in functions.items():
            start = time.perf_counter()
            answers[name] = function()
            times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(times[name]), answers[name]) for name in functions}


def cold_process(args: list[str]) -> tuple[float, int]:
    """Wall seconds and peak resident memory (MB) of one fresh process and those it starts.

    The peak is what GNU time reads of the command alone (a child started
    straight from this large process would share its memory until it runs the
    command, and count it), or, if larger, the most that the command and the
    processes it starts held at once, read every 20 ms (GNU time gives the
    largest of them, not their sum: an import checks a large file in a process
    of its own).
    """
    if not Path("/usr/bin/time").exists():
        raise SystemExit("the benchmarks read peak memory with GNU time: apt install time")
    start = time.perf_counter()
    running = subprocess.Popen(
        ["/usr/bin/time", "-f", "%M", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # As a user's install runs, with its bytecode: pip compiles an installed package, and
        # the first run of a command writes what it imports (a variable that forbids it would
        # have every run compile the package anew).
        env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    )
    together = 0
    while running.poll() is None:
        together = max(together, _resident_kib(_descendants(running.pid)))
        time.sleep(0.02)
    wall = time.perf_counter() - start
    assert running.stderr is not None
    errors = running.stderr.read()
    if running.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {errors[-300:]}")
    return wall, max(int(errors.strip().splitlines()[-1]), together) // 1024


def _descendants(pid: int) -> list[int]:
    """The processes ``pid`` started, and theirs (Linux)."""
    found = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                found += [int(child), *_descendants(int(child))]
    except OSError:  # ended meanwhile
        pass
    return found


def _resident_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def shared_store(records: int) -> Path:
    """Return the benchmarks' store of ``records`` observations, building it if needed."""
    path = ROOT / "bench" / f"observations-{records}.gpkg"
    built = build_store(path, records)
    print(f"store of {records:,} observations (built in {built:.1f} s; 0 = reused)")
    return path
