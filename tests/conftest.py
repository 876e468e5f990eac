import pytest
from rest_framework.test import APIClient

from tests.demo_db import DemoDatabases

# The screens' browser-test fixtures (phone contexts, role users, the axe-core check, the host guard).
pytest_plugins = ["tests.browser"]


def pytest_collection_modifyitems(items):
    """A browser test is a slow test: `make test-fast` (-m "not slow") leaves every one out. A test that
    restarts the database server runs last: connections opened before the restart (a live server's,
    a cache's) would otherwise fail the first query of whichever test comes next."""
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: item.get_closest_marker("restarts_database") is not None)


def pytest_configure(config):
    """The tests' own connections commit without waiting for the WAL flush (synchronous_commit off):
    faster on the durable local cluster (gridgis/localdb.py), and a crash could lose only the last
    test transactions, never corrupt the cluster. Servers the tests start keep the default."""
    from django.conf import settings

    options = settings.DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c synchronous_commit=off".strip()


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def media_root(settings, tmp_path):
    """Photos a test uploads land in its own temporary folder, never in the checkout's media/."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


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


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, and an empty copy of it taken before any test runs: the template
    that the demo is seeded into (tests/demo_db.py). Its value is the session's DemoDatabases."""
    from django.db import connection

    with django_db_blocker.unblock():
        demo = DemoDatabases(connection.settings_dict["NAME"])
        demo.reserve()
    yield demo
    with django_db_blocker.unblock():
        demo.drop_all()


@pytest.fixture
def demo_db(transactional_db, django_db_setup):
    """The seeded Luzhou demo (`manage.py seed_demo`) as this test's default database: a copy of the
    session's template made for this test alone and dropped after it (a transactional test, so that a
    live server and background jobs see the rows too)."""
    demo = django_db_setup
    name = demo.copy()
    with demo.using(name):
        yield
    demo.drop(name)


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
