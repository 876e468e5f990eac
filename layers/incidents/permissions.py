"""Who may take which workflow step, from Django groups and the Person ↔ user link.

- dispatcher (group "dispatcher"): registers, rejects, dispatches, closes, unlinks duplicates.
  Supervisors do not: supervision stays apart from command and handling (监管分离, as the national
  digital-city-management model keeps them), since the supervisors audit and assess the very
  dispatching and closing they would otherwise do; they read every case and report what they find;
- handler: a user whose Person is staff of the case's department (accepts, returns, handles);
- officer: a user whose Person holds an officer duty in force on the case's grid or one of its
  ancestors (verifies or fails the fix).

For the clock-changing requests (layers/incidents/requests.py):
- duty chief (值班长; group "duty_chief"): approves voiding a case;
- supervising (a leader, group "leader", or a supervisor): orders a case supervised (督办).

Superusers (and the group "admin") may do anything, as in the admin. Roles and departments come from
layers.accounts.roles, the one module that says who a user is.
"""

from __future__ import annotations

from django.utils import timezone

from common.scopes import ADMIN, DISPATCHER, HANDLER, LEADER, OFFICER, SUPERVISOR, scope_for
from layers.grids.models import Duty, DutyKind

__all__ = [
    "DISPATCHER",
    "DUTY_CHIEF",
    "HANDLER",
    "OFFICER",
    "SUPERVISING",
    "SUPERVISOR",
    "is_dispatcher",
    "is_handler",
    "is_officer",
    "refusal",
]

# Roles of the clock-changing requests only; "duty_chief" is a Django group (made by migration incidents.0011_clock_requests).
DUTY_CHIEF = "duty_chief"
SUPERVISING = "supervising"


def reporting_source(scope) -> str:
    """Where a report comes from, by who sends it (never by what the body says): a dispatcher enters
    hotline calls, a supervisor (or admin) their inspections' findings, other staff (officers,
    leaders, handlers, planners) report from the ground as officers, and everyone else is a citizen."""
    from layers.incidents.models import Source

    if scope.has(SUPERVISOR, ADMIN):
        return Source.SUPERVISOR
    if scope.has(DISPATCHER):
        return Source.HOTLINE
    if scope.is_staff:
        return Source.OFFICER
    return Source.CITIZEN


def is_dispatcher(user) -> bool:
    return scope_for(user).has(DISPATCHER, ADMIN)


def is_handler(user, case) -> bool:
    scope = scope_for(user)
    return scope.has(ADMIN) or (scope.department_id is not None and scope.department_id == case.department_id)


def is_officer(user, case) -> bool:
    if not (user and user.is_authenticated):
        return False
    if scope_for(user).has(ADMIN):
        return True
    person = getattr(user, "person", None)
    if person is None or case.grid is None:
        return False
    return (
        Duty.objects.active(timezone.localdate())
        .filter(kind=DutyKind.OFFICER, person=person, grid__code__in=case.grid.ancestor_codes())
        .exists()
    )


def refusal(user, role: str, case) -> str | None:
    """None if `user` may act as `role` on `case`, else why not (for the 403 message)."""
    if not (user and user.is_authenticated):
        return "log in to change a case"
    if role == DISPATCHER and not is_dispatcher(user):
        return "only a dispatcher may do this (supervisors audit the workflow and do not run it)"
    if role == HANDLER and not is_handler(user, case):
        return "only staff of the case's department may do this"
    if role == OFFICER and not is_officer(user, case):
        return "only a grid officer on duty for the case's grid may do this"
    if role == DUTY_CHIEF and not is_duty_chief(user):
        return "only the duty chief (值班长, group duty_chief) may do this"
    if role == SUPERVISING and not scope_for(user).has(LEADER, SUPERVISOR, ADMIN):
        return "only a leader or a supervisor may order a case supervised"
    return None


def is_duty_chief(user) -> bool:
    return scope_for(user).has(ADMIN) or user.groups.filter(name=DUTY_CHIEF).exists()
