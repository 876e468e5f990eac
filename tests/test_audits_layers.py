"""Audit kinds over the inspections and estates layers: unowned points, stale points and grids,
uncovered estates, on small_tree() (drawn in tests/factories.py)."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from layers.audits import services
from layers.audits.models import Finding
from layers.estates.models import RenovationProject
from layers.grids.models import DutyKind, Grid
from layers.inspections.models import CheckIn, InspectionPoint
from tests.factories import make_department, make_duty, make_person, small_tree
from tests.factories_audits import box_area
from tests.factories_estates import make_estate, make_patrol, make_point, make_project

pytestmark = pytest.mark.django_db


def audit(kinds, **parameters):
    return services.execute_run(services.create_run(kinds=kinds, parameters=parameters, via="test").pk)


def test_points_in_no_micro_grid_or_without_leader_or_department_are_unowned():
    small_tree()
    leader, department = make_person("点位领导"), make_department()
    owned = make_point(Point(105.41, 28.93, srid=4326), responsible_leader=leader, partner_department=department)
    in_g2 = make_point(Point(105.43, 28.93, srid=4326), responsible_leader=leader, partner_department=department)
    bare = make_point(Point(105.41, 28.91, srid=4326))  # in micro-grid 002, nobody bound
    outside = make_point(Point(105.05, 28.86, srid=4326))  # beyond every grid
    run = audit(["unowned_point"])
    found = {f.point_id: f for f in Finding.objects.filter(run=run, kind="unowned_point")}
    assert owned.pk not in found
    # g2 has no micro-grids: the point there lies in no micro-grid although its grid answers for it.
    assert found[in_g2.pk].detail["missing"] == ["micro_grid"] and found[in_g2.pk].grid_code == "510502001001002"
    assert found[bare.pk].detail["missing"] == ["leader", "department"] and found[bare.pk].measure == 2
    assert found[outside.pk].detail["missing"] == ["micro_grid", "leader", "department"]
    assert found[outside.pk].district_code == "" and found[outside.pk].grid_id is None


def test_points_not_visited_and_grids_not_patrolled_lately_are_stale():
    tree = small_tree()
    now = timezone.now()
    officer = make_person("巡查员")
    make_duty(tree["g1"], DutyKind.OFFICER, officer)
    visited = make_point(Point(105.41, 28.93, srid=4326))
    late = make_point(Point(105.41, 28.935, srid=4326))
    never = make_point(Point(105.41, 28.94, srid=4326))
    fresh = make_point(Point(105.41, 28.945, srid=4326))  # created today: not stale yet
    InspectionPoint.objects.filter(pk__in=[visited.pk, late.pk, never.pk]).update(
        created_at=now - datetime.timedelta(days=30)
    )
    recent = make_patrol(officer, tree["g1"], now - datetime.timedelta(days=1))
    old = make_patrol(officer, tree["g1"], now - datetime.timedelta(days=10))
    CheckIn.objects.create(
        patrol=recent,
        point=visited,
        location=visited.location,
        distance_m=0,
        checked_at=now - datetime.timedelta(days=1),
    )
    CheckIn.objects.create(
        patrol=old, point=late, location=late.location, distance_m=0, checked_at=now - datetime.timedelta(days=10)
    )
    Grid.objects.filter(pk=tree["g2"].pk).update(created_at=now - datetime.timedelta(days=20))

    run = audit(["stale"], stale_days=7)
    found = Finding.objects.filter(run=run, kind="stale")
    points = {f.point_id: f for f in found if f.detail["what"] == "point"}
    grids = {f.grid_code: f for f in found if f.detail["what"] == "grid"}
    assert set(points) == {late.pk, never.pk} and fresh.pk not in points
    # Last check-in 10 days ago; never visited: 30 days since the point was created.
    assert points[late.pk].measure == pytest.approx(10, abs=0.1) and not points[late.pk].detail["never"]
    assert points[never.pk].measure == pytest.approx(30, abs=0.1) and points[never.pk].detail["never"]
    # g1 was patrolled yesterday; g2 never, created 20 days ago.
    assert set(grids) == {"510502001001002"} and grids["510502001001002"].measure == pytest.approx(20, abs=0.1)
    # With a 12-day window the 10-day-old visit is recent enough.
    wider = audit(["stale"], stale_days=12)
    assert late.pk not in {f.point_id for f in Finding.objects.filter(run=wider, kind="stale")}


def test_estates_outside_micro_grids_or_renovated_without_a_leader_are_uncovered():
    tree = small_tree()
    inside = make_estate(tree["c1"], (105.405, 28.93, 105.415, 28.94))  # within micro-grid 001
    # Straddles grid 002's edge at 105.42: the east part lies in g2, which has no micro-grids.
    straddling = make_estate(tree["c1"], (105.415, 28.93, 105.425, 28.94))
    renovated = make_estate(tree["c1"], (105.401, 28.921, 105.402, 28.922))
    project = make_project((105.40, 28.92, 105.403, 28.923), estates=[renovated])
    RenovationProject.objects.filter(pk=project.pk).update(status="under_construction")

    run = audit(["uncovered_estate"])
    found = [(f.estate_id, f.detail["reason"], f) for f in Finding.objects.filter(run=run, kind="uncovered_estate")]
    assert {(e, r) for e, r, _ in found} == {(straddling.pk, "no_micro_grid"), (renovated.pk, "no_leader")}
    [part] = [f for e, r, f in found if r == "no_micro_grid"]
    # The east part (105.42, 28.93)-(105.425, 28.94), measured independently in EPSG:4544 (≈ 540 m × 1,110 m).
    assert part.measure == pytest.approx(box_area(105.42, 28.93, 105.425, 28.94), rel=1e-3)
    assert inside.pk not in {e for e, _, _ in found}

    make_duty(tree["c1"], DutyKind.LEADER, make_person("社区书记"))
    again = audit(["uncovered_estate"])
    assert {f.estate_id for f in Finding.objects.filter(run=again, kind="uncovered_estate")} == {straddling.pk}
