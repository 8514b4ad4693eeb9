"""The store: where the records live, behind one interface.

``open_store(target)`` opens a GeoPackage file (the default, one analyst) or,
for a ``postgresql://`` URL, a PostGIS database (a team). Both read and write
the layers declared in :mod:`geo.store.schema`; the modules that read records
import this package, never the reverse.
"""

from __future__ import annotations

from geo.store.gpkg import (
    BUSY_TIMEOUT_S,
    CHECKED_BEFORE_WRITES_BYTES,
    IndexBoxes,
    Store,
    create_store,
    open_store,
    store_fault,
)
from geo.store.schema import SCHEMA_VERSION

__all__ = [
    "BUSY_TIMEOUT_S",
    "CHECKED_BEFORE_WRITES_BYTES",
    "SCHEMA_VERSION",
    "IndexBoxes",
    "Store",
    "create_store",
    "open_store",
    "store_fault",
]
