"""Who may use the audits API: supervisors (group "supervisor") and admins.

Audit runs are heavy background work and the assessment ranks named people and departments, so both
are supervisors' tools, not public reads.
"""

from rest_framework.permissions import BasePermission

from common.scopes import ADMIN, SUPERVISOR, request_scope


class IsSupervisor(BasePermission):
    message = "only a supervisor may run audits or read assessments"

    def has_permission(self, request, view) -> bool:
        return request_scope(request).has(SUPERVISOR, ADMIN)
