"""Limits as configuration: throttles per IP, per user and for intake; page size; bbox area; body size."""

import pytest
from django.conf import settings as django_settings
from PIL import Image

from layers.incidents.models import Case
from tests.factories import small_tree
from tests.factories_incidents import make_category, make_user

pytestmark = pytest.mark.django_db
CASES = "/api/v1/incidents/"


@pytest.fixture
def rates(settings):
    def set_rates(**values):
        settings.GRIDGIS = {**settings.GRIDGIS, "THROTTLE_RATES": {"ip": None, "user": None, "intake": None, **values}}

    return set_rates


def test_per_ip_throttle_answers_429_and_x_forwarded_for_does_not_reset_it(api, rates):
    rates(ip="3/min")
    for _ in range(3):
        assert api.get("/api/v1/incidents/categories/", REMOTE_ADDR="10.0.0.1").status_code == 200
    refused = api.get("/api/v1/incidents/categories/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert api.get("/api/v1/incidents/categories/", REMOTE_ADDR="10.0.0.2").status_code == 200  # another IP


def test_per_user_throttle_follows_the_user_across_ips(api, rates):
    rates(user="2/min")
    user = make_user()
    api.force_authenticate(user)
    assert api.get("/api/v1/incidents/categories/", REMOTE_ADDR="10.0.0.1").status_code == 200
    assert api.get("/api/v1/incidents/categories/", REMOTE_ADDR="10.0.0.2").status_code == 200
    assert api.get("/api/v1/incidents/categories/", REMOTE_ADDR="10.0.0.3").status_code == 429
    api.force_authenticate(make_user())
    assert api.get("/api/v1/incidents/categories/", REMOTE_ADDR="10.0.0.3").status_code == 200


def test_intake_scope_limits_reports_but_not_reads(api, rates):
    small_tree()
    make_category("0101")
    rates(intake="2/min")
    body = {"category": "0101", "lon": 105.41, "lat": 28.93}
    assert [api.post(CASES, body, format="json").status_code for _ in range(3)] == [201, 201, 429]
    assert Case.objects.count() == 2
    api.force_authenticate(make_user("dispatcher"))  # issue 7: reading the list needs a sign-in
    assert api.get(CASES).status_code == 200  # listing is not under the intake scope


def test_page_size_is_capped_by_configuration(api, settings):
    small_tree()
    make_category("0101")
    for index in range(5):
        api.post(CASES, {"category": "0101", "lon": 105.401 + index * 0.015, "lat": 28.93}, format="json")
    settings.GRIDGIS = {**settings.GRIDGIS, "MAX_PAGE_SIZE": 3}
    api.force_authenticate(make_user("dispatcher"))  # issue 7: reading the list needs a sign-in
    body = api.get(CASES, {"page_size": 1000}).json()
    assert body["count"] == 5 and len(body["features"]) == 3
    assert api.get(CASES, {"page_size": "-1"}).status_code == 200  # ignored, the default applies


def test_bbox_area_cap_is_configuration(api, settings):
    # 105.40-105.50 × 28.85-28.95: 0.1° × 0.1° ≈ 9.75 km × 11.09 km ≈ 108 km² (PostGIS on the ellipsoid).
    box = {"in_bbox": "105.40,28.85,105.50,28.95"}
    api.force_authenticate(make_user("dispatcher"))  # issue 7: reading the list needs a sign-in
    assert api.get(CASES, box).status_code == 200
    settings.GRIDGIS = {**settings.GRIDGIS, "MAX_BBOX_KM2": 100}
    refused = api.get(CASES, box)
    assert refused.status_code == 400 and "in_bbox: the box covers 108 km²" in refused.json()["detail"]


def test_body_limit_is_configuration(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post(CASES, {"category": "0101", "description": "x" * 2000}, format="json")
    assert response.status_code == 413 and response.json()["detail"].startswith("body:")


def test_pillow_pixel_cap_follows_the_photo_limit():
    assert Image.MAX_IMAGE_PIXELS == django_settings.GRIDGIS["PHOTO_MAX_PIXELS"]


def test_open311_is_throttled_too(api, rates):
    from layers.incidents.models import Open311Key

    small_tree()
    make_category("0101")
    Open311Key.objects.create(key="K", name="client")
    rates(intake="2/min")
    form = {"api_key": "K", "service_code": "0101", "lat": "28.93", "long": "105.41"}
    statuses = [api.post("/open311/v2/requests.json", form).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]
    assert Case.objects.count() == 2
    assert api.get("/open311/v2/requests.json").status_code == 200  # reads are not under the intake scope
    rates(ip="1/min")
    assert api.get("/open311/v2/requests.json", REMOTE_ADDR="10.9.9.9").status_code == 200
    refused = api.get("/open311/v2/requests.json", REMOTE_ADDR="10.9.9.9")
    assert refused.status_code == 429 and refused.json()[0]["code"] == 429 and "Retry-After" in refused.headers


def api_views():
    """Every view class the URL conf routes to (viewsets and API views alike), with its route."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                view = getattr(entry.callback, "cls", None) or getattr(entry.callback, "view_class", None)
                if view is not None:
                    yield prefix + str(entry.pattern), view

    return list(walk(get_resolver().url_patterns))


def test_every_geojson_list_is_capped_and_every_bbox_filter_is_checked():
    """One mechanism for the class: a GeoJSON page is a LimitedGeoJsonPagination (?page_size= capped by
    GRIDGIS MAX_PAGE_SIZE) and a bbox filter a SafeInBBoxFilter (no nan, no inverted or oversized box)."""
    from rest_framework_gis.filters import InBBoxFilter
    from rest_framework_gis.pagination import GeoJsonPagination

    from common.listing import LimitedGeoJsonPagination, SafeInBBoxFilter

    views = api_views()
    paged = [(route, view) for route, view in views if isinstance(getattr(view, "pagination_class", None), type)]
    geojson = [(r, v) for r, v in paged if issubclass(v.pagination_class, GeoJsonPagination)]
    assert len(geojson) >= 6  # cases, estates, projects, suggestions, points, patrols ...
    uncapped = sorted({r for r, v in geojson if not issubclass(v.pagination_class, LimitedGeoJsonPagination)})
    assert not uncapped, uncapped
    bboxed = [(r, v) for r, v in views if any(issubclass(f, InBBoxFilter) for f in getattr(v, "filter_backends", []))]
    assert len(bboxed) >= 5
    unchecked = sorted(
        {
            r
            for r, v in bboxed
            if not all(issubclass(f, SafeInBBoxFilter) for f in v.filter_backends if issubclass(f, InBBoxFilter))
        }
    )
    assert not unchecked, unchecked
