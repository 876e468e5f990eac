"""Test data for the map layer: a case table shaped like the incidents app's, tile arithmetic.

Until the incidents app defines its Case model, the tile and count statements are exercised against
a real PostGIS table of the same shape (id, location point in 4326, grid_id, status) created inside
the test's transaction, so it disappears with the test.
"""

from __future__ import annotations

import math

from django.db import connection

from maps.tiles import CaseSource

TEST_CASES = CaseSource(
    table="test_map_cases",
    pk="id",
    geom="location",
    grid="grid_id",
    status="status",
    open_statuses=("reported", "registered", "dispatched", "handling", "handled"),
)


def make_case_table(points: list[tuple[float, float, int | None, str]]) -> CaseSource:
    """Creates test_map_cases with one row per (lon, lat, grid id, status); returns its CaseSource."""
    with connection.cursor() as cursor:
        cursor.execute("""
            CREATE TABLE test_map_cases (
                id bigserial PRIMARY KEY,
                location geometry(Point, 4326) NOT NULL,
                grid_id bigint REFERENCES grids_grid(id),
                status varchar(20) NOT NULL
            )""")
        cursor.executemany(
            "INSERT INTO test_map_cases (location, grid_id, status) VALUES (ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, %s)",
            points,
        )
        cursor.execute("CREATE INDEX ON test_map_cases USING gist (location)")
    return TEST_CASES


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """The Web Mercator tile (z, x, y) that contains (lon, lat): the standard slippy-map formula."""
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    lat_rad = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(lat_rad)) / math.pi) / 2.0 * n)
    return z, x, y
