"""Quarterly assessment (考核) of grids, departments and leaders from the cases they answer for.

Supervisors rank the units that answer for cases each quarter, reward the best and publish a notice
(通报) of the worst with their overdue cases. The figures are computed in one SQL statement
(layers/audits/sql.py ASSESSMENT, where every rate is defined) over the incidents app's cases and
their trail; this module parses the period, passes the knobs from settings.GRIDGIS["ASSESSMENT"] and
shapes the result. Nothing is stored: an assessment is a read of the case history as it stood at
the period's end (or now, while the period runs), so asking again gives the same table. The one
exception is a cache, not a record: the leader's dashboard's rates per grid, which the queue keeps
(summarise_rates, refresh_dashboard_rates) with the same statement and the moment it read them as of.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from layers.audits import sql
from layers.audits.models import GridRate, RatePeriod
from layers.grids.models import CODE_LENGTH, Grid, Level
from layers.incidents.models import Case

UNITS = ("grid", "department", "leader")

_PERIOD = re.compile(r"^(?P<year>\d{4})(?:(?:Q(?P<quarter>[1-4]))|(?:-(?P<month>0[1-9]|1[0-2])))?$")


# The grids whose rates the leader's dashboard shows (an area from a district down, and its children
# above the micro-grids): the levels the kept summary covers.
SUMMARY_LEVELS = (Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID)


def quarter_of(day: datetime.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def previous_quarter(label: str) -> str:
    year, quarter = int(label[:4]), int(label[5])
    return f"{year - 1}Q4" if quarter == 1 else f"{year}Q{quarter - 1}"


@dataclass(frozen=True)
class Period:
    """An assessment period: a year (2026), a quarter (2026Q3) or a month (2026-07), in local time."""

    label: str
    start: datetime.datetime
    end: datetime.datetime

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _PERIOD.match((text or "").strip().upper())
        if not match:
            raise ValidationError({"period": f"{text!r} is not a period; use 2026Q3, 2026-07 or 2026"})
        year = int(match["year"])
        if match["quarter"]:
            first, months = 3 * (int(match["quarter"]) - 1) + 1, 3
        elif match["month"]:
            first, months = int(match["month"]), 1
        else:
            first, months = 1, 12
        zone = timezone.get_current_timezone()
        start = datetime.datetime(year, first, 1, tzinfo=zone)
        end_month = first + months
        end = datetime.datetime(year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1, tzinfo=zone)
        return cls(label=match.group(0), start=start, end=end)


@dataclass
class Assessment:
    """The table of one period and unit kind, ranked, with the notice list of the worst ranked units."""

    period: Period
    unit: str
    cutoff: datetime.datetime
    min_sample: int
    rows: list[dict] = field(default_factory=list)
    notice: list[dict] = field(default_factory=list)


def _config() -> dict:
    return settings.GRIDGIS["ASSESSMENT"]


def assess(
    *,
    period: str,
    unit: str = "grid",
    level: str = "grid",
    levels: Sequence[str] = (),
    district_code: str = "",
    notice_size: int | None = None,
    now: datetime.datetime | None = None,
) -> Assessment:
    """Compute the assessment of `unit`s over `period`; raises ValidationError naming the bad field.

    `level` chooses which grids are the units when unit is "grid" (unit grids by default; communities
    and streets are assessed the same way); `levels`, when given, several levels at once, each ranked
    among its own (one statement: the dashboard's area and its children). `notice_size` worst ranked
    units go on the notice list.
    """
    parsed = Period.parse(period)
    if unit not in UNITS:
        raise ValidationError({"unit": f"{unit!r} is not a unit; use one of {', '.join(UNITS)}"})
    try:
        grid_levels = [Level.from_name(name) for name in (levels or (level,))]
    except ValueError as exc:
        raise ValidationError({"level": str(exc)}) from exc
    if Level.CITY in grid_levels:
        raise ValidationError({"level": "assess districts or smaller grids"})
    if district_code and not Grid.objects.filter(code=district_code, level=Level.DISTRICT).exists():
        raise ValidationError({"district": f"no district with code {district_code!r}"})
    config = _config()
    notice_size = config["NOTICE_SIZE"] if notice_size is None else notice_size
    if not 0 <= notice_size <= 100:
        raise ValidationError({"notice": "must be between 0 and 100"})
    now = now or timezone.now()
    parameters = _parameters(parsed, unit=unit, grid_levels=grid_levels, district_code=district_code, now=now)
    cutoff = parameters["cutoff"]
    with connection.cursor() as cursor:
        cursor.execute(sql.ASSESSMENT, parameters)
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    result = Assessment(period=parsed, unit=unit, cutoff=cutoff, min_sample=config["MIN_SAMPLE"], rows=rows)
    result.notice = _notice(rows, notice_size)
    return result


def _parameters(
    period: Period, *, unit: str, grid_levels: Sequence[Level], district_code: str, now: datetime.datetime
) -> dict:
    """sql.ASSESSMENT's parameters: the period read as of its end, or `now` while it runs."""
    config = _config()
    weights = config["WEIGHTS"]
    deductions = config["DEDUCTIONS"]
    return {
        "start": period.start,
        "end": period.end,
        "cutoff": min(period.end, now),
        "unit": unit,
        "code_lens": sorted({CODE_LENGTH[grid_level] for grid_level in grid_levels}),
        "district": district_code or None,
        "min_sample": config["MIN_SAMPLE"],
        "deductions": [float(deductions[rung]) for rung in (1, 2, 3, 4)],
        "w_closure": weights["closure"],
        "w_on_time": weights["on_time"],
        "w_register": weights["register"],
        "w_dispatch": weights["accurate_dispatch"],
        "w_rework": weights["rework"],
    }


def _notice(rows: list[dict], size: int) -> list[dict]:
    """The `size` lowest-scoring ranked units (worst first), each with its overdue cases."""
    ranked = [row for row in rows if row["ranked"]]
    worst = sorted(ranked, key=lambda row: (-row["rank"], row["unit_code"] or ""))[:size]
    ids = [case_id for row in worst for case_id in row["overdue_case_ids"]]
    cases = {case.pk: case for case in Case.objects.filter(pk__in=ids).select_related("category", "grid")}
    notice = []
    for row in worst:
        overdue = [cases[i] for i in row["overdue_case_ids"] if i in cases]
        notice.append(
            {
                **row,
                "overdue_cases": [
                    {
                        "id": c.pk,
                        "category": c.category.code,
                        "category_name": c.category.name_zh,
                        "status": c.status,
                        "grid_code": c.grid.code if c.grid else "",
                        "address": c.address,
                        "reported_at": c.reported_at,
                        "final_due_at": c.final_due_at,
                    }
                    for c in overdue
                ],
            }
        )
    return notice


def summarise_rates(*, period: str, now: datetime.datetime | None = None) -> dict:
    """Keep `period`'s grid rates (every grid of SUMMARY_LEVELS in the city) as of `now`, in one
    statement (sql.ASSESSMENT_SUMMARY); returns the rows written and removed."""
    parsed = Period.parse(period)
    now = now or timezone.now()
    parameters = _parameters(parsed, unit="grid", grid_levels=SUMMARY_LEVELS, district_code="", now=now)
    parameters.update(period=parsed.label, refreshed_at=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(sql.ASSESSMENT_SUMMARY, parameters)
        written, removed, _ = cursor.fetchone()
    return {"written": written, "removed": removed}


def refresh_dashboard_rates(*, now: datetime.datetime | None = None) -> dict[str, dict]:
    """The dashboard's two quarters kept up to date: this one always, the last one until a summary of
    it reached its end (a finished quarter never changes, so it is computed once more at most)."""
    now = now or timezone.now()
    this = quarter_of(timezone.localdate(now))
    last = previous_quarter(this)
    done = {this: summarise_rates(period=this, now=now)}
    if not RatePeriod.objects.filter(period=last, complete=True).exists():
        done[last] = summarise_rates(period=last, now=now)
    return done


@dataclass(frozen=True)
class KeptRates:
    """A summarised period's rows for some grids, by grid code, and the moment they were read as of."""

    as_of: datetime.datetime
    rows: dict[str, dict]


def kept_rates(*, period: str, levels: Sequence[Level], code_prefix: str) -> KeptRates | None:
    """The kept rates of the grids of `levels` under `code_prefix` for `period` (the fields of an
    assessment row the dashboard reads), or None when the period has not been summarised yet."""
    summary = RatePeriod.objects.filter(period=period).first()
    if summary is None:
        return None
    rows = GridRate.objects.filter(period=period, grid__level__in=list(levels), grid__code__startswith=code_prefix)
    fields = ("received", "due", "closed", "on_time", "overdue", "on_time_rate", "closure_rate")
    return KeptRates(
        as_of=summary.cutoff,
        rows={row.pop("grid__code"): row for row in rows.values("grid__code", *fields)},
    )
