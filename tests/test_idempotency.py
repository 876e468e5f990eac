"""Idempotency-Key: one mechanism for every write (common/idempotency.py), keys scoped to their client.

The first test walks the URL conf, so that a write endpoint added later without the mechanism fails
here; the others show what the mechanism guarantees on intake, workflow steps, patrols and check-ins.
"""

import datetime
import threading

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.views import APIView

from common.idempotency import REPLAYED_HEADER, WRITE_METHODS, IdempotentWrites
from common.models import IdempotentRequest
from layers.incidents.models import Case, TrailEntry
from layers.inspections.models import CheckIn
from tests.factories_estates import make_patrol, make_point
from tests.factories_incidents import intake_world, make_user
from tests.urlconf import routes

URL = "/api/v1/incidents/"


def write_endpoints():
    """(route without its leading slash, view class, write methods) of every DRF view of the URL conf
    that takes a write."""
    found = []
    for route in routes():
        if route.cls is None or not issubclass(route.cls, APIView):
            continue
        if route.actions:  # a ViewSet route: the methods it maps
            methods = {m.upper() for m in route.actions}
        else:
            methods = {m.upper() for m in ("post", "put", "patch", "delete") if hasattr(route.cls, m)}
        methods &= WRITE_METHODS
        if methods:
            found.append((route.path.lstrip("/"), route.cls, sorted(methods)))
    return found


def test_every_write_endpoint_goes_through_the_idempotency_mechanism():
    endpoints = write_endpoints()
    routes = {route for route, _, _ in endpoints}
    # The walk does find the writes the officer's app replays (a broken walk would pass vacuously).
    assert {"api/v1/incidents/", "api/v1/incidents/1/accept/"} <= routes
    assert any("track" in route for route in routes) and any("check-ins" in route for route in routes)
    missing = [
        f"{route} ({cls.__name__})"
        for route, cls, _ in endpoints
        if not issubclass(cls, IdempotentWrites) and not getattr(cls, "idempotency_exempt", "")
    ]
    assert missing == [], "write views without common.idempotency.IdempotentWrites: " + ", ".join(missing)


@pytest.mark.django_db
def test_every_write_endpoint_reads_the_key(api):
    """Each write endpoint, as an admin, refuses an unusable key with a 400 naming the header: the
    mechanism runs on every one of them (before the handler, so no row is needed)."""
    api.force_authenticate(make_user("admin"))
    checked = 0
    for route, cls, methods in write_endpoints():
        if getattr(cls, "idempotency_exempt", ""):
            continue
        path = "/" + route
        for method in methods:
            response = getattr(api, method.lower())(path, {}, format="json", headers={"Idempotency-Key": "k" * 129})
            assert response.status_code == 400, (method, path, response.status_code)
            assert "Idempotency-Key" in response.json()["detail"], (method, path)
            checked += 1
    assert checked >= 20


@pytest.fixture
def world(media_root):
    return intake_world()


def client_for(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def report(client, key, **body):
    body = {"category": "0101", "lon": 105.41, "lat": 28.93, **body}
    return client.post(URL, body, format="json", headers={"Idempotency-Key": key})


@pytest.mark.django_db
def test_a_repeated_key_answers_the_first_answer_and_writes_nothing(world):
    dispatcher = client_for(make_user("dispatcher"))
    first = report(dispatcher, "abc-123", description="垃圾")
    again = report(dispatcher, "abc-123", description="垃圾")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["ETag"] == first["ETag"] and again["Location"] == first["Location"]
    assert again[REPLAYED_HEADER] == "true" and not first.has_header(REPLAYED_HEADER)
    assert Case.objects.count() == 1 and TrailEntry.objects.count() == 1
    assert report(dispatcher, "abc-124", description="垃圾").json()["id"] != first.json()["id"]


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_refused_with_422(world):
    dispatcher = client_for(make_user("dispatcher"))
    assert report(dispatcher, "k-1", description="垃圾").status_code == 201
    other = report(dispatcher, "k-1", description="另一件事")
    assert other.status_code == 422
    assert other.json()["detail"].startswith("Idempotency-Key: this key was already used for another request")
    assert "POST /api/v1/incidents/" in other.json()["detail"]
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_another_users_key_is_their_own_request_and_never_answers_with_the_first_users_case(world):
    """The reported attack: a key used by one client answered its case to anyone sending that key."""
    citizen = make_user("citizen")
    dispatcher = make_user("dispatcher")
    mine = report(client_for(citizen), "shared-key", description="我家门口")
    theirs = report(client_for(dispatcher), "shared-key", description="我家门口")
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert Case.objects.get(pk=theirs.json()["id"]).reporter == dispatcher
    # The citizen's replay is still their own public answer (no staff fields such as the officer).
    replay = report(client_for(citizen), "shared-key", description="我家门口")
    assert replay.json() == mine.json() and "officer" not in replay.json()["properties"]


@pytest.mark.django_db
def test_anonymous_keys_are_bound_to_their_body_so_a_used_key_cannot_swallow_a_later_report(world):
    """Whoever used a key first made a victim's later report vanish (200 with someone else's case)."""
    attacker = report(client_for(), "guessable-1", description="first")
    victim = report(client_for(), "guessable-1", description="my real report", lon=105.42)
    assert attacker.status_code == victim.status_code == 201
    assert attacker.json()["id"] != victim.json()["id"]
    assert not victim.has_header(REPLAYED_HEADER)
    # The victim's own retry (same key, same body) is a replay of their own case.
    retry = report(client_for(), "guessable-1", description="my real report", lon=105.42)
    assert retry.json()["id"] == victim.json()["id"] and retry[REPLAYED_HEADER] == "true"
    assert Case.objects.count() == 2


@pytest.mark.django_db
def test_a_replayed_workflow_step_answers_the_first_answer_not_409(world):
    dispatcher = client_for(make_user("dispatcher"))
    case_id = report(dispatcher, "intake-1").json()["id"]
    url = f"{URL}{case_id}/register/"
    first = dispatcher.post(url, {"version": 1}, format="json", headers={"Idempotency-Key": "reg-1"})
    assert first.status_code == 200, first.json()
    replay = dispatcher.post(url, {"version": 1}, format="json", headers={"Idempotency-Key": "reg-1"})
    assert replay.status_code == 200 and replay.json() == first.json() and replay[REPLAYED_HEADER] == "true"
    assert TrailEntry.objects.filter(case_id=case_id, action="register").count() == 1
    # A stale version without a replayed key is still refused with 409.
    stale = dispatcher.post(url, {"version": 1}, format="json", headers={"Idempotency-Key": "reg-2"})
    assert stale.status_code == 409 and "version" in stale.json()["detail"]
    # A refused write keeps nothing: the same key may be sent again, corrected.
    assert not IdempotentRequest.objects.filter(key="reg-2").exists()


@pytest.mark.django_db
def test_track_upload_and_check_in_replays_write_once(world):
    officer = make_user("officer", person=world["officer"])
    client = client_for(officer)
    started = timezone.now() - datetime.timedelta(hours=1)
    patrol = make_patrol(world["officer"], world["grids"]["g1"], started, hours=2)
    track = {"track": {"type": "LineString", "coordinates": [[105.41, 28.905], [105.41, 28.915]]}}
    answers = [
        client.post(f"/api/v1/patrols/{patrol.pk}/track/", track, format="json", headers={"Idempotency-Key": "t-1"})
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [200, 200] and answers[0].json() == answers[1].json()
    point = make_point(Point(105.41, 28.91, srid=4326), name="蔬菜市场")
    body = {"point": point.pk, "lon": 105.41, "lat": 28.9101}
    url = f"/api/v1/patrols/{patrol.pk}/check-ins/"
    first = client.post(url, body, format="json", headers={"Idempotency-Key": "c-1"})
    again = client.post(url, body, format="json", headers={"Idempotency-Key": "c-1"})
    assert first.status_code == again.status_code == 201, first.json()
    assert again.json() == first.json() and CheckIn.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_racing_sends_of_one_key_make_one_case_and_the_same_answer(world):
    barrier = threading.Barrier(4)
    results = []

    def send():
        client = client_for()  # anonymous: the key counts together with the body
        barrier.wait()
        response = report(client, "race-1")
        results.append((response.status_code, response.json()["id"], response.has_header(REPLAYED_HEADER)))
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Case.objects.count() == 1 and IdempotentRequest.objects.count() == 1
    assert [code for code, _, _ in results] == [201] * 4
    assert sorted(replayed for _, _, replayed in results) == [False, True, True, True]
    assert len({case_id for _, case_id, _ in results}) == 1


@pytest.mark.django_db
def test_expired_keys_are_purged_and_start_afresh(world, settings):
    from django.core.management import call_command

    dispatcher = client_for(make_user("dispatcher"))
    first = report(dispatcher, "old-key")
    IdempotentRequest.objects.update(created_at=timezone.now() - datetime.timedelta(days=8))
    again = report(dispatcher, "old-key")  # past the 7 days: a new request
    assert again.status_code == 201 and again.json()["id"] != first.json()["id"]
    IdempotentRequest.objects.update(created_at=timezone.now() - datetime.timedelta(days=8))
    call_command("purge_idempotency_keys")
    assert IdempotentRequest.objects.count() == 0


@pytest.mark.django_db(transaction=True)  # the queue's worker reads committed rows on its own connection
def test_the_queue_worker_purges_expired_keys_on_its_schedule(world):
    from common.queue import app
    from common.tasks import purge_idempotency_keys
    from tests.queue_helpers import job_statuses, run_queued_jobs

    scheduled = {name: task.cron for (name, _), task in app.periodic_registry.periodic_tasks.items()}
    assert scheduled["common.tasks.purge_idempotency_keys"] == "23 * * * *"
    dispatcher = client_for(make_user("dispatcher"))
    assert report(dispatcher, "kept-a-week").status_code == report(dispatcher, "kept-a-day").status_code == 201
    IdempotentRequest.objects.filter(key="kept-a-week").update(created_at=timezone.now() - datetime.timedelta(days=8))
    purge_idempotency_keys.defer(timestamp=0)  # one tick, as the worker's scheduler would defer it
    run_queued_jobs(["default"])
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["kept-a-day"]
    assert set(job_statuses("purge_idempotency_keys")) == {"succeeded"}
