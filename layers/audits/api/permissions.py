"""Who may use the audits API: supervisors (group "supervisor") and superusers.

Audit runs are heavy background work and the assessment ranks named people and departments, so both
are supervisors' tools, not public reads.
"""

from rest_framework.permissions import BasePermission

from layers.incidents.permissions import SUPERVISOR, in_group


class IsSupervisor(BasePermission):
    message = "only a supervisor may run audits or read assessments"

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and (user.is_superuser or in_group(user, SUPERVISOR)))
