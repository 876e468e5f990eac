"""The officer's app (/field/) on a phone-sized Chromium: its screens, offline queue and patrol recorder."""

from __future__ import annotations

import pytest

from tests.browser import assert_accessible, screenshot
from tests.field_world import field_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(screen_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
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
