"""Every foreign key a client may send is checked against the sender's scope (layers/accounts/fields.py),
and schedule attendance lists only the officers the reader may see.

The first test enumerates the writable relations of every serializer of the layers' APIs: each one
that points at a scoped kind of row must be a ScopedRelation; the others are listed with the reason
they need no scope.
"""

import datetime
import importlib
import inspect

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIClient

from layers.accounts.fields import ScopedRelation
from layers.estates.models import Estate, RenovationProject, ResidentSuggestion, WorkItem
from layers.grids.models import Department, DutyKind, Grid, Person
from layers.incidents.models import Case, Category
from layers.inspections.models import CheckIn, InspectionCategory, InspectionPoint, Patrol, PatrolSchedule
from tests.factories import make_duty, make_person, small_tree
from tests.factories_estates import make_patrol, make_point, make_user

# Rows that layers.accounts.roles scopes: a relation to one of them must be scoped.
SCOPED = {Grid, Case, InspectionPoint, Patrol, PatrolSchedule, Estate, RenovationProject, WorkItem, ResidentSuggestion}
# Rows every signed-in user may name (checked elsewhere where it matters).
UNSCOPED = {
    Category: "the public category list",
    InspectionCategory: "the public list of kinds of point",
    Department: "any department may be dispatched to; dispatchers see every case",
    Person: "the patrol view lets an officer record only their own patrols (supervisors anyone's)",
}
MODULES = [
    "layers.incidents.api.serializers",
    "layers.inspections.api.serializers",
    "layers.estates.api.serializers",
    "layers.audits.api.serializers",
    "layers.grids.api.serializers",
]


def writable_relations():
    """(serializer, field name, field) of every writable related field in the layers' API serializers."""
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, serializers.BaseSerializer) or cls.__module__ != module_name:
                continue
            for name, field in cls().fields.items():
                relation = field.child_relation if isinstance(field, serializers.ManyRelatedField) else field
                if isinstance(relation, serializers.RelatedField) and not field.read_only:
                    yield cls, name, relation


def test_every_writable_relation_to_a_scoped_row_is_checked_against_the_senders_scope():
    found = list(writable_relations())
    assert len(found) >= 8
    for cls, name, relation in found:
        model = relation.queryset.model
        if model in UNSCOPED:
            continue
        assert model in SCOPED, f"{cls.__name__}.{name} -> {model.__name__}: add it to SCOPED or UNSCOPED"
        assert isinstance(relation, ScopedRelation), f"{cls.__name__}.{name} is not a ScopedRelation"


def at(text):
    return timezone.make_aware(datetime.datetime.fromisoformat(text))


@pytest.fixture
def world(db):
    grids = small_tree()
    mine = make_person("李网格员", phone="13900000001")
    theirs = make_person("王网格员", phone="13900000002")
    make_duty(grids["g1"], DutyKind.OFFICER, mine)
    make_duty(grids["g2"], DutyKind.OFFICER, theirs)
    api = APIClient()
    api.force_authenticate(make_user("officer-li", person=mine))
    return {"grids": grids, "mine": mine, "theirs": theirs, "api": api}


def test_an_officer_cannot_record_a_patrol_in_a_grid_outside_their_scope(world):
    api = world["api"]
    body = {"officer": world["mine"].pk, "started_at": "2026-11-17T09:00:00+08:00"}
    foreign = api.post("/api/v1/patrols/", {**body, "grid": world["grids"]["g2"].code}, format="json")
    assert foreign.status_code == 400
    assert foreign.json()["detail"] == "grid: no row with code 510502001001002 among those you may use"
    assert not Patrol.objects.exists()
    own = api.post("/api/v1/patrols/", {**body, "grid": world["grids"]["g1"].code}, format="json")
    assert own.status_code == 201, own.json()


def test_a_check_in_at_a_point_outside_scope_is_refused_without_saying_where_it_is(world):
    patrol = make_patrol(world["mine"], world["grids"]["g1"], at("2026-11-17 09:00"), hours=3)
    hidden = make_point(Point(105.43, 28.91, srid=4326), name="隐藏点位")  # in g2, not the officer's
    response = world["api"].post(
        f"/api/v1/patrols/{patrol.pk}/check-ins/",
        {"point": hidden.pk, "lon": 105.41, "lat": 28.91, "checked_at": "2026-11-17T10:00:00+08:00"},
        format="json",
    )
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail == f"point: no row with id {hidden.pk} among those you may use"
    assert "隐藏点位" not in detail and " m " not in detail  # neither its name nor its distance
    assert not CheckIn.objects.exists()


def test_attendance_lists_only_the_officers_the_reader_may_see(world):
    schedule = PatrolSchedule.objects.create(
        name="走院落", weekday=1, scope=world["grids"]["c1"], starts_on=datetime.date(2026, 1, 1)
    )
    body = world["api"].get(f"/api/v1/patrol-schedules/{schedule.pk}/attendance/", {"week": "2026-11-17"}).json()
    listed = [row["name"] for row in body["walked"] + body["missed"]]
    assert listed == ["李网格员"]  # not 王网格员 of grid g2, nor their phone
    supervisor = APIClient()
    supervisor.force_authenticate(make_user("inspection-office", "supervisor"))
    body = supervisor.get(f"/api/v1/patrol-schedules/{schedule.pk}/attendance/", {"week": "2026-11-17"}).json()
    assert sorted(row["name"] for row in body["walked"] + body["missed"]) == ["李网格员", "王网格员"]
