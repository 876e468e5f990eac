"""The failover drill (`make failover`): reports through HAProxy while the cluster loses its leader.

Round 1 kills the leader's postmaster (kill -9); round 2 kills a whole node (its Patroni and its
postmaster, kill -9 both). Each round: the project's load tool (bench/load.py: concurrent reports, each
sent twice with one Idempotency-Key and retried on errors) against gunicorn on the cluster's write
port; a bare client writing through the same port every 50 ms measures the seconds without writes.
After each round the old leader must be back as a replica (pg_rewind), with the app never restarted.
Ends with one line a script can read:

    failover: postmaster <s> s, node <s> s, accepted <n>, lost <n>, duplicates <n>

Beside the reports, a dispatcher registers and dispatches reports posted just before the fault
(bench/load.py WorkflowSteps), each send retried with its key until answered; every step answered 200
must be in its case's trail once. `lost` and `duplicates` count reports and steps; the steps' own
figures follow on a line `failover steps: …`.

`accepted`: reports acknowledged in the end, answered 201 or, when the first try was stored but its
answer died with the leader, the retry's replay of it; `lost`: a 201 whose case is not stored; `duplicates`: cases beyond
the first for one key, and keys answered 201 twice. Exit status 0 when lost and duplicates are 0 and
both rounds recovered.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.sampling import Sampler
from gridgis import cluster

DATABASE = "gridgis_failover"


class WriteProbe(Sampler):
    """A bare client inserting a row through the write port every 50 ms; the longest gap between two
    successful writes after a moment is that moment's outage."""

    def __init__(self):
        super().__init__()
        self.successes: list[float] = []

    def _run(self):
        import psycopg

        connection = None
        while not self._stop.is_set():
            try:
                if connection is None:
                    connection = psycopg.connect(
                        host="127.0.0.1",
                        port=cluster.WRITE_PORT,
                        user=cluster.DB_USER,
                        dbname=DATABASE,
                        autocommit=True,
                        connect_timeout=1,
                    )
                    connection.execute("CREATE TABLE IF NOT EXISTS failover_probe (at timestamptz DEFAULT now())")
                connection.execute("INSERT INTO failover_probe DEFAULT VALUES")
                self.successes.append(time.monotonic())
            except Exception:
                if connection is not None:
                    try:
                        connection.close()
                    except Exception:  # noqa: S110 (already broken)
                        pass
                connection = None
            self._stop.wait(0.05)
        if connection is not None:
            connection.close()

    def outage_after(self, moment: float) -> float | None:
        """Seconds from the last write before `moment` to the first after it; None if none came back."""
        before = [t for t in self.successes if t <= moment]
        after = [t for t in self.successes if t > moment]
        if not after:
            return None
        return after[0] - (before[-1] if before else moment)


def _kill(pid: int | None) -> None:
    if pid:
        os.kill(pid, signal.SIGKILL)


def has_sync_standby() -> bool:
    """Whether the leader has named a synchronous standby: with synchronous_mode only that node may be
    promoted, so a leader lost before it names one leaves the cluster without a leader (by design:
    nothing acknowledged may be lost) until it comes back."""
    members = cluster.cluster_state().get("members", [])
    return any(m.get("role") == "sync_standby" and m.get("state") in ("running", "streaming") for m in members)


def wait_for_rejoin(old_leader: str, seconds: float = 180.0) -> float | None:
    """Seconds until a new leader leads, the old one runs again as a replica and a synchronous standby
    is named again; None if not in time."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        members = {m["name"]: m for m in cluster.cluster_state().get("members", [])}
        leader = cluster.leader()
        old = members.get(old_leader, {})
        others = [m for name, m in members.items() if name != leader]
        if (
            leader
            and leader != old_leader
            and old.get("role") in ("replica", "sync_standby")
            and old.get("state") in ("running", "streaming")
            and len(others) == 2
            and all(m.get("state") in ("running", "streaming") for m in others)
            and has_sync_standby()
        ):
            return time.monotonic() - started
        time.sleep(0.5)
    return None


def _steps_for_round(port: int, count: int, kind: str):
    """A dispatcher's steps for one round: `count` reports waiting (posted now, before the fault) to be
    registered and dispatched through the round, each send retried with its key until answered."""
    import threading

    from bench.incidents import _dispatcher_token
    from bench.load import WorkflowSteps, run_load
    from layers.incidents.models import Case, Status

    made = run_load(port, submissions=count, clients=2, prefix=f"failover-{kind}-steps-{int(time.time() * 1000)}-")
    # Reports this close to an open one of their category become its "me too" duplicates, which cannot
    # be registered: the steps take the latest reports still waiting (these, and earlier rounds').
    cases = list(Case.objects.filter(status=Status.REPORTED).order_by("-id").values_list("id", flat=True)[:count])
    # Four steps a second, so that they go on through the fault and the outage.
    steps = WorkflowSteps(_dispatcher_token(), [(case_id, "reported") for case_id in cases], 0.25, True)
    stop = threading.Event()
    thread = threading.Thread(target=steps.run, args=(port, stop, time.monotonic() + 600, f"{made.prefix}step-"))
    return steps, stop, thread


def verify_steps(steps) -> dict:
    """Each step answered 200 must be in the case's trail once; no step may be there twice."""
    from django.db.models import Count

    from layers.incidents.models import TrailEntry

    rows = (
        TrailEntry.objects.filter(case_id__in=steps.taken, action__in=("register", "dispatch"))
        .values("case_id", "action")
        .annotate(count=Count("id"))
        .order_by()
    )
    counts = {(row["case_id"], row["action"]): row["count"] for row in rows}
    accepted = [step for step, answer in steps.answered.items() if answer == 200]
    return {
        "steps_accepted": len(accepted),
        "steps_answers": {str(status): n for status, n in Counter(steps.answered.values()).items()},
        "steps_refusals": [f"{status} {detail} (x{n})" for (status, detail), n in steps.refusals.most_common(3)],
        "steps_refused": steps.errors,
        "steps_unanswered": sum(1 for answer in steps.answered.values() if answer == 0),
        "steps_lost": sum(1 for step in accepted if counts.get(step, 0) == 0),
        "steps_duplicates": sum(count - 1 for count in counts.values() if count > 1),
    }


def drill_round(port: int, kind: str, *, submissions: int, clients: int, deadline_s: float) -> dict:
    """One round: load and a dispatcher's steps, then `kind` ("postmaster" or "node") of the leader
    killed after a quarter of the reports."""
    from bench.load import run_load, verify

    deadline = time.monotonic() + 120
    while not (cluster.leader() and has_sync_standby()):
        if time.monotonic() > deadline:
            raise RuntimeError("failover: no leader with a synchronous standby")
        time.sleep(0.5)
    leader = cluster.leader()
    fault: dict = {}

    def kill_leader(figures):
        fault["at"] = time.monotonic()
        if kind == "node":
            _kill(cluster._running(leader))  # Patroni first, so that nothing restarts the postmaster
        _kill(cluster.postmaster_pid(leader))

    steps, stop_steps, stepper = _steps_for_round(port, max(10, submissions // 4), kind)
    with WriteProbe() as probe:
        stepper.start()
        figures = run_load(
            port,
            submissions=submissions,
            clients=clients,
            restart_db_after=max(1, submissions // 4),
            fault=kill_leader,
            deadline_s=deadline_s,
            prefix=f"failover-{kind}-{int(time.time() * 1000)}-",
        )
        stop_steps.set()  # the step in hand is still sent until it is answered
        stepper.join(120)
        if kind == "node":
            cluster.start_node(leader)  # the machine comes back
        rejoined_s = wait_for_rejoin(leader)
        time.sleep(0.5)
    from django.db import connection

    connection.close()  # this process's own connection died with the leader
    checks = verify(figures)
    checks["duplicate_cases"] = duplicate_cases(figures.prefix)
    return {
        **verify_steps(steps),
        "kind": kind,
        "old_leader": leader,
        "new_leader": cluster.leader(),
        "without_writes_s": None if "at" not in fault else probe.outage_after(fault["at"]),
        "rejoined_s": rejoined_s,
        # Reports acknowledged in the end, one per Idempotency-Key: a report whose first try was stored
        # but whose answer died with the leader is acknowledged by a replay (and never stored twice).
        "accepted": sum(1 for answers in figures.answers.values() if any(a[0] in (200, 201) for a in answers)),
        "answered_201": figures.created_201,
        "refused": figures.status_5xx + figures.connection_errors,
        "unanswered": figures.unanswered,
        "lost": checks["lost"],
        "duplicates": checks["duplicate_cases"] + checks["keys_with_two_201"],
        "mismatched": checks["mismatched"],
        "keys_without_a_case": checks["keys_without_a_case"],
    }


def duplicate_cases(prefix: str) -> int:
    """Cases beyond the first stored for one Idempotency-Key."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM incidents_case "
            "WHERE idempotency_key LIKE %s GROUP BY idempotency_key) k",
            [prefix + "%"],
        )
        return int(cursor.fetchone()[0])


def run_drill(*, submissions: int, clients: int, deadline_s: float) -> dict:
    """Both rounds against gunicorn on the cluster (started if needed); Django must not be set up yet."""
    cluster.start()
    cluster.ensure_database(DATABASE)
    urls = cluster.app_env(DATABASE)
    os.environ.update(urls, GRIDGIS_DB_NAME=DATABASE, GRIDGIS_THROTTLE="off")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgis.settings")
    import django

    django.setup()
    from bench.load import prepare_database, server_for

    prepare_database()
    rounds = []
    with tempfile.TemporaryDirectory() as media, server_for(DATABASE, media, env=urls) as (port, _pid):
        for kind in ("postmaster", "node"):
            rounds.append(drill_round(port, kind, submissions=submissions, clients=clients, deadline_s=deadline_s))
            print(f"failover: round {kind}: {json.dumps(rounds[-1])}", flush=True)
    return {"rounds": rounds}


def summary_line(result: dict) -> str:
    by_kind = {r["kind"]: r for r in result["rounds"]}

    def seconds(kind):
        value = by_kind[kind]["without_writes_s"]
        return "?" if value is None else f"{value:.1f}"

    accepted = sum(r["accepted"] for r in result["rounds"])
    lost = sum(r["lost"] + r["steps_lost"] for r in result["rounds"])
    duplicates = sum(r["duplicates"] + r["steps_duplicates"] for r in result["rounds"])
    return (
        f"failover: postmaster {seconds('postmaster')} s, node {seconds('node')} s, "
        f"accepted {accepted}, lost {lost}, duplicates {duplicates}"
    )


def steps_line(result: dict) -> str:
    rounds = result["rounds"]
    return (
        f"failover steps: accepted {sum(r['steps_accepted'] for r in rounds)}, "
        f"lost {sum(r['steps_lost'] for r in rounds)}, duplicates {sum(r['steps_duplicates'] for r in rounds)}, "
        f"sends without an answer (sent again) {sum(r['steps_refused'] for r in rounds)}"
    )


def passed(result: dict) -> bool:
    return all(
        r["lost"] == 0
        and r["duplicates"] == 0
        and r["mismatched"] == 0
        and r["keys_without_a_case"] == 0
        and r["unanswered"] == 0
        and r["without_writes_s"] is not None
        and r["rejoined_s"] is not None
        and r["steps_accepted"] > 0
        and r["steps_lost"] == 0
        and r["steps_duplicates"] == 0
        and r["steps_unanswered"] == 0
        for r in result["rounds"]
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=1000, help="reports per round")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--deadline", type=float, default=300, help="seconds per round at most")
    args = parser.parse_args(argv)
    result = run_drill(submissions=args.submissions, clients=args.clients, deadline_s=args.deadline)
    out = Path(__file__).resolve().parent / "results" / f"failover-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print(steps_line(result))
    print(summary_line(result), flush=True)
    return 0 if passed(result) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
