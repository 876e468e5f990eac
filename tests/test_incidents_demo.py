"""The incidents demo step: categories, routing, and cases in every state with trails."""

from django.db.models import Count

from layers.incidents.models import Case, Category, RoutingRule, Status, TrailEntry


def test_demo_seed_builds_a_working_case_loop(demo_db):
    assert Category.objects.count() >= 30
    assert not Category.objects.filter(name_en="").exists() and not Category.objects.filter(name_zh="").exists()
    statuses = dict(Case.objects.values_list("status").annotate(n=Count("id")))
    assert set(statuses) == set(Status.values)  # every state, duplicates included
    assert 400 <= Case.objects.count() <= 450
    assert not Case.objects.filter(trail__isnull=True).exists()  # every case has its trail
    assert TrailEntry.objects.filter(action="escalate").values("escalation_level").distinct().count() == 4
    # Street-order problems in each district's first street go to that street's squad.
    assert RoutingRule.objects.filter(department__code__endswith="-ZF").count() == 3
    dead = Case.objects.get(dead_corner=True)
    assert dead.department.code.endswith("-DD") and dead.suggested_grid is not None
    assert Case.objects.filter(status=Status.DUPLICATE, duplicate_of__me_too_count=1).count() == 3
    # Generated cases sit in their grid by the one rule: a full reassignment moves none.
    from layers.incidents.reassign import reassign

    assert reassign(full=True).moved == 0
    # From nothing (every case's grid cleared), the grid-driven full run puts each case where the
    # rule itself says: micro-grid hits, the planted overlap, the gap, and the dead corners alike.
    Case.objects.update(grid=None, grid_version=None)
    report = reassign(full=True)
    assert report.moved == Case.objects.exclude(grid=None).count() > 400
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE c.grid_id IS DISTINCT FROM f.id), "
            "count(*) FILTER (WHERE c.grid_version IS DISTINCT FROM f.version), "
            "count(*) FILTER (WHERE c.dead_corner <> (f.id IS NULL)), count(*) "
            "FROM incidents_case c LEFT JOIN LATERAL grids_smallest_covering(c.location) f ON true"
        )
        wrong_grid, wrong_version, wrong_dead_corner, total = cursor.fetchone()
    assert (wrong_grid, wrong_version, wrong_dead_corner, total) == (0, 0, 0, Case.objects.count())


def test_one_statement_intake_agrees_with_the_orm_rules_across_the_demo_city(demo_db):
    """intake_facts (one prepared statement) assigns grid, district, leader, officer and department
    exactly as the ORM rules do, for 300 points over the demo tree (edges, the planted gap, dead
    corners and street squads' jurisdictions included) and categories with and without rules."""
    from django.conf import settings
    from django.contrib.gis.db.models.functions import Area, Transform
    from django.contrib.gis.geos import Point
    from django.db import connection
    from django.db.models import Case as SqlCase
    from django.db.models import IntegerField, Value, When
    from django.utils import timezone

    from layers.grids.models import Grid
    from layers.grids.selectors import responsibility_for_grid
    from layers.incidents.selectors import intake_facts

    with connection.cursor() as cursor:
        # Over the three loaded districts and a margin around them (the dead corners).
        cursor.execute(
            "SELECT ST_X(geom), ST_Y(geom) FROM (SELECT (ST_Dump(ST_GeneratePoints(ST_Buffer("
            "ST_Union(boundary), 0.01), 300, 7))).geom FROM grids_grid WHERE level = 1) p"
        )
        points = cursor.fetchall()
    ruled = list(Category.objects.filter(routing_rules__isnull=False, parent__isnull=False).distinct()[:3])
    unruled = Category.objects.filter(
        parent__isnull=False, routing_rules__isnull=True, parent__routing_rules__isnull=True
    ).distinct()[:3]
    categories = ruled + list(unruled)
    now = timezone.now()
    seen = {"dead_corner": 0, "routing_rule": 0, "category_default": 0, "dispatch_office": 0, "none": 0}
    for index, (lon, lat) in enumerate(points):
        point = Point(lon, lat, srid=4326)
        category = categories[index % len(categories)]
        assignment, _ = intake_facts(point, category, now)
        grid = Grid.objects.smallest_covering(point)
        assert (assignment.grid.pk if assignment.grid else None) == (grid.pk if grid else None), (lon, lat)
        if grid is None:
            seen["dead_corner"] += 1
            assert assignment.dead_corner and assignment.department.kind == "dispatch_office"
            continue
        responsibility = responsibility_for_grid(grid, timezone.localdate(now))
        district = next((g for g in responsibility.chain if g.level == 1), None)  # None: the city grid only
        assert (assignment.district.pk if assignment.district else None) == (district.pk if district else None)
        for role, duties in (("leader", responsibility.leaders), ("officer", responsibility.officers)):
            expected = duties[0].person.pk if duties else None
            got = getattr(assignment, role)
            assert (got.pk if got else None) == expected, (role, lon, lat)
        rule = (
            RoutingRule.objects.filter(
                category_id__in=[category.pk, category.parent_id], department__jurisdiction__covers=point
            )
            .annotate(
                area=Area(Transform("department__jurisdiction", settings.GRIDGIS["METRIC_SRID"])),
                own=SqlCase(
                    When(category_id=category.pk, then=Value(0)), default=Value(1), output_field=IntegerField()
                ),
            )
            .order_by("area", "own", "id")
            .first()
        )
        default = category.default_department or category.parent.default_department
        if rule is not None:
            expected_department, how = rule.department_id, "routing_rule"
        elif default is not None:
            expected_department, how = default.pk, "category_default"
        else:
            from layers.grids.models import Department

            office = Department.objects.filter(kind="dispatch_office", district=district).order_by("code").first()
            expected_department, how = (office.pk, "dispatch_office") if office else (None, "none")
        got = assignment.department.pk if assignment.department else None
        assert got == expected_department, (lon, lat, category.code)
        assert assignment.provenance["department"]["rule"] == how
        seen[how] += 1
    assert seen["dead_corner"] > 0 and seen["routing_rule"] > 0 and seen["category_default"] > 0, seen
