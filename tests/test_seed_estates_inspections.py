"""The demo seed's estates and inspections steps: the seeds' figures, and data that keeps the rules."""

import datetime

from django.db import connection
from django.db.models import Count, Max
from django.utils import timezone

from layers.estates.models import Batch, Estate, RenovationProject, ResidentSuggestion
from layers.inspections.models import CheckIn, InspectionPoint, Patrol, PatrolSchedule


def test_estates_projects_and_suggestions(demo_db, api):
    # Hanyuan's base: 92 estates with 460+ buildings.
    assert Estate.objects.count() == 92
    assert sum(Estate.objects.values_list("buildings", flat=True)) > 460
    assert Estate.objects.three_no().exists()
    per_batch = dict(RenovationProject.objects.values_list("batch").annotate(n=Count("id")))
    assert all(2 <= per_batch[batch] <= 3 for batch in Batch.values)
    assert ResidentSuggestion.objects.count() >= 300
    # Every estate lies in the community it is filed under (the seed clips it to a micro-grid; the
    # clipped vertices sit on the edge up to floating-point rounding, micro-square-metres outside).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT max(ST_Area(ST_Difference(e.boundary, c.boundary)::geography)), bool_and(c.level = 3) "
            "FROM estates_estate e JOIN grids_grid c ON c.id = e.community_id"
        )
        outside_m2, all_communities = cursor.fetchone()
    assert outside_m2 < 0.01 and all_communities
    # The planted conflict: a planned second phase re-digs an implement project's ground.
    conflicts = {
        p.name: [c.name for c in RenovationProject.objects.conflicting_with(p)] for p in RenovationProject.objects.all()
    }
    assert sum(1 for names in conflicts.values() if names) == 2
    # Every project's status history starts with its creation by the demo planner.
    for project in RenovationProject.objects.all():
        first = project.status_changes.order_by("changed_at", "id").first()
        assert (first.from_status, first.changed_by.username) == ("", "demo-planner")
    # Read as the demo's planner account (fixtures/demo/accounts.py): issue 7 asks for a sign-in.
    from django.contrib.auth.models import User

    api.force_authenticate(User.objects.get(username="planner"))
    totals = api.get("/api/v1/renovation-projects/totals/", {"group": "batch"}).json()["rows"]
    assert all(row["pipe_metres"] > 0 and row["households"] > 0 for row in totals)


def test_points_patrols_and_check_ins(demo_db):
    assert InspectionPoint.objects.count() == 324
    assert InspectionPoint.objects.values("category").distinct().count() >= 30
    assert not InspectionPoint.objects.filter(grid__isnull=True).exists()
    assert not InspectionPoint.objects.filter(task_group__isnull=True).exists()
    assert PatrolSchedule.objects.count() == 3
    week_ago = timezone.now() - datetime.timedelta(days=8)
    assert Patrol.objects.filter(started_at__gte=week_ago, track__isnull=False).count() > 1000
    # Every check-in keeps the 50 m rule and falls within its patrol.
    assert CheckIn.objects.count() > 300
    assert CheckIn.objects.aggregate(Max("distance_m"))["distance_m__max"] <= 50
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM inspections_checkin c JOIN inspections_patrol p ON p.id = c.patrol_id "
            "WHERE c.checked_at < p.started_at OR c.checked_at > p.ended_at"
        )
        assert cursor.fetchone()[0] == 0
    # Tuesday patrols are tied to the schedule; most officers walked it.
    tuesdays = Patrol.objects.filter(schedule__isnull=False)
    assert tuesdays.exists()
    assert {timezone.localtime(p.started_at).weekday() for p in tuesdays} == {1}
