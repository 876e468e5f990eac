"""OGC API - Features, read by OWSLib's client (as QGIS would) from a live server."""

import pytest
import requests
from owslib.ogcapi.features import Features

from maps.ogc import collections
from tests.factories import small_tree

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def auth():
    """Issue 7: collections need a sign-in. A supervisor's API token (as QGIS would send it) sees every
    row; what other roles see is tested in test_roles.py."""
    from rest_framework.authtoken.models import Token

    from tests.factories_incidents import make_user

    return {"Authorization": f"Token {Token.objects.create(user=make_user('supervisor')).key}"}


@pytest.fixture
def ogc(live_server, auth):
    small_tree()
    return Features(f"{live_server.url}/ogc/", headers=auth)


def test_landing_page_and_conformance(ogc, live_server):
    rels = {link["rel"] for link in ogc.links}
    assert {"self", "conformance", "data", "service-desc"} <= rels
    conforms = ogc.conformance()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conforms
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conforms


def test_collections_are_those_the_layers_registered(ogc):
    listed = ogc.feature_collections()
    # In the layers' INSTALLED_APPS order, each registering its own (common.publishing).
    assert listed == [c.id for c in collections.available()]
    assert listed == [
        "grids",
        "cases",
        "open-cases",
        "dead-corner-cases",
        "inspection-points",
        "patrols-today",
        "estates",
        "renovation-projects",
        "audit-findings",
    ]
    grids = ogc.collection("grids")
    assert grids["itemType"] == "feature"
    # small_tree's district spans (105.40, 28.85)-(105.50, 28.95); the extent covers all active grids
    # (from the planner's statistics when the table has them: single precision, within 1e-5°).
    [bbox] = grids["extent"]["spatial"]["bbox"]
    assert bbox == pytest.approx([105.40, 28.85, 105.50, 28.95], abs=1e-5)


def test_items_with_bbox_limit_offset_and_properties(ogc):
    everything = ogc.collection_items("grids", limit=100)
    # small_tree has 9 grids (district, 2 streets, 2 communities, 2 grids, 2 micro-grids).
    assert everything["numberMatched"] == 9 and everything["numberReturned"] == 9
    assert everything["features"][0]["id"] == "510502"

    # A bbox inside micro-grid ...001 meets the district, street 001, community 001, grid 001, micro 001.
    inside = ogc.collection_items("grids", bbox=[105.405, 28.93, 105.41, 28.94], limit=100)
    assert [f["id"] for f in inside["features"]] == [
        "510502",
        "510502001",
        "510502001001",
        "510502001001001",
        "510502001001001001",
    ]

    page = ogc.collection_items("grids", limit=2, offset=2)
    assert [f["id"] for f in page["features"]] == ["510502001001", "510502001001001"]
    assert page["numberMatched"] == 9
    assert {link["rel"] for link in page["links"]} >= {"self", "next", "prev"}

    slim = ogc.collection_items("grids", limit=1, properties="code,level")
    assert slim["features"][0]["properties"] == {"code": "510502", "level": 1}
    assert slim["features"][0]["geometry"]["type"] == "MultiPolygon"


def test_one_item_and_errors(ogc, live_server, auth):
    item = ogc.collection_item("grids", "510502001001001")
    assert item["properties"]["name"] == "第一网格"
    base = f"{live_server.url}/ogc/collections"
    assert requests.get(f"{base}/grids/items/999", timeout=10, headers=auth).status_code == 404
    assert requests.get(f"{base}/nope/items", timeout=10, headers=auth).status_code == 404
    bad = requests.get(f"{base}/grids/items", params={"properties": "code,secret"}, timeout=10, headers=auth)
    assert bad.status_code == 400 and bad.json()["detail"].startswith("properties: ")
    assert requests.get(f"{base}/grids/items", params={"bbox": "1,2"}, timeout=10, headers=auth).status_code == 400
    assert requests.get(f"{base}/grids/items", params={"limit": "0"}, timeout=10, headers=auth).status_code == 400
    assert requests.get(f"{base}/grids/items", params={"f": "html"}, timeout=10, headers=auth).status_code == 400
    # Only CRS84 bboxes are understood; another bbox-crs is refused rather than misread.
    other_crs = requests.get(
        f"{base}/grids/items",
        params={"bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4544"},
        timeout=10,
        headers=auth,
    )
    assert other_crs.status_code == 400 and other_crs.json()["detail"].startswith("bbox_crs: ")
    response = requests.get(f"{base}/grids/items", timeout=10, headers=auth)
    assert response.headers["Content-Type"] == "application/geo+json"


def test_cases_are_published_without_personal_data(ogc, live_server):
    from django.contrib.gis.geos import Point

    from layers.grids.models import Department, Grid
    from layers.incidents.models import Case, Status
    from layers.incidents.services import report_case
    from tests.factories import make_department
    from tests.factories_incidents import make_category

    district = Grid.objects.get(code="510502")
    make_department("JY-DD", kind=Department.Kind.DISPATCH_OFFICE, district=district)
    category = make_category("0101", default_department=make_department("JY-CG", district=district))
    open_case, _ = report_case(
        category=category,
        point=Point(105.41, 28.93, srid=4326),
        input_point={},
        input_srs="EPSG:4326",
        description="垃圾外露",
        reporter_name="张三",
        reporter_phone="13900000000",
        reporter_email="z@example.org",
    )
    closed, _ = report_case(
        category=category, point=Point(105.43, 28.93, srid=4326), input_point={}, input_srs="EPSG:4326"
    )
    Case.objects.filter(pk=closed.pk).update(status=Status.CLOSED)

    everything = ogc.collection_items("cases", limit=10)
    assert everything["numberMatched"] == 2
    feature = next(f for f in everything["features"] if f["id"] == open_case.pk)
    props = feature["properties"]
    # Related rows are published by their code or name, not by internal ids.
    assert props["category"] == "0101" and props["grid"] == "510502001001001001"
    assert props["description"] == "垃圾外露"
    assert feature["geometry"] == {"type": "Point", "coordinates": [105.41, 28.93]}
    text = str(everything)
    assert "13900000000" not in text and "张三" not in text and "z@example.org" not in text

    # open-cases leaves the closed one out; a bbox around the open case finds it alone.
    assert [f["id"] for f in ogc.collection_items("open-cases", limit=10)["features"]] == [open_case.pk]
    near = ogc.collection_items("cases", bbox=[105.405, 28.925, 105.415, 28.935], limit=10)
    assert [f["id"] for f in near["features"]] == [open_case.pk]
    assert ogc.collection_item("cases", str(open_case.pk))["properties"]["status"] == open_case.status


def test_items_filter_on_published_properties(ogc, live_server, auth):
    # small_tree: one district, two streets, two communities, two grids, two micro-grids.
    streets = ogc.collection_items("grids", level=2, limit=10)
    assert [f["id"] for f in streets["features"]] == ["510502001", "510502002"]
    assert ogc.collection_items("grids", code="510502001001", limit=10)["numberMatched"] == 1
    base = f"{live_server.url}/ogc/collections/grids/items"
    bad = requests.get(base, params={"level": "street"}, timeout=10, headers=auth)
    assert bad.status_code == 400 and bad.json()["detail"].startswith("level: ")
