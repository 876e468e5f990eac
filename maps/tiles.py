"""Vector tiles (Mapbox Vector Tile, built by PostGIS's ST_AsMVT) for grids and cases.

A city has about 2.2 million cases (2,000 reports a day for three years). A browser cannot draw
them, and a tile that carries tens of thousands of points is slow to build and to send, so what a
case tile holds depends on the zoom:

    zoom <= 10      one point per district, with its case count     (layer "case_counts")
    zoom 11 - 12    one point per street                            (layer "case_counts")
    zoom 13         one point per community                         (layer "case_counts")
    zoom 14         one point per unit grid                         (layer "case_counts")
    zoom 15         one point per micro-grid                        (layer "case_counts")
    zoom >= 16      the cases themselves, merged per 16-unit cell   (layer "cases")

With 2.2 million cases, the densest zoom-15 tile of points carried 6,700 features (188 KB, 81 ms);
the same place at zoom 16 carries a quarter of that, and zoom 15 shows counts per micro-grid.
The counts come from maps_gridcasecount (see refresh_case_counts), rebuilt in one statement.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.postgresql.psycopg_any import sql as pgsql

from common.scopes import EVERYTHING, Scope
from layers.grids.models import Level
from layers.incidents.models import OPEN_STATUSES, Case
from maps import sql

MAX_ZOOM = 22

# Which grid level a tile of each zoom shows: a grid of that level spans a few dozen to a few hundred
# pixels there, large enough to click and small enough that a tile holds at most a few hundred.
_GRID_LEVEL_BY_ZOOM = [(10, Level.DISTRICT), (12, Level.STREET), (13, Level.COMMUNITY), (15, Level.GRID)]


class TileOutOfRange(ValueError):
    """z/x/y does not name a tile of the Web Mercator pyramid."""


def check_tile(z: int, x: int, y: int) -> None:
    """Refuse tiles that do not exist: zoom 0-22 and x, y within 0 .. 2^z - 1."""
    if not 0 <= z <= MAX_ZOOM:
        raise TileOutOfRange(f"z: zoom {z} is outside 0..{MAX_ZOOM}")
    side = 1 << z
    if not (0 <= x < side and 0 <= y < side):
        raise TileOutOfRange(f"x/y: tile {x}/{y} does not exist at zoom {z} (0..{side - 1})")


# Which grid level's counts a case tile of each zoom carries, below GRIDGIS["CASE_TILE_POINT_ZOOM"].
_COUNT_LEVEL_BY_ZOOM = [(10, Level.DISTRICT), (12, Level.STREET), (13, Level.COMMUNITY), (14, Level.GRID)]


def count_level_for_zoom(z: int) -> Level:
    """The grid level whose case counts a case tile of zoom `z` shows (micro-grids from zoom 15)."""
    for max_zoom, level in _COUNT_LEVEL_BY_ZOOM:
        if z <= max_zoom:
            return level
    return Level.MICROGRID


def grid_level_for_zoom(z: int) -> Level:
    """The grid level drawn at zoom `z` (micro-grids from zoom 16)."""
    for max_zoom, level in _GRID_LEVEL_BY_ZOOM:
        if z <= max_zoom:
            return level
    return Level.MICROGRID


def _fetch_tile(statement, params: dict) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""


def grid_tile(z: int, x: int, y: int, level: Level | None = None, scope: Scope | None = None) -> bytes:
    """One MVT tile of grid boundaries (layer "grids"), of `level` or the level the zoom calls for,
    holding the grids `scope` sees (every grid when scope is None: batch jobs and benchmarks)."""
    check_tile(z, x, y)
    level = grid_level_for_zoom(z) if level is None else level
    patterns = (scope or EVERYTHING).code_patterns("grid")
    return _fetch_tile(sql.GRID_TILE, {"z": z, "x": x, "y": y, "level": int(level), "scope_patterns": patterns})


@dataclass(frozen=True)
class CaseSource:
    """Where the cases are: the table and columns the case tile statements read.

    The case model belongs to the incidents app; the map layer only reads it, so it describes the
    table here rather than importing the app's internals.
    """

    table: str
    pk: str
    geom: str
    grid: str
    status: str
    open_statuses: tuple[str, ...]
    department: str = "department_id"
    reporter: str = "reporter_id"

    def identifiers(self) -> dict:
        return {
            "table": pgsql.Identifier(self.table),
            "pk": pgsql.Identifier(self.pk),
            "geom": pgsql.Identifier(self.geom),
            "grid": pgsql.Identifier(self.grid),
            "status": pgsql.Identifier(self.status),
            "department": pgsql.Identifier(self.department),
            "reporter": pgsql.Identifier(self.reporter),
        }


def case_source() -> CaseSource:
    """The incidents app's case table (location, grid, status; open = its OPEN_STATUSES)."""
    meta = Case._meta
    return CaseSource(
        table=meta.db_table,
        pk=meta.pk.column,
        geom=meta.get_field("location").column,
        grid=meta.get_field("grid").column,
        status=meta.get_field("status").column,
        open_statuses=tuple(str(s) for s in OPEN_STATUSES),
        department=meta.get_field("department").column,
        reporter=meta.get_field("reporter").column,
    )


def case_tile(z: int, x: int, y: int, source: CaseSource, scope: Scope | None = None) -> bytes:
    """One MVT tile of cases: counts per grid below GRIDGIS["CASE_TILE_POINT_ZOOM"], points from it;
    only what `scope` may see (everything when scope is None: batch jobs and benchmarks)."""
    check_tile(z, x, y)
    scope = scope or EVERYTHING
    params = {"z": z, "x": x, "y": y, **scope.sql_params("case")}
    if z >= settings.GRIDGIS["CASE_TILE_POINT_ZOOM"]:
        names = source.identifiers()
        case_scope = sql.CASE_SCOPE_ALL if scope.sees_all("case") else sql.CASE_SCOPE_FILTER.format(**names)
        statement = sql.CASE_TILE_POINTS.format(case_scope=case_scope, **names)
        return _fetch_tile(statement, {**params, "open_statuses": list(source.open_statuses)})
    return _fetch_tile(sql.CASE_TILE_COUNTS, {**params, "level": int(count_level_for_zoom(z))})


@transaction.atomic
def refresh_case_counts(*, source: CaseSource) -> int:
    """Rebuild maps_gridcasecount from the case table (one statement); returns the rows written.

    Runs in one transaction, so tiles read either the old counts or the new ones, never a mix.
    """
    statement = sql.CASE_COUNTS_REFRESH.format(**source.identifiers())
    with connection.cursor() as cursor:
        cursor.execute(sql.CASE_COUNTS_CLEAR)
        cursor.execute(statement, {"open_statuses": list(source.open_statuses)})
        return cursor.rowcount
