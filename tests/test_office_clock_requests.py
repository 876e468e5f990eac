"""The office screens over the clock-changing requests (layers/incidents/requests.py): the department's
inbox asks for a return, an extension or a suspension instead of returning a case itself; the
dispatcher's console lists the requests waiting for its decision and offers approve / refuse; the
duty chief decides voids; time left is shown in working hours where the limit counts working time,
and a deadline in a year whose calendar is not entered says it counts Monday to Friday. Every page
carries the signed-in user's unread notifications."""

from __future__ import annotations

import datetime
import re

import pytest
from django.contrib.gis.geos import Point
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from common import workcalendar
from common.models import Notification
from layers.accounts.roles import scope_for
from layers.grids.models import DutyKind
from layers.incidents import requests, services
from layers.incidents.models import Case, ClockRequest, Status, TrailEntry
from layers.incidents.permissions import DUTY_CHIEF
from office.access import SCREENS, allows
from tests.factories import make_duty, make_person, tree_with_departments
from tests.factories_incidents import make_category, make_user

pytestmark = pytest.mark.django_db
INBOX, DISPATCH = "/office/inbox/", "/office/dispatch/"


@pytest.fixture
def world():
    workcalendar.load_package()
    grids = tree_with_departments()
    cgj = grids["cgj"]
    rubbish = make_category("0101", default_department=cgj, handle_hours=8)  # working time (the default)
    officer, leader = make_person("网格员"), make_person("包片领导")
    make_duty(grids["g1"], DutyKind.OFFICER, officer)
    make_duty(grids["c1"], DutyKind.LEADER, leader)
    users = {
        "dispatcher": make_user("dispatcher", name="调度员"),
        "dutychief": make_user("dispatcher", DUTY_CHIEF, name="值班长"),
        "handler": make_user(department=cgj, name="城管队员"),
        "officer": make_user(person=officer),
        "leader": make_user(person=leader),
        "supervisor": make_user("supervisor"),
        "planner": make_user("planner"),
    }
    case, _ = services.report_case(
        category=rubbish,
        point=Point(105.41, 28.93, srid=4326),
        input_point={"lon": 105.41, "lat": 28.93},
        input_srs="EPSG:4326",
        description="北门垃圾",
    )
    for action in ("register", "dispatch"):
        services.transition(
            case_id=case.pk, action=action, user=users["dispatcher"], version=Case.objects.get(pk=case.pk).version
        )
    return {"users": users, "case": Case.objects.get(pk=case.pk), "rubbish": rubbish}


def page(user, path: str, **params) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(path, params)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


def api_post(user, path: str, body: dict):
    client = APIClient()
    client.force_authenticate(user)
    return client.post(f"/api/v1/incidents/{path}", body, format="json")


def version(case) -> int:
    return Case.objects.get(pk=case.pk).version


def ask(world, kind: str, who: str, reason: str, **extra) -> ClockRequest:
    """A request on the world's case through the service the API calls."""
    case = world["case"]
    return requests.ask(
        case_id=case.pk, kind=kind, user=world["users"][who], version=version(case), reason=reason, **extra
    )


def test_the_inbox_asks_for_a_return_instead_of_returning(world):
    case = world["case"]
    html = page(world["users"]["handler"], INBOX, case=case.pk)
    # No direct return step any more: a request for each kind the handler may ask, none for a void.
    assert 'data-action="return"' not in html
    asked = set(re.findall(r'<form class="ask card" data-kind="(\w+)"', html))
    assert asked == {"return", "extension", "suspension"}
    # The request the form sends (the API the page's module posts to) waits for the dispatcher.
    answer = api_post(
        world["users"]["handler"],
        f"{case.pk}/requests/",
        {"kind": "return", "reason": "不属于本部门职责", "version": version(case)},
    )
    assert answer.status_code == 201, answer.json()
    assert Case.objects.get(pk=case.pk).status == Status.DISPATCHED  # nothing moves before the decision
    html = page(world["users"]["handler"], INBOX, case=case.pk)
    assert 'class="card request-box"' in html and "不属于本部门职责" in html
    assert '<form class="ask' not in html and '<form class="decide' not in html  # one request at a time


def test_the_console_lists_the_requests_waiting_and_the_dispatcher_decides(world):
    case, users = world["case"], world["users"]
    asked = ask(world, "extension", "handler", "等待配件", wanted_due_at=case.due_at + datetime.timedelta(days=3))
    html = page(users["dispatcher"], DISPATCH)
    queue = html.split('id="pending-requests"', 1)[1].split("</ul>", 1)[0]
    assert f'data-request-id="{asked.pk}"' in queue and f"case={case.pk}" in queue
    detail = page(users["dispatcher"], DISPATCH, case=case.pk)
    assert f'data-request="{asked.pk}" data-decision="approve"' in detail
    assert f'data-request="{asked.pk}" data-decision="refuse"' in detail
    assert 'name="due_at" type="datetime-local"' in detail  # an extension is approved with its new due time
    # The asker cannot decide their own request: no decision forms for them.
    assert '<form class="decide' not in page(users["handler"], INBOX, case=case.pk)
    # The decision through the API the forms post to: the server then holds the new deadline.
    granted = timezone.localtime(asked.wanted_due_at).replace(second=0, microsecond=0)
    answer = api_post(
        users["dispatcher"],
        f"requests/{asked.pk}/approve/",
        {"version": version(case), "due_at": granted.strftime("%Y-%m-%dT%H:%M")},
    )
    assert answer.status_code == 200, answer.json()
    held = Case.objects.get(pk=case.pk)
    assert held.due_at == granted and held.extension_count == 1
    assert TrailEntry.objects.filter(case=case, action="approve_extension", actor=users["dispatcher"]).exists()
    assert 'id="pending-requests"' not in page(users["dispatcher"], DISPATCH)


def test_only_the_duty_chief_is_offered_a_void_to_decide(world):
    case, users = world["case"], world["users"]
    detail = page(users["dispatcher"], DISPATCH, case=case.pk)
    assert '<form class="ask card" data-kind="void"' in detail  # the dispatcher asks
    asked = ask(world, "void", "dispatcher", "恶意上报")
    assert f'data-request-id="{asked.pk}"' not in page(users["dispatcher"], DISPATCH)
    assert '<form class="decide' not in page(users["dispatcher"], DISPATCH, case=case.pk)
    assert f'data-request-id="{asked.pk}"' in page(users["dutychief"], DISPATCH)
    assert f'data-request="{asked.pk}" data-decision="approve"' in page(users["dutychief"], DISPATCH, case=case.pk)


def test_a_suspended_case_is_resumed_from_the_console(world):
    case, users = world["case"], world["users"]
    asked = ask(
        world, "suspension", "handler", "需列入预算", review_on=timezone.localdate() + datetime.timedelta(days=30)
    )
    requests.decide(request_id=asked.pk, approve=True, user=users["dispatcher"], version=version(case))
    detail = page(users["dispatcher"], DISPATCH, case=case.pk, status="suspended")
    assert f'<form class="resume card" data-case="{case.pk}"' in detail
    assert "挂账" in detail  # the status in the page's language


def test_time_left_is_shown_in_working_hours_where_the_limit_counts_working_time(world):
    case = world["case"]
    held = Case.objects.get(pk=case.pk)
    assert held.due_clock == "working"
    hours = workcalendar.working_seconds(timezone.now(), held.due_at) / 3600
    for html in (page(world["users"]["handler"], INBOX), page(world["users"]["handler"], INBOX, case=case.pk)):
        shown = re.search(r'<span class="hours-left">剩余 ([\d.]+) 工作小时</span>', html)
        assert shown and float(shown[1]) == pytest.approx(hours, abs=0.1)
    # On the clock (an urgent category): plain hours.
    Case.objects.filter(pk=case.pk).update(due_clock="clock", due_at=timezone.now() + datetime.timedelta(hours=30))
    assert re.search(r'<span class="hours-left">剩余 (29\.9|30\.0) 小时</span>', page(world["users"]["handler"], INBOX))


def test_a_deadline_in_a_year_not_entered_says_it_counts_monday_to_friday(world):
    case = world["case"]
    handler = world["users"]["handler"]
    assert "calendar-gap" not in page(handler, INBOX, case=case.pk)
    # 2027 is not in chinesecalendar 1.11.0: a deadline there is counted Monday to Friday until entered.
    Case.objects.filter(pk=case.pk).update(due_at=datetime.datetime(2027, 1, 4, 17, 30, tzinfo=datetime.UTC))
    listed, detail = page(handler, INBOX), page(handler, INBOX, case=case.pk)
    assert "2027 年的国家节假日安排尚未录入" in listed and 'class="calendar-flag"' in listed
    assert "尚未录入国家节假日安排的年份" in detail
    # The field app says the same for the officer's tasks (its home document).
    Case.objects.filter(pk=case.pk).update(status=Status.HANDLED)
    client = Client()
    client.force_login(world["users"]["officer"])
    home = client.get(reverse("field-data")).json()
    assert home["calendar_missing_years"] == [2027]
    task = next(t for t in home["tasks"] if t["id"] == case.pk)
    assert task["due_clock"] == "working" and task["deadline_on_calendar"] is False


def test_every_screen_shows_the_unread_notifications(world):
    users = world["users"]
    # Dispatching told the department: the handler has one unread notice, shown in every page's header.
    assert Notification.objects.filter(user=users["handler"], read_at__isnull=True).count() == 1
    # Every office screen as each user whose roles allow it, the field app and the notifications page.
    visits = [
        (user, reverse(screen.url_name))
        for user in users.values()
        for name, screen in SCREENS.items()
        if allows(scope_for(user), name)
    ]
    assert {path for _, path in visits} == {reverse(screen.url_name) for screen in SCREENS.values()}
    visits += [(users["officer"], reverse("field-home")), (users["handler"], reverse("notifications-page"))]
    for user, path in visits:
        html = page(user, path)
        count = Notification.objects.filter(user=user, read_at__isnull=True).count()
        assert f'<span class="unread-count" data-unread="{count}">{count}</span>' in html, path
    # Marking them read (the page's plain form) is kept with when.
    client = Client()
    client.force_login(users["handler"])
    assert client.post(reverse("notifications-page")).status_code == 302
    assert not Notification.objects.filter(user=users["handler"], read_at__isnull=True).exists()
    assert 'data-unread="0"' in page(users["handler"], INBOX)
