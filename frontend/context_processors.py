"""Template context of every screen: the navigation for the signed-in user's roles, the product name,
the signed-in user's unread notifications."""

from __future__ import annotations

from django.conf import settings

from common.notifications import unread_count
from frontend.registry import entries_for
from layers.accounts.roles import request_scope


def screens(request) -> dict:
    scope = request_scope(request)
    return {
        "nav_entries": entries_for(scope, request.path),
        "user_roles": sorted(scope.roles),
        "LANGUAGES": settings.LANGUAGES,
        # Called by the template only where the header shows it, and counted once per page.
        "unread_notifications": _counted_once(lambda: 0 if scope.is_anonymous else unread_count(request.user)),
    }


def _counted_once(count):
    kept = []

    def once() -> int:
        if not kept:
            kept.append(count())
        return kept[0]

    return once
