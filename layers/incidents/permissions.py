"""Who may take which workflow step, from Django groups and the Person ↔ user link.

- dispatcher (group "dispatcher"; members of group "supervisor" too): registers, rejects, dispatches,
  closes, unlinks duplicates;
- handler: a user whose Person is staff of the case's department (accepts, returns, handles);
- officer: a user whose Person holds an officer duty in force on the case's grid or one of its
  ancestors (verifies or fails the fix).

Superusers may do anything, as in the admin.
"""

from __future__ import annotations

from django.utils import timezone

from layers.grids.models import Duty, DutyKind

DISPATCHER = "dispatcher"
SUPERVISOR = "supervisor"
HANDLER = "handler"
OFFICER = "officer"


def in_group(user, *names: str) -> bool:
    return bool(user and user.is_authenticated and user.groups.filter(name__in=names).exists())


def is_dispatcher(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or in_group(user, DISPATCHER, SUPERVISOR)))


def is_handler(user, case) -> bool:
    person = getattr(user, "person", None) if user and user.is_authenticated else None
    return bool(user and user.is_authenticated and (
        user.is_superuser or (person is not None and case.department_id is not None
                              and person.department_id == case.department_id)))


def is_officer(user, case) -> bool:
    if not (user and user.is_authenticated):
        return False
    if user.is_superuser:
        return True
    person = getattr(user, "person", None)
    if person is None or case.grid is None:
        return False
    return (Duty.objects.active(timezone.localdate())
            .filter(kind=DutyKind.OFFICER, person=person, grid__code__in=case.grid.ancestor_codes())
            .exists())


def refusal(user, role: str, case) -> str | None:
    """None if `user` may act as `role` on `case`, else why not (for the 403 message)."""
    if not (user and user.is_authenticated):
        return "log in to change a case"
    if role == DISPATCHER and not is_dispatcher(user):
        return "only a dispatcher or supervisor may do this"
    if role == HANDLER and not is_handler(user, case):
        return "only staff of the case's department may do this"
    if role == OFFICER and not is_officer(user, case):
        return "only a grid officer on duty for the case's grid may do this"
    return None
