import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture(autouse=True)
def fresh_throttle_counters(request, django_db_blocker):
    """Throttle counters live in the shared "throttle" cache (a database table); each test that uses the
    database starts with a full allowance. Cleared with the blocker lifted, as a transactional test's
    flush does not empty it (it is no model's table). Tests without the database send no requests."""
    from django.core.cache import caches

    caches["default"].clear()
    uses_database = request.node.get_closest_marker("django_db") is not None or any(
        name in request.fixturenames for name in ("db", "transactional_db", "live_server", "django_db_setup")
    )
    if uses_database:
        request.getfixturevalue("django_db_setup")
        with django_db_blocker.unblock():
            caches["throttle"].clear()
            empty_job_queue()
    yield


def empty_job_queue():
    """The queue's tables (procrastinate's, unmanaged models) survive a transactional test's flush too:
    a job left by one test would otherwise run, or hold its district's lock, in the next."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, "
            "procrastinate_workers CASCADE"
        )


@pytest.fixture(scope="session")
def live_cluster():
    """The three-node cluster (tests marked slow): its test database's environment for subprocesses."""
    from tests.cluster_helpers import start_cluster, stop_cluster

    env, started = start_cluster()
    yield env
    if started:
        stop_cluster()
