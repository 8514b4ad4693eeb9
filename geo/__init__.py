"""Crossings: a sourced inventory of China–DPRK border crossings and what happened at them."""

from geo.errors import GeoError, RecordValidationError
from geo.model import Crossing, FuzzyDate, LonLat, Observation, Structure, TradeFigure
from geo.store import Store, open_store

__version__ = "0.1.0"


def overview_map(store: object, *, as_of: object = None) -> object:
    """Return the overview map of a store (a ``folium.Map``: a notebook shows it inline)."""
    from geo.publish import overview_map as build

    return build(store, as_of=as_of)  # type: ignore[arg-type]


__all__ = [
    "Crossing",
    "FuzzyDate",
    "GeoError",
    "LonLat",
    "Observation",
    "RecordValidationError",
    "Store",
    "Structure",
    "TradeFigure",
    "__version__",
    "open_store",
    "overview_map",
]
