"""核实, confirming on site: a dispatcher sends a citizen's report to the grid's officer before registering
it; the officer confirms with a photo or answers that nothing is there; each step is a trail entry with
who and when, under the category's "confirm" time limit, and only the right roles may take it."""

import datetime

import pytest
from django.utils import timezone

from layers.incidents.models import Case, Photo, TrailEntry
from layers.incidents.services import TRANSITIONS
from tests.factories import make_person
from tests.factories_incidents import image_upload, make_category, make_user
from tests.test_incidents_workflow import URL, act, media, world  # noqa: F401, F811 (fixtures)

pytestmark = pytest.mark.django_db


def test_confirmed_on_site_with_a_photo_then_registered(api, world):  # noqa: F811
    make_category("0102", confirm_hours=6)
    response = act(api, world, "dispatcher", "send_to_confirm")
    assert response.status_code == 200, response.json()
    props = response.json()["properties"]
    assert props["status"] == "confirming"
    # The stage clock is the category's confirm limit (the major 0101's default: 4 h from settings).
    sent_at = TrailEntry.objects.get(case_id=world["case_id"], action="send_to_confirm").at
    due = datetime.datetime.fromisoformat(props["due_at"])
    assert abs((due - sent_at) - datetime.timedelta(hours=4)) < datetime.timedelta(seconds=1)
    # A photo is required to confirm; the officer's answer is kept as a trail entry with the photo.
    assert act(api, world, "officer", "confirm").status_code == 400
    response = act(api, world, "officer", "confirm", note="现场确认", photo=image_upload("seen.png"))
    assert response.status_code == 200, response.json()
    assert response.json()["properties"]["status"] == "confirmed"
    entry = TrailEntry.objects.get(case_id=world["case_id"], action="confirm")
    assert entry.actor == world["users"]["officer"] and entry.actor_name == "李网格员"
    assert entry.photo.kind == Photo.Kind.CONFIRM and entry.data == {"found": True}
    sent = TrailEntry.objects.get(case_id=world["case_id"], action="send_to_confirm")
    assert sent.actor_name == "调度员" and sent.data["officer"]["name"] == "李网格员"
    assert act(api, world, "dispatcher", "register").json()["properties"]["status"] == "registered"


def test_nothing_there_sends_the_report_back_to_the_dispatcher(api, world):  # noqa: F811
    act(api, world, "dispatcher", "send_to_confirm")
    response = act(api, world, "officer", "not_found", note="现场未发现")
    assert response.status_code == 200
    assert response.json()["properties"]["status"] == "reported"
    assert TrailEntry.objects.get(case_id=world["case_id"], action="not_found").data == {"found": False}
    assert act(api, world, "dispatcher", "reject", note="现场无此问题").json()["properties"]["status"] == "rejected"


def test_only_the_dispatcher_sends_and_only_an_officer_on_duty_answers(api, world):  # noqa: F811
    assert act(api, world, "officer", "send_to_confirm").status_code == 403
    assert act(api, world, "handler", "send_to_confirm").status_code == 403
    act(api, world, "dispatcher", "send_to_confirm")
    other_officer = make_user(person=make_person("别处网格员"))
    world["users"]["other_officer"] = other_officer
    # An officer of no grid of this case does not even see it.
    assert act(api, world, "other_officer", "confirm", photo=image_upload()).status_code == 404
    assert act(api, world, "dispatcher", "confirm", photo=image_upload()).status_code == 403
    # While it is being confirmed the dispatcher cannot register it (409: wrong status).
    assert act(api, world, "dispatcher", "register").status_code == 409
    assert set(TRANSITIONS["confirm"].sources) == {"confirming"}


def test_a_case_without_an_officer_cannot_be_sent_to_confirm(api, world):  # noqa: F811
    Case.objects.filter(pk=world["case_id"]).update(officer=None)
    response = act(api, world, "dispatcher", "send_to_confirm")
    assert response.status_code == 409 and "no officer" in response.json()["detail"]


def test_a_late_confirmation_climbs_the_ladder_like_every_stage(api, world):  # noqa: F811
    from layers.incidents.escalation import escalate

    act(api, world, "dispatcher", "send_to_confirm")
    climbed = escalate(now=timezone.now() + datetime.timedelta(hours=5))
    assert climbed[1] == 1
    assert Case.objects.get(pk=world["case_id"]).escalation_level == 1
