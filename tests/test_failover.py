"""A short failover drill on the live cluster (the full one is `make failover`): while reports come in
through HAProxy and a dispatcher registers and dispatches, kill -9 the leader's postmaster, then a
whole node. No acknowledged report or step is lost, none is stored twice, the same gunicorn recovers unaided, and each old leader comes back as a replica."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.cluster_helpers import ROOT

pytestmark = pytest.mark.slow

LINE = re.compile(
    r"^failover: postmaster (?P<postmaster>[0-9.]+) s, node (?P<node>[0-9.]+) s, "
    r"accepted (?P<accepted>\d+), lost (?P<lost>\d+), duplicates (?P<duplicates>\d+)$"
)


def test_a_short_drill_loses_no_report_and_stores_none_twice(live_cluster):
    env = {key: value for key, value in live_cluster.items() if not key.startswith("DATABASE_")}
    run = subprocess.run(
        [sys.executable, "-m", "bench.failover", "--submissions", "120", "--clients", "4", "--deadline", "150"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = run.stdout.strip().splitlines()
    summary = LINE.match(lines[-1])
    assert summary, run.stdout[-2000:] + run.stderr[-2000:]
    assert run.returncode == 0, run.stdout[-3000:]
    assert int(summary["lost"]) == 0 and int(summary["duplicates"]) == 0
    assert int(summary["accepted"]) == 240  # every report of both rounds acknowledged in the end
    # Writes stopped for seconds, not minutes: Patroni's primary_start_timeout 0 and ttl 10.
    assert 0 < float(summary["postmaster"]) < 30 and 0 < float(summary["node"]) < 40
    rounds = [json.loads(line.split(": ", 2)[2]) for line in lines if line.startswith("failover: round ")]
    assert [r["kind"] for r in rounds] == ["postmaster", "node"]
    for result in rounds:
        assert result["new_leader"] != result["old_leader"]  # a replica took over
        assert result["rejoined_s"] is not None  # and the old leader runs again as a replica
        assert result["refused"] > 0  # the clients did see the outage and retried
        # The dispatcher's register and dispatch steps through the same outage: each acknowledged
        # step is in its case's trail, once.
        assert result["steps_accepted"] > 0 and result["steps_unanswered"] == 0, result
        assert result["steps_lost"] == 0 and result["steps_duplicates"] == 0, result
