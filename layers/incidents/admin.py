"""Admin for categories, routing rules, Open311 keys and (read-mostly) cases with their trail.

Cases change state only through the workflow actions of the API (each writes a trail entry), so the
admin shows them read-only.
"""

from django.contrib import admin
from django.contrib.gis.admin import GISModelAdmin
from django.utils.html import format_html

from common.widgets import LocalMapWidget
from layers.incidents.api.photo_views import photo_url
from layers.incidents.models import (
    CannedPhrase,
    Case,
    Category,
    ClockRequest,
    Open311Key,
    Photo,
    RoutingRule,
    SupervisionOrder,
    TrailEntry,
)
from layers.incidents.services import LIMITED_STAGES, apply_stage_limits

LIMIT_FIELDS = {f"{stage}_{kind}" for stage in LIMITED_STAGES for kind in ("hours", "clock")}


class RoutingRuleInline(admin.TabularInline):
    model = RoutingRule
    extra = 0
    autocomplete_fields = ["department"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name_zh",
        "name_en",
        "parent",
        "default_department",
        "register_hours",
        "dispatch_hours",
        "handle_hours",
        "verify_hours",
        "confirm_hours",
        "handle_clock",
        "is_active",
    ]
    list_filter = ["parent", "is_active"]
    search_fields = ["code", "name_zh", "name_en", "keywords"]
    autocomplete_fields = ["default_department"]
    inlines = [RoutingRuleInline]

    def save_model(self, request, obj, form, change):
        """A changed limit or clock applies to the category's open cases (and its minors') at once, in
        one statement (services.apply_stage_limits), each case's new deadline a trail entry."""
        super().save_model(request, obj, form, change)
        if change and set(form.changed_data) & LIMIT_FIELDS:
            changed = apply_stage_limits(categories=[obj], user=request.user, note=f"limits of {obj.code} changed")
            self.message_user(request, f"{changed} open cases got a new deadline")


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["category", "department", "note"]
    list_select_related = ["category", "department"]
    autocomplete_fields = ["department"]
    search_fields = ["category__code", "department__code", "department__name"]


@admin.register(Open311Key)
class Open311KeyAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "is_active"]


class TrailInline(admin.TabularInline):
    model = TrailEntry
    extra = 0
    can_delete = False
    fields = ["at", "actor_name", "action", "from_status", "to_status", "note", "escalation_level"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class PhotoInline(admin.TabularInline):
    model = Photo
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "public_copy", "original_file", "width", "height", "uploaded_at"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False

    # Links to the photo views (MEDIA_ROOT has no URL of its own: the files' names lead nowhere).
    @admin.display(description="public copy")
    def public_copy(self, photo):
        return format_html('<a href="{}">{}</a>', photo_url(photo), "view") if photo.pk else "-"

    @admin.display(description="original")
    def original_file(self, photo):
        return format_html('<a href="{}">{}</a>', photo_url(photo, original=True), "view") if photo.original else "-"


@admin.register(Case)
class CaseAdmin(GISModelAdmin):
    gis_widget = LocalMapWidget
    list_display = [
        "id",
        "category",
        "status",
        "district_code",
        "grid",
        "department",
        "escalation_level",
        "reported_at",
        "due_at",
    ]
    list_filter = ["status", "escalation_level", "dead_corner", "near_edge", "source", "district_code"]
    search_fields = ["id", "description", "address"]
    list_select_related = ["category", "grid", "department"]
    inlines = [PhotoInline, TrailInline]
    readonly_fields = [field.name for field in Case._meta.fields if field.name != "location"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False


@admin.register(CannedPhrase)
class CannedPhraseAdmin(admin.ModelAdmin):
    """The dispatcher's office keeps the stock reasons (惯用语) offered on the office screens."""

    list_display = ("kind", "position", "text", "is_active", "updated_at")
    list_filter = ("kind", "is_active")
    list_editable = ("position", "is_active")
    search_fields = ("text",)

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ClockRequest)
class ClockRequestAdmin(admin.ModelAdmin):
    """Requests are asked and decided through the API (each a trail entry); the admin only reads them."""

    list_display = ["case", "kind", "state", "asked_by_name", "asked_at", "decided_by_name", "decided_at"]
    list_filter = ["kind", "state"]
    readonly_fields = [f.name for f in ClockRequest._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SupervisionOrder)
class SupervisionOrderAdmin(admin.ModelAdmin):
    list_display = ["case", "ordered_by_name", "answer_by", "replied_at", "escalation_level"]
    list_filter = ["escalation_level"]
    readonly_fields = [f.name for f in SupervisionOrder._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
