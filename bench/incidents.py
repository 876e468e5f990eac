"""Benchmarks of the incidents layer at city scale (issue 3). Each function returns its figures.

Needs the city grid tree (`manage.py seed_demo --scale city`: 21,600 micro-grids) in the configured
database; `prepare_cases(total)` tops the case table up to `total` cases with generate_cases.

- intake_http: POST /api/v1/incidents/ through real HTTP on loopback (a threaded WSGI server in this
  process, one keep-alive client), p50/p99 in ms; beside it, the one raw SQL lookup of the smallest
  covering grid for the same points, to show what the rest of intake costs. Target: p99 ≤ 40 ms.
- reassign_full: the full reassignment (per district, grid-driven join) when nothing moves, when a
  tenth of the cases move, and when every case must be written; against one hand-written
  case-driven UPDATE and a per-case ORM loop on a sample, extrapolated. Target: 2.2 M cases at
  20,000 micro-grids ≤ 20 s.
- reassign_after_redraw: redraw 10 micro-grids, reassign only what they can affect. Target ≤ 1 s.

Run all: `.venv/bin/python -m bench.incidents [--cases N]` (prints JSON).

Measured on 2026-11-23 by `make bench` on a fresh clone (2 cores, nothing else running), city tree of
21,596 micro-grids / 27,494 grids, 2,200,000 cases with 14.5 M trail entries (generate_cases: 107 s):

    intake POST over HTTP, 1,000 requests    p50 11.6 ms, p99 15.2 ms (one prepared statement for the
                                             whole assignment); one raw SQL lookup: p50 0.33 ms
    reassign after redrawing 10 micro-grids  0.39 s (1,339 cases examined, 126 moved)
    full reassignment, nothing moves         9.6 s: the whole join, per district, no writes
    full reassignment, every case moves      81 s: join 11 s, 2.2 M rows + 2.2 M trail entries written
                                             40 s, keys checked again 8 s, indexes built again 21 s;
                                             a plain UPDATE of every row with the indexes in place
                                             alone takes 54 s
    hand-written case-driven UPDATE          296 s for the same write (3.6 x slower)
    per-case ORM loop                        1.6 ms per case -> 3,570 s extrapolated (44 x)

Later the same day, on the bench database that run left (`python -m bench.run --only reassign`),
after the join's sorts went into memory, only the answers that differ were kept, and the rebuild
threshold moved to the measured crossover:

    full reassignment, nothing moves         8.1 s (9.9 s before only differing answers were kept)
    full reassignment, 10 % of cases move    16.9 s: 220,015 cases written in place with their trail
                                             (19.3 s before)
    full reassignment, every case moves      73.7 s (hand-written: 318 s; ORM loop: 3,868 s)
    reassign after redrawing 10 micro-grids  0.36 s
    share moving:   2 %   10 %   25 %   40 %   50 %   70 %  (full runs, 2.2 M cases)
    in place:      12 s   19 s   31 s   44 s   57 s   68 s
    rebuilt:        -      -     35 s   42 s   45 s   54 s
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgis.settings")
    import django

    django.setup()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _counts() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FILTER (WHERE level = 5), count(*) FROM grids_grid WHERE is_active")
        micro, grids = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM incidents_case")
        cases = cursor.fetchone()[0]
    return {"micro_grids": micro, "grids": grids, "cases": cases}


def prepare_cases(total: int, days: float = 1095) -> dict:
    """Make sure the categories exist and the case table holds at least `total` cases."""
    _setup_django()
    from django.db import connection

    from layers.incidents.bulk import generate_cases
    from layers.incidents.catalogue import load_categories
    from layers.incidents.models import Category

    if not Category.objects.exists():
        load_categories()
    have = _counts()["cases"]
    figures = {"had": have}
    if have < total:
        started = time.perf_counter()

        def report(figures: dict) -> None:
            elapsed = time.perf_counter() - started
            done = (
                f"foreign key {figures['checked']} checked"
                if "checked" in figures
                else (f"cases {figures['cases']:,} / {figures['total']:,}, trail entries {figures['trail']:,}")
            )
            print(f"bench: {done} ({elapsed:.0f} s)", flush=True)

        made = generate_cases(total - have, days, seed=have + 1, progress=report)
        figures.update(
            generated=made["cases"], trail=made["trail"], generate_seconds=round(time.perf_counter() - started, 1)
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE incidents_case")
            cursor.execute("ANALYZE incidents_trailentry")
    figures.update(_counts())
    return figures


def _sample_points(n: int, seed: int = 11) -> list[tuple[float, float]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(p.geom), ST_Y(p.geom) FROM (SELECT boundary FROM grids_grid WHERE level = 5 AND is_active "
            "ORDER BY hashint4(id::int + %(seed)s) LIMIT %(n)s) g, LATERAL ST_Dump(ST_GeneratePoints(g.boundary, 1, "
            "%(seed)s)) p",
            {"n": n, "seed": seed},
        )
        return cursor.fetchall()


class _Server:
    """A WSGI server for the project on a free loopback port: real HTTP, one worker thread.

    Single-threaded on purpose: like a gunicorn worker it keeps its database connection between
    requests (CONN_MAX_AGE); a thread per request would open a new connection for every report and
    measure connection set-up instead of intake.
    """

    def __enter__(self):
        from django.core.handlers.wsgi import WSGIHandler
        from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer

        class QuietHandler(WSGIRequestHandler):
            def log_message(self, *args):
                pass

        self.httpd = WSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=True)
        self.httpd.set_app(WSGIHandler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def intake_http(requests_count: int = 1000, warmup: int = 50) -> dict:
    """POST cases (no photos) through HTTP; p50/p99 ms; then one raw SQL lookup per point for contrast.

    The cases made here are deleted afterwards, so repeated runs measure the same table.
    """
    _setup_django()
    import requests
    from django.db import connection

    from layers.incidents.models import Case, Category

    codes = list(Category.objects.filter(parent__isnull=False).values_list("code", flat=True))
    points = _sample_points(requests_count + warmup)
    first_id = Case.objects.order_by("-id").values_list("id", flat=True).first() or 0
    timings = []
    with _Server() as server, requests.Session() as session:
        for index, (lon, lat) in enumerate(points):
            body = {
                "category": codes[index % len(codes)],
                "lon": lon,
                "lat": lat,
                "description": "bench",
            }
            started = time.perf_counter()
            response = session.post(
                f"{server.url}/api/v1/incidents/", json=body, headers={"Idempotency-Key": f"bench-{first_id}-{index}"}
            )
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code not in (200, 201):
                raise RuntimeError(f"intake failed: {response.status_code} {response.text[:200]}")
            if index >= warmup:
                timings.append(elapsed)
    sql_timings = []
    with connection.cursor() as cursor:
        for lon, lat in points[warmup:]:
            started = time.perf_counter()
            cursor.execute(
                "SELECT id FROM grids_grid WHERE is_active AND ST_Covers(boundary, "
                "ST_SetSRID(ST_MakePoint(%s, %s), 4326)) ORDER BY level DESC, code LIMIT 1",
                [lon, lat],
            )
            cursor.fetchone()
            sql_timings.append((time.perf_counter() - started) * 1000)
    made = Case.objects.filter(id__gt=first_id, description="bench")
    made.filter(duplicate_of__isnull=False).delete()
    made.delete()
    return {
        **_counts(),
        "requests": len(timings),
        "intake_p50_ms": round(statistics.median(timings), 2),
        "intake_p99_ms": round(_percentile(timings, 99), 2),
        "intake_mean_ms": round(statistics.fmean(timings), 2),
        "sql_lookup_p50_ms": round(statistics.median(sql_timings), 3),
        "sql_lookup_p99_ms": round(_percentile(sql_timings, 99), 3),
        "target_p99_ms": 40,
    }


# A hand-written alternative to REASSIGN_DISTRICT: one UPDATE for the whole table, driven by the
# cases (a LATERAL lookup of the smallest covering grid per case), the planner's natural plan.
HAND_WRITTEN_CASE_DRIVEN = """
UPDATE incidents_case c
SET grid_id = f.id, grid_version = f.version
FROM incidents_case c2
LEFT JOIN LATERAL (
    SELECT g.id, g.version FROM grids_grid g
    WHERE g.is_active AND ST_Covers(g.boundary, c2.location)
    ORDER BY g.level DESC, g.code LIMIT 1
) f ON true
WHERE c.id = c2.id AND (c.grid_id IS DISTINCT FROM f.id OR c.grid_version IS DISTINCT FROM f.version)
"""


def reassign_full_noop() -> dict:
    """Full reassignment when nothing moves: the whole join, per district, and no writes."""
    _setup_django()
    from layers.incidents.reassign import reassign

    report = reassign(full=True)
    return {**_counts(), "set_based_noop_s": round(report.seconds, 2), "set_based_noop_moved": report.moved}


def _vacuum(*tables: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:  # names are this module's constants
            cursor.execute(f"VACUUM ANALYZE {table}")  # noqa: S608


def _checkpoint() -> None:
    """Write out what the set-up dirtied, so that its checkpoint does not land in the next measurement
    (CHECKPOINT needs a superuser or pg_checkpoint: without one, the run goes on and says so)."""
    from django.db import DatabaseError, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError as refused:
        print(f"bench: no CHECKPOINT after the set-up ({refused}); its writes may land in the figures", file=sys.stderr)


def _clear_grids(share: float) -> tuple[int, float]:
    """Clear the grid of `share` of the cases (spread over the city by id; every case at 1.0), as if
    they had arrived without one; committed, then VACUUM and a CHECKPOINT, outside any timing. Without
    the checkpoint, the one that a million updated rows set off ran through the next measurement
    (its figures: docs/scaling.md)."""
    from django.db import connection

    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(
            "UPDATE incidents_case SET grid_id = NULL, grid_version = NULL WHERE id %% 1000 < %s", [round(share * 1000)]
        )
        cleared, seconds = cursor.rowcount, time.perf_counter() - started
    _vacuum("incidents_case")
    _checkpoint()
    return cleared, seconds


def _timed_full_reassign(offline: bool = False) -> tuple[float, object, list[str]]:
    """The project's reassign(full=True) for real (online, or the one-transaction offline path), with
    its progress lines timed; then the trail entries it wrote are deleted so later runs measure the
    same database."""
    from django.db import connection
    from django.utils import timezone

    from layers.incidents.reassign import reassign

    since = timezone.now()
    steps = []
    started = time.perf_counter()
    report = reassign(
        full=True,
        offline=offline,
        progress=lambda message: steps.append(f"{time.perf_counter() - started:6.1f} s  {message}"),
    )
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM incidents_trailentry WHERE action = 'reassign' AND at >= %s", [since])
    _vacuum("incidents_case", "incidents_trailentry")
    return seconds, report, steps


def reassign_share_moves(share: float = 0.10) -> dict:
    """Full reassignment when `share` of the cases must move (a large redraw): every case examined,
    the moved ones written in place with their trail entries."""
    _setup_django()
    cleared, _ = _clear_grids(share)
    seconds, report, steps = _timed_full_reassign()
    return {
        "share": share,
        "cleared": cleared,
        "seconds": round(seconds, 2),
        "moved": report.moved,
        "strategy": report.strategy,
        "steps": steps,
    }


def reassign_every_case_moves() -> dict:
    """Full reassignment when every case must move: the first run after 2.2 M cases arrived without
    grids (a complete redraw writes the same). The hand-written case-driven UPDATE runs on that state
    first and is rolled back; then the project's reassign() puts every case back in its grid."""
    _setup_django()
    from django.conf import settings
    from django.db import connection, transaction
    from django.test import override_settings

    _, clear_s = _clear_grids(1.0)
    with transaction.atomic():
        with connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(HAND_WRITTEN_CASE_DRIVEN)
            hand_s, hand_rows = time.perf_counter() - started, cursor.rowcount
        transaction.set_rollback(True)
    seconds, report, steps = _timed_full_reassign()
    # The same with two writers side by side (GRIDGIS_REASSIGN_WRITERS=2), for a redraw in a quiet hour.
    _clear_grids(1.0)
    with override_settings(GRIDGIS={**settings.GRIDGIS, "REASSIGN_WRITERS": 2}):
        two_s, _, two_steps = _timed_full_reassign()
    _clear_grids(1.0)
    offline_s, offline_report, _ = _timed_full_reassign(offline=True)
    return {
        "writers": settings.GRIDGIS["REASSIGN_WRITERS"],
        "two_writers_all_rows_s": round(two_s, 2),
        "two_writers_steps": two_steps,
        "offline_all_rows_s": round(offline_s, 2),
        "offline_strategy": offline_report.strategy,
        "set_based_all_rows_s": round(seconds, 2),
        "set_based_all_rows_moved": report.moved,
        "set_based_strategy": report.strategy,
        "set_based_steps": steps,
        "plain_update_all_rows_s": round(clear_s, 2),
        "hand_written_case_driven_s": round(hand_s, 2),
        "hand_written_rows": hand_rows,
    }


def reassign_orm_loop(sample: int = 2000) -> dict:
    """One smallest_covering query and one save per case, on a sample, extrapolated to the table."""
    _setup_django()
    from django.db import connection, transaction

    from layers.grids.models import Grid
    from layers.incidents.models import Case

    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM incidents_case ORDER BY hashint4(id::int) LIMIT %s", [sample])
        sample_ids = [row[0] for row in cursor.fetchall()]
    cases = list(Case.objects.filter(id__in=sample_ids).only("id", "location", "grid_id"))
    with transaction.atomic():
        started = time.perf_counter()
        for case in cases:
            grid = Grid.objects.smallest_covering(case.location)
            case.grid = grid
            case.grid_version = grid.version if grid else None
            case.save(update_fields=["grid", "grid_version"])
        per_case = (time.perf_counter() - started) / max(1, len(cases))
        transaction.set_rollback(True)
    total = _counts()["cases"]
    return {
        "orm_loop_sample": len(cases),
        "orm_loop_ms_per_case": round(per_case * 1000, 3),
        "orm_loop_extrapolated_s": round(per_case * total, 1),
    }


def reassign_full() -> dict:
    """All full-reassignment figures in one run (target: 2.2 M cases ≤ 20 s)."""
    return {
        **reassign_full_noop(),
        "tenth_moves": reassign_share_moves(0.10),
        **reassign_orm_loop(),
        **reassign_every_case_moves(),
        "target_s": 20,
    }


# Redraw micro-grids the way an editor would: grow each by 15 m (in metres, EPSG:4544) into its
# neighbours, bumping its version.
REDRAW = """
UPDATE grids_grid
SET boundary = ST_Multi(ST_Transform(ST_Buffer(ST_Transform(boundary, 4544), %(metres)s), 4326)),
    version = version + 1
WHERE id = ANY(%(ids)s)
"""


def reassign_after_redraw(count: int = 10, metres: float = 15.0) -> dict:
    """Redraw `count` micro-grids; reassign only the affected cases; report the time. Undone after."""
    _setup_django()
    from django.db import connection, transaction

    from layers.incidents.reassign import has_stamps, reassign, restamp

    if not has_stamps():
        restamp()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM grids_grid WHERE level = 5 AND is_active ORDER BY hashint4(id::int) LIMIT %s", [count]
        )
        ids = [row[0] for row in cursor.fetchall()]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(REDRAW, {"ids": ids, "metres": metres})
        report = reassign()
        transaction.set_rollback(True)  # leave the city as it was
    return {
        **_counts(),
        "redrawn_grids": len(ids),
        "changed_grids_found": report.changed_grids,
        "examined": report.examined,
        "moved": report.moved,
        "seconds": round(report.seconds, 3),
        "target_s": 1,
    }


def main(argv: list[str]) -> None:
    total = int(argv[argv.index("--cases") + 1]) if "--cases" in argv else 2_200_000
    results = {"prepare": prepare_cases(total)}
    print(json.dumps(results, indent=1), flush=True)
    results["intake_http"] = intake_http()
    print(json.dumps(results["intake_http"], indent=1), flush=True)
    results["reassign_after_redraw"] = reassign_after_redraw()
    print(json.dumps(results["reassign_after_redraw"], indent=1), flush=True)
    results["reassign_full"] = reassign_full()
    print(json.dumps(results, indent=1), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])


# The case columns a workflow step may change and the bench puts back afterwards; the reassignment's
# own columns (grid, district, people on duty) are left as it wrote them.
STEPPED_CASE_FIELDS = ("status", "version", "due_at", "due_clock", "stage_started_at", "department", "provenance")


def _dispatcher_token() -> str:
    """The API token of the bench's city dispatcher (made once)."""
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token

    from layers.accounts.roles import DISPATCHER

    user, made = User.objects.get_or_create(username="bench-dispatcher")
    if made:
        user.set_unusable_password()
        user.save()
    user.groups.add(Group.objects.get_or_create(name=DISPATCHER)[0])
    return Token.objects.get_or_create(user=user)[0].key


def intake_during_reassignment(
    share: float = 0.5, quiet_s: float = 20.0, clients: int = 2, every_s: float | None = None
) -> dict:
    """Intake through gunicorn (two clients posting reports) and a dispatcher's workflow steps (register,
    dispatch: ten a second on cases the run is moving), beside nothing, then beside an online full
    reassignment that moves `share` of the cases (the issue's targets at city scale: intake p99 ≤ 40 ms,
    none over 1 s; steps p99 ≤ 100 ms). Also the longest any request waited for a lock, sampled in
    pg_stat_activity, and how this machine's cores were spent in each round (bench.sampling.MachineCores).
    Afterwards the reports go, the stepped cases get their workflow columns back, and the steps' and
    the run's trail entries and notifications are deleted."""
    _setup_django()
    import tempfile

    import psycopg
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone
    from procrastinate.contrib.django.utils import connector_params

    from bench.load import LockWaits, WorkflowSteps, intake_while, server_for
    from bench.sampling import MachineCores
    from common.models import IdempotentRequest, Notification
    from layers.incidents.models import Case, Status, TrailEntry
    from layers.incidents.reassign import reassign

    category = Case.objects.filter(category__parent__isnull=False).values_list("category__code", flat=True).first()
    first_id = Case.objects.order_by("-id").values_list("id", flat=True).first() or 0
    cleared, _ = _clear_grids(share)
    since = timezone.now()
    # Cases the run will move (their grid was just cleared) that a dispatcher can step on: the quiet
    # round takes the first ones, the busy round the rest.
    steppable = list(
        Case.objects.filter(grid=None, status__in=(Status.REPORTED, Status.REGISTERED))
        .order_by("?")
        .values_list("id", "status")
    )
    snapshot = {case.pk: case for case in Case.objects.filter(pk__in=[row[0] for row in steppable])}
    token = _dispatcher_token()
    quiet_steps = WorkflowSteps(token, steppable[: len(steppable) // 6])
    busy_steps = WorkflowSteps(token, steppable[len(steppable) // 6 :])
    with (
        tempfile.TemporaryDirectory() as media,
        server_for(connection.settings_dict["NAME"], media) as (port, _pid),
    ):
        intake_while(port, lambda: time.sleep(2), clients=clients, category=category)  # warm up
        with MachineCores() as quiet_cores:
            _, quiet = intake_while(
                port,
                lambda: time.sleep(quiet_s),
                clients=clients,
                category=category,
                steps=quiet_steps,
                every_s=every_s,
            )
        started = time.perf_counter()
        with (
            MachineCores() as busy_cores,
            LockWaits(lambda: psycopg.connect(**connector_params("default"), autocommit=True)) as waits,
        ):
            report, busy = intake_while(
                port, lambda: reassign(full=True), clients=clients, category=category, steps=busy_steps, every_s=every_s
            )
        seconds = time.perf_counter() - started
    # Put the city back as it was: the reports posted during the run go (with their trails, photos and
    # follow links, by the ORM's cascade), the stepped cases get their workflow columns back, and the
    # trail entries, notifications and idempotency records the steps, the reports and the reassignment
    # wrote go (else each run leaves some 7,000 records in the table the next run writes to).
    stepped = quiet_steps.taken + busy_steps.taken
    TrailEntry.objects.filter(at__gte=since, action__in=("reassign", "register", "dispatch")).delete()
    Notification.objects.filter(kind="case_dispatched", created_at__gte=since).delete()
    IdempotentRequest.objects.filter(created_at__gte=since, key__startswith="intake-").delete()
    Case.objects.bulk_update([snapshot[pk] for pk in stepped], STEPPED_CASE_FIELDS, batch_size=500)
    posted = Case.objects.filter(id__gt=first_id)
    posted.update(duplicate_of=None)
    posted.delete()
    _vacuum("incidents_case", "incidents_trailentry")
    return {
        "share": share,
        "cleared": cleared,
        "quiet": quiet.as_dict(),
        "during": busy.as_dict(),
        "steps_quiet": quiet_steps.timings.as_dict(),
        "steps_during": busy_steps.timings.as_dict(),
        "cores_quiet": quiet_cores.figures,
        "cores_during": busy_cores.figures,
        "longest_lock_wait_ms": round(1000 * waits.longest_s, 1),
        "longest_lock_wait": waits.longest_what,
        "reassign_s": round(seconds, 2),
        "moved": report.moved,
        "batches": report.batches,
        "writers": settings.GRIDGIS["REASSIGN_WRITERS"],
        "every_s": every_s,
    }
