"""DRF permission classes built on layers.accounts.roles: signed in, staff, or one of some roles.

Messages say what to do, e.g. that the public reads cases through Open311."""

from __future__ import annotations

from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import SAFE_METHODS, BasePermission

from common.scopes import ADMIN, request_scope


class SignedIn(BasePermission):
    """Any signed-in user (session or token); the rows they see are narrowed by their scope."""

    message = (
        "log in first (session at /accounts/login/ or a token from POST /api/v1/auth/token/); "
        "the public can report and follow cases through Open311 at /open311/v2/"
    )

    def has_permission(self, request, view) -> bool:
        if request_scope(request).is_anonymous:
            # DRF would answer its generic "not authenticated"; say where to sign in instead.
            raise NotAuthenticated(SignedIn.message)
        return True


class StaffOnly(SignedIn):
    """A signed-in user with a staff role (anything beyond citizen)."""

    message = "only staff (officer, handler, dispatcher, leader, planner, supervisor, admin) may read this"

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and request_scope(request).is_staff


def writes_by(*roles: str, message: str) -> type[BasePermission]:
    """A permission class: reads (GET, HEAD, OPTIONS) for any signed-in user, whose rows the view narrows
    to their scope; writes for holders of `roles` or admin only, refused with `message`."""

    class WritesByRole(SignedIn):
        def has_permission(self, request, view) -> bool:
            super().has_permission(request, view)  # anonymous: 401/403 saying where to sign in
            if request.method in SAFE_METHODS:
                return True
            self.message = message
            return request_scope(request).has(*roles, ADMIN)

    WritesByRole.__name__ = f"WritesBy{''.join(role.title() for role in roles)}"
    return WritesByRole
