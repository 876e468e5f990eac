"""Template context of every screen: the navigation for the signed-in user's roles, the product name."""

from __future__ import annotations

from django.conf import settings

from frontend.registry import entries_for
from layers.accounts.roles import request_scope


def screens(request) -> dict:
    scope = request_scope(request)
    return {
        "nav_entries": entries_for(scope, request.path),
        "user_roles": sorted(scope.roles),
        "LANGUAGES": settings.LANGUAGES,
    }
