"""Geometry input at the API's edge: parse, check and convert once to the storage CRS."""

from __future__ import annotations

import math

from django.contrib.gis.geos import Point
from rest_framework import serializers

from common.crs import SRS, STORAGE_SRID, UnknownSRS, parse_srs, to_storage


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
        if not (math.isfinite(point.x) and math.isfinite(point.y)
                and -180 <= point.x <= 180 and -90 <= point.y <= 90):
            raise serializers.ValidationError({"lon": f"({lon}, {lat}) is not a valid position in {srs}"})
        attrs["point"] = point
        return attrs
