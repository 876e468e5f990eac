"""Serializers of the estates layer's API: GeoJSON features for the mapped things."""

from __future__ import annotations

from rest_framework import serializers

from common.serializers import BoundedDateField, GeoFeatureSerializer, WorkflowFieldsGuard
from layers.accounts.fields import ScopedPrimaryKeyRelatedField, ScopedSlugRelatedField
from layers.estates.models import (
    Estate,
    ProjectStatus,
    ProjectStatusChange,
    RenovationProject,
    ResidentSuggestion,
    SuggestionStatus,
    Unit,
    WorkItem,
)
from layers.grids.api.serializers import DepartmentDutySerializer, PersonDutySerializer
from layers.grids.models import Grid, Level


class EstateSerializer(WorkflowFieldsGuard, GeoFeatureSerializer):
    """An estate as a GeoJSON Feature; `community` is the community grid's code."""

    community = ScopedSlugRelatedField(
        scope_kind="grid", slug_field="code", queryset=Grid.objects.filter(level=Level.COMMUNITY)
    )
    community_name = serializers.CharField(source="community.name", read_only=True)
    is_three_no = serializers.BooleanField(read_only=True)

    class Meta:
        model = Estate
        geo_field = "boundary"
        fields = [
            "id",
            "name",
            "code",
            "community",
            "community_name",
            "address",
            "buildings",
            "households",
            "year_built",
            "management_type",
            "is_three_no",
            "has_party_organisation",
            "has_owners_committee",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]


class ProjectSerializer(WorkflowFieldsGuard, GeoFeatureSerializer):
    """A renovation project as a GeoJSON Feature with its estates' figures (read-only)."""

    workflow_hint = "a project's status moves through POST /api/v1/renovation-projects/{id}/status/"

    estates = ScopedPrimaryKeyRelatedField(
        scope_kind="estate", many=True, queryset=Estate.objects.all(), required=False
    )
    estate_count = serializers.IntegerField(read_only=True)
    estate_buildings = serializers.IntegerField(read_only=True)
    estate_households = serializers.IntegerField(read_only=True)

    class Meta:
        model = RenovationProject
        geo_field = "footprint"
        fields = [
            "id",
            "name",
            "batch",
            "status",
            "starts_on",
            "ends_on",
            "budget",
            "description",
            "estates",
            "estate_count",
            "estate_buildings",
            "estate_households",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "created_at", "updated_at"]


class StatusChangeInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ProjectStatus.choices)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class StatusChangeSerializer(serializers.ModelSerializer):
    changed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ProjectStatusChange
        fields = ["id", "from_status", "to_status", "changed_by", "changed_at", "note"]


class WorkItemSerializer(WorkflowFieldsGuard, GeoFeatureSerializer):
    """A work item as a GeoJSON Feature (geometry may be null); pipes drawn as lines get metres measured."""

    project = ScopedPrimaryKeyRelatedField(scope_kind="project", queryset=RenovationProject.objects.all())
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True)
    unit = serializers.CharField(required=False, allow_null=True, max_length=10)

    class Meta:
        model = WorkItem
        geo_field = "geometry"
        fields = ["id", "project", "kind", "quantity", "unit", "description"]

    def validate_unit(self, value):
        if value is not None and value not in Unit.values:
            raise serializers.ValidationError(f"unknown unit {value!r}; use one of {', '.join(Unit.values)}")
        return value


class SuggestionSerializer(WorkflowFieldsGuard, serializers.ModelSerializer):
    workflow_hint = "a planner answers through POST /api/v1/resident-suggestions/{id}/answer/"

    answered_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    estate = ScopedPrimaryKeyRelatedField(scope_kind="estate", queryset=Estate.objects.all())
    project = ScopedPrimaryKeyRelatedField(
        scope_kind="project", queryset=RenovationProject.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = ResidentSuggestion
        fields = [
            "id",
            "estate",
            "project",
            "text",
            "submitted_on",
            "resident_name",
            "status",
            "answer",
            "answered_by",
            "answered_at",
        ]
        read_only_fields = ["status", "answer", "answered_by", "answered_at"]
        extra_kwargs = {"submitted_on": {"required": False}}


class AnswerSerializer(serializers.Serializer):
    answer = serializers.CharField()
    status = serializers.ChoiceField(
        choices=[c for c in SuggestionStatus.choices if c[0] != "received"], default=SuggestionStatus.ANSWERED
    )


class OverlayQuerySerializer(serializers.Serializer):
    buffer = serializers.FloatField(required=False, min_value=0, help_text="metres around the footprint for cases")
    on = BoundedDateField(required=False, help_text="date of the duties (today by default)")


class TotalsQuerySerializer(serializers.Serializer):
    group = serializers.ChoiceField(choices=["batch", "status", "batch,status"], default="batch,status")


class OverlayGridSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField(source="level_name")
    overlap_m2 = serializers.FloatField()


class ConflictSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    batch = serializers.CharField()
    status = serializers.CharField()
    starts_on = BoundedDateField()
    ends_on = BoundedDateField()
    overlap_m2 = serializers.FloatField()
    overlap_starts_on = BoundedDateField()
    overlap_ends_on = BoundedDateField()


class OverlayCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    category = serializers.CharField()
    category_name = serializers.CharField()
    address = serializers.CharField()
    reported_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)
    escalation_level = serializers.IntegerField()
    grid = serializers.CharField(allow_null=True)
    distance_m = serializers.FloatField(help_text="metres from the footprint; 0 inside")
    lon = serializers.FloatField()
    lat = serializers.FloatField()


class ProjectSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = RenovationProject
        fields = ["id", "name", "batch", "status", "starts_on", "ends_on"]


class OverlaySerializer(serializers.Serializer):
    """GET /renovation-projects/{id}/overlay/: see layers.estates.selectors.Overlay."""

    project = ProjectSummarySerializer()
    buffer_m = serializers.FloatField()
    grids = OverlayGridSerializer(many=True)
    leaders = PersonDutySerializer(many=True)
    officers = PersonDutySerializer(many=True)
    departments = DepartmentDutySerializer(many=True)
    cases = OverlayCaseSerializer(
        many=True,
        allow_null=True,
        help_text="open cases in the footprint + buffer, nearest first; null if no case layer",
    )
    cases_total = serializers.IntegerField()
    conflicts = ConflictSerializer(many=True)
