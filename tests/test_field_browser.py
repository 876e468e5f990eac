"""The officer's app (/field/) on a phone-sized Chromium: its screens, offline queue and patrol recorder."""

from __future__ import annotations

import time

import pytest
from django.contrib.sessions.models import Session
from pyproj import Geod

from common.spatial import GeographyLength
from common.waiting import wait_until
from layers.incidents.models import Case, Photo, TrailEntry
from layers.incidents.services import transition
from layers.inspections.models import CheckIn, Patrol
from tests.browser import assert_accessible, screenshot
from tests.field_world import CONFIRM_AT, POINT_AT, REPORT_AT, camera_photo, field_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(screen_user, media_root):
    return field_world(screen_user)


def test_home_lists_my_tasks_by_time_left_with_the_deadline_colour(phone, live_server, world):
    device = phone(user=world["officer"])
    page = device.page
    page.goto(f"{live_server.url}/field/")
    page.wait_for_selector("#task-list[data-ready=true]")
    items = page.locator("#task-list li")
    assert items.count() == 2
    # The report to confirm is due first (4 h stage from when it was sent), then the handled case (20 h).
    assert items.nth(0).get_attribute("data-case") == str(world["to_confirm"].pk)
    assert "现场核实" in items.nth(0).inner_text() and "核查" in items.nth(1).inner_text()
    assert items.nth(1).get_attribute("data-case") == str(world["to_check"].pk)
    screenshot(page, "field-home")
    assert_accessible(page)


def wait_for_worker(page) -> None:
    """Until the service worker controls the page (it has kept the shell for offline use by then)."""
    page.wait_for_function(
        "() => navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=20000
    )


class Network:
    """Cuts the phone's network for the page and for its service worker's own requests (Playwright's
    offline switch alone leaves the worker's fetches through)."""

    def __init__(self, context):
        self.context = context

    @staticmethod
    def _cut(route):
        route.abort("internetdisconnected")

    def off(self) -> None:
        self.context.set_offline(True)
        self.context.route("**/*", self._cut)

    def on(self) -> None:
        self.context.unroute("**/*", self._cut)
        self.context.set_offline(False)


def report_offline(page, live_server, at, description, search="垃圾") -> None:
    page.goto(f"{live_server.url}/field/report/")
    page.wait_for_selector("#report-form[data-ready=true]")
    page.context.set_geolocation({"longitude": at[0], "latitude": at[1], "accuracy": 6})
    page.click("#use-gps")
    page.wait_for_function("() => document.getElementById('position-text').textContent.includes('GPS')")
    page.fill("#category-search", search)
    page.check("#category-0101")
    page.set_input_files("#photo-input", camera_photo())
    page.wait_for_selector("#photo-list li")
    page.fill("#description", description)
    page.fill("#address", "南城街")
    page.click("#report-send")
    page.wait_for_selector("#report-done:not([hidden])")


def queue_items(page) -> list[dict]:
    return page.evaluate(
        """async () => (await (await import('/static/field/queue.js')).items())
            .map(i => ({kind: i.kind, status: i.status, reason: i.reason, key: i.key,
                        replayed: i.result && i.result.replayed, current: i.current}))"""
    )


def wait_until_sent(page, count: int, seconds: float = 20.0) -> None:
    """Until the outbox holds `count` items and all of them are sent."""

    def all_sent():
        items = queue_items(page)
        return len(items) == count and all(i["status"] == "sent" for i in items)

    assert wait_until(all_sent, seconds), queue_items(page)


def resend_everything_sent(page) -> None:
    """As if every answer had been lost: the sent items are put back to waiting and sent again."""
    page.evaluate(
        """async () => {
            const db = await import('/static/field/db.js');
            const queue = await import('/static/field/queue.js');
            for (const item of await db.getAll('queue')) {
                if (item.status === 'sent') { item.status = 'waiting'; item.nextAt = 0; await db.put('queue', item); }
            }
            await queue.sendAll({force: true});
        }"""
    )


def test_offline_work_is_queued_survives_a_reload_and_is_stored_once_each(phone, live_server, world, screen_user):
    officer = world["officer"]
    device = phone(user=officer)
    context, page = device.context, device.page
    context.grant_permissions(["geolocation"])
    context.set_geolocation({"longitude": POINT_AT[0], "latitude": POINT_AT[1], "accuracy": 5})
    page.goto(f"{live_server.url}/field/")
    page.wait_for_selector("#task-list[data-ready=true]")
    wait_for_worker(page)
    network = Network(context)
    network.off()

    # With no network the app still opens: the home screen from the phone's copy.
    page.reload()
    page.wait_for_selector("#task-list[data-ready=true]")
    assert page.locator("#task-list li").count() == 2
    assert "离线副本" in page.inner_text("#tasks-state")

    # Three reports with photos.
    for n, shift in enumerate((0.0, 0.002, 0.004)):
        report_offline(page, live_server, (REPORT_AT[0] + shift, REPORT_AT[1]), f"离线上报 {n + 1}")
    # A failed check, and a confirmation of a report that the office changes meanwhile.
    page.goto(f"{live_server.url}/field/task/?case={world['to_check'].pk}")
    page.wait_for_selector("#task-form[data-ready=true]")
    page.fill("#task-note", "摊点仍在")
    page.click("#action-no")
    page.wait_for_selector("#task-done:not([hidden])")
    page.goto(f"{live_server.url}/field/task/?case={world['to_confirm'].pk}")
    page.wait_for_selector("#task-form[data-ready=true]")
    page.set_input_files("#task-photo", camera_photo(1200, 900))
    page.wait_for_selector("#task-photo-preview img")
    page.click("#action-yes")
    page.wait_for_selector("#task-done:not([hidden])")
    # A patrol with a check-in at the point, with a photo.
    context.set_geolocation({"longitude": POINT_AT[0] + 0.0001, "latitude": POINT_AT[1], "accuracy": 5})
    page.goto(f"{live_server.url}/field/patrol/")
    page.wait_for_selector("body[data-ready=true]")
    page.click("#patrol-start")
    page.set_input_files("#checkin-photo", camera_photo(800, 600))
    page.locator("#point-list button", has_text="签到").click()
    page.wait_for_selector("#point-list button:disabled")
    page.click("#patrol-stop")

    # Reloaded while still offline: the outbox is still there, everything waiting.
    page.goto(f"{live_server.url}/field/queue/")
    page.reload()
    page.wait_for_selector("#queue-list[data-ready=true]")
    kinds = [(i["kind"], i["status"]) for i in queue_items(page)]
    assert kinds == [
        ("report", "waiting"),
        ("report", "waiting"),
        ("report", "waiting"),
        ("action", "waiting"),
        ("action", "waiting"),
        ("patrol", "waiting"),
        ("check-in", "waiting"),
        ("patrol-end", "waiting"),
    ]
    screenshot(page, "field-queue-offline")
    before = Case.objects.count()
    assert CheckIn.objects.count() == 0 and Patrol.objects.count() == 0

    # Meanwhile the office has the report looked at by someone else: the confirmation will conflict.
    admin = screen_user("admin")
    to_confirm = Case.objects.get(pk=world["to_confirm"].pk)
    transition(case_id=to_confirm.pk, action="not_found", user=admin, version=to_confirm.version, note="已处理")

    network.on()
    page.wait_for_function(
        "() => document.querySelectorAll('#queue-list li').length === 8 &&"
        " document.querySelectorAll('#queue-list [data-status=waiting]').length === 0",
        timeout=30000,
    )
    items = queue_items(page)
    assert [i["status"] for i in items] == ["sent"] * 3 + ["sent", "conflict"] + ["sent"] * 3, items
    conflict = items[4]
    assert conflict["current"] == {"status": "reported", "version": to_confirm.version + 1}
    assert "已上报" in page.inner_text(".queue-conflict")
    screenshot(page, "field-queue-conflict")

    def stored() -> dict:
        return {
            "cases": Case.objects.count() - before,
            "officer_reports": Case.objects.filter(source="officer", reporter=officer).count(),
            "photos": Photo.objects.filter(case__source="officer", kind=Photo.Kind.REPORT).count(),
            "fails": TrailEntry.objects.filter(case=world["to_check"], action="fail").count(),
            "confirms": TrailEntry.objects.filter(case=world["to_confirm"], action="confirm").count(),
            "patrols": Patrol.objects.count(),
            "check_ins": CheckIn.objects.exclude(photo="").count(),
            "ended": Patrol.objects.filter(ended_at__isnull=False).count(),
        }

    expected = {
        "cases": 3,
        "officer_reports": 3,
        "photos": 3,
        "fails": 1,
        "confirms": 0,
        "patrols": 1,
        "check_ins": 1,
        "ended": 1,
    }
    assert stored() == expected
    # Shrunk on the phone: a 3000 x 2000 camera photo arrives as 2048 x 1365.
    assert {(p.width, p.height) for p in Photo.objects.filter(case__source="officer")} == {(2048, 1365)}
    assert Case.objects.get(pk=world["to_check"].pk).status == "handling"
    # Replayed twice, as if every answer had been lost: the server answers the first answers again.
    for _ in range(2):
        resend_everything_sent(page)
        assert stored() == expected
        again = queue_items(page)
        assert [i["replayed"] for i in again if i["status"] == "sent"] == [True] * 7


def walk(start: tuple[float, float], steps: int, metres: float) -> list[tuple[float, float]]:
    """`steps` positions northwards from `start`, `metres` apart (on the WGS84 ellipsoid)."""
    geod = Geod(ellps="WGS84")
    path = [start]
    for _ in range(steps - 1):
        lon, lat, _back = geod.fwd(path[-1][0], path[-1][1], 0.0, metres)
        path.append((lon, lat))
    return path


def test_a_patrol_walked_with_a_gap_is_stored_as_two_segments_of_the_walked_length(phone, live_server, world, settings):
    # Small limits so that the test walks in seconds: a gap of 2 s with no fix ends a segment; a
    # walker's fixes come 0.4 s and 3 m apart (7.5 m/s, under the 20 m/s limit).
    settings.GRIDGIS = {
        **settings.GRIDGIS,
        "FIELD": {**settings.GRIDGIS["FIELD"], "GAP_SECONDS": 2, "MAX_SPEED_MPS": 20},
    }
    first = walk((105.405, 28.905), 10, 3.0)
    # The second stretch starts 60 m further on: a straight line across the gap would add those 60 m.
    second = walk(walk(first[-1], 2, 60.0)[-1], 10, 3.0)
    device = phone(user=world["officer"])
    context, page = device.context, device.page
    context.grant_permissions(["geolocation"])
    context.set_geolocation({"longitude": first[0][0], "latitude": first[0][1], "accuracy": 5})
    page.goto(f"{live_server.url}/field/patrol/")
    page.wait_for_selector("body[data-ready=true]")
    page.click("#patrol-start")
    fixes = 0

    def fix(lon, lat, accuracy=5.0):
        nonlocal fixes
        context.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": accuracy})
        fixes += 1
        page.wait_for_function(f"() => Number(document.body.dataset.fixes || 0) >= {fixes}", timeout=5000)
        time.sleep(0.4)

    page.wait_for_function("() => Number(document.body.dataset.fixes || 0) >= 1", timeout=5000)
    fixes = 1
    time.sleep(0.4)
    for lon, lat in first[1:]:
        fix(lon, lat)
    fix(first[-1][0] + 0.0003, first[-1][1], accuracy=200.0)  # poor accuracy: dropped
    fix(first[-1][0] + 0.01, first[-1][1])  # 1 km in 0.4 s: no walker, dropped
    time.sleep(2.5)  # nothing for longer than the gap: the segment ends
    assert page.locator("#patrol-state").inner_text().startswith("一段时间没有定位")
    for lon, lat in second:
        fix(lon, lat)
    assert (
        page.inner_text("#patrol-segments"),
        page.inner_text("#patrol-dropped"),
        page.inner_text("#patrol-metres"),
    ) == ("2", "2", "54 m")
    screenshot(page, "field-patrol-recording")
    page.click("#patrol-stop")
    wait_until_sent(page, 3)
    assert [i["kind"] for i in queue_items(page)] == ["patrol", "track", "patrol-end"]
    patrol = Patrol.objects.annotate(metres=GeographyLength("track")).get()
    assert patrol.ended_at is not None and patrol.officer.user == world["officer"]
    assert [len(line) for line in patrol.track] == [10, 10]
    assert patrol.track[0][0] == pytest.approx(first[0], abs=1e-7)
    assert patrol.track[1][0] == pytest.approx(second[0], abs=1e-7)
    # The walked length, computed here on the same ellipsoid: 9 steps of 3 m in each stretch = 54 m,
    # and nothing for the 60 m not walked between them (positions are sent to 1e-7°, about a centimetre).
    geod = Geod(ellps="WGS84")
    expected = sum(geod.line_length([p[0] for p in part], [p[1] for p in part]) for part in (first, second))
    assert expected == pytest.approx(54.0, abs=0.01)
    assert patrol.metres == pytest.approx(expected, abs=0.2)


SCREENS = ("/field/", "/field/report/", "/field/patrol/", "/field/queue/")


def test_the_tab_bar_never_covers_the_last_button_of_a_task(phone, live_server, world):
    """On a 390 x 844 phone with a home indicator (an iPhone 12 to 14: 34 px of bottom safe area, which
    the tab bar adds to its height) scrolled to the end, the task form's last buttons stand above the
    fixed tab bar, so every step can be tapped."""
    device = phone(user=world["officer"])
    page = device.page
    page.set_viewport_size({"width": 390, "height": 844})
    # The page asks for viewport-fit=cover, so env(safe-area-inset-bottom) is the phone's inset.
    page.context.new_cdp_session(page).send("Emulation.setSafeAreaInsetsOverride", {"insets": {"bottom": 34}})
    for name, case in (("confirm", world["to_confirm"]), ("check", world["to_check"])):
        page.goto(f"{live_server.url}/field/task/?case={case.pk}")
        page.wait_for_selector("#task-form:not([hidden])")
        page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
        bar = page.locator(".tabbar").bounding_box()
        assert bar["y"] + bar["height"] == pytest.approx(844, abs=1)  # fixed at the bottom of the screen
        for button in ("#action-yes", "#action-no"):
            box = page.locator(button).bounding_box()
            # Clear of the bar by a thumb's margin, not just touching it.
            assert box["y"] + box["height"] + 24 <= bar["y"], (case.pk, button, box, bar)
        # A tap at the button's centre reaches the button, not the bar over it.
        box = page.locator("#action-no").bounding_box()
        hit = page.evaluate(
            "([x, y]) => document.elementFromPoint(x, y).closest('button')?.id",
            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
        )
        assert hit == "action-no"
        # The screen as the phone shows it (a full-page capture draws the fixed bar where the first
        # screenful ended, over the form: docs/screens/field-task-end-*.png are these instead).
        screenshot(page, f"field-task-end-{name}")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_screen_passes_axe_and_names_its_controls_in_the_page_language(phone, live_server, world, language):
    device = phone(user=world["officer"], language=language)
    page = device.page
    urls = [
        *SCREENS,
        f"/field/task/?case={world['to_confirm'].pk}",
        f"/field/task/?case={world['to_check'].pk}",
    ]
    suffix = "" if language == "zh-hans" else "-en"
    for url in urls:
        page.goto(f"{live_server.url}{url}")
        page.wait_for_selector("[data-ready=true]", state="attached")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.lang") == language
        assert_accessible(page, context=f"{url} ({language})")
        # Every control has a name a screen reader can say: its label, aria-label or text.
        unnamed = page.evaluate(
            """() => [...document.querySelectorAll('button, input, select, textarea, a[href]')]
                .filter(el => el.offsetParent !== null || el.type === 'file')
                .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                              && !el.textContent.trim() && !el.getAttribute('title') && !el.alt)
                .map(el => el.outerHTML.slice(0, 80))"""
        )
        assert unnamed == [], (url, unnamed)
        name = url.strip("/").replace("/", "-").replace("?case=", "-") or "home"
        screenshot(page, f"{name}{suffix}", full_page=True)
    if language == "en":
        assert page.locator("#action-no").inner_text() == "Fail: send back for rework"
    else:
        assert page.locator("#action-no").inner_text() == "不通过：退回返工"


def test_a_report_next_to_an_open_case_of_its_category_offers_me_too(phone, live_server, world):
    device = phone(user=world["officer"])
    context, page = device.context, device.page
    context.grant_permissions(["geolocation"])
    page.goto(f"{live_server.url}/field/report/")
    page.wait_for_selector("#report-form[data-ready=true]")
    # 10 m east of the report waiting to be confirmed, same category (exposed rubbish).
    context.set_geolocation({"longitude": CONFIRM_AT[0] + 0.0001, "latitude": CONFIRM_AT[1], "accuracy": 5})
    page.click("#use-gps")
    page.wait_for_function("() => document.getElementById('position-text').textContent.includes('GPS')")
    page.fill("#category-search", "rubbish")
    page.check("#category-0101")
    page.click("#report-send")
    page.wait_for_selector("#nearby:not([hidden])")
    assert f"#{world['to_confirm'].pk}" in page.inner_text("#nearby-list")
    assert_accessible(page, context="report, nearby cases shown")
    screenshot(page, "field-report-nearby", full_page=True)
    page.click("#me-too")
    page.wait_for_selector("#report-done:not([hidden])")
    wait_until_sent(page, 1)
    made = Case.objects.get(source="officer")
    assert made.status == "duplicate" and made.duplicate_of_id == world["to_confirm"].pk
    assert Case.objects.get(pk=world["to_confirm"].pk).me_too_count == 1
    # The category is now among my recent ones, offered first next time.
    page.goto(f"{live_server.url}/field/report/")
    page.wait_for_selector("#report-form[data-ready=true]")
    assert page.locator("#recent-categories button").all_inner_texts() == ["暴露垃圾"]


def test_an_ended_session_pauses_the_outbox_until_the_officer_signs_in_again(phone, live_server, world):
    officer = world["officer"]
    officer.set_password("shift-password")
    officer.save()
    device = phone(user=officer)
    page = device.page
    page.goto(f"{live_server.url}/field/task/?case={world['to_check'].pk}")
    page.wait_for_selector("#task-form[data-ready=true]")
    Session.objects.all().delete()  # the shift is over
    page.click("#action-yes")
    # The outbox asks to sign in again and keeps the answer.
    page.wait_for_selector("#signin-needed:not([hidden])")
    assert [(i["kind"], i["status"]) for i in queue_items(page)] == [("action", "waiting")]
    screenshot(page, "field-signin-needed")
    page.click("#signin-needed a")
    page.wait_for_url("**/accounts/login/**")
    page.fill("#id_username", officer.username)
    page.fill("#id_password", "shift-password")
    page.click("button[type=submit].primary")
    page.wait_for_url("**/field/task/**")
    page.goto(f"{live_server.url}/field/queue/")
    page.click("#send-now")
    wait_until_sent(page, 1)
    assert Case.objects.get(pk=world["to_check"].pk).status == "verified"
    assert page.locator("#signin-needed").is_hidden()
