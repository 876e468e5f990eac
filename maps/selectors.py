"""Reads for the map pages: grids by bbox as one GeoJSON document, the user's area, a grid's extent."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.db.models import Extent
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.contrib.gis.geos import Polygon
from django.db import connection
from django.utils import timezone

from layers.grids.models import Duty, Grid, Level
from maps import sql
from maps.models import GridCaseCount

BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class GridQuery:
    """Which grids a map asks for: a bbox in EPSG:4326, levels, an optional code prefix, a limit."""

    bbox: BBox
    levels: tuple[int, ...]
    prefix: str = ""
    limit: int = 5000
    precision: int = 6


def grids_feature_collection(query: GridQuery, today: datetime.date | None = None) -> str:
    """The grids of `query` as a GeoJSON FeatureCollection (text), built by PostgreSQL in one statement.

    Each feature has the grid's code (also its id), name, level, and the names of its leaders and
    officers in force on `today`. `truncated` is true when more than `limit` grids matched.
    """
    xmin, ymin, xmax, ymax = query.bbox
    params = {
        "xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax,
        "levels": list(query.levels),
        # The prefix is matched with LIKE: escape its wildcards (codes are digits, but be safe).
        "prefix": query.prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",
        "limit": query.limit,
        "precision": query.precision,
        "today": today or timezone.localdate(),
    }
    with connection.cursor() as cursor:
        cursor.execute(sql.GRIDS_BBOX_FEATURE_COLLECTION, params)
        return cursor.fetchone()[0]


def grid_extent(code: str) -> BBox | None:
    """(xmin, ymin, xmax, ymax) of the active grid with `code`, or None if there is none."""
    return Grid.objects.active().filter(code=code).aggregate(extent=Extent("boundary"))["extent"]


def user_area(user) -> BBox | None:
    """The extent of the grids a signed-in user answers for (their duties in force), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    person = getattr(user, "person", None)
    if person is None:
        return None
    grid_ids = Duty.objects.active().filter(person=person).values("grid_id")
    return Grid.objects.filter(id__in=grid_ids).aggregate(extent=Extent("boundary"))["extent"]


def initial_view(user) -> dict:
    """Where a map opens: the user's area, else all districts, else GRIDGIS["CITY_CENTRE"].

    Returns {"bounds": [[south, west], [north, east]]} or {"centre": [lat, lon], "zoom": z}, in
    Leaflet's latitude-first order.
    """
    extent = user_area(user)
    if extent is None:
        extent = Grid.objects.active().filter(level=Level.DISTRICT).aggregate(extent=Extent("boundary"))["extent"]
    if extent is not None:
        xmin, ymin, xmax, ymax = extent
        return {"bounds": [[ymin, xmin], [ymax, xmax]]}
    lon, lat = settings.GRIDGIS["CITY_CENTRE"]
    return {"centre": [lat, lon], "zoom": settings.GRIDGIS["MAP_START_ZOOM"]}


def districts_and_streets() -> list[dict]:
    """The districts and their streets, for the supervisor's filter: [{code, name, streets: [...]}]."""
    rows = Grid.objects.active().filter(level__in=[Level.DISTRICT, Level.STREET]).order_by("code")
    districts: dict[str, dict] = {}
    for grid in rows.values("code", "name", "level"):
        if grid["level"] == Level.DISTRICT:
            districts[grid["code"]] = {"code": grid["code"], "name": grid["name"], "streets": []}
        elif grid["code"][:6] in districts:
            districts[grid["code"][:6]]["streets"].append({"code": grid["code"], "name": grid["name"]})
    return list(districts.values())


def case_counts(*, bbox: BBox, levels: tuple[int, ...]) -> list[dict]:
    """GeoJSON point features of the case counts of grids of `levels` whose anchor lies in `bbox`."""
    rows = (GridCaseCount.objects.filter(level__in=levels, anchor__bboverlaps=Polygon.from_bbox(bbox))
            .annotate(geojson=AsGeoJSON("anchor", precision=6))
            .values("grid__code", "grid__name", "total", "open", "geojson").order_by("grid__code"))
    return [{"type": "Feature", "id": r["grid__code"], "geometry": json.loads(r["geojson"]),
             "properties": {"code": r["grid__code"], "name": r["grid__name"], "total": r["total"], "open": r["open"]}}
            for r in rows]
