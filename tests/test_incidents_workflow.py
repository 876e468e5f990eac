"""The seven-stage workflow: each transition allowed for the right role, refused otherwise (403/409)."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from common import scopes
from layers.grids.models import Department, DutyKind
from layers.incidents.escalation import escalate
from layers.incidents.models import Case, TrailEntry
from layers.incidents.services import LIMITED_STAGES
from tests.factories import make_department, make_duty, make_person, small_tree
from tests.factories_incidents import image_upload, make_category, make_user

pytestmark = pytest.mark.django_db
URL = "/api/v1/incidents/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def world(api):
    grids = small_tree()
    office = make_department("JY-DISPATCH", kind=Department.Kind.DISPATCH_OFFICE, district=grids["district"])
    cgj = make_department("JY-CGJ", name="城管局", district=grids["district"])
    other = make_department("JY-SW", name="水务局", district=grids["district"])
    # On the clock, so that the ladder's simulated hours below are plain hours (working-time deadlines
    # and escalation are in test_incidents_clocks.py).
    make_category("0101", default_department=cgj, handle_hours=24, **{f"{s}_clock": "clock" for s in LIMITED_STAGES})
    officer_person = make_person("李网格员")
    make_duty(grids["g1"], DutyKind.OFFICER, officer_person)
    users = {
        "dispatcher": make_user("dispatcher", name="调度员"),
        "supervisor": make_user("supervisor", name="督查员"),
        "handler": make_user(department=cgj, name="城管队员"),
        "other_handler": make_user(department=other, name="水务队员"),
        "officer": make_user(person=officer_person),
        "stranger": make_user(name="路人"),
    }
    case_id = api.post(URL, {"category": "0101", "lon": 105.41, "lat": 28.93}, format="json").json()["id"]
    return {"grids": grids, "users": users, "case_id": case_id, "office": office, "cgj": cgj, "other": other}


def act(api, world, who, action, **body):
    api.force_authenticate(world["users"][who] if who else None)
    case = Case.objects.get(pk=world["case_id"])
    body.setdefault("version", case.version)
    fmt = "multipart" if "photo" in body else "json"
    return api.post(f"{URL}{case.pk}/{action}/", body, format=fmt)


def test_the_whole_loop_with_rework_and_trail(api, world):
    assert act(api, world, "dispatcher", "register").status_code == 200
    assert act(api, world, "dispatcher", "dispatch").status_code == 200
    assert act(api, world, "handler", "accept").status_code == 200
    response = act(api, world, "handler", "handle", note="已清运", photo=image_upload("after.png"))
    assert response.status_code == 200, response.json()
    response = act(api, world, "officer", "fail", note="还有残留")
    assert response.json()["properties"]["status"] == "handling"
    assert response.json()["properties"]["rework_count"] == 1
    act(api, world, "handler", "handle", note="再次清运", photo=image_upload("after2.jpg", "JPEG"))
    assert act(api, world, "officer", "verify").status_code == 200
    # Supervisors audit the workflow and do not run it (监管分离): their close is refused.
    refused = act(api, world, "supervisor", "close", note="结案")
    assert refused.status_code == 403 and "only a dispatcher" in refused.json()["detail"]
    response = act(api, world, "dispatcher", "close", note="结案")
    assert response.status_code == 200
    props = response.json()["properties"]
    assert props["status"] == "closed" and props["closed_at"] and props["due_at"] is None
    trail = api.get(f"{URL}{world['case_id']}/trail/").json()
    assert [(t["action"], t["from_status"], t["to_status"]) for t in trail] == [
        ("report", "", "reported"),
        ("register", "reported", "registered"),
        ("dispatch", "registered", "dispatched"),
        ("accept", "dispatched", "handling"),
        ("handle", "handling", "handled"),
        ("fail", "handled", "handling"),
        ("handle", "handling", "handled"),
        ("verify", "handled", "verified"),
        ("close", "verified", "closed"),
    ]
    assert trail[4]["who"] == "城管队员" and trail[4]["note"] == "已清运"
    assert trail[4]["photo"]["kind"] == "after" and trail[4]["photo"]["width"] == 8
    assert trail[5]["data"] == {"rework_count": 1}
    whens = [t["when"] for t in trail]
    assert whens == sorted(whens)
    detail = api.get(f"{URL}{world['case_id']}/").json()
    assert detail["properties"]["version"] == 9 and len(detail["properties"]["trail"]) == 9


def test_impossible_transition_is_409_with_a_message(api, world):
    response = act(api, world, "dispatcher", "close")
    assert response.status_code == 409
    assert "cannot close a case that is reported" in response.json()["detail"]
    act(api, world, "dispatcher", "reject", note="不属于城市管理范围")
    assert act(api, world, "dispatcher", "register").status_code == 409


def test_stale_version_is_409_and_if_match_works(api, world):
    act(api, world, "dispatcher", "register")  # version 1 → 2
    response = act(api, world, "dispatcher", "dispatch", version=1)
    assert response.status_code == 409 and "version" in response.json()["detail"]
    api.force_authenticate(world["users"]["dispatcher"])
    response = api.post(f"{URL}{world['case_id']}/dispatch/", {}, format="json", headers={"If-Match": '"1"'})
    assert response.status_code == 409
    response = api.post(f"{URL}{world['case_id']}/dispatch/", {}, format="json", headers={"If-Match": '"2"'})
    assert response.status_code == 200 and response["ETag"] == '"3"'
    response = api.post(f"{URL}{world['case_id']}/accept/", {}, format="json")
    assert response.status_code == 400 and response.json()["detail"].startswith("version")


# Issue 7 scopes every case read: a user who cannot see the case (a stranger: not its reporter, no
# duty, another department) gets 404 as if it did not exist; a user who sees it but holds the wrong
# role gets the workflow's 403.
@pytest.mark.parametrize(
    "who, action, status",
    [
        (None, "register", 403),
        ("stranger", "register", 404),
        ("handler", "register", 403),
        ("officer", "register", 403),
    ],
)
def test_only_dispatchers_register(api, world, who, action, status):
    assert act(api, world, who, action).status_code == status
    assert Case.objects.get(pk=world["case_id"]).status == "reported"


def test_handler_checks_department_and_officer_checks_grid(api, world):
    act(api, world, "dispatcher", "register")
    act(api, world, "dispatcher", "dispatch")
    assert act(api, world, "other_handler", "accept").status_code == 404  # not their department's: unseen
    assert act(api, world, "dispatcher", "accept").status_code == 403
    act(api, world, "handler", "accept")
    assert act(api, world, "handler", "handle", note="ok").status_code == 400  # no after-photo
    assert act(api, world, "handler", "handle", photo=image_upload()).status_code == 400  # no note
    act(api, world, "handler", "handle", note="ok", photo=image_upload())
    assert act(api, world, "handler", "verify").status_code == 403  # not an officer of the grid
    # An officer of grid g2 does not cover this case (it is in g1's micro-grid m1).
    g2_officer = make_person("王网格员")
    make_duty(world["grids"]["g2"], DutyKind.OFFICER, g2_officer)
    world["users"]["g2"] = make_user(person=g2_officer)
    assert act(api, world, "g2", "verify").status_code == 404  # outside g2's subtree: unseen
    assert act(api, world, "officer", "verify").status_code == 200


def test_the_handler_cannot_verify_their_own_fix(api, world):
    # The handler is also an officer of grid g1: still not allowed to verify what they fixed.
    handler_person = world["users"]["handler"].person
    make_duty(world["grids"]["g1"], DutyKind.OFFICER, handler_person)
    act(api, world, "dispatcher", "register")
    act(api, world, "dispatcher", "dispatch")
    act(api, world, "handler", "accept")
    act(api, world, "handler", "handle", note="ok", photo=image_upload())
    response = act(api, world, "handler", "verify")
    assert response.status_code == 403 and "cannot verify" in response.json()["detail"]


def test_return_for_redispatch_to_another_department(api, world):
    act(api, world, "dispatcher", "register")
    act(api, world, "dispatcher", "dispatch")
    # A return (回退) is a request the dispatcher approves (tests/test_incidents_requests.py).
    api.force_authenticate(world["users"]["handler"])
    version = Case.objects.get(pk=world["case_id"]).version
    asked = api.post(f"{URL}{world['case_id']}/requests/", {"kind": "return", "version": version}, format="json")
    assert asked.status_code == 400  # a return needs a reason
    asked = api.post(
        f"{URL}{world['case_id']}/requests/",
        {"kind": "return", "reason": "不是我局职责", "version": version},
        format="json",
    )
    api.force_authenticate(world["users"]["dispatcher"])
    version = Case.objects.get(pk=world["case_id"]).version
    api.post(f"{URL}requests/{asked.json()['id']}/approve/", {"version": version}, format="json")
    assert Case.objects.get(pk=world["case_id"]).status == "registered"
    refused = act(api, world, "dispatcher", "dispatch", department="JY-SW")
    assert refused.status_code == 400 and "needs a reason" in str(refused.json()), refused.json()
    response = act(api, world, "dispatcher", "dispatch", department="JY-SW", note="水务局职责")
    props = response.json()["properties"]
    assert props["department"] == "JY-SW" and props["provenance"]["department"]["rule"] == "dispatcher"
    assert act(api, world, "handler", "accept").status_code == 404  # no longer its department's: unseen
    assert act(api, world, "other_handler", "accept").status_code == 200


def test_stage_due_times_follow_the_category_limits(api, world):
    act(api, world, "dispatcher", "register")
    act(api, world, "dispatcher", "dispatch")
    case = Case.objects.get(pk=world["case_id"])
    last = case.trail.order_by("-at", "-id").first()
    assert (case.due_at - last.at) == datetime.timedelta(hours=24)  # the category's handle limit


def test_escalation_ladder_over_simulated_time(api, world):
    case = Case.objects.get(pk=world["case_id"])
    due = case.due_at  # register within 2 h
    assert escalate(due - datetime.timedelta(minutes=1)) == {1: 0, 2: 0, 3: 0, 4: 0}
    assert escalate(due + datetime.timedelta(minutes=1)) == {1: 1, 2: 0, 3: 0, 4: 0}
    assert escalate(due + datetime.timedelta(minutes=2)) == {1: 0, 2: 0, 3: 0, 4: 0}  # never repeated
    assert escalate(due + datetime.timedelta(hours=25))[2] == 1  # 24 h late: expose
    # A run missed for days climbs the remaining rungs in order, each recorded once.
    assert escalate(due + datetime.timedelta(hours=200)) == {1: 0, 2: 0, 3: 1, 4: 1}
    assert escalate(due + datetime.timedelta(hours=300)) == {1: 0, 2: 0, 3: 0, 4: 0}
    steps = list(
        TrailEntry.objects.filter(case=case, action="escalate")
        .order_by("at", "id")
        .values_list("escalation_level", flat=True)
    )
    assert steps == [1, 2, 3, 4]
    case.refresh_from_db()
    assert case.escalation_level == 4 and case.version == 5
    # The API lists by the real clock: make the case late now, as it would be after those hours.
    Case.objects.filter(pk=case.pk).update(due_at=timezone.now() - datetime.timedelta(hours=1))
    api.force_authenticate(world["users"]["supervisor"])  # issue 7: case lists need a sign-in
    listed = api.get(f"{URL}overdue/", {"level": 4}).json()
    assert [f["id"] for f in listed["features"]] == [case.pk]
    summary = api.get(f"{URL}overdue/summary/").json()["levels"]
    assert [row["count"] for row in summary] == [0, 0, 0, 0, 1]


def test_escalate_command_is_idempotent(world):
    case = Case.objects.get(pk=world["case_id"])
    Case.objects.filter(pk=case.pk).update(due_at=timezone.now() - datetime.timedelta(hours=30))
    call_command("escalate")
    call_command("escalate")
    assert list(
        TrailEntry.objects.filter(action="escalate")
        .order_by("escalation_level")
        .values_list("escalation_level", flat=True)
    ) == [1, 2]


def test_registering_an_edge_case_records_the_confirmation(api, world):
    # 28.92002 is about 2.2 m from the m1/m2 edge: flagged; registering it confirms the grid.
    case_id = api.post(URL, {"category": "0101", "lon": 105.41, "lat": 28.92002}, format="json").json()["id"]
    world["case_id"] = case_id
    response = act(api, world, "dispatcher", "register")
    entry = response.json()["properties"]["trail"][-1]
    assert entry["data"]["edge_confirmed"]["grid"] == "510502001001001001"


def _role_lookups(queries):
    return [q["sql"] for q in queries if 'FROM "auth_group"' in q["sql"]]


def test_a_step_works_out_who_the_user_is_once(api, world):
    """The view's scope serves the workflow's own role check in the same request (one look at the
    user's groups, not two), and is gone once the request is answered."""
    with CaptureQueriesContext(connection) as queries:
        assert act(api, world, "dispatcher", "register").status_code == 200
    assert len(_role_lookups(queries.captured_queries)) == 1
    assert scopes.serving_scope.get() is None


def test_a_role_taken_away_between_two_requests_counts_at_the_second(api, world):
    """The same user object in two requests (as force_authenticate keeps it): the second request
    works the user out again, so a dispatcher moved to supervision (who still reads every case) is
    refused the next step there."""
    dispatcher = world["users"]["dispatcher"]
    assert act(api, world, "dispatcher", "register").status_code == 200
    dispatcher.groups.set([Group.objects.get(name="supervisor")])
    response = act(api, world, "dispatcher", "dispatch")
    assert response.status_code == 403, response.json()
    assert Case.objects.get(pk=world["case_id"]).status == "registered"
