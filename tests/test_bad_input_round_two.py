"""The bad-input catalogue, round two (issue 13): the inputs that answered 500, and the walks that keep
every list and every JSON-taking endpoint behind the same guards.

The entries use test_bad_input's `Bad`, `send` and `world`; the walks read the URL conf.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from rest_framework_gis.filters import InBBoxFilter
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from common.listing import LimitedGeoJsonPagination, SafeInBBoxFilter
from common.parsers import JSONParser
from tests.factories_incidents import make_user
from tests.test_bad_input import Bad, assert_refused_and_nothing_stored, bad_open311_query, bad_open311_report, world  # noqa: F401 (world: a fixture)
from tests.test_idempotency import write_endpoints
from tests.urlconf import routes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]
DEEP = "[" * 100_000 + "]" * 100_000  # 200 KB, well within the body limit

CATALOGUE = [
    # "²".isdigit() is True in Python, but int("²") fails: numbers are ASCII digits only.
    bad_open311_query("a superscript digit as an open311 id", service_request_id="²"),
    Bad(
        "a superscript digit in If-Match",
        "post",
        "{case}register/",
        {},
        headers={"If-Match": '"²"'},
        names="If-Match",
        who="dispatcher",
    ),
    Bad(
        "a superscript digit as an srs",
        "get",
        "/api/v1/locate/",
        {"lon": "105.41", "lat": "28.93", "srs": "EPSG:²"},
        names="srs",
    ),
    bad_open311_query("open311 start_date with month 13 and day 45", start_date="2026-13-45T00:00:00Z"),
    bad_open311_query("open311 end_date in year 1", end_date="0001-01-01T00:00:00Z"),
    Bad("json nested 100,000 levels", "post", "/api/v1/incidents/", DEEP, fmt="raw", names="JSON"),
    Bad(
        "json nested 40 levels in a description",
        "post",
        "/api/v1/incidents/",
        '{"category": "0101", "lon": 105.41, "lat": 28.93, "attributes": ' + "[" * 40 + "]" * 40 + "}",
        fmt="raw",
        names="JSON",
    ),
    Bad(
        "ledger until the last day of 9999",
        "get",
        "/api/v1/patrols/ledger/",
        {"until": "9999-12-31"},
        names="until",
        who="dispatcher",
    ),
    Bad(
        "ledger since year 1",
        "get",
        "/api/v1/patrols/ledger/",
        {"since": "0001-01-01"},
        names="since",
        who="dispatcher",
    ),
    Bad(
        "nan bbox on inspection points",
        "get",
        "/api/v1/inspection-points/",
        {"in_bbox": "nan,nan,nan,nan"},
        names="in_bbox",
        who="dispatcher",
    ),
    Bad(
        "a forged source",
        "post",
        "/api/v1/incidents/",
        {"category": "0101", "lon": 105.41, "lat": 28.93, "source": "supervisor"},
        names="source",
    ),
    bad_open311_report("a NUL in an open311 description", "description", description="a\x00b"),
    Bad(
        "a footprint-sized geometry as a case location",
        "post",
        "/api/v1/incidents/",
        {
            "category": "0101",
            "geometry": {"type": "Polygon", "coordinates": [[[105, 28.5], [106, 28.5], [106, 29.3], [105, 28.5]]]},
        },
        names="geometry",
    ),
    Bad(
        "an unusable idempotency key",
        "post",
        "/api/v1/incidents/",
        {"category": "0101", "lon": 105.41, "lat": 28.93},
        headers={"Idempotency-Key": "käse\n"},
        names="Idempotency-Key",
    ),
    Bad(
        "nan bbox on estates",
        "get",
        "/api/v1/estates/",
        {"in_bbox": "nan,nan,nan,nan"},
        names="in_bbox",
        who="dispatcher",
    ),
    Bad(
        "a whole-country bbox on work items",
        "get",
        "/api/v1/work-items/",
        {"in_bbox": "73,18,135,53"},
        names="in_bbox",
        who="dispatcher",
    ),
    Bad(
        "nan bbox on patrols",
        "get",
        "/api/v1/patrols/",
        {"in_bbox": "nan,nan,nan,nan"},
        names="in_bbox",
        who="dispatcher",
    ),
]


def test_the_round_two_catalogue_covers_the_security_tests_inputs():
    assert len(CATALOGUE) >= 14 and len({bad.name for bad in CATALOGUE}) == len(CATALOGUE)


@pytest.mark.parametrize("bad", CATALOGUE, ids=lambda bad: bad.name)
def test_round_two_bad_input_is_refused_with_a_clear_4xx_and_nothing_stored(api, world, bad):  # noqa: F811
    assert_refused_and_nothing_stored(api, world, bad)


def list_endpoints():
    """(path, view class) of every DRF list in the URL conf: a generic list view or a ViewSet's list."""
    return [
        (route.path, route.cls)
        for route in routes()
        if route.cls is not None
        and (
            route.actions.get("get") == "list"
            or (not route.actions and hasattr(route.cls, "list") and not route.has_parameters)
        )
    ]


def test_every_geojson_list_filters_through_the_safe_bbox_filter_and_a_capped_page():
    geo_lists = [
        (path, cls) for path, cls in list_endpoints() if issubclass(cls.serializer_class, GeoFeatureModelSerializer)
    ]
    paths = {path for path, _ in geo_lists}
    assert {"/api/v1/incidents/", "/api/v1/patrols/", "/api/v1/estates/", "/api/v1/work-items/"} <= paths
    for path, cls in geo_lists:
        bbox_filters = [b for b in cls.filter_backends if issubclass(b, InBBoxFilter)]
        assert bbox_filters and all(issubclass(b, SafeInBBoxFilter) for b in bbox_filters), path
        assert issubclass(cls.pagination_class, LimitedGeoJsonPagination), path


def test_every_geojson_list_refuses_a_nan_bbox(world):  # noqa: F811
    api = APIClient()
    api.force_authenticate(make_user("admin"))
    for path, cls in list_endpoints():
        if not issubclass(cls.serializer_class, GeoFeatureModelSerializer):
            continue
        param = next(b for b in cls.filter_backends if issubclass(b, SafeInBBoxFilter)).bbox_param
        response = api.get(path, {param: "nan,nan,nan,nan"})
        assert response.status_code == 400 and param in response.json()["detail"], (path, response.status_code)


def test_every_write_endpoint_parses_json_with_the_depth_limit():
    for route, cls, _ in write_endpoints():
        json_parsers = [p for p in cls.parser_classes if "json" in p.media_type]
        assert json_parsers and all(issubclass(p, JSONParser) for p in json_parsers), route


def test_every_write_endpoint_refuses_a_deeply_nested_body(world):  # noqa: F811
    refused = 0
    api = APIClient()
    api.force_authenticate(make_user("admin"))
    for route, _, methods in write_endpoints():
        for method in methods:
            response = api.generic(method, "/" + route, DEEP, content_type="application/json")
            # 400 naming JSON where the body is read; a view that reads no body (DELETE) may answer as usual.
            assert response.status_code < 500, (method, route, response.status_code)
            if response.status_code == 400:
                assert "JSON" in response.json()["detail"], (method, route)
                refused += 1
    assert refused >= 10  # the rest answered 404 for the made-up id before reading the body
