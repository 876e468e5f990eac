"""Who may change the estates layer: planners (group "planner", e.g. the housing bureau's renovation
office) write estates, projects, work items and answers; anyone logged in may record a resident's
suggestion; everyone may read. Superusers may do anything, as in the admin."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

PLANNER = "planner"


def is_planner(user) -> bool:
    return bool(user and user.is_authenticated
                and (user.is_superuser or user.groups.filter(name=PLANNER).exists()))


class IsPlannerOrReadOnly(BasePermission):
    message = "only a planner (group 'planner') may change estates, projects and work items"

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or is_planner(request.user)


class IsPlanner(BasePermission):
    message = "only a planner (group 'planner') may answer residents' suggestions"

    def has_permission(self, request, view) -> bool:
        return is_planner(request.user)
