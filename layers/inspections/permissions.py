"""Who may change the inspections layer.

- supervisors (group "supervisor", the command centre's inspection office) keep the register of
  points and the schedules, and may record or correct any patrol;
- an officer (a user whose Person is the patrol's officer) records their own patrols, uploads their
  tracks and checks in on them; an officer cannot check in on someone else's walk;
- everyone may read. Superusers may do anything, as in the admin.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

SUPERVISOR = "supervisor"


def is_supervisor(user) -> bool:
    return bool(user and user.is_authenticated
                and (user.is_superuser or user.groups.filter(name=SUPERVISOR).exists()))


def person_of(user):
    return getattr(user, "person", None) if user and user.is_authenticated else None


class IsSupervisorOrReadOnly(BasePermission):
    message = "only a supervisor (group 'supervisor') may change inspection points and schedules"

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or is_supervisor(request.user)


class IsPatrolOfficerOrSupervisor(BasePermission):
    """Writes on a patrol: its own officer or a supervisor. Creating one: any officer (for
    themselves, checked in the view) or a supervisor."""

    message = "only the patrol's own officer or a supervisor may change it"

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return is_supervisor(request.user) or person_of(request.user) is not None

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS or is_supervisor(request.user):
            return True
        person = person_of(request.user)
        return person is not None and obj.officer_id == person.pk
