"""Shared pieces of the screens' browser tests (Playwright with Debian's Chromium, a live server).

Loaded as a pytest plugin by tests/conftest.py, so every test module can ask for the fixtures:

    chromium            a headless Chromium for the test
    phone               phone(user=None, language="zh-hans") -> Phone: a 360 x 740 touch context and
                        page (zh-hans unless language="en"), signed in as `user` if given; every request
                        to a host but the live server is aborted and fails the test at teardown, and so
                        does a JavaScript error
    screen_user         screen_user(role, grid=None) -> a user of that role (an officer or leader holds
                        a duty for `grid`; a handler is staff of a department)

and the helpers `assert_accessible(page)` (the vendored axe-core, injected from the live server: no
serious or critical violation) and `screenshot(page, name)` (test-artifacts/, and $GRIDGIS_SCREENS_DIR
when set, for looking at the screens).
"""

from __future__ import annotations

import itertools
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.templatetags.static import static
from django.test import Client

# Debian's Chromium, headless, with nothing of its own reaching the network (no updates, no sync, no
# background requests); the page benchmarks start it the same way (launch_chromium).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE_VIEWPORT = {"width": 360, "height": 740}
AXE = "vendor/axe-core-4.10.3/axe.min.js"
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
# Accept-Language per page language: Django's LocaleMiddleware maps zh-CN to zh-hans.
LOCALES = {"zh-hans": "zh-CN", "en": "en-US"}

# Playwright's sync API keeps an asyncio loop in this thread; Django's ORM refuses to run where a loop
# is running unless told that the caller knows it is not inside a coroutine (tests query between steps).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

_usernames = itertools.count(1)


def launch_chromium(playwright):
    """A Playwright Browser on Debian's Chromium."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@pytest.fixture
def chromium():
    # Per test, not per session: a Playwright instance left open would refuse the sync API to tests that
    # start their own (tests/test_maps_browser.py does).
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Phone:
    """One phone: its browser context, its first page and what the guard saw."""

    context: object
    page: object
    origin: str
    foreign: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def watch(self, page) -> None:
        page.on("pageerror", lambda error: self.errors.append(str(error)))


def session_cookie(user, origin: str) -> dict:
    """A session cookie for `user` on the live server's host (a real login, no password needed)."""
    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "domain": urlsplit(origin).hostname,
        "path": "/",
    }


def keep_to_the_app(context, origin: str, foreign: list[str]) -> None:
    """Aborts every request of the browser context to a host other than the app's (`origin`) and notes
    it in `foreign`, for the fixture to fail the test on. Registered first, the guard runs last: a test's
    own routes (e.g. cutting the network) come before it."""

    def guard(route):
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in {"http", "https"} and f"{parts.scheme}://{parts.netloc}" != origin:
            foreign.append(url)
            route.abort()
        else:
            route.fallback()

    context.route("**/*", guard)


@pytest.fixture
def phone(chromium, live_server):
    """phone(user=None, language="zh-hans", **context_options) -> Phone (see the module docstring)."""
    made: list[Phone] = []

    def open_phone(user=None, language: str = "zh-hans", **options) -> Phone:
        context = chromium.new_context(
            viewport=PHONE_VIEWPORT,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale=LOCALES[language],
            **options,
        )
        phone = Phone(context=context, page=None, origin=live_server.url)
        keep_to_the_app(context, live_server.url, phone.foreign)
        if user is not None:
            context.add_cookies([session_cookie(user, live_server.url)])
        phone.page = context.new_page()
        phone.watch(phone.page)
        made.append(phone)
        return phone

    yield open_phone
    for phone in made:
        phone.context.close()
    for phone in made:
        assert phone.foreign == [], f"requests to hosts other than the app: {phone.foreign}"
        assert phone.errors == [], f"JavaScript errors: {phone.errors}"


@pytest.fixture
def screen_user(db):
    """screen_user(role, grid=None, username=None) -> a User of `role`, with the records the role needs."""
    from layers.grids.models import DutyKind
    from tests.factories import make_department, make_duty, make_person

    def make(role: str, grid=None, username: str | None = None):
        user = User.objects.create_user(username=username or f"{role}{next(_usernames)}", password=None)
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        if role in {"officer", "leader"}:
            assert grid is not None, f"a {role} needs a grid"
            kind = DutyKind.OFFICER if role == "officer" else DutyKind.LEADER
            make_duty(grid, kind, make_person(f"{role} {user.username}", user=user))
        elif role == "handler":
            make_person(f"handler {user.username}", user=user, department=make_department())
        return user

    return make


def assert_accessible(page, *, context: str = "") -> None:
    """Runs the vendored axe-core (served by the live server, so no foreign request) on the page as it
    is now, and fails on any violation of impact serious or critical, naming rule and elements."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(url=origin + static(AXE))
    violations = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations
                .filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => ({rule: v.id, impact: v.impact, help: v.help,
                            nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}));
        }"""
    )
    assert violations == [], f"axe-core on {context or page.url}: {violations}"


def screenshot(page, name: str, *, full_page: bool = False) -> Path:
    """Saves a PNG of the page under test-artifacts/ (and $GRIDGIS_SCREENS_DIR when set)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    extra = os.environ.get("GRIDGIS_SCREENS_DIR")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / path.name)
    return path
