"""A GeoJSON Feature serializer for every layer's writable geometry models, and the guard against
mass assignment of the fields only workflows change."""

from __future__ import annotations

import copy
from collections.abc import Mapping

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
_MULTI = {
    gis_models.MultiPointField: MultiPoint,
    gis_models.MultiLineStringField: MultiLineString,
    gis_models.MultiPolygonField: MultiPolygon,
}


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


class FieldsBuiltOnce:
    """ModelSerializer mixin: the field map is built from the model once per class, and each instance
    gets a copy of every field. ModelSerializer.get_fields() inspects the model and builds every field
    again for every instance, and DRF deep-copies the declared ones: 1.2 ms of a case Feature's 1.6.
    A plain field is copied shallow (binding it to its serializer sets attributes of its own: name,
    parent, source); one that holds fields of its own (a nested serializer, a list of them, a
    ListField) is copied whole, since those are bound to it and read the context through it.
    Only for read serializers whose fields depend on the class alone (not on context or instance)."""

    def get_fields(self):
        built = type(self).__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()
            type(self)._built_fields = built
        return {name: _copy_of(field) for name, field in built.items()}


def _copy_of(field: serializers.Field) -> serializers.Field:
    holds_fields = (
        isinstance(field, serializers.BaseSerializer) or hasattr(field, "child") or hasattr(field, "child_relation")
    )
    return copy.deepcopy(field) if holds_fields else copy.copy(field)


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
        types = (
            _ACCEPTED[kind]
            if kind
            else ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")
        )
        fields[name] = StoredGeometryField(
            types=types,
            multi=_MULTI.get(kind),
            required=original.required,
            allow_null=original.allow_null,
            source=original.source if original.source != name else None,
        )
        return fields

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["expected a JSON object (a GeoJSON Feature)"]})
        if "properties" in data and not isinstance(data["properties"], dict):
            raise serializers.ValidationError({"properties": ["must be a JSON object"]})
        return super().to_internal_value(data)


# Fields that only a workflow action (or the server itself) sets: the state of a case or project, its
# assignment, its trail and counters, who did what. A body naming one of them, where the serializer
# does not take it, is refused rather than silently ignored, so a client learns at once that its
# PATCH {"status": "closed"} did nothing, and nothing is stored.
WORKFLOW_FIELDS = frozenset(
    {
        "status",
        "version",
        "escalation_level",
        "trail",
        "grid",
        "grid_version",
        "district_code",
        "department",
        "leader",
        "officer",
        "handled_by",
        "suggested_grid",
        "reporter",
        "reporter_id",
        "reported_at",
        "due_at",
        "final_due_at",
        "due_clock",
        "stage_started_at",
        "closed_at",
        "duplicate_of",
        "me_too_count",
        "rework_count",
        "dead_corner",
        "near_edge",
        "edge_distance_m",
        "provenance",
        "input_point",
        "input_srs",
        "idempotency_key",
        "created_by",
        "changed_by",
        "answer",
        "answered_by",
        "answered_at",
        "track",
        "track_positions",
        "track_uploaded_at",
        "track_uploaded_by",
        "street",
    }
)


class WorkflowFieldsGuard:
    """Serializer mixin: a 400 naming each workflow field (WORKFLOW_FIELDS) the body tries to set where
    this serializer does not take it, e.g. "status: read-only; use the workflow actions".

    Looks at the body's own keys and, for a GeoJSON Feature, at its `properties`. `workflow_hint` says
    where such a change is made; `workflow_hints` may say it per field.
    """

    workflow_hint = "use the workflow actions"
    workflow_hints: dict[str, str] = {}

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            names = set(data)
            if isinstance(data.get("properties"), Mapping):
                names |= set(data["properties"])
            writable = {name for name, field in self.fields.items() if not field.read_only}
            refused = {
                name: f"read-only; {self.workflow_hints.get(name, self.workflow_hint)}"
                for name in sorted(names & WORKFLOW_FIELDS - writable)
            }
            if refused:
                raise serializers.ValidationError(refused)
        return super().to_internal_value(data)


class BoundedDateField(serializers.DateField):
    """A date within 1900-01-01..2999-12-31: query windows add days to it (a day after 9999-12-31
    overflows Python's dates, a 500) and no record of this system lies outside those years."""

    def __init__(self, **kwargs):
        import datetime

        self.earliest, self.latest = datetime.date(1900, 1, 1), datetime.date(2999, 12, 31)
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        if not self.earliest <= day <= self.latest:
            raise serializers.ValidationError(f"must be within {self.earliest}..{self.latest}")
        return day
