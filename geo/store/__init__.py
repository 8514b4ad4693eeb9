"""The store: where the records live, behind one interface.

``open_store(target)`` opens a GeoPackage file (the default, one analyst) or,
for a ``postgresql://`` URL, a PostGIS database (a team). Both read and write
the layers declared in :mod:`geo.store.schema` and answer the same questions;
the modules that read records import this package, never the reverse.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from geo.store import gpkg
from geo.store.address import is_database
from geo.store.base import Store
from geo.store.gpkg import (
    BUSY_TIMEOUT_S,
    CHECKED_BEFORE_WRITES_BYTES,
    GeoPackageStore,
    store_fault,
)
from geo.store.postgis import PostgisStore, create_postgis_store, display_url
from geo.store.schema import SCHEMA_VERSION
from geo.store.source import IndexBoxes

if TYPE_CHECKING:
    from geo.model import Crossing, Observation, Structure, TradeFigure

__all__ = [
    "BUSY_TIMEOUT_S",
    "CHECKED_BEFORE_WRITES_BYTES",
    "SCHEMA_VERSION",
    "GeoPackageStore",
    "IndexBoxes",
    "Store",
    "create_store",
    "is_database",
    "open_store",
    "store_fault",
    "store_name",
]


def store_name(target: str | Path) -> str:
    """Return how messages name a store: its path, or its URL without the password."""
    if is_database(target):
        return display_url(str(target))
    return str(target)


def open_store(target: str | Path, *, writable: bool = False) -> Store:
    """Open an existing store: a GeoPackage path, or a ``postgresql://`` URL.

    Raises
    ------
    NotAStoreError
        If the file or the database holds no crossings store.
    SchemaVersionError
        If it was written by a newer release.
    StoreFaultError
        If it cannot be read: locked, damaged, unreachable.
    """
    if is_database(target):
        return PostgisStore(str(target), writable=writable)
    return gpkg.open_store(target, writable=writable)


def create_store(
    target: str | Path,
    crossings: Iterable[Crossing],
    observations: Iterable[Observation],
    trade: Iterable[TradeFigure],
    *,
    structures: Iterable[Structure] = (),
    force: bool = False,
) -> str | Path:
    """Write a new store holding the given records, all of them or none.

    A GeoPackage is built beside its path and moved into place; in a
    database, the layers are created and filled in one transaction.

    Raises
    ------
    StoreExistsError
        If a store is there already and ``force`` is false.
    """
    if is_database(target):
        return create_postgis_store(
            str(target), crossings, observations, trade, structures=structures, force=force
        )
    return gpkg.create_store(
        target, crossings, observations, trade, structures=structures, force=force
    )
