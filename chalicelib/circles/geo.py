"""Geohash cells for radius search, and exact distances.

A circle's card holds its 9-character geohash, and the catalog keeps the cards sorted by it
(`chalicelib.circles.catalog.Catalog.near`). A radius search takes the cells of the finest
precision at which at most `MAX_CELLS` of them cover the search's bounding box (each cell is a
prefix: a range of the sorted geohashes), then keeps the circles whose great-circle distance is
within the radius.

Why cells as coarse as one character: a search near a pole, or as wide as `MAX_RADIUS_KM`,
needs cells that big. Its bounding box spans every longitude, and at two characters that is 32
columns of cells; at one character it is the 8 cells of one row. Every radius up to
MAX_RADIUS_KM, at any latitude, is covered by at most 9 cells (tests/circles/test_browse.py
checks a grid of centres), so a search never looks in more than 9 ranges.
"""
import math

import pygeohash

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180
PARTITION_PRECISION = 1
MAX_CELLS = 9
MAX_RADIUS_KM = 1000
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


def covering_cells(latitude, longitude, radius_km, max_cells=MAX_CELLS):
    """Geohash prefixes whose union covers every point within `radius_km` of the centre, at
    most `max_cells` of them (for a radius up to MAX_RADIUS_KM).

    The cells of the finest precision where that many suffice, except that as many as fit of
    the next finer cells are kept: in the coarse cells holding most of them, the coarse cell
    replaces them. Never coarser than the partition precision, so only a radius beyond
    MAX_RADIUS_KM may need more than `max_cells`."""
    box = _bounding_box(latitude, longitude, radius_km)
    coarse = sorted(set(_cells(box, PARTITION_PRECISION)))
    for precision in range(PARTITION_PRECISION + 1, STORED_PRECISION + 1):
        fine = sorted(set(_cells(box, precision)))
        if len(fine) > max_cells:
            return _merged(fine, max_cells) if len(coarse) <= max_cells else coarse
        coarse = fine
    return coarse


def _merged(cells, max_cells):
    """`cells` with the fullest groups of siblings replaced by their parent until at most
    `max_cells` remain (the parents alone are at most that many)."""
    groups = {}
    for cell in cells:
        groups.setdefault(cell[:-1], []).append(cell)
    count, parents = len(cells), set()
    for parent, children in sorted(groups.items(), key=lambda group: (-len(group[1]), group[0])):
        if count <= max_cells:
            break
        parents.add(parent)
        count -= len(children) - 1
    return sorted(parents | {cell for cell in cells if cell[:-1] not in parents})
