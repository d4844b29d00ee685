"""Geohash cells for radius search, and exact distances.

A circle's geohash is stored in the `by_area` index under its 2-character cell;
a radius search Queries the few cells (at the finest precision where at most
`max_cells` of them cover the search's bounding box) and then keeps the circles
whose great-circle distance is within the radius.
"""
import math

import pygeohash

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180
PARTITION_PRECISION = 2
STORED_PRECISION = 9


def encode(latitude, longitude, precision=STORED_PRECISION):
    return pygeohash.encode(latitude, longitude, precision=precision)


def distance_km(lat1, lon1, lat2, lon2):
    """Haversine distance in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _cell_size(precision):
    """(height, width) in degrees of a geohash cell of `precision` characters."""
    bits = 5 * precision
    lon_bits = (bits + 1) // 2
    lat_bits = bits // 2
    return 180 / 2 ** lat_bits, 360 / 2 ** lon_bits


def _bounding_box(latitude, longitude, radius_km):
    dlat = radius_km / KM_PER_DEGREE
    south, north = max(-90.0, latitude - dlat), min(90.0, latitude + dlat)
    widest = max(abs(south), abs(north))
    if widest >= 89.999:
        return south, north, -180.0, 180.0
    dlon = radius_km / (KM_PER_DEGREE * math.cos(math.radians(widest)))
    if dlon >= 180:
        return south, north, -180.0, 180.0
    return south, north, longitude - dlon, longitude + dlon


def _cells(box, precision):
    south, north, west, east = box
    height, width = _cell_size(precision)
    rows = range(math.floor((south + 90) / height), math.floor((min(north, 89.9999999) + 90) / height) + 1)
    total_cols = round(360 / width)
    first_col = math.floor((west + 180) / width)
    last_col = math.floor((min(east, west + 359.9999999) + 180) / width)
    cells = []
    for row in rows:
        lat = -90 + (row + 0.5) * height
        for col in range(first_col, last_col + 1):
            lon = -180 + ((col % total_cols) + 0.5) * width
            cells.append(pygeohash.encode(lat, lon, precision=precision))
    return cells


def covering_cells(latitude, longitude, radius_km, max_cells=9):
    """Geohash prefixes whose union covers every point within `radius_km` of the centre.

    Precision never goes below the partition precision: a very large radius then
    costs more cells rather than a Query spanning partitions.
    """
    box = _bounding_box(latitude, longitude, radius_km)
    best = _cells(box, PARTITION_PRECISION)
    for precision in range(PARTITION_PRECISION + 1, STORED_PRECISION + 1):
        cells = _cells(box, precision)
        if len(cells) > max_cells:
            break
        best = cells
    return sorted(set(best))
