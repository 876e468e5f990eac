"""Admin: audit runs and their findings, read-only (runs are started by the command or the API)."""

from django.contrib import admin

from layers.audits.models import AuditRun, Finding


@admin.register(AuditRun)
class AuditRunAdmin(admin.ModelAdmin):
    list_display = ["id", "district_code", "status", "progress", "requested_via", "created_at", "finished_at"]
    list_filter = ["status", "district_code"]
    readonly_fields = [f.name for f in AuditRun._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = ["id", "run", "kind", "grid_code", "other_grid_code", "measure", "unit"]
    list_filter = ["kind", "district_code"]
    search_fields = ["grid_code", "grid_name", "other_grid_code"]
    # The geometry is shown as text: the map widget would load OpenLayers from a public CDN.
    readonly_fields = [f.name for f in Finding._meta.fields]

    def has_add_permission(self, request):
        return False
