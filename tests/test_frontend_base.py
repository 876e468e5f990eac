"""The shared screen base (frontend/): layout, navigation by role, sign-in, language switch, catalogue."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils.translation import gettext_lazy

from frontend import registry as navigation
from layers.accounts.roles import ANONYMOUS, scope_for
from tests.browser import assert_accessible, screenshot
from tests.factories import small_tree


@pytest.fixture
def registered_entries():
    """Two entries on existing URLs for the navigation tests, removed again afterwards."""
    saved = dict(navigation._ENTRIES)
    navigation.register("map-officer", gettext_lazy("Grid officer's map"), roles={"officer"}, order=1)
    navigation.register("map-index", gettext_lazy("Maps"), order=2)
    yield
    navigation._ENTRIES.clear()
    navigation._ENTRIES.update(saved)


@pytest.mark.django_db
def test_navigation_shows_each_user_the_entries_of_their_roles(registered_entries, screen_user):
    tree = small_tree()
    officer = scope_for(screen_user("officer", tree["g1"]))
    planner = scope_for(screen_user("planner"))
    admin = scope_for(screen_user("admin"))
    urls = lambda scope: [e["url"] for e in navigation.entries_for(scope) if e["url"].startswith("/map/")]  # noqa: E731
    assert urls(officer) == ["/map/officer/", "/map/"]
    assert urls(planner) == ["/map/"]
    assert urls(ANONYMOUS) == ["/map/"]
    assert urls(admin) == ["/map/officer/", "/map/"]
    # The current page is marked (aria-current in the template).
    assert [e["current"] for e in navigation.entries_for(officer, "/map/officer/") if e["url"] == "/map/officer/"] == [
        True
    ]


def test_an_entry_whose_url_does_not_resolve_is_left_out(registered_entries):
    navigation.register("no-such-screen", "nowhere")
    assert "nowhere" not in [e["label"] for e in navigation.entries_for(ANONYMOUS)]


@pytest.mark.django_db
def test_sign_in_page_is_on_the_base_in_chinese_by_default_and_english_on_request():
    page = Client().get("/accounts/login/").content.decode()
    assert '<html lang="zh-hans">' in page and 'name="viewport"' in page
    assert "登录" in page and "用户名" in page and 'id="language-select"' in page
    # No inline script: every <script> has a src, or is a JSON data block (json_script).
    assert page.count("<script") == page.count('<script src="') + page.count(
        '<script type="module" src="'
    ) + page.count('type="application/json"')
    english = Client(headers={"accept-language": "en"}).get("/accounts/login/").content.decode()
    assert '<html lang="en">' in english and ">Sign in<" in english


@pytest.mark.django_db
def test_javascript_catalogue_translates_the_modules_strings():
    zh = Client().get("/jsi18n/").content.decode()
    assert json.dumps("没有网络。") in zh
    # Only the screens' catalogues: none of the admin's strings.
    assert json.dumps("6 a.m.") not in zh


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_sign_in_switch_language_and_sign_out_on_a_phone(phone, live_server, screen_user):
    user = screen_user("planner", username="planner-base")
    user.set_password("s3cret-planner")
    user.save()
    device = phone()
    page = device.page
    page.goto(f"{live_server.url}/accounts/login/?next=/map/")
    assert page.locator("h1").inner_text() == "登录"
    assert_accessible(page)
    screenshot(page, "frontend-login-zh")
    # The language switch (Django's set_language) submits on change and comes back to the same page.
    page.select_option("#language-select", "en")
    page.wait_for_url("**/accounts/login/**")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert page.locator("h1").inner_text() == "Sign in"
    page.fill("#id_username", "planner-base")
    page.fill("#id_password", "s3cret-planner")
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}/map/")
    # Signed in: the header of a base page names the user and signs out with a POST.
    page.goto(f"{live_server.url}/accounts/login/")
    page.wait_for_url(f"{live_server.url}/map/")  # redirect_authenticated_user
