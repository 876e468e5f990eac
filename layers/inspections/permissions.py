"""Who may change the inspections layer.

- supervisors (group "supervisor", the command centre's inspection office) keep the register of
  points and the schedules, and may record or correct any patrol;
- an officer (a user whose Person is the patrol's officer) records their own patrols, uploads their
  tracks and checks in on them; an officer cannot check in on someone else's walk;
- reading needs a sign-in; each reader sees the rows of their scope (layers.accounts.roles:
  supervisors everything, officers and leaders their grids' subtree and their own patrols).
Admins may do anything, as in the admin.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS

from common.scopes import ADMIN, SUPERVISOR, request_scope, scope_for
from layers.accounts.permissions import SignedIn, writes_by


def is_supervisor(user) -> bool:
    return scope_for(user).has(SUPERVISOR, ADMIN)


def person_of(user):
    return getattr(user, "person", None) if user and user.is_authenticated else None


IsSupervisorOrReadOnly = writes_by(
    SUPERVISOR, message="only a supervisor (group 'supervisor') may change inspection points and schedules"
)


class IsPatrolOfficerOrSupervisor(SignedIn):
    """Writes on a patrol: its own officer or a supervisor. Creating one: any officer (for
    themselves, checked in the view) or a supervisor."""

    def has_permission(self, request, view) -> bool:
        self.message = SignedIn.message
        if not super().has_permission(request, view):
            return False
        if request.method in SAFE_METHODS:
            return True
        self.message = "only the patrol's own officer or a supervisor may change it"
        return request_scope(request).has(SUPERVISOR, ADMIN) or person_of(request.user) is not None

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS or request_scope(request).has(SUPERVISOR, ADMIN):
            return True
        self.message = "only the patrol's own officer or a supervisor may change it"
        person = person_of(request.user)
        return person is not None and obj.officer_id == person.pk
