"""Reads for the map pages: grids by bbox as one GeoJSON document, the user's area, a grid's extent."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.db.models import Extent
from django.db import connection

from common.scopes import Scope, visible
from layers.grids.models import Duty, Grid, Level
from layers.grids.selectors import responsibility_for_grid
from maps import sql

BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class GridQuery:
    """Which grids a map asks for: a bbox in EPSG:4326, levels, an optional code prefix, a limit."""

    bbox: BBox
    levels: tuple[int, ...]
    prefix: str = ""
    limit: int = 5000
    precision: int = 6
    # LIKE patterns of the codes the reader sees (Scope.code_patterns("grid")); None for every grid.
    scope_patterns: tuple[str, ...] | None = None


def grids_feature_collection(query: GridQuery) -> bytes:
    """The grids of `query` as a GeoJSON FeatureCollection (UTF-8 bytes), built by PostgreSQL in one statement.

    Each feature has the grid's code (also its id), name and level; `truncated` is true when more
    than `limit` grids matched.
    """
    xmin, ymin, xmax, ymax = query.bbox
    params = {
        "xmin": xmin,
        "ymin": ymin,
        "xmax": xmax,
        "ymax": ymax,
        "levels": list(query.levels),
        # The prefix is matched with LIKE: escape its wildcards (codes are digits, but be safe).
        "prefix": query.prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",
        "limit": query.limit,
        "precision": query.precision,
        "scope_patterns": None if query.scope_patterns is None else list(query.scope_patterns),
    }
    with connection.cursor() as cursor:
        cursor.execute(sql.GRIDS_BBOX_FEATURE_COLLECTION, params)
        return bytes(cursor.fetchone()[0])


def grid_detail(code: str, scope: Scope | None = None) -> dict | None:
    """The grid with `code`, its chain of ancestors, and the names of who answers for it today; None if
    there is no such active grid or `scope` (None: no limit) does not see it.

    Leaders and officers come from layers.grids.selectors.responsibility_for_grid, the one rule (the
    nearest level up the tree that has any); names and posts only, no phone numbers.
    """
    grid = _visible_grids(scope).filter(code=code).first()
    if grid is None:
        return None
    who = responsibility_for_grid(grid)

    def people(duties):
        return [{"name": d.person.name, "title": d.person.title, "grid_code": d.grid.code} for d in duties]

    return {
        "code": grid.code,
        "name": grid.name,
        "level": grid.level,
        "chain": [{"code": g.code, "name": g.name, "level": g.level} for g in who.chain],
        "leaders": people(who.leaders),
        "officers": people(who.officers),
        "departments": [{"name": d.department.name, "kind": d.kind, "grid_code": d.grid.code} for d in who.departments],
    }


def _visible_grids(scope: Scope | None):
    grids = Grid.objects.active()
    return grids if scope is None else visible("grid", grids, scope)


def grid_extent(code: str, scope: Scope | None = None) -> BBox | None:
    """(xmin, ymin, xmax, ymax) of the active grid with `code`, or None if there is none (or `scope`
    does not see it)."""
    return _visible_grids(scope).filter(code=code).aggregate(extent=Extent("boundary"))["extent"]


def user_area(user) -> BBox | None:
    """The extent of the grids a signed-in user answers for (their duties in force), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    person = getattr(user, "person", None)
    if person is None:
        return None
    grid_ids = Duty.objects.active().filter(person=person).values("grid_id")
    return Grid.objects.filter(id__in=grid_ids).aggregate(extent=Extent("boundary"))["extent"]


def initial_view(user, *, whole_city: bool = True, zoom: int | None = None) -> dict:
    """Where a map opens: the user's area; else all districts (whole_city) or GRIDGIS["CITY_CENTRE"].

    An officer's map without a signed-in officer opens on the city centre at street level (`zoom`),
    where grids are drawn; the supervisor's opens on the whole city. Returns
    {"bounds": [[south, west], [north, east]]} or {"centre": [lat, lon], "zoom": z}, in Leaflet's
    latitude-first order.
    """
    extent = user_area(user)
    if extent is None and whole_city:
        extent = Grid.objects.active().filter(level=Level.DISTRICT).aggregate(extent=Extent("boundary"))["extent"]
    if extent is not None:
        xmin, ymin, xmax, ymax = extent
        return {"bounds": [[ymin, xmin], [ymax, xmax]]}
    lon, lat = settings.GRIDGIS["CITY_CENTRE"]
    return {"centre": [lat, lon], "zoom": zoom or settings.GRIDGIS["MAP_START_ZOOM"]}


def districts_and_streets(scope: Scope | None = None) -> list[dict]:
    """The districts and their streets, for the supervisor's filter: [{code, name, streets: [...]}]
    (those `scope` sees; all when None)."""
    rows = _visible_grids(scope).filter(level__in=[Level.DISTRICT, Level.STREET]).order_by("code")
    districts: dict[str, dict] = {}
    for grid in rows.values("code", "name", "level"):
        if grid["level"] == Level.DISTRICT:
            districts[grid["code"]] = {"code": grid["code"], "name": grid["name"], "streets": []}
        elif grid["code"][:6] in districts:
            districts[grid["code"][:6]]["streets"].append({"code": grid["code"], "name": grid["name"]})
    return list(districts.values())


def case_counts(*, bbox: BBox, levels: tuple[int, ...], scope: Scope | None = None) -> bytes:
    """The case counts of grids of `levels` whose anchor lies in `bbox`, as GeoJSON points (UTF-8 bytes);
    only grids of `scope`'s subtree (see sql.CASE_TILE_COUNTS for why), all when scope is None."""
    xmin, ymin, xmax, ymax = bbox
    patterns = None if scope is None else scope.code_patterns("case")
    with connection.cursor() as cursor:
        cursor.execute(
            sql.CASE_COUNTS_BBOX,
            {
                "xmin": xmin,
                "ymin": ymin,
                "xmax": xmax,
                "ymax": ymax,
                "levels": list(levels),
                "scope_patterns": patterns,
            },
        )
        return bytes(cursor.fetchone()[0])
