"""Listing guards every layer can adopt: a bbox filter that refuses bad boxes, pages with a hard cap.

drf-gis's InBBoxFilter reads `float()` of each number, so `nan` and `inf` pass and reach PostGIS, and
it filters a box of any size; GeoJsonPagination lets the client ask for any page size. These
subclasses keep drf-gis's behaviour and schema but refuse, with 400s naming the parameter, a box
that is not four finite numbers, whose corners are out of range or inverted, or whose area is over
settings.GRIDGIS["MAX_BBOX_KM2"]; and clamp pages to settings.GRIDGIS["MAX_PAGE_SIZE"] (or the view's
own, smaller `max_page_size`).
"""

from __future__ import annotations

import math

from django.conf import settings
from django.contrib.gis.geos import Polygon
from django.db import connection
from rest_framework.exceptions import ValidationError
from rest_framework_gis.filters import InBBoxFilter
from rest_framework_gis.pagination import GeoJsonPagination

# The box's area on the WGS84 ellipsoid (geography), in km²: metres from the database, not degrees.
# The box is cut into strips at most 90° wide and segmentized to 0.5°: its edges follow parallels, not
# great circles, and a strip 180° wide or more would have antipodal edges that geography cannot measure
# (a whole-world box then reads as 0 km²).
BBOX_AREA_KM2_SQL = """
SELECT sum(ST_Area(ST_Segmentize(ST_MakeEnvelope(
           %(xmin)s + 90 * n, %(ymin)s, least(%(xmin)s + 90 * (n + 1), %(xmax)s), %(ymax)s, 4326), 0.5)::geography)) / 1e6
FROM generate_series(0, ceil((%(xmax)s::float8 - %(xmin)s::float8) / 90)::int - 1) AS n
"""


def bbox_area_km2(xmin: float, ymin: float, xmax: float, ymax: float) -> float:
    """Area of a lon/lat box in km², measured by PostGIS on the ellipsoid."""
    with connection.cursor() as cursor:
        cursor.execute(BBOX_AREA_KM2_SQL, {"xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax})
        return cursor.fetchone()[0]


def parse_bbox(text: str, *, param: str, max_km2: float | None = None) -> Polygon:
    """`min_lon,min_lat,max_lon,max_lat` (EPSG:4326) as a Polygon, or a ValidationError naming `param`."""
    parts = text.split(",")
    if len(parts) != 4:
        raise ValidationError({param: "must be four numbers: min_lon,min_lat,max_lon,max_lat"})
    try:
        xmin, ymin, xmax, ymax = (float(part) for part in parts)
    except ValueError:
        raise ValidationError({param: "must be four numbers: min_lon,min_lat,max_lon,max_lat"}) from None
    if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)):
        raise ValidationError({param: "nan and infinite values are not accepted"})
    if not (-180 <= xmin <= 180 and -180 <= xmax <= 180 and -90 <= ymin <= 90 and -90 <= ymax <= 90):
        raise ValidationError({param: "longitudes must be within -180..180 and latitudes within -90..90"})
    if xmin >= xmax or ymin >= ymax:
        raise ValidationError({param: "min_lon must be below max_lon and min_lat below max_lat"})
    limit = settings.GRIDGIS["MAX_BBOX_KM2"] if max_km2 is None else max_km2
    area = bbox_area_km2(xmin, ymin, xmax, ymax)
    if area > limit:
        raise ValidationError(
            {
                param: f"the box covers {area:,.0f} km², over the limit of {limit:,.0f} km²; "
                "zoom in or page through a smaller box"
            }
        )
    return Polygon.from_bbox((xmin, ymin, xmax, ymax))


class SafeInBBoxFilter(InBBoxFilter):
    """InBBoxFilter that refuses nan/inf, out-of-range or inverted boxes and boxes over the area cap.

    A view sets `bbox_filter_field` (and optionally `bbox_filter_include_overlapping`) as for
    drf-gis; a subclass may rename the query parameter with `bbox_param` or lower the cap with
    `max_bbox_km2`.
    """

    max_bbox_km2: float | None = None

    def get_filter_bbox(self, request):
        text = request.query_params.get(self.bbox_param, None)
        if not text:
            return None
        return parse_bbox(text, param=self.bbox_param, max_km2=self.max_bbox_km2)


class LimitedGeoJsonPagination(GeoJsonPagination):
    """GeoJsonPagination whose `page_size` parameter can never exceed a hard cap.

    `page_size` defaults to settings.GRIDGIS["PAGE_SIZE"]; a larger request is clamped to the smaller of
    the class's `max_page_size` and settings.GRIDGIS["MAX_PAGE_SIZE"] (drf-gis sets no cap at all, so
    `?page_size=10000000` would serialise a whole layer). A subclass may set smaller values.
    """

    page_size = settings.GRIDGIS["PAGE_SIZE"]
    max_page_size = settings.GRIDGIS["MAX_PAGE_SIZE"]
    page_size_query_param = "page_size"

    def get_page_size(self, request):
        cap = min(self.max_page_size or settings.GRIDGIS["MAX_PAGE_SIZE"], settings.GRIDGIS["MAX_PAGE_SIZE"])
        text = request.query_params.get(self.page_size_query_param, "")
        if text.isascii() and text.isdigit() and int(text) > 0:
            return min(int(text), cap)
        return min(self.page_size, cap)
