"""The admin's grid pages: searchable, and their map widget loads nothing from outside the app."""

import re

import pytest
from django.contrib.auth import get_user_model

from tests.factories import small_tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("curator", "curator@example.org", "a-long-test-password")
    client.force_login(user)
    return client


def test_grid_changelist_searches_by_code_and_name(staff_client):
    small_tree()
    page = staff_client.get("/admin/grids/grid/", {"q": "白招牌"}).content.decode()
    assert "510502001001" in page and "510502002" not in page
    page = staff_client.get("/admin/grids/grid/", {"q": "510502002"}).content.decode()
    assert "北城街道" in page


def test_grid_change_form_map_widget_is_served_locally(staff_client):
    grids = small_tree()
    page = staff_client.get(f"/admin/grids/grid/{grids['g1'].pk}/change/").content.decode()
    assert "vendor/ol-7.2.2/ol.js" in page
    external = [url for url in re.findall(r'(?:src|href)="(https?://[^"]+)"', page)]
    assert external == []
    assert "earthdata" not in page and "cdn.jsdelivr" not in page
