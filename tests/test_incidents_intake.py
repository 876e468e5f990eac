"""POST /api/v1/incidents/: assignment, routing, edges, dead corners, duplicates, idempotency, photos."""

import math

import pytest
from django.db import DataError, connection, transaction

from common import workcalendar
from common.crs import wgs84_to_gcj02
from common.prepared import execute_prepared
from layers.grids.models import DutyKind
from layers.incidents import sql
from layers.incidents.models import Case, Status, TrailEntry
from tests.factories import make_person_on_duty, tree_with_departments
from tests.factories_incidents import (
    image_bytes,
    image_upload,
    make_category,
    make_jurisdiction_department,
    make_rule,
    make_user,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]
URL = "/api/v1/incidents/"
METRES_PER_DEGREE_LAT = 110_900  # at 28.9°N, near enough for the 1 % tolerances below


def metres_per_degree_lon(lat):
    return 111_320 * math.cos(math.radians(lat))


@pytest.fixture
def world():
    grids = tree_with_departments()
    grids["rubbish"] = make_category("0101", default_department=grids["cgj"], handle_hours=24)
    grids["noise"] = make_category("0702")
    grids["leader"] = make_person_on_duty(grids["c1"], DutyKind.LEADER, "王书记")
    grids["officer"] = make_person_on_duty(grids["g1"], DutyKind.OFFICER, "李网格员")
    return grids


@pytest.fixture(autouse=True)
def staff_reporter(api):
    """These tests read the assignment (leader, officer, provenance) back from the intake's answer:
    issue 7 shows it to staff only, so the reports come from a dispatcher's account. What an
    anonymous reporter gets back is in test_roles.py."""
    api.force_authenticate(make_user("dispatcher"))


def post(api, body, **headers):
    return api.post(URL, body, format="json", headers=headers)


def test_interior_point_gets_grid_department_leader_officer_and_due_times(api, world):
    response = post(api, {"category": "0101", "lon": 105.41, "lat": 28.93, "description": "垃圾堆"})
    assert response.status_code == 201, response.json()
    feature = response.json()
    props = feature["properties"]
    assert feature["type"] == "Feature"
    assert feature["geometry"]["coordinates"] == pytest.approx([105.41, 28.93])
    assert props["grid"] == "510502001001001001"  # the micro-grid m1, the smallest covering grid
    assert props["district_code"] == "510502"
    assert props["department"] == "JY-CGJ"  # no routing rule: the category's default
    assert props["leader"]["name"] == "王书记"  # walked up to the community
    assert props["officer"]["name"] == "李网格员"  # walked up to grid g1
    prov = props["provenance"]
    assert prov["grid"] == {
        "rule": "smallest_covering",
        "code": "510502001001001001",
        "level": "microgrid",
        "version": 1,
    }
    assert prov["department"]["rule"] == "category_default"
    assert prov["officer"]["grid"] == "510502001001001" and prov["officer"]["walked_up"] is True
    assert prov["input"] == {"point": {"lon": 105.41, "lat": 28.93}, "srs": "EPSG:4326"}
    # 105.41 is 0.01° of longitude from m1's west and east edges: 0.01 × 111,320 × cos 28.93° ≈ 974 m,
    # nearer than the 0.01° of latitude (≈ 1,109 m) to its south edge.
    assert props["edge_distance_m"] == pytest.approx(0.01 * metres_per_degree_lon(28.93), rel=0.01)
    assert props["near_edge"] is False and props["dead_corner"] is False
    assert props["status"] == "reported"
    case = Case.objects.get(pk=props["id"])
    # Limits count working time by default (hand-computed dates are in tests/test_calendar.py).
    assert case.due_clock == "working"
    assert workcalendar.working_seconds(case.reported_at, case.due_at) == 2 * 3600  # default register limit
    assert workcalendar.working_seconds(case.reported_at, case.final_due_at) == (2 + 2 + 24 + 24) * 3600
    assert list(case.trail.values_list("action", "to_status")) == [("report", "reported")]
    assert response["ETag"] == '"1"'


def test_geojson_point_in_gcj02_is_converted_and_kept_as_received(api, world):
    gcj_lon, gcj_lat = (float(v) for v in wgs84_to_gcj02(105.43, 28.93))
    response = post(
        api, {"category": "0101", "srs": "gcj02", "geometry": {"type": "Point", "coordinates": [gcj_lon, gcj_lat]}}
    )
    props = response.json()["properties"]
    assert response.json()["geometry"]["coordinates"] == pytest.approx([105.43, 28.93], abs=1e-7)
    assert props["grid"] == "510502001001002"
    assert props["input_srs"] == "gcj02"
    assert props["input_point"]["coordinates"] == [gcj_lon, gcj_lat]


def test_point_near_an_edge_is_flagged(api, world):
    # 28.92002 is 0.00002° of latitude ≈ 2.2 m north of the m1/m2 edge at 28.92: inside 5 m.
    props = post(api, {"category": "0101", "lon": 105.41, "lat": 28.92002}).json()["properties"]
    assert props["grid"] == "510502001001001001"
    # Measured to the stored (segmentized) line, not to the geodesic between the corners, which would
    # bow 4 cm poleward and read 2.18 m.
    assert props["edge_distance_m"] == pytest.approx(0.00002 * METRES_PER_DEGREE_LAT, abs=0.01)
    assert props["near_edge"] is True


def test_edge_distance_is_configurable(api, world, settings):
    settings.GRIDGIS = {**settings.GRIDGIS, "EDGE_METRES": 1.0}
    props = post(api, {"category": "0101", "lon": 105.41, "lat": 28.92002}).json()["properties"]
    assert props["near_edge"] is False  # 2.2 m is beyond a 1 m margin


def test_dead_corner_goes_to_the_district_dispatch_office_with_the_nearest_grid(api, world):
    # 105.52 is 0.02° east of the district's east edge (105.50): 0.02 × 111,320 × cos 28.9° ≈ 1,949 m.
    # The nearest unit grid is g2, whose east edge is 105.45: 0.07° ≈ 6,821 m away.
    response = post(api, {"category": "0101", "lon": 105.52, "lat": 28.90})
    assert response.status_code == 201
    props = response.json()["properties"]
    assert props["grid"] is None and props["dead_corner"] is True
    assert props["department"] == "JY-DISPATCH"
    assert props["district_code"] == "510502"
    assert props["suggested_grid"] == "510502001001002"
    assert props["suggested_distance_m"] == pytest.approx(0.07 * metres_per_degree_lon(28.9), rel=0.01)
    assert props["provenance"]["grid"]["district_distance_m"] == pytest.approx(
        0.02 * metres_per_degree_lon(28.9), rel=0.01
    )
    assert props["provenance"]["department"]["rule"] == "dispatch_office"


def test_category_without_default_goes_to_the_dispatch_office(api, world):
    props = post(api, {"category": "0702", "lon": 105.41, "lat": 28.93}).json()["properties"]
    assert props["department"] == "JY-DISPATCH"
    assert props["provenance"]["department"]["rule"] == "dispatch_office"


def test_most_specific_jurisdiction_wins(api, world):
    # The city-wide bureau's jurisdiction is the whole district (0.10° × 0.10°); the street team's is
    # street s1 only (0.05° × 0.10°), half of it: the smaller one covering the point wins.
    wide = make_jurisdiction_department((105.40, 28.85, 105.50, 28.95), code="CITY-HB", name="市环保局")
    narrow = make_jurisdiction_department((105.40, 28.85, 105.45, 28.95), code="S1-HB", name="南城环保队")
    make_rule(world["noise"], wide)
    make_rule(world["noise"].parent, narrow)  # a rule on the major covers its minors
    props = post(api, {"category": "0702", "lon": 105.41, "lat": 28.93}).json()["properties"]
    assert props["department"] == "S1-HB"
    assert props["provenance"]["department"]["rule"] == "routing_rule"
    # 0.05° × 0.10° at 28.9°N ≈ 4,874 m × 11,090 m ≈ 54 km²
    assert props["provenance"]["department"]["jurisdiction_m2"] == pytest.approx(54.0e6, rel=0.02)
    # East of 105.45 only the wide jurisdiction covers the point.
    props = post(api, {"category": "0702", "lon": 105.47, "lat": 28.93}).json()["properties"]
    assert props["department"] == "CITY-HB"


def test_same_idempotency_key_returns_the_same_case(api, world):
    body = {"category": "0101", "lon": 105.41, "lat": 28.93}
    first = post(api, body, **{"Idempotency-Key": "abc-123"})
    again = post(api, body, **{"Idempotency-Key": "abc-123"})
    assert first.status_code == again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert first.json()["properties"]["id"] == again.json()["properties"]["id"]
    assert Case.objects.count() == 1
    other = post(api, body, **{"Idempotency-Key": "abc-124"})
    assert other.json()["properties"]["id"] != first.json()["properties"]["id"]


def test_me_too_links_a_nearby_repeat_and_dispatcher_can_unlink(api, world):
    from tests.factories_incidents import make_user

    first = post(api, {"category": "0101", "lon": 105.41, "lat": 28.93}).json()["properties"]
    # 0.0002° of latitude ≈ 22 m away: within 30 m, same category, open → a duplicate.
    second = post(api, {"category": "0101", "lon": 105.41, "lat": 28.9302}).json()["properties"]
    assert second["status"] == "duplicate" and second["duplicate_of"] == first["id"]
    original = Case.objects.get(pk=first["id"])
    assert original.me_too_count == 1
    # 0.0004° ≈ 44 m: too far; another category: not a duplicate either.
    far = post(api, {"category": "0101", "lon": 105.41, "lat": 28.9304}).json()["properties"]
    other = post(api, {"category": "0702", "lon": 105.41, "lat": 28.9301}).json()["properties"]
    assert far["status"] == "reported" and other["status"] == "reported"

    dispatcher = make_user("dispatcher", name="调度员")
    api.force_authenticate(dispatcher)
    response = api.post(f"{URL}{second['id']}/unlink/", {"version": second["version"]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["properties"]["status"] == "reported"
    assert response.json()["properties"]["duplicate_of"] is None
    original.refresh_from_db()
    assert original.me_too_count == 0


@pytest.mark.parametrize(
    ("bearing", "metres", "duplicate"),
    [
        (90, 29.0, True),
        (90, 31.0, False),  # east: a degree of longitude is ~97 km here, not 111 km
        (0, 29.0, True),
        (0, 31.0, False),  # north
        (225, 29.5, True),
        (225, 30.5, False),  # south-west, both axes at once
    ],
)
def test_me_too_radius_is_metres_in_every_direction(api, world, bearing, metres, duplicate):
    """The candidate box in degrees holds the whole R-metre circle; the exact test is in metres
    (pyproj's geodesic, an independent reference, places the second report)."""
    from pyproj import Geod

    first = post(api, {"category": "0101", "lon": 105.41, "lat": 28.93}).json()["properties"]
    lon, lat, _ = Geod(ellps="WGS84").fwd(105.41, 28.93, bearing, metres)
    second = post(api, {"category": "0101", "lon": lon, "lat": lat}).json()["properties"]
    assert (second["duplicate_of"] == first["id"]) is duplicate, second["status"]


def test_old_or_closed_cases_attract_no_duplicates(api, world):
    import datetime

    first = post(api, {"category": "0101", "lon": 105.41, "lat": 28.93}).json()["properties"]
    Case.objects.filter(pk=first["id"]).update(
        reported_at=Case.objects.get(pk=first["id"]).reported_at - datetime.timedelta(days=4)
    )
    again = post(api, {"category": "0101", "lon": 105.41, "lat": 28.93}).json()["properties"]
    assert again["status"] == "reported"  # the first is older than 3 days
    Case.objects.filter(pk=again["id"]).update(status=Status.CLOSED)
    third = post(api, {"category": "0101", "lon": 105.41, "lat": 28.93}).json()["properties"]
    assert third["status"] == "reported"


def test_photos_are_stored_and_bad_files_refused(api, world):
    response = api.post(
        URL,
        {
            "category": "0101",
            "lon": "105.41",
            "lat": "28.93",
            "photos": [image_upload("a.png"), image_upload("b.jpg", "JPEG")],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    case = Case.objects.get(pk=response.json()["properties"]["id"])
    assert [(p.kind, p.width, p.height) for p in case.photos.all()] == [("report", 8, 6), ("report", 8, 6)]

    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("evil.png", b"<?php echo 1; ?>", content_type="image/png")
    response = api.post(
        URL, {"category": "0101", "lon": "105.41", "lat": "28.93", "photos": [fake]}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("photos")
    truncated = SimpleUploadedFile("cut.png", image_bytes("PNG", (64, 64))[:60], content_type="image/png")
    response = api.post(
        URL, {"category": "0101", "lon": "105.41", "lat": "28.93", "photos": [truncated]}, format="multipart"
    )
    assert response.status_code == 400
    gif = SimpleUploadedFile("x.gif", image_bytes("GIF"), content_type="image/gif")
    response = api.post(URL, {"category": "0101", "lon": "105.41", "lat": "28.93", "photos": [gif]}, format="multipart")
    assert response.status_code == 400 and "GIF" in response.json()["detail"]
    assert Case.objects.count() == 1  # nothing stored half-way


def test_photo_limits(api, world, settings):
    settings.GRIDGIS = {**settings.GRIDGIS, "PHOTO_MAX_PIXELS": 100, "PHOTO_MAX_BYTES": 10_000}
    big = image_upload("big.png", size=(20, 20))  # 400 pixels > 100
    response = api.post(URL, {"category": "0101", "lon": "105.41", "lat": "28.93", "photos": [big]}, format="multipart")
    assert response.status_code == 400 and "pixels" in response.json()["detail"]
    settings.GRIDGIS = {**settings.GRIDGIS, "PHOTO_MAX_BYTES": 50}
    response = api.post(
        URL, {"category": "0101", "lon": "105.41", "lat": "28.93", "photos": [image_upload()]}, format="multipart"
    )
    assert response.status_code == 400 and "bytes" in response.json()["detail"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"lon": 105.41, "lat": 28.93}, "category"),
        ({"category": "9999", "lon": 105.41, "lat": 28.93}, "category"),
        ({"category": "0101"}, "geometry"),
        ({"category": "0101", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}, "geometry"),
        ({"category": "0101", "geometry": {"type": "Point", "coordinates": ["a", 1]}}, "geometry"),
        ({"category": "0101", "lon": 205, "lat": 28.93}, "lon"),
        ({"category": "0101", "lon": 105.41, "lat": 28.93, "srs": "EPSG:3857"}, "srs"),
        ({"category": "0101", "lon": 105.41, "lat": 28.93, "source": "martians"}, "source"),
    ],
)
def test_bad_input_is_refused_naming_the_field(api, world, body, field):
    response = post(api, body)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(field), response.json()
    assert Case.objects.count() == 0 and TrailEntry.objects.count() == 0


def _prepared_plans(statement):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = %s", [statement]
        )
        return cursor.fetchone()


def _plan_cache_mode():
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        return cursor.fetchone()[0]


def test_the_intake_statement_is_planned_once_and_the_session_keeps_its_planner_setting(api, world):
    """Left to itself PostgreSQL planned the intake statement anew for every report (about as long as
    running it); it runs on its generic plan instead, and the session's setting is as it was after."""
    # The statement is prepared once per connection, which earlier tests may have used already.
    before = _prepared_plans(sql.INTAKE_FACTS) or (0, 0)
    for index in range(8):
        response = post(api, {"category": "0101", "lon": 105.405 + index * 0.001, "lat": 28.93, "description": "x"})
        assert response.status_code == 201, response.json()
    generic, custom = _prepared_plans(sql.INTAKE_FACTS)
    assert (generic - before[0], custom - before[1]) == (8, 0)
    assert _plan_cache_mode() == "auto"


def test_a_failed_generic_plan_call_leaves_the_session_setting_as_it_was(db):
    with pytest.raises(DataError), transaction.atomic():
        execute_prepared("SELECT 1 / $1::int", [0], generic_plan=True)
    assert _plan_cache_mode() == "auto"
    assert execute_prepared("SELECT 1 / $1::int", [1]) == (1,)
