"""Requests that change a clock (extension, return, suspension, void) and supervision orders: who may
ask and who may decide, 409 for a refused transition or a stale version, every request and decision in
the trail, and the clock itself (deadlines hand-computed as in tests/test_calendar.py: 08:30-12:00,
14:00-17:30; 2026 Spring Festival 15-23 February off, Saturday 14 February worked)."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.contrib.gis.geos import Point

from common import workcalendar
from layers.audits.assessment import assess
from layers.grids.models import DutyKind
from layers.incidents import requests, selectors, services
from layers.incidents.escalation import escalate, escalate_orders
from layers.incidents.models import Case, ClockRequest, TrailEntry
from tests.factories import make_duty, make_person, tree_with_departments
from tests.factories_incidents import china_time as at
from tests.factories_incidents import make_category, make_user

pytestmark = pytest.mark.django_db
URL = "/api/v1/incidents/"


@pytest.fixture
def world():
    workcalendar.load_package()
    grids = tree_with_departments()
    cgj = grids["cgj"]
    other = grids["water"]
    category = make_category("0101", default_department=cgj, handle_hours=8)
    make_duty(grids["g1"], DutyKind.OFFICER, make_person("李网格员"))
    chief = make_user("dispatcher", name="值班长")
    chief.groups.add(Group.objects.get_or_create(name="duty_chief")[0])
    return {
        "category": category,
        "dispatcher": make_user("dispatcher", name="调度员"),
        "chief": chief,
        "supervisor": make_user("supervisor", name="督查员"),
        "handler": make_user(department=cgj, name="城管队员"),
        "other_handler": make_user(department=other, name="水务队员"),
    }


def handling_case(world):
    """A case accepted by the department on Thursday 12 February at 10:30 with 8 working hours to handle:
    1.5 h before lunch and 3.5 h after on Thursday, 3 h on Friday morning: due Friday 13 February 11:30."""
    case, _ = services.report_case(
        category=world["category"],
        point=Point(105.41, 28.93, srid=4326),
        input_point={"lon": 105.41, "lat": 28.93},
        input_srs="EPSG:4326",
        now=at(2026, 2, 12, 9, 0),
    )
    for action, who, moment in (
        ("register", "dispatcher", at(2026, 2, 12, 9, 30)),
        ("dispatch", "dispatcher", at(2026, 2, 12, 10, 0)),
        ("accept", "handler", at(2026, 2, 12, 10, 30)),
    ):
        case = services.transition(case_id=case.pk, action=action, user=world[who], version=case.version, now=moment)
    assert case.due_at == at(2026, 2, 13, 11, 30)
    return case


def version(case) -> int:
    return Case.objects.get(pk=case.pk).version


def post(api, user, path, body):
    api.force_authenticate(user)
    return api.post(f"{URL}{path}", body, format="json")


def test_an_extension_is_asked_by_the_handler_and_granted_by_the_dispatcher(api, world, settings):
    settings.GRIDGIS = {**settings.GRIDGIS, "MAX_EXTENSIONS": 1}
    case = handling_case(world)
    body = {"kind": "extension", "reason": "等待配件", "wanted_due_at": "2026-02-27T17:00:00+08:00"}
    assert post(api, world["dispatcher"], f"{case.pk}/requests/", {**body, "version": version(case)}).status_code == 403
    stale = post(api, world["handler"], f"{case.pk}/requests/", {**body, "version": version(case) - 1})
    assert stale.status_code == 409 and stale.json()["detail"].startswith("version:")
    asked = post(api, world["handler"], f"{case.pk}/requests/", {**body, "version": version(case)})
    assert asked.status_code == 201, asked.json()
    rid = asked.json()["id"]
    again = post(api, world["handler"], f"{case.pk}/requests/", {**body, "version": version(case)})
    assert again.status_code == 409 and "pending extension" in again.json()["detail"]
    assert post(api, world["handler"], f"requests/{rid}/approve/", {"version": version(case)}).status_code == 403
    refused = post(api, world["dispatcher"], f"requests/{rid}/refuse/", {"version": version(case)})
    assert refused.status_code == 400 and refused.json()["detail"].startswith("note:")
    granted = post(
        api,
        world["dispatcher"],
        f"requests/{rid}/approve/",
        {"version": version(case), "due_at": "2026-02-26T17:00:00+08:00", "note": "同意延期"},
    )
    assert granted.status_code == 200, granted.json()
    assert granted.json()["state"] == "approved" and granted.json()["decided_by_name"] == "调度员"
    case.refresh_from_db()
    assert case.due_at == at(2026, 2, 26, 17, 0) and case.extension_count == 1
    twice = post(api, world["dispatcher"], f"requests/{rid}/approve/", {"version": version(case)})
    assert twice.status_code == 409 and "already approved" in twice.json()["detail"]
    # The most extensions allowed (1 here): a second is refused with a message.
    more = post(api, world["handler"], f"{case.pk}/requests/", {**body, "version": version(case)})
    assert more.status_code == 409 and "MAX_EXTENSIONS" in more.json()["detail"]
    # Re-applying the category's limits keeps the extension (the stage start is dated back from it).
    assert services.apply_stage_limits(categories=[world["category"]]) == 0
    trail = list(case.trail.filter(action__endswith="extension").values_list("action", "actor_name", "note"))
    assert trail == [("ask_extension", "城管队员", "等待配件"), ("approve_extension", "调度员", "同意延期")]


def test_a_return_now_waits_for_the_dispatchers_approval(api, world):
    case = handling_case(world)
    assert post(api, world["handler"], f"{case.pk}/return/", {"version": version(case), "note": "x"}).status_code == 404
    asked = post(
        api,
        world["handler"],
        f"{case.pk}/requests/",
        {"kind": "return", "reason": "不是我局职责", "version": version(case)},
    )
    assert asked.status_code == 201
    assert Case.objects.get(pk=case.pk).status == "handling"  # nothing moves before the approval
    approved = post(api, world["dispatcher"], f"requests/{asked.json()['id']}/approve/", {"version": version(case)})
    assert approved.status_code == 200
    case.refresh_from_db()
    assert case.status == "registered" and case.due_clock == "working"
    entry = case.trail.get(action="approve_return")
    assert entry.from_status == "handling" and entry.data["returned_by"] == "JY-CGJ"
    # The assessment's accurate-dispatch rate counts the approved return (the API steps are dated today,
    # so the year 2026 is assessed).
    (row,) = assess(period="2026", unit="department", now=at(2027, 1, 15)).rows
    assert (row["dispatched"], row["returned"]) == (1, 1)


def test_a_suspension_stops_the_clock_over_the_holiday_and_resumes_with_the_time_left(api, world):
    case = handling_case(world)  # due Friday 13 February 11:30
    made = requests.ask(
        case_id=case.pk,
        kind="suspension",
        user=world["handler"],
        version=version(case),
        reason="需财政资金",
        review_on=datetime.date(2026, 2, 20),
        now=at(2026, 2, 13, 10, 45),
    )
    requests.decide(
        request_id=made.pk, approve=True, user=world["dispatcher"], version=version(case), now=at(2026, 2, 13, 11, 0)
    )
    case.refresh_from_db()
    assert case.status == "suspended" and case.due_at is None
    assert case.suspended_left_s == 30 * 60 and case.review_on == datetime.date(2026, 2, 20)
    # Off the overdue lists and the ladder while suspended, on the suspended list.
    assert not selectors.overdue(now=at(2026, 2, 24, 12, 0)).filter(pk=case.pk).exists()
    assert escalate(at(2026, 2, 24, 12, 0))[1] == 0
    api.force_authenticate(world["dispatcher"])
    listed = api.get(f"{URL}suspended/", {"review_due": "true"}).json()["features"]
    assert [f["id"] for f in listed] == [case.pk]
    # Reviewed when the date comes, once.
    assert requests.review_suspensions(at(2026, 2, 19, 23, 0)) == 0
    assert requests.review_suspensions(at(2026, 2, 20, 8, 0)) == 1
    assert requests.review_suspensions(at(2026, 2, 21, 8, 0)) == 0
    # Resumed on Tuesday 24 February 09:00 (15-23 February off): the 30 working minutes it had left.
    case = requests.resume_case(
        case_id=case.pk, user=world["dispatcher"], version=version(case), now=at(2026, 2, 24, 9, 0)
    )
    assert case.status == "handling" and case.due_at == at(2026, 2, 24, 9, 30)
    actions = list(case.trail.order_by("at", "id").values_list("action", flat=True))
    assert actions[-4:] == ["ask_suspension", "approve_suspension", "review_due", "resume"]
    refused = post(api, world["dispatcher"], f"{case.pk}/resume/", {"version": version(case)})
    assert refused.status_code == 409 and "not suspended" in refused.json()["detail"]


def test_a_void_needs_the_duty_chief_and_stays_in_the_trail(api, world):
    case = handling_case(world)
    body = {"kind": "void", "reason": "重复上报", "version": version(case)}
    assert post(api, world["handler"], f"{case.pk}/requests/", body).status_code == 403
    asked = post(api, world["dispatcher"], f"{case.pk}/requests/", body)
    assert asked.status_code == 201
    rid = asked.json()["id"]
    refused = post(api, world["dispatcher"], f"requests/{rid}/approve/", {"version": version(case)})
    assert refused.status_code == 403 and "duty chief" in refused.json()["detail"]
    approved = post(api, world["chief"], f"requests/{rid}/approve/", {"version": version(case), "note": "核实重复"})
    assert approved.status_code == 200
    case.refresh_from_db()
    assert case.status == "voided" and case.closed_at is not None and case.due_at is None
    assert list(case.trail.filter(action__endswith="void").values_list("action", "actor_name")) == [
        ("ask_void", "调度员"),
        ("approve_void", "值班长"),
    ]
    # Counted as voided, not as open or late, in the lists and in the assessment.
    assert not selectors.overdue(now=at(2026, 3, 1)).filter(pk=case.pk).exists()
    (row,) = assess(period="2026", unit="department", now=at(2027, 1, 15)).rows
    assert (row["received"], row["voided"], row["due"], row["overdue"]) == (1, 1, 0, 0)
    api.force_authenticate(world["dispatcher"])
    listed = api.get(URL, {"status": "voided"}).json()["features"]
    assert [f["id"] for f in listed] == [case.pk]
    after = post(api, world["dispatcher"], f"{case.pk}/requests/", {**body, "version": version(case)})
    assert after.status_code == 409 and "voided" in after.json()["detail"]


def test_the_asker_may_not_decide_their_own_request(world):
    case = handling_case(world)
    made = requests.ask(case_id=case.pk, kind="void", user=world["chief"], version=version(case), reason="恶意")
    with pytest.raises(services.NotAllowed, match="someone other"):
        requests.decide(request_id=made.pk, approve=True, user=world["chief"], version=version(case))
    assert ClockRequest.objects.get(pk=made.pk).state == "pending"


def test_a_supervision_order_is_answered_or_climbs_the_ladder(api, world):
    case = handling_case(world)
    body = {"answer_by": "2026-12-31T17:00:00+08:00", "note": "限期处置", "version": version(case)}
    assert post(api, world["handler"], f"{case.pk}/supervise/", body).status_code == 403
    ordered = post(api, world["supervisor"], f"{case.pk}/supervise/", body)
    assert ordered.status_code == 201, ordered.json()
    oid = ordered.json()["id"]
    assert post(api, world["other_handler"], f"supervision/{oid}/reply/", {"reply": "x"}).status_code == 404
    replied = post(api, world["handler"], f"supervision/{oid}/reply/", {"reply": "已安排人员"})
    assert replied.status_code == 200 and replied.json()["replied_by_name"] == "城管队员"
    assert post(api, world["handler"], f"supervision/{oid}/reply/", {"reply": "again"}).status_code == 409
    # An order left unanswered climbs like a late case: rung 1 at its time, rung 2 24 h later.
    late = requests.order_supervision(
        case_id=case.pk, user=world["supervisor"], version=version(case), answer_by=at(2026, 12, 31, 17), note="再督办"
    )
    assert escalate_orders(at(2026, 12, 31, 16, 59)) == {1: 0, 2: 0, 3: 0, 4: 0}
    assert escalate_orders(at(2026, 12, 31, 17, 0))[1] == 1
    assert escalate_orders(at(2027, 1, 1, 17, 0)) == {1: 0, 2: 1, 3: 0, 4: 0}
    assert escalate_orders(at(2027, 1, 1, 18, 0)) == {1: 0, 2: 0, 3: 0, 4: 0}
    late.refresh_from_db()
    assert late.escalation_level == 2
    entries = TrailEntry.objects.filter(case=case, action="escalate_order").order_by("escalation_level")
    assert [e.data["order"] for e in entries] == [late.pk, late.pk]
    assert list(case.trail.filter(action__in=["supervise", "reply_supervision"]).values_list("action", flat=True)) == [
        "supervise",
        "reply_supervision",
        "supervise",
    ]
