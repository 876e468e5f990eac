"""Reads of the incidents layer: who answers for a new case, duplicates, lists of cases."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from layers.accounts.roles import visible
from layers.grids.models import Department, Grid, Level, Person
from layers.grids.selectors import responsibility_for_grid
from layers.incidents import sql
from layers.incidents.models import OPEN_STATUSES, Case, Category


def _ewkt(point: Point) -> str:
    return f"SRID=4326;POINT({point.x!r} {point.y!r})"


def _one(statement: str, params: dict):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone()


@dataclass
class Assignment:
    """Who answers for a case at a point, and which rule chose each party (`provenance`)."""

    grid: Grid | None = None
    district: Grid | None = None
    department: Department | None = None
    leader: Person | None = None
    officer: Person | None = None
    near_edge: bool = False
    edge_distance_m: float | None = None
    dead_corner: bool = False
    suggested_grid: Grid | None = None
    suggested_distance_m: float | None = None
    provenance: dict = field(default_factory=dict)

    @property
    def district_code(self) -> str:
        return self.district.code if self.district else ""


def dispatch_office(district: Grid | None) -> Department | None:
    """The district's dispatch office (指挥调度中心), the router of last resort."""
    if district is None:
        return None
    return (Department.objects.filter(kind=Department.Kind.DISPATCH_OFFICE, district=district)
            .defer("jurisdiction").order_by("code").first())


def nearest_district(point: Point) -> tuple[Grid | None, float | None]:
    """The district whose boundary is nearest to `point` (distance 0 when it covers it), in metres."""
    row = _one(sql.NEAREST_DISTRICT, {"point": _ewkt(point)})
    if row is None:
        return None, None
    return Grid.objects.defer("boundary").get(pk=row[0]), row[2]


def outside_service_area(point: Point) -> float | None:
    """The distance in metres to the nearest district if `point` is farther than GRIDGIS SERVICE_AREA_KM
    from every district (a swapped lon/lat, a wrong srs), else None. With no districts loaded, None."""
    row = _one(sql.NEAREST_DISTRICT, {"point": _ewkt(point)})
    if row is None or row[2] <= settings.GRIDGIS["SERVICE_AREA_KM"] * 1000:
        return None
    return row[2]


def nearest_grid(point: Point) -> tuple[Grid | None, float | None]:
    """The nearest unit grid or micro-grid (any level if there is none), with its distance in metres."""
    for min_level in (Level.GRID, Level.CITY):
        row = _one(sql.NEAREST_GRID, {"point": _ewkt(point), "min_level": int(min_level)})
        if row is not None:
            return Grid.objects.defer("boundary").get(pk=row[0]), row[1]
    return None, None


def route(category: Category, point: Point, district: Grid | None) -> tuple[Department | None, dict]:
    """The department for `category` at `point` and the rule that chose it.

    The most specific routing rule first (smallest jurisdiction covering the point), else the
    category's default department (the minor's, else its major's), else the district's dispatch office.
    """
    category_ids = [category.pk] + ([category.parent_id] if category.parent_id else [])
    row = _one(sql.ROUTING_RULE_AT, {"category_ids": category_ids, "category_id": category.pk,
                                     "point": _ewkt(point), "metric_srid": settings.GRIDGIS["METRIC_SRID"]})
    if row is not None:
        department = Department.objects.defer("jurisdiction").get(pk=row[1])
        return department, {"rule": "routing_rule", "routing_rule_id": row[0], "department": department.code,
                            "jurisdiction_m2": round(row[2], 1)}
    default = category.default_department or (category.parent.default_department if category.parent else None)
    if default is not None:
        return default, {"rule": "category_default", "category": category.code, "department": default.code}
    office = dispatch_office(district)
    if office is not None:
        return office, {"rule": "dispatch_office", "district": district.code, "department": office.code}
    return None, {"rule": "none", "district": district.code if district else None}


def assignment_at(point: Point, category: Category, on: datetime.date | None = None) -> Assignment:
    """Everything intake decides for a case at `point` (EPSG:4326): grid, department, leader, officer.

    The grid is `Grid.objects.smallest_covering`, the one rule; leader and officer walk up the tree
    (`responsibility_for_grid`). A point no grid covers is a dead corner: it goes to the dispatch
    office of the district with the nearest boundary, with the nearest grid suggested.
    """
    result = Assignment()
    grid = Grid.objects.smallest_covering(point)
    if grid is None:
        result.dead_corner = True
        result.district, district_m = nearest_district(point)
        result.suggested_grid, result.suggested_distance_m = nearest_grid(point)
        result.provenance["grid"] = {
            "rule": "dead_corner", "district": result.district_code or None,
            "district_distance_m": None if district_m is None else round(district_m, 2),
            "suggested_grid": result.suggested_grid.code if result.suggested_grid else None,
            "suggested_distance_m": (None if result.suggested_distance_m is None
                                     else round(result.suggested_distance_m, 2)),
        }
        office = dispatch_office(result.district)
        result.department = office
        result.provenance["department"] = (
            {"rule": "dispatch_office", "reason": "dead_corner", "district": result.district_code,
             "department": office.code} if office else {"rule": "none", "reason": "dead_corner"})
        result.provenance["leader"] = result.provenance["officer"] = {"rule": "none", "reason": "dead_corner"}
        return result

    responsibility = responsibility_for_grid(grid, on)
    result.grid = grid
    result.district = next((g for g in responsibility.chain if g.level == Level.DISTRICT), None)
    result.provenance["grid"] = {"rule": "smallest_covering", "code": grid.code, "level": grid.level_name,
                                 "version": grid.version}
    edge_m = _one(sql.EDGE_DISTANCE, {"point": _ewkt(point), "grid_id": grid.pk})[0]
    result.edge_distance_m = edge_m
    result.near_edge = edge_m <= settings.GRIDGIS["EDGE_METRES"]

    for role, duties in (("leader", responsibility.leaders), ("officer", responsibility.officers)):
        if duties:
            duty = duties[0]
            setattr(result, role, duty.person)
            result.provenance[role] = {"rule": "duty", "duty_id": duty.pk, "grid": duty.grid.code,
                                       "walked_up": duty.grid_id != grid.pk}
        else:
            result.provenance[role] = {"rule": "none", "reason": f"no {role} on the grid chain"}

    result.department, result.provenance["department"] = route(category, point, result.district)
    return result


def duplicate_of(category: Category, point: Point, now: datetime.datetime) -> Case | None:
    """The open case this report repeats: same category, within R metres, reported in the last D days.

    Locks the original (FOR UPDATE) so that concurrent "me too" counts add up.
    """
    since = now - datetime.timedelta(days=settings.GRIDGIS["DUPLICATE_DAYS"])
    row = _one(sql.DUPLICATE_CANDIDATE, {
        "category_id": category.pk, "open_statuses": list(OPEN_STATUSES), "since": since,
        "metres": settings.GRIDGIS["DUPLICATE_METRES"], "point": _ewkt(point),
    })
    return None if row is None else Case.objects.only("id", "status").get(pk=row[0])


def case_queryset() -> QuerySet[Case]:
    """Cases with what the API shows about them, in one query."""
    return (Case.objects.select_related("category", "grid", "department", "leader", "officer", "suggested_grid")
            .defer("grid__boundary", "department__jurisdiction", "suggested_grid__boundary"))


def case_detail(case_id: int) -> Case:
    return case_queryset().prefetch_related("trail__actor", "trail__photo", "photos").get(pk=case_id)


def visible_cases(scope, cases: QuerySet[Case] | None = None) -> QuerySet[Case]:
    """The cases (case_queryset() unless `cases` is given) that a user of `scope` may read: see
    layers.accounts.roles (grid subtree, department, own reports, or all)."""
    return visible("case", case_queryset() if cases is None else cases, scope)


def overdue(now: datetime.datetime | None = None, cases: QuerySet[Case] | None = None) -> QuerySet[Case]:
    """Open cases (of `cases`, else all) past their current stage's due time."""
    now = now or timezone.now()
    return (case_queryset() if cases is None else cases).filter(status__in=OPEN_STATUSES, due_at__lt=now)


def overdue_by_level(now: datetime.datetime | None = None, cases: QuerySet[Case] | None = None) -> dict[int, int]:
    """How many overdue cases (of `cases`, else all) sit on each rung of the escalation ladder
    (0 = not yet escalated)."""
    from django.db.models import Count

    rows = overdue(now, cases).order_by().values("escalation_level").annotate(n=Count("id"))
    return {row["escalation_level"]: row["n"] for row in rows}


def in_grid_subtree(queryset: QuerySet[Case], code: str) -> QuerySet[Case]:
    """Cases whose grid is `code` or below it (the code rule: a prefix match on an indexed column)."""
    return queryset.filter(Q(grid__code__startswith=code))
