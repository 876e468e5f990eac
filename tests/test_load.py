"""Small versions of `make load` and `make faults`, and two handlers racing on one case, all against a
live gunicorn on loopback serving the test database."""

from __future__ import annotations

import http.client
import json
import threading

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from bench.load import run_load, server_for, verify
from layers.incidents.models import Case, TrailEntry
from tests.factories import tree_with_departments
from tests.factories_incidents import make_category, make_user

# The server's own connections see committed rows only: transactional.
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    grids = tree_with_departments()
    cgj = grids["cgj"]
    make_category("0101", default_department=cgj)
    return {"grids": grids, "cgj": cgj}


@pytest.fixture
def server(world, tmp_path):
    with server_for(connection.settings_dict["NAME"], str(tmp_path / "media")) as (port, _pid):
        yield port


def assert_nothing_lost(figures, checks, submissions):
    assert figures.unanswered == 0
    assert checks["keys"] == checks["cases_stored"] == submissions  # exactly one case per key
    assert checks["keys_without_a_case"] == 0 and checks["extra_cases"] == 0
    assert checks["lost"] == 0  # every 201 is a stored case
    assert checks["mismatched"] == 0  # every answer (201 or the retry's 200) names the key's case
    assert checks["keys_with_two_201"] == 0 and checks["keys_with_two_cases"] == 0
    assert figures.created_201 == submissions and figures.replayed == submissions


def test_concurrent_retried_submissions_make_exactly_one_case_per_key(server):
    figures = run_load(server, submissions=120, clients=8, deadline_s=120)
    checks = verify(figures)
    assert_nothing_lost(figures, checks, 120)
    assert figures.status_5xx == 0 and figures.connection_errors == 0
    assert figures.requests == 240  # each report twice, nothing needed a third try


@pytest.mark.restarts_database
def test_a_database_restart_mid_run_loses_no_accepted_case_and_the_server_recovers(server):
    try:
        figures = run_load(server, submissions=120, clients=8, deadline_s=150, restart_db_after=40)
    finally:
        connection.close()  # this process's connection died with the restart
    checks = verify(figures)
    assert figures.db_restarted_after_accepted == 40 and figures.db_restart_s is not None
    assert figures.status_5xx + figures.connection_errors > 0  # clients did see the outage
    assert figures.recovered_after_s is not None  # the same gunicorn answered again, unaided
    assert_nothing_lost(figures, checks, 120)


def _post(port: int, path: str, body: dict, token: str) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST", path, json.dumps(body), {"Content-Type": "application/json", "Authorization": f"Token {token}"}
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def race(port: int, path: str, body: dict, tokens: list[str]) -> list[tuple[int, dict]]:
    """POST `body` to `path` once per token, all released at the same instant by a barrier."""
    barrier = threading.Barrier(len(tokens))
    results: list = [None] * len(tokens)

    def send(index: int) -> None:
        barrier.wait()
        results[index] = _post(port, path, body, tokens[index])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_two_handlers_acting_on_one_case_at_once_one_wins_the_other_gets_409(server, world):
    dispatcher = Token.objects.create(user=make_user("dispatcher")).key
    handlers = [Token.objects.create(user=make_user(department=world["cgj"])).key for _ in range(2)]
    rounds = 5
    for round_number in range(rounds):
        status, case = _post(
            server,
            "/api/v1/incidents/",
            {"category": "0101", "lon": 105.401 + round_number * 0.01, "lat": 28.93},
            dispatcher,
        )
        assert status == 201, case
        case_id = case["id"]
        for action in ("register", "dispatch"):
            version = Case.objects.get(pk=case_id).version
            assert _post(server, f"/api/v1/incidents/{case_id}/{action}/", {"version": version}, dispatcher)[0] == 200
        version = Case.objects.get(pk=case_id).version
        results = race(server, f"/api/v1/incidents/{case_id}/accept/", {"version": version}, handlers)
        statuses = sorted(status for status, _ in results)
        assert statuses == [200, 409], results
        loser = next(body for status, body in results if status == 409)
        assert "version" in loser["detail"]
        # One accept in the trail, and the case moved exactly one step.
        assert TrailEntry.objects.filter(case_id=case_id, action="accept").count() == 1
        assert Case.objects.get(pk=case_id).version == version + 1
