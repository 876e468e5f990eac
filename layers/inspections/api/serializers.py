"""Serializers of the inspections layer's API."""

from __future__ import annotations

from rest_framework import serializers

from common.geometry import LonLatSerializer, SRSField
from common.serializers import BoundedDateField, GeoFeatureSerializer, WorkflowFieldsGuard
from layers.accounts.fields import ScopedPrimaryKeyRelatedField, ScopedSlugRelatedField
from layers.grids.api.serializers import PersonDutySerializer
from layers.grids.models import Grid, Level
from layers.inspections.models import CheckIn, InspectionCategory, InspectionPoint, Patrol, PatrolSchedule


class InspectionCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = InspectionCategory
        fields = ["code", "name", "name_en", "sort_order"]


class InspectionPointSerializer(WorkflowFieldsGuard, GeoFeatureSerializer):
    """An inspection point as a GeoJSON Feature; `category` and `street` by code, `grid` follows the location."""

    workflow_hint = "follows the point's location"

    category = serializers.SlugRelatedField(slug_field="code", queryset=InspectionCategory.objects.all())
    category_name = serializers.CharField(source="category.name", read_only=True)
    street = ScopedSlugRelatedField(
        scope_kind="grid",
        slug_field="code",
        queryset=Grid.objects.filter(level=Level.STREET),
        required=False,
        allow_null=True,
    )
    grid = serializers.CharField(source="grid.code", read_only=True, default=None)

    class Meta:
        model = InspectionPoint
        geo_field = "location"
        fields = [
            "id",
            "name",
            "code",
            "category",
            "category_name",
            "address",
            "grid",
            "street",
            "responsible_leader",
            "task_group",
            "partner_department",
            "is_active",
        ]


class PatrolSerializer(WorkflowFieldsGuard, GeoFeatureSerializer):
    """A patrol as a GeoJSON Feature whose geometry is its track (null until uploaded)."""

    workflow_hint = "a track is uploaded through POST /api/v1/patrols/{id}/track/"

    # An officer records patrols of their own grids only; the grid, the schedule and the officer are
    # checked against the sender's scope (a foreign grid's patrol would count in its ledger and audits).
    grid = ScopedSlugRelatedField(scope_kind="grid", slug_field="code", queryset=Grid.objects.all(), required=False)
    schedule = ScopedPrimaryKeyRelatedField(
        scope_kind="schedule", queryset=PatrolSchedule.objects.all(), required=False, allow_null=True
    )
    officer_name = serializers.CharField(source="officer.name", read_only=True)
    check_in_count = serializers.IntegerField(source="check_ins.count", read_only=True)
    track_uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Patrol
        geo_field = "track"
        fields = [
            "id",
            "officer",
            "officer_name",
            "grid",
            "schedule",
            "started_at",
            "ended_at",
            "note",
            "track_positions",
            "track_uploaded_at",
            "track_uploaded_by",
            "check_in_count",
        ]
        read_only_fields = ["track", "track_positions", "track_uploaded_at"]


class TrackUploadSerializer(serializers.Serializer):
    """One of: `file` (a .gpx or GeoJSON file, multipart), `track` (a GeoJSON object) or `gpx` (GPX text)."""

    file = serializers.FileField(required=False)
    track = serializers.JSONField(required=False)
    gpx = serializers.CharField(required=False, trim_whitespace=False)
    srs = SRSField(help_text="CRS of a GeoJSON track (GPX is always WGS84)")

    def validate(self, attrs):
        given = [name for name in ("file", "track", "gpx") if attrs.get(name) not in (None, "")]
        if len(given) != 1:
            raise serializers.ValidationError(
                {
                    "track": "send exactly one of file (multipart), track (GeoJSON) "
                    f"or gpx (text); got {', '.join(given) or 'none'}"
                }
            )
        return attrs


class CheckInInputSerializer(LonLatSerializer):
    """Where the officer stands (lon/lat/srs), the point, and optionally when."""

    # Named "point" in the API; LonLatSerializer already uses the key "point" for the position.
    point = ScopedPrimaryKeyRelatedField(
        scope_kind="point", source="inspection_point", queryset=InspectionPoint.objects.all()
    )
    checked_at = serializers.DateTimeField(required=False)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class CheckInSerializer(serializers.ModelSerializer):
    point_name = serializers.CharField(source="point.name", read_only=True)
    lon = serializers.FloatField(source="location.x")
    lat = serializers.FloatField(source="location.y")

    class Meta:
        model = CheckIn
        fields = ["id", "patrol", "point", "point_name", "lon", "lat", "distance_m", "checked_at", "note"]
        read_only_fields = fields  # the answer; a check-in comes in through CheckInInputSerializer


class PatrolScheduleSerializer(WorkflowFieldsGuard, serializers.ModelSerializer):
    scope = ScopedSlugRelatedField(scope_kind="grid", slug_field="code", queryset=Grid.objects.all())

    class Meta:
        model = PatrolSchedule
        fields = ["id", "name", "weekday", "scope", "starts_on", "ends_on"]


class PatrolScheduleDaySerializer(serializers.Serializer):
    schedule = PatrolScheduleSerializer()
    day = BoundedDateField()
    in_force = serializers.BooleanField()
    upcoming = serializers.BooleanField(help_text="the day is still to come: nobody has missed it yet")
    walked = PersonDutySerializer(many=True)
    missed = PersonDutySerializer(many=True)


class WeekQuerySerializer(serializers.Serializer):
    week = BoundedDateField(required=False, help_text="any day of the week (default: the latest scheduled day so far)")


class LedgerQuerySerializer(serializers.Serializer):
    since = BoundedDateField(required=False, help_text="first day (the Monday 4 weeks ago by default)")
    until = BoundedDateField(required=False, help_text="last day, included (today by default)")
    officer = serializers.IntegerField(required=False)
    grid = serializers.CharField(required=False, help_text="grid code; its subtree's patrols")

    def validate(self, attrs):
        if attrs.get("since") and attrs.get("until") and attrs["until"] < attrs["since"]:
            raise serializers.ValidationError({"until": "must not be before since"})
        return attrs


class LedgerRowSerializer(serializers.Serializer):
    week_of = BoundedDateField()
    officer_id = serializers.IntegerField()
    officer = serializers.CharField()
    grid_code = serializers.CharField()
    grid_name = serializers.CharField()
    patrols = serializers.IntegerField()
    check_ins = serializers.IntegerField()
    track_metres = serializers.FloatField()
    hours = serializers.FloatField()


class CoverageQuerySerializer(serializers.Serializer):
    grid = serializers.CharField(required=False, allow_blank=True, help_text="code of the subtree (all by default)")
    level = serializers.CharField(required=False, default="grid", help_text="level of the grids measured")
    days = serializers.IntegerField(required=False, min_value=1, max_value=366)

    def validate_level(self, value):
        try:
            return Level.from_name(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def validate_grid(self, value):
        if value and not Grid.objects.filter(code=value).exists():
            raise serializers.ValidationError(f"no grid has code {value!r}")
        return value


class CoverageRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()
    area_m2 = serializers.FloatField()
    covered_m2 = serializers.FloatField()
    share = serializers.FloatField()
    patrols = serializers.IntegerField()
