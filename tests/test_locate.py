"""GET /api/v1/locate/: who answers for a point."""

import datetime

import pytest

from common.crs import wgs84_to_gcj02
from layers.grids.models import DutyKind
from tests.factories import make_department, make_duty, make_person, small_tree
from tests.factories_incidents import make_user

pytestmark = pytest.mark.django_db
URL = "/api/v1/locate/"


@pytest.fixture(autouse=True)
def staff(api):
    """Issue 7: leaders' and officers' names and phones are for staff; these tests read them as a
    dispatcher (what the public gets is in test_roles.py)."""
    api.force_authenticate(make_user("dispatcher"))


@pytest.fixture
def tree():
    grids = small_tree()
    grids["leader_c1"] = make_person("王书记")
    make_duty(grids["c1"], DutyKind.LEADER, grids["leader_c1"])
    grids["officer_g1"] = make_person("李网格员")
    make_duty(grids["g1"], DutyKind.OFFICER, grids["officer_g1"])
    grids["street_leader"] = make_person("张主任")
    make_duty(grids["s1"], DutyKind.LEADER, grids["street_leader"])
    grids["partner"] = make_department("CGJ", name="城管局")
    make_duty(grids["s1"], DutyKind.PARTNER_DEPARTMENT, grids["partner"])
    return grids


def codes(body):
    return [g["code"] for g in body["chain"]]


def test_interior_point_gets_the_full_chain_and_nearest_duties(api, tree):
    body = api.get(URL, {"lon": 105.41, "lat": 28.93}).json()
    assert body["outside"] is False
    assert codes(body) == ["510502", "510502001", "510502001001", "510502001001001", "510502001001001001"]
    assert [g["level"] for g in body["chain"]] == ["district", "street", "community", "grid", "microgrid"]
    # The micro-grid has no officer: the walk up stops at grid g1; the leader is the community's, not
    # the street's, because the community is deeper.
    assert [o["name"] for o in body["officers"]] == ["李网格员"]
    assert [o["grid_code"] for o in body["officers"]] == ["510502001001001"]
    assert [leader["name"] for leader in body["leaders"]] == ["王书记"]
    assert [d["name"] for d in body["departments"]] == ["城管局"]


def test_point_without_micro_grid_stops_at_the_grid(api, tree):
    body = api.get(URL, {"lon": 105.43, "lat": 28.93}).json()
    assert codes(body)[-1] == "510502001001002"
    assert body["officers"] == []
    assert [leader["name"] for leader in body["leaders"]] == ["王书记"]


def test_point_on_a_shared_edge_belongs_to_the_lowest_code(api, tree):
    # 105.45 is the edge between streets 001 and 002 (and community c1's east edge).
    body = api.get(URL, {"lon": 105.45, "lat": 28.87}).json()
    assert codes(body) == ["510502", "510502001", "510502001002"]
    # The corner 105.42/28.92 is shared by both micro-grids and grid 002: the deepest level wins,
    # then the lowest code.
    body = api.get(URL, {"lon": 105.42, "lat": 28.92}).json()
    assert codes(body)[-1] == "510502001001001001"


def test_same_answer_on_every_call(api, tree):
    answers = {tuple(codes(api.get(URL, {"lon": 105.45, "lat": 28.90}).json())) for _ in range(5)}
    assert len(answers) == 1


def test_point_outside_every_grid(api, tree):
    body = api.get(URL, {"lon": 104.0, "lat": 30.6}).json()
    assert body == {"outside": True, "chain": [], "leaders": [], "officers": [], "departments": []}


def test_ended_duty_is_not_reported(api, tree):
    duty = tree["officer_g1"].duties.get()
    duty.ends_on = datetime.date(2021, 1, 1)
    duty.save()
    body = api.get(URL, {"lon": 105.41, "lat": 28.93}).json()
    assert body["officers"] == []


def test_gcj02_input_is_converted_before_the_lookup(api, tree):
    # A WGS84 point 30 m west of the street edge; in GCJ-02 its longitude is ~500 m further east,
    # so read as WGS84 it would fall in the eastern street.
    gcj_lon, gcj_lat = wgs84_to_gcj02(105.4497, 28.87)
    assert float(gcj_lon) > 105.45
    body = api.get(URL, {"lon": float(gcj_lon), "lat": float(gcj_lat), "srs": "gcj02"}).json()
    assert codes(body)[1] == "510502001"
    body = api.get(URL, {"lon": float(gcj_lon), "lat": float(gcj_lat)}).json()
    assert codes(body)[1] == "510502002"


def test_cgcs2000_gauss_kruger_input(api, tree):
    # EPSG:4544 is CGCS2000 3-degree GK with central meridian 105°E; (105.41, 28.93) projects to
    # roughly easting 540,000 m, northing 3,201,000 m.
    from django.contrib.gis.geos import Point

    projected = Point(105.41, 28.93, srid=4326).transform(4544, clone=True)
    body = api.get(URL, {"lon": projected.x, "lat": projected.y, "srs": "EPSG:4544"}).json()
    assert codes(body)[-1] == "510502001001001001"


@pytest.mark.parametrize(
    "params, field",
    [
        ({"lat": 28.9}, "lon"),
        ({"lon": 105.4}, "lat"),
        ({"lon": "east", "lat": 28.9}, "lon"),
        ({"lon": 105.4, "lat": "nan"}, "lat"),
        ({"lon": 205.4, "lat": 28.9}, "lon"),
        ({"lon": 105.4, "lat": -95}, "lat"),
        ({"lon": 105.4, "lat": 28.9, "srs": "EPSG:3857"}, "srs"),
        ({"lon": 105.4, "lat": 28.9, "srs": "+proj=longlat +init=/etc/passwd"}, "srs"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, tree, params, field):
    response = api.get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert field in body["errors"]
    assert body["detail"].startswith(f"{field}:")


def test_one_statement_locate_agrees_with_the_orm_selector_across_the_demo_city(demo_db):
    """The API's one-round-trip LOCATE_SQL and the ORM selector used by case intake give the same
    answer for 300 points spread over the demo tree, edges and the planted gap included."""
    from django.db import connection

    from layers.grids.api.serializers import LocateResultSerializer
    from layers.grids.selectors import locate_document, responsibility_at

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(geom), ST_Y(geom) FROM (SELECT (ST_Dump(ST_GeneratePoints("
            "ST_Expand(boundary, 0.05), 300, 11))).geom FROM grids_grid WHERE code = '510500') p"
        )
        points = cursor.fetchall()
    from django.contrib.gis.geos import Point

    outside = 0
    for lon, lat in points:
        point = Point(lon, lat, srid=4326)
        expected = LocateResultSerializer(responsibility_at(point)).data
        assert locate_document(point) == expected, (lon, lat)
        outside += expected["outside"]
    assert 0 < outside < 300  # the sample reaches beyond the three districts, and mostly inside them
