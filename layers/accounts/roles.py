"""Who may see what: the roles of gridgis and how one user's Scope is worked out from their records.

Roles are Django groups (created by migration 0001) plus what a user's own records say:

    citizen     reports problems and follows their own reports (Case.reporter)
    officer     grid officer (网格员): an officer Duty in force -> that grid's subtree
    leader      responsible leader (包片领导): a leader Duty in force -> that grid's subtree
    handler     department handler: a Person on a department's staff -> that department's cases
                (and the grids of the department's district, to find them on a map)
    dispatcher  the command centre's dispatcher: every case
    planner     the renovation office: reads grids and estates, writes estates and projects
    supervisor  reads everything, keeps inspection points and schedules, runs audits
    admin       everything (group "admin" or a Django superuser)

Officer, leader and handler follow the records rather than the group alone: the workflow already lets
the staff of a case's department handle it and an officer on duty up the case's grid chain verify it
(layers/incidents/permissions.py), so whoever may act on a case must also be able to read it. The
groups of the same names exist for the admin's lists and for accounts without a Person yet.

Which rows of each kind a scope sees is not decided here: each layer registers its rule
(common.scopes.register_rule) in its own AppConfig.ready(). This module names no layer above grids.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from common.scopes import (  # noqa: F401 (the names every layer's permissions and views import from here)
    ADMIN,
    ANONYMOUS,
    CITIZEN,
    DISPATCHER,
    HANDLER,
    LEADER,
    OFFICER,
    PLANNER,
    ROLE_NAMES,
    STAFF_ROLES,
    SUPERVISOR,
    Scope,
    request_scope,
    visibility,
    visible,
)
from layers.grids.models import Duty, DutyKind, Person

# (group name, what the role does): the groups migration 0001 creates, in this order.
ROLES = (
    (CITIZEN, "citizen: reports problems, sees their own reports"),
    (OFFICER, "grid officer (网格员): cases, grids, points and tracks of their grids' subtree"),
    (HANDLER, "department handler: the cases of their department"),
    (DISPATCHER, "dispatcher (指挥调度): every case; registers, dispatches and closes"),
    (LEADER, "responsible leader (包片领导): their grids' subtree"),
    (PLANNER, "renovation planner: reads grids and estates, writes estates and projects"),
    (SUPERVISOR, "supervisor: reads everything, keeps points and schedules, runs audits"),
    (ADMIN, "administrator: everything"),
)
assert tuple(name for name, _ in ROLES) == ROLE_NAMES


def scope_for(user, on: datetime.date | None = None) -> Scope:
    """The scope of `user` (anonymous: ANONYMOUS), from their groups, Person, department and the duties
    in force on `on` (today): three small queries (request_scope remembers the answer per request)."""
    if not (user and getattr(user, "is_authenticated", False)):
        return ANONYMOUS
    roles = set(user.groups.filter(name__in=ROLE_NAMES).values_list("name", flat=True))
    if user.is_superuser:
        roles.add(ADMIN)
    person = (
        Person.objects.filter(user=user)
        .select_related("department__district")
        .only("id", "department_id", "department__district__code")
        .first()
    )
    prefixes: list[str] = []
    department_id = district = None
    if person is not None:
        duties = (
            Duty.objects.active(on or timezone.localdate())
            .filter(person=person, kind__in=(DutyKind.OFFICER, DutyKind.LEADER))
            .values_list("kind", "grid__code")
        )
        for kind, code in duties:
            roles.add(OFFICER if kind == DutyKind.OFFICER else LEADER)
            prefixes.append(code)
        if person.department_id is not None:
            roles.add(HANDLER)
            department_id = person.department_id
            district = person.department.district.code if person.department.district else None
    if not roles & STAFF_ROLES:
        roles.add(CITIZEN)
    return Scope(
        user_id=user.pk,
        person_id=person.pk if person else None,
        roles=frozenset(roles),
        grid_prefixes=_outermost(prefixes),
        department_id=department_id,
        department_district=district,
    )


def _outermost(codes: list[str]) -> tuple[str, ...]:
    """The codes that are not inside another one's subtree (a leader of a community who is also the
    officer of one of its grids needs only the community's prefix)."""
    kept: list[str] = []
    for code in sorted(set(codes), key=len):
        if not any(code.startswith(outer) for outer in kept):
            kept.append(code)
    return tuple(sorted(kept))
