"""GET /api/v1/renovation-projects/{id}/overlay/: grids, people, departments and conflicts under a footprint."""

import datetime

import pytest

from layers.grids.models import DutyKind
from tests.factories import make_department, make_duty, make_person, small_tree
from tests.factories_estates import make_project, make_user

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture(autouse=True)
def planner(api):
    """Issue 7: reading projects needs a sign-in; a planner sees every project."""
    api.force_authenticate(make_user("renovation-office", "planner"))


@pytest.fixture
def tree():
    grids = small_tree()
    make_duty(grids["c1"], DutyKind.LEADER, make_person("王书记"))
    make_duty(grids["s1"], DutyKind.LEADER, make_person("张主任"))
    make_duty(grids["g1"], DutyKind.OFFICER, make_person("李网格员"))
    make_duty(grids["g2"], DutyKind.OFFICER, make_person("赵网格员"))
    make_duty(grids["s1"], DutyKind.PARTNER_DEPARTMENT, make_department("ZJJ", name="住建局"))
    make_duty(grids["c2"], DutyKind.PARTNER_DEPARTMENT, make_department("SWJ", name="水务局"))
    return grids


def overlay(api, project, **params):
    response = api.get(f"/api/v1/renovation-projects/{project.id}/overlay/", params)
    assert response.status_code == 200, response.json()
    return response.json()


def test_overlay_lists_the_grids_people_and_departments_under_the_footprint(api, tree):
    # The footprint straddles lon 105.42, the edge between grids g1 and g2, inside community c1
    # (south of the micro-grid edge at 28.92, so only micro-grid m2 is under it).
    project = make_project((105.415, 28.905, 105.425, 28.915), D(2026, 3, 1), D(2026, 6, 30))
    body = overlay(api, project)
    # Every level under the footprint, district first; micro-grid m1 (north of 28.92) is not.
    assert [g["code"] for g in body["grids"]] == [
        "510502",
        "510502001",
        "510502001001",
        "510502001001001",
        "510502001001002",
        "510502001001001002",
    ]
    codes = {g["code"]: g for g in body["grids"]}
    # The part in g2 is 0.005° × 0.010° = 487.6 m × 1108.3 m on the spheroid ≈ 540,446 m²
    # (geodesic polygon area, e.g. pyproj.Geod(ellps="WGS84").polygon_area_perimeter).
    assert codes["510502001001002"]["overlap_m2"] == pytest.approx(540_446, rel=1e-3)
    # Leaders: the community's (the deepest with one), not the street's. Officers of both grids.
    assert [p["name"] for p in body["leaders"]] == ["王书记"]
    assert sorted(p["name"] for p in body["officers"]) == ["李网格员", "赵网格员"]
    # Departments: the street's partner; c2's department is not under the footprint.
    assert [d["name"] for d in body["departments"]] == ["住建局"]
    assert body["conflicts"] == []
    assert body["buffer_m"] == 50


def test_footprint_touching_a_grid_along_its_edge_does_not_list_it(api, tree):
    # South edge at lat 28.90 is the c1/c2 boundary: c2 shares only a line with the footprint.
    project = make_project((105.401, 28.90, 105.409, 28.91), D(2026, 3, 1))
    codes = [g["code"] for g in overlay(api, project)["grids"]]
    assert "510502001002" not in codes
    assert "510502001001" in codes


def test_conflicts_need_overlap_in_space_and_in_time(api, tree):
    main = make_project((105.40, 28.90, 105.41, 28.91), D(2026, 3, 1), D(2026, 6, 30), name="main")
    # Overlaps a quarter of the footprint and June: a conflict for 2026-06-01..06-30.
    make_project((105.405, 28.905, 105.415, 28.915), D(2026, 6, 1), D(2026, 8, 31), name="june")
    # Open-ended, started before: conflicts for main's whole period, over the whole footprint.
    make_project((105.39, 28.89, 105.42, 28.92), D(2026, 1, 1), None, name="open")
    # Same ground but after main ends: no conflict.
    make_project((105.40, 28.90, 105.41, 28.91), D(2026, 7, 1), D(2026, 9, 30), name="later")
    # Same days but only touching main along lon 105.41: no conflict.
    make_project((105.41, 28.90, 105.42, 28.91), D(2026, 3, 1), D(2026, 6, 30), name="neighbour")
    # Same ground, not scheduled yet: no conflict.
    make_project((105.40, 28.90, 105.41, 28.91), None, None, name="reserve", batch="reserve")
    conflicts = overlay(api, main)["conflicts"]
    assert [c["name"] for c in conflicts] == ["open", "june"]
    opened, june = conflicts
    assert (june["overlap_starts_on"], june["overlap_ends_on"]) == ("2026-06-01", "2026-06-30")
    assert (opened["overlap_starts_on"], opened["overlap_ends_on"]) == ("2026-03-01", "2026-06-30")
    # "june" shares a 0.005° × 0.005° square at 28.905-28.91°N: 487.6 m × 554.2 m ≈ 270,230 m²;
    # "open" covers all of main: 0.01° × 0.01° at 28.90-28.91°N ≈ 975.3 m × 1108.3 m ≈ 1,080,942 m².
    assert june["overlap_m2"] == pytest.approx(270_230, rel=2e-3)
    assert opened["overlap_m2"] == pytest.approx(1_080_942, rel=1e-3)
    # From "june" (105.405-105.415, June-August): main (June), "open", "later" (July-August, same
    # square) and "neighbour" too, whose west half 105.41-105.415 june's footprint does cover.
    june_project = main.__class__.objects.get(name="june")
    assert sorted(c["name"] for c in overlay(api, june_project)["conflicts"]) == ["later", "main", "neighbour", "open"]


def test_overlay_buffer_is_checked(api, tree):
    project = make_project((105.40, 28.90, 105.41, 28.91), D(2026, 3, 1))
    response = api.get(f"/api/v1/renovation-projects/{project.id}/overlay/", {"buffer": "-5"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("buffer:")
    response = api.get(f"/api/v1/renovation-projects/{project.id}/overlay/", {"buffer": "5000"})
    assert response.status_code == 400
    assert response.json()["detail"] == "buffer: at most 2000 metres"
    assert overlay(api, project, buffer=120)["buffer_m"] == 120


def test_overlay_lists_open_cases_inside_the_footprint_and_its_buffer(api, tree):
    from django.contrib.gis.geos import Point
    from django.utils import timezone

    from layers.incidents.models import Case
    from tests.factories_incidents import make_category

    category = make_category("0101", name_zh="暴露垃圾")

    def case(lon, lat, status="dispatched"):
        return Case.objects.create(
            category=category, status=status, location=Point(lon, lat, srid=4326), reported_at=timezone.now()
        )

    project = make_project((105.40, 28.90, 105.41, 28.91), D(2026, 3, 1))
    inside = case(105.405, 28.905)
    case(105.406, 28.906, status="closed")  # closed: not a reason to wait
    # East of the footprint's east edge (105.41) along 28.905°N: 0.00041° ≈ 39.99 m and
    # 0.00082° ≈ 79.98 m (0.0001° of longitude there is 9.754 m on the spheroid).
    near = case(105.41041, 28.905, status="handling")
    farther = case(105.41082, 28.905)
    body = overlay(api, project)
    assert [c["id"] for c in body["cases"]] == [inside.id, near.id]  # default buffer 50 m
    assert body["cases_total"] == 2
    assert body["cases"][0]["distance_m"] == 0
    assert body["cases"][1]["distance_m"] == pytest.approx(39.99, abs=0.05)
    assert body["cases"][0]["category_name"] == "暴露垃圾"
    wider = overlay(api, project, buffer=100)
    assert [c["id"] for c in wider["cases"]] == [inside.id, near.id, farther.id]
    assert wider["cases"][2]["distance_m"] == pytest.approx(79.98, abs=0.05)
    assert [c["id"] for c in overlay(api, project, buffer=0)["cases"]] == [inside.id]
