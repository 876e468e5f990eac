"""Open311 GeoReport v2 under /open311/v2/: read by the `georeport` client against a live server,
written by plain form-encoded HTTP POST as the spec shows."""

import xml.etree.ElementTree as ET

import pytest
import requests
from georeport import GeoReport

from layers.grids.models import Department, DutyKind
from layers.incidents.catalogue import load_categories
from layers.incidents.models import Case, Open311Key
from tests.factories import make_department, make_duty, make_person, small_tree

BASE = "/open311/v2/"


@pytest.fixture
def world(db):
    grids = small_tree()
    cgj = make_department("JY-CG", name="江阳区城市管理和综合执法局", district=grids["district"])
    make_department("JY-DD", name="江阳区指挥中心", kind=Department.Kind.DISPATCH_OFFICE, district=grids["district"])
    load_categories(fixers={"urban_management": cgj})
    make_duty(grids["g1"], DutyKind.OFFICER, make_person("李网格员"))
    Open311Key.objects.create(key="k-123", name="泸州城市管家 app")
    return grids


def post(base, fmt="json", **fields):
    """A form-encoded POST to requests.{fmt}, exactly as the spec's example."""
    return requests.post(f"{base}requests.{fmt}", data=fields, timeout=10)


@pytest.mark.django_db(transaction=True)
def test_georeport_client_reads_what_plain_http_posted(live_server, world):
    base = live_server.url + BASE
    client = GeoReport(base, jurisdiction="luzhou.gov.cn")
    services = client.get_service_list()
    codes = [s["service_code"] for s in services]
    assert "0101" in codes and "0601" in codes and len(codes) == 39
    rubbish = next(s for s in services if s["service_code"] == "0101")
    assert rubbish["group"] == "市容环境" and rubbish["metadata"] is False and "rubbish" in rubbish["keywords"]
    definition = client.get_service_definition("0302")
    assert definition["attributes"][0]["code"] == "DANGER" and definition["attributes"][0]["required"] is True

    response = post(
        base,
        api_key="k-123",
        service_code="0101",
        lat="28.93",
        long="105.41",
        description="路口垃圾堆了三天 <b>急</b>",
        first_name="张",
        last_name="三",
        phone="13900001111",
        email="zhang@example.com",
        address_string="白招牌社区 12 号",
        jurisdiction_id="luzhou.gov.cn",
    )
    assert response.status_code == 201, response.text
    created = response.json()[0]
    request_id = created["service_request_id"]
    assert created["service_notice"]

    read = client.get_service_request(request_id)
    assert read["status"] == "open"
    assert read["service_code"] == "0101"
    assert read["agency_responsible"] == "江阳区城市管理和综合执法局"
    assert read["grid_code"] == "510502001001001001"
    assert read["lat"] == pytest.approx(28.93) and read["long"] == pytest.approx(105.41)
    assert read["description"] == "路口垃圾堆了三天 <b>急</b>"
    flat = str(read)
    for private in ("张", "13900001111", "zhang@example.com"):
        assert private not in flat  # public reads carry no personal data
    case = Case.objects.get(pk=int(request_id))
    assert (case.reporter_name, case.reporter_phone, case.source) == ("张 三", "13900001111", "open311")

    listed = client.get_service_requests(status="open", service_code="0101")
    assert [r["service_request_id"] for r in listed] == [request_id]
    assert client.get_service_requests(status="closed") == []
    by_id = client.get_service_requests(service_request_id=request_id)
    assert by_id[0]["service_request_id"] == request_id

    # The same reads in XML, which the spec requires, through the client's XML mode.
    xml_client = GeoReport(base, output_format="xml")
    xml_services = xml_client.get_service_list()
    assert len(xml_services) == 39 and xml_services[0]["service_code"] == "0101"
    xml_read = xml_client.get_service_request(request_id)
    assert xml_read["status"] == "open" and xml_read["grid_code"] == "510502001001001001"
    assert xml_read["description"] == "路口垃圾堆了三天 <b>急</b>"  # escaped in the XML, intact when parsed


@pytest.mark.django_db(transaction=True)
def test_spec_errors_in_xml_and_json(live_server, world):
    base = live_server.url + BASE
    response = post(base, fmt="xml", service_code="0101", lat="28.93", long="105.41")
    assert response.status_code == 403
    error = ET.fromstring(response.content).find("error")
    assert error.find("code").text == "403" and "api_key" in error.find("description").text
    assert post(base, api_key="wrong", service_code="0101", lat="28.93", long="105.41").status_code == 403
    response = post(base, api_key="k-123", lat="28.93", long="105.41")
    assert response.status_code == 400 and response.json()[0]["description"] == "service_code is required"
    response = post(base, api_key="k-123", service_code="0101")
    assert response.status_code == 400 and "lat and long" in response.json()[0]["description"]
    response = post(base, api_key="k-123", service_code="0101", lat="28.93", long="105.41", description="x" * 4001)
    assert response.status_code == 400 and "4000" in response.json()[0]["description"]
    response = post(base, api_key="k-123", service_code="0302", lat="28.93", long="105.41")
    assert response.status_code == 400 and "attribute[DANGER]" in response.json()[0]["description"]
    response = post(
        base, api_key="k-123", service_code="0302", lat="28.93", long="105.41", **{"attribute[DANGER]": "yes"}
    )
    assert response.status_code == 201
    assert Case.objects.get(pk=int(response.json()[0]["service_request_id"])).attributes == {"DANGER": "yes"}
    response = post(base, api_key="k-123", service_code="9999", lat="28.93", long="105.41")
    assert response.status_code == 404
    response = requests.get(f"{base}requests/999999.json", timeout=10)
    assert response.status_code == 404 and response.json() == [
        {"code": 404, "description": "service_request_id '999999' not found"}
    ]
    assert requests.get(f"{base}requests/².json", timeout=10).status_code == 404  # a digit int() refuses
    response = requests.get(f"{base}services.json", params={"jurisdiction_id": "chengdu.gov.cn"}, timeout=10)
    assert response.status_code == 404
    response = requests.get(
        f"{base}requests.json",
        params={"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
        timeout=10,
    )
    assert response.status_code == 400 and "90 days" in response.json()[0]["description"]
    discovery = ET.fromstring(requests.get(f"{base}discovery.xml", timeout=10).content)
    assert discovery.find("endpoints/endpoint/specification").text == "http://wiki.open311.org/GeoReport_v2"
    assert [f.text for f in discovery.findall("endpoints/endpoint/formats/format")] == ["text/xml", "application/json"]


def test_closed_cases_read_closed_and_default_window_is_90_days(client, world):
    import datetime

    from django.contrib.gis.geos import Point
    from django.utils import timezone

    from layers.incidents.models import Category, Status
    from layers.incidents.services import report_case

    category = Category.objects.get(code="0101")
    old, _ = report_case(
        category=category,
        point=Point(105.41, 28.93, srid=4326),
        input_point={},
        input_srs="EPSG:4326",
        now=timezone.now() - datetime.timedelta(days=100),
    )
    done, _ = report_case(
        category=category, point=Point(105.43, 28.93, srid=4326), input_point={}, input_srs="EPSG:4326"
    )
    Case.objects.filter(pk=done.pk).update(status=Status.CLOSED)
    body = client.get(f"{BASE}requests.json").json()
    assert [r["service_request_id"] for r in body] == [str(done.pk)]  # the 100-day-old one is outside
    assert body[0]["status"] == "closed"
    assert client.get(f"{BASE}requests.json", {"status": "closed"}).json()[0]["service_request_id"] == str(done.pk)
    assert client.get(f"{BASE}requests.json", {"status": "open"}).json() == []


@pytest.mark.django_db
def test_open311_publishes_only_the_listed_sources_and_no_dead_corner(settings):
    from django.contrib.gis.geos import Point
    from django.test import Client

    from layers.incidents.models import Category, Source
    from layers.incidents.services import report_case
    from tests.factories_incidents import make_category

    small_tree()
    make_category("0101")
    cases = {
        source: report_case(
            category=Category.objects.get(code="0101"),
            point=Point(105.41, 28.90 + index * 0.003, srid=4326),
            input_point={},
            input_srs="EPSG:4326",
            source=source,
        )[0]
        for index, source in enumerate(Source.values)
    }
    corner = report_case(
        category=Category.objects.get(code="0101"),
        point=Point(105.41, 28.95, srid=4326),
        input_point={},
        input_srs="EPSG:4326",
    )[0]
    Case.objects.filter(pk=corner.pk).update(dead_corner=True)
    listed = {int(r["service_request_id"]) for r in Client().get("/open311/v2/requests.json").json()}
    assert listed == {cases[Source.CITIZEN].pk, cases[Source.OPEN311].pk}
    for source in (Source.OFFICER, Source.HOTLINE, Source.SUPERVISOR):
        assert Client().get(f"/open311/v2/requests/{cases[source].pk}.json").status_code == 404
    assert Client().get(f"/open311/v2/requests/{corner.pk}.json").status_code == 404
    settings.GRIDGIS = {**settings.GRIDGIS, "OPEN311_PUBLIC_SOURCES": ("citizen", "open311", "hotline")}
    listed = {int(r["service_request_id"]) for r in Client().get("/open311/v2/requests.json").json()}
    assert cases[Source.HOTLINE].pk in listed


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["", ".json", ".xml"])
def test_every_resource_but_discovery_refuses_a_jurisdiction_not_served_here(client, fmt):
    """The resources of the URL conf, each asked for another city's jurisdiction_id: a 404 in the
    asked format that names the parameter (discovery describes the server and takes none)."""
    from layers.incidents.open311 import urls

    sample = {"code": "0101", "request_id": "1"}
    checked = 0
    for pattern in urls.urlpatterns:
        if pattern.name == "open311-discovery":
            continue
        path = pattern.pattern.regex.pattern.lstrip("^").split("(?:")[0]
        for group in pattern.pattern.regex.groupindex:
            if group != "fmt":
                path = path.replace(f"(?P<{group}>[^/.]+)", sample[group])
        response = client.get(f"/open311/v2/{path}{fmt}", {"jurisdiction_id": "elsewhere.gov.cn"})
        assert response.status_code == 404, (path, response.status_code)
        assert "jurisdiction_id" in response.content.decode(), path
        assert ("json" in response["Content-Type"]) == (fmt == ".json"), (path, response["Content-Type"])
        checked += 1
    assert checked == 4
