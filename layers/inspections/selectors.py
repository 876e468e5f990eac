"""Reads of the inspections layer: the patrol ledger, who missed a schedule, patrol coverage."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import CharField, Exists, F, OuterRef, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from common.dbfuncs import SEGMENT_DEGREES
from common.scopes import Scope, visible
from layers.grids.models import Duty, DutyKind, Grid, Level
from layers.inspections import sql
from layers.inspections.models import CheckIn, CoverageWeek, GridCoverage, InspectionPoint, Patrol, PatrolSchedule

# The grids whose coverage this week the leader's dashboard shows (a district's streets down to a
# unit grid's micro-grids): the levels the kept summary covers.
SUMMARY_LEVELS = (Level.STREET, Level.COMMUNITY, Level.GRID, Level.MICROGRID)


def points_list() -> QuerySet[InspectionPoint]:
    return InspectionPoint.objects.select_related(
        "category", "grid", "street", "responsible_leader", "task_group", "partner_department"
    )


def patrols_list() -> QuerySet[Patrol]:
    return Patrol.objects.select_related("officer", "grid", "schedule")


def check_ins_of(patrol: Patrol) -> QuerySet[CheckIn]:
    return patrol.check_ins.select_related("point").order_by("checked_at", "id")


def week_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """Monday 00:00 of `day`'s week and the next Monday, in the server's time zone."""
    monday = day - datetime.timedelta(days=day.weekday())
    start = timezone.make_aware(datetime.datetime.combine(monday, datetime.time()))
    return start, start + datetime.timedelta(days=7)


def week_so_far(now: datetime.datetime) -> tuple[datetime.datetime, int]:
    """This week's Monday 00:00 and the whole days of tracks that cover the week up to `now` (the
    dashboard's "patrol coverage this week")."""
    since, _ = week_bounds(timezone.localdate(now))
    return since, max(1, (now - since).days + 1)


def patrol_ledger(
    *,
    since: datetime.datetime,
    until: datetime.datetime,
    officer_id: int | None = None,
    grid_code: str | None = None,
    patrols: QuerySet[Patrol] | None = None,
) -> list[dict]:
    """The ledger (台账): per officer, grid and week, patrols, check-ins, metres walked and hours, over
    `patrols` (every patrol by default; the API passes the reader's visible ones)."""
    patrols = (Patrol.objects.all() if patrols is None else patrols).started_between(since, until)
    if officer_id is not None:
        patrols = patrols.filter(officer_id=officer_id)
    if grid_code:
        patrols = patrols.filter(grid__code__startswith=grid_code)
    rows = []
    for row in patrols.ledger():
        duration = row.pop("duration")
        rows.append(
            {
                "week_of": timezone.localtime(row.pop("week")).date(),
                "officer_id": row.pop("officer_id"),
                "officer": row.pop("officer__name"),
                "grid_code": row.pop("grid__code"),
                "grid_name": row.pop("grid__name"),
                "hours": round(duration.total_seconds() / 3600, 2) if duration else 0.0,
                **row,
            }
        )
    return rows


@dataclass
class ScheduleDay:
    """One scheduled day: which officers patrolled (walked) and which did not (missed)."""

    schedule: PatrolSchedule
    day: datetime.date
    in_force: bool
    upcoming: bool
    walked: list[Duty]
    missed: list[Duty]


def last_scheduled_day(schedule: PatrolSchedule, today: datetime.date) -> datetime.date:
    """The latest day on or before `today` that falls on the schedule's weekday."""
    return today - datetime.timedelta(days=(today.weekday() - schedule.weekday) % 7)


def schedule_day(schedule: PatrolSchedule, week_day: datetime.date | None = None, *, scope: Scope) -> ScheduleDay:
    """Who walked and who missed `schedule` in the week of `week_day` (default: its latest day so far).

    The officers are those with an officer duty, in force that day, in the schedule's grid or below
    it, and in a grid `scope` sees (an officer of one grid reading a community's schedule gets the
    officers of their own grid, not the whole community's with their phones); an officer walked if a
    patrol of theirs started that day (server's time zone), in any grid. A day still to come has
    nobody missing yet; today counts those who have not walked so far.
    """
    today = timezone.localdate()
    week_day = week_day or last_scheduled_day(schedule, today)
    monday = week_day - datetime.timedelta(days=week_day.weekday())
    day = monday + datetime.timedelta(days=schedule.weekday)
    in_force = schedule.starts_on <= day and (schedule.ends_on is None or day <= schedule.ends_on)
    if not in_force or day > today:
        return ScheduleDay(schedule, day, in_force, day > today, [], [])
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time()))
    patrolled = Patrol.objects.filter(
        officer=OuterRef("person"), started_at__gte=start, started_at__lt=start + datetime.timedelta(days=1)
    )
    duties = (
        Duty.objects.active(day)
        .filter(kind=DutyKind.OFFICER, grid__code__startswith=schedule.scope.code)
        .filter(grid__in=visible("grid", Grid.objects.all(), scope))
        .select_related("person", "grid")
        .annotate(walked=Exists(patrolled))
        .order_by("grid__code", "person__name", "id")
    )
    walked, missed = [], []
    for duty in duties:
        (walked if duty.walked else missed).append(duty)
    return ScheduleDay(schedule, day, True, False, walked, missed)


def coverage_radius_m() -> float:
    return float(settings.GRIDGIS.get("PATROL_COVERAGE_RADIUS_M", 30))


def patrol_coverage(
    *,
    code_prefix: str = "",
    level: int = Level.GRID,
    days: int | None = None,
    until: datetime.datetime | None = None,
    radius_m: float | None = None,
    scope_patterns: list[str] | None = None,
) -> list[dict]:
    """Per active grid of `level` under `code_prefix`: area, area within `radius_m` of a track of the
    last `days` days, and their ratio (one SQL statement, see sql.PATROL_COVERAGE). `scope_patterns`
    (Scope.code_patterns) keeps the grids a reader may see; None keeps all."""
    with connection.cursor() as cursor:
        cursor.execute(
            sql.PATROL_COVERAGE, _coverage_parameters([level], code_prefix, days, until, radius_m, scope_patterns)
        )
        columns = [c.name for c in cursor.description]
        rows = [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]
    for row in rows:
        row["level"] = Level(row["level"]).name.lower()
        row["share"] = row["covered_m2"] / row["area_m2"] if row["area_m2"] else 0.0
    return rows


def _coverage_parameters(levels, code_prefix, days, until, radius_m, scope_patterns) -> dict:
    days = int(settings.GRIDGIS.get("PATROL_COVERAGE_DAYS", 7)) if days is None else days
    until = until or timezone.now()
    return {
        "radius": coverage_radius_m() if radius_m is None else radius_m,
        "levels": [int(level) for level in levels],
        "since": until - datetime.timedelta(days=days),
        "until": until,
        "code_prefix": f"{code_prefix}%",
        "segment": SEGMENT_DEGREES,
        "scope_patterns": scope_patterns,
    }


def summarise_coverage(*, now: datetime.datetime | None = None) -> dict:
    """Keep this week's coverage so far of every grid of SUMMARY_LEVELS in the city, as of `now`, in
    one statement (sql.PATROL_COVERAGE_SUMMARY); returns the rows written and removed."""
    now = now or timezone.now()
    week_start, days = week_so_far(now)
    parameters = _coverage_parameters(SUMMARY_LEVELS, "", days, now, None, None)
    parameters.update(week=timezone.localdate(week_start), refreshed_at=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(sql.PATROL_COVERAGE_SUMMARY, parameters)
        written, removed, _ = cursor.fetchone()
    return {"week": parameters["week"].isoformat(), "written": written, "removed": removed}


@dataclass(frozen=True)
class KeptCoverage:
    """A summarised week's coverage rows for some grids, by grid code, and the moment they were read as of."""

    as_of: datetime.datetime
    rows: dict[str, dict]


def kept_coverage(*, now: datetime.datetime, code_prefix: str, level: int, scope: Scope) -> KeptCoverage | None:
    """The kept coverage this week (the week of `now`) of the grids of `level` under `code_prefix` that
    `scope` sees, shaped as patrol_coverage's rows; None when the week has not been summarised yet."""
    week_start, _ = week_so_far(now)
    week = CoverageWeek.objects.filter(week_start=timezone.localdate(week_start)).first()
    if week is None:
        return None
    grids = visible("grid", Grid.objects.filter(level=level, code__startswith=code_prefix), scope)
    rows = GridCoverage.objects.filter(week_start=week.week_start, grid__in=grids).values(
        "grid__code", "area_m2", "covered_m2", "patrols"
    )
    return KeptCoverage(as_of=week.until, rows={row.pop("grid__code"): row for row in rows})


def point_places() -> QuerySet[InspectionPoint]:
    """Active inspection points (markets, parks, school gates ...) as places (layers.grids.places): the
    name, the street it lies in, and its location. The people and departments answering for it stay out."""
    return InspectionPoint.objects.filter(is_active=True).annotate(
        place_kind=Value("inspection_point", output_field=CharField()),
        place_name=F("name"),
        place_context=Coalesce(F("street__name"), Value("")),
        place_point=F("location"),
    )
