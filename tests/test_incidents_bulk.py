"""generate_cases: city-scale cases built in PostgreSQL, consistent with the rules intake applies."""

import datetime

import pytest
from django.db.models import Count, Sum
from django.utils import timezone

from layers.grids.models import Department, DutyKind
from layers.incidents.bulk import generate_cases
from layers.incidents.catalogue import load_categories
from layers.incidents.escalation import escalate
from layers.incidents.models import Case, TrailEntry
from layers.incidents.reassign import reassign
from tests.factories import make_department, make_duty, make_person, small_tree
from tests.factories_incidents import case_foreign_keys

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    grids = small_tree()
    make_department("510502-DD", kind=Department.Kind.DISPATCH_OFFICE, district=grids["district"])
    cgj = make_department("510502-CG", district=grids["district"])
    load_categories(fixers={"urban_management": cgj})
    officer = make_person("李网格员")
    make_duty(grids["g1"], DutyKind.OFFICER, officer)
    make_duty(grids["c1"], DutyKind.LEADER, make_person("王书记"))
    grids["officer"] = officer
    return grids


def test_generated_cases_are_complete_and_consistent(world):
    anchor = timezone.now()
    counts = generate_cases(500, 30, anchor=anchor)
    assert counts["cases"] == 500 == Case.objects.count()
    # Every step taken has a trail entry: version = 1 + steps, so the trail holds sum(version) rows.
    assert counts["trail"] == Case.objects.aggregate(n=Sum("version"))["n"] == TrailEntry.objects.count()
    statuses = dict(Case.objects.values_list("status").annotate(n=Count("id")))
    assert set(statuses) == {
        "reported",
        "registered",
        "dispatched",
        "handling",
        "handled",
        "verified",
        "closed",
        "rejected",
    }
    assert statuses["closed"] > 250  # most cases are older than a week and closed
    assert not Case.objects.filter(reported_at__gt=anchor).exists()
    assert not Case.objects.filter(reported_at__lt=anchor - datetime.timedelta(days=30)).exists()
    # Each case was generated inside its grid: reassigning from scratch moves none of them.
    report = reassign(full=True)
    assert report.examined == 500 and report.moved == 0
    # The leaves of the small tree: micro-grids m1/m2, grid g2, community c2 and street s2.
    assert Case.objects.values("grid").distinct().count() == 5
    in_m1 = Case.objects.filter(grid=world["m1"]).first()
    assert in_m1.officer == world["officer"] and in_m1.leader.name == "王书记"
    assert in_m1.department.code == "510502-CG" or in_m1.department.code == "510502-DD"
    closed = Case.objects.filter(status="closed").first()
    trail = list(closed.trail.order_by("at", "id").values_list("action", flat=True))
    assert trail == ["report", "register", "dispatch", "accept", "handle", "verify", "close"]
    rejected = Case.objects.filter(status="rejected").first()
    assert list(rejected.trail.order_by("at", "id").values_list("to_status", flat=True)) == ["reported", "rejected"]
    # Open cases have due times; the stuck old ones are overdue and climb the ladder.
    assert not Case.objects.filter(status__in=["reported", "handling"], due_at__isnull=True).exists()
    climbed = escalate(anchor)
    assert climbed[1] > 0


def test_same_seed_same_cases(world):
    anchor = timezone.now()
    generate_cases(50, 10, anchor=anchor, seed=7)
    first = list(Case.objects.order_by("id").values_list("category__code", "status", "grid__code"))
    Case.objects.all().delete()
    generate_cases(50, 10, anchor=anchor, seed=7)
    assert list(Case.objects.order_by("id").values_list("category__code", "status", "grid__code")) == first


def test_chunks_change_nothing_but_the_order_and_report_progress(world):
    """Generating in chunks gives the same cases and trail as one statement, with progress after each."""
    anchor = timezone.now()

    def content():
        return sorted(Case.objects.values_list("category__code", "status", "grid__code", "reported_at", "version"))

    generate_cases(120, 10, anchor=anchor, seed=3)
    whole, whole_trail = content(), TrailEntry.objects.count()
    Case.objects.all().delete()
    seen = []
    counts = generate_cases(120, 10, anchor=anchor, seed=3, chunk=50, progress=seen.append)
    assert content() == whole and TrailEntry.objects.count() == whole_trail == counts["trail"]
    chunks = [f for f in seen if "checked" not in f]
    assert [f["cases"] for f in chunks] == [50, 100, 120] and chunks[-1]["trail"] == whole_trail
    # Then each foreign key set aside for the load is added back, which checks every row.
    assert {f["checked"] for f in seen if "checked" in f} >= {
        "incidents_trailentry_case_id_4c6acf9d_fk_incidents_case_id"
    }


def test_foreign_keys_come_back_and_hold(world):
    from django.db import IntegrityError, connection, transaction

    before = case_foreign_keys()
    generate_cases(30, 5, seed=4)
    assert case_foreign_keys() == before and len(before) >= 10
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO incidents_trailentry (case_id, at, actor_name, action, from_status, to_status, "
            "note, data) VALUES (-1, now(), 'x', 'x', '', 'x', '', '{}')"
        )
