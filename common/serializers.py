"""A GeoJSON Feature serializer for every layer's writable geometry models."""

from __future__ import annotations

from django.contrib.gis.db import models as gis_models
from django.contrib.gis.geos import GEOSGeometry, MultiLineString, MultiPoint, MultiPolygon
from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from common.geometry import GeoJSONGeometryField

# What a client may send for each kind of model field; singles are promoted to the Multi type stored.
_ACCEPTED = {
    gis_models.PointField: ("Point",),
    gis_models.LineStringField: ("LineString",),
    gis_models.PolygonField: ("Polygon",),
    gis_models.MultiPointField: ("Point", "MultiPoint"),
    gis_models.MultiLineStringField: ("LineString", "MultiLineString"),
    gis_models.MultiPolygonField: ("Polygon", "MultiPolygon"),
}
_MULTI = {gis_models.MultiPointField: MultiPoint, gis_models.MultiLineStringField: MultiLineString,
          gis_models.MultiPolygonField: MultiPolygon}


class StoredGeometryField(GeoJSONGeometryField):
    """GeoJSONGeometryField that hands the model the geometry type its column stores."""

    def __init__(self, *, multi=None, **kwargs):
        self.multi = multi
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> GEOSGeometry:
        geometry = super().to_internal_value(data)
        if self.multi is not None and not isinstance(geometry, self.multi):
            geometry = self.multi(geometry, srid=geometry.srid)
        return geometry


class GeoFeatureSerializer(GeoFeatureModelSerializer):
    """drf-gis's Feature serializer with the project's geometry input rules.

    drf-gis builds its geometry field as GeometryField, which takes WKT, EWKT, HEXEWKB, any type and
    any SRID, and it indexes the request body without checking that it is an object. Here the body
    must be a JSON object (a Feature, or plain attributes), and the geometry goes through
    GeoJSONGeometryField limited to what the model column stores.
    """

    def get_fields(self):
        fields = super().get_fields()
        name = self.Meta.geo_field
        original = fields.get(name)
        if original is None or original.read_only:
            return fields
        model_field = self.Meta.model._meta.get_field(name)
        kind = next((k for k in _ACCEPTED if type(model_field) is k), None)
        types = _ACCEPTED[kind] if kind else ("Point", "MultiPoint", "LineString", "MultiLineString",
                                              "Polygon", "MultiPolygon")
        fields[name] = StoredGeometryField(
            types=types, multi=_MULTI.get(kind), required=original.required, allow_null=original.allow_null,
            source=original.source if original.source != name else None,
        )
        return fields

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["expected a JSON object (a GeoJSON Feature)"]})
        if "properties" in data and not isinstance(data["properties"], dict):
            raise serializers.ValidationError({"properties": ["must be a JSON object"]})
        return super().to_internal_value(data)
