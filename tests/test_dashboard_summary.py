"""The leader's dashboard reads its rates and patrol coverage from summaries the queue keeps.

The refresh jobs (layers/audits/tasks.py refresh_dashboard_rates, layers/inspections/tasks.py
refresh_patrol_coverage) write per-grid rows; the dashboard then shows them with the moment they were
read as of, and their figures are the live statements' for the same data. Until a period or week has
been summarised, the dashboard reads the live statement (a fresh install still shows figures).
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.gis.geos import LineString, MultiLineString
from django.test import Client
from django.utils import timezone

from layers.accounts.roles import scope_for
from layers.audits import assessment, dashboard
from layers.audits.models import GridRate, RatePeriod
from layers.grids.models import DutyKind, Level
from layers.inspections import selectors as inspection_selectors
from layers.inspections.models import CoverageWeek, GridCoverage
from office.templatetags.office import as_of
from tests.factories import make_duty, make_person, small_tree
from tests.factories_audits import add_steps, make_case
from tests.factories_estates import make_patrol
from tests.factories_incidents import make_category, make_user

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime.datetime(2026, 11, 20, 10, 0))  # 2026Q4, a Friday
LIMIT = datetime.timedelta(hours=76)


def hours(moment: datetime.datetime, n: float) -> datetime.datetime:
    return moment + datetime.timedelta(hours=n)


@pytest.fixture
def world():
    grids = small_tree()
    rubbish = make_category("0101")
    officer = make_person("网格员")
    make_duty(grids["g1"], DutyKind.OFFICER, officer)

    def case(grid, reported, *steps, status="registered"):
        made = make_case(rubbish, 105.41, 28.93, reported, grid=grid, final_due_at=reported + LIMIT, status=status)
        add_steps(made, *steps)
        return made

    def closed(grid, reported, close_after_hours):
        return case(
            grid,
            reported,
            ("register", hours(reported, 1)),
            ("dispatch", hours(reported, 2)),
            ("handle", hours(reported, 10)),
            ("close", hours(reported, close_after_hours)),
            status="closed",
        )

    this_quarter = timezone.make_aware(datetime.datetime(2026, 10, 20, 9, 0))
    last_quarter = timezone.make_aware(datetime.datetime(2026, 8, 3, 9, 0))
    closed(grids["g1"], this_quarter, 40)  # on time
    closed(grids["g1"], this_quarter, 100)  # late
    case(grids["g2"], this_quarter, ("register", hours(this_quarter, 1)))  # open and overdue
    closed(grids["g2"], last_quarter, 30)
    closed(grids["c2"], last_quarter, 120)  # another community: in the street's and district's figures
    patrol_at = hours(NOW, -30)  # this week (Monday 2026-11-16)
    make_patrol(
        officer,
        grids["g1"],
        patrol_at,
        track=MultiLineString(LineString((105.41, 28.89), (105.41, 28.96)), srid=4326),
    )
    grids["rubbish"], grids["officer"], grids["case"] = rubbish, officer, case
    grids["supervisor"] = scope_for(make_user("supervisor"))
    return grids


def figures(view: dashboard.Overview) -> dict:
    """What the dashboard shows of an area: its rates and coverage, and each child's."""
    return {
        "rates": view.rates,
        "coverage": view.coverage["share"],
        "children": {row["grid"].code: (row["rates"], row["coverage"]) for row in view.children},
    }


@pytest.mark.parametrize("area", ["district", "s1", "c1", "g1"])
def test_the_kept_summary_gives_the_live_statements_figures(world, area):
    grid = world[area]
    live = dashboard.overview(world["supervisor"], grid, now=NOW)
    assert live.rates_as_of == NOW and live.coverage_as_of == NOW  # nothing kept yet: read live
    assessment.refresh_dashboard_rates(now=NOW)
    inspection_selectors.summarise_coverage(now=NOW)
    kept = dashboard.overview(world["supervisor"], grid, now=NOW)
    assert figures(kept) == figures(live)
    assert kept.rates_as_of == NOW and kept.coverage_as_of == NOW


def test_the_refresh_fills_the_summary_and_the_dashboard_reads_it_not_the_cases(world):
    done = assessment.refresh_dashboard_rates(now=NOW)
    assert set(done) == {"2026Q4", "2026Q3"}
    kept = {
        (row.period, row.grid.code): (row.received, row.closed, row.on_time, row.overdue)
        for row in GridRate.objects.select_related("grid")
    }
    # Every level the dashboard shows, from the district to the unit grids, for both quarters.
    assert kept[("2026Q4", "510502")] == (3, 2, 1, 2)
    assert kept[("2026Q4", "510502001001001")] == (2, 2, 1, 1)
    assert kept[("2026Q4", "510502001001002")] == (1, 0, 0, 1)
    assert kept[("2026Q3", "510502001")] == (2, 2, 1, 1)
    assert kept[("2026Q3", "510502001002")] == (1, 1, 0, 1)
    assert not any(code.startswith("5105020010010010") for _, code in kept)  # no micro-grids
    assert RatePeriod.objects.get(period="2026Q3").complete
    assert not RatePeriod.objects.get(period="2026Q4").complete
    # A case reported after the refresh is not in the figures until the next one: the dashboard reads
    # the summary. A finished quarter is not computed again.
    later = hours(NOW, 1)
    world["case"](world["g1"], hours(NOW, -2), ("register", hours(NOW, -1)))
    view = dashboard.overview(world["supervisor"], world["c1"], now=later)
    assert view.rates["received"]["this"] == 3 and view.rates_as_of == NOW
    assert set(assessment.refresh_dashboard_rates(now=later)) == {"2026Q4"}
    view = dashboard.overview(world["supervisor"], world["c1"], now=later)
    assert view.rates["received"]["this"] == 4 and view.rates_as_of == later


def test_a_grid_that_lost_its_cases_loses_its_kept_row(world):
    assessment.refresh_dashboard_rates(now=NOW)
    assert GridRate.objects.filter(period="2026Q4", grid=world["g2"]).exists()
    from layers.incidents.models import Case

    Case.objects.filter(grid=world["g2"], reported_at__gte=timezone.make_aware(datetime.datetime(2026, 10, 1))).update(
        status="duplicate"
    )
    assert assessment.summarise_rates(period="2026Q4", now=NOW)["removed"] >= 1
    assert not GridRate.objects.filter(period="2026Q4", grid=world["g2"]).exists()


def test_the_coverage_refresh_keeps_this_weeks_coverage_of_every_level(world):
    summary = inspection_selectors.summarise_coverage(now=NOW)
    assert summary["week"] == "2026-11-16"
    week = CoverageWeek.objects.get()
    assert week.until == NOW and week.since == hours(NOW, -5 * 24)  # 5 whole days reach back past Monday 00:00
    levels = set(GridCoverage.objects.values_list("grid__level", flat=True))
    assert levels == {Level.STREET, Level.COMMUNITY, Level.GRID, Level.MICROGRID}
    m2 = GridCoverage.objects.get(grid=world["m2"])
    assert m2.patrols == 1 and 0 < m2.covered_m2 < m2.area_m2
    # A patrol walked after the refresh is not counted until the next one.
    make_patrol(
        world["officer"],
        world["g2"],
        hours(NOW, -2),
        track=MultiLineString(LineString((105.43, 28.89), (105.43, 28.96)), srid=4326),
    )
    before = dashboard.overview(world["supervisor"], world["c1"], now=NOW)
    inspection_selectors.summarise_coverage(now=NOW)
    after = dashboard.overview(world["supervisor"], world["c1"], now=NOW)
    g2 = {row["grid"].code: row["coverage"] for row in after.children}["510502001001002"]
    assert {row["grid"].code: row["coverage"] for row in before.children}["510502001001002"] == 0 < g2


def test_the_kept_coverage_keeps_to_the_readers_scope(world):
    leader = make_person("包片领导")
    make_duty(world["c1"], DutyKind.LEADER, leader)
    scope = scope_for(make_user(person=leader))
    inspection_selectors.summarise_coverage(now=NOW)
    kept = inspection_selectors.kept_coverage(now=NOW, code_prefix="510502", level=Level.GRID, scope=scope)
    live = inspection_selectors.patrol_coverage(
        code_prefix="510502", level=Level.GRID, days=5, until=NOW, scope_patterns=scope.code_patterns("grid")
    )
    assert set(kept.rows) == {row["code"] for row in live} == {"510502001001001", "510502001001002"}


def test_a_week_or_quarter_not_yet_summarised_falls_back_to_the_live_statement(world):
    # Last week's summary does not stand in for this week, nor last quarter's for this one.
    inspection_selectors.summarise_coverage(now=NOW - datetime.timedelta(days=7))
    assessment.summarise_rates(period="2026Q3", now=NOW)
    assert (
        inspection_selectors.kept_coverage(now=NOW, code_prefix="510502", level=Level.STREET, scope=world["supervisor"])
        is None
    )
    assert assessment.kept_rates(period="2026Q4", levels=[Level.DISTRICT], code_prefix="510502") is None
    view = dashboard.overview(world["supervisor"], world["district"], now=NOW)
    assert view.rates["received"] == {"this": 3, "last": 2}
    assert view.rates_as_of == NOW and view.coverage_as_of == NOW and view.coverage["share"] > 0


def test_the_dashboard_says_as_of_when_its_figures_were_read(world):
    read_at = timezone.now() - datetime.timedelta(minutes=7)
    assessment.refresh_dashboard_rates(now=read_at)
    inspection_selectors.summarise_coverage(now=read_at - datetime.timedelta(minutes=5))
    client = Client()
    client.force_login(make_user("supervisor"))
    page = client.get(f"/office/dashboard/?grid={world['c1'].code}")
    text = page.content.decode()
    rates_at = timezone.localtime(read_at).strftime("%H:%M")
    coverage_at = timezone.localtime(read_at - datetime.timedelta(minutes=5)).strftime("%H:%M")
    assert f"考核率截至 {rates_at} · 巡查覆盖率截至 {coverage_at}" in text  # zh-hans, the default
    wall = client.get(f"/office/wall/?grid={world['c1'].code}&part=figures")
    assert f"考核率截至 {rates_at}" in wall.content.decode()


def test_an_as_of_from_an_earlier_day_carries_its_date():
    yesterday = timezone.now() - datetime.timedelta(days=1)
    assert as_of(yesterday) == timezone.localtime(yesterday).strftime("%Y-%m-%d %H:%M")
    assert as_of(timezone.now()) == timezone.localtime().strftime("%H:%M")


@pytest.mark.django_db(transaction=True)  # the queue's worker reads committed rows on its own connection
def test_the_queue_runs_both_refreshes_on_their_schedules(world):
    from common.queue import app
    from layers.audits.tasks import refresh_dashboard_rates
    from layers.inspections.tasks import refresh_patrol_coverage
    from tests.queue_helpers import job_statuses, run_queued_jobs

    scheduled = {name: task.cron for (name, _), task in app.periodic_registry.periodic_tasks.items()}
    assert scheduled["layers.audits.tasks.refresh_dashboard_rates"] == "*/5 * * * *"
    assert scheduled["layers.inspections.tasks.refresh_patrol_coverage"] == "*/15 * * * *"
    refresh_dashboard_rates.defer(timestamp=0)  # one tick, as the worker's scheduler would defer it
    refresh_patrol_coverage.defer(timestamp=0)
    run_queued_jobs(["audits", "inspections"])
    assert set(job_statuses("refresh_dashboard_rates")) == {"succeeded"}
    assert set(job_statuses("refresh_patrol_coverage")) == {"succeeded"}
    this = assessment.quarter_of(timezone.localdate())
    assert RatePeriod.objects.filter(period__in=[this, assessment.previous_quarter(this)]).count() == 2
    assert CoverageWeek.objects.count() == 1 and GridCoverage.objects.exists()
