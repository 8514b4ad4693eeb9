"""Crossings: a sourced inventory of China–DPRK border crossings and what happened at them."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from geo.errors import GeoError, RecordValidationError
    from geo.frames import changes_frame, observations_frame, periods_frame, status_frame
    from geo.model import Crossing, FuzzyDate, LonLat, Observation, Structure, TradeFigure
    from geo.publish import overview_map
    from geo.store import Store, open_store

__version__ = "0.1.0"

#: Each name of the package, by the module that defines it: imported at its first use, so that a
#: command that needs neither maps nor frames does not load them (a command starts quicker).
_DEFINED_IN = {
    **dict.fromkeys(["GeoError", "RecordValidationError"], "geo.errors"),
    **dict.fromkeys(
        ["changes_frame", "observations_frame", "periods_frame", "status_frame"], "geo.frames"
    ),
    **dict.fromkeys(
        ["Crossing", "FuzzyDate", "LonLat", "Observation", "Structure", "TradeFigure"], "geo.model"
    ),
    "overview_map": "geo.publish",
    **dict.fromkeys(["Store", "open_store"], "geo.store"),
}


def __getattr__(name: str) -> Any:
    module = _DEFINED_IN.get(name)
    if module is None:
        raise AttributeError(f"module 'geo' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


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
