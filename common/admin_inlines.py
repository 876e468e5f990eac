"""Admin inlines shared by the layers."""

from __future__ import annotations

from django.contrib import admin


class RecordInline(admin.TabularInline):
    """The rows a workflow wrote (status changes, check-ins, work items measured by the API), shown
    under their parent read-only and never deleted here: every listed field is read-only. A subclass
    names `model` and `fields`."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields
