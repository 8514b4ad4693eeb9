"""Crossings: a sourced inventory of China–DPRK border crossings and what happened at them."""

from geo.errors import GeoError, RecordValidationError
from geo.frames import changes_frame, observations_frame, periods_frame, status_frame
from geo.model import Crossing, FuzzyDate, LonLat, Observation, Structure, TradeFigure
from geo.publish import overview_map
from geo.store import Store, open_store

__version__ = "0.1.0"


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
    "changes_frame",
    "observations_frame",
    "open_store",
    "overview_map",
    "periods_frame",
    "status_frame",
]
