"""Named positions for tests, lon/lat, around the crossings of tests/data/seed."""

from geo.model import LonLat

FRIENDSHIP = LonLat(124.39250, 40.11500)
NEW_YALU = LonLat(124.36944, 40.03556)
QUANHE = LonLat(130.523456, 42.568379)
# About 24.9 km and 25.1 km due north of the Friendship Bridge (1° lat ≈ 111.0 km here).
JUST_INSIDE_25KM = LonLat(124.39250, 40.11500 + 24.9 / 111.03)
JUST_OUTSIDE_25KM = LonLat(124.39250, 40.11500 + 25.1 / 111.03)
NULL_ISLAND = LonLat(0.0, 0.0)
NEAR_POLE = LonLat(124.0, 89.9)
ANTIMERIDIAN = LonLat(180.0, 40.0)
