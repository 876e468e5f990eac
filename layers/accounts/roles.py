"""Who may see what: the roles of gridgis and each user's scope, answered in one place.

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

Every list, detail and map layer narrows its rows with `visible(kind, queryset, scope)` (a queryset
filter, run by the database) or, for the SQL-built map layers, with `Scope.code_patterns(kind)` bound as
a parameter. An out-of-scope detail is answered 404, as if it did not exist.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

CITIZEN = "citizen"
OFFICER = "officer"
HANDLER = "handler"
DISPATCHER = "dispatcher"
LEADER = "leader"
PLANNER = "planner"
SUPERVISOR = "supervisor"
ADMIN = "admin"

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
ROLE_NAMES = tuple(name for name, _ in ROLES)
STAFF_ROLES = frozenset(ROLE_NAMES) - {CITIZEN}


@dataclass(frozen=True)
class Rule:
    """How one kind of row is scoped: which roles see every row, and the lookups that tie a row to a
    grid code (duty prefixes), a department (handlers), a reporter (citizens) or a person (own rows).

    `through_subquery` is for lookups across a many-to-many relation: the rows are then picked with
    `id__in` (a subquery) so that a row reached through two estates is not listed twice."""

    everything: frozenset[str]
    grid_code: str | None = None
    district_code: str | None = None
    department: str | None = None
    reporter: str | None = None
    person: str | None = None
    through_subquery: bool = False
    # Rows bound to an ancestor of the reader's grids count too (a schedule for the whole community
    # concerns the officer of one of its grids); matched by the code rule, an exact list of codes.
    ancestors_too: bool = False


_ALL = frozenset({ADMIN, SUPERVISOR})

RULES: dict[str, Rule] = {
    "grid": Rule(_ALL | {DISPATCHER, PLANNER}, grid_code="code", district_code="code"),
    "case": Rule(_ALL | {DISPATCHER}, grid_code="grid__code", department="department_id", reporter="reporter_id"),
    # The open cases near a renovation footprint, in the planners' overlay (status, category, address:
    # no personal data): planners see them there although they read no case lists.
    "overlay_case": Rule(
        _ALL | {DISPATCHER, PLANNER}, grid_code="grid__code", department="department_id", reporter="reporter_id"
    ),
    "point": Rule(_ALL, grid_code="grid__code"),
    "patrol": Rule(_ALL, grid_code="grid__code", person="officer_id"),
    "schedule": Rule(_ALL, grid_code="scope__code", ancestors_too=True),
    "estate": Rule(_ALL | {PLANNER}, grid_code="community__code"),
    "suggestion": Rule(_ALL | {PLANNER}, grid_code="estate__community__code"),
    "project": Rule(_ALL | {PLANNER}, grid_code="estates__community__code", through_subquery=True),
    "work_item": Rule(_ALL | {PLANNER}, grid_code="project__estates__community__code", through_subquery=True),
    "audit": Rule(_ALL),
}


@dataclass(frozen=True)
class Scope:
    """What one user may see: their role names, the grid-code prefixes of their duties in force
    (officer and leader), their department (handler) and its district, and their ids."""

    user_id: int | None = None
    person_id: int | None = None
    roles: frozenset[str] = frozenset()
    grid_prefixes: tuple[str, ...] = ()
    department_id: int | None = None
    department_district: str | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None

    @property
    def is_staff(self) -> bool:
        """Any role beyond citizen: may read people's names and phones."""
        return bool(self.roles & STAFF_ROLES)

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    def sees_all(self, kind: str) -> bool:
        return bool(self.roles & RULES[kind].everything)

    def code_patterns(self, kind: str) -> list[str] | None:
        """For SQL-built layers keyed by grid code: LIKE patterns ('510502001%') of the grids this user
        sees, None for every grid, [] for none. Bound as a text[] parameter, never pasted."""
        if self.sees_all(kind):
            return None
        rule = RULES[kind]
        prefixes = list(self.grid_prefixes) if rule.grid_code else []
        if rule.district_code and self.department_district:
            prefixes.append(self.department_district)
        return [_like_prefix(p) for p in sorted(set(prefixes))]


def _like_prefix(code: str) -> str:
    # Codes are digits; escape LIKE's wildcards all the same.
    return code.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


ANONYMOUS = Scope()


def scope_for(user, on: datetime.date | None = None) -> Scope:
    """The scope of `user` (anonymous: ANONYMOUS), from their groups, Person, department and the duties
    in force on `on` (today): three small queries (request_scope remembers the answer per request)."""
    if not (user and getattr(user, "is_authenticated", False)):
        return ANONYMOUS
    from layers.grids.models import Duty, DutyKind, Person

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


def visibility(kind: str, scope: Scope) -> Q | None:
    """The filter of the rows of `kind` that `scope` may see: None for every row, else a Q (possibly one
    that matches nothing)."""
    rule = RULES[kind]
    if scope.sees_all(kind):
        return None
    condition = Q(pk__in=[])
    if rule.grid_code:
        for prefix in scope.grid_prefixes:
            condition |= Q(**{f"{rule.grid_code}__startswith": prefix})
        if rule.ancestors_too and scope.grid_prefixes:
            ancestors = {code[:n] for code in scope.grid_prefixes for n in range(6, len(code), 3)}
            condition |= Q(**{f"{rule.grid_code}__in": sorted(ancestors)})
    if rule.district_code and scope.department_district:
        condition |= Q(**{f"{rule.district_code}__startswith": scope.department_district})
    if rule.department and scope.department_id is not None:
        condition |= Q(**{rule.department: scope.department_id})
    if rule.reporter and scope.user_id is not None:
        condition |= Q(**{rule.reporter: scope.user_id})
    if rule.person and scope.person_id is not None:
        condition |= Q(**{rule.person: scope.person_id})
    return condition


def visible(kind: str, queryset: QuerySet, scope: Scope) -> QuerySet:
    """`queryset` narrowed to the rows of `kind` that `scope` may see (a filter run by the database)."""
    condition = visibility(kind, scope)
    if condition is None:
        return queryset
    if RULES[kind].through_subquery:
        return queryset.filter(pk__in=queryset.model._default_manager.filter(condition).values("pk"))
    return queryset.filter(condition)


def request_scope(request) -> Scope:
    """The scope of a request's user (DRF's request.user, or Django's), worked out once per request."""
    django_request = getattr(request, "_request", request)
    user = getattr(request, "user", None)
    cached = getattr(django_request, "gridgis_scope", None)
    if cached is not None and cached[0] is user:
        return cached[1]
    scope = scope_for(user)
    django_request.gridgis_scope = (user, scope)
    return scope
