"""The map pages as HTML: offline assets only, basemap from configuration, language, no data embedded."""

import re

import pytest
from django.test import override_settings

from maps.folium_offline import basemap_layer
from tests.factories import small_tree

pytestmark = pytest.mark.django_db

PAGES = ["/map/officer/", "/map/planner/", "/map/supervisor/"]


@pytest.fixture(autouse=True)
def supervisor(client):
    """Issue 7: the map pages are for signed-in staff (test_roles.py checks who may open them)."""
    from tests.factories_incidents import make_user

    client.force_login(make_user("supervisor"))


def gridgis_settings(settings, **changes):
    return {**settings.GRIDGIS, **changes}


@pytest.mark.parametrize("url", PAGES)
def test_pages_link_only_the_apps_own_assets(client, url):
    small_tree()
    html = client.get(url).content.decode()
    links = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert links, html[:500]
    assert all(link.startswith("/static/") or link == "data:," for link in links), links
    assert "/static/vendor/leaflet-1.9.4/leaflet.js" in links
    # folium's CDN defaults (jsdelivr, cdnjs, jquery, bootstrap) are gone; so is any basemap host.
    assert not re.search(r"https?://(?!www\.w3\.org)", html.split("<script>")[0])
    assert "cdn" not in html and "tile.openstreetmap" not in html


@pytest.mark.parametrize("url", PAGES)
def test_pages_embed_no_features(client, url):
    small_tree()
    html = client.get(url).content.decode()
    # The grid names live in the database and come through the API by bbox, not in the page.
    assert "第一网格" not in html and "MultiPolygon" not in html


def test_language_is_chinese_by_default_and_english_on_request(client):
    small_tree()
    chinese = client.get("/map/officer/").content.decode()
    assert '<html lang="zh-hans">' in chinese and "网格员地图" in chinese
    english = client.get("/map/officer/?lang=en")
    assert '<html lang="en">' in english.content.decode() and "Grid officer&#x27;s map" in english.content.decode()
    # The choice is remembered in Django's language cookie.
    assert english.cookies["django_language"].value == "en"
    assert '<html lang="en">' in client.get("/map/planner/").content.decode()


def test_basemap_is_configuration(client, settings):
    small_tree()
    assert basemap_layer("none") is None
    assert "tile.openstreetmap.org" in basemap_layer("osm").tiles
    with pytest.raises(ValueError):
        basemap_layer("tianditu", token="")
    assert "tk=abc" in basemap_layer("tianditu", token="abc").tiles

    with override_settings(GRIDGIS=gridgis_settings(settings, BASEMAP="/static/tiles/{z}/{x}/{y}.png")):
        html = client.get("/map/supervisor/").content.decode()
    assert "L.tileLayer" in html and '"/static/tiles/{z}/{x}/{y}.png"' in html
    assert "L.tileLayer" not in client.get("/map/supervisor/").content.decode()


def test_index_lists_the_maps(client):
    html = client.get("/map/?lang=en").content.decode()
    for url in PAGES + ["/ogc/"]:
        assert f'href="{url}"' in html


def test_index_signs_in_and_out_in_both_languages(client, django_user_model):
    client.logout()
    assert "登录" in client.get("/map/").content.decode()
    assert "Log in" in client.get("/map/?lang=en").content.decode()
    client.force_login(django_user_model.objects.create_user("zhang.wei", password="x"))
    chinese = client.get("/map/?lang=zh-hans").content.decode()
    assert "当前用户 zhang.wei" in chinese and "注销" in chinese and "Signed in as" not in chinese
    assert "Signed in as zhang.wei" in client.get("/map/?lang=en").content.decode()
