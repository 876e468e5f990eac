"""Template filters of the office screens: statuses, steps, parties and rules in the page's language
(never raw codes on screen), and the time-left badge."""

from __future__ import annotations

from django import template
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
