"""GET /api/v1/incidents/: GeoJSON FeatureCollection with filters and pagination; the OpenAPI schema."""

import datetime

import pytest
import yaml
from django.contrib.gis.geos import Point
from django.utils import timezone

from layers.grids.models import Department
from layers.incidents.models import Case, Status
from layers.incidents.services import report_case
from tests.factories import make_department, small_tree
from tests.factories_incidents import make_category, make_user

pytestmark = pytest.mark.django_db
URL = "/api/v1/incidents/"


@pytest.fixture(autouse=True)
def dispatcher(api):
    """Issue 7: the case list needs a sign-in; a dispatcher sees every case (scoping: test_roles.py)."""
    api.force_authenticate(make_user("dispatcher"))


@pytest.fixture
def world():
    grids = small_tree()
    make_department("JY-DD", kind=Department.Kind.DISPATCH_OFFICE, district=grids["district"])
    cgj = make_department("JY-CG", district=grids["district"])
    sw = make_department("JY-SW", district=grids["district"])
    rubbish = make_category("0101", default_department=cgj)
    manhole = make_category("0302", default_department=sw)
    now = timezone.now()

    def report(category, lon, lat, days_ago=0):
        case, _ = report_case(
            category=category,
            point=Point(lon, lat, srid=4326),
            input_point={},
            input_srs="EPSG:4326",
            now=now - datetime.timedelta(days=days_ago),
        )
        return case

    cases = {
        "m1": report(rubbish, 105.41, 28.93),
        "m2": report(rubbish, 105.41, 28.91, days_ago=5),
        "g2": report(manhole, 105.43, 28.93, days_ago=1),
        "s2": report(manhole, 105.47, 28.90, days_ago=10),
    }
    Case.objects.filter(pk=cases["s2"].pk).update(status=Status.CLOSED, due_at=None)
    return cases


def ids(body):
    return sorted(f["id"] for f in body["features"])


def test_feature_collection_and_filters(api, world):
    body = api.get(URL).json()
    assert body["type"] == "FeatureCollection" and body["count"] == 4
    assert body["features"][0]["geometry"]["type"] == "Point"
    assert ids(api.get(URL, {"category": "0101"}).json()) == sorted([world["m1"].pk, world["m2"].pk])
    assert ids(api.get(URL, {"category": "03"}).json()) == sorted([world["g2"].pk, world["s2"].pk])  # a major
    assert ids(api.get(URL, {"status": "closed"}).json()) == [world["s2"].pk]
    assert ids(api.get(URL, {"grid": "510502001001"}).json()) == sorted(
        [world["m1"].pk, world["m2"].pk, world["g2"].pk]
    )  # community c1's subtree
    assert ids(api.get(URL, {"grid": "510502001001001002"}).json()) == [world["m2"].pk]
    assert ids(api.get(URL, {"department": "JY-SW"}).json()) == sorted([world["g2"].pk, world["s2"].pk])
    since = (timezone.now() - datetime.timedelta(days=2)).isoformat()
    assert ids(api.get(URL, {"reported_after": since}).json()) == sorted([world["m1"].pk, world["g2"].pk])
    # The bbox covers the west half of community c1 only (grid g1: 105.40-105.42).
    assert ids(api.get(URL, {"in_bbox": "105.40,28.90,105.42,28.95"}).json()) == sorted(
        [world["m1"].pk, world["m2"].pk]
    )
    # m2 and g2 were reported 5 days and 1 day ago: their 2-hour register limits have passed; m1 was
    # reported just now and s2 is closed.
    assert ids(api.get(URL, {"overdue": "true"}).json()) == sorted([world["m2"].pk, world["g2"].pk])
    assert ids(api.get(URL, {"overdue": "false"}).json()) == sorted([world["m1"].pk, world["s2"].pk])
    assert api.get(URL, {"status": "nonsense"}).status_code == 400


def test_pagination_is_capped(api, world, settings):
    body = api.get(URL, {"page_size": 2}).json()
    assert len(body["features"]) == 2 and body["count"] == 4 and body["next"]
    second = api.get(body["next"]).json()
    assert len(second["features"]) == 2
    assert not set(ids(body)) & set(ids(second))
    big = api.get(URL, {"page_size": 100000}).json()
    assert len(big["features"]) == 4  # capped at CASE_MAX_PAGE_SIZE (1000), here all four


def test_categories_endpoint(api, world):
    body = api.get(f"{URL}categories/").json()
    rubbish = next(c for c in body if c["code"] == "0101")
    assert rubbish["parent"] == "01" and rubbish["default_department"] == "JY-CG"
    assert rubbish["limits_hours"] == {"confirm": 4, "register": 2, "dispatch": 2, "handle": 48, "verify": 24}


def test_openapi_schema_renders_and_lists_the_incident_paths(api):
    response = api.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    paths = schema["paths"]
    for path in (
        "/api/v1/incidents/",
        "/api/v1/incidents/{id}/",
        "/api/v1/incidents/{id}/trail/",
        "/api/v1/incidents/{id}/register/",
        "/api/v1/incidents/{id}/handle/",
        "/api/v1/incidents/overdue/",
        "/api/v1/incidents/categories/",
    ):
        assert path in paths, path
    assert "post" in paths["/api/v1/incidents/"] and "get" in paths["/api/v1/incidents/"]
    assert paths["/api/v1/incidents/{id}/verify/"]["post"]["operationId"] == "incidents_verify"
    assert api.get("/api/docs/").status_code == 200


def test_schema_has_no_warnings_and_validates(tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert "/api/v1/incidents/{id}/close/" in yaml.safe_load(target.read_text())["paths"]
