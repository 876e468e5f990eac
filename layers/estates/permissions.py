"""Who may change the estates layer: planners (group "planner", e.g. the housing bureau's renovation
office) write estates, projects, work items and answers; anyone logged in may record a resident's
suggestion. Reading needs a sign-in; what each reader sees is narrowed by layers.accounts.roles
(planners and supervisors everything, leaders and officers their grids' subtree). Admins may do
anything, as in the admin."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from common.scopes import ADMIN, PLANNER, request_scope, scope_for
from layers.accounts.permissions import writes_by


def is_planner(user) -> bool:
    return scope_for(user).has(PLANNER, ADMIN)


IsPlannerOrReadOnly = writes_by(
    PLANNER, message="only a planner (group 'planner') may change estates, projects and work items"
)


class IsPlanner(BasePermission):
    message = "only a planner (group 'planner') may answer residents' suggestions"

    def has_permission(self, request, view) -> bool:
        return request_scope(request).has(PLANNER, ADMIN)
