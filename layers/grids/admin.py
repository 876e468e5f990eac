"""Admin for the grid tree, departments, people and duties, with offline map widgets."""

from django.contrib import admin
from django.contrib.gis.admin import GISModelAdmin

from common.widgets import LocalMapWidget
from layers.grids.models import Department, Duty, Grid, Person


class MapAdmin(GISModelAdmin):
    gis_widget = LocalMapWidget


class DutyInline(admin.TabularInline):
    model = Duty
    extra = 0
    autocomplete_fields = ["person", "department"]


@admin.register(Grid)
class GridAdmin(MapAdmin):
    list_display = ["code", "name", "level", "parent", "households", "is_active", "version"]
    list_filter = ["level", "is_active", "district_code"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["district_code", "version", "created_at", "updated_at"]
    inlines = [DutyInline]
    list_select_related = ["parent"]


@admin.register(Department)
class DepartmentAdmin(MapAdmin):
    list_display = ["code", "name", "kind", "district"]
    list_filter = ["kind", "district"]
    search_fields = ["code", "name", "name_en"]


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["name", "title", "phone", "department", "user"]
    search_fields = ["name", "phone"]
    autocomplete_fields = ["department", "user"]


@admin.register(Duty)
class DutyAdmin(admin.ModelAdmin):
    list_display = ["grid", "kind", "person", "department", "starts_on", "ends_on"]
    list_filter = ["kind"]
    search_fields = ["grid__code", "grid__name", "person__name", "department__name"]
    autocomplete_fields = ["grid", "person", "department"]
    list_select_related = ["grid", "person", "department"]
