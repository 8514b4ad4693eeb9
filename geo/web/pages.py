"""The live map pages: the maps of ``crossings map``, drawn from the store as it is now.

A page is drawn with the functions that write the static maps
(:mod:`geo.publish`), kept until what it shows changes, and served with its
scripts and stylesheets from this server: the pinned copies the static maps
inline. Each inline script of a page is allowed by its hash in the page's
Content-Security-Policy.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import threading
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from geo.model import OVERVIEW_PAGE
from geo.publish import crossing_page, overview_map, page_data
from geo.render import DETAIL_AROUND_DEG, page_data_json
from geo.timelines import KeptTimelines, StatusKeeper
from geo.web.session import script_hash

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

__all__ = ["MapPage", "MapPages", "accepts_gzip", "local_assets"]

_log = logging.getLogger(__name__)

_CDN = "https://cdn.jsdelivr.net/npm/"
_ASSET = re.compile(r'(<script src="|<link rel="stylesheet" href=")' + re.escape(_CDN))
_INLINE_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.DOTALL)


#: A weight of RFC 9110 (``qvalue``): 0 to 1, at most three decimals.
_QVALUE = re.compile(r"0(\.\d{0,3})?|1(\.0{0,3})?")


def accepts_gzip(header: str) -> bool:
    """Whether an ``Accept-Encoding`` header accepts gzip (RFC 9110: a weight of 0 refuses).

    ``x-gzip`` is gzip; a weight that is no qvalue counts as 0.

    >>> accepts_gzip("gzip, deflate, br"), accepts_gzip("gzip;q=0, *"), accepts_gzip("*;q=0.5")
    (True, False, True)
    >>> accepts_gzip("x-gzip;q=0, gzip"), accepts_gzip("gzip;q=1.5"), accepts_gzip("identity")
    (True, False, False)
    """
    weights: dict[str, float] = {}
    for part in header.lower().split(","):
        coding, _, params = part.partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip() == "q":
                value = value.strip()
                weight = float(value) if _QVALUE.fullmatch(value) else 0.0
        coding = coding.strip()
        coding = "gzip" if coding == "x-gzip" else coding
        weights[coding] = max(weights.get(coding, 0.0), weight)
    if "gzip" in weights:
        return weights["gzip"] > 0
    return weights.get("*", 0.0) > 0


def local_assets(html: str) -> str:
    """Load a page's pinned scripts and stylesheets from this server, not from the CDN."""
    return _ASSET.sub(r"\1/vendor/", html)


def inline_script_hashes(html: str) -> list[str]:
    """Return the CSP sources of every inline script of a page (data blocks are not scripts)."""
    found = []
    for match in _INLINE_SCRIPT.finditer(html):
        attrs = match["attrs"]
        if "src=" in attrs or "application/json" in attrs:
            continue
        found.append(script_hash(match["body"]))
    return list(dict.fromkeys(found))


#: What the server adds to every live page: its stylesheet in the head, its script before the
#: end of the body (after the bar of the account, which each request renders).
_HEAD_ADDED = '<link rel="stylesheet" href="/static/web.css">\n'
_BODY_ADDED = '<script src="/static/web.js"></script>\n'
#: gzip's usual level: a page of 1 MB is compressed once per drawing, in some 30 ms, to a
#: fifth or less; each request then adds its bar, stored (see MapPage.body).
_GZIP_LEVEL = 6
#: A gzip member's header (RFC 1952): deflate, no name, no time, from an unknown system.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


def _deflated(data: bytes, *, last: bool, level: int = _GZIP_LEVEL) -> bytes:
    """Deflate ``data`` on its own: blocks that refer to nothing before them, ending on a byte.

    Such pieces, each but the last ended by a full flush, join into one
    deflate stream: how a page compressed once takes each request's bar in
    its middle.
    """
    compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    end = zlib.Z_FINISH if last else zlib.Z_FULL_FLUSH
    return compressor.compress(data) + compressor.flush(end)


@dataclass(frozen=True)
class MapPage:
    """A drawn page, and the hashes of its inline scripts."""

    html: str
    scripts: tuple[str, ...]
    #: The page before the bar and after it, as UTF-8 and deflated, and the CRC-32 of the first.
    _served: tuple[bytes, bytes, bytes, bytes, int] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def body(self, bar: str, *, gzipped: bool) -> bytes:
        """Return the page as served, with a request's ``bar``, as UTF-8 or gzip.

        The page before and after the bar is encoded and compressed once (see
        :meth:`prepare`); a request adds its bar. The bar holds the session's
        form token, so it is stored, not compressed: no text of the page nor
        of the bar (records others wrote, the address asked) can be used to
        guess the token from the length of the answer (BREACH).
        """
        before, after, packed_before, packed_after, crc_before = self._pieces()
        middle = bar.encode()
        if not gzipped:
            return b"".join((before, middle, after))
        crc = zlib.crc32(after, zlib.crc32(middle, crc_before))
        size = (len(before) + len(middle) + len(after)) & 0xFFFF_FFFF
        return b"".join(
            (
                _GZIP_HEADER,
                packed_before,
                _deflated(middle, last=False, level=0),
                packed_after,
                crc.to_bytes(4, "little"),
                size.to_bytes(4, "little"),
            )
        )

    def prepare(self) -> MapPage:
        """Encode and compress the page around the bar now (in the thread that drew it)."""
        self._pieces()
        return self

    def _pieces(self) -> tuple[bytes, bytes, bytes, bytes, int]:
        """Return what :attr:`_served` holds, made once.

        Kept on the page without a lock: two threads that meet here make the
        same bytes, and pages of other crossings are prepared at the same time.
        """
        served = self._served
        if served is None:
            html = self.html
            end = html.rfind("</body>")
            end = len(html) if end < 0 else end
            head = html.find("</head>", 0, end)
            text = html[:end] if head < 0 else html[:head] + _HEAD_ADDED + html[head:end]
            before, after = text.encode(), (_BODY_ADDED + html[end:]).encode()
            packed = _deflated(before, last=False), _deflated(after, last=True)
            served = (before, after, *packed, zlib.crc32(before))
            object.__setattr__(self, "_served", served)  # a frozen page: set once, as it is
        return served

    def with_data(self, data_json: str) -> MapPage:
        """Return the page with another data block: what its script draws, the rest as drawn.

        Its scripts' hashes stay: a data block is not a script.
        """
        start = self.html.index(_DATA_OPEN) + len(_DATA_OPEN)
        end = self.html.index("</script>", start)
        return MapPage(self.html[:start] + data_json + self.html[end:], self.scripts)


#: The page's data block (geo.render), which a page drawn again for new records changes alone.
_DATA_OPEN = '<script type="application/json" id="crossings-data">'


def _drawn(fmap: Any) -> MapPage:
    html = local_assets(fmap.get_root().render())
    return MapPage(html, tuple(inline_script_hashes(html)))


class MapPages:
    """The pages of one store, each drawn again only when what it shows has changed.

    With ``apart``, the data of a page drawn again after a write is drawn by a
    process of its own (see :class:`Painter`).
    """

    def __init__(
        self, store: str, keeper: StatusKeeper | None = None, *, apart: bool = False
    ) -> None:
        self.store = store
        self.keeper = keeper or StatusKeeper(store, page_box_deg=DETAIL_AROUND_DEG)
        self.painter = Painter(store) if apart else None
        self._pages: dict[str, tuple[object, MapPage]] = {}
        self._lock = threading.Lock()
        #: One drawing of a page at a time: the other requests for it wait, then share it.
        self._drawing: dict[str, threading.Lock] = {}

    def version(self, name: str = OVERVIEW_PAGE) -> tuple[object, KeptTimelines | None]:
        """Return what changes when a page does, and the timelines kept as the store is now.

        A crossing's page changes with its own records and the whole border's,
        the overview with any record (see geo.timelines); both with the other
        layers, and each day, as today's statuses do. The team's tables
        (accounts, proposals, the log) are not among them: a proposal changes no
        map. None for a store that does not count its edits in place: the page
        is drawn again each time.
        """
        kept = self.keeper.current()
        if kept is None:
            return None, None
        crossing = None if name == OVERVIEW_PAGE else name
        return (datetime.now(UTC).date(), *kept.page_version(crossing)), kept

    def page(self, name: str) -> MapPage | None:
        """Return the overview (``index``) or a crossing's page; None for no such crossing."""
        version, kept = self.version(name)
        with self._lock:
            found = self._pages.get(name)
            if found is not None and version is not None and found[0] == version:
                return found[1]
            drawing = self._drawing.setdefault(name, threading.Lock())
        with drawing:
            with self._lock:  # drawn by another request while this one waited
                found = self._pages.get(name)
                if found is not None and version is not None and found[0] == version:
                    return found[1]
            drawn = self._draw(name, kept, found, version)
            if drawn is None:
                with self._lock:  # a name from an address: nothing kept for one that is none
                    self._drawing.pop(name, None)
                return None
            drawn.prepare()  # here, not in the event loop that serves it
            with self._lock:
                self._pages[name] = (version, drawn)
        return drawn

    def _draw(
        self,
        name: str,
        kept: KeptTimelines | None,
        found: tuple[object, MapPage] | None,
        version: object,
    ) -> MapPage | None:
        """Draw a page; where only records changed since it was drawn, its data alone.

        The rest of a page (its map, layers, controls and script) follows the
        crossings, the other layers and the day, which change the version's
        first two parts (the day, the timelines' epoch).
        """
        steps = kept.steps if kept is not None else None
        if found is not None and version is not None and _same_shell(found[0], version):
            seen = (kept.frame, kept.last_record) if kept is not None else None
            apart = self.painter.data_json(name, seen) if self.painter is not None else None
            # No painter, or none ready: drawn here.
            (text,) = apart if apart is not None else (_data_json(self.store, name, kept),)
            return None if text is None else found[1].with_data(text)
        fmap = (
            overview_map(self.store, timelines=steps)
            if name == OVERVIEW_PAGE
            else crossing_page(self.store, name, timelines=steps)
        )
        return None if fmap is None else _drawn(fmap)

    def close(self) -> None:
        """Stop the painter, and close the connections the timelines keep."""
        if self.painter is not None:
            self.painter.close()
        self.keeper.close()


class Painter:
    """Draws the data of pages (the overview's and crossings') in a process of its own.

    A server process answers every request on one core, one thread at a time.
    A page drawn again after a write (about 20 ms of work at 1,000,000 records)
    shared that core with the requests of every other reader, and took 100 to
    400 ms to finish while the requests for that page waited for it. Drawn
    here, by a process with timelines of its own (followed as the server's
    are), it is drawn at the pace of a core alone.

    The server asks over a pipe of its own, one page at a time, and the thread
    that asks reads the answer itself: a pool of processes hands each call and
    each answer through threads of its own, and each hand-over waited for the
    interpreter's lock behind the server's requests (half of a drawing's time
    under load).

    Whenever the process is not there (starting, gone, or failing), the
    caller is told so and draws the page itself: the page is the same either way.
    """

    #: How long a page may take to be drawn apart before it is drawn in the server instead.
    TIMEOUT_S = 30.0
    #: How long after a start that could not read the store it is started again.
    RETRY_S = 60.0

    def __init__(self, store: str) -> None:
        self.store = store
        self._lock = threading.Lock()  # one page at a time through the pipe
        self._process: multiprocessing.process.BaseProcess | None = None
        self._pipe: Connection | None = None
        self._ready: bool | None = None  # None: not known yet
        self._closed = False
        self._start()

    def _start(self) -> None:
        # A new interpreter, not a fork of this one: the server runs threads.
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_paint_for, args=(theirs, self.store, os.getpid()), daemon=True
        )
        process.start()
        theirs.close()
        self._process, self._pipe, self._ready = process, ours, None
        self._started = time.monotonic()

    def ready(self, timeout: float = 0.0) -> bool:
        """Whether the process draws pages (waiting up to ``timeout`` seconds for it to start)."""
        with self._lock:
            return self._is_ready(timeout)

    def _is_ready(self, timeout: float) -> bool:
        """Whether the process has read its timelines and draws (under the lock)."""
        if self._ready is None and self._pipe is not None:
            try:
                if self._pipe.poll(timeout):
                    self._ready = bool(self._pipe.recv())  # it says once, when it has read
            except (EOFError, OSError):  # gone while starting
                self._ready = False
        return bool(self._ready)

    def data_json(
        self, name: str, seen: tuple[tuple[object, ...], int] | None = None
    ) -> tuple[str | None] | None:
        """Return a page's data drawn apart, or None: the caller draws it.

        Drawn: ``(its JSON as page_data_json gives it,)``, ``(None,)`` for no such crossing.
        ``seen``: the store as the server's timelines found it (their frame and last
        record); the painter's are brought that far without asking the store again.
        """
        with self._lock:
            if not self._is_ready(0.0) or self._pipe is None:
                # One that could not read the store (down for a moment, say) tries again later.
                if self._ready is False and time.monotonic() - self._started >= self.RETRY_S:
                    self._restart()
                return None
            try:
                self._pipe.send((name, seen))
                if not self._pipe.poll(self.TIMEOUT_S):
                    raise TimeoutError(f"no page within {self.TIMEOUT_S:g} s")
                drawn: tuple[str | None] | None = self._pipe.recv()
            except (EOFError, OSError) as err:  # TimeoutError is an OSError
                # Gone, or late: its answer would come in the place of the next one's.
                _log.warning(
                    "%s: the process that draws pages stopped or is late (%s)", self.store, err
                )
                self._restart()
                return None
        if drawn is None:  # failed there: drawn here, where a fault is named
            _log.warning("%s: a page could not be drawn apart; drawing it here", self.store)
        return drawn

    def _stop(self) -> None:
        """End the process and close the pipe (its end of the pipe closed, it ends by itself)."""
        process, pipe = self._process, self._pipe
        self._process, self._pipe, self._ready = None, None, False
        if pipe is not None:
            pipe.close()
        if process is not None:
            process.join(timeout=5)
            if process.is_alive():  # in the middle of a page, or stuck
                process.kill()
                process.join()

    def _restart(self) -> None:
        """Start the process again (under the lock); where none can start, this server draws."""
        self._stop()
        if self._closed:
            return
        try:
            self._start()
        except OSError as err:
            _log.warning("%s: no process to draw pages could start: %s", self.store, err)

    def close(self) -> None:
        """End the process; not waiting for a page under way (its caller then draws it)."""
        self._closed = True
        self._stop()


# The painter's process: its store and the timelines it follows.
_PAINTING: dict[str, Any] = {}


def _paint_for(pipe: Connection, store: str, server: int) -> None:
    """Draw the pages the server asks for, one at a time, until it closes the pipe."""
    _PAINTING["store"] = store
    _PAINTING["keeper"] = StatusKeeper(store, page_box_deg=DETAIL_AROUND_DEG)
    # The server's id as it gave it: one killed while this process started is already gone.
    threading.Thread(target=_stop_with, args=(server,), daemon=True).start()
    try:
        pipe.send(_paint_ready())
        while True:
            name, seen = pipe.recv()
            pipe.send(_paint(name, seen))
    except (EOFError, OSError):  # the server closed its end, or is gone
        pass


def _stop_with(server: int) -> None:
    """End this process when the server that started it is gone (killed, say).

    A server stopped in order stops it; one killed would leave it waiting for
    pages forever, holding the store open.
    """
    while os.getppid() == server:
        time.sleep(1)
    os._exit(0)


def _paint_ready() -> bool:
    """Read the timelines once; False if this process cannot draw (the server draws then)."""
    try:
        _PAINTING["keeper"].current()
    except Exception:  # the server draws its pages, names the fault, and starts one anew later
        return False
    return True


def _paint(name: str, seen: tuple[tuple[object, ...], int] | None) -> tuple[str | None] | None:
    """Return a page's data as JSON, ``(None,)`` for no such crossing; None: it failed."""
    try:
        kept = _PAINTING["keeper"].current(seen)
        return (_data_json(_PAINTING["store"], name, kept),)
    except Exception:  # drawn again by the server, which names the fault
        return None


def _data_json(store: str, name: str, kept: KeptTimelines | None) -> str | None:
    """Return the data a page's script draws, as JSON; None for no such crossing."""
    data = page_data(store, name, kept=kept)
    return None if data is None else page_data_json(data)


def _same_shell(drawn: object, now: object) -> bool:
    """Whether a page drawn at version ``drawn`` differs from one at ``now`` in its data only."""
    return (
        isinstance(drawn, tuple)
        and isinstance(now, tuple)
        and drawn[:2] == now[:2]  # the same day, the same epoch of the timelines
    )
