"""Query parameters of the map API, validated once at the edge (errors name the field)."""

from __future__ import annotations

import math

from django.conf import settings
from rest_framework import serializers

from layers.grids.models import Level


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """'minlon,minlat,maxlon,maxlat' in EPSG:4326 → a tuple; raises serializers.ValidationError."""
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) != 4:
        raise serializers.ValidationError("give four numbers: minlon,minlat,maxlon,maxlat (EPSG:4326)")
    try:
        xmin, ymin, xmax, ymax = (float(p) for p in parts)
    except ValueError as exc:
        raise serializers.ValidationError("give four numbers: minlon,minlat,maxlon,maxlat (EPSG:4326)") from exc
    if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)):
        raise serializers.ValidationError("coordinates must be finite numbers")
    if not (-180 <= xmin <= 180 and -180 <= xmax <= 180 and -90 <= ymin <= 90 and -90 <= ymax <= 90):
        raise serializers.ValidationError("longitudes must lie in -180..180 and latitudes in -90..90")
    if xmin >= xmax or ymin >= ymax:
        raise serializers.ValidationError("minlon must be less than maxlon and minlat less than maxlat")
    return xmin, ymin, xmax, ymax


class BBoxField(serializers.CharField):
    def to_internal_value(self, data):
        return parse_bbox(super().to_internal_value(data))


class LevelsField(serializers.CharField):
    """Comma-separated grid levels by name or number: 'grid', 'grid,microgrid', '4'."""

    def to_internal_value(self, data) -> tuple[int, ...]:
        levels = []
        for name in super().to_internal_value(data).split(","):
            try:
                levels.append(int(Level.from_name(name)))
            except ValueError as exc:
                raise serializers.ValidationError(str(exc)) from exc
        return tuple(sorted(set(levels)))


class GridBBoxQuerySerializer(serializers.Serializer):
    bbox = BBoxField(help_text="minlon,minlat,maxlon,maxlat in EPSG:4326")
    level = LevelsField(
        required=False, default=(int(Level.GRID),), help_text="grid levels, comma-separated (default grid)"
    )
    prefix = serializers.RegexField(
        r"^[0-9]{0,18}$",
        required=False,
        default="",
        help_text="only grids whose code starts with this (a district or street code)",
    )
    limit = serializers.IntegerField(required=False, min_value=1)

    def validate_limit(self, value: int) -> int:
        most = settings.GRIDGIS["MAP_MAX_FEATURES"]
        if value > most:
            raise serializers.ValidationError(f"at most {most}")
        return value
