"""Admin pages of the estates layer (maps drawn with GeoDjango's OpenLayers widget)."""

from django.contrib.gis import admin

from common.admin_inlines import RecordInline
from layers.estates.models import Estate, ProjectStatusChange, RenovationProject, ResidentSuggestion, WorkItem


@admin.register(Estate)
class EstateAdmin(admin.GISModelAdmin):
    list_display = ["name", "community", "buildings", "households", "year_built", "management_type"]
    list_filter = ["management_type", "has_owners_committee", "has_party_organisation"]
    search_fields = ["name", "code", "address"]
    raw_id_fields = ["community"]


class WorkItemInline(RecordInline):
    """Read-only here: work items are written through the API, which measures drawn pipes."""

    model = WorkItem
    fields = ["kind", "quantity", "unit", "description"]

    def has_add_permission(self, request, obj=None):
        return False


class StatusChangeInline(RecordInline):
    model = ProjectStatusChange
    fields = ["from_status", "to_status", "changed_by", "changed_at", "note"]


@admin.register(RenovationProject)
class RenovationProjectAdmin(admin.GISModelAdmin):
    list_display = ["name", "batch", "status", "starts_on", "ends_on", "budget"]
    list_filter = ["batch", "status"]
    search_fields = ["name"]
    filter_horizontal = ["estates"]
    # Status moves through the API's status action so that who and when are recorded.
    readonly_fields = ["status", "created_by"]
    inlines = [WorkItemInline, StatusChangeInline]


@admin.register(ResidentSuggestion)
class ResidentSuggestionAdmin(admin.ModelAdmin):
    list_display = ["estate", "submitted_on", "status", "answered_at"]
    list_filter = ["status"]
    search_fields = ["text", "answer"]
    readonly_fields = ["answered_by", "answered_at"]
