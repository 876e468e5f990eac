"""Inspection points, patrols, track uploads (GeoJSON, GPX, malformed), check-ins, ledger, schedules."""

import datetime
import importlib
import json

import pytest
from django.contrib.gis.geos import LineString, MultiLineString, Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from common.crs import wgs84_to_gcj02
from layers.grids.models import DutyKind
from layers.inspections.categories import CATEGORIES, ensure_categories
from layers.inspections.models import CheckIn, Patrol
from tests.factories import make_duty, make_person, small_tree
from tests.factories_estates import make_patrol, make_point, make_user

pytestmark = pytest.mark.django_db


def at(text: str) -> datetime.datetime:
    """A time in the server's zone (Asia/Shanghai), e.g. at("2026-11-17 09:00")."""
    return timezone.make_aware(datetime.datetime.fromisoformat(text))


def meridian(lon=105.41, lat_from=28.89, lat_to=28.93):
    return MultiLineString(LineString((lon, lat_from), (lon, lat_to)), srid=4326)


@pytest.fixture
def tree():
    grids = small_tree()
    grids["officer"] = make_person("李网格员")
    make_duty(grids["g1"], DutyKind.OFFICER, grids["officer"])
    return grids


@pytest.fixture
def user(api, tree):
    """The officer 李网格员's own account."""
    user = make_user("officer-app", person=tree["officer"])
    api.force_authenticate(user)
    return user


@pytest.fixture
def supervisor(api):
    user = make_user("inspection-office", "supervisor")
    api.force_authenticate(user)
    return user


@pytest.fixture
def patrol(tree):
    return make_patrol(tree["officer"], tree["g1"], at("2026-11-17 09:00"), hours=3)


# --- points -----------------------------------------------------------------------------------------


def test_point_gets_its_grid_and_street_from_its_location(api, tree, supervisor):
    ensure_categories()
    body = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [105.41, 28.91]},
        "properties": {"name": "<script>蔬菜市场</script>", "category": "farmers-market"},
    }
    response = api.post("/api/v1/inspection-points/", body, format="json")
    assert response.status_code == 201, response.json()
    properties = response.json()["properties"]
    # (105.41, 28.91) is in micro-grid m2 (south of 28.92) of grid g1, street s1.
    assert (properties["grid"], properties["street"]) == ("510502001001001002", "510502001")
    assert properties["category_name"] == "农贸市场"
    body["properties"]["category"] = "moon-base"
    assert api.post("/api/v1/inspection-points/", body, format="json").json()["detail"].startswith("category:")


def test_at_least_thirty_point_categories_are_seeded(api):
    # Migration 0002 inserts a frozen copy of layers.inspections.categories.CATEGORIES.
    migration = importlib.import_module("layers.inspections.migrations.0002_seed_categories")
    assert migration.CATEGORIES == CATEGORIES
    ensure_categories()  # idempotent; restores rows a transactional test's flush removed
    categories = api.get("/api/v1/inspection-categories/").json()
    assert len(categories) >= 30
    names = {c["name"] for c in categories}
    assert {"农贸市场", "背街小巷", "城市公园", "中小学校周边", "火车站", "医院", "公共厕所", "建筑工地"} <= names


# --- check-ins --------------------------------------------------------------------------------------


def test_check_in_within_50_m_is_accepted_and_beyond_is_refused_with_the_distance(api, tree, user, patrol):
    point = make_point(Point(105.41, 28.91, srid=4326), name="蔬菜市场")
    url = f"/api/v1/patrols/{patrol.id}/check-ins/"
    # 0.0004° north of the point: 0.0004 × 110,834 m per degree of latitude here = 44.33 m.
    near = api.post(
        url,
        {"point": point.id, "lon": 105.41, "lat": 28.9104, "checked_at": "2026-11-17T10:00:00+08:00"},
        format="json",
    )
    assert near.status_code == 201, near.json()
    assert near.json()["distance_m"] == pytest.approx(44.33, abs=0.05)
    second = make_point(Point(105.412, 28.91, srid=4326), name="公厕")
    # 0.0005° north of the second point: 55.42 m, over the 50 m limit.
    far = api.post(
        url,
        {"point": second.id, "lon": 105.412, "lat": 28.9105, "checked_at": "2026-11-17T10:10:00+08:00"},
        format="json",
    )
    assert far.status_code == 400
    assert far.json()["detail"] == "location: 55.4 m from 公厕; check-ins are accepted within 50 m"
    assert CheckIn.objects.count() == 1
    # Checking in twice at one point on one patrol is refused.
    again = api.post(
        url, {"point": point.id, "lon": 105.41, "lat": 28.91, "checked_at": "2026-11-17T10:20:00+08:00"}, format="json"
    )
    assert again.status_code == 400
    assert again.json()["detail"] == "point: already checked in at 蔬菜市场 on this patrol"
    # Outside the patrol's hours (09:00-12:00).
    late = api.post(
        url,
        {"point": second.id, "lon": 105.412, "lat": 28.91, "checked_at": "2026-11-17T13:00:00+08:00"},
        format="json",
    )
    assert late.status_code == 400
    assert late.json()["detail"].startswith("checked_at:")


def test_check_in_distance_is_configurable(api, tree, user, patrol, settings):
    settings.GRIDGIS = {**settings.GRIDGIS, "CHECKIN_MAX_DISTANCE_M": 60}
    point = make_point(Point(105.412, 28.91, srid=4326))
    response = api.post(
        f"/api/v1/patrols/{patrol.id}/check-ins/",
        {"point": point.id, "lon": 105.412, "lat": 28.9105, "checked_at": "2026-11-17T10:00:00+08:00"},
        format="json",
    )
    assert response.status_code == 201  # 55.42 m is within 60 m


def test_check_in_position_may_come_from_a_gcj02_phone(api, tree, user, patrol):
    point = make_point(Point(105.41, 28.91, srid=4326))
    lon, lat = wgs84_to_gcj02(105.41, 28.91)  # what a Gaode-based app reports standing on the point
    response = api.post(
        f"/api/v1/patrols/{patrol.id}/check-ins/",
        {
            "point": point.id,
            "lon": float(lon),
            "lat": float(lat),
            "srs": "gcj02",
            "checked_at": "2026-11-17T10:00:00+08:00",
        },
        format="json",
    )
    assert response.status_code == 201
    # Unconverted, the GCJ-02 offset here is several hundred metres; converted, under 1 m.
    assert response.json()["distance_m"] < 1


# --- patrols and track uploads ---------------------------------------------------------------------


def test_patrol_takes_the_officers_grid_unless_named(api, tree, user):
    response = api.post(
        "/api/v1/patrols/", {"officer": tree["officer"].id, "started_at": "2026-11-17T09:00:00+08:00"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["properties"]["grid"] == "510502001001001"
    stranger = make_person("路人")
    # An officer records only their own patrols ...
    response = api.post(
        "/api/v1/patrols/", {"officer": stranger.id, "started_at": "2026-11-17T09:00:00+08:00"}, format="json"
    )
    assert response.status_code == 403
    # ... a supervisor may record anyone's, but a person without an officer duty needs a grid.
    api.force_authenticate(make_user("inspection-office", "supervisor"))
    response = api.post(
        "/api/v1/patrols/", {"officer": stranger.id, "started_at": "2026-11-17T09:00:00+08:00"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "grid: 路人 holds no officer duty on that day; name the grid"


def test_geojson_track_upload(api, tree, user, patrol):
    url = f"/api/v1/patrols/{patrol.id}/track/"
    line = {"type": "LineString", "coordinates": [[105.41, 28.90], [105.41, 28.91], [105.415, 28.91]]}
    response = api.post(url, {"track": {"type": "Feature", "geometry": line, "properties": {}}}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["geometry"]["type"] == "MultiLineString"
    assert response.json()["properties"]["track_positions"] == 3
    assert response.json()["properties"]["track_uploaded_by"] == "officer-app"
    assert response.json()["properties"]["track_uploaded_at"]
    # The same walk given in CGCS2000 GK zone CM 105°E (EPSG:4544) metres lands on the same place.
    patrol.refresh_from_db()
    projected = patrol.track.transform(4544, clone=True)
    body = {"track": json.loads(projected.json), "srs": "EPSG:4544"}
    assert api.post(url, body, format="json").status_code == 200
    patrol.refresh_from_db()
    assert patrol.track.coords[0][0] == pytest.approx((105.41, 28.90), abs=1e-7)


GPX = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
  <trk><name>走院落</name>
    <trkseg>
      <trkpt lat="28.900" lon="105.410"><time>2026-11-17T01:00:00Z</time></trkpt>
      <trkpt lat="28.905" lon="105.410"><time>2026-11-17T01:10:00Z</time></trkpt>
    </trkseg>
    <trkseg>
      <trkpt lat="28.910" lon="105.410"><time>2026-11-17T01:30:00Z</time></trkpt>
      <trkpt lat="28.910" lon="105.415"><time>2026-11-17T02:30:00Z</time></trkpt>
    </trkseg>
  </trk>
</gpx>
"""


def test_gpx_upload_keeps_segments_apart_and_fills_the_end_time(api, tree, user):
    patrol = Patrol.objects.create(officer=tree["officer"], grid=tree["g1"], started_at=at("2026-11-17 09:00"))
    upload = SimpleUploadedFile("walk.gpx", GPX.encode(), content_type="application/gpx+xml")
    response = api.post(f"/api/v1/patrols/{patrol.id}/track/", {"file": upload}, format="multipart")
    assert response.status_code == 200, response.json()
    patrol.refresh_from_db()
    # Two segments stay two parts: the signal gap 28.905 → 28.910 is not drawn as walked.
    assert len(patrol.track) == 2
    assert patrol.track_positions == 4
    assert patrol.ended_at == at("2026-11-17 10:30")  # 02:30 UTC, the last GPX time
    # GPX text in a JSON body works too.
    assert api.post(f"/api/v1/patrols/{patrol.id}/track/", {"gpx": GPX}, format="json").status_code == 200


MALFORMED = [
    ({"track": "{not json"}, "track: not valid JSON"),
    (
        {"track": {"type": "Point", "coordinates": [105.41, 28.91]}},
        "track: geometry type Point: a track is a LineString or MultiLineString",
    ),
    (
        {"track": {"type": "LineString", "coordinates": [[105.41, 28.91]]}},
        "track: LineString: a line needs at least 2 positions, got 1",
    ),
    (
        {"track": {"type": "LineString", "coordinates": [[105.41, 28.91], ["105.42", 28.91]]}},
        'track: LineString position 1: coordinates must be numbers, got ["105.42", 28.91]',
    ),
    (
        {"track": {"type": "LineString", "coordinates": [[105.41, 28.91], [105.42, 95]]}},
        "track: LineString position 1: (105.42, 95) is outside longitude -180..180 / latitude -90..90",
    ),
    ({"track": {"type": "LineString"}}, "track: the LineString has no 'coordinates'"),
    (
        {"track": {"type": "FeatureCollection", "features": []}},
        "track: a FeatureCollection track must hold exactly one feature, it holds 0",
    ),
    (
        {
            "track": {
                "type": "LineString",
                "coordinates": [[105.41, 28.91], [105.42, 28.91]],
                "crs": {"type": "name", "properties": {"name": "EPSG:4544"}},
            }
        },
        "track: GeoJSON 'crs' members are not read; pass the srs parameter instead",
    ),
    (
        {"track": {"type": "LineString", "coordinates": [[105.41, 28.91], [105.42, 28.91]]}, "srs": "EPSG:3857"},
        "srs: unknown srs 'EPSG:3857'",
    ),
    ({"gpx": "<gpx><trk><trkseg><trkpt lat='28.9' lon='105.4'></trkseg></gpx>"}, "track: GPX is not well-formed XML"),
    (
        {"gpx": '<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><wpt lat="28.9" lon="105.4"/></gpx>'},
        "track: the GPX file has no track points (trk/trkseg/trkpt) and no route points (rte/rtept)",
    ),
    ({}, "track: send exactly one of file (multipart), track (GeoJSON) or gpx (text); got none"),
    (
        {"gpx": GPX, "track": {"type": "LineString", "coordinates": [[105.41, 28.91], [105.42, 28.91]]}},
        "track: send exactly one of file (multipart), track (GeoJSON) or gpx (text); got track, gpx",
    ),
]


@pytest.mark.parametrize(("body", "message"), MALFORMED)
def test_malformed_tracks_get_a_400_saying_what_is_wrong(api, tree, user, patrol, body, message):
    response = api.post(f"/api/v1/patrols/{patrol.id}/track/", body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith(message)
    patrol.refresh_from_db()
    assert patrol.track is None  # nothing stored half-way


def test_malformed_gpx_file_upload(api, tree, user, patrol):
    upload = SimpleUploadedFile("walk.gpx", b"<gpx><trk>", content_type="application/gpx+xml")
    response = api.post(f"/api/v1/patrols/{patrol.id}/track/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("track: GPX is not well-formed XML")


def test_uploads_and_check_ins_are_the_patrols_own_officers(api, tree, patrol):
    line = {"type": "LineString", "coordinates": [[105.41, 28.90], [105.41, 28.91]]}
    url = f"/api/v1/patrols/{patrol.id}/track/"
    assert api.post(url, {"track": line}, format="json").status_code == 403  # anonymous
    # Another officer of the same grid sees 李's patrol but cannot upload a track or check in on it.
    other = make_person("赵网格员")
    make_duty(tree["g1"], DutyKind.OFFICER, other)
    api.force_authenticate(make_user("zhao", person=other))
    response = api.post(url, {"track": line}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "only the patrol's own officer or a supervisor may change it"
    point = make_point(Point(105.41, 28.91, srid=4326))
    response = api.post(
        f"/api/v1/patrols/{patrol.id}/check-ins/",
        {"point": point.id, "lon": 105.41, "lat": 28.91, "checked_at": "2026-11-17T10:00:00+08:00"},
        format="json",
    )
    assert response.status_code == 403
    # An officer of another grid does not even see it (issue 7: out of scope reads as absent).
    elsewhere = make_person("钱网格员")
    make_duty(tree["g2"], DutyKind.OFFICER, elsewhere)
    api.force_authenticate(make_user("qian", person=elsewhere))
    assert api.post(url, {"track": line}, format="json").status_code == 404
    # A supervisor may correct it.
    api.force_authenticate(make_user("inspection-office", "supervisor"))
    assert api.post(url, {"track": line}, format="json").status_code == 200


# --- ledger and schedules --------------------------------------------------------------------------


def test_ledger_per_officer_grid_and_week(api, tree, supervisor):
    other = make_person("赵网格员")
    point = make_point(Point(105.41, 28.91, srid=4326))
    # Week of Monday 2026-11-16: two patrols of 3 h and 2 h for 李, each walking 0.02° of meridian
    # (28.89-28.91: 2 × 1108.34 m = 2216.69 m); one check-in.
    first = make_patrol(
        tree["officer"], tree["g1"], at("2026-11-17 09:00"), hours=3, track=meridian(lat_from=28.89, lat_to=28.91)
    )
    make_patrol(
        tree["officer"], tree["g1"], at("2026-11-19 14:00"), hours=2, track=meridian(lat_from=28.89, lat_to=28.91)
    )
    from layers.inspections import services

    services.check_in(
        patrol=first, point=point, location=Point(105.41, 28.91, srid=4326), checked_at=at("2026-11-17 10:00")
    )
    # The next week, and another officer in grid g2.
    make_patrol(tree["officer"], tree["g1"], at("2026-11-24 09:00"), hours=1)
    make_patrol(other, tree["g2"], at("2026-11-18 09:00"), hours=1)
    rows = api.get("/api/v1/patrols/ledger/", {"since": "2026-11-16", "until": "2026-11-29"}).json()
    summary = [(r["week_of"], r["officer"], r["grid_code"], r["patrols"], r["check_ins"], r["hours"]) for r in rows]
    assert summary == [
        ("2026-11-16", "李网格员", "510502001001001", 2, 1, 5.0),
        ("2026-11-16", "赵网格员", "510502001001002", 1, 0, 1.0),
        ("2026-11-23", "李网格员", "510502001001001", 1, 0, 1.0),
    ]
    assert rows[0]["track_metres"] == pytest.approx(2 * 2216.69, abs=0.1)
    # Filters: one grid's subtree, one officer.
    only_g2 = api.get(
        "/api/v1/patrols/ledger/", {"since": "2026-11-16", "until": "2026-11-29", "grid": "510502001001002"}
    ).json()
    assert [r["officer"] for r in only_g2] == ["赵网格员"]


def test_schedule_attendance_lists_who_missed_the_day(api, tree, supervisor):
    other = make_person("赵网格员")
    make_duty(tree["g2"], DutyKind.OFFICER, other)
    elsewhere = make_person("钱网格员")
    make_duty(tree["c2"], DutyKind.OFFICER, elsewhere)  # outside the schedule's community
    created = api.post(
        "/api/v1/patrol-schedules/",
        {"name": "走院落", "weekday": 1, "scope": "510502001001", "starts_on": "2026-01-01"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    # Tuesday 2026-11-17: 李 walks; 赵 walks on Wednesday instead, which does not count.
    make_patrol(tree["officer"], tree["g1"], at("2026-11-17 09:00"))
    make_patrol(other, tree["g2"], at("2026-11-18 09:00"))
    body = api.get(f"/api/v1/patrol-schedules/{created.json()['id']}/attendance/", {"week": "2026-11-20"}).json()
    assert body["day"] == "2026-11-17"
    assert [p["name"] for p in body["walked"]] == ["李网格员"]
    assert [p["name"] for p in body["missed"]] == ["赵网格员"]
    bad = api.post(
        "/api/v1/patrol-schedules/",
        {"name": "x", "weekday": 7, "scope": "510502001001", "starts_on": "2026-01-01"},
        format="json",
    )
    assert bad.status_code == 400
    assert bad.json()["detail"].startswith("weekday:")


def test_a_scheduled_day_still_to_come_has_nobody_missing(api, tree, supervisor):
    from layers.inspections import services

    today = timezone.localdate()
    schedule = services.create_schedule(
        name="走院落",
        weekday=(today.weekday() + 1) % 7,
        scope=tree["c1"],
        starts_on=today - datetime.timedelta(days=30),
    )
    # The default is the latest scheduled day so far: yesterday's weekday, six days ago.
    body = api.get(f"/api/v1/patrol-schedules/{schedule.id}/attendance/").json()
    assert body["day"] == str(today - datetime.timedelta(days=6))
    assert (body["upcoming"], [p["name"] for p in body["missed"]]) == (False, ["李网格员"])
    # This week's day is tomorrow (or later this week): nobody has missed it yet.
    tomorrow = today + datetime.timedelta(days=1)
    body = api.get(f"/api/v1/patrol-schedules/{schedule.id}/attendance/", {"week": str(tomorrow)}).json()
    assert (body["day"], body["upcoming"], body["missed"]) == (str(tomorrow), True, [])


def test_patrols_listed_as_geojson_by_bbox_and_point_moves_with_its_location(api, tree, supervisor):
    make_patrol(tree["officer"], tree["g1"], at("2026-11-17 09:00"), track=meridian())
    make_patrol(tree["officer"], tree["g1"], at("2026-11-18 09:00"), track=meridian(lon=105.48))
    listing = api.get("/api/v1/patrols/", {"in_bbox": "105.40,28.88,105.42,28.94"}).json()
    assert listing["type"] == "FeatureCollection"
    assert [f["properties"]["started_at"][:10] for f in listing["features"]] == ["2026-11-17"]
    point = make_point(Point(105.41, 28.93, srid=4326))  # micro-grid m1 (north of 28.92)
    url = f"/api/v1/inspection-points/{point.id}/"
    assert api.get(url).json()["properties"]["grid"] == "510502001001001001"
    moved = api.patch(
        url,
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [105.43, 28.93]}, "properties": {}},
        format="json",
    )
    assert moved.status_code == 200, moved.json()
    assert moved.json()["properties"]["grid"] == "510502001001002"  # grid g2 has no micro-grids


def test_an_officer_ends_their_patrol(api, tree, user):
    created = api.post(
        "/api/v1/patrols/", {"officer": tree["officer"].id, "started_at": "2026-11-17T09:00:00+08:00"}, format="json"
    ).json()
    url = f"/api/v1/patrols/{created['id']}/"
    early = api.patch(url, {"ended_at": "2026-11-17T08:00:00+08:00"}, format="json")
    assert early.status_code == 400
    assert early.json()["detail"] == "ended_at: a patrol cannot end before it starts"
    moved = api.patch(url, {"started_at": "2026-11-17T07:00:00+08:00"}, format="json")
    assert moved.status_code == 400
    assert moved.json()["detail"] == "started_at: cannot be changed after the patrol is recorded"
    ended = api.patch(url, {"ended_at": "2026-11-17T11:30:00+08:00", "note": "走完"}, format="json")
    assert ended.status_code == 200, ended.json()
    assert ended.json()["properties"]["ended_at"] == "2026-11-17T11:30:00+08:00"
