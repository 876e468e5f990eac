"""Template filters of the office screens: statuses, steps, parties and rules in the page's language
(never raw codes on screen), and the time-left badge."""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

register = template.Library()

STATUS = {
    "reported": _("Reported"),
    "confirming": _("Being confirmed on site"),
    "confirmed": _("Confirmed on site"),
    "registered": _("Registered"),
    "rejected": _("Rejected"),
    "dispatched": _("Dispatched"),
    "handling": _("Being handled"),
    "handled": _("Handled"),
    "verified": _("Checked"),
    "closed": _("Closed"),
    "duplicate": _("Duplicate"),
    "suspended": _("Suspended (long-term)"),
    "voided": _("Voided"),
}
STEP = {
    "report": _("Report"),
    "register": _("Register"),
    "reject": _("Reject"),
    "dispatch": _("Dispatch"),
    "accept": _("Accept"),
    "return": _("Return"),
    "handle": _("Report handled"),
    "verify": _("Check passed"),
    "fail": _("Check failed"),
    "close": _("Close"),
    "unlink": _("Unlink"),
    "merge": _("Merge as me too"),
    "me_too": _("Me too"),
    "escalate": _("Escalated"),
    "reassign": _("Reassigned"),
    "regrid": _("Grid changed"),
    "send_to_confirm": _("Send to officer to confirm"),
    "confirm": _("Confirmed on site"),
    "not_found": _("Not found on site"),
    # The clock-changing requests (layers/incidents/requests.py) and supervision orders, in the trail.
    "ask_extension": _("Asked for an extension"),
    "ask_return": _("Asked to return"),
    "ask_suspension": _("Asked to suspend"),
    "ask_void": _("Asked to void"),
    "approve_extension": _("Extension approved"),
    "approve_return": _("Return approved"),
    "approve_suspension": _("Suspension approved"),
    "approve_void": _("Void approved"),
    "refuse_extension": _("Extension refused"),
    "refuse_return": _("Return refused"),
    "refuse_suspension": _("Suspension refused"),
    "refuse_void": _("Void refused"),
    "resume": _("Resumed"),
    "review_due": _("Suspension review due"),
    "supervise": _("Supervision ordered"),
    "reply_supervision": _("Supervision answered"),
    "escalate_order": _("Supervision escalated"),
    "limits": _("Deadline recomputed"),
}
# A request's kind, and the button that asks for one.
REQUEST_KIND = {
    "extension": _("Extension"),
    "return": _("Return"),
    "suspension": _("Suspension"),
    "void": _("Void"),
}
ASK = {
    "extension": _("Ask for an extension"),
    "return": _("Ask to return (not our department's)"),
    "suspension": _("Ask to suspend (long-term case)"),
    "void": _("Ask the duty chief to void"),
}
PARTY = {"grid": _("Grid"), "department": _("Handling department"), "leader": _("Leader"), "officer": _("Grid officer")}
RULE = {
    "smallest_covering": _("smallest grid covering the point"),
    "dead_corner": _("no grid covers the point"),
    "routing_rule": _("routing rule of the category"),
    "category_default": _("default department of the category"),
    "dispatch_office": _("district dispatch office"),
    "dispatcher": _("chosen by the dispatcher"),
    "duty": _("on duty for the grid"),
    "none": _("nobody found"),
    "assignment": _("automatic assignment"),
    "district": _("department of the district"),
}
TIME_LEFT = {"on_time": _("On time"), "due_soon": _("Due soon"), "overdue": _("Overdue"), "": _("No deadline")}
TIME_LEFT_CLASS = {"on_time": "due-ok", "due_soon": "due-soon", "overdue": "due-late", "": "due-none"}
PHOTO = {
    "report": _("As reported"),
    "confirm": _("Confirmed on site"),
    "after": _("After the fix"),
    "verify": _("At the check"),
}
UNIT = {"m2": _("m²"), "count": _("count"), "days": _("days")}
LEVEL = {0: _("City"), 1: _("District"), 2: _("Street"), 3: _("Community"), 4: _("Grid"), 5: _("Micro-grid")}
RUNG = {
    0: _("Not yet escalated"),
    1: _("1 Rectify"),
    2: _("2 Expose"),
    3: _("3 Deduct points"),
    4: _("4 Hold to account"),
}


def _label_filter(name: str, labels: dict, *, empty=None) -> None:
    """Register the filter `name`: a code's label in the page's language, or the code itself when the
    table has none. With `empty`, an empty code (None or "") reads as the table's "" row, else `empty`
    (a case without a deadline, a case no rule placed)."""

    def label(code) -> str:
        if empty is not None and not code:
            return str(labels.get("", empty))
        return str(labels.get(code, code))

    label.__name__ = name
    register.filter(name, label)


_label_filter("status_label", STATUS)
_label_filter("step_label", STEP)
_label_filter("party_label", PARTY)
_label_filter("rule_label", RULE, empty="—")
_label_filter("time_left_label", TIME_LEFT, empty=TIME_LEFT[""])
_label_filter("photo_label", PHOTO)
_label_filter("unit_label", UNIT)
_label_filter("level_label", LEVEL)
_label_filter("rung_label", RUNG)


@register.filter
def time_left_class(code: str) -> str:
    return TIME_LEFT_CLASS.get(code or "", "due-none")


@register.filter
def percent(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


def _label_of(table: dict):
    return lambda code: str(table.get(code, code))


register.filter("request_label", _label_of(REQUEST_KIND))
register.filter("ask_label", _label_of(ASK))


@register.filter
def hours_left(case) -> str:
    """Time left in the clock of the stage's limit: working hours for a working-time limit (read from
    the case's time_left_s annotation, layers.incidents.selectors.case_queryset), clock hours else."""
    seconds = getattr(case, "time_left_s", None)
    if seconds is None or case.due_at is None:
        return ""
    hours = number_format(round(abs(seconds) / 3600, 1), decimal_pos=1)
    working = case.due_clock == "working"
    if seconds < 0:
        text = gettext("late by %(hours)s working hours") if working else gettext("late by %(hours)s h")
    else:
        text = gettext("%(hours)s working hours left") if working else gettext("%(hours)s h left")
    return text % {"hours": hours}


@register.filter
def as_of(moment) -> str:
    """When a kept figure was read: HH:MM today, with the date before it when older (a stopped worker
    must not pass yesterday's figures off as this morning's)."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return local.strftime("%H:%M") if local.date() == timezone.localdate() else local.strftime("%Y-%m-%d %H:%M")
