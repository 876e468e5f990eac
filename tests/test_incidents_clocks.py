"""Case deadlines on the working calendar: intake and each step, a category on the clock, escalation and
the overdue lists in working hours, time left in the API, an administrator's limit change applied to
open cases in one statement, the assessment's on-time rate, and the bulk path agreeing with the
single-case path on every generated case. Hand-computed times as in tests/test_calendar.py (08:30-12:00,
14:00-17:30; 2026 Spring Festival 15-23 February off, Saturday 14 February worked)."""

import datetime
import itertools

import pytest
from django.contrib.gis.geos import Point

from common import workcalendar
from layers.audits.assessment import assess
from layers.grids.models import Department, DutyKind
from layers.incidents import selectors, services
from layers.incidents.bulk import generate_cases
from layers.incidents.catalogue import load_categories
from layers.incidents.escalation import escalate
from layers.incidents.models import OPEN_STATUSES, Case, Category, TrailEntry
from tests.factories import make_duty, make_person, tree_with_departments
from tests.factories_incidents import CST, make_category, make_user
from tests.factories_incidents import china_time as at

pytestmark = pytest.mark.django_db
FRIDAY_16 = datetime.datetime(2026, 2, 13, 16, 0, tzinfo=CST)


@pytest.fixture
def world():
    workcalendar.load_package()
    grids = tree_with_departments()
    cgj = grids["cgj"]
    rubbish = make_category("0101", default_department=cgj, handle_hours=8)
    manhole = make_category(
        "0302",
        default_department=cgj,
        handle_hours=4,
        confirm_hours=1,
        **{f"{stage}_clock": "clock" for stage in services.LIMITED_STAGES},
    )
    officer = make_person("李网格员")
    make_duty(grids["g1"], DutyKind.OFFICER, officer)
    return {
        "grids": grids,
        "rubbish": rubbish,
        "manhole": manhole,
        "dispatcher": make_user("dispatcher", name="调度员"),
        "handler": make_user(department=cgj, name="城管队员"),
    }


_SITES = itertools.count()


def report(category, now):
    # Each report ~100 m from the last, so that none is linked to another as "me too".
    lon = 105.405 + 0.001 * (next(_SITES) % 10)
    case, _ = services.report_case(
        category=category,
        point=Point(lon, 28.93, srid=4326),
        input_point={"lon": lon, "lat": 28.93},
        input_srs="EPSG:4326",
        now=now,
    )
    return case


def step(world, case, action, who, now):
    return services.transition(
        case_id=case.pk, action=action, user=world[who], version=Case.objects.get(pk=case.pk).version, now=now
    )


def test_intake_and_each_step_count_working_time(world):
    case = report(world["rubbish"], FRIDAY_16)
    # Register within 2 working hours: 1.5 h on Friday, 0.5 h on the worked Saturday 14 February.
    assert case.due_at == at(2026, 2, 14, 9, 0) and case.due_clock == "working"
    # Register 2 + dispatch 2 + handle 8 + verify 24 working hours = 36 h: Friday 1.5, Saturday 7, then
    # 15-23 February off; Tuesday 24 to Thursday 26 7 h each (29.5), Friday 27 the last 6.5 h: 17:00.
    assert case.final_due_at == at(2026, 2, 27, 17, 0)
    case = step(world, case, "register", "dispatcher", at(2026, 2, 14, 11, 0))
    assert case.due_at == at(2026, 2, 14, 15, 0)  # 1 h before lunch, 1 h after: across the lunch break
    case = step(world, case, "dispatch", "dispatcher", at(2026, 2, 14, 16, 0))
    # 8 working hours to handle: 1.5 h on Saturday, then the holiday, 6.5 h on Tuesday 24th: 17:00.
    assert case.due_at == at(2026, 2, 24, 17, 0) and case.stage_started_at == at(2026, 2, 14, 16, 0)


def test_an_urgent_category_runs_on_the_clock(world):
    case = report(world["manhole"], FRIDAY_16)
    assert case.due_at == at(2026, 2, 13, 18, 0) and case.due_clock == "clock"
    case = step(world, case, "register", "dispatcher", at(2026, 2, 13, 23, 0))
    case = step(world, case, "dispatch", "dispatcher", at(2026, 2, 13, 23, 30))
    assert case.due_at == at(2026, 2, 14, 3, 30)  # 4 clock hours through the night


def test_confirm_on_site_has_a_stage_clock_like_the_others(world):
    # 核实: the rubbish category inherits the default confirm limit, 4 working hours: 1.5 h on Friday
    # and 2.5 h on the worked Saturday 14 February from 08:30. The manhole's own limit is 1 clock hour.
    working = step(world, report(world["rubbish"], at(2026, 2, 13, 15, 0)), "send_to_confirm", "dispatcher", FRIDAY_16)
    assert (working.status, working.due_clock) == ("confirming", "working")
    assert working.due_at == at(2026, 2, 14, 11, 0) and working.stage_started_at == FRIDAY_16
    clock = step(world, report(world["manhole"], at(2026, 2, 13, 15, 0)), "send_to_confirm", "dispatcher", FRIDAY_16)
    assert (clock.due_at, clock.due_clock) == (at(2026, 2, 13, 17, 0), "clock")
    # Late confirmations climb the ladder in their own clock: on Saturday 10:00 the working one is
    # not due yet, the clock one 17 hours late (rung 1 only: rung 2 is at 24 h).
    assert escalate(at(2026, 2, 14, 10, 0)) == {1: 1, 2: 0, 3: 0, 4: 0}
    assert Case.objects.get(pk=clock.pk).escalation_level == 1
    assert Case.objects.get(pk=working.pk).escalation_level == 0
    # An administrator's change of the confirm limit moves the open confirmations (one statement).
    Category.objects.filter(pk=world["rubbish"].pk).update(confirm_hours=2)
    services.apply_stage_limits(categories=[world["rubbish"]], now=at(2026, 2, 14, 8, 0))
    assert Case.objects.get(pk=working.pk).due_at == at(2026, 2, 14, 9, 0)  # Friday 1.5 h + Saturday 0.5 h


def test_escalation_counts_working_hours_late_for_working_limits(world):
    working = report(world["rubbish"], at(2026, 2, 13, 15, 30))  # due Friday 17:30 (2 working hours)
    clock = report(world["manhole"], at(2026, 2, 13, 15, 30))  # due Friday 17:30 (2 clock hours)
    assert working.due_at == clock.due_at == at(2026, 2, 13, 17, 30)
    # Tuesday 24 February 12:00 is 10.8 days later on the clock (past every rung: 0, 24, 72, 168 h), but
    # only 7 (Saturday 14th) + 3.5 = 10.5 working hours: the working case reaches rung 1 only.
    assert escalate(at(2026, 2, 24, 12, 0)) == {1: 2, 2: 1, 3: 1, 4: 1}
    working.refresh_from_db()
    clock.refresh_from_db()
    assert (working.escalation_level, clock.escalation_level) == (1, 4)
    # 24 working hours late: Saturday 7 + Tuesday 7 + Wednesday 7 + Thursday 26th 08:30-11:30 (3) = 24.
    assert escalate(at(2026, 2, 26, 11, 29))[2] == 0
    assert escalate(at(2026, 2, 26, 11, 30))[2] == 1
    entry = TrailEntry.objects.get(case=working, action="escalate", escalation_level=2)
    assert entry.data["clock"] == "working"


def test_the_overdue_list_uses_working_deadlines(world):
    working = report(world["rubbish"], FRIDAY_16)  # due Saturday 09:00
    clock = report(world["manhole"], FRIDAY_16)  # due Friday 18:00
    late = selectors.overdue(now=at(2026, 2, 14, 8, 45))
    assert list(late.values_list("pk", flat=True)) == [clock.pk]
    assert set(selectors.overdue(now=at(2026, 2, 14, 9, 1)).values_list("pk", flat=True)) == {working.pk, clock.pk}


def test_time_left_is_in_working_hours_where_the_limit_is(api, world, settings):
    working = report(world["rubbish"], at(2026, 12, 1, 9, 0))
    api.force_authenticate(world["dispatcher"])
    Case.objects.filter(pk=working.pk).update(due_at=at(2026, 12, 31, 17, 30), stage_started_at=at(2026, 12, 1, 9))
    props = api.get(f"/api/v1/incidents/{working.pk}/").json()["properties"]
    expected = workcalendar.working_seconds(datetime.datetime.now(CST), at(2026, 12, 31, 17, 30)) / 3600
    assert props["due_clock"] == "working" and props["deadline_on_calendar"] is True
    assert props["time_left_hours"] == pytest.approx(expected, abs=0.02)
    assert props["time_left_hours"] < 31 * 24 * 0.5  # far fewer than the clock hours left
    # A deadline in 2027, which the package does not cover, is flagged until the year is entered.
    Case.objects.filter(pk=working.pk).update(due_at=at(2027, 1, 4, 17, 30))
    listed = api.get("/api/v1/incidents/", {"status": "reported"}).json()["features"]
    assert [f["properties"]["deadline_on_calendar"] for f in listed if f["id"] == working.pk] == [False]


def test_a_changed_limit_applies_to_open_cases_in_one_statement(world, django_assert_max_num_queries):
    cases = [step(world, report(world["rubbish"], FRIDAY_16), "register", "dispatcher", FRIDAY_16) for _ in range(3)]
    for case in cases:
        step(world, case, "dispatch", "dispatcher", at(2026, 2, 14, 16, 0))
    untouched = report(world["rubbish"], FRIDAY_16)  # still waiting to be registered
    Category.objects.filter(pk=world["rubbish"].pk).update(handle_hours=16)
    # A savepoint, the categories, the one UPDATE ... INSERT statement, the release: no query per case.
    with django_assert_max_num_queries(4):
        changed = services.apply_stage_limits(
            categories=[world["rubbish"]], user=world["dispatcher"], now=at(2026, 2, 25)
        )
    assert changed == 3
    # 16 working hours from Saturday 16:00: 1.5 h, then Tuesday 24th 7 h, Wednesday 25th 7 h, 0.5 h on
    # Thursday 26th: 09:00.
    assert set(Case.objects.filter(pk__in=[c.pk for c in cases]).values_list("due_at", flat=True)) == {
        at(2026, 2, 26, 9, 0)
    }
    assert Case.objects.get(pk=untouched.pk).due_at == at(2026, 2, 14, 9, 0)
    entry = TrailEntry.objects.filter(case=cases[0], action="limits").get()
    assert entry.actor == world["dispatcher"] and entry.data["limit_minutes"] == 16 * 60
    # Applying again changes nothing and writes nothing.
    assert services.apply_stage_limits(categories=[world["rubbish"]]) == 0


def test_open_cases_from_before_the_clocks_take_their_stage_start_from_the_trail(world):
    # A database upgraded with open cases: no stage start, no clock, the old clock-hour deadline. The
    # one statement takes the stage start from the trail entry that moved the case into its status.
    case = step(world, report(world["rubbish"], FRIDAY_16), "register", "dispatcher", FRIDAY_16)
    case = step(world, case, "dispatch", "dispatcher", at(2026, 2, 14, 16, 0))
    never_moved = report(world["rubbish"], FRIDAY_16)
    old_due = at(2026, 2, 20, 0, 0)
    Case.objects.filter(pk__in=[case.pk, never_moved.pk]).update(stage_started_at=None, due_clock="", due_at=old_due)
    assert services.apply_stage_limits(now=at(2026, 2, 25)) == 2
    case.refresh_from_db()
    never_moved.refresh_from_db()
    # Dispatched Saturday 14th 16:00 (a worked day), 8 working hours to handle: 1.5 h on Saturday,
    # then Tuesday 24th 08:30-12:00 and 14:00-17:00.
    assert (case.stage_started_at, case.due_clock, case.due_at) == (
        at(2026, 2, 14, 16, 0),
        "working",
        at(2026, 2, 24, 17, 0),
    )
    # Still waiting to be registered: its stage began with the report (2 working hours from Friday 16:00).
    assert (never_moved.stage_started_at, never_moved.due_at) == (FRIDAY_16, at(2026, 2, 14, 9, 0))
    entry = TrailEntry.objects.get(case=case, action="limits")
    assert entry.data["stage_start_from_trail"] is True and entry.data["due_at"]["from"] is not None
    assert services.apply_stage_limits(now=at(2026, 2, 25)) == 0  # once filled, nothing more to do


def test_the_on_time_rate_counts_against_the_working_deadline(world):
    case = report(world["rubbish"], FRIDAY_16)  # final deadline Friday 27 February 17:00 (see above)
    Case.objects.filter(pk=case.pk).update(grid=world["grids"]["g1"])
    for action, moment in (
        ("register", at(2026, 2, 14, 9)),
        ("dispatch", at(2026, 2, 14, 10)),
        ("accept", at(2026, 2, 14, 11)),
    ):
        services.transition(
            case_id=case.pk,
            action=action,
            user=world["handler" if action == "accept" else "dispatcher"],
            version=Case.objects.get(pk=case.pk).version,
            now=moment,
        )
    # Closed on 26 February: 13 days after the report, far past 36 clock hours, within 36 working hours.
    TrailEntry.objects.create(
        case=case, at=at(2026, 2, 26, 10), action="close", from_status="verified", to_status="closed"
    )
    Case.objects.filter(pk=case.pk).update(status="closed", closed_at=at(2026, 2, 26, 10), due_at=None)
    rows = assess(period="2026Q1", unit="grid", now=at(2026, 4, 15)).rows
    row = next(r for r in rows if r["received"])
    assert (row["on_time"], row["on_time_rate"]) == (1, 1.0)


def test_bulk_and_single_case_paths_give_identical_deadlines(world):
    grids = world["grids"]
    load_categories(fixers={"urban_management": Department.objects.get(code="JY-CGJ"), "water": None})
    make_duty(grids["c1"], DutyKind.LEADER, make_person("王书记"))
    generate_cases(400, 60, anchor=at(2026, 3, 1, 12, 0))
    cases = list(Case.objects.select_related("category__parent").order_by("id"))
    assert len(cases) == 400
    open_cases = [c for c in cases if c.status in OPEN_STATUSES]
    assert open_cases and {c.due_clock for c in open_cases} == {"working", "clock"}
    for case in cases:
        assert case.final_due_at == services.final_due_after(case.category, case.reported_at), case.pk
    for case in open_cases:
        assert case.due_clock == services.stage_clock(case.category, case.status), case.pk
        assert case.due_at == services.due_after(case.category, case.status, case.stage_started_at), case.pk
