"""Readers and writers at once against `crossings serve`, on the GeoPackage and on PostGIS.

Run: .venv/bin/python bench/bench_serve.py [--seconds 60] [--records 1000000,100000]

For each store size, the store is served twice in turn: by one server process
on a copy of the benchmark GeoPackage, and by two server processes on one
PostGIS database (a throwaway server on a loopback port allowing 100
connections, PostgreSQL's default; the store loaded into it). Every page is
drawn once on every process, then, for ``--seconds``:

- ``--readers`` (50) readers, each in a loop (with no pause unless
  ``--pause`` says how long a reader reads an answer): a status answer
  (``/api/status?as_of=<a random day>``) or a crossing's live map page
  (``/<id>.html``, a random crossing), half and half, each request to the
  next server process in turn;
- ``--writers`` (5) writers, each with a contributor and a reviewer account
  signed in once: load the record form, propose a record through it (a
  unique summary), and accept the proposal through the review form.

It prints requests, failures (any unexpected status or exception) and
latencies per kind of request; writes accepted, and whether every accepted
record is in the store exactly once (read back after the servers stop); the
load average seen; and, as peer figures, the same status question asked
in-process (``list_crossings``, and ``status_matrix``, which the API uses)
and a crossing page drawn in-process.

``--profile`` samples one server process with py-spy during the run and
prints where its time went. ``--template URL`` serves, on PostGIS, a copy of a
database already loaded (``CREATE DATABASE ... TEMPLATE``, dropped after the
run) instead of loading the store into a throwaway server: runs of a minute
each, without the load's minutes between them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from common import ROOT, shared_store

from geo.store import open_store
from geo.store.postgis import display_url

PASSWORD = "load-test-password-1234"
#: The days a status is asked of: any day the synthetic records span.
FIRST_DAY, LAST_DAY = date(2010, 1, 1), date(2025, 12, 31)
#: Every reader's and writer's request kinds, in the order they are printed.
KINDS = ("status", "page", "login", "form", "propose", "accept")
TARGET_P95_MS = 200.0
#: Seconds an idle connection is kept: less than uvicorn's 5, or a request sent as the server
#: closes it fails (a browser sends it again; httpx does not).
KEEP_ALIVE = 2.0
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _random_day(rng: random.Random) -> date:
    return FIRST_DAY + timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days + 1))


def add_accounts(store: str, writers: int) -> None:
    """A contributor and a reviewer for each writer."""
    from geo.team import add_user

    with open_store(store, writable=True) as opened:
        for w in range(writers):
            add_user(opened, f"load-c{w}", "contributor", PASSWORD, actor="console:bench")
            add_user(opened, f"load-r{w}", "reviewer", PASSWORD, actor="console:bench")


@contextmanager
def servers(store: str, count: int, folder: Path, secret: str):  # type: ignore[no-untyped-def]
    """Start ``count`` processes of ``crossings serve`` on ``store``; yield their (pid, url)s."""
    import httpx

    env = dict(os.environ, CROSSINGS_SECRET=secret)
    started = []
    try:
        for n in range(count):
            port = _free_port()
            log = (folder / f"server-{n}.log").open("wb")
            process = subprocess.Popen(
                [sys.executable, "-m", "geo", "serve", "--store", store, "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            started.append((process, f"http://127.0.0.1:{port}", log))
        for process, url, _ in started:
            deadline = time.monotonic() + 120
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"a server stopped at start: see {folder}/server-*.log")
                try:
                    if httpx.get(url + "/api/status", timeout=30).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("a server did not answer within 120 s")
                time.sleep(0.5)
        yield [(process.pid, url) for process, url, _ in started]
    finally:
        for process, _, _log in started:
            process.send_signal(signal.SIGINT)
        for process, _, log in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()
        _print_logged_errors(folder, len(started))


def _print_logged_errors(folder: Path, count: int) -> None:
    """Print the error of each different traceback the servers logged (four at most)."""
    said: set[str] = set()
    for n in range(count):
        lines = (folder / f"server-{n}.log").read_text(errors="replace").splitlines()
        for i, line in enumerate(lines):  # the last line of a traceback: its error
            if line.startswith("Traceback") and len(said) < 4:
                tail = next((t for t in lines[i + 1 :] if not t.startswith((" ", "\t"))), "")
                if tail not in said:
                    said.add(tail)
                    print(f"    server {n} logged: {tail[:300]}")


class Tally:
    """Latencies and failures of each kind of request."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = defaultdict(list)
        self.failures: dict[str, int] = defaultdict(int)
        self.examples: list[str] = []
        #: Bytes a reader received, by kind of request (as sent: compressed where it was).
        self.received: dict[str, int] = defaultdict(int)

    async def ask(self, kind, client, method, url, expected, **options):  # type: ignore[no-untyped-def]
        """Send one request; return its answer, or None where it failed."""
        start = time.perf_counter()
        try:
            answer = await client.request(method, url, **options)
        except Exception as err:  # every failure counts, whatever it is
            self.seconds[kind].append(time.perf_counter() - start)
            self._failed(kind, f"{method} {url}: {type(err).__name__} {err}")
            return None
        self.seconds[kind].append(time.perf_counter() - start)
        if answer.status_code != expected:
            self._failed(kind, f"{method} {url}: {answer.status_code} {answer.text[:200]!r}")
            return None
        return answer

    async def get(self, kind, session, url, expected):  # type: ignore[no-untyped-def]
        """A reader's request, through aiohttp: ``ask`` without keeping the answer."""
        start = time.perf_counter()
        try:
            async with session.get(url) as answer:
                body = await answer.read()
                self.received[kind] += len(body)
        except Exception as err:  # every failure counts, whatever it is
            self.seconds[kind].append(time.perf_counter() - start)
            self._failed(kind, f"GET {url}: {type(err).__name__} {err}")
            return
        self.seconds[kind].append(time.perf_counter() - start)
        if answer.status != expected:
            self._failed(kind, f"GET {url}: {answer.status} {body[:200]!r}")

    def _failed(self, kind: str, what: str) -> None:
        self.failures[kind] += 1
        if len(self.examples) < 8:
            self.examples.append(what)


@dataclass
class Run:
    """One load against one target: its servers, its crossings, when it stops, what it saw."""

    urls: list[str]
    crossings: list[str]
    stop: float
    name: str
    pause: float = 0.0
    tally: Tally = field(default_factory=Tally)
    accepted: list[str] = field(default_factory=list)


async def reader(load: Run, client, urls, rng):  # type: ignore[no-untyped-def]
    """Ask a status or a crossing's page, again and again, of each server in turn."""
    tally, crossings = load.tally, load.crossings
    n = 0
    while time.monotonic() < load.stop:
        base = urls[n % len(urls)]
        n += 1
        if rng.random() < 0.5:
            day = _random_day(rng).isoformat()
            await tally.get("status", client, f"{base}/api/status?as_of={day}", 200)
        else:
            await tally.get("page", client, f"{base}/{rng.choice(crossings)}.html", 200)
        if load.pause:  # a person reading the answer; 0 asks again at once
            await asyncio.sleep(rng.uniform(0, 2 * load.pause))


async def _signed_in(tally, client, base, name):  # type: ignore[no-untyped-def]
    """Sign in as ``name``; return whether it worked."""
    page = await tally.ask("login", client, "GET", f"{base}/login", 200)
    if page is None:
        return False
    form = {"csrf": _CSRF.search(page.text)[1], "name": name, "password": PASSWORD, "next": "/"}
    return await tally.ask("login", client, "POST", f"{base}/login", 303, data=form) is not None


async def writer(load: Run, w: int, rng: random.Random) -> None:
    """Propose a record as a contributor and accept it as a reviewer, again and again."""
    import httpx

    tally, urls, crossings, run = load.tally, load.urls, load.crossings, load.name

    options = {"timeout": httpx.Timeout(60.0), "limits": httpx.Limits(keepalive_expiry=KEEP_ALIVE)}
    async with (
        httpx.AsyncClient(**options) as contributor,
        httpx.AsyncClient(**options) as reviewer,
    ):
        if not (
            await _signed_in(tally, contributor, urls[w % len(urls)], f"load-c{w}")
            and await _signed_in(tally, reviewer, urls[(w + 1) % len(urls)], f"load-r{w}")
        ):
            return
        queue = await tally.ask("form", reviewer, "GET", f"{urls[0]}/review", 200)
        if queue is None:
            return
        review_token = _CSRF.search(queue.text)[1]
        n = 0
        while time.monotonic() < load.stop:
            base, other = urls[n % len(urls)], urls[(n + 1) % len(urls)]  # both serve a session
            n += 1
            form = await tally.ask("form", contributor, "GET", f"{base}/records/new", 200)
            if form is None:
                continue
            summary = f"load test {run} writer {w} record {n}"
            fields = {
                "csrf": _CSRF.search(form.text)[1],
                "crossing_id": rng.choice(crossings),
                "date": "2025-06",
                "kind": "traffic",
                "summary": summary,
                "source_url": f"https://example.org/load/{run}/{w}/{n}",
                "source_type": "news_report",
            }
            if n % 3 == 0:  # a status record now and then: it changes a status
                fields.update(kind="status", status=rng.choice(("open", "closed")))
            made = await tally.ask(
                "propose", contributor, "POST", f"{base}/records/new", 303, data=fields
            )
            if made is None:
                continue
            proposal_id = made.headers["location"].rsplit("/", 1)[-1]
            done = await tally.ask(
                "accept",
                reviewer,
                "POST",
                f"{other}/review/{proposal_id}/accept",
                303,
                data={"csrf": review_token},
            )
            if done is not None:
                load.accepted.append(summary)


async def run_load(urls, crossings, args, name) -> tuple[Run, list[float]]:  # type: ignore[no-untyped-def]
    """Run the readers and writers; return what they saw, and the load averages meanwhile."""
    import aiohttp

    load = Run(urls, crossings, time.monotonic() + args.seconds, name, args.pause)
    loads: list[float] = []
    rng = random.Random(name)

    async def watch() -> None:
        while time.monotonic() < load.stop:
            loads.append(os.getloadavg()[0])
            await asyncio.sleep(5)

    # The readers' client is aiohttp's: httpx's costs several times the CPU a request, and on
    # a shared machine the load generator would be measured, not the servers.
    connector = aiohttp.TCPConnector(limit=args.readers + 10, keepalive_timeout=KEEP_ALIVE)
    timeout = aiohttp.ClientTimeout(total=60.0)
    # They accept gzip, as browsers do, and keep what they receive as sent: a browser inflates
    # a page on its own machine, not on the servers'.
    async with aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        auto_decompress=False,
        headers={"Accept-Encoding": "gzip, deflate"},
    ) as client:
        await asyncio.gather(
            watch(),
            *(
                reader(load, client, urls[r % len(urls) :] + urls[: r % len(urls)],
                       random.Random(rng.random()))
                for r in range(args.readers)
            ),
            *(
                writer(load, w, random.Random(rng.random()))
                for w in range(args.writers)
            ),
        )  # fmt: skip
    loads.append(os.getloadavg()[0])
    return load, loads


def stored_once(store: str, run: str, accepted: list[str]) -> tuple[int, int, int, int]:
    """Read back the load's records: (stored once, missing, stored twice or more, not accepted)."""
    with open_store(store) as opened:
        rows = opened._query(
            "SELECT summary, count(*) FROM observations WHERE summary LIKE :like GROUP BY summary",
            {"like": f"load test {run} %"},
        )
    found: dict[str, int] = dict(rows)
    once = sum(1 for s in accepted if found.get(s) == 1)
    missing = sum(1 for s in accepted if s not in found)
    twice = sum(1 for count in found.values() if count > 1)
    extra = sum(1 for s in found if s not in set(accepted))
    return once, missing, twice, extra


def in_process(store: str, crossings: list[str]) -> dict[str, float]:
    """Median milliseconds of the status question and of drawing a page, in this process."""
    from geo.browse import list_crossings, status_matrix
    from geo.publish import crossing_page

    rng = random.Random(7)
    days = [_random_day(rng) for _ in range(15)]
    figures = {}
    with open_store(store) as opened:
        for name, ask in (
            ("list_crossings", lambda day: list_crossings(opened, as_of=day)),
            ("status_matrix", lambda day: status_matrix(opened, [day])),
        ):
            times = []
            for day in days:
                start = time.perf_counter()
                ask(day)
                times.append(time.perf_counter() - start)
            figures[name] = statistics.median(times) * 1000
    times = []
    for name in crossings[:5]:
        start = time.perf_counter()
        crossing_page(store, name).get_root().render()  # type: ignore[union-attr]
        times.append(time.perf_counter() - start)
    figures["crossing page drawn"] = statistics.median(times) * 1000
    return figures


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def report(target: Target, load: Run, once, loads, seconds) -> bool:  # type: ignore[no-untyped-def]
    """Print one target's figures; return whether it met the targets."""
    tally, accepted, peers = load.tally, load.accepted, target.peers
    print(f"  {target.name}")
    total = sum(len(v) for v in tally.seconds.values())
    failures = sum(tally.failures.values())
    print(f"    requests {total:,} in {seconds} s ({total / seconds:.0f}/s), failed {failures}")
    print("    kind       requests  failed    p50 ms    p95 ms    p99 ms  KB each (sent)")
    for kind in KINDS:
        times = tally.seconds.get(kind, [])
        if not times:
            continue
        size = ""
        if kind in tally.received:
            size = f"{tally.received[kind] / len(times) / 1000:>15.1f}"
        print(
            f"    {kind:<9} {len(times):>9,} {tally.failures.get(kind, 0):>7} "
            f"{_percentile(times, 0.5):>9.1f} {_percentile(times, 0.95):>9.1f} "
            f"{_percentile(times, 0.99):>9.1f}{size}"
        )
    for example in tally.examples:
        print(f"    failed: {example}")
    stored, missing, twice, extra = once
    exactly = stored == len(accepted) and not twice and not extra
    print(
        f"    writes accepted {len(accepted)}, stored exactly once: {'yes' if exactly else 'no'} "
        f"({stored} once, {missing} missing, {twice} more than once, {extra} not accepted)"
    )
    print(
        f"    load average (1 min) during the run: mean {statistics.mean(loads):.1f}, "
        f"max {max(loads):.1f} ({os.cpu_count()} cores)"
    )
    print("    in-process, same store, idle: " + ", ".join(
        f"{name} {ms:.1f} ms" for name, ms in peers.items()))  # fmt: skip
    p95 = {k: _percentile(tally.seconds[k], 0.95) for k in ("status", "page") if tally.seconds[k]}
    met = failures == 0 and exactly and all(v <= TARGET_P95_MS for v in p95.values())
    verdict = ", ".join(f"p95 {k} {v:.0f} ms" for k, v in p95.items())
    print(f"    target (no failure, stored once, p95 <= 200 ms): {'met' if met else 'missed'} "
          f"({verdict})")  # fmt: skip
    return met


def profile(pid: int, seconds: int, folder: Path) -> subprocess.Popen[bytes]:
    """Sample a server process with py-spy for ``seconds``; its raw output goes to ``folder``."""
    spy = Path(sys.executable).parent / "py-spy"
    return subprocess.Popen(
        [str(spy), "record", "--pid", str(pid), "--duration", str(seconds), "--format", "raw",
         "--output", str(folder / "profile.txt"), "--nonblocking", "--rate", "50"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _frame_name(frame: str) -> str:
    """``function (file.py)`` of a py-spy frame ``function (path/file.py:line)``."""
    function, _, where = frame.rpartition(" (")
    return f"{function} ({where.split(':')[0].rsplit('/', 1)[-1]})"


def print_profile(path: Path, top: int = 12) -> None:
    """Print the share of samples in which each of our functions (or a library's) was seen."""
    if not path.exists():
        print("    (no profile: py-spy could not sample the server)")
        return
    seen: dict[str, int] = defaultdict(int)
    total = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        if any("run_forever" in f or "_worker (concurrent" in f for f in frames[-1:]):
            continue
        if not any(("geo/" in f or "geo\\" in f) for f in frames):
            if any(("wait (threading" in f or "select" in f) for f in frames[-2:]):
                continue  # an idle thread
        total += int(count)
        names = {_frame_name(f) for f in frames if "geo/" in f or "folium" in f or "jinja2" in f}
        for name in names:
            seen[name] += int(count)
    print(
        f"    where a server's busy samples went ({total:,}; a function counts with its callees):"
    )
    for name, count in sorted(seen.items(), key=lambda item: -item[1])[:top]:
        print(f"      {100 * count / max(total, 1):5.1f}%  {name}")


def warm(urls: list[str], crossings: list[str]) -> None:
    """Draw every page once on every server, as a server that has run a while has them."""
    import httpx

    for url in urls:
        for name in crossings:
            httpx.get(f"{url}/{name}.html", timeout=120).raise_for_status()


@dataclass
class Target:
    """A store served by some processes, and the in-process figures of its store beside them."""

    name: str
    store: str
    processes: int
    folder: Path
    peers: dict[str, float]


@contextmanager
def postgis_store(template: str | None, server, path: Path, records: int):  # type: ignore[no-untyped-def]
    """Yield the address of the PostGIS store served: loaded into ``server``, or a copy."""
    if template:
        print(f"a copy of {display_url(template)}")
        with copied_database(template) as url:
            yield url
        return
    from bench_postgis import load as load_postgis

    url = server.database()
    seconds = load_postgis(path, url)
    print(f"{records:,} records (loaded into PostGIS in {seconds:.0f} s)")
    yield url


@contextmanager
def copied_database(template: str):  # type: ignore[no-untyped-def]
    """Yield the address of a copy of a loaded database, on its server; drop it after."""
    import psycopg
    from psycopg import sql

    base, _, name = template.rpartition("/")
    copy = f"bench_copy_{os.getpid()}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(copy), sql.Identifier(name)
            )
        )
    try:
        yield f"{base}/{copy}"
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(copy)))


def allow_connections(server, count: int) -> None:  # type: ignore[no-untyped-def]
    """Restart the throwaway server allowing ``count`` connections (the tests allow 40).

    A server process opens a connection for each request it is answering, up
    to one a thread of its pool (40): two of them need more than 40.
    """
    data = server.folder / "data"
    words = shlex.split((data / "postmaster.opts").read_text())[1:]  # the server's options
    at = words.index("-D")
    del words[at : at + 2]  # pg_ctl gives the folder
    options = re.sub(r"max_connections=\d+", f"max_connections={count}", " ".join(words))
    subprocess.run(
        [str(server.bin_dir / "pg_ctl"), "-D", str(data), "-l", str(server.folder / "server.log"),
         "-o", options, "-w", "-t", "60", "-m", "fast", "restart"],
        user="postgres" if os.geteuid() == 0 else None,
        check=True,
        capture_output=True,
    )  # fmt: skip


def run_target(target: Target, args: argparse.Namespace, run: str, crossings: list[str]) -> bool:
    """Serve the target, load it, read its writes back and print its figures."""
    store, folder = target.store, target.folder
    add_accounts(store, args.writers)
    secret = os.urandom(32).hex()
    with servers(store, target.processes, folder, secret) as started:
        urls = [url for _, url in started]
        warm(urls, crossings)
        spy = profile(started[0][0], args.seconds, folder) if args.profile else None
        load, loads = asyncio.run(run_load(urls, crossings, args, run))
        if spy is not None:
            spy.wait()
    once = stored_once(store, run, load.accepted)
    met = report(target, load, once, loads, args.seconds)
    if args.profile:
        print_profile(folder / "profile.txt")
        (folder / "profile.txt").unlink(missing_ok=True)
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60, help="how long each load runs")
    parser.add_argument("--records", default="1000000", help="store sizes, comma-separated")
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--writers", type=int, default=5)
    parser.add_argument(
        "--pause",
        type=float,
        default=0.0,
        help="mean seconds a reader waits between requests (default 0: at once)",
    )
    parser.add_argument("--processes", type=int, default=2, help="server processes on PostGIS")
    parser.add_argument(
        "--backends", default="GeoPackage,PostGIS", help="GeoPackage, PostGIS or both"
    )
    parser.add_argument(
        "--max-connections",
        type=int,
        default=100,
        help="connections the PostgreSQL server allows (100, its default; 0: the tests' 40)",
    )
    parser.add_argument("--profile", action="store_true", help="sample one server with py-spy")
    parser.add_argument(
        "--template",
        help="on PostGIS, serve a copy of this loaded database instead of loading one",
    )
    args = parser.parse_args()
    backends = args.backends.split(",")
    pause = f", readers pause {args.pause:g} s on average" if args.pause else ""
    print(f"{args.readers} readers{pause} and {args.writers} writers for {args.seconds} s; "
          f"load average before: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")  # fmt: skip
    results = {}
    with ExitStack() as stack:
        server = None
        if "PostGIS" in backends and not args.template:
            sys.path.insert(0, str(ROOT / "tests"))
            sys.path.insert(0, str(ROOT / "bench"))
            import postgres  # the tests' throwaway server

            server = stack.enter_context(postgres.cluster())
            if args.max_connections:
                allow_connections(server, args.max_connections)
        for records in [int(size) for size in args.records.split(",")]:
            path = shared_store(records)
            with open_store(path) as opened:
                crossings = list(opened.crossings())
            run = f"{records}-{int(time.time())}"
            peers = in_process(str(path), crossings)
            if "GeoPackage" in backends:
                with tempfile.TemporaryDirectory() as scratch:
                    folder = Path(scratch)
                    copy = folder / "store.gpkg"  # writes go to a copy: the shared store stays
                    shutil.copyfile(path, copy)
                    print(f"{records:,} records")
                    target = Target("GeoPackage, 1 server process", str(copy), 1, folder, peers)
                    results[("GeoPackage", records)] = run_target(target, args, run, crossings)
            if server is not None or (args.template and "PostGIS" in backends):
                url = stack.enter_context(postgis_store(args.template, server, path, records))
                with tempfile.TemporaryDirectory() as scratch:
                    target = Target(
                        f"PostGIS, {args.processes} server processes",
                        url,
                        args.processes,
                        Path(scratch),
                        in_process(url, crossings),
                    )
                    results[("PostGIS", records)] = run_target(target, args, run, crossings)
    print("targets met: " + ", ".join(
        f"{backend} {records:,}: {'yes' if met else 'no'}"
        for (backend, records), met in results.items()))  # fmt: skip


if __name__ == "__main__":
    main()
