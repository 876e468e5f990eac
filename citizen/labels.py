"""What the citizen reads for the workflow's codes: statuses, timeline steps and kinds of place, in the
page's language (the codes themselves never reach the screen)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from layers.grids import places

STATUS_LABELS = {
    "reported": _("Received"),
    "registered": _("Accepted as a case"),
    "rejected": _("Not accepted"),
    "dispatched": _("Sent to the department"),
    "handling": _("Being fixed"),
    "handled": _("Fixed, awaiting check"),
    "verified": _("Fix checked on site"),
    "closed": _("Closed"),
    "duplicate": _("Joined an earlier report"),
}

ACTION_LABELS = {
    "report": _("Reported"),
    "register": _("Accepted as a case"),
    "reject": _("Not accepted"),
    "dispatch": _("Sent to the responsible department"),
    "accept": _("The department started work"),
    "return": _("Returned for re-dispatch"),
    "approve_return": _("Returned for re-dispatch"),
    "handle": _("The department reported it fixed"),
    "verify": _("The fix was checked on site"),
    "fail": _("The check found it not fixed: back to work"),
    "close": _("Closed"),
}

_KIND_LABELS = {
    "street": _("Street / town"),
    "community": _("Community / village"),
    "grid": _("Grid"),
    "estate": _("Estate"),
    "inspection_point": _("Public place"),
}


def kind_labels() -> dict:
    """A label for every kind of place the place search answers (layers.grids.places)."""
    return {kind: _KIND_LABELS.get(kind, kind) for kind in places.kind_labels()}
