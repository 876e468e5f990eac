"""Issue 13, the security test's findings on cases: "me too" outside the optimistic lock, the source
and the trail's actor from who is signed in, never from the body."""

import pytest
from rest_framework.test import APIClient

from layers.incidents.models import Case, Source, TrailEntry
from tests.factories_incidents import intake_world, make_user

pytestmark = pytest.mark.django_db
URL = "/api/v1/incidents/"


@pytest.fixture
def world(media_root):
    return intake_world()


def client_for(user=None):
    client = APIClient()
    client.force_authenticate(user)
    return client


def report(client, **body):
    return client.post(URL, {"category": "0101", "lon": 105.41, "lat": 28.93, **body}, format="json")


def test_an_anonymous_me_too_does_not_move_the_originals_version(world):
    dispatcher = client_for(make_user("dispatcher"))
    original = report(dispatcher).json()
    assert original["properties"]["version"] == 1
    me_too = report(client_for(), lat=28.9302)  # 22 m away: linked to the original
    assert me_too.json()["properties"]["duplicate_of"] == original["id"]
    case = Case.objects.get(pk=original["id"])
    assert case.me_too_count == 1 and case.version == 1
    # The dispatcher's step, made against the version they read, still goes through.
    step = dispatcher.post(f"{URL}{original['id']}/register/", {"version": 1}, format="json")
    assert step.status_code == 200, step.json()


@pytest.mark.parametrize("forged", [Source.OFFICER, Source.SUPERVISOR, Source.HOTLINE])
def test_an_anonymous_reporter_cannot_forge_the_source(world, forged):
    response = report(client_for(), source=forged)
    assert response.status_code == 400
    assert response.json()["detail"] == "source: set from who is signed in: this report comes from citizen"
    assert Case.objects.count() == 0


@pytest.mark.parametrize(
    ("groups", "person", "source"),
    [
        ((), False, Source.CITIZEN),
        (("citizen",), False, Source.CITIZEN),
        (("dispatcher",), False, Source.HOTLINE),
        (("supervisor",), False, Source.SUPERVISOR),
        ((), True, Source.OFFICER),  # an officer on duty
    ],
)
def test_the_source_follows_who_is_signed_in(world, groups, person, source):
    user = make_user(*groups, person=world["officer"] if person else None) if (groups or person) else None
    response = report(client_for(user))
    assert response.status_code == 201, response.json()
    assert Case.objects.get(pk=response.json()["id"]).source == source


def test_a_reporter_name_in_the_body_never_stands_as_the_actor(world):
    response = report(client_for(), reporter_name="督查组 王局长")
    assert response.status_code == 201
    entry = TrailEntry.objects.get(case_id=response.json()["id"])
    assert entry.actor is None and entry.actor_name == "citizen"
    dispatcher = make_user("dispatcher", name="调度员")
    taken = report(client_for(dispatcher), reporter_name="来电市民 张三", lat=28.90)
    case = Case.objects.get(pk=taken.json()["id"])
    assert case.reporter_name == "来电市民 张三"  # the hotline caller, as a contact
    assert case.trail.get().actor_name == "调度员"  # the actor is the dispatcher's account
