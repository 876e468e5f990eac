"""On the live three-node cluster (gridgis/cluster.py, started for the session): read-only requests read
a replica, writes and workflow steps the primary; a client reads its own writes; a lagging replica is
not read. gunicorn serves a database of its own on the cluster, with both URLs, as in production."""

from __future__ import annotations

import http.client
import json
import random
import subprocess
import sys
import time
import urllib.request

import psycopg
import pytest

from bench.load import server_for
from gridgis import cluster
from tests.cluster_helpers import CLUSTER_DB, django_in

pytestmark = pytest.mark.slow


def request(port: int, method: str, path: str, body: dict | None = None, token: str | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    try:
        connection.request(method, path, json.dumps(body) if body is not None else None, headers)
        response = connection.getresponse()
        data = response.read()
        return response.status, response.getheader("X-Gridgis-Reads-From"), json.loads(data) if data else {}
    finally:
        connection.close()


@pytest.fixture(scope="module")
def users(live_cluster):
    """A supervisor and an officer with tokens, and one case reported before the tests."""
    out = django_in(
        live_cluster,
        """
from django.contrib.auth.models import Group, User
from layers.incidents.models import Case
# An earlier session's reports, left open, would make new ones "me too" duplicates of them.
Case.objects.filter(description__startswith="cluster ").delete()
from rest_framework.authtoken.models import Token
tokens = {}
for name in ("supervisor", "dispatcher"):
    user, _ = User.objects.get_or_create(username=f"cluster-{name}")
    user.groups.add(Group.objects.get(name=name))
    tokens[name] = Token.objects.get_or_create(user=user)[0].key
print(json.dumps(tokens))
""",
    )
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def server(live_cluster, tmp_path_factory):
    env = {**live_cluster, "GRIDGIS_SAY_READS_FROM": "on", "GRIDGIS_READ_YOUR_WRITES_SECONDS": "2"}
    env.update(GRIDGIS_REPLICA_MAX_LAG_SECONDS="0.5", GRIDGIS_REPLICA_LAG_CHECK_SECONDS="0.2")
    with server_for(CLUSTER_DB, str(tmp_path_factory.mktemp("media")), env=env) as (port, _pid):
        yield port


SPREAD = random.Random()  # a point of its own for every report, so that none is a "me too" of another


def report(port: int, token: str, number: int) -> dict:
    lon, lat = SPREAD.uniform(105.40, 105.50), SPREAD.uniform(28.85, 28.95)
    status, reads, body = request(
        port,
        "POST",
        "/api/v1/incidents/",
        {"category": "0101", "source": "hotline", "description": f"cluster {number}", "lon": lon, "lat": lat},
        token,
    )
    assert status == 201, body
    assert reads == "primary"  # a write reads (and writes) the primary
    assert body["properties"]["status"] == "reported", body
    return body


READ_ONLY = [
    "/api/v1/locate/?lon=105.41&lat=28.93",
    "/api/v1/incidents/",
    "/api/v1/incidents/categories/",
    "/ogc/collections",
    "/api/v1/assessments/?period=2026Q4&unit=grid",
    "/open311/v2/services.json",
]


def settled(server, token: str) -> None:
    """Wait until this client's reads go to a replica: the fixture's writes are out of the window and
    the lag check, conservative after a burst of WAL (a replica that cannot be asked, or one replaying
    WAL without commits, counts as lagging), has seen the replicas caught up."""
    deadline = time.monotonic() + 15
    while request(server, "GET", READ_ONLY[0], token=token)[1] != "replica":
        assert time.monotonic() < deadline, "reads never went to a replica"
        time.sleep(0.3)


def test_read_only_requests_read_a_replica_and_writes_the_primary(server, users):
    for path in READ_ONLY:
        # The lag check is conservative (a moment of WAL without commits on a busy machine counts as
        # lag), so a read may rightly go to the primary now and then: each path gets three settled tries.
        answers = []
        for _ in range(3):
            settled(server, users["supervisor"])
            status, reads, _ = request(server, "GET", path, token=users["supervisor"])
            assert status == 200, path
            answers.append(reads)
            if reads == "replica":
                break
        assert "replica" in answers, (path, answers)
    case = report(server, users["dispatcher"], 0)
    # A workflow step is a write: it reads the case on the primary, where it was just committed.
    status, reads, body = request(
        server,
        "POST",
        f"/api/v1/incidents/{case['id']}/register/",
        {"version": case["properties"]["version"]},
        users["dispatcher"],
    )
    assert status == 200, body
    assert reads == "primary"


def test_a_client_reads_its_own_writes_at_once_and_the_replica_after_the_window(server, users):
    for number in range(1, 21):
        case = report(server, users["dispatcher"], number)
        status, reads, body = request(server, "GET", f"/api/v1/incidents/{case['id']}/", token=users["dispatcher"])
        assert status == 200 and body["id"] == case["id"]  # never a 404 from a replica that lags behind
        assert reads == "primary"
    # Another client, which wrote nothing, reads the replica meanwhile.
    assert request(server, "GET", READ_ONLY[0], token=users["supervisor"])[1] == "replica"
    time.sleep(2.5)  # GRIDGIS_READ_YOUR_WRITES_SECONDS=2 for this server
    status, reads, _ = request(server, "GET", f"/api/v1/incidents/{case['id']}/", token=users["dispatcher"])
    assert status == 200 and reads == "replica"


def replicas() -> list[str]:
    return [m["name"] for m in cluster.cluster_state()["members"] if m["role"] != "leader"]


def set_replay_delay(delay: str | None) -> None:
    """recovery_min_apply_delay on every replica, through Patroni's cluster configuration (Patroni owns
    the servers' settings, and undoes a bare pg_wal_replay_pause() within a loop); waits until applied."""
    body = json.dumps({"postgresql": {"parameters": {"recovery_min_apply_delay": delay}}}).encode()
    patch = urllib.request.Request(
        f"http://127.0.0.1:{cluster.api_port(cluster.leader())}/config", data=body, method="PATCH"
    )
    urllib.request.urlopen(patch, timeout=10).close()
    deadline = time.monotonic() + 30
    for node in replicas():
        with psycopg.connect(host="127.0.0.1", port=cluster.pg_port(node), user="gridgis", dbname="postgres") as c:
            while c.execute("SELECT current_setting('recovery_min_apply_delay')").fetchone()[0] != (delay or "0"):
                assert time.monotonic() < deadline, f"{node} did not take recovery_min_apply_delay={delay}"
                time.sleep(0.2)


def test_a_replica_lagging_beyond_the_bound_is_not_read(server, users):
    settled(server, users["supervisor"])
    try:
        # The replicas replay what they receive 5 s late: behind by more than this server's bound, 0.5 s.
        set_replay_delay("5s")
        with psycopg.connect(
            host="127.0.0.1", port=cluster.WRITE_PORT, user="gridgis", dbname=CLUSTER_DB, autocommit=True
        ) as writer:
            writer.execute("CREATE TABLE IF NOT EXISTS cluster_test_ticks (at timestamptz)")
            deadline = time.monotonic() + 1.5
            while time.monotonic() < deadline:  # commits the replicas receive but do not replay
                writer.execute("INSERT INTO cluster_test_ticks VALUES (now())")
                time.sleep(0.05)
        time.sleep(0.5)
        status, reads, _ = request(server, "GET", READ_ONLY[0], token=users["supervisor"])
        assert status == 200 and reads == "primary"
    finally:
        set_replay_delay(None)
    deadline = time.monotonic() + 20
    while request(server, "GET", READ_ONLY[0], token=users["supervisor"])[1] != "replica":
        assert time.monotonic() < deadline, "the replica was not read again after catching up"
        time.sleep(0.3)


def test_without_the_replica_url_everything_reads_the_one_database(live_cluster):
    env = {key: value for key, value in live_cluster.items() if key != "DATABASE_REPLICA_URL"}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'gridgis.settings'); django.setup(); "
            "from django.conf import settings; print(sorted(settings.DATABASES), settings.DATABASE_ROUTERS, "
            "'common.routing.ReplicaRoutingMiddleware' in settings.MIDDLEWARE)",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == "['default'] [] False"
