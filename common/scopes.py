"""Who may see which rows: the registry of visibility rules, and the scope of one reader.

Each layer declares, in its own AppConfig.ready(), how its kinds of row are tied to a reader (a grid
code, a department, a reporter, a person): `register_rule("case", Rule(...))`, the way
`admin.site.register` works. Nothing here names a layer, so the ground floor knows none of the floors
above it; layers/accounts/roles.py works out a user's Scope (their roles and duties) and installs that
as the resolver behind `request_scope`.

The same Rule answers both kinds of reader:
- querysets: `visible(kind, queryset, scope)` adds the rule's filter (run by the database);
- SQL-built map layers and tiles: `scope.sql_params(kind)` gives the bound parameters of the one SQL
  predicate `gridgis_in_scope(code, patterns)` (migration common 0002), so no statement spells a rule out.
An out-of-scope detail is answered 404, as if it did not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from django.db.models import Q, QuerySet

CITIZEN = "citizen"
OFFICER = "officer"
HANDLER = "handler"
DISPATCHER = "dispatcher"
LEADER = "leader"
PLANNER = "planner"
SUPERVISOR = "supervisor"
ADMIN = "admin"

ROLE_NAMES = (CITIZEN, OFFICER, HANDLER, DISPATCHER, LEADER, PLANNER, SUPERVISOR, ADMIN)
STAFF_ROLES = frozenset(ROLE_NAMES) - {CITIZEN}
# The roles that read every row of every kind.
SEES_EVERYTHING = frozenset({ADMIN, SUPERVISOR})


@dataclass(frozen=True)
class Rule:
    """How one kind of row is scoped: which roles see every row, and the lookups that tie a row to a
    grid code (duty prefixes), a district (a handler's department), a reporter (citizens) or a person
    (own rows).

    `through_subquery` is for lookups across a many-to-many relation: the rows are then picked with
    `id__in` (a subquery) so that a row reached through two estates is not listed twice.
    `ancestors_too`: rows bound to an ancestor of the reader's grids count too (a schedule for the whole
    community concerns the officer of one of its grids), matched as exact codes."""

    everything: frozenset[str]
    grid_code: str | None = None
    district_code: str | None = None
    department: str | None = None
    reporter: str | None = None
    person: str | None = None
    through_subquery: bool = False
    ancestors_too: bool = False


_RULES: dict[str, Rule] = {}


def register_rule(kind: str, rule: Rule) -> None:
    """Declare how rows of `kind` are scoped (called from the owning layer's AppConfig.ready())."""
    if kind in _RULES and _RULES[kind] != rule:
        raise ValueError(f"the visibility rule {kind!r} is already registered with another definition")
    _RULES[kind] = rule


def rule_for(kind: str) -> Rule:
    try:
        return _RULES[kind]
    except KeyError:
        raise LookupError(f"no layer registered a visibility rule {kind!r} (known: {sorted(_RULES)})") from None


def registered_kinds() -> list[str]:
    return sorted(_RULES)


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
        return bool(self.roles & rule_for(kind).everything)

    def code_patterns(self, kind: str) -> list[str] | None:
        """The grids of `kind`'s rule this user sees, as LIKE patterns: '510502001%' for a subtree, a
        bare code for an ancestor the rule lets in; None for every grid, [] for none."""
        if self.sees_all(kind):
            return None
        rule = rule_for(kind)
        patterns: set[str] = set()
        if rule.grid_code:
            patterns.update(_like_prefix(p) for p in self.grid_prefixes)
            if rule.ancestors_too:
                patterns.update(_like_exact(a) for a in _ancestors(self.grid_prefixes))
        if rule.district_code and self.department_district:
            patterns.add(_like_prefix(self.department_district))
        return sorted(patterns)

    def sql_params(self, kind: str) -> dict:
        """The parameters of the SQL scope predicate for `kind`: `scope_patterns` for
        gridgis_in_scope(code, %(scope_patterns)s), and the department, reporter and person the rule
        also lets in (NULL lets nothing in). Every SQL-built layer binds these, never a hand-made list."""
        rule = rule_for(kind)
        everything = self.sees_all(kind)
        return {
            "scope_patterns": self.code_patterns(kind),
            "scope_department": None if everything or not rule.department else self.department_id,
            "scope_reporter": None if everything or not rule.reporter else self.user_id,
            "scope_person": None if everything or not rule.person else self.person_id,
        }


ANONYMOUS = Scope()
# Batch jobs and benchmarks read every row.
EVERYTHING = Scope(roles=frozenset({ADMIN}))


def _like_prefix(code: str) -> str:
    return _like_exact(code) + "%"


def _like_exact(code: str) -> str:
    # Codes are digits; escape LIKE's wildcards all the same.
    return code.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _ancestors(prefixes: tuple[str, ...]) -> set[str]:
    """The codes above each prefix (district 6 digits, then every 3): a child's code starts with its parent's."""
    return {code[:n] for code in prefixes for n in range(6, len(code), 3)}


def visibility(kind: str, scope: Scope) -> Q | None:
    """The filter of the rows of `kind` that `scope` may see: None for every row, else a Q (possibly one
    that matches nothing)."""
    rule = rule_for(kind)
    if scope.sees_all(kind):
        return None
    condition = Q(pk__in=[])
    if rule.grid_code:
        for prefix in scope.grid_prefixes:
            condition |= Q(**{f"{rule.grid_code}__startswith": prefix})
        if rule.ancestors_too and scope.grid_prefixes:
            condition |= Q(**{f"{rule.grid_code}__in": sorted(_ancestors(scope.grid_prefixes))})
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
    if rule_for(kind).through_subquery:
        return queryset.filter(pk__in=queryset.model._default_manager.filter(condition).values("pk"))
    return queryset.filter(condition)


_resolver: Callable[..., Scope] | None = None


def set_scope_resolver(resolver: Callable[..., Scope]) -> None:
    """Install the function that works out a user's Scope (layers.accounts does, in its ready())."""
    global _resolver
    _resolver = resolver


# The scope request_scope worked out for the request being served, and for which user object, so
# that the checks deeper down that are handed only the user (the workflow's permissions) reuse it
# instead of asking the database again (three queries a workflow step). common.middleware.
# RequestScopeMiddleware empties it before each request and puts it back after, so it never outlives
# the request, and it answers only for that very user object and for today.
serving_scope: ContextVar[tuple[object, Scope] | None] = ContextVar("gridgis_serving_scope", default=None)


def scope_for(user, on=None) -> Scope:
    """The scope of `user` on the date `on` (today), by the installed resolver."""
    if on is None:
        serving = serving_scope.get()
        if serving is not None and serving[0] is user:
            return serving[1]
    if _resolver is None:
        raise RuntimeError("no scope resolver installed: is layers.accounts in INSTALLED_APPS?")
    return _resolver(user, on)


def request_scope(request) -> Scope:
    """The scope of a request's user (DRF's request.user, or Django's), worked out once per request."""
    django_request = getattr(request, "_request", request)
    user = getattr(request, "user", None)
    cached = getattr(django_request, "gridgis_scope", None)
    if cached is not None and cached[0] is user:
        return cached[1]
    scope = scope_for(user)
    django_request.gridgis_scope = (user, scope)
    if getattr(django_request, "gridgis_scope_served", False):
        serving_scope.set((user, scope))
    return scope
