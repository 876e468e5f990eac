"""Admin pages of the inspections layer."""

from django.contrib.gis import admin

from common.admin_inlines import RecordInline
from layers.inspections.models import CheckIn, InspectionCategory, InspectionPoint, Patrol, PatrolSchedule


@admin.register(InspectionCategory)
class InspectionCategoryAdmin(admin.ModelAdmin):
    list_display = ["sort_order", "code", "name", "name_en"]
    list_display_links = ["code"]


@admin.register(InspectionPoint)
class InspectionPointAdmin(admin.GISModelAdmin):
    list_display = ["name", "category", "street", "grid", "responsible_leader", "is_active"]
    list_filter = ["category", "is_active"]
    search_fields = ["name", "code", "address"]
    raw_id_fields = ["grid", "street", "responsible_leader", "task_group", "partner_department"]


@admin.register(PatrolSchedule)
class PatrolScheduleAdmin(admin.ModelAdmin):
    list_display = ["name", "weekday", "scope", "starts_on", "ends_on"]
    raw_id_fields = ["scope"]


class CheckInInline(RecordInline):
    model = CheckIn
    fields = ["point", "checked_at", "distance_m", "created_by"]


@admin.register(Patrol)
class PatrolAdmin(admin.GISModelAdmin):
    list_display = ["officer", "grid", "started_at", "ended_at", "track_positions"]
    list_filter = ["schedule"]
    raw_id_fields = ["officer", "grid", "schedule"]
    readonly_fields = ["track_positions", "track_uploaded_at", "track_uploaded_by", "created_by"]
    inlines = [CheckInInline]
