"""Issue 7, "who may do what": role x endpoint -> allowed / 403 / 404 and the rows each role sees.

The world is small_tree (district 510502: street s1 with communities c1 and c2, c1 with grids g1 and
g2, g1 with micro-grids m1 and m2; street s2 empty) and one row of each layer placed so that every
role sees a different set:

    case   where          department   reporter   seen (besides dispatcher, supervisor, admin) by
    m1     micro-grid m1  CG (rubbish)  citizen    officer (g1), leader (c1), handler (CG), citizen
    g2     grid g2        SW (manhole)  -          leader (c1)
    s2     street s2      CG (rubbish)  -          handler (CG)
    c2     community c2   SW (manhole)  -          nobody else

The officer holds an officer duty on g1, the leader a leader duty on c1, the handler is staff of the
CG bureau (whose district is 510502); the other roles are groups.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from urllib.parse import quote

import mapbox_vector_tile
import pytest
from django.contrib.auth.models import Group, User
from django.contrib.gis.geos import LineString, MultiLineString, Point
from django.core.cache import caches
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.authtoken.models import Token

from common.throttling import PerIPThrottle
from layers.accounts.roles import ROLE_NAMES, scope_for
from layers.estates.models import Estate, RenovationProject, ResidentSuggestion
from layers.grids.models import DutyKind
from layers.incidents.models import Case
from layers.incidents.services import report_case
from layers.inspections.models import InspectionPoint
from maps import tiles
from tests.factories import make_duty, make_person_on_duty, tree_with_departments
from tests.factories_estates import make_estate, make_patrol, make_point, make_project
from tests.factories_incidents import make_category, make_user
from tests.factories_maps import tile_of

pytestmark = pytest.mark.django_db
ROLES = ("anonymous", "citizen", "officer", "leader", "handler", "dispatcher", "planner", "supervisor", "admin")
WHOLE_DISTRICT = "105.39,28.84,105.51,28.96"


@pytest.fixture
def world():
    grids = tree_with_departments()
    cg = grids["cgj"]
    rubbish = make_category("0101", default_department=cg)
    manhole = make_category("0302", default_department=grids["water"])
    officer = make_person_on_duty(grids["g1"], DutyKind.OFFICER, "李网格员", phone="13811110000")
    leader = make_person_on_duty(grids["c1"], DutyKind.LEADER, "王书记", phone="13822220000")
    g2_officer = make_person_on_duty(grids["g2"], DutyKind.OFFICER, "赵网格员")
    users = {
        "anonymous": None,
        "citizen": make_user("citizen"),
        "officer": make_user(person=officer),
        "leader": make_user(person=leader),
        "handler": make_user(department=cg, name="城管队员"),
        "dispatcher": make_user("dispatcher"),
        "planner": make_user("planner"),
        "supervisor": make_user("supervisor"),
        "admin": make_user(),
    }
    User.objects.filter(pk=users["admin"].pk).update(is_superuser=True, is_staff=True)
    users["admin"].refresh_from_db()

    def report(category, lon, lat, reporter=None):
        return report_case(
            category=category,
            point=Point(lon, lat, srid=4326),
            input_point={},
            input_srs="EPSG:4326",
            reporter=reporter,
            reporter_name="张三" if reporter else "",
            reporter_phone="13900000000" if reporter else "",
        )[0]

    cases = {
        "m1": report(rubbish, 105.41, 28.93, users["citizen"]),
        "g2": report(manhole, 105.43, 28.93),
        "s2": report(rubbish, 105.47, 28.90),
        "c2": report(manhole, 105.42, 28.87),
    }
    points = {"g1": make_point(Point(105.41, 28.93, srid=4326)), "c2": make_point(Point(105.42, 28.87, srid=4326))}
    track = MultiLineString(LineString((105.41, 28.905), (105.41, 28.915)), srid=4326)
    # Started today whatever the hour (between local midnight and now): "patrols-today" lists it.
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    today = midnight + (timezone.now() - midnight) / 2
    patrols = {
        "g1": make_patrol(officer, grids["g1"], today, hours=0, track=track),
        "g2": make_patrol(g2_officer, grids["g2"], today, hours=0),
    }
    estates = {
        "c1": make_estate(grids["c1"], (105.401, 28.931, 105.403, 28.933)),
        "c2": make_estate(grids["c2"], (105.401, 28.861, 105.403, 28.863)),
    }
    projects = {}
    for key, (lon, lat) in {"c1": (105.40, 28.93), "c2": (105.40, 28.86)}.items():
        projects[key] = make_project((lon, lat, lon + 0.01, lat + 0.01), datetime.date(2026, 3, 1))
        projects[key].estates.set([estates[key]])
    return {
        "grids": grids,
        "users": users,
        "cases": cases,
        "points": points,
        "patrols": patrols,
        "estates": estates,
        "projects": projects,
        "cg": cg,
    }


def as_role(api, world, role):
    api.force_authenticate(world["users"][role])
    return api


def ids(body) -> list[int]:
    return sorted(f["id"] for f in body["features"])


def case_ids(world, *keys) -> list[int]:
    return sorted(world["cases"][k].pk for k in keys)


# --- the one module: roles and scope ----------------------------------------------------------------


def test_groups_exist_and_scope_says_who_sees_what(world):
    assert set(ROLE_NAMES) <= set(Group.objects.values_list("name", flat=True))  # migration accounts 0001
    users = world["users"]
    assert scope_for(users["officer"]).grid_prefixes == ("510502001001001",)
    assert scope_for(users["leader"]).grid_prefixes == ("510502001001",)
    handler = scope_for(users["handler"])
    assert (handler.department_id, handler.department_district) == (world["cg"].pk, "510502")
    assert scope_for(users["citizen"]).roles == {"citizen"}
    assert {"admin"} <= scope_for(users["admin"]).roles
    assert scope_for(None).is_anonymous and not scope_for(None).is_staff
    # An ended duty no longer scopes: the officer's duty ended yesterday leaves nothing to see.
    make_duty(
        world["grids"]["g2"],
        DutyKind.OFFICER,
        users["officer"].person,
        starts_on=datetime.date(2020, 1, 1),
        ends_on=timezone.localdate() - datetime.timedelta(days=1),
    )
    assert scope_for(users["officer"]).grid_prefixes == ("510502001001001",)


# --- cases: list, detail, trail, overdue, actions ----------------------------------------------------

CASES_SEEN = {
    "citizen": ("m1",),
    "officer": ("m1",),
    "leader": ("m1", "g2"),
    "handler": ("m1", "s2"),
    "dispatcher": ("m1", "g2", "s2", "c2"),
    "planner": (),
    "supervisor": ("m1", "g2", "s2", "c2"),
    "admin": ("m1", "g2", "s2", "c2"),
}


@pytest.mark.parametrize("role", ROLES)
def test_case_list_detail_and_trail_by_role(api, world, role):
    as_role(api, world, role)
    listed = api.get("/api/v1/incidents/")
    if role == "anonymous":
        assert listed.status_code == 403
        assert "open311" in listed.json()["detail"]
        for key in world["cases"]:
            pk = world["cases"][key].pk
            assert api.get(f"/api/v1/incidents/{pk}/").status_code == 403
            assert api.get(f"/api/v1/incidents/{pk}/trail/").status_code == 403
        return
    seen = CASES_SEEN[role]
    assert listed.status_code == 200 and ids(listed.json()) == case_ids(world, *seen)
    for key, case in world["cases"].items():
        expected = 200 if key in seen else 404  # out of scope: as if it did not exist
        assert api.get(f"/api/v1/incidents/{case.pk}/").status_code == expected, (role, key)
        assert api.get(f"/api/v1/incidents/{case.pk}/trail/").status_code == expected, (role, key)
    # The overdue list and its summary count the same scope (every case is late an hour from now).
    Case.objects.update(due_at=timezone.now() - datetime.timedelta(hours=1))
    assert ids(api.get("/api/v1/incidents/overdue/").json()) == case_ids(world, *seen)
    summary = api.get("/api/v1/incidents/overdue/summary/").json()["levels"]
    assert sum(row["count"] for row in summary) == len(seen)


def test_citizens_read_their_case_without_the_people_staff_read_it_with(api, world):
    url = f"/api/v1/incidents/{world['cases']['m1'].pk}/"
    as_role(api, world, "citizen")
    own = api.get(url).json()
    assert own["properties"]["status"] == "reported" and "officer" not in own["properties"]
    assert [entry["who"] for entry in own["properties"]["trail"]] == [None]
    assert [entry["who"] for entry in api.get(f"{url}trail/").json()] == [None]
    assert "李网格员" not in json.dumps(own, ensure_ascii=False)
    as_role(api, world, "officer")
    staff = api.get(url).json()["properties"]
    assert staff["officer"]["name"] == "李网格员" and staff["provenance"]["officer"]["rule"] == "duty"


def test_actions_on_an_unseen_case_are_404_and_on_a_seen_one_the_workflow_decides(api, world):
    c2 = world["cases"]["c2"]
    as_role(api, world, "officer")
    assert api.post(f"/api/v1/incidents/{c2.pk}/register/", {"version": 1}, format="json").status_code == 404
    m1 = world["cases"]["m1"]
    response = api.post(f"/api/v1/incidents/{m1.pk}/register/", {"version": 1}, format="json")
    assert response.status_code == 403 and "dispatcher" in response.json()["detail"]
    as_role(api, world, "dispatcher")
    assert api.post(f"/api/v1/incidents/{c2.pk}/register/", {"version": 1}, format="json").status_code == 200


def test_anyone_may_still_report_and_open311_stays_public(api, world):
    response = api.post("/api/v1/incidents/", {"category": "0101", "lon": 105.41, "lat": 28.91}, format="json")
    assert response.status_code == 201
    # The anonymous reporter learns where the case stands, not who holds it.
    properties = response.json()["properties"]
    assert properties["grid"] == "510502001001001002" and properties["department"] == "JY-CGJ"
    assert not {"leader", "officer", "provenance"} & set(properties)
    assert "李网格员" not in response.content.decode()
    requests = api.get("/open311/v2/requests.json")
    assert requests.status_code == 200 and len(requests.json()) == 5
    assert "13900000000" not in requests.content.decode() and "张三" not in requests.content.decode()


# --- grids: map layer, detail, extent, tiles, locate ------------------------------------------------

ALL_GRIDS = 9
GRIDS_SEEN = {
    "officer": 3,
    "leader": 5,
    "handler": ALL_GRIDS,
    "dispatcher": ALL_GRIDS,
    "planner": ALL_GRIDS,
    "supervisor": ALL_GRIDS,
    "admin": ALL_GRIDS,
}


@pytest.mark.parametrize("role", ROLES)
def test_map_grid_layer_detail_and_extent_by_role(client, world, role):
    if world["users"][role] is not None:
        client.force_login(world["users"][role])
    response = client.get(
        "/api/v1/map/grids/", {"bbox": WHOLE_DISTRICT, "level": "district,street,community,grid,microgrid"}
    )
    if role in ("anonymous", "citizen"):
        assert response.status_code == 403
        assert client.get("/api/v1/map/grids/510502001001001/").status_code == 403
        assert client.get("/tiles/grids/12/3295/1707.pbf").status_code == 403
        return
    body = json.loads(response.content)
    assert body["numberReturned"] == GRIDS_SEEN[role], role
    # g1 is in every staff scope here; c2 only in the wider ones (404 for the others: no leak).
    assert client.get("/api/v1/map/grids/510502001001001/").status_code == 200
    wide = GRIDS_SEEN[role] == ALL_GRIDS
    assert client.get("/api/v1/map/grids/510502001002/").status_code == (200 if wide else 404)
    assert client.get("/api/v1/map/grids/510502001002/extent/").status_code == (200 if wide else 404)


@pytest.mark.parametrize("role, grids_in_tile", [("officer", 1), ("leader", 2), ("supervisor", 2)])
def test_grid_tiles_hold_the_readers_grids(client, world, role, grids_in_tile):
    client.force_login(world["users"][role])
    z, x, y = tile_of(105.42, 28.925, 12)
    tile = mapbox_vector_tile.decode(client.get(f"/tiles/grids/{z}/{x}/{y}.pbf", {"level": "grid"}).content)
    assert len(tile.get("grids", {}).get("features", [])) == grids_in_tile
    response = client.get(f"/tiles/grids/{z}/{x}/{y}.pbf")
    assert "private" in response["Cache-Control"] and "Cookie" in response["Vary"]


def test_locate_shows_people_to_staff_only(api, world):
    point = {"lon": 105.41, "lat": 28.93}
    public = api.get("/api/v1/locate/", point).json()
    assert [g["code"] for g in public["chain"]][-1] == "510502001001001001"  # the chain is public
    assert public["officers"] == [{"title": "", "grid_code": "510502001001001"}]
    text = json.dumps(public, ensure_ascii=False)
    assert "李网格员" not in text and "13811110000" not in text and "王书记" not in text
    as_role(api, world, "citizen")
    assert "李网格员" not in json.dumps(api.get("/api/v1/locate/", point).json(), ensure_ascii=False)
    as_role(api, world, "handler")
    staff = api.get("/api/v1/locate/", point).json()
    assert staff["officers"][0]["name"] == "李网格员" and staff["officers"][0]["phone"] == "13811110000"


# --- case tiles and counts --------------------------------------------------------------------------

CASE_POINTS_SEEN = {
    "citizen": 1,
    "officer": 1,
    "leader": 2,
    "handler": 2,
    "dispatcher": 4,
    "planner": 0,
    "supervisor": 4,
    "admin": 4,
}
# Counts per grid of a level come from maps_gridcasecount and are shown for the grids of the reader's
# subtree only: per district (low-zoom tiles), only the roles that see every case get 510502's count;
# per community (the heatmap), the leader gets c1's too.
DISTRICT_COUNTS_SEEN = {
    "citizen": 0,
    "officer": 0,
    "leader": 0,
    "handler": 0,
    "dispatcher": 1,
    "planner": 0,
    "supervisor": 1,
    "admin": 1,
}
COMMUNITY_COUNTS_SEEN = {
    "officer": 0,
    "leader": 1,
    "handler": 0,
    "dispatcher": 2,
    "planner": 0,
    "supervisor": 2,
    "admin": 2,
}


@pytest.mark.parametrize("role", ROLES)
def test_case_tiles_and_heatmap_by_role(client, world, role, settings):
    tiles.refresh_case_counts(source=tiles.case_source())
    if world["users"][role] is not None:
        client.force_login(world["users"][role])
    # Zoom-8 tile 202/106 spans 104.06-105.47°E: it holds the four cases (s2 at 105.47 in its buffer).
    z, x, y = tile_of(105.44, 28.90, 8)
    settings.GRIDGIS = {**settings.GRIDGIS, "CASE_TILE_POINT_ZOOM": 8}  # cases as points from zoom 8
    response = client.get(f"/tiles/incidents/{z}/{x}/{y}.pbf")
    if role == "anonymous":
        assert response.status_code == 403
        assert client.get("/api/v1/map/case-counts/", {"bbox": WHOLE_DISTRICT}).status_code == 403
        return
    layer = mapbox_vector_tile.decode(response.content).get("cases", {"features": []})
    assert sum(f["properties"]["count"] for f in layer["features"]) == CASE_POINTS_SEEN[role], role
    settings.GRIDGIS = {**settings.GRIDGIS, "CASE_TILE_POINT_ZOOM": 16}  # counts per district at zoom 8
    counts = mapbox_vector_tile.decode(client.get(f"/tiles/incidents/{z}/{x}/{y}.pbf").content)
    assert len(counts.get("case_counts", {}).get("features", [])) == DISTRICT_COUNTS_SEEN[role], role
    heat = client.get("/api/v1/map/case-counts/", {"bbox": WHOLE_DISTRICT, "level": "community"})
    if role == "citizen":
        assert heat.status_code == 403  # the heatmap is a staff layer
    else:
        assert json.loads(heat.content)["numberReturned"] == COMMUNITY_COUNTS_SEEN[role], role


# --- OGC collections --------------------------------------------------------------------------------

OGC_SEEN = {
    # role: (cases, grids, inspection-points, patrols-today, estates, renovation-projects, audit-findings ok)
    "citizen": (1, 0, 0, 0, 0, 0, False),
    "officer": (1, 3, 1, 1, 0, 0, False),
    "leader": (2, 5, 1, 1, 1, 1, False),
    "handler": (2, ALL_GRIDS, 0, 0, 0, 0, False),
    "dispatcher": (4, ALL_GRIDS, 0, 0, 0, 0, False),
    "planner": (0, ALL_GRIDS, 0, 0, 2, 2, False),
    "supervisor": (4, ALL_GRIDS, 2, 1, 2, 2, True),
    "admin": (4, ALL_GRIDS, 2, 1, 2, 2, True),
}


@pytest.mark.parametrize("role", ROLES)
def test_ogc_collections_by_role(api, world, role):
    as_role(api, world, role)
    names = ("cases", "grids", "inspection-points", "patrols-today", "estates", "renovation-projects")
    if role == "anonymous":
        assert api.get("/ogc/").status_code == 200  # the landing page is public
        for name in names:
            assert api.get(f"/ogc/collections/{name}/items").status_code == 403
        return
    matched = tuple(api.get(f"/ogc/collections/{name}/items").json()["numberMatched"] for name in names)
    assert matched == OGC_SEEN[role][:6], role
    findings = api.get("/ogc/collections/audit-findings/items").json()["numberMatched"]
    assert findings == 0  # no audit has run; the rule is checked through the rows below
    c2 = world["cases"]["c2"].pk
    assert api.get(f"/ogc/collections/cases/items/{c2}").status_code == (200 if OGC_SEEN[role][0] == 4 else 404)


# --- inspections, estates, audits -------------------------------------------------------------------

LAYERS_SEEN = {
    # role: (points, patrols, estates, projects, suggestions)
    "citizen": (0, 0, 0, 0, 0),
    "officer": (1, 1, 0, 0, 0),
    "leader": (1, 2, 1, 1, 1),
    "handler": (0, 0, 0, 0, 0),
    "dispatcher": (0, 0, 0, 0, 0),
    "planner": (0, 0, 2, 2, 2),
    "supervisor": (2, 2, 2, 2, 2),
    "admin": (2, 2, 2, 2, 2),
}
LAYER_URLS = (
    "/api/v1/inspection-points/",
    "/api/v1/patrols/",
    "/api/v1/estates/",
    "/api/v1/renovation-projects/",
    "/api/v1/resident-suggestions/",
)


def count(response) -> int:
    body = response.json()
    return body["count"] if "count" in body else len(body)


@pytest.mark.parametrize("role", ROLES)
def test_inspections_and_estates_lists_and_details_by_role(api, world, role):
    for estate in world["estates"].values():
        ResidentSuggestion.objects.create(estate=estate, text="加装电梯", submitted_on=datetime.date(2026, 5, 1))
    as_role(api, world, role)
    if role == "anonymous":
        for url in LAYER_URLS:
            response = api.get(url)
            assert response.status_code == 403 and "log in" in response.json()["detail"], url
        return
    assert tuple(count(api.get(url)) for url in LAYER_URLS) == LAYERS_SEEN[role], role
    # Details of rows outside the scope are 404 (c2's point, g2's patrol, c2's estate and project).
    wide_points, wide_patrols, wide_estates = (LAYERS_SEEN[role][i] == 2 for i in (0, 1, 2))
    unseen = {
        f"/api/v1/inspection-points/{world['points']['c2'].pk}/": wide_points,
        f"/api/v1/patrols/{world['patrols']['g2'].pk}/": wide_patrols,
        f"/api/v1/estates/{world['estates']['c2'].pk}/": wide_estates,
        f"/api/v1/renovation-projects/{world['projects']['c2'].pk}/": wide_estates,
    }
    for url, visible in unseen.items():
        assert api.get(url).status_code == (200 if visible else 404), (role, url)


@pytest.mark.parametrize("role", ROLES)
def test_audits_and_assessments_are_supervisors(api, world, role):
    as_role(api, world, role)
    allowed = role in ("supervisor", "admin")
    assert api.get("/api/v1/audits/").status_code == (200 if allowed else 403)
    assert api.get("/api/v1/assessments/", {"quarter": "2026Q3"}).status_code in ((200, 400) if allowed else (403,))


def test_schedules_of_the_readers_grids_and_of_their_ancestors(api, world):
    from layers.inspections import services

    grids = world["grids"]
    made = {
        key: services.create_schedule(name=key, weekday=1, scope=grids[key], starts_on=datetime.date(2026, 1, 1))
        for key in ("s1", "c1", "g2", "c2")
    }
    seen = {
        "officer": ["c1", "s1"],
        "leader": ["c1", "g2", "s1"],
        "handler": [],
        "supervisor": ["c1", "c2", "g2", "s1"],
    }
    for role, names in seen.items():
        as_role(api, world, role)
        assert sorted(row["name"] for row in api.get("/api/v1/patrol-schedules/").json()) == names, role
    as_role(api, world, "officer")
    assert api.get(f"/api/v1/patrol-schedules/{made['c2'].pk}/attendance/").status_code == 404


def test_coverage_holds_the_readers_grids(api, world):
    as_role(api, world, "officer")
    rows = api.get("/api/v1/patrol-coverage/", {"level": "grid"}).json()
    assert [r["code"] for r in rows] == ["510502001001001"]
    as_role(api, world, "supervisor")
    assert [r["code"] for r in api.get("/api/v1/patrol-coverage/", {"level": "grid"}).json()] == [
        "510502001001001",
        "510502001001002",
    ]


# --- sign-in: session for pages, token for mobile clients ---------------------------------------------


def test_map_pages_need_a_staff_sign_in(client, world):
    response = client.get("/map/officer/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=/map/officer/")
    assert client.get("/accounts/login/").status_code == 200
    officer = world["users"]["officer"]
    officer.set_password("s3cret-officer")
    officer.save()
    response = client.post("/accounts/login/", {"username": officer.username, "password": "s3cret-officer"})
    assert response.status_code == 302 and response["Location"] == "/map/"
    page = client.get("/map/officer/")
    assert page.status_code == 200
    # The officer's map opens on their own grid g1 (105.40-105.42 x 28.90-28.95).
    assert "[[28.9, 105.4], [28.95, 105.42]]" in page.content.decode()
    client.post("/accounts/logout/")
    assert client.get("/map/supervisor/").status_code == 302
    client.force_login(world["users"]["citizen"])
    assert client.get("/map/supervisor/").status_code == 403


def test_token_sign_in_for_mobile_clients(api, world):
    handler = world["users"]["handler"]
    handler.set_password("s3cret-handler")
    handler.save()
    wrong = api.post("/api/v1/auth/token/", {"username": handler.username, "password": "nope"}, format="json")
    assert wrong.status_code == 400
    answer = api.post(
        "/api/v1/auth/token/", {"username": handler.username, "password": "s3cret-handler"}, format="json"
    )
    assert answer.status_code == 200 and answer.json()["roles"] == ["handler"]
    token = answer.json()["token"]
    listed = api.get("/api/v1/incidents/", headers={"Authorization": f"Token {token}"})
    assert ids(listed.json()) == case_ids(world, "m1", "s2")
    me = api.get("/api/v1/auth/me/", headers={"Authorization": f"Token {token}"}).json()
    assert me["department_id"] == world["cg"].pk
    assert api.delete("/api/v1/auth/token/", headers={"Authorization": f"Token {token}"}).status_code == 204
    assert not Token.objects.filter(key=token).exists()
    # A revoked or made-up token is refused with 401 and the Token challenge; without one, still 403.
    for key in (token, "0" * 40):
        refused = api.get("/api/v1/incidents/", headers={"Authorization": f"Token {key}"})
        assert refused.status_code == 401 and refused["WWW-Authenticate"] == "Token"
        assert refused.json()["detail"] == "认证令牌无效。"  # "Invalid token.", in the default language
    assert api.get("/api/v1/incidents/").status_code == 403
    assert api.get("/api/v1/incidents/", headers={"Authorization": "Basic Zm9vOmJhcg=="}).status_code == 403


def test_token_sign_in_attempts_are_throttled(api, world, settings):
    settings.GRIDGIS = {
        **settings.GRIDGIS,
        "THROTTLE_RATES": {"ip": None, "user": None, "intake": None, "login": "2/min"},
    }
    guess = {"username": world["users"]["handler"].username, "password": "guess"}
    answers = [api.post("/api/v1/auth/token/", guess, format="json").status_code for _ in range(3)]
    assert answers == [400, 400, 429]


def test_web_sign_in_attempts_are_throttled_too(client, world, settings):
    settings.GRIDGIS = {
        **settings.GRIDGIS,
        "THROTTLE_RATES": {"ip": None, "user": None, "intake": None, "login": "2/min"},
    }
    guess = {"username": world["users"]["handler"].username, "password": "guess"}
    answers = [client.post("/accounts/login/", guess) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]  # the form again with its error, then refused
    assert "too many password attempts" in answers[2].content.decode() and answers[2]["Retry-After"]


def test_token_endpoint_is_in_the_openapi_schema(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/auth/token/"]["post"]
    assert operation["operationId"] == "auth_token_obtain"
    assert "TokenAnswer" in json.dumps(operation["responses"])


# --- mass assignment --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("status", "closed"),
        ("grid", "510502002"),
        ("department", "JY-SW"),
        ("leader", 1),
        ("officer", 1),
        ("version", 9),
        ("escalation_level", 4),
        ("trail", []),
        ("reporter", 1),
        ("due_at", "2030-01-01T00:00:00Z"),
    ],
)
def test_intake_refuses_workflow_fields(api, world, field, value):
    before = Case.objects.count()
    response = api.post(
        "/api/v1/incidents/", {"category": "0101", "lon": 105.41, "lat": 28.91, field: value}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{field}: read-only; set by intake and changed only by the workflow")
    assert Case.objects.count() == before


def test_case_detail_has_no_write_methods(api, world):
    as_role(api, world, "dispatcher")
    pk = world["cases"]["m1"].pk
    for method in (api.put, api.patch):
        assert method(f"/api/v1/incidents/{pk}/", {"status": "closed"}, format="json").status_code == 405
    assert Case.objects.get(pk=pk).status == "reported"


def test_project_status_and_authorship_change_only_through_actions(api, world):
    as_role(api, world, "planner")
    project = world["projects"]["c1"]
    status = project.status
    url = f"/api/v1/renovation-projects/{project.pk}/"
    for body in ({"status": "completed"}, {"properties": {"status": "completed"}}, {"created_by": 1}):
        response = api.patch(url, body, format="json")
        assert response.status_code == 400 and response.json()["detail"].split(":")[0] in ("status", "created_by")
        assert "status/" in response.json()["detail"]
    project.refresh_from_db()
    assert project.status == status and project.created_by is None
    geometry = {
        "type": "Polygon",
        "coordinates": [[[105.4, 28.93], [105.41, 28.93], [105.41, 28.94], [105.4, 28.94], [105.4, 28.93]]],
    }
    before = RenovationProject.objects.count()
    created = api.post(
        "/api/v1/renovation-projects/",
        {
            "type": "Feature",
            "geometry": geometry,
            "properties": {
                "name": "新项目",
                "batch": "plan",
                "starts_on": "2027-01-01",
                "ends_on": "2027-06-30",
                "status": "completed",
            },
        },
        format="json",
    )
    assert created.status_code == 400 and created.json()["detail"].startswith("status: read-only")
    assert RenovationProject.objects.count() == before
    moved = api.post(f"{url}status/", {"status": "approved", "note": "立项"}, format="json")
    assert moved.status_code == 201, moved.json()
    assert moved.status_code == 201 and moved.json()["changed_by"] == world["users"]["planner"].username


def test_suggestion_answers_and_point_grids_are_not_mass_assigned(api, world):
    as_role(api, world, "citizen")
    estate = world["estates"]["c1"]
    response = api.post(
        "/api/v1/resident-suggestions/",
        {"estate": estate.pk, "text": "增设停车位", "status": "answered", "answer": "已采纳"},
        format="json",
    )
    assert response.status_code == 400 and response.json()["detail"].startswith("answer: read-only; a planner")
    assert not ResidentSuggestion.objects.exists()
    as_role(api, world, "supervisor")
    before = InspectionPoint.objects.count()
    response = api.post(
        "/api/v1/inspection-points/",
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [105.41, 28.91]},
            "properties": {"name": "菜市场", "category": world["points"]["g1"].category.code, "grid": "510502002"},
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "grid: read-only; follows the point's location"
    assert InspectionPoint.objects.count() == before


def test_patrol_track_fields_come_only_from_the_upload(api, world):
    as_role(api, world, "officer")
    patrol = world["patrols"]["g1"]
    response = api.patch(f"/api/v1/patrols/{patrol.pk}/", {"track_positions": 99999, "note": "x"}, format="json")
    assert response.status_code == 400 and "POST /api/v1/patrols/{id}/track/" in response.json()["detail"]
    patrol.refresh_from_db()
    assert patrol.track_positions != 99999 and patrol.note != "x"


def test_estate_bodies_naming_workflow_fields_are_refused(api, world):
    as_role(api, world, "planner")
    estate = world["estates"]["c1"]
    response = api.patch(
        f"/api/v1/estates/{estate.pk}/", {"properties": {"status": "x", "name": "改名"}}, format="json"
    )
    assert response.status_code == 400 and response.json()["detail"].startswith("status: read-only")
    assert Estate.objects.get(pk=estate.pk).name != "改名"


WRITABLE = [
    # (role, url, body builder, model counted, field named)
    (
        "planner",
        "/api/v1/work-items/",
        lambda w: {
            "type": "Feature",
            "geometry": None,
            "properties": {"project": w["projects"]["c1"].pk, "kind": "pipes", "quantity": 10, "status": "done"},
        },
        "estates.WorkItem",
        "status",
    ),
    (
        "planner",
        "/api/v1/estates/",
        lambda w: {
            "type": "Feature",
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[105.404, 28.934], [105.405, 28.934], [105.405, 28.935], [105.404, 28.935], [105.404, 28.934]]
                ],
            },
            "properties": {
                "name": "新小区",
                "community": "510502001001",
                "buildings": 1,
                "households": 10,
                "district_code": "510502",
            },
        },
        "estates.Estate",
        "district_code",
    ),
    (
        "supervisor",
        "/api/v1/patrol-schedules/",
        lambda w: {"name": "走院落", "weekday": 1, "scope": "510502001001", "starts_on": "2026-01-01", "created_by": 1},
        "inspections.PatrolSchedule",
        "created_by",
    ),
    (
        "officer",
        "/api/v1/patrols/",
        lambda w: {
            "type": "Feature",
            "geometry": None,
            "properties": {
                "officer": w["users"]["officer"].person.pk,
                "started_at": "2026-11-17T09:00:00+08:00",
                "track_uploaded_by": "officer",
            },
        },
        "inspections.Patrol",
        "track_uploaded_by",
    ),
]


@pytest.mark.parametrize("role, url, body, model, field", WRITABLE, ids=[w[1] for w in WRITABLE])
def test_other_writable_endpoints_refuse_workflow_fields(api, world, role, url, body, model, field):
    from django.apps import apps

    rows = apps.get_model(model).objects.count()
    as_role(api, world, role)
    response = api.post(url, body(world), format="json")
    assert response.status_code == 400 and response.json()["detail"].startswith(f"{field}: read-only;"), response.json()
    assert apps.get_model(model).objects.count() == rows
    # Without that one field the same body is accepted: the refusal was about the field alone.
    fixed = body(world)
    (fixed["properties"] if "properties" in fixed else fixed).pop(field)
    assert api.post(url, fixed, format="json").status_code == 201
    assert apps.get_model(model).objects.count() == rows + 1


# --- throttle counters shared by every worker ---------------------------------------------------------


def test_throttle_counters_are_shared_between_cache_clients(settings):
    """Two cache clients (what two gunicorn workers hold) count one allowance together."""
    settings.GRIDGIS = {**settings.GRIDGIS, "THROTTLE_RATES": {"ip": "3/min", "user": None, "intake": None}}
    worker_a, worker_b = caches.create_connection("throttle"), caches.create_connection("throttle")
    assert worker_a is not worker_b

    def throttle_in(worker):
        return type("WorkerThrottle", (PerIPThrottle,), {"cache": worker})()

    request = RequestFactory().get("/api/v1/incidents/", REMOTE_ADDR="10.0.0.7")
    answers = [throttle_in(worker).allow_request(request, None) for worker in (worker_a, worker_b, worker_a, worker_b)]
    assert answers == [True, True, True, False]  # the 4th request is over 3/min, whichever worker took it


@pytest.mark.django_db(transaction=True)
def test_throttle_counters_are_shared_with_another_process():
    """A request counted in another Python process (another worker) is seen here: the default throttle
    cache is a database table, not the process's own memory."""
    database = connection.settings_dict
    url = f"postgis://{quote(database['USER'] or '', safe='')}@{quote(database['HOST'] or '', safe='')}/{database['NAME']}"
    script = (
        "import django; django.setup()\n"
        "from django.test import RequestFactory\n"
        "from common.throttling import PerIPThrottle\n"
        "from django.conf import settings\n"
        "settings.GRIDGIS['THROTTLE_RATES'] = {'ip': '2/min'}\n"
        "request = RequestFactory().get('/', REMOTE_ADDR='10.0.0.8')\n"
        "print(PerIPThrottle().allow_request(request, None), PerIPThrottle().allow_request(request, None))\n"
    )
    # With DATABASE_URL and DEBUG off the settings want a key of their own (a deployment's rule).
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gridgis.settings",
        "DATABASE_URL": url,
        "DJANGO_SECRET_KEY": "t" * 50,
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    assert done.stdout.split() == ["True", "True"], done.stderr
    from django.conf import settings

    settings.GRIDGIS["THROTTLE_RATES"], rates = {"ip": "2/min"}, settings.GRIDGIS["THROTTLE_RATES"]
    try:
        request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.8")
        assert PerIPThrottle().allow_request(request, None) is False  # the other process used the allowance
    finally:
        settings.GRIDGIS["THROTTLE_RATES"] = rates
