"""The office screens in Debian's Chromium against a live server: the whole loop across signed-in
contexts (a citizen's report through the API, the dispatcher's console, the handler's inbox, the
officer's check through the API failing once then passing, the close), and axe-core on every screen.

Desktop contexts (1600 x 1000, zh-hans); as tests/browser.py does for phones, every request to a host
but the live server is aborted and fails the test, and so does a JavaScript error.
"""

from __future__ import annotations

import datetime
import os
import re
import threading
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from rest_framework.authtoken.models import Token

from layers.audits.assessment import assess
from layers.audits.dashboard import quarter_of
from layers.grids.models import Department, DutyKind
from layers.incidents import services
from layers.incidents.models import CannedPhrase, Case, ClockRequest, Status
from layers.incidents.services import LIMITED_STAGES
from tests.browser import assert_accessible, keep_to_the_app, screenshot, session_cookie
from tests.factories import make_department, make_duty, make_person, small_tree
from tests.factories_incidents import image_bytes, make_category, make_user
from tests.queue_helpers import run_queued_jobs

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DESKTOP = {"width": 1600, "height": 1000}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def desk(chromium, live_server):
    """desk(user) -> a signed-in desktop page; foreign requests and JS errors fail the test."""
    made = []

    def open_desk(user=None):
        context = chromium.new_context(viewport=DESKTOP, locale="zh-CN")
        problems = {"foreign": [], "errors": []}
        keep_to_the_app(context, live_server.url, problems["foreign"])
        if user is not None:
            context.add_cookies([session_cookie(user, live_server.url)])
        page = context.new_page()
        page.on("pageerror", lambda error: problems["errors"].append(str(error)))
        made.append((context, problems))
        return page

    yield open_desk
    for context, _ in made:
        context.close()
    for _, problems in made:
        assert problems["foreign"] == [], problems["foreign"]
        assert problems["errors"] == [], problems["errors"]


@pytest.fixture
def world():
    grids = small_tree()
    make_department("JY-DISPATCH", kind=Department.Kind.DISPATCH_OFFICE, district=grids["district"])
    cgj = make_department("JY-CGJ", name="城管局", district=grids["district"])
    make_department("JY-SW", name="水务局", district=grids["district"])
    # On the clock, so that "due soon" below does not depend on the hour the test runs (the working
    # hours on screen are in test_office_clock_requests.py and the return flow below).
    make_category(
        "0101",
        name_zh="暴露垃圾",
        default_department=cgj,
        handle_hours=24,
        **{f"{stage}_clock": "clock" for stage in LIMITED_STAGES},
    )
    officer_person = make_person("李网格员")
    make_duty(grids["g1"], DutyKind.OFFICER, officer_person)
    leader_person = make_person("王领导")
    make_duty(grids["c1"], DutyKind.LEADER, leader_person)
    CannedPhrase.objects.create(kind="reject", text="非本平台受理范围")
    CannedPhrase.objects.create(kind="return", text="不属于本部门职责")
    users = {
        "dispatcher": make_user("dispatcher", name="张调度"),
        "handler": make_user(department=cgj, name="赵队员"),
        "officer": make_user(person=officer_person),
        "leader": make_user(person=leader_person),
        "supervisor": make_user("supervisor", name="督查员"),
        "planner": make_user("planner", name="规划员"),
    }
    return {"grids": grids, "users": users, "cgj": cgj}


def token_for(user) -> dict:
    return {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}


def officer_step_at(api, base: str, officer, case_id: int, action: str, note: str = ""):
    """The officer's step through the API with their token (the field app has its own screen for it)."""
    case = Case.objects.get(pk=case_id)
    response = api.post(
        f"{base}/api/v1/incidents/{case_id}/{action}/",
        headers=token_for(officer),
        multipart={
            "version": str(case.version),
            "note": note,
            "photo": {"name": "check.png", "mimeType": "image/png", "buffer": image_bytes()},
        },
    )
    assert response.status == 200, response.text()


def open_case(page, path: str, case_id: int):
    page.goto(f"{path}?case={case_id}")
    page.wait_for_selector(f'.case-detail[data-case-id="{case_id}"]')


def step(page, action: str, case_id: int):
    """Clicks a step's button in the detail and waits until the case moved on (its version changed)."""
    before = Case.objects.get(pk=case_id).version
    page.click(f'form.step[data-action="{action}"] button[type=submit]')
    wait_for_new_version(page, case_id, before)


def wait_for_new_version(page, case_id: int, before: int):
    """Waits until the detail shows case `case_id` at a version above `before` (the step was taken)."""
    page.wait_for_function(
        "([id, v]) => { const a = document.querySelector('.case-detail'); return a && a.dataset.caseId == id && Number(a.dataset.version) > v; }",
        arg=[str(case_id), before],
    )


def test_the_whole_loop_across_signed_in_contexts(desk, live_server, world, tmp_path):
    users = world["users"]
    # A citizen reports through the API (anonymous, as the /report/ page does).
    citizen = desk()  # signed out, as on the /report/ page
    report = citizen.request.post(
        f"{live_server.url}/api/v1/incidents/",
        data={"category": "0101", "lon": 105.41, "lat": 28.93, "description": "北门垃圾堆积", "address": "北门"},
        headers={"Idempotency-Key": "loop-1"},
    )
    assert report.status == 201, report.text()
    case_id = report.json()["id"]

    dispatcher = desk(users["dispatcher"])
    dispatcher.goto(f"{live_server.url}/office/dispatch/")
    dispatcher.click(f'#case-list li[data-case-id="{case_id}"] .case-link')
    dispatcher.wait_for_selector(f'.case-detail[data-case-id="{case_id}"]')
    assert f"case={case_id}" in dispatcher.url  # the selection is in the URL
    assert "覆盖该点的最小网格" in dispatcher.inner_text(".why")  # the assignment and why
    step(dispatcher, "register", case_id)
    assert dispatcher.locator("#dispatch-department option").first.inner_text().startswith("★ 城管局")
    step(dispatcher, "dispatch", case_id)

    handler = desk(users["handler"])
    open_case(handler, f"{live_server.url}/office/inbox/", case_id)
    step(handler, "accept", case_id)
    handler.fill("#note-handle", "已清运")
    handler.set_input_files(
        "#photo-handle", files=[{"name": "after.png", "mimeType": "image/png", "buffer": image_bytes()}]
    )
    step(handler, "handle", case_id)

    officer_api = desk().request  # the officer's phone: token, no session
    officer_api_base = live_server.url

    def check(action, note=""):
        officer_step_at(officer_api, officer_api_base, users["officer"], case_id, action, note)

    check("fail", note="还有残留，请再清理")

    # Rework: the failed check's reason and photo stand above the form.
    open_case(handler, f"{live_server.url}/office/inbox/", case_id)
    rework = handler.locator(".rework-box")
    assert "还有残留，请再清理" in rework.inner_text() and rework.locator("img.photo").count() == 1
    above = handler.evaluate(
        """() => Boolean(document.querySelector('.rework-box').compareDocumentPosition(
                 document.querySelector('form.step[data-action=handle]')) & Node.DOCUMENT_POSITION_FOLLOWING)"""
    )
    assert above  # the reasons stand above the form
    handler.fill("#note-handle", "已彻底清理")
    handler.set_input_files(
        "#photo-handle", files=[{"name": "after2.png", "mimeType": "image/png", "buffer": image_bytes()}]
    )
    step(handler, "handle", case_id)
    check("verify")

    open_case(dispatcher, f"{live_server.url}/office/dispatch/", case_id)
    step(dispatcher, "close", case_id)
    assert Case.objects.get(pk=case_id).status == Status.CLOSED

    trail = list(Case.objects.get(pk=case_id).trail.order_by("at", "id").values_list("action", "actor_name"))
    assert trail == [
        ("report", "citizen"),
        ("register", "张调度"),
        ("dispatch", "张调度"),
        ("accept", "赵队员"),
        ("handle", "赵队员"),
        ("fail", "李网格员"),
        ("handle", "赵队员"),
        ("verify", "李网格员"),
        ("close", "张调度"),
    ]
    shown = dispatcher.locator(".trail li").all_inner_texts()
    assert (
        len(shown) == 9
        and "结案" in shown[-1]
        and "张调度" in shown[-1]
        and re.match(r"\d\d-\d\d \d\d:\d\d", shown[-1])
    )
    assert "核查不通过" in shown[5] and "李网格员" in shown[5]
    # The supervisor's assessment counts it: closed, on time, reworked once.
    table = assess(
        period=quarter_of(timezone.localdate()), unit="department", now=timezone.now() + datetime.timedelta(minutes=1)
    )
    row = next(r for r in table.rows if r["unit_code"] == "JY-CGJ")
    assert row["received"] == 1 and row["closed"] == 1 and row["on_time"] == 1 and row["reworked"] == 1


def test_the_inbox_asks_for_a_return_and_the_console_approves_it(desk, live_server, world):
    users = world["users"]
    report = desk().request.post(
        f"{live_server.url}/api/v1/incidents/",
        data={"category": "0101", "lon": 105.41, "lat": 28.93, "description": "井边垃圾"},
    )
    case_id = report.json()["id"]
    for action in ("register", "dispatch"):
        services.transition(
            case_id=case_id, action=action, user=users["dispatcher"], version=Case.objects.get(pk=case_id).version
        )

    # The handler asks to return it (回退): a request, with a canned phrase as its reason.
    handler = desk(users["handler"])
    open_case(handler, f"{live_server.url}/office/inbox/", case_id)
    assert handler.locator('form.step[data-action="return"]').count() == 0  # no direct return any more
    handler.select_option("#phrase-ask-return", "不属于本部门职责")
    before = Case.objects.get(pk=case_id).version
    handler.click('form.ask[data-kind="return"] button[type=submit]')
    wait_for_new_version(handler, case_id, before)
    handler.wait_for_selector(".request-box")
    asked = ClockRequest.objects.get(case_id=case_id)
    assert (asked.kind, asked.state, asked.reason, asked.asked_by) == (
        "return",
        "pending",
        "不属于本部门职责",
        users["handler"],
    )
    assert Case.objects.get(pk=case_id).status == Status.DISPATCHED  # nothing moves before the decision
    assert handler.locator("form.ask").count() == 0  # one request at a time

    # The dispatcher was told (the header's unread count), finds it in the queue and approves it.
    dispatcher = desk(users["dispatcher"])
    dispatcher.goto(f"{live_server.url}/office/dispatch/")
    assert dispatcher.inner_text(".unread-count") == "1"
    dispatcher.click(f'#pending-requests li[data-request-id="{asked.pk}"] .request-link')
    dispatcher.wait_for_selector(f'.case-detail[data-case-id="{case_id}"] .request-box')
    assert "不属于本部门职责" in dispatcher.inner_text(".request-box")
    before = Case.objects.get(pk=case_id).version
    dispatcher.click('form.decide[data-decision="approve"] button[type=submit]')
    wait_for_new_version(dispatcher, case_id, before)

    # What the server holds: registered again for re-dispatch, the request approved, both in the trail.
    case = Case.objects.get(pk=case_id)
    asked.refresh_from_db()
    assert case.status == Status.REGISTERED and case.due_clock == "clock"
    assert (asked.state, asked.decided_by) == ("approved", users["dispatcher"])
    trail = list(case.trail.order_by("at", "id").values_list("action", "actor_name"))
    assert trail[-2:] == [("ask_return", "赵队员"), ("approve_return", "张调度")]
    assert "批准回退" in dispatcher.locator(".trail li").last.inner_text()
    # The queue is empty again once the list is redrawn after the decision (expect waits for it).
    expect(dispatcher.locator("#pending-requests")).to_have_count(0)

    # Dispatched again, the handler asks for an extension with the due time wanted; the dispatcher
    # refuses it with a reason, and the deadline stays.
    services.transition(
        case_id=case_id, action="dispatch", user=users["dispatcher"], version=case.version, note="仍属城管"
    )
    due = Case.objects.get(pk=case_id).due_at
    open_case(handler, f"{live_server.url}/office/inbox/", case_id)
    handler.fill("#reason-extension", "等待配件")
    wanted = timezone.localtime(due + datetime.timedelta(days=2))
    handler.fill("#wanted-extension", wanted.strftime("%Y-%m-%dT%H:%M"))
    before = Case.objects.get(pk=case_id).version
    handler.click('form.ask[data-kind="extension"] button[type=submit]')
    wait_for_new_version(handler, case_id, before)
    extension = ClockRequest.objects.get(case_id=case_id, state="pending")
    assert extension.wanted_due_at == wanted.replace(second=0, microsecond=0)
    open_case(dispatcher, f"{live_server.url}/office/dispatch/", case_id)
    dispatcher.fill("#decide-refuse-note", "请按原时限办理")
    before = Case.objects.get(pk=case_id).version
    dispatcher.click('form.decide[data-decision="refuse"] button[type=submit]')
    wait_for_new_version(dispatcher, case_id, before)
    extension.refresh_from_db()
    assert (extension.state, extension.decision_note) == ("refused", "请按原时限办理")
    assert Case.objects.get(pk=case_id).due_at == due and Case.objects.get(pk=case_id).extension_count == 0


def test_the_console_keeps_state_in_the_url_back_works_and_next_case_by_key(desk, live_server, world):
    page_cases = []
    for index in range(3):
        response = desk().request.post(
            f"{live_server.url}/api/v1/incidents/",
            data={"category": "0101", "lon": 105.401 + 0.002 * index, "lat": 28.935, "description": f"垃圾{index}"},
        )
        page_cases.append(response.json()["id"])
    page = desk(world["users"]["dispatcher"])
    page.goto(f"{live_server.url}/office/dispatch/")
    page.select_option("#f-time-left", "due_soon")  # filters apply on change, into the URL
    page.wait_for_url(re.compile(r"time_left=due_soon"))
    # The URL changes before the new list arrives: a row picked before then would be replaced.
    page.wait_for_function("() => document.body.dataset.listLoads === '2'")
    page.click("#case-list li:first-child .case-link")
    first = page.locator("#case-list li.selected").get_attribute("data-case-id")
    page.keyboard.press("j")
    page.wait_for_function("id => new URLSearchParams(location.search).get('case') !== id", arg=first)
    second = page.locator("#case-list li.selected").get_attribute("data-case-id")
    assert second != first
    page.wait_for_selector(f'.case-detail[data-case-id="{second}"]')
    # The marker of the selected case is the highlighted one; clicking on the map selects there too.
    page.go_back()
    page.wait_for_selector(f'.case-detail[data-case-id="{first}"]')
    assert page.locator("#case-list li.selected").get_attribute("data-case-id") == first
    assert "time_left=due_soon" in page.url
    # Bulk: register all three at once, each reported on its own.
    page.click("#select-all")
    page.select_option("#bulk-action", "register")
    page.click("#bulk button[type=submit]")
    page.wait_for_selector("#bulk-results li")
    assert page.locator("#bulk-results li.ok").count() == 3
    assert set(Case.objects.filter(pk__in=page_cases).values_list("status", flat=True)) == {"registered"}


SCREENS_DIR = Path(os.environ.get("GRIDGIS_SCREENS_DIR", "")) if os.environ.get("GRIDGIS_SCREENS_DIR") else None


def test_every_screen_passes_axe_and_names_every_control_in_chinese(desk, live_server, world):
    case = (
        desk()
        .request.post(
            f"{live_server.url}/api/v1/incidents/",
            data={"category": "0101", "lon": 105.41, "lat": 28.93, "description": "<img src=x onerror=alert(1)>"},
        )
        .json()["id"]
    )
    visits = [
        ("dispatcher", f"/office/dispatch/?case={case}", "office-dispatch"),
        ("handler", "/office/inbox/", "office-inbox"),
        ("leader", "/office/dashboard/", "office-dashboard"),
        ("leader", "/office/wall/", "office-wall"),
        ("supervisor", "/office/audits/", "office-audits"),
        ("supervisor", "/office/assessment/", "office-assessment"),
        ("supervisor", "/office/assessment/notice/", "office-notice"),
        ("planner", "/office/planning/", "office-planning"),
    ]
    for role, path, name in visits:
        page = desk(world["users"][role])
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert_accessible(page, context=path)
        # Every control's accessible name (aria-label, its label, its text, its title), in Chinese.
        unnamed = page.evaluate(
            """() => Array.from(document.querySelectorAll(
                     'main button, main select, main input:not([type=hidden]), main textarea, main a[href], main [role=button]'))
                 .filter(el => el.offsetParent !== null || el.getClientRects().length)
                 .map(el => [el, el.getAttribute('aria-label')
                                 || (el.labels && Array.from(el.labels).map(l => l.textContent).join(' '))
                                 || (el.textContent || '').trim() || el.getAttribute('title') || ''])
                 .filter(([el, name]) => !/[\u4e00-\u9fff]/.test(name))
                 .map(([el, name]) => `${name} :: ${el.outerHTML.slice(0, 100)}`)"""
        )
        assert unnamed == [], (path, unnamed)
        assert page.evaluate("document.documentElement.lang") == "zh-hans"
        screenshot(page, name)
    # The reporter's text is shown as text.
    page = desk(world["users"]["dispatcher"])
    page.goto(f"{live_server.url}/office/dispatch/?case={case}")
    assert "<img src=x onerror=alert(1)>" in page.inner_text(".facts")


def test_a_supervisor_starts_an_audit_from_the_page_and_watches_it_finish(desk, live_server, world):
    page = desk(world["users"]["supervisor"])
    page.goto(f"{live_server.url}/office/audits/")
    for box in page.locator("input[name=kinds]").all():
        if box.get_attribute("value") not in ("gap", "overlap"):
            box.uncheck()
    page.click("#start-audit button[type=submit]")
    page.wait_for_selector("#audit-progress:not([hidden])")
    # The page only enqueued the run: a queue worker does it, as `manage.py worker` beside the server
    # would; in a thread of its own, since Playwright's event loop runs in this one.
    worker = threading.Thread(target=run_queued_jobs)
    worker.start()
    worker.join(timeout=120)
    page.wait_for_url(re.compile(r"\?run=\d+"), timeout=60000)  # done: the page opens the run
    assert "done" in page.inner_text("table.data") or "完成" in page.inner_text("table.data")
    assert page.locator('a[href$="findings.xlsx"]').count() == 1


def test_a_self_crossing_footprint_gets_the_servers_message_at_its_vertex(desk, live_server, world):
    page = desk(world["users"]["planner"])
    page.goto(f"{live_server.url}/office/planning/")
    page.fill("#p-name", "北门片区改造")
    box = page.locator("#plan-map").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.click(".leaflet-pm-icon-polygon")
    # A bow tie: its edges cross in the middle, where the server will say the fault is.
    for dx, dy in ((-80, -60), (80, 60), (80, -60), (-80, 60), (-80, -60)):
        page.mouse.click(x + dx, y + dy)
        page.wait_for_timeout(150)
    page.click("#preview")
    marker = page.wait_for_selector(".vertex-error")
    assert "Self-intersection" in marker.inner_text()
    spot = marker.bounding_box()
    # The message stands over the crossing, the centre of the bow tie (its tooltip sits just above).
    assert abs(spot["x"] + spot["width"] / 2 - x) < 60 and 0 < y - spot["y"] < 80
    assert "Self-intersection" in page.inner_text("#plan-message")
