"""Geometry input at the API's edge: parse, check and convert once to the storage CRS.

`LonLatSerializer` takes a point as lon/lat/srs; `GeoJSONGeometryField` takes any GeoJSON geometry and is
the field every layer uses for geometry input (see its docstring for what it refuses and why);
`geometry_from_geojson` is the same check for code that is not a serializer. Limits come from
settings.GRIDGIS (MAX_VERTICES, and MAX_GEOMETRY_KM2 for the area of a geometry's extent, see
`extent_problem`); accepted CRSs from the allow-list in common.crs.
"""

from __future__ import annotations

import json
import math

import shapely
import shapely.errors
import shapely.geometry
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, Point
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.crs import SRS, STORAGE_SRID, WGS84, UnknownSRS, parse_srs, to_storage


class SRSField(serializers.CharField):
    """An input CRS from the allow-list in common.crs; returns an SRS."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("help_text", "EPSG:4326 (default), EPSG:4490, EPSG:4491-4554 (CGCS2000 GK) or gcj02")
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> SRS:
        try:
            return parse_srs(super().to_internal_value(data))
        except UnknownSRS as exc:
            raise serializers.ValidationError(str(exc)) from exc


class FiniteFloatField(serializers.FloatField):
    def to_internal_value(self, data) -> float:
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            raise serializers.ValidationError("must be a finite number")
        return value


class LonLatSerializer(serializers.Serializer):
    """`lon`, `lat` and an optional `srs`; validated data gains `point`, a Point in EPSG:4326.

    For a projected SRS, `lon` is the easting and `lat` the northing, in metres.
    """

    lon = FiniteFloatField(help_text="longitude (or easting for a projected srs)")
    lat = FiniteFloatField(help_text="latitude (or northing for a projected srs)")
    srs = SRSField()

    def validate(self, attrs):
        srs: SRS = attrs.get("srs") or parse_srs(None)
        attrs["srs"] = srs
        lon, lat = attrs["lon"], attrs["lat"]
        if srs.is_geographic:
            if not -180 <= lon <= 180:
                raise serializers.ValidationError({"lon": f"longitude {lon} is outside -180..180"})
            if not -90 <= lat <= 90:
                raise serializers.ValidationError({"lat": f"latitude {lat} is outside -90..90"})
        point = to_storage(Point(lon, lat, srid=srs.srid or STORAGE_SRID), srs)
        if not (math.isfinite(point.x) and math.isfinite(point.y) and -180 <= point.x <= 180 and -90 <= point.y <= 90):
            raise serializers.ValidationError({"lon": f"({lon}, {lat}) is not a valid position in {srs}"})
        attrs["point"] = point
        return attrs


# --- GeoJSON geometry input -----------------------------------------------------------------------

GEOMETRY_TYPES = frozenset(
    {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"}
)
POLYGONAL = frozenset({"Polygon", "MultiPolygon"})


class GeometryInputError(ValueError):
    """Why a client's geometry is refused; the message is meant for the client."""


class _Walk:
    """One pass over a GeoJSON geometry's nested lists: checks shape, numbers, range; counts vertices."""

    def __init__(self, *, max_vertices: int, geographic: bool):
        self.max_vertices = max_vertices
        self.geographic = geographic
        self.vertices = 0

    def position(self, value, where: str) -> list[float]:
        if not isinstance(value, list):
            raise GeometryInputError(f"{where}: a position must be an array [x, y]")
        if len(value) != 2:
            if not value:
                raise GeometryInputError(f"{where}: empty geometries are not accepted")
            if len(value) in (3, 4):
                raise GeometryInputError(f"{where}: 3D/M coordinates are not accepted; send [x, y] only")
            raise GeometryInputError(f"{where}: a position must be [x, y], got {len(value)} numbers")
        for number in value:
            if isinstance(number, bool) or not isinstance(number, (int, float)):
                raise GeometryInputError(f"{where}: coordinates must be numbers")
            if not math.isfinite(number):
                raise GeometryInputError(f"{where}: coordinates must be finite numbers")
        x, y = value
        if self.geographic and not (-180 <= x <= 180 and -90 <= y <= 90):
            raise GeometryInputError(f"{where}: ({x}, {y}) is outside -180..180, -90..90; lon/lat swapped?")
        self.vertices += 1
        if self.vertices > self.max_vertices:
            raise GeometryInputError(f"more than {self.max_vertices} vertices; simplify the geometry")
        return [float(x), float(y)]

    def array(self, value, where: str) -> list:
        if not isinstance(value, list):
            raise GeometryInputError(f"{where}: an array was expected")
        if not value:
            raise GeometryInputError(f"{where}: empty geometries are not accepted")
        return value

    def line(self, value, where: str, minimum: int = 2) -> list:
        positions = [self.position(p, f"{where}[{i}]") for i, p in enumerate(self.array(value, where))]
        if len(positions) < minimum:
            raise GeometryInputError(f"{where}: at least {minimum} positions are needed")
        return positions

    def ring(self, value, where: str) -> list:
        positions = self.line(value, where, minimum=4)
        if positions[0] != positions[-1]:
            raise GeometryInputError(f"{where}: the ring is not closed (its last position must repeat the first)")
        return positions

    def polygon(self, value, where: str) -> list:
        return [self.ring(r, f"{where}[{i}]") for i, r in enumerate(self.array(value, where))]

    def coordinates(self, kind: str, value, where: str):
        if kind == "Point":
            return self.position(value, where)
        if kind == "MultiPoint":
            return [self.position(p, f"{where}[{i}]") for i, p in enumerate(self.array(value, where))]
        if kind == "LineString":
            return self.line(value, where)
        if kind == "MultiLineString":
            return [self.line(v, f"{where}[{i}]") for i, v in enumerate(self.array(value, where))]
        if kind == "Polygon":
            return self.polygon(value, where)
        return [self.polygon(v, f"{where}[{i}]") for i, v in enumerate(self.array(value, where))]

    def geometry(self, value, where: str, *, nested: bool) -> dict:
        if not isinstance(value, dict):
            raise GeometryInputError(f"{where}: a GeoJSON geometry object was expected")
        if "crs" in value:
            raise GeometryInputError(f'{where}: a "crs" member is not accepted; give the CRS in "srs"')
        kind = value.get("type")
        if kind not in GEOMETRY_TYPES:
            raise GeometryInputError(f"{where}: unknown GeoJSON geometry type {kind!r}")
        if kind == "GeometryCollection":
            if nested:
                raise GeometryInputError(f"{where}: nested GeometryCollections are not accepted")
            members = self.array(value.get("geometries"), f"{where}.geometries")
            return {
                "type": kind,
                "geometries": [
                    self.geometry(g, f"{where}.geometries[{i}]", nested=True) for i, g in enumerate(members)
                ],
            }
        if "coordinates" not in value:
            raise GeometryInputError(f"{where}: a {kind} needs a 'coordinates' member")
        return {"type": kind, "coordinates": self.coordinates(kind, value["coordinates"], f"{where}.coordinates")}


def _first_invalid(geom: GEOSGeometry) -> str | None:
    """GEOS's reason for the first invalid polygonal part (e.g. 'Self-intersection[105.4 28.9]')."""
    if geom.geom_type == "GeometryCollection":
        return next((reason for part in geom if (reason := _first_invalid(part))), None)
    if geom.geom_type in POLYGONAL and not geom.valid:
        return geom.valid_reason
    return None


def geometry_from_geojson(
    value, *, srs: SRS = None, types=GEOMETRY_TYPES, max_vertices: int | None = None
) -> GEOSGeometry:
    """Parse a client's GeoJSON geometry in `srs` and return it in EPSG:4326, or raise GeometryInputError.

    Only a GeoJSON object is read (a dict, or a string holding one as multipart forms send it): WKT,
    EWKT and HEXEWKB never reach GEOS, and a `crs` member is refused rather than resolved, so client
    text never makes GDAL open a file or a URL. The structure is walked in Python once, before any
    geometry is built, so a huge or deep input is refused after `max_vertices` positions instead of
    being parsed whole. Polygons must be valid (GEOS `valid_reason` says where they are not).
    """
    srs = srs or WGS84
    max_vertices = max_vertices or settings.GRIDGIS["MAX_VERTICES"]
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except ValueError:
            raise GeometryInputError(
                "must be a GeoJSON geometry object; WKT, EWKT and HEXEWKB are not accepted"
            ) from None
    if not isinstance(value, dict):
        raise GeometryInputError(
            'must be a GeoJSON geometry object, e.g. {"type": "Point", "coordinates": [105.44, 28.87]}'
        )
    kind = value.get("type")
    if kind in GEOMETRY_TYPES and kind not in types:
        raise GeometryInputError(f"type {kind} is not accepted here; one of {', '.join(sorted(types))}")
    clean = _Walk(max_vertices=max_vertices, geographic=srs.is_geographic).geometry(value, "geometry", nested=False)
    try:
        built = shapely.geometry.shape(clean)
    except (ValueError, TypeError, shapely.errors.ShapelyError) as exc:
        raise GeometryInputError(f"not a readable geometry ({exc})") from exc
    geom = GEOSGeometry(memoryview(shapely.to_wkb(built)), srid=srs.srid or STORAGE_SRID)
    reason = _first_invalid(geom)
    if reason:
        raise GeometryInputError(f"invalid polygon: {reason}")
    stored = to_storage(geom, srs)
    xmin, ymin, xmax, ymax = stored.extent
    if (
        not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax))
        or xmin < -180
        or xmax > 180
        or ymin < -90
        or ymax > 90
    ):
        raise GeometryInputError(f"its coordinates are not valid positions in {srs}")
    problem = extent_problem(stored)
    if problem:
        raise GeometryInputError(problem)
    return stored


def extent_problem(geometry: GEOSGeometry, *, grown_by_m: float = 0.0) -> str | None:
    """Why `geometry` (EPSG:4326) is too large to take, or None: the area of its extent (its bounding
    box, grown by `grown_by_m` metres; measured on the ellipsoid by PostGIS) over
    settings.GRIDGIS["MAX_GEOMETRY_KM2"]. A line counts by its box too, so a track or a pipe across
    the province is refused like a footprint that covers it. Every spatial input is checked here."""
    from common.listing import bbox_area_km2

    if geometry.geom_type == "Point" and not grown_by_m:
        return None
    xmin, ymin, xmax, ymax = geometry.extent
    if grown_by_m:  # a metre is at least 1/111,320 of a degree of longitude or latitude; widen generously
        pad = grown_by_m / 111_320 / max(math.cos(math.radians(max(abs(ymin), abs(ymax)))), 0.01)
        xmin, ymin, xmax, ymax = max(xmin - pad, -180), max(ymin - pad, -90), min(xmax + pad, 180), min(ymax + pad, 90)
    limit = settings.GRIDGIS["MAX_GEOMETRY_KM2"]
    # No box of dx° × dy° covers more than dx·111.32 × dy·111.70 km² (the longest degree of longitude,
    # at the equator, and of latitude, at the poles): a box under the limit by that bound is not
    # measured at all (most inputs, and no query for them).
    if (xmax - xmin) * 111.32 * (ymax - ymin) * 111.70 <= limit:
        return None
    area = bbox_area_km2(xmin, ymin, xmax, ymax) or 0.0
    if area > limit:
        return f"its extent covers {area:,.0f} km², over the limit of {limit:,.0f} km²"
    return None


@extend_schema_field(
    {
        "type": "object",
        "description": "a GeoJSON geometry object",
        "properties": {"type": {"type": "string"}, "coordinates": {"type": "array", "items": {}}},
        "required": ["type"],
    }
)
class GeoJSONGeometryField(serializers.Field):
    """A GeoJSON geometry from the client, validated and returned as a GEOSGeometry in EPSG:4326.

    The one way a layer takes geometry input (instead of drf-gis's GeometryField, which accepts any
    GEOS input: WKT, EWKT, HEXEWKB, any type, any SRID, invalid rings). Use it as::

        class PlotInput(serializers.Serializer):
            boundary = GeoJSONGeometryField(types=("Polygon", "MultiPolygon"))
            srs = SRSField()   # optional sibling: EPSG:4326 (default), 4490, 4491-4554 or gcj02

    It accepts only a GeoJSON geometry object (or a string holding one, for multipart forms), of
    `types`; reads its coordinates in the CRS named by the sibling field `srs_field` of the same
    serializer (the allow-list in common.crs; never a `crs` member); refuses nested
    GeometryCollections, 3D/M positions, empty parts, unclosed rings, non-finite or out-of-range
    coordinates, more than settings.GRIDGIS["MAX_VERTICES"] vertices (or `max_vertices`), and invalid
    polygons with GEOS's reason and location; and converts to EPSG:4326 once. Errors are 400s naming
    the field, in common.api's format.
    """

    def __init__(self, *, types=GEOMETRY_TYPES, srs_field: str = "srs", max_vertices: int | None = None, **kwargs):
        unknown = set(types) - GEOMETRY_TYPES
        if unknown:
            raise ValueError(f"unknown geometry types {unknown}")
        self.types = frozenset(types)
        self.srs_field = srs_field
        self.max_vertices = max_vertices
        kwargs.setdefault(
            "help_text", f"a GeoJSON geometry ({', '.join(sorted(self.types))}); its CRS is given in '{srs_field}'"
        )
        super().__init__(**kwargs)

    def _srs(self) -> SRS:
        initial = getattr(self.parent, "initial_data", None) or {}
        try:
            return parse_srs(initial.get(self.srs_field) if hasattr(initial, "get") else None)
        except UnknownSRS as exc:
            raise serializers.ValidationError({self.srs_field: str(exc)}) from exc

    def to_internal_value(self, data) -> GEOSGeometry:
        try:
            return geometry_from_geojson(data, srs=self._srs(), types=self.types, max_vertices=self.max_vertices)
        except GeometryInputError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def to_representation(self, value) -> dict:
        return json.loads(value.json) if value is not None else None
