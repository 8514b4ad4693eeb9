"""The live map pages: the maps of ``crossings map``, drawn from the store as it is now.

A page is drawn with the functions that write the static maps
(:mod:`geo.publish`), kept until the store changes, and served with its
scripts and stylesheets from this server: the pinned copies the static maps
inline. Each inline script of a page is allowed by its hash in the page's
Content-Security-Policy.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from geo.model import OVERVIEW_PAGE
from geo.publish import crossing_page, overview_map
from geo.store import is_database, open_store
from geo.web.session import script_hash

__all__ = ["MapPage", "MapPages", "local_assets"]

_CDN = "https://cdn.jsdelivr.net/npm/"
_ASSET = re.compile(r'(<script src="|<link rel="stylesheet" href=")' + re.escape(_CDN))
_INLINE_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.DOTALL)


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


@dataclass(frozen=True)
class MapPage:
    """A drawn page, and the hashes of its inline scripts."""

    html: str
    scripts: tuple[str, ...]


def _drawn(fmap: Any) -> MapPage:
    html = local_assets(fmap.get_root().render())
    return MapPage(html, tuple(inline_script_hashes(html)))


class MapPages:
    """The pages of one store, each drawn again only when the store has changed since."""

    def __init__(self, store: str) -> None:
        self.store = store
        self._pages: dict[str, tuple[object, MapPage]] = {}
        self._lock = threading.Lock()
        #: One drawing of a page at a time: the other requests for it wait, then share it.
        self._drawing: dict[str, threading.Lock] = {}

    def version(self) -> object:
        """Return what changes when the maps' layers do (and each day, as today's statuses do).

        The last row of each layer a write adds to (rows are added, never
        rewritten, by the commands and the server); in a GeoPackage also each
        layer's last change, which other programs' edits keep too, and the
        file itself. The team's tables (accounts, proposals, the log) are not
        among them: a proposal changes no map.
        """
        today = datetime.now(UTC).date()
        with open_store(self.store) as opened:
            rows = opened._query(
                "SELECT (SELECT max(fid) FROM observations), (SELECT max(fid) FROM crossings), "
                "(SELECT max(fid) FROM structures), (SELECT max(fid) FROM trade)",
                {},
            )
            if is_database(self.store):
                return (today, *rows[0])
            changes = opened._query(
                "SELECT table_name, last_change FROM gpkg_contents WHERE table_name IN "
                "('observations', 'crossings', 'structures', 'trade') ORDER BY table_name",
                {},
            )
        info = Path(self.store).stat()
        return (today, info.st_dev, info.st_ino, *rows[0], *changes)

    def page(self, name: str) -> MapPage | None:
        """Return the overview (``index``) or a crossing's page; None for no such crossing."""
        version = self.version()
        with self._lock:
            kept = self._pages.get(name)
            if kept is not None and kept[0] == version:
                return kept[1]
            drawing = self._drawing.setdefault(name, threading.Lock())
        with drawing:
            with self._lock:  # drawn by another request while this one waited
                kept = self._pages.get(name)
                if kept is not None and kept[0] == version:
                    return kept[1]
            fmap = (
                overview_map(self.store)
                if name == OVERVIEW_PAGE
                else crossing_page(self.store, name)
            )
            if fmap is None:
                with self._lock:  # a name from an address: nothing kept for one that is none
                    self._drawing.pop(name, None)
                return None
            drawn = _drawn(fmap)
            with self._lock:
                self._pages[name] = (version, drawn)
        return drawn
