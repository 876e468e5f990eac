"""Reads of the incidents layer: who answers for a new case, duplicates, lists of cases."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection
from django.db.models import F, FloatField, Func, Q, QuerySet
from django.db.models.functions import Now
from django.utils import timezone

from common.dbfuncs import DeadlineOnCalendar, TimeLeftSeconds
from common.prepared import execute_prepared
from common.scopes import Scope, visible
from common.spatial import GeographyDistance, GeographyDWithin
from layers.grids.models import Department, Grid, Level, Person
from layers.incidents import sql
from layers.incidents.models import OPEN_STATUSES, Case, Category, FollowLink, Photo, Status, TrailEntry


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
    return (
        Department.objects.filter(kind=Department.Kind.DISPATCH_OFFICE, district=district)
        .defer("jurisdiction")
        .order_by("code")
        .first()
    )


def nearest_district(point: Point) -> tuple[Grid | None, float | None]:
    """The district whose boundary is nearest to `point` (distance 0 when it covers it), in metres."""
    row = _one(sql.NEAREST_DISTRICT, {"point": _ewkt(point)})
    if row is None:
        return None, None
    return Grid.objects.defer("boundary").get(pk=row[0]), row[2]


def outside_service_area(point: Point) -> float | None:
    """The distance in metres to the nearest district if `point` is farther than GRIDGIS SERVICE_AREA_KM
    from every district (a swapped lon/lat, a wrong srs), else None. With no districts loaded, None."""
    (metres,) = execute_prepared(sql.SERVICE_AREA_DISTANCE, [point.x, point.y])
    if metres is None or metres <= settings.GRIDGIS["SERVICE_AREA_KM"] * 1000:
        return None
    return metres


def nearest_grid(point: Point) -> tuple[Grid | None, float | None]:
    """The nearest unit grid or micro-grid (any level if there is none), with its distance in metres."""
    for min_level in (Level.GRID, Level.CITY):
        row = _one(sql.NEAREST_GRID, {"point": _ewkt(point), "min_level": int(min_level)})
        if row is not None:
            return Grid.objects.defer("boundary").get(pk=row[0]), row[1]
    return None, None


def _loaded(model, values: dict | None):
    """A model instance from a row the intake statement returned: the fields given, the rest deferred
    (read from the database only if something asks for them)."""
    if values is None:
        return None
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(connection.alias, names, [values[name] for name in names])


def reportable_category(code: str) -> Category | None:
    """The active category `code`, with its major and the default departments of both loaded (not
    their jurisdictions), as intake reads them; None if there is none. One prepared statement
    (sql.REPORTABLE_CATEGORY), the instances built as select_related would build them."""
    row = execute_prepared(sql.REPORTABLE_CATEGORY, [code])
    if row is None:
        return None
    (found,) = row
    category, parent = _loaded(Category, found["category"]), _loaded(Category, found["parent"])
    category.default_department = _loaded(Department, found["default_department"])
    if parent is not None:
        parent.default_department = _loaded(Department, found["parent_default_department"])
    category.parent = parent
    return category


def intake_duplicate_since(now: datetime.datetime | None = None) -> datetime.datetime:
    """Intake links a report by itself to an open case of its category reported since then (GRIDGIS
    DUPLICATE_DAYS before `now`)."""
    return (now or timezone.now()) - datetime.timedelta(days=settings.GRIDGIS["DUPLICATE_DAYS"])


def intake_facts(point: Point, category: Category, now: datetime.datetime) -> tuple[Assignment, Case | None]:
    """Everything intake decides for a report at `point` (EPSG:4326): its assignment (grid,
    department, leader, officer, with the rule that chose each) and the open case it repeats, if any.

    One round trip (sql.INTAKE_FACTS, a prepared statement) for a point a grid covers. The grid is the
    one rule, grids_smallest_covering; leader and officer walk up the tree; the department is the most
    specific routing rule, else the category's default (the minor's, else its major's), else the
    district's dispatch office. A point no grid covers is a dead corner: it goes to the dispatch
    office of the district with the nearest boundary, with the nearest grid suggested.
    The duplicate is locked (FOR UPDATE) so that concurrent "me too" counts add up.
    """
    since = intake_duplicate_since(now)
    category_ids = [category.pk] + ([category.parent_id] if category.parent_id else [])
    facts = execute_prepared(
        sql.INTAKE_FACTS,
        [
            point.x,
            point.y,
            timezone.localdate(now),
            category.pk,
            category_ids,
            settings.GRIDGIS["METRIC_SRID"],
            list(OPEN_STATUSES),
            since,
            float(settings.GRIDGIS["DUPLICATE_METRES"]),
        ],
        generic_plan=True,
    )[0]
    original = _loaded(Case, facts["duplicate"])
    if facts["grid"] is None:
        return _dead_corner(point), original

    result = Assignment(grid=_loaded(Grid, facts["grid"]), district=_loaded(Grid, facts["district"]))
    grid = result.grid
    result.provenance["grid"] = {
        "rule": "smallest_covering",
        "code": grid.code,
        "level": grid.level_name,
        "version": grid.version,
    }
    result.edge_distance_m = facts["edge_m"]
    result.near_edge = facts["edge_m"] <= settings.GRIDGIS["EDGE_METRES"]
    for role in ("leader", "officer"):
        duty = facts[role]
        if duty is None:
            result.provenance[role] = {"rule": "none", "reason": f"no {role} on the grid chain"}
            continue
        setattr(result, role, _loaded(Person, {"id": duty["person_id"], "name": duty["person_name"]}))
        result.provenance[role] = {
            "rule": "duty",
            "duty_id": duty["duty_id"],
            "grid": duty["grid_code"],
            "walked_up": duty["grid_id"] != grid.pk,
        }

    rule, default, office = (
        facts["rule"],
        category.default_department or (category.parent.default_department if category.parent else None),
        facts["office"],
    )
    if rule is not None:
        result.department = _loaded(Department, rule)
        result.provenance["department"] = {
            "rule": "routing_rule",
            "routing_rule_id": rule["rule_id"],
            "department": rule["code"],
            "jurisdiction_m2": round(rule["area_m2"], 1),
        }
    elif default is not None:
        result.department = default
        result.provenance["department"] = {
            "rule": "category_default",
            "category": category.code,
            "department": default.code,
        }
    elif office is not None:
        result.department = _loaded(Department, office)
        result.provenance["department"] = {
            "rule": "dispatch_office",
            "district": result.district_code,
            "department": office["code"],
        }
    else:
        result.provenance["department"] = {"rule": "none", "district": result.district_code or None}
    return result, original


def _dead_corner(point: Point) -> Assignment:
    result = Assignment(dead_corner=True)
    result.district, district_m = nearest_district(point)
    result.suggested_grid, result.suggested_distance_m = nearest_grid(point)
    result.provenance["grid"] = {
        "rule": "dead_corner",
        "district": result.district_code or None,
        "district_distance_m": None if district_m is None else round(district_m, 2),
        "suggested_grid": result.suggested_grid.code if result.suggested_grid else None,
        "suggested_distance_m": (
            None if result.suggested_distance_m is None else round(result.suggested_distance_m, 2)
        ),
    }
    office = dispatch_office(result.district)
    result.department = office
    result.provenance["department"] = (
        {
            "rule": "dispatch_office",
            "reason": "dead_corner",
            "district": result.district_code,
            "department": office.code,
        }
        if office
        else {"rule": "none", "reason": "dead_corner"}
    )
    result.provenance["leader"] = result.provenance["officer"] = {"rule": "none", "reason": "dead_corner"}
    return result


def case_queryset() -> QuerySet[Case]:
    """Cases with what the API shows about them, in one query: time left in the clock of the stage's
    limit (working seconds for a working-time limit) and whether the deadline is on the entered calendar."""
    return with_clock_facts(
        Case.objects.select_related("category", "grid", "department", "leader", "officer", "suggested_grid").defer(
            "grid__boundary", "department__jurisdiction", "suggested_grid__boundary"
        )
    )


def with_clock_facts(cases: QuerySet[Case]) -> QuerySet[Case]:
    """`cases` with time_left_s (in the clock of the stage's limit) and deadline_on_calendar, computed
    in the query by the one rule (common/migrations' working-time functions)."""
    return cases.annotate(
        time_left_s=TimeLeftSeconds(Now(), F("due_at"), F("due_clock")),
        deadline_on_calendar=DeadlineOnCalendar(F("stage_started_at"), F("due_at"), F("due_clock")),
    )


def case_detail(case_id: int) -> Case:
    return case_queryset().prefetch_related("trail__actor", "trail__photo", "photos").get(pk=case_id)


def visible_cases(scope, cases: QuerySet[Case] | None = None) -> QuerySet[Case]:
    """The cases (case_queryset() unless `cases` is given) that a user of `scope` may read: see
    layers.accounts.roles (grid subtree, department, own reports, or all)."""
    return visible("case", case_queryset() if cases is None else cases, scope)


def published_cases() -> QuerySet[Case]:
    """The cases anyone may read through Open311: of the sources GRIDGIS OPEN311_PUBLIC_SOURCES lists
    (citizens' reports by default; officers', hotline and supervisors' are the administration's own
    work), and no dead corner (an exact point where no grid answers is for the audits, not the public)."""
    return Case.objects.filter(source__in=settings.GRIDGIS["OPEN311_PUBLIC_SOURCES"], dead_corner=False)


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


OVERLAY_CASE_LIMIT = 500


def open_cases_in_reach(*, reach, footprint, scope: Scope | None = None) -> tuple[list[dict], int]:
    """Open cases inside `reach` (a renovation footprint grown by the overlay's buffer), nearest to
    `footprint` first, at most OVERLAY_CASE_LIMIT of them, and how many there are: the incidents layer's
    part of the planners' overlay (registered in common.overlays). An indexed ST_Intersects on the
    case location; distance_m is 0 inside the footprint. With a `scope`, only the cases its reader may
    see under the "overlay_case" rule."""
    near = Case.objects.filter(status__in=OPEN_STATUSES, location__intersects=reach)
    if scope is not None:
        near = visible("overlay_case", near, scope)
    cases = near.annotate(
        distance_m=GeographyDistance("location", footprint),
        lon=Func("location", function="ST_X", output_field=FloatField()),
        lat=Func("location", function="ST_Y", output_field=FloatField()),
    ).order_by("distance_m", "id")
    rows = list(
        cases.values(
            "id",
            "status",
            "category__code",
            "category__name_zh",
            "address",
            "reported_at",
            "due_at",
            "escalation_level",
            "grid__code",
            "distance_m",
            "lon",
            "lat",
        )[:OVERLAY_CASE_LIMIT]
    )
    total = len(rows) if len(rows) < OVERLAY_CASE_LIMIT else cases.count()
    return [
        {
            "id": r["id"],
            "status": r["status"],
            "category": r["category__code"],
            "category_name": r["category__name_zh"],
            "address": r["address"],
            "reported_at": r["reported_at"],
            "due_at": r["due_at"],
            "escalation_level": r["escalation_level"],
            "grid": r["grid__code"],
            "distance_m": round(r["distance_m"], 1),
            "lon": r["lon"],
            "lat": r["lat"],
        }
        for r in rows
    ], total


# The tasks of a grid officer's day: reports to confirm on site (核实) and handled cases to check (核查).
OFFICER_TASK_STATUSES = (Status.CONFIRMING, Status.HANDLED)


def officer_tasks(scope, limit: int = 200) -> QuerySet[Case]:
    """The cases waiting for an officer of `scope` (their grids' subtree), the least time left first."""
    return (
        visible_cases(scope)
        .filter(status__in=OFFICER_TASK_STATUSES)
        .order_by(F("due_at").asc(nulls_last=True), "id")[:limit]
    )


def open_cases_near(
    point: Point, category: Category | None = None, scope=None, *, since: datetime.datetime | None = None
) -> QuerySet[Case]:
    """Open cases within intake's "me too" radius (GRIDGIS DUPLICATE_METRES) of `point`, nearest first,
    each with `distance_m` (metres on the spheroid): what a reporter is shown before sending ("already
    reported here?"). Only `category`'s if given; only those `scope` may read if given (the officer
    app), else any (the citizen page, which shows their public fields only); only those reported since
    `since` if given (intake_duplicate_since(): the ones intake would link to by itself). Without it,
    any age: a citizen who sees the same pothole reported a fortnight ago and still open may well
    choose to join it (report_case's `me_too_of`)."""
    metres = float(settings.GRIDGIS["DUPLICATE_METRES"])
    cases = visible_cases(scope, Case.objects.all()) if scope is not None else Case.objects.all()
    # The geometry index finds candidates within a radius in degrees that holds the circle in metres
    # (a degree of longitude is the shorter, 111,320·cos(lat) m, taken 0.01° poleward), as intake does;
    # the spheroid distance then keeps those within the circle.
    degrees = metres / (111320.0 * math.cos(math.radians(min(abs(point.y) + 0.01, 89.9))))
    cases = cases.filter(location__dwithin=(point, degrees), status__in=OPEN_STATUSES)
    if category is not None:
        cases = cases.filter(category=category)
    if since is not None:
        cases = cases.filter(reported_at__gte=since)
    return (
        cases.select_related("category")
        .annotate(distance_m=GeographyDistance("location", point))
        .filter(distance_m__lte=metres)
        .order_by("distance_m", "id")
    )


def me_too_original(point: Point, case_id: int) -> Case | None:
    """The case `case_id` locked for update if a report at `point` may join it ("me too"): it is open
    and within the radius of open_cases_near. None otherwise."""
    return (
        Case.objects.select_for_update(of=("self",))
        .filter(pk=case_id, status__in=OPEN_STATUSES)
        .filter(GeographyDWithin("location", point, settings.GRIDGIS["DUPLICATE_METRES"]))
        .first()
    )


def receiver(point: Point, category: Category | None = None, now: datetime.datetime | None = None) -> Assignment:
    """Who would receive a report at `point`, by intake's own rule, without creating anything.

    With a category: intake_facts, the very statement intake runs (grid, department and the rest).
    Without one the department is not known yet: the grid (the one rule) and the district's dispatch
    office, which routes whatever it receives. A point no grid covers gets the dead-corner answer:
    the dispatch office of the district with the nearest boundary.
    """
    now = now or timezone.now()
    if category is not None:
        return intake_facts(point, category, now)[0]
    grid = Grid.objects.smallest_covering(point)
    if grid is None:
        return _dead_corner(point)
    district = Grid.objects.defer("boundary").filter(code=grid.district_code, level=Level.DISTRICT).first()
    result = Assignment(grid=grid, district=district, department=dispatch_office(district))
    result.provenance["grid"] = {"rule": "smallest_covering", "code": grid.code, "level": grid.level_name}
    result.provenance["department"] = {"rule": "dispatch_office", "reason": "no category yet"}
    return result


# Trail actions a follower sees on the public timeline; the rest (escalation rungs, reassignments)
# is the office's own business.
# A return (回退) is now the dispatcher's approval of the department's request ("approve_return");
# "return" stays for the trails written before.
PUBLIC_ACTIONS = (
    "report",
    "register",
    "reject",
    "dispatch",
    "accept",
    "return",
    "approve_return",
    "handle",
    "verify",
    "fail",
    "close",
)


# What secrets.token_urlsafe makes (and the demo's fixed tokens use): anything else is no token, and
# never reaches the database (a NUL would not even be a valid query parameter there).
FOLLOW_TOKEN_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def follow_link(token: str) -> FollowLink | None:
    """The follow link with `token`, with its case, or None (wrong, mistyped or made-up tokens alike)."""
    if not token or len(token) > 64 or not FOLLOW_TOKEN_CHARACTERS.issuperset(token):
        return None
    return (
        FollowLink.objects.select_related("case__category", "case__grid", "case__department", "case__duplicate_of")
        .defer("case__grid__boundary", "case__department__jurisdiction")
        .filter(token=token)
        .first()
    )


def public_timeline(case: Case) -> QuerySet[TrailEntry]:
    """The entries of `case`'s trail that its public timeline shows, oldest first. A "me too"
    duplicate is followed through its original, where the work happens."""
    followed = case.duplicate_of if case.duplicate_of_id else case
    return (
        TrailEntry.objects.filter(case=followed, action__in=PUBLIC_ACTIONS)
        .only("id", "at", "action", "from_status", "to_status")
        .order_by("at", "id")
    )


def after_photos(case: Case) -> QuerySet[Photo]:
    """The photos of the fix (kind "after") of `case`, or of its original for a "me too" duplicate."""
    followed_id = case.duplicate_of_id or case.pk
    return Photo.objects.filter(case_id=followed_id, kind=Photo.Kind.AFTER).order_by("uploaded_at", "id")


def reporter_follow_link(case: Case) -> FollowLink | None:
    return FollowLink.objects.filter(case=case, for_reporter=True).order_by("id").first()


def reportable_categories() -> QuerySet[Category]:
    """The minor categories a report may name, with their majors, in code order (as Open311 lists)."""
    return Category.objects.filter(is_active=True, parent__isnull=False).select_related("parent").order_by("code")


def recent_categories(user, limit: int = 5) -> list[Category]:
    """The categories `user` reported most recently (newest first, each once)."""
    if not (user and user.is_authenticated):
        return []
    rows = Case.objects.filter(reporter=user).order_by("-reported_at").values_list("category_id", flat=True)[:100]
    seen: list[int] = []
    for category_id in rows:
        if category_id not in seen:
            seen.append(category_id)
        if len(seen) == limit:
            break
    by_id = Category.objects.in_bulk(seen)
    return [by_id[i] for i in seen if i in by_id]
