import pytest
from rest_framework.test import APIClient


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
    yield
