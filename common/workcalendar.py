"""Working time on China's official calendar: deadlines, time left, and loading the State Council's schedule.

The rule lives in PostgreSQL (common/migrations/0005_working_time.py) so that one case and millions
of cases get the same deadline: `gridgis_due(start, minutes, clock)` adds minutes of working time
(clock = 'working') or of clock time ('clock') to an instant. The models and the rule are explained on
common.models.WorkSchedule's block comment. This module is the Python side: one-off deadlines, the
package loader, and which years the calendar knows.
"""

from __future__ import annotations

import datetime

from django.db import connection, transaction
from django.dispatch import Signal
from django.utils import timezone

from common.models import CalendarDay, CalendarYear, Clock, DaySource
from common.prepared import execute_prepared

# Working time is tabulated from 2000 to 2099 (the migration's interval table); the API refuses
# anything that would run past it. A year holds about 250 working days × 7 h = 105,000 minutes.
FIRST_YEAR, LAST_YEAR = 2000, 2099
MAX_MINUTES = 5 * 366 * 24 * 60  # five years of clock time: far beyond any stage limit

DUE = "SELECT gridgis_due(%(start)s, %(minutes)s, %(clock)s)"
DUE_CHAIN = """
SELECT gridgis_due(gridgis_due(gridgis_due(gridgis_due(%(start)s, %(m1)s, %(c1)s), %(m2)s, %(c2)s),
                               %(m3)s, %(c3)s), %(m4)s, %(c4)s)
"""
# A new workflow's clock in one round trip (intake): when its first stage is due ($2 minutes in clock
# $3 from $1), its final deadline (the loop's four limits, $4 minutes in clocks $5, one after the
# other, as DUE_CHAIN) and the clock facts its answer shows (as CLOCK_FACTS, at $1). gridgis_due is
# `SELECT due FROM gridgis_due_at(...)`: called in FROM, the table function is inlined into this
# statement's plan, which a prepared statement keeps (common.prepared), where each call of the scalar
# wrapper is planned again.
NEW_WORKFLOW_CLOCK = """
SELECT first.due, s4.due,
       gridgis_time_left_seconds($1::timestamptz, first.due, $3::text),
       gridgis_deadline_on_calendar($1::timestamptz, first.due, $3::text)
FROM gridgis_due_at($1::timestamptz, $2::int, $3::text) first
CROSS JOIN gridgis_due_at($1::timestamptz, ($4::int[])[1], ($5::text[])[1]) s1
CROSS JOIN LATERAL gridgis_due_at(s1.due, ($4::int[])[2], ($5::text[])[2]) s2
CROSS JOIN LATERAL gridgis_due_at(s2.due, ($4::int[])[3], ($5::text[])[3]) s3
CROSS JOIN LATERAL gridgis_due_at(s3.due, ($4::int[])[4], ($5::text[])[4]) s4
"""
WORKING_SECONDS = "SELECT gridgis_working_seconds(%(a)s, %(b)s)"
CALENDAR_COMPLETE = "SELECT gridgis_calendar_complete(%(a)s, %(b)s)"


def _one(statement: str, params: dict):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone()[0]


def due(start: datetime.datetime, minutes: int, clock: str) -> datetime.datetime:
    """`start` plus `minutes` of working time or clock time (`clock` is a common.models.Clock)."""
    if clock not in Clock.values:
        raise ValueError(f"clock must be one of {', '.join(Clock.values)}, not {clock!r}")
    return _one(DUE, {"start": start, "minutes": minutes, "clock": clock})


def due_after_stages(start: datetime.datetime, stages: list[tuple[int, str]]) -> datetime.datetime:
    """`start` plus four (minutes, clock) limits one after the other: the deadline to close a case."""
    if len(stages) != 4:
        raise ValueError("four stage limits: register, dispatch, handle, verify")
    params = {"start": start}
    for index, (minutes, clock) in enumerate(stages, start=1):
        params[f"m{index}"], params[f"c{index}"] = minutes, clock
    return _one(DUE_CHAIN, params)


def new_workflow_clock(
    start: datetime.datetime, first: tuple[int, str], stages: list[tuple[int, str]]
) -> tuple[datetime.datetime, datetime.datetime, float, bool]:
    """A workflow started at `start`: when its first stage is due (`first`: minutes, clock), when it
    must be done (the four `stages` one after the other, as due_after_stages), and the seconds left
    and whether the deadline is on the calendar at `start` (as clock_facts), in one round trip."""
    if len(stages) != 4:
        raise ValueError("four stage limits: register, dispatch, handle, verify")
    for _, clock in (first, *stages):
        if clock not in Clock.values:
            raise ValueError(f"clock must be one of {', '.join(Clock.values)}, not {clock!r}")
    return execute_prepared(
        NEW_WORKFLOW_CLOCK,
        [start, *first, [minutes for minutes, _ in stages], [clock for _, clock in stages]],
    )


def working_seconds(a: datetime.datetime, b: datetime.datetime) -> float:
    """Working seconds from `a` to `b` (negative when `b` comes first)."""
    return _one(WORKING_SECONDS, {"a": a, "b": b})


def calendar_complete(a: datetime.datetime, b: datetime.datetime) -> bool:
    """Whether every year from `a` to `b` has its official schedule entered (else Monday-Friday is assumed)."""
    return _one(CALENDAR_COMPLETE, {"a": a, "b": b})


def missing_years(first: int, last: int) -> list[int]:
    """Years in first..last without an entered schedule."""
    known = set(CalendarYear.objects.filter(year__gte=first, year__lte=last).values_list("year", flat=True))
    return [year for year in range(first, last + 1) if year not in known]


def unentered_years(deadlines, now: datetime.datetime) -> list[int]:
    """The years from `now`'s to the latest of `deadlines` (None ignored) whose official schedule is
    not entered: the screens that show these deadlines say that they count Monday to Friday there."""
    first = timezone.localtime(now).year
    last = max((timezone.localtime(d).year for d in deadlines if d is not None), default=first)
    return missing_years(first, max(first, last))


# --- The State Council's schedule, from the chinesecalendar package ------------------------------------


def package_schedule() -> tuple[list[int], list[tuple[datetime.date, str, str]]]:
    """The years the installed chinesecalendar covers, and its days: (day, kind, name) per holiday and
    adjusted working day. Names are the package's English holiday names (e.g. "Spring Festival")."""
    from chinese_calendar import constants

    days = [(day, CalendarDay.Kind.HOLIDAY, str(name)) for day, name in constants.holidays.items()]
    days += [(day, CalendarDay.Kind.WORKDAY, str(name)) for day, name in constants.workdays.items()]
    years = sorted({day.year for day, _, _ in days})
    return years, sorted(days)


def load_package(calendar_year=CalendarYear, calendar_day=CalendarDay) -> dict[str, int]:
    """Enter the package's years and days; rows entered here (source local) are never overwritten.

    Takes the model classes so that a migration can pass its historical models. Idempotent. One
    INSERT per table, so the interval table is rebuilt once (by the trigger on the days).
    """
    years, days = package_schedule()
    with transaction.atomic():
        known = set(calendar_year.objects.filter(year__in=years).values_list("year", flat=True))
        new_years = [
            calendar_year(year=year, source=DaySource.PACKAGE, note="chinesecalendar")
            for year in years
            if year not in known
        ]
        calendar_year.objects.bulk_create(new_years)
        existing = set(calendar_day.objects.filter(day__in=[d for d, _, _ in days]).values_list("day", flat=True))
        new_days = [
            calendar_day(day=day, kind=kind, name=name[:100], source=DaySource.PACKAGE)
            for day, kind, name in days
            if day not in existing
        ]
        calendar_day.objects.bulk_create(new_days)
    return {"years": len(new_years), "days": len(new_days), "first_year": years[0], "last_year": years[-1]}


CLOCK_FACTS = """
SELECT gridgis_time_left_seconds(%(now)s, %(due)s, %(clock)s),
       gridgis_deadline_on_calendar(%(start)s, %(due)s, %(clock)s)
"""


def clock_facts(now, start, due_at, clock) -> tuple[float | None, bool]:
    """(seconds left until `due_at` in `clock`, whether the deadline is on the entered calendar), as
    layers.incidents.selectors.case_queryset() annotates them."""
    with connection.cursor() as cursor:
        cursor.execute(CLOCK_FACTS, {"now": now, "start": start, "due": due_at, "clock": clock})
        return cursor.fetchone()


# Sent (with `user`) when an administrator asks for the calendar to be applied to open cases; each layer
# with deadlines connects its recomputation in its AppConfig.ready() (common names no layer).
calendar_changed = Signal()

# What the admin's calendar screens explain (common/admin.py shows it above each list).
HOW_TO = [
    "工作日历 = 工作时间段 (每个工作日的上下班时间) + 国务院节假日安排. A day is a working day when a calendar "
    "day says 上班 (an adjusted working weekend day, 调休, or a local duty day), a day off when it says 放假, "
    "otherwise when it is Monday to Friday. Working-time deadlines count only the working periods of working days.",
    "Add a local holiday: Calendar days → Add, the date, kind 放假 holiday, a name, source 本地录入 local.",
    "Add a duty day (a Saturday or Sunday that is worked): Calendar days → Add, kind 上班 working day.",
    "Enter a whole year the chinesecalendar package does not know (the State Council publishes next year's "
    "schedule each November): add every 放假 day that falls on a weekday and every 上班 weekend day of the "
    "notice as calendar days, then add the year under Calendar years. Until the year is there, deadlines in "
    "it are counted Monday to Friday and every case shows deadline_on_calendar = false.",
    "`manage.py load_calendar` loads every year the installed chinesecalendar covers (never overwriting "
    "days entered here). Changes apply to new deadlines at once; the action 'apply the calendar to open "
    "cases' (or `manage.py apply_stage_limits`) recomputes the deadlines of open cases in one statement.",
]


BACK = """
SELECT CASE %(clock)s WHEN 'working' THEN gridgis_working_back(%(t)s, %(minutes)s * 60.0)
                      WHEN 'clock' THEN %(t)s::timestamptz - %(minutes)s * interval '1 minute' END
"""


def back(t: datetime.datetime, minutes: int, clock: str) -> datetime.datetime:
    """The latest instant from which `minutes` of `clock` time end by `t` (due(back(t, m), m) reaches t's
    working position): the start a stage would have had to be due at `t`."""
    if clock not in Clock.values:
        raise ValueError(f"clock must be one of {', '.join(Clock.values)}, not {clock!r}")
    return _one(BACK, {"t": t, "minutes": minutes, "clock": clock})
