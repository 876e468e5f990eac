"""Reads for a leader's dashboard (包片领导) and the command-centre wall: one area at a glance.

The area is a grid the reader may see (a leader's community, a supervisor's district ...); its
figures are split by its child grids, so a click on a child drills down (community → grid), and a
unit grid lists its open cases. Every figure comes from a rule that already has a home:

- open and overdue cases per child: one aggregate over the cases (the incidents layer's scope rule);
- on-time and closure rates of this quarter against the last: the quarterly assessment
  (layers/audits/assessment.py, where the rates are defined), of the area and of each child, as the
  queue last kept them per grid (assessment.refresh_dashboard_rates), read live for a quarter not
  summarised yet;
- cases on each rung of the escalation ladder: the overdue ones (incidents.selectors.overdue's rule)
  by escalation level, from the same aggregate as the open counts;
- hotspots: the hotspot findings of the latest finished audit run that covers the area;
- patrol coverage this week: inspections.selectors.patrol_coverage of the children, likewise as the
  queue last kept it (inspections.selectors.summarise_coverage), live for a week not summarised yet.

Kept figures carry the moment they were read as of (Overview.rates_as_of, coverage_as_of), which
the screens show: a leader should know how fresh a command-centre figure is.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field

from django.contrib.gis.db.models.functions import AsGeoJSON
from django.db.models import Count, Q
from django.db.models.functions import Substr
from django.utils import timezone

from common.dbfuncs import SimplifyPreserveTopology
from layers.accounts.roles import visible
from layers.audits.assessment import assess, kept_rates, previous_quarter, quarter_of
from layers.audits.models import AuditRun, Finding, Kind
from layers.grids.models import CODE_LENGTH, Grid, Level
from layers.incidents import worklist
from layers.incidents.models import OPEN_STATUSES
from layers.incidents.selectors import visible_cases
from layers.inspections.selectors import kept_coverage, patrol_coverage, week_so_far

# Child outlines on the dashboard map are simplified to about 10 m: enough to see and click.
MAP_TOLERANCE_DEGREES = 0.0001


def area_roots(scope) -> list[Grid]:
    """The areas a reader's dashboard opens on: their duty grids (leader, officer), else the districts."""
    grids = Grid.objects.defer("boundary").order_by("code")
    if scope.grid_prefixes:
        return list(grids.filter(code__in=scope.grid_prefixes))
    return list(visible("grid", grids.filter(level=Level.DISTRICT, is_active=True), scope))


def visible_area(scope, code: str) -> Grid | None:
    """The grid `code` if the reader may see it (None: the screen answers 404)."""
    return visible("grid", Grid.objects.defer("boundary"), scope).filter(code=code).first()


@dataclass
class Overview:
    """One area's figures; `children` are the rows to drill into, `cases` the open cases of a unit grid."""

    area: Grid
    period: str
    last_period: str
    totals: dict = field(default_factory=dict)
    rates: dict = field(default_factory=dict)
    children: list[dict] = field(default_factory=list)
    ladder: dict[int, int] = field(default_factory=dict)
    hotspots: list[Finding] = field(default_factory=list)
    coverage: dict = field(default_factory=dict)
    # When the rates and the coverage were read: the kept summary's moment, or now when read live.
    rates_as_of: datetime.datetime | None = None
    coverage_as_of: datetime.datetime | None = None
    cases: list = field(default_factory=list)
    map: dict = field(default_factory=dict)


def _rates(
    period: str, levels: list[Level], area: Grid, now: datetime.datetime
) -> tuple[dict[str, dict], datetime.datetime]:
    """Assessment rows of the grids of `levels` inside `area` for `period`, by grid code, and the
    moment they were read as of: the kept summary (refreshed by the queue) when the period has one,
    else the assessment itself, one statement for the area and its children (their codes differ in
    length, so they never collide), without the notice list the dashboard does not show."""
    if not levels:
        return {}, now
    kept = kept_rates(period=period, levels=levels, code_prefix=area.code)
    if kept is not None:
        return kept.rows, kept.as_of
    table = assess(
        period=period,
        unit="grid",
        levels=[level.name.lower() for level in levels],
        district_code=area.code[:6],
        notice_size=0,
        now=now,
    )
    rows = {row["unit_code"]: row for row in table.rows if row["unit_code"] and row["unit_code"].startswith(area.code)}
    return rows, table.cutoff


def _coverage(scope, area: Grid, level: Level, now: datetime.datetime) -> tuple[dict[str, dict], datetime.datetime]:
    """This week's patrol coverage of the grids of `level` in `area` that `scope` sees, by grid code,
    and the moment it was measured as of: the kept summary (refreshed by the queue) when the week has
    one, else the coverage statement itself."""
    kept = kept_coverage(now=now, code_prefix=area.code, level=level, scope=scope)
    if kept is not None:
        for row in kept.rows.values():
            row["share"] = row["covered_m2"] / row["area_m2"] if row["area_m2"] else 0.0
        return kept.rows, kept.as_of
    _, days = week_so_far(now)
    rows = patrol_coverage(
        code_prefix=area.code, level=level, days=days, until=now, scope_patterns=scope.code_patterns("grid")
    )
    return {row["code"]: row for row in rows}, now


def _rate_pair(this: dict | None, last: dict | None) -> dict:
    def pick(row, name):
        return None if row is None else row.get(name)

    return {
        name: {"this": pick(this, name), "last": pick(last, name)}
        for name in ("on_time_rate", "closure_rate", "received", "overdue")
    }


def overview(scope, area: Grid, *, now: datetime.datetime | None = None) -> Overview:
    """The dashboard of `area` as `scope` sees it (the caller has checked `area` is visible)."""
    now = now or timezone.now()
    period = quarter_of(timezone.localdate(now))
    last_period = previous_quarter(period)
    result = Overview(area=area, period=period, last_period=last_period)
    cases = visible_cases(scope).filter(grid__code__startswith=area.code)
    open_cases = cases.filter(status__in=OPEN_STATUSES)

    child_level = Level(min(area.level + 1, Level.MICROGRID))
    is_leaf_view = area.level >= Level.GRID
    child_length = CODE_LENGTH[child_level]
    late = Q(due_at__lt=now)
    # One pass over the area's open cases, by child and escalation rung: the per-child counts, the
    # totals and the ladder are sums of its rows. A case on the area's own grid is keyed by the area's
    # code, so it counts in the totals and in no child; "overdue" is the incidents layer's rule (open,
    # past the stage's due time: selectors.overdue), which the ladder counts per rung.
    per_child: dict[str, dict[str, int]] = {}
    result.totals = {"open": 0, "overdue": 0}
    result.ladder = dict.fromkeys(range(5), 0)
    for row in (
        open_cases.order_by()
        .annotate(child=Substr("grid__code", 1, child_length))
        .values("child", "escalation_level")
        .annotate(open=Count("id"), overdue=Count("id", filter=late))
    ):
        counts = per_child.setdefault(row["child"], {"open": 0, "overdue": 0})
        for name in ("open", "overdue"):
            counts[name] += row[name]
            result.totals[name] += row[name]
        result.ladder[row["escalation_level"]] = result.ladder.get(row["escalation_level"], 0) + row["overdue"]

    children = list(
        Grid.objects.defer("boundary")
        .filter(parent=area, is_active=True)
        .annotate(outline=AsGeoJSON(SimplifyPreserveTopology("boundary", MAP_TOLERANCE_DEGREES), precision=6))
        .order_by("code")
    )
    # The area's rates (from a district down) and its children's (above the unit grids), per period.
    levels = [Level(area.level)] if area.level >= Level.DISTRICT else []
    if children and not is_leaf_view:
        levels.append(child_level)
    this_rates, result.rates_as_of = _rates(period, levels, area, now)
    last_rates, _ = _rates(last_period, levels, area, now)
    result.rates = _rate_pair(this_rates.get(area.code), last_rates.get(area.code))
    child_this, child_last = this_rates, last_rates
    since, _ = week_so_far(now)
    coverage_rows, result.coverage_as_of = _coverage(scope, area, Level(child_level if children else area.level), now)
    for child in children:
        counts = per_child.get(child.code, {})
        result.children.append(
            {
                "grid": child,
                "open": counts.get("open", 0),
                "overdue": counts.get("overdue", 0),
                "rates": _rate_pair(child_this.get(child.code), child_last.get(child.code)),
                "coverage": (coverage_rows.get(child.code) or {}).get("share"),
            }
        )
    result.children.sort(key=lambda row: (-row["overdue"], -row["open"], row["grid"].code))
    covered = sum(row["covered_m2"] for row in coverage_rows.values())
    total = sum(row["area_m2"] for row in coverage_rows.values())
    result.coverage = {"share": covered / total if total else None, "since": since, "grids": len(coverage_rows)}
    result.hotspots = hotspots(area)
    if is_leaf_view or not children:
        page = worklist.work_page(scope, worklist.WorkFilter(grid=area.code), now=now)
        result.cases = page.cases
    result.map = _map_features(result, now)
    return result


def _map_features(result: Overview, now: datetime.datetime) -> dict:
    """The dashboard map: each child grid's outline with its counts, and a unit grid's open cases."""
    features = [
        {
            "type": "Feature",
            "geometry": json.loads(row["grid"].outline) if row["grid"].outline else None,
            "properties": {
                "code": row["grid"].code,
                "name": row["grid"].name,
                "open": row["open"],
                "overdue": row["overdue"],
            },
        }
        for row in result.children
    ]
    features += [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [case.location.x, case.location.y]},
            "properties": {"case": case.pk, "time_left": worklist.time_left_of(case, now)},
        }
        for case in result.cases
    ]
    return {"type": "FeatureCollection", "features": features}


def hotspots(area: Grid, *, limit: int = 10) -> list[Finding]:
    """Hotspot findings inside `area` from the latest finished audit run that looked for hotspots there
    (a whole-city run or one of the area's district), largest first."""
    runs = AuditRun.objects.filter(status=AuditRun.Status.DONE).filter(
        Q(district_code="") | Q(district_code=area.code[:6])
    )
    run = next((r for r in runs.order_by("-finished_at", "-id")[:20] if Kind.HOTSPOT in r.kinds), None)
    if run is None:
        return []
    return list(
        Finding.objects.filter(run=run, kind=Kind.HOTSPOT, grid_code__startswith=area.code).order_by("-measure", "id")[
            :limit
        ]
    )
