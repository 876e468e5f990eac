"""Admin for the working calendar: the schedule, the official and local calendar days, the entered years.

Each list explains (common.workcalendar.HOW_TO) how to add a local holiday, a duty day, or a whole year
the chinesecalendar package does not know.
"""

from django import forms
from django.contrib import admin, messages

from common import workcalendar
from common.models import CalendarDay, CalendarYear, NotificationPreference, OutboxMessage, WorkPeriod, WorkSchedule


class CalendarHelp:
    """Shows the calendar's how-to above the list, and offers to apply the calendar to open cases."""

    change_list_template = "admin/common/change_list_with_help.html"
    actions = ["apply_to_open_cases"]

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), "calendar_help": workcalendar.HOW_TO})

    @admin.action(description="按新日历重算未结案件期限 / apply the calendar to open cases' deadlines")
    def apply_to_open_cases(self, request, queryset):
        answers = workcalendar.calendar_changed.send(sender=type(self), user=request.user)
        changed = sum(count for _, count in answers if isinstance(count, int))
        self.message_user(request, f"{changed} open cases got a new deadline", messages.SUCCESS)


class WorkPeriodFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        periods = sorted(
            (form.cleaned_data["starts"], form.cleaned_data["ends"])
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("starts")
        )
        if not periods:
            raise forms.ValidationError("a schedule needs at least one working period, e.g. 08:30-12:00")
        for (_, previous_end), (start, _) in zip(periods, periods[1:], strict=False):
            if start < previous_end:
                raise forms.ValidationError(f"periods overlap: one starts at {start:%H:%M} before {previous_end:%H:%M}")


class WorkPeriodInline(admin.TabularInline):
    model = WorkPeriod
    formset = WorkPeriodFormSet
    extra = 0


@admin.register(WorkSchedule)
class WorkScheduleAdmin(CalendarHelp, admin.ModelAdmin):
    list_display = ["name", "time_zone"]
    inlines = [WorkPeriodInline]


@admin.register(CalendarDay)
class CalendarDayAdmin(CalendarHelp, admin.ModelAdmin):
    list_display = ["day", "kind", "name", "source"]
    list_filter = ["kind", "source"]
    date_hierarchy = "day"
    search_fields = ["name"]


@admin.register(CalendarYear)
class CalendarYearAdmin(CalendarHelp, admin.ModelAdmin):
    list_display = ["year", "source", "note"]
    list_filter = ["source"]
    actions = ["apply_to_open_cases", "load_package"]

    @admin.action(description="从 chinesecalendar 载入 / load the years the chinesecalendar package covers")
    def load_package(self, request, queryset):
        loaded = workcalendar.load_package()
        self.message_user(
            request,
            f"chinesecalendar covers {loaded['first_year']}-{loaded['last_year']}: "
            f"{loaded['years']} years and {loaded['days']} days added",
            messages.SUCCESS,
        )


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """The notification outbox, read-only: what waits, what was delivered, what was given up (and why)."""

    list_display = ["id", "channel", "target", "created_at", "next_attempt_at", "attempts", "delivered_at", "failed_at"]
    list_filter = ["channel", ("delivered_at", admin.EmptyFieldListFilter), ("failed_at", admin.EmptyFieldListFilter)]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "email", "webhook", "quiet_from", "quiet_until"]
    search_fields = ["user__username"]
