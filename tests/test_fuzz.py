"""Fuzz every operation of /api/schema/ with schemathesis against a loopback live server: no 5xx.

Bounded for CI: a fixed number of examples per operation, derandomized (a fixed seed), once as an
anonymous client and once as a superuser (so the workflow actions run past the permission check).
The whole run stays well under two minutes on the project's 2-core machine.
"""

from __future__ import annotations

import time

import pytest
import requests
import schemathesis
from django.db import connections
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token

from layers.grids.models import Department
from tests.factories import make_department, small_tree
from tests.factories_incidents import make_category, make_user

pytestmark = pytest.mark.slow

EXAMPLES_PER_OPERATION = 15


@pytest.fixture
def world(transactional_db, settings, tmp_path):
    # The live server answers each request on a new thread; with persistent connections (CONN_MAX_AGE)
    # each would leave a session open on the test database and block its teardown.
    database = connections.settings["default"]
    saved_age, database["CONN_MAX_AGE"] = database["CONN_MAX_AGE"], 0
    settings.MEDIA_ROOT = tmp_path
    settings.GRIDGIS = {**settings.GRIDGIS, "THROTTLE_RATES": {"ip": None, "user": None, "intake": None}}
    grids = small_tree()
    make_department("JY-DISPATCH", kind=Department.Kind.DISPATCH_OFFICE, district=grids["district"])
    cgj = make_department("JY-CGJ", district=grids["district"])
    make_category("0101", default_department=cgj)
    admin = make_user()
    admin.is_superuser = admin.is_staff = True
    admin.save()
    yield {"token": Token.objects.create(user=admin).key}
    database["CONN_MAX_AGE"] = saved_age


def fuzz_operation(operation, base_url: str, session: requests.Session, failures: list, counter: list):
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case):
        response = case.call(base_url=base_url, session=session, timeout=30)
        counter[0] += 1
        if response.status_code >= 500:
            failures.append(f"{operation.label}: {response.status_code} for {case.as_curl_command()}"[:1500])

    run()


def test_no_operation_answers_5xx_to_generated_input(live_server, world):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/")
    failures: list[str] = []
    counter = [0]
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for identity in ({}, {"Authorization": f"Token {world['token']}"}):
        session = requests.Session()
        # A connection of its own for every request: Django's live server (wsgiref, not the gunicorn
        # the product runs on) has been seen, once in several runs, to read a generated request's
        # leftovers on a kept-alive connection as the next request line and answer with its own
        # HTTP/0.9 error page, which the client cannot parse (BadStatusLine). The test is about the
        # app's answers, not that server's keep-alive.
        session.headers.update(identity, Connection="close")
        for operation in operations:
            fuzz_operation(operation, live_server.url, session, failures, counter)
    elapsed = time.monotonic() - started
    print(f"fuzz: {len(operations)} operations, {counter[0]} requests, {len(failures)} 5xx, {elapsed:.1f} s")
    assert counter[0] >= 300
    assert failures == []


OPEN311_FIELDS = (
    "service_code",
    "lat",
    "long",
    "description",
    "email",
    "media_url",
    "first_name",
    "phone",
    "address_string",
    "attribute[kind]",
    "jurisdiction_id",
)


def test_open311_post_and_list_answer_no_5xx_to_generated_input(live_server, world):
    """Open311 is plain Django views, outside /api/schema/: fuzz its form fields and query strings."""
    from hypothesis import strategies as st

    from layers.incidents.models import Open311Key

    Open311Key.objects.create(key="fuzz", name="fuzz client")
    numbers = st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).map(str),
        st.integers().map(str),
        st.sampled_from(["28.93", "105.41", "nan", "-inf", "1e309", "", " ", "0x1p3"]),
    )
    values = st.one_of(
        st.text(max_size=40),
        numbers,
        st.sampled_from(["0101", "9999", "'; DROP TABLE x; --", "javascript:alert(1)", "a@b", "http://x"]),
    )
    forms = st.dictionaries(st.sampled_from(OPEN311_FIELDS), values, max_size=len(OPEN311_FIELDS))
    session = requests.Session()
    failures, sent = [], [0]

    @settings(max_examples=120, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(
        form=forms,
        query=st.dictionaries(
            st.sampled_from(["service_request_id", "start_date", "end_date", "status", "service_code"]),
            values,
            max_size=3,
        ),
        fmt=st.sampled_from(["json", "xml"]),
    )
    def run(form, query, fmt):
        post = session.post(
            f"{live_server.url}/open311/v2/requests.{fmt}", data={**form, "api_key": "fuzz"}, timeout=30
        )
        get = session.get(f"{live_server.url}/open311/v2/requests.{fmt}", params=query, timeout=30)
        sent[0] += 2
        for response in (post, get):
            if response.status_code >= 500:
                failures.append(f"{response.request.method} {response.request.url} {form}: {response.status_code}")

    run()
    print(f"fuzz open311: {sent[0]} requests, {len(failures)} 5xx")
    assert sent[0] == 240
    assert failures == []
