"""The incidents demo step: categories, routing, and cases in every state with trails."""

import pytest
from django.core.management import call_command
from django.db.models import Count

from layers.incidents.models import Case, Category, RoutingRule, Status, TrailEntry

pytestmark = pytest.mark.django_db(transaction=True)


def test_demo_seed_builds_a_working_case_loop():
    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))
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
