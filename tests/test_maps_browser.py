"""The map pages in a real headless Chromium (Debian's), against a live server.

Each page must load with no JavaScript error, make no request to any host but the app (the pages
must work on an intranet with no internet), draw the features the API holds for the view, and show
user text as text. A screenshot of each page goes to test-artifacts/ (ignored by git).
"""

from __future__ import annotations

import contextlib
import datetime
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from playwright.sync_api import sync_playwright

from layers.grids.models import Department, DutyKind, Person
from layers.incidents.models import Case, Status
from layers.incidents.services import report_case
from maps import tiles
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.factories import make_department, make_duty, make_person, small_tree
from tests.factories_incidents import make_category

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
XSS = "<img src=x onerror=alert(1)>"


class PageWatch:
    """Everything a page did that a test must check: requests, JS errors, console errors, dialogs."""

    def __init__(self, page, origin: str):
        self.origin = origin
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.failed: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("response", lambda r: self.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def foreign_requests(self) -> list[str]:
        """Requests to anything but the app's own origin (data: URIs are not requests to a host)."""
        return [
            u
            for u in self.requests
            if not u.startswith("data:") and f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" != self.origin
        ]


def role_user(role: str):
    """A signed-in user in the group `role` (issue 7: the maps are for staff, each sees their scope)."""
    from django.contrib.auth.models import Group

    user = User.objects.create_user(username=f"{role}-user", password=None)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def officer_user(grid, name: str):
    """A signed-in officer: a Django user whose Person holds an officer duty for `grid`."""
    user = User.objects.create_user(username=f"officer{grid.code}", password=None)
    make_duty(grid, DutyKind.OFFICER, make_person(name, user=user))
    return user


@contextlib.contextmanager
def browser_page(live_server, language: str = "zh-CN", user=None):
    """A Chromium page (1280 x 800) watched by PageWatch; signed in as `user` if given."""
    cookies = []
    if user is not None:
        client = Client()
        client.force_login(user)
        host = urlsplit(live_server.url).hostname
        cookies = [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "domain": host,
                "path": "/",
            }
        ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800}, locale=language)
            context.add_cookies(cookies)
            page = context.new_page()
            watch = PageWatch(page, live_server.url)
            yield page, watch
        finally:
            browser.close()


def wait_until_drawn(page, *keys: str) -> None:
    """Waits until every named layer has loaded for the current view and nothing is pending."""
    condition = " && ".join(f"gridgis.loaded[{key!r}] === true" for key in keys)
    page.wait_for_function(f"() => window.gridgis && gridgis.pending === 0 && {condition}", timeout=15000)


def wait_for_count(page, key: str, count: int) -> None:
    """Waits until layer `key` has settled with `count` features drawn."""
    page.wait_for_function(
        f"() => gridgis.pending === 0 && gridgis.loaded[{key!r}] === true && gridgis.drawn[{key!r}] === {count}",
        timeout=15000,
    )


def drawn(page, key: str) -> int:
    return page.evaluate(f"gridgis.drawn[{key!r}]")


def set_view(page, lat: float, lon: float, zoom: int) -> None:
    """Moves the map and returns once Leaflet has finished moving (its layers then start loading)."""
    page.evaluate(f"""() => new Promise(done => {{
        gridgis.map.once('moveend', () => done());
        gridgis.map.setView([{lat}, {lon}], {zoom}, {{animate: false}});
    }})""")


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def assert_clean(watch: PageWatch, page, expected_404: tuple[str, ...] = ()) -> None:
    """No JS error, no foreign request, no dialog; no failed response but the `expected_404` paths."""
    assert [f.split(" ", 1)[1].removeprefix(watch.origin) for f in watch.failed] == list(expected_404)
    assert all(f.startswith("404 ") for f in watch.failed)
    # Chromium logs each failed response on the console too; those are the ones just checked.
    errors = [
        e
        for e in watch.errors
        if not e.startswith("Failed to load resource: the server responded with a status of 404")
    ]
    assert errors == [], errors
    assert page.evaluate("gridgis.errors") == []
    assert watch.foreign_requests() == []
    assert watch.dialogs == []


def click_at(page, lat: float, lon: float) -> None:
    """Clicks the map at a place (converted to screen pixels by Leaflet itself)."""
    point = page.evaluate(f"""() => {{
        const p = gridgis.map.latLngToContainerPoint([{lat}, {lon}]);
        const r = gridgis.map.getContainer().getBoundingClientRect();
        return [r.left + p.x, r.top + p.y];
    }}""")
    page.mouse.click(point[0], point[1])


@pytest.fixture
def tree():
    tree = small_tree()
    make_duty(tree["g1"], DutyKind.OFFICER, make_person("王网格"))
    make_duty(tree["g1"], DutyKind.LEADER, make_person("李领导"))
    return tree


def test_officer_map_opens_on_the_officers_grids(live_server, tree):
    user = officer_user(tree["g1"], "赵网格")
    with browser_page(live_server, user=user) as (page, watch):
        page.goto(f"{live_server.url}/map/officer/")
        wait_until_drawn(page, "grids", "microgrids")
        # The first view fits the officer's grid g1 (0.02° x 0.05°): zoom 14 in a 1280 x 765 map, a
        # view 0.11° wide that holds both unit grids; micro-grids appear from zoom 15.
        assert page.evaluate("gridgis.map.getZoom()") == 14
        assert page.evaluate("gridgis.map.getBounds().contains([[28.90, 105.40], [28.95, 105.42]])")
        assert page.evaluate("gridgis.config.myGrids") == ["510502001001001"]
        # Issue 7: an officer's layers hold their grids' subtree only, so g2 next door is not drawn.
        assert drawn(page, "grids") == 1
        assert drawn(page, "microgrids") == 0
        assert page.locator(".leaflet-map-pane path.leaflet-interactive").count() == 1
        # The officer's own grid is drawn highlighted (weight 3).
        assert sorted(page.evaluate("Object.values(gridgis.layers.grids._layers).map(l => l.options.weight)")) == [3]
        # zh-hans by default: the layer control and legend say 网格 / 图例; a scale bar is there.
        assert "网格" in page.locator(".leaflet-control-layers").inner_text()
        assert "图例" in page.locator(".gridgis-legend").inner_text()
        assert page.locator(".leaflet-control-scale").count() == 1
        screenshot(page, "map-officer")

        # Zoom into micro-grid ...001 (105.40-105.42, 28.92-28.95): the micro-grids load by bbox.
        set_view(page, 28.935, 105.41, 16)
        wait_until_drawn(page, "grids", "microgrids")
        # At zoom 16 the view spans 0.0275° of longitude and 0.0144° of latitude (28.928-28.942), which
        # lies within m1 (28.92-28.95): one micro-grid.
        assert drawn(page, "microgrids") == 1
        click_at(page, 28.935, 105.41)
        popup = page.locator(".leaflet-popup-content .gridgis-popup[data-detail=loaded]")
        popup.wait_for()
        # The micro-grid's popup names the officer of its grid (walking up the tree).
        assert "1号楼" in popup.inner_text() and "赵网格" in popup.inner_text()
        assert_clean(watch, page)


def test_planner_map_in_english(live_server, tree):
    with browser_page(live_server, language="en-US", user=role_user("planner")) as (page, watch):
        page.goto(f"{live_server.url}/map/planner/?lang=en")
        wait_until_drawn(page, "communities", "grids")
        # Zoom 13: community layer (from zoom 10) has small_tree's 2 communities, grid layer its 2 grids.
        assert drawn(page, "communities") == 2
        assert drawn(page, "grids") == 2
        assert page.locator(".leaflet-map-pane path.leaflet-interactive").count() == 4
        assert "Communities" in page.locator(".leaflet-control-layers").inner_text()
        assert "Legend" in page.locator(".gridgis-legend").inner_text()
        # Grid 001 (105.40-105.42, 28.90-28.95): its popup names its leader and officer.
        click_at(page, 28.91, 105.41)
        popup = page.locator(".leaflet-popup-content .gridgis-popup[data-detail=loaded]")
        popup.wait_for()
        assert "李领导" in popup.inner_text() and "王网格" in popup.inner_text()
        screenshot(page, "map-planner")
        assert_clean(watch, page)


def test_supervisor_map_filter_and_jump(live_server, tree):
    with browser_page(live_server, user=role_user("supervisor")) as (page, watch):
        page.goto(f"{live_server.url}/map/supervisor/")
        wait_until_drawn(page, "tree")
        # Zoom 13 shows communities: small_tree has two.
        assert drawn(page, "tree") == 2
        # The filter lists the district and, once chosen, its streets. Street 002 has no communities
        # (small_tree splits only street 001), so the view empties; street 001 brings its two back.
        assert page.locator("select[name=district] option").all_inner_texts() == ["全部区县", "江阳区"]
        page.select_option("select[name=district]", "510502")
        assert page.locator("select[name=street] option").all_inner_texts() == ["全部街道", "南城街道", "北城街道"]
        page.select_option("select[name=street]", "510502002")
        page.wait_for_function("() => gridgis.filter.prefix === '510502002'")
        wait_for_count(page, "tree", 0)
        page.select_option("select[name=street]", "510502001")
        wait_for_count(page, "tree", 2)
        screenshot(page, "map-supervisor")

        # Jump to micro-grid ...001 by code: the map fits its box.
        page.select_option("select[name=district]", "")
        page.fill("input[name=code]", "510502001001001001")
        page.click(".gridgis-filter button")
        page.wait_for_function(
            "() => gridgis.map.getBounds().contains([[28.92, 105.40], [28.95, 105.42]]) && gridgis.map.getZoom() >= 14"
        )
        wait_until_drawn(page, "tree")
        assert drawn(page, "tree") >= 1
        # An unknown code says so, as text.
        page.fill("input[name=code]", "510502999999")
        page.click(".gridgis-filter button")
        page.wait_for_function("() => document.querySelector('.gridgis-message').textContent.length > 0")
        assert "510502999999" in page.locator(".gridgis-message").inner_text()
        assert_clean(watch, page, expected_404=("/api/v1/map/grids/510502999999/extent/",))


def test_user_text_is_shown_as_text(live_server, tree):
    tree["g2"].name = XSS
    tree["g2"].save()
    user = officer_user(tree["g2"], XSS)
    with browser_page(live_server, language="en-US", user=user) as (page, watch):
        page.goto(f"{live_server.url}/map/officer/?lang=en")
        wait_until_drawn(page, "grids")
        # Grid 002 spans 105.42-105.45 x 28.90-28.95.
        page.mouse.move(0, 0)
        click_at(page, 28.925, 105.435)
        popup = page.locator(".leaflet-popup-content .gridgis-popup[data-detail=loaded]")
        popup.wait_for()
        # The grid's name (title, tooltip) and its officer's name (from the detail request) are text.
        assert popup.inner_text().count(XSS) == 2
        assert page.locator(".leaflet-popup-content img").count() == 0
        assert page.locator("img[src=x]").count() == 0
        screenshot(page, "map-escaped-popup")
        assert_clean(watch, page)


@pytest.fixture
def cases(tree):
    """Five cases reported through the real intake: three in g1, one in g2, one in street 002
    (closed); one of g1's is overdue and one carries a hostile description. g1's officer can sign
    in ("user"); the intake assigns g1's cases to them; g2 has no officer up its tree."""
    # g1's officer 王网格 (from the `tree` fixture) signs in.
    user = User.objects.create_user(username="wang", password=None)
    Person.objects.filter(name="王网格").update(user=user)
    make_department("JY-DD", kind=Department.Kind.DISPATCH_OFFICE, district=tree["district"])
    rubbish = make_category("0101", default_department=make_department("JY-CG", district=tree["district"]))
    now = timezone.now()

    def report(lon, lat, description=""):
        case, _ = report_case(
            category=rubbish,
            point=Point(lon, lat, srid=4326),
            input_point={},
            input_srs="EPSG:4326",
            description=description,
            now=now,
        )
        return case

    made = {
        "a": report(105.405, 28.935, XSS),
        "b": report(105.41, 28.918),
        "c": report(105.415, 28.94),
        "d": report(105.43, 28.93),
        "closed": report(105.47, 28.90),
    }
    Case.objects.filter(pk=made["b"].pk).update(due_at=now - datetime.timedelta(hours=3))
    Case.objects.filter(pk=made["closed"].pk).update(status=Status.CLOSED, due_at=None)
    tiles.refresh_case_counts(source=tiles.case_source())
    made["user"] = user
    return made


def test_officer_sees_open_cases_by_time_left_and_their_trail(live_server, tree, cases):
    with browser_page(live_server, language="en-US", user=cases["user"]) as (page, watch):
        page.goto(f"{live_server.url}/map/officer/?lang=en")
        wait_until_drawn(page, "grids", "open-cases")
        # The officer's grid g1 fits at zoom 14: their open cases are a, b and c (g1's); d lies in g2,
        # which has no officer, and the closed one is closed.
        assert drawn(page, "open-cases") == 3
        colours = page.evaluate("Object.values(gridgis.layers['open-cases']._layers).map(l => l.options.fillColor)")
        # Case b is 3 hours overdue (red); the others are due in hours (due soon, yellow) or later.
        assert colours.count("#d73027") == 1
        assert "My open cases" in page.locator(".leaflet-control-layers").inner_text()
        assert "Overdue" in page.locator(".gridgis-legend").inner_text()
        # The layer asked only for the properties it shows: no reporter data, no unused timestamps.
        props = page.evaluate("Object.values(gridgis.layers['open-cases']._layers)[0].feature.properties")
        assert "closed_at" not in props and "due_at" in props and "description" in props

        # Case a's description is hostile HTML: its popup shows it as text, with the trail below.
        click_at(page, 28.935, 105.405)
        popup = page.locator(".leaflet-popup-content .gridgis-popup[data-detail=loaded]")
        popup.wait_for()
        assert XSS in popup.inner_text()
        assert page.locator(".leaflet-popup-content img").count() == 0
        # The trail of a new case: reported, then registered/dispatched as the intake routed it.
        assert page.locator(".gridgis-trail li").count() >= 1
        assert "report" in page.locator(".gridgis-trail li").first.inner_text()
        screenshot(page, "map-officer-cases")
        assert_clean(watch, page)


def test_supervisor_case_tiles_and_heatmap(live_server, tree, cases):
    with browser_page(live_server, user=role_user("supervisor")) as (page, watch):
        page.goto(f"{live_server.url}/map/supervisor/")
        wait_until_drawn(page, "tree", "heat")
        # At zoom 13 the heatmap weighs micro-grids' counts: m1 (cases a and c) and m2 (case b); case d
        # lies in g2, which has no micro-grids, so it counts from the grid level up only.
        assert drawn(page, "heat") == 2
        assert page.evaluate("gridgis.layers.heat._latlngs.map(p => p[2]).sort()") == [1, 2]
        # Switch the case tiles on: zoom 13 tiles carry one point per community with its count.
        page.locator(".leaflet-control-layers label", has_text="事件（矢量瓦片）").locator("input").check()
        page.wait_for_function("() => document.querySelectorAll('.leaflet-tile-container svg path').length > 0")
        tile_requests = [u for u in watch.requests if "/tiles/incidents/13/" in u]
        assert tile_requests, watch.requests
        # Community c1 holds 4 cases (3 in g1, 1 in g2) and c2 none: one point (drawn by each tile whose
        # 64-unit buffer reaches it, so a symbol on a tile edge is whole), carrying the count 4.
        assert page.evaluate("document.querySelectorAll('.leaflet-tile-container svg path').length") >= 1
        screenshot(page, "map-supervisor-cases")
        assert_clean(watch, page)


def api_count(page, url: str, **params) -> int:
    """How many features the API holds for the map's current view (asked from inside the page)."""
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return page.evaluate(f"""() => fetch({url!r} + '?bbox=' + gridgis.bboxParam(gridgis.map) + '&{query}')
        .then(r => r.json()).then(b => b.numberMatched !== undefined ? b.numberMatched : b.numberReturned)""")


def test_demo_maps_as_a_new_user_sees_them(live_server):
    """What `make demo` shows: the Luzhou demo seed, each page as its demo supervisor sees it after
    signing in with the password the README gives (a supervisor's scope is the whole city)."""
    call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))
    with browser_page(live_server) as (page, watch):
        page.goto(f"{live_server.url}/map/supervisor/")
        # The map asks for a sign-in first and comes back to it afterwards.
        assert "/accounts/login/" in page.url
        page.fill("input[name=username]", "supervisor")
        page.fill("input[name=password]", "gridgis-demo")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/map/supervisor/")
        wait_until_drawn(page, "tree", "heat")
        # The whole city: the grid tree at district level, i.e. Jiangyang, Naxi and Longmatan.
        assert page.evaluate("gridgis.map.getZoom()") <= 10
        assert drawn(page, "tree") == 3
        assert drawn(page, "heat") > 0
        assert page.locator("select[name=district] option").count() == 4
        screenshot(page, "demo-supervisor")

        page.goto(f"{live_server.url}/map/officer/")
        wait_until_drawn(page, "grids", "open-cases")
        # The city centre at zoom 14: every unit grid and open case the API holds for the view is drawn.
        grids = drawn(page, "grids")
        assert grids > 0 and grids == api_count(page, "/api/v1/map/grids/", level="grid")
        assert drawn(page, "open-cases") == api_count(page, "/ogc/collections/open-cases/items", limit=1)
        screenshot(page, "demo-officer")

        # Inspection points (from the inspections layer) are drawn too, as many as OGC holds for the view.
        assert (
            drawn(page, "inspection-points") == api_count(page, "/ogc/collections/inspection-points/items", limit=1) > 0
        )

        page.goto(f"{live_server.url}/map/planner/")
        wait_until_drawn(page, "communities", "grids", "estates", "renovation-projects")
        assert drawn(page, "communities") == api_count(page, "/api/v1/map/grids/", level="community") > 0
        assert drawn(page, "estates") == api_count(page, "/ogc/collections/estates/items", limit=1) > 0
        assert (
            drawn(page, "renovation-projects")
            == api_count(page, "/ogc/collections/renovation-projects/items", limit=1)
            > 0
        )
        screenshot(page, "demo-planner")
        # A footprint's popup lists what it touches, from the estates layer's overlay API.
        page.evaluate("Object.values(gridgis.layers['renovation-projects']._layers)[0].openPopup()")
        popup = page.locator(".leaflet-popup-content .gridgis-popup[data-detail=loaded]")
        popup.wait_for()
        assert "网格" in popup.inner_text()
        screenshot(page, "demo-planner-footprint")
        assert_clean(watch, page)
    # The demo officer signs in too and sees a part of what the supervisor sees.
    officer, supervisor = Client(), Client()
    assert officer.login(username="officer", password="gridgis-demo")
    assert supervisor.login(username="supervisor", password="gridgis-demo")
    assert officer.get("/api/v1/auth/me/").json()["grid_prefixes"]
    seen = [client.get("/api/v1/incidents/", {"page_size": 1}).json()["count"] for client in (officer, supervisor)]
    assert 0 < seen[0] < seen[1]


def test_a_cut_answer_is_announced(live_server, tree, settings):
    # One grid per answer at most: the planner's two communities no longer fit, and the page says so.
    settings.GRIDGIS = {**settings.GRIDGIS, "MAP_MAX_FEATURES": 1}
    with browser_page(live_server, language="en-US", user=role_user("planner")) as (page, watch):
        page.goto(f"{live_server.url}/map/planner/?lang=en")
        wait_until_drawn(page, "communities", "grids")
        assert drawn(page, "communities") == 1
        assert page.evaluate("gridgis.truncated.communities") is True
        assert "zoom in" in page.locator(".gridgis-status").inner_text()
        assert_clean(watch, page)
