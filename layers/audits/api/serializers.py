"""Serializers of the audits API."""

from __future__ import annotations

from rest_framework import serializers

from common.listing import parse_bbox
from common.serializers import BoundedDateField
from layers.audits.models import RUN_PARAMETERS, AuditRun, Kind


class AuditRunRequestSerializer(serializers.Serializer):
    """What POST /api/v1/audits/ accepts; the service checks the district and the parameters' values."""

    district = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=6,
        help_text="6-digit district code; empty or absent: the whole tree",
    )
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=Kind.choices),
        required=False,
        allow_empty=False,
        help_text="kinds to check; absent: all",
    )
    min_area_m2 = serializers.FloatField(
        required=False, min_value=0, max_value=1e9, help_text="parts smaller than this are counted as slivers"
    )
    leader_level = serializers.CharField(required=False, help_text="level at which a leader is expected")
    officer_level = serializers.CharField(required=False, help_text="level at which an officer is expected")
    hotspot_cases = serializers.IntegerField(
        required=False, min_value=1, max_value=100_000, help_text="hotspot: at least K cases of one category"
    )
    hotspot_metres = serializers.FloatField(
        required=False, min_value=0.1, max_value=100_000, help_text="hotspot: within R metres of each other"
    )
    hotspot_days = serializers.FloatField(
        required=False, min_value=0.1, max_value=100_000, help_text="hotspot: reported in the last D days"
    )
    stale_days = serializers.FloatField(
        required=False, min_value=0.1, max_value=100_000, help_text="stale: not visited or patrolled in the last N days"
    )
    on = BoundedDateField(required=False, help_text="date the run looks from: duties in force, case windows")

    def parameters(self) -> dict:
        return {k: (v.isoformat() if k == "on" else v) for k, v in self.validated_data.items() if k in RUN_PARAMETERS}


class AuditRunSerializer(serializers.ModelSerializer):
    """A run's status, progress and per-kind summary."""

    requested_by = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = AuditRun
        fields = [
            "id",
            "status",
            "progress",
            "district_code",
            "kinds",
            "parameters",
            "summary",
            "error",
            "requested_by",
            "requested_via",
            "created_at",
            "started_at",
            "finished_at",
            "links",
        ]

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
        # The same rules as every list's bbox (finite, in range, min < max, under the area cap).
        try:
            return parse_bbox(value, param="bbox").wkt
        except serializers.ValidationError as exc:
            raise serializers.ValidationError(exc.detail["bbox"]) from None


class ExportRequestSerializer(FindingFilterSerializer):
    """POST /api/v1/audits/{id}/exports/: the ledger's format and the same filters as the findings."""

    format = serializers.ChoiceField(choices=["xlsx", "csv"])


class AssessmentQuerySerializer(serializers.Serializer):
    """GET /api/v1/assessments/ parameters; the assessment module checks the values."""

    period = serializers.CharField(help_text="2026Q3, 2026-07 or 2026")
    unit = serializers.ChoiceField(choices=["grid", "department", "leader"], default="grid")
    level = serializers.CharField(default="grid", help_text="which grids are units when unit=grid")
    district = serializers.CharField(required=False, allow_blank=True, max_length=6)
    notice = serializers.IntegerField(
        required=False, min_value=0, max_value=100, help_text="how many of the worst ranked units go on the notice list"
    )


class AssessmentRowSerializer(serializers.Serializer):
    """One unit's figures; rates are fractions (0-1), null without a denominator."""

    unit_id = serializers.IntegerField()
    unit_code = serializers.CharField(allow_null=True)
    unit_name = serializers.CharField(allow_null=True)
    received = serializers.IntegerField()
    registered = serializers.IntegerField()
    due = serializers.IntegerField()
    voided = serializers.IntegerField(help_text="cases voided (作废) on the duty chief's approval: never due or late")
    closed = serializers.IntegerField()
    on_time = serializers.IntegerField()
    dispatched = serializers.IntegerField()
    returned = serializers.IntegerField()
    handled = serializers.IntegerField()
    reworked = serializers.IntegerField()
    overdue = serializers.IntegerField()
    deductions = serializers.FloatField()
    register_rate = serializers.FloatField(allow_null=True)
    closure_rate = serializers.FloatField(allow_null=True)
    on_time_rate = serializers.FloatField(allow_null=True)
    rework_rate = serializers.FloatField(allow_null=True)
    accurate_dispatch_rate = serializers.FloatField(allow_null=True)
    score = serializers.FloatField()
    ranked = serializers.BooleanField()
    rank = serializers.IntegerField(allow_null=True)


class OverdueCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    category = serializers.CharField()
    category_name = serializers.CharField()
    status = serializers.CharField()
    grid_code = serializers.CharField()
    address = serializers.CharField()
    reported_at = serializers.DateTimeField()
    final_due_at = serializers.DateTimeField(allow_null=True)


class NoticeSerializer(AssessmentRowSerializer):
    overdue_cases = OverdueCaseSerializer(many=True)


class AssessmentSerializer(serializers.Serializer):
    period = serializers.CharField(source="period.label")
    start = serializers.DateTimeField(source="period.start")
    end = serializers.DateTimeField(source="period.end")
    cutoff = serializers.DateTimeField()
    unit = serializers.CharField()
    min_sample = serializers.IntegerField()
    rows = AssessmentRowSerializer(many=True)
    notice = NoticeSerializer(many=True)
