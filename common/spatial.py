"""Database functions that measure lengths and distances in metres, and buffer by metres.

Geometries are stored in EPSG:4326, whose units are degrees. These wrap PostGIS's geography type
(ST_Length, ST_Distance, ST_Buffer on `geography`), which works on the WGS84 spheroid in metres
wherever the data lies, so no caller has to pick a projected zone. Areas: common.dbfuncs.AreaM2.
Casting happens on the measured expression only: filters that need the spatial index use plain
geometry lookups (e.g. `intersects`) first, and these measure what they found.

Arguments may be field names, expressions or GEOSGeometry values (taken as EPSG:4326).
"""

from __future__ import annotations

from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.geos import GEOSGeometry
from django.db.models import BooleanField, F, FloatField, Func, Value


def _expression(value):
    if isinstance(value, GEOSGeometry):
        return Value(value, output_field=GeometryField(srid=value.srid or 4326))
    if isinstance(value, str):
        return F(value)
    return value


class ToGeography(Func):
    """`expr::geography`: the same shape, measured on the spheroid."""

    template = "(%(expressions)s)::geography"

    def __init__(self, expression, **extra):
        super().__init__(_expression(expression), output_field=GeometryField(geography=True, srid=4326), **extra)


class GeographyLength(Func):
    """Length in metres of a (multi)linestring, on the spheroid (0 for points and polygons)."""

    function = "ST_Length"

    def __init__(self, expression, **extra):
        super().__init__(ToGeography(expression), output_field=FloatField(), **extra)


class GeographyDistance(Func):
    """Shortest distance in metres between two geometries, on the spheroid."""

    function = "ST_Distance"

    def __init__(self, left, right, **extra):
        super().__init__(ToGeography(left), ToGeography(right), output_field=FloatField(), **extra)


class MetricBuffer(Func):
    """The geometry grown by `metres` (a geography buffer), as an EPSG:4326 geometry."""

    template = "(ST_Buffer(%(expressions)s))::geometry"

    def __init__(self, expression, metres: float, **extra):
        super().__init__(ToGeography(expression), Value(float(metres)), output_field=GeometryField(srid=4326), **extra)


class GeographyDWithin(Func):
    """True where two geometries are within `metres` of each other, on the spheroid: ST_DWithin on
    geography, which an expression index on `(column::geography)` serves (e.g. incidents'
    case_location_geog)."""

    function = "ST_DWithin"

    def __init__(self, left, right, metres: float, **extra):
        super().__init__(
            ToGeography(left), ToGeography(right), Value(float(metres)), output_field=BooleanField(), **extra
        )
