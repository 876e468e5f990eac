"""The citizen's screens: the report page and the follow page. Thin: they read through the incidents
layer's selectors and leave every write to the API (POST /api/v1/incidents/, /api/v1/follow/)."""

from __future__ import annotations

from itertools import groupby

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from citizen.labels import ACTION_LABELS, STATUS_LABELS, kind_labels
from common.throttling import refused_by_throttles
from layers.incidents import selectors


def _in_language(zh: str, en: str) -> str:
    return en if (get_language() or "").startswith("en") and en else zh


@require_GET
@ensure_csrf_cookie  # the page POSTs the report with the CSRF token from its cookie (net.js)
def report_page(request):
    """Where, who receives it, what is already reported there, category, photos, description, send."""
    categories = [
        {
            "code": category.code,
            "name": _in_language(category.name_zh, category.name_en),
            "description": _in_language(category.description_zh, category.description_en),
            "major": _in_language(category.parent.name_zh, category.parent.name_en),
        }
        for category in selectors.reportable_categories()
    ]
    groups = [(major, list(items)) for major, items in groupby(categories, key=lambda c: c["major"])]
    return render(
        request,
        "citizen/report.html",
        {
            "category_groups": groups,
            "page_data": {
                "descriptions": {c["code"]: c["description"] for c in categories},
                "names": {c["code"]: c["name"] for c in categories},
                "kinds": {kind: str(label) for kind, label in kind_labels().items()},
                "statuses": {status: str(label) for status, label in STATUS_LABELS.items()},
                "radius_m": f"{settings.GRIDGIS['DUPLICATE_METRES']:g}",
                "max_photos": settings.GRIDGIS["PHOTO_MAX_COUNT"],
                "follow_url": "/report/follow/TOKEN/",
            },
        },
    )


@require_GET
def follow_page(request, token: str):
    """A report by its private link: reference, where it stands, the public timeline, the after-photos.
    Throttled like the API's lookups, so that nobody tries tokens at speed (256 bits would outlast them
    anyway)."""
    wait = refused_by_throttles(request, "lookup")
    if wait is not None:
        response = HttpResponse(status=429)
        response["Retry-After"] = str(max(1, round(wait)))
        return response
    link = selectors.follow_link(token)
    if link is None:
        raise Http404("no report follows this link")
    case = link.case
    status = case.duplicate_of.status if case.duplicate_of_id else case.status
    timeline = [
        {
            "at": entry.at,
            "label": ACTION_LABELS.get(entry.action, entry.action),
            "status": STATUS_LABELS.get(entry.to_status, entry.to_status),
        }
        for entry in selectors.public_timeline(case)
    ]
    response = render(
        request,
        "citizen/follow.html",
        {
            "case": case,
            "category_name": _in_language(case.category.name_zh, case.category.name_en),
            "department_name": (_in_language(case.department.name, case.department.name_en) if case.department else ""),
            "status_label": STATUS_LABELS.get(status, status),
            "closed": status in ("closed", "rejected"),
            "timeline": timeline,
            "after_photos": list(selectors.after_photos(case)),
        },
    )
    # The link is a secret: keep it out of other sites' Referer headers and out of shared caches.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response
