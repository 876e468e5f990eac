"""Benchmarks of working-time deadlines (issue 17). Each function returns its figures.

- due_times: `total` deadlines by the one rule (gridgis_due_at over the working-interval table, inlined
  into the statement) beside the same number of plain `timestamp + interval` additions, in the same
  run. Starts are spread over three years (2024-2026), 8 working hours each. Target: 1 M ≤ 10 s.
- escalation_working: `escalate()` over the case table with working-time deadlines (the two cut-offs
  computed once per rung), rolled back so that it can be repeated. Target: 2.2 M cases ≤ 5 s.

Run: `.venv/bin/python -m bench.clocks [--deadlines N]` (prints JSON); `make bench` runs the suite
"clocks".

City scale on 2026-12-01 (2.2 M cases, 78,971 open on working time; the 2-core machine shared with
full test suites and other benchmarks, load 3-8, so upper bounds; two runs): 1,000,000 working-time
deadlines 3.24-7.04 s against 0.28-0.37 s of plain additions (11.5-18.9x; target 10 s); escalation in
the steady state 3.20-3.50 s (target 5 s), beside the first run that catches up every overdue case
(about 256,000-265,000 climbs with their trail entries) in 101-119 s; the seed's limits applied to
every open case in one statement, each change with its trail entry: 53.8 s when every stage start
has to be found in the trail (a database upgraded from before the clocks, once), 17.4 s when they
are known. Before the rule was inlined (a scalar SQL function per row, with a
double-precision comparison that kept the interval index out), 100,000 deadlines took 35 s.
"""

from __future__ import annotations

import json
import sys
import time

from bench.incidents import _setup_django

WORKING = """
SELECT count(d.due)
FROM generate_series(1, %(total)s) AS n
CROSS JOIN LATERAL gridgis_due_at(
    timestamptz '2024-01-01 00:00+08' + (n %% 1095) * interval '1 day' + (n %% 1440) * interval '1 minute',
    480, 'working') AS d
"""

PLAIN = """
SELECT count(timestamptz '2024-01-01 00:00+08' + (n %% 1095) * interval '1 day' + (n %% 1440) * interval '1 minute'
             + 480 * interval '1 minute')
FROM generate_series(1, %(total)s) AS n
"""


def _timed(statement: str, params: dict, runs: int) -> tuple[float, int]:
    from django.db import connection

    best, value = float("inf"), 0
    for _ in range(runs):
        with connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(statement, params)
            value = cursor.fetchone()[0]
            best = min(best, time.perf_counter() - started)
    return best, value


def due_times(total: int = 1_000_000, runs: int = 3) -> dict:
    """Seconds for `total` working-time deadlines and for `total` plain additions (best of `runs`)."""
    _setup_django()
    working_s, computed = _timed(WORKING, {"total": total}, runs)
    plain_s, _ = _timed(PLAIN, {"total": total}, runs)
    return {"deadlines": total, "computed": computed, "working_s": working_s, "plain_s": plain_s}


def escalation_working() -> dict:
    """Escalation over every case with working-time deadlines, in one transaction rolled back at the end:

    1. the seed's limits are applied to every open case by the one statement an administrator's limit
       change uses (services.apply_stage_limits, timed); cases generated before the clocks were kept
       (no stage start: a bench database built by an older generator) get theirs from the trail;
    2. a first escalation run catches up (every overdue case climbs the rungs it has earned);
    3. a second run is the steady state, what the worker's run every minute costs (the target).
    """
    _setup_django()
    from django.db import transaction
    from django.utils import timezone

    from layers.incidents.escalation import escalate
    from layers.incidents.models import OPEN_STATUSES, Case
    from layers.incidents.services import apply_stage_limits

    now = timezone.now()
    cases = Case.objects.count()
    with transaction.atomic():
        started = time.perf_counter()
        changed = apply_stage_limits(now=now, note="bench: limits applied")
        apply_s = time.perf_counter() - started
        working = Case.objects.filter(status__in=OPEN_STATUSES, due_clock="working").count()
        started = time.perf_counter()
        caught_up = escalate(now)
        catch_up_s = time.perf_counter() - started
        started = time.perf_counter()
        steady = escalate(now)
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return {
        "cases": cases,
        "open_working": working,
        "limits_applied_to": changed,
        "apply_limits_s": round(apply_s, 2),
        "catch_up_climbed": caught_up,
        "catch_up_s": round(catch_up_s, 2),
        "climbed": steady,
        "seconds": seconds,
    }


if __name__ == "__main__":
    args = sys.argv[1:]
    total = int(args[args.index("--deadlines") + 1]) if "--deadlines" in args else 1_000_000
    print(json.dumps({"due_times": due_times(total), "escalation": escalation_working()}, indent=2, default=str))
