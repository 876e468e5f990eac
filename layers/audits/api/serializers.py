"""Serializers of the audits API."""

from __future__ import annotations

from django.contrib.gis.geos import Polygon
from rest_framework import serializers

from layers.audits.models import AuditRun, Kind


class AuditRunRequestSerializer(serializers.Serializer):
    """What POST /api/v1/audits/ accepts; the service checks the district and the parameters' values."""

    district = serializers.CharField(required=False, allow_blank=True, max_length=6,
                                     help_text="6-digit district code; empty or absent: the whole tree")
    kinds = serializers.ListField(child=serializers.ChoiceField(choices=Kind.choices), required=False,
                                  allow_empty=False, help_text="kinds to check; absent: all")
    min_area_m2 = serializers.FloatField(required=False, min_value=0, max_value=1e9,
                                         help_text="parts smaller than this are counted as slivers")
    leader_level = serializers.CharField(required=False, help_text="level at which a leader is expected")
    officer_level = serializers.CharField(required=False, help_text="level at which an officer is expected")
    on = serializers.DateField(required=False, help_text="date at which duties must be in force (today)")

    def parameters(self) -> dict:
        keys = ("min_area_m2", "leader_level", "officer_level", "on")
        return {k: (v.isoformat() if k == "on" else v) for k, v in self.validated_data.items() if k in keys}


class AuditRunSerializer(serializers.ModelSerializer):
    """A run's status, progress and per-kind summary."""

    requested_by = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = AuditRun
        fields = ["id", "status", "progress", "district_code", "kinds", "parameters", "summary", "error",
                  "requested_by", "requested_via", "created_at", "started_at", "finished_at", "links"]

    def get_requested_by(self, run) -> str | None:
        return run.requested_by.get_username() if run.requested_by else None

    def get_links(self, run) -> dict:
        base = f"/api/v1/audits/{run.pk}/"
        return {"self": base, "xlsx": base + "findings.xlsx", "csv": base + "findings.csv"}


class FindingFilterSerializer(serializers.Serializer):
    """Optional filters of a run's findings: one kind, a bounding box lon_min,lat_min,lon_max,lat_max."""

    kind = serializers.ChoiceField(choices=Kind.choices, required=False)
    bbox = serializers.CharField(required=False)

    def validate_bbox(self, value: str) -> str:
        try:
            numbers = [float(part) for part in value.split(",")]
        except ValueError:
            raise serializers.ValidationError("expected four numbers lon_min,lat_min,lon_max,lat_max") from None
        if len(numbers) != 4:
            raise serializers.ValidationError("expected four numbers lon_min,lat_min,lon_max,lat_max")
        lon_min, lat_min, lon_max, lat_max = numbers
        if not (-180 <= lon_min < lon_max <= 180 and -90 <= lat_min < lat_max <= 90):
            raise serializers.ValidationError("not a WGS84 box with min < max")
        return Polygon.from_bbox(numbers).wkt
