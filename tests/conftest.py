import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture(autouse=True)
def fresh_throttle_counters(request, django_db_blocker):
    """Throttle counters live in the shared "throttle" cache (a database table); each test starts with a
    full allowance. Cleared with the test database's blocker lifted, so tests without a database mark
    get a clean table too (a transactional test's flush does not empty it: it is no model's table)."""
    from django.core.cache import caches

    caches["default"].clear()
    request.getfixturevalue("django_db_setup")
    with django_db_blocker.unblock():
        caches["throttle"].clear()
    yield
