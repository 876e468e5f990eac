"""The estates layer on real PostGIS: CRUD as GeoJSON, status history, work items, totals, suggestions."""

import datetime

import pytest
from django.contrib.gis.geos import LineString, MultiLineString

from layers.estates import services
from layers.estates.models import Batch, ProjectStatus, WorkItem
from layers.grids.models import DutyKind
from tests.factories import make_duty, make_person, small_tree
from tests.factories_estates import make_estate, make_project, make_user

pytestmark = pytest.mark.django_db

# Expected lengths on the WGS84 spheroid (geodesic inverse, e.g. pyproj.Geod(ellps="WGS84").inv):
# 0.01° of latitude at 28.90-28.91°N is 1108.34 m (meridian radius of curvature there ≈ 6,350 km);
# 0.01° of longitude along 28.90°N is 975.33 m (111.32 km · cos 28.9° per degree, on the ellipsoid).
NORTH_SOUTH_001 = 1108.34
EAST_WEST_001 = 975.33


@pytest.fixture
def tree():
    return small_tree()


@pytest.fixture
def user():
    return make_user("planner", "planner")


def feature(geometry, **properties):
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def square(lon_min, lat_min, lon_max, lat_max):
    return {
        "type": "Polygon",
        "coordinates": [
            [[lon_min, lat_min], [lon_max, lat_min], [lon_max, lat_max], [lon_min, lat_max], [lon_min, lat_min]]
        ],
    }


def test_estate_created_and_listed_as_geojson(api, tree, user):
    api.force_authenticate(user)
    body = feature(
        square(105.401, 28.931, 105.403, 28.933),
        name="白塔小区",
        community="510502001001",
        buildings=6,
        households=210,
        year_built=1992,
        management_type="none",
        has_party_organisation=True,
    )
    response = api.post("/api/v1/estates/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["geometry"]["type"] == "MultiPolygon"
    listing = api.get("/api/v1/estates/", {"in_bbox": "105.40,28.93,105.41,28.94"}).json()
    assert listing["type"] == "FeatureCollection"
    assert [f["properties"]["name"] for f in listing["features"]] == ["白塔小区"]
    assert listing["features"][0]["properties"]["is_three_no"] is True
    # A box elsewhere returns nothing.
    assert api.get("/api/v1/estates/", {"in_bbox": "105.46,28.86,105.47,28.87"}).json()["features"] == []


def test_estate_rejects_a_non_community_and_a_bow_tie(api, tree, user):
    api.force_authenticate(user)
    body = feature(square(105.401, 28.931, 105.403, 28.933), name="x", community="510502001001001")
    response = api.post("/api/v1/estates/", body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("community:")
    bow_tie = {
        "type": "Polygon",
        "coordinates": [
            [[105.401, 28.931], [105.403, 28.933], [105.403, 28.931], [105.401, 28.933], [105.401, 28.931]]
        ],
    }
    response = api.post("/api/v1/estates/", feature(bow_tie, name="x", community="510502001001"), format="json")
    assert response.status_code == 400
    assert "boundary: invalid polygon: Self-intersection" in response.json()["detail"]


def test_writes_need_a_planner(api, tree):
    body = feature(square(105.401, 28.931, 105.403, 28.933), name="x", community="510502001001")
    assert api.post("/api/v1/estates/", body, format="json").status_code == 403
    api.force_authenticate(make_user("clerk"))
    response = api.post("/api/v1/estates/", body, format="json")
    assert response.status_code == 403
    assert "planner" in response.json()["detail"]


def test_status_changes_are_recorded_with_who_and_when(api, tree, user):
    api.force_authenticate(user)
    body = feature(
        square(105.401, 28.931, 105.405, 28.935),
        name="白塔片区改造",
        batch="implement",
        starts_on="2026-03-01",
        ends_on="2026-09-30",
        budget="1250000.00",
    )
    created = api.post("/api/v1/renovation-projects/", body, format="json")
    assert created.status_code == 201, created.json()
    project_id = created.json()["id"]
    assert created.json()["properties"]["status"] == "planned"
    url = f"/api/v1/renovation-projects/{project_id}/"
    # Status is read-only in a PATCH: it does not move without the status action.
    api.patch(url, {"properties": {"status": "accepted"}}, format="json")
    assert api.get(url).json()["properties"]["status"] == "planned"
    assert api.post(url + "status/", {"status": "approved", "note": "区住建局批复"}, format="json").status_code == 201
    skipped = api.post(url + "status/", {"status": "accepted"}, format="json")
    assert skipped.status_code == 400
    assert (
        skipped.json()["detail"]
        == "status: a project that is approved cannot become accepted; allowed: under_construction, planned"
    )
    history = api.get(url + "history/").json()
    assert [(h["from_status"], h["to_status"], h["changed_by"]) for h in history] == [
        ("", "planned", "planner"),
        ("planned", "approved", "planner"),
    ]
    assert all(h["changed_at"] for h in history)


def test_project_dates_must_be_in_order(api, tree, user):
    api.force_authenticate(user)
    body = feature(
        square(105.401, 28.931, 105.405, 28.935), name="p", batch="plan", starts_on="2026-09-01", ends_on="2026-03-01"
    )
    response = api.post("/api/v1/renovation-projects/", body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("ends_on:")


def test_pipe_length_comes_from_the_drawn_line(api, tree, user):
    api.force_authenticate(user)
    project = make_project((105.40, 28.90, 105.42, 28.92), datetime.date(2026, 3, 1))
    line = {"type": "LineString", "coordinates": [[105.41, 28.90], [105.41, 28.91]]}
    # The typed quantity (5) is ignored: the metres come from the geometry, measured by PostGIS.
    response = api.post(
        "/api/v1/work-items/", feature(line, project=project.id, kind="pipes", quantity="5"), format="json"
    )
    assert response.status_code == 201, response.json()
    assert float(response.json()["properties"]["quantity"]) == pytest.approx(NORTH_SOUTH_001, abs=0.05)
    assert response.json()["properties"]["unit"] == "m"
    # A two-part pipe network: one meridian leg plus one 0.01° leg along 28.90°N.
    both = MultiLineString(
        LineString((105.41, 28.90), (105.41, 28.91)), LineString((105.40, 28.90), (105.41, 28.90)), srid=4326
    )
    item = services.save_work_item(project=project, kind="pipes", geometry=both)
    assert float(item.quantity) == pytest.approx(NORTH_SOUTH_001 + EAST_WEST_001, abs=0.05)


def test_work_item_geometry_must_fit_its_kind(api, tree, user):
    api.force_authenticate(user)
    project = make_project((105.40, 28.90, 105.42, 28.92))
    point = {"type": "Point", "coordinates": [105.41, 28.91]}
    response = api.post("/api/v1/work-items/", feature(point, project=project.id, kind="pipes"), format="json")
    assert response.status_code == 400
    assert (
        response.json()["detail"] == "geometry: a pipes work item is drawn as LineString or MultiLineString, not Point"
    )
    lamps = {"type": "MultiPoint", "coordinates": [[105.41, 28.91], [105.411, 28.91], [105.412, 28.91]]}
    response = api.post("/api/v1/work-items/", feature(lamps, project=project.id, kind="street_lamp"), format="json")
    assert response.status_code == 201
    assert float(response.json()["properties"]["quantity"]) == 3  # one lamp per point
    response = api.post("/api/v1/work-items/", feature(None, project=project.id, kind="parking_spaces"), format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("quantity:")
    assert WorkItem.objects.count() == 1


def test_totals_per_batch_and_status(api, tree, user):
    api.force_authenticate(user)  # issue 7: reading projects needs a sign-in
    c1 = tree["c1"]
    e1 = make_estate(c1, (105.401, 28.931, 105.403, 28.933), buildings=5, households=150, management_type="none")
    e2 = make_estate(c1, (105.404, 28.931, 105.406, 28.933), buildings=3, households=90, management_type="property")
    e3 = make_estate(c1, (105.407, 28.931, 105.409, 28.933), buildings=10, households=400, management_type="none")
    a = make_project((105.40, 28.93, 105.41, 28.94), datetime.date(2026, 3, 1), budget=1_000_000)
    a.estates.set([e1, e2])
    b = make_project((105.40, 28.93, 105.41, 28.94), datetime.date(2027, 3, 1), batch=Batch.PLAN, budget=300_000)
    b.estates.set([e3])
    services.save_work_item(project=a, kind="pipes", geometry=LineString((105.41, 28.90), (105.41, 28.91), srid=4326))
    services.save_work_item(project=a, kind="pipes", quantity=200)  # typed-in metres, no drawing
    services.save_work_item(project=a, kind="parking_spaces", quantity=21)
    services.save_work_item(project=b, kind="parking_spaces", quantity=8)
    body = api.get("/api/v1/renovation-projects/totals/", {"group": "batch"}).json()
    rows = {row["batch"]: row for row in body["rows"]}
    assert set(rows) == {"implement", "plan"}
    implement = rows["implement"]
    assert (
        implement["projects"],
        implement["estates"],
        implement["buildings"],
        implement["households"],
        implement["three_no_estates"],
    ) == (1, 2, 8, 240, 1)
    # 1108.34 m measured from the drawn meridian leg plus 200 m typed in.
    assert implement["pipe_metres"] == pytest.approx(NORTH_SOUTH_001 + 200, abs=0.05)
    assert implement["parking_spaces"] == 21
    assert float(implement["budget"]) == 1_000_000
    assert (rows["plan"]["households"], rows["plan"]["parking_spaces"], rows["plan"]["pipe_metres"]) == (400, 8, 0)
    # Grouped by batch and status, and filtered to one batch.
    services.change_project_status(project=a, to_status=ProjectStatus.APPROVED, by=None)
    body = api.get("/api/v1/renovation-projects/totals/", {"batch": "implement"}).json()
    assert [(r["batch"], r["status"], r["households"]) for r in body["rows"]] == [("implement", "approved", 240)]
    assert api.get("/api/v1/renovation-projects/totals/", {"group": "street"}).status_code == 400


def test_suggestion_answered_with_who_and_when(api, tree, user):
    estate = make_estate(tree["c1"], (105.401, 28.931, 105.403, 28.933))
    created = api.post("/api/v1/resident-suggestions/", {"estate": estate.id, "text": "<b>加装电梯</b>"}, format="json")
    assert created.status_code == 403
    # A community worker (on duty in the estate's community: the estate is in their scope) records it;
    # only a planner answers.
    worker = make_person("社区工作者")
    make_duty(tree["c1"], DutyKind.LEADER, worker)
    api.force_authenticate(make_user("community-worker", person=worker))
    created = api.post("/api/v1/resident-suggestions/", {"estate": estate.id, "text": "<b>加装电梯</b>"}, format="json")
    assert created.status_code == 201
    assert created.json()["status"] == "received"
    assert created.json()["text"] == "<b>加装电梯</b>"  # stored as given; JSON is not HTML
    url = f"/api/v1/resident-suggestions/{created.json()['id']}/answer/"
    assert api.post(url, {"answer": "好"}, format="json").status_code == 403
    api.force_authenticate(user)
    assert api.post(url, {"answer": " "}, format="json").status_code == 400
    answered = api.post(url, {"answer": "已纳入二期", "status": "adopted"}, format="json").json()
    assert (answered["status"], answered["answered_by"], answered["answer"]) == ("adopted", "planner", "已纳入二期")
    assert answered["answered_at"]


def test_redrawing_a_pipe_re_measures_it(api, tree, user):
    api.force_authenticate(user)
    project = make_project((105.40, 28.90, 105.42, 28.92))
    line = {"type": "LineString", "coordinates": [[105.41, 28.90], [105.41, 28.91]]}
    created = api.post("/api/v1/work-items/", feature(line, project=project.id, kind="pipes"), format="json").json()
    # Redrawn along 28.90°N over 0.01° of longitude: 975.33 m.
    longer = {"type": "LineString", "coordinates": [[105.40, 28.90], [105.41, 28.90]]}
    response = api.patch(f"/api/v1/work-items/{created['id']}/", {"geometry": longer}, format="json")
    assert response.status_code == 200, response.json()
    assert float(response.json()["properties"]["quantity"]) == pytest.approx(EAST_WEST_001, abs=0.05)


def test_estate_patch_keeps_the_rules(api, tree, user):
    api.force_authenticate(user)
    estate = make_estate(tree["c1"], (105.401, 28.931, 105.403, 28.933))
    url = f"/api/v1/estates/{estate.id}/"
    response = api.patch(url, {"properties": {"households": 300, "management_type": "self"}}, format="json")
    assert response.status_code == 200
    assert (response.json()["properties"]["households"], response.json()["properties"]["is_three_no"]) == (300, False)
    response = api.patch(url, {"properties": {"year_built": 1700}}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("year_built:")
