"""Reassignment of cases after grids are redrawn: set-based, online in short batches, resumable.

`reassign()` finds the grids drawn differently since the last run by comparing each grid with its
stamp (incidents_gridstamp: version, md5 of the boundary, active flag), so a redraw is noticed
whoever wrote it. With stamps, only the cases a change can affect are examined: those assigned to a
changed grid and those inside a changed grid's new boundary. Without stamps (the first run), or with
`full=True`, every case is examined, district by district (a grid-driven join).

Online (the default; the server keeps taking reports and workflow steps):
1. examine: the answers that differ from what the cases hold go into incidents_reassignanswer, one
   district per transaction (a read of the case table: no lock that blocks a writer), each committed
   together with the run's checkpoint (common.models.JobRun.state);
2. apply: those answers are written in batches of GRIDGIS REASSIGN_BATCH_CASES case ids, each batch
   its own short transaction (the case rows it writes stay locked only that long), with a trail entry
   for each case that moved, the checkpoint advancing with it. With GRIDGIS REASSIGN_WRITERS above 1,
   the answers are cut into that many runs of case ids, each written by a connection of its own at
   the same time, each with its own checkpoint. A batch that meets a row locked by a long transaction
   gives up after REASSIGN_LOCK_TIMEOUT_MS and is tried again, so that it never makes a queue of
   requests behind it;
3. the stamps are refreshed and the run's answers forgotten.
No index or key of the live table is touched. An interrupted run (Ctrl-C, a killed worker) is resumed
with `reassign(run=...)` / `manage.py reassign --resume`: it skips the districts examined and the
batches written.

Offline (`offline=True`, `manage.py reassign --offline`), for a bulk rewrite while the service is
down: the whole run is one transaction, and when the changes reach GRIDGIS REASSIGN_REBUILD_FRACTION
of the table the plain indexes and the row-checked foreign keys are set aside around the write and
restored (bench, 2.2 M cases: 50 % moving 57 s in place / 45 s rebuilt). That path holds an ACCESS
EXCLUSIVE lock on the case table for the whole run, so it is refused while a server is accepting
reports (common.serving: every web process holds a shared advisory lock).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from common import jobs, serving
from common.models import JobRun
from layers.grids.models import Level
from layers.incidents import sql
from layers.incidents.models import OPEN_STATUSES

NOTE = "grids redrawn: reassigned by the smallest covering grid"
# SQLSTATE lock_not_available: a batch met a row locked for longer than its lock_timeout.
LOCK_NOT_AVAILABLE = "55P03"


@dataclass
class ReassignReport:
    mode: str = "affected"
    changed_grids: int = 0
    examined: int = 0
    updated: int = 0
    moved: int = 0
    strategy: str = "in place"
    seconds: float = 0.0
    districts: list[str] = field(default_factory=list)
    batches: int = 0
    run_id: int | None = None
    resumed: bool = False


def changed_grid_ids() -> list[int]:
    """Ids of grids drawn differently from their stamp, new or deleted since the last run."""
    with connection.cursor() as cursor:
        cursor.execute(sql.CHANGED_GRIDS)
        return sorted(row[0] for row in cursor.fetchall())


def has_stamps() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM incidents_gridstamp)")
        return cursor.fetchone()[0]


def restamp(grid_ids: list[int] | None = None) -> None:
    """Record how the grids are drawn now: all of them, or only `grid_ids`."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql.RESTAMP_GRIDS, {"all": grid_ids is None, "grid_ids": grid_ids or []})


def case_districts() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(sql.CASE_DISTRICTS)
        return [row[0] for row in cursor.fetchall()]


def _write(cursor, report: ReassignReport, params: dict) -> None:
    cursor.execute(sql.STAFF_TABLE)
    cursor.execute(sql.STAFF_ANSWERS, params)
    cursor.execute(sql.APPLY_ANSWERS, params)
    report.updated = cursor.rowcount
    cursor.execute(sql.TRAIL_MOVES, params)
    report.moved = cursor.rowcount


def _apply(cursor, report: ReassignReport, progress: Callable[[str], None]) -> None:
    """Write the answers gathered in reassign_answer: in place, or around a rebuild of the indexes."""
    cursor.execute(sql.COUNT_ANSWERS)
    changing, table_rows = cursor.fetchone()
    now = timezone.now()
    params = {"now": now, "note": NOTE, "today": timezone.localdate(now), "open_statuses": list(OPEN_STATUSES)}
    if changing == 0 or changing < settings.GRIDGIS["REASSIGN_REBUILD_FRACTION"] * max(table_rows, 1):
        _write(cursor, report, params)
        return
    report.strategy = "rebuild indexes"
    tick = time.perf_counter()
    # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED; ALTER TABLE and CREATE INDEX refuse to
    # run while checks are queued, so the remaining checks run at the end of each statement instead.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    # The keys the write checks row by row (an UPDATE checks only keys whose value changes), then the
    # indexes every rewritten row would enter.
    cursor.execute(
        sql.FOREIGN_KEYS_ON,
        {
            "tables": ["incidents_case", "incidents_trailentry"],
            "columns": ["incidents_case.grid_id", "incidents_trailentry.case_id"],
        },
    )
    set_aside = cursor.fetchall()
    cursor.execute(sql.PLAIN_CASE_INDEXES)
    set_aside += cursor.fetchall()
    progress(
        f"{changing:,} of ~{table_rows:,} cases change: setting aside {len(set_aside)} indexes and "
        "foreign keys, writing the rows, restoring them"
    )
    for drop, _, _ in set_aside:
        cursor.execute(drop)  # DDL generated from the catalogue, never from input
    _write(cursor, report, params)
    progress(
        f"{report.updated:,} cases and {report.moved:,} trail entries written in {time.perf_counter() - tick:.1f} s"
    )
    for _, restore, name in set_aside:
        started = time.perf_counter()
        cursor.execute(restore)
        progress(f"{name} restored in {time.perf_counter() - started:.1f} s")


def _offline(*, district: str | None, full: bool, progress: Callable[[str], None]) -> ReassignReport:
    """The whole run in one transaction, indexes set aside when enough moves (see the module docstring)."""
    started = time.perf_counter()
    report = ReassignReport()
    full = bool(district or full or not has_stamps())
    changed = [] if full else changed_grid_ids()
    if not full and not changed:
        progress("no grid redrawn since the last run")
        report.seconds = time.perf_counter() - started
        return report
    with transaction.atomic(), connection.cursor() as cursor:
        # Room for the join's sort (DISTINCT ON over a district's cases) and hashes in memory.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(sql.CREATE_ANSWERS)
        if full:
            report.mode = "full"
            districts = [district] if district else case_districts()
            for number, code in enumerate(districts, 1):
                tick = time.perf_counter()
                cursor.execute(sql.ANSWERS_FOR_DISTRICT, {"district": code, "deepest": int(Level.MICROGRID)})
                examined = cursor.fetchone()[0]
                report.examined += examined
                report.districts.append(code)
                progress(
                    f"[{number}/{len(districts)}] district {code or '(none)'}: {examined:,} cases "
                    f"examined in {time.perf_counter() - tick:.1f} s"
                )
        else:
            report.changed_grids = len(changed)
            cursor.execute(sql.ANSWERS_FOR_CHANGED_GRIDS, {"grid_ids": changed})
            report.examined = cursor.fetchone()[0]
            progress(f"{len(changed)} grid(s) redrawn: {report.examined:,} cases examined")
        _apply(cursor, report, progress)
        progress(
            f"{report.examined:,} cases examined, {report.moved:,} moved to another grid, "
            f"{report.updated:,} updated ({report.strategy})"
        )
        if full and not district:
            restamp()
        elif changed:
            restamp(changed)
    report.seconds = time.perf_counter() - started
    return report


def reassign(
    *,
    district: str | None = None,
    full: bool = False,
    offline: bool = False,
    run: JobRun | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> ReassignReport:
    """Bring every case's grid up to date with the grid tree; see the module docstring.

    `district` limits a full run to one district's cases (and leaves the stamps alone, since other
    districts were not examined). `run`: the JobRun to record progress in and resume from (a queued
    job's, or an interrupted run's); without it a new one is made. `offline=True` takes the one-
    transaction path and raises serving.ServiceAccepting while a web server is accepting reports.
    """
    if offline:
        with serving.offline():
            return _offline(district=district, full=full, progress=progress)
    return _online(district=district, full=full, run=run, progress=progress)


def latest_unfinished_run() -> JobRun | None:
    return JobRun.objects.filter(kind="reassign").exclude(status=JobRun.Status.DONE).order_by("-created_at").first()


def _plan(*, district: str | None, full: bool) -> dict | None:
    """What a new run will do (its first checkpoint), or None when there is nothing to do."""
    full = bool(district or full or not has_stamps())
    changed = [] if full else changed_grid_ids()
    if not full and not changed:
        return None
    return {
        "mode": "full" if full else "affected",
        "district": district or "",
        "districts": ([district] if district else case_districts()) if full else [],
        "changed": changed,
        "examined_districts": [],
        "examined_changed": False,
        "answers": None,
        "examined": 0,
        # The write step's share of the answers for each writer, made once the answers are counted:
        # {"after", "until": the case ids bounding it, "through": written up to here, and what it has
        # written: "answers", "updated", "moved", "batches"}.
        "slices": None,
    }


def _written(state: dict, key: str) -> int:
    """What the writers have written so far, in all: "answers", "updated", "moved" or "batches"."""
    return sum(part[key] for part in state["slices"] or [])


def _progress_of(state: dict) -> float:
    """Examining is the first half of a run, writing the second."""
    steps = len(state["districts"]) + (1 if state["mode"] == "affected" else 0)
    done = len(state["examined_districts"]) + (1 if state["examined_changed"] else 0)
    examined = done / max(steps, 1)
    written = _written(state, "answers") / state["answers"] if state["answers"] else 0.0
    return 0.5 * examined + 0.5 * written


def _checkpoint(run: JobRun, state: dict, message: str) -> None:
    """Record the run's state in the caller's transaction: it commits with the work it describes."""
    JobRun.objects.filter(pk=run.pk).update(state=state, progress=round(_progress_of(state), 4), message=message)


def _batch_params(run: JobRun) -> dict:
    now = timezone.now()
    return {
        "run": run.pk,
        "now": now,
        "note": NOTE,
        "today": timezone.localdate(now),
        "open_statuses": list(OPEN_STATUSES),
    }


def _is_lock_timeout(exc: OperationalError) -> bool:
    cause = exc.__cause__
    return (
        getattr(cause, "sqlstate", None) == LOCK_NOT_AVAILABLE or getattr(cause, "pgcode", None) == LOCK_NOT_AVAILABLE
    )


def _write_batch(run: JobRun, state: dict, index: int, batch_size: int, lock_timeout_ms: int, lock) -> bool:
    """Write the next batch of slice `index`'s stored answers in one short transaction; False when the
    slice is done. The slice's checkpoint commits with the batch; `state` (shared by the writers, under
    `lock`) takes the new slice only once that commit is through."""
    part = state["slices"][index]
    with transaction.atomic(), connection.cursor() as cursor:
        # A row held by a long transaction makes this batch give up rather than hold its own rows
        # (and every request waiting on them) for as long.
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{lock_timeout_ms}ms"])
        # The batch's commit need not wait for its WAL to reach the disk (or a synchronous replica):
        # a crash can lose only whole batches, each together with the checkpoint that counts it, and
        # the resumed run writes them again. A later request's own commit flushes them first anyway.
        cursor.execute("SELECT set_config('synchronous_commit', 'off', true)")
        cursor.execute(
            sql.NEXT_BATCH_END, {"run": run.pk, "after": part["through"], "until": part["until"], "batch": batch_size}
        )
        through, answers = cursor.fetchone()
        if through is None:
            return False
        params = {**_batch_params(run), "after": part["through"], "through": through}
        cursor.execute(sql.CREATE_ANSWERS)
        cursor.execute(sql.LOAD_BATCH, params)
        batch = ReassignReport()
        _write(cursor, batch, params)
        done = {
            **part,
            "through": through,
            "answers": part["answers"] + answers,
            "updated": part["updated"] + batch.updated,
            "moved": part["moved"] + batch.moved,
            "batches": part["batches"] + 1,
        }
        with lock:
            progress = _progress_of(
                {**state, "slices": [done if i == index else p for i, p in enumerate(state["slices"])]}
            )
        cursor.execute(
            sql.CHECKPOINT_SLICE,
            {
                "run": run.pk,
                "index": str(index),
                "slice": json.dumps(done),
                "progress": round(progress, 4),
                "message": f"writer {index + 1}: written through case {through}",
            },
        )
    with lock:
        state["slices"][index] = done
    return True


def _write_slice(run: JobRun, state: dict, index: int, lock, progress: Callable[[str], None]) -> int:
    """One writer: slice `index`'s batches until none is left; how many times it waited on locked rows."""
    config = settings.GRIDGIS
    batch_size, lock_timeout_ms = config["REASSIGN_BATCH_CASES"], config["REASSIGN_LOCK_TIMEOUT_MS"]
    waits = 0
    while True:
        try:
            if not _write_batch(run, state, index, batch_size, lock_timeout_ms, lock):
                return waits
        except OperationalError as exc:
            if not _is_lock_timeout(exc) or waits >= config["REASSIGN_LOCK_RETRIES"]:
                raise
            waits += 1
            time.sleep(min(0.05 * waits, 1.0))  # the failed batch left its slice as it was
            continue
        if state["slices"][index]["batches"] % 20 == 0:
            progress(f"{_written(state, 'answers'):,} of {state['answers']:,} answers written")


def _side_by_side(width: int, work: Callable, items: list) -> list:
    """`work(item)` for each item, `width` at a time, each in a thread with a database connection of
    its own (closed after); with width 1 (or one item) in this thread, on this connection, in order.
    An error in any is raised here."""
    if width <= 1 or len(items) <= 1:
        return [work(item) for item in items]

    def on_own_connection(item):
        try:
            return work(item)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=min(width, len(items)), thread_name_prefix="reassign") as pool:
        return list(pool.map(on_own_connection, items))


def _write_slices(run: JobRun, state: dict, progress: Callable[[str], None]) -> int:
    """Write every slice, each by a writer of its own; how many times they waited on locked rows."""
    lock = threading.Lock()
    indexes = list(range(len(state["slices"])))
    return sum(_side_by_side(len(indexes), lambda index: _write_slice(run, state, index, lock, progress), indexes))


def _examine_district(run: JobRun, state: dict, code: str, lock, progress: Callable[[str], None]) -> None:
    """Store the answers for one district's cases, with the district's checkpoint, in one transaction."""
    tick = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        # Room for the join's sort (DISTINCT ON over a district's cases) and hashes in memory.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(
            sql.STORE_ANSWERS_FOR_DISTRICT, {"run": run.pk, "district": code, "deepest": int(Level.MICROGRID)}
        )
        examined = cursor.fetchone()[0]
        with lock:
            done = {
                **state,
                "examined": state["examined"] + examined,
                "examined_districts": [*state["examined_districts"], code],
            }
        cursor.execute(
            sql.CHECKPOINT_DISTRICT,
            {
                "run": run.pk,
                "district": code,
                "examined": examined,
                "progress": round(_progress_of(done), 4),
                "message": f"district {code or '(none)'} examined",
            },
        )
    with lock:
        state["examined"] += examined
        state["examined_districts"].append(code)
        number = len(state["examined_districts"])
    progress(
        f"[{number}/{len(state['districts'])}] district {code or '(none)'}: {examined:,} cases "
        f"examined in {time.perf_counter() - tick:.1f} s"
    )


def _slices(ends: list[int]) -> list[dict]:
    """The writers' slices of a run's answers, from the last case id of each (none: one empty slice)."""
    ends = ends or [0]
    return [
        {"after": after, "until": until, "through": after, "answers": 0, "updated": 0, "moved": 0, "batches": 0}
        for after, until in zip([0, *ends[:-1]], ends, strict=True)
    ]


def _online(*, district: str | None, full: bool, run: JobRun | None, progress: Callable[[str], None]) -> ReassignReport:
    started = time.perf_counter()
    config = settings.GRIDGIS
    report = ReassignReport(strategy="batches")
    if run is None:
        run = jobs.create(kind="reassign", key=district or "", parameters={"full": full, "district": district or ""})
        run = jobs.start(run.pk)
    report.run_id = run.pk
    state = run.state
    if state:
        report.resumed = True
        progress(
            f"resuming run {run.pk}: {len(state['examined_districts'])} district(s) examined, "
            f"{_written(state, 'answers'):,} answers written"
        )
    else:
        state = _plan(district=district, full=full)
        if state is None:
            progress("no grid redrawn since the last run")
            jobs.finish(run.pk, message="no grid redrawn since the last run")
            report.seconds = time.perf_counter() - started
            return report
        with transaction.atomic():
            _checkpoint(run, state, "planned")
    report.mode = state["mode"]
    report.changed_grids = len(state["changed"])

    lock = threading.Lock()
    pending = [code for code in state["districts"] if code not in state["examined_districts"]]
    _side_by_side(config["REASSIGN_WRITERS"], lambda code: _examine_district(run, state, code, lock, progress), pending)
    if state["mode"] == "affected" and not state["examined_changed"]:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql.STORE_ANSWERS_FOR_CHANGED_GRIDS, {"run": run.pk, "grid_ids": state["changed"]})
            state["examined"] += cursor.fetchone()[0]
            state["examined_changed"] = True
            _checkpoint(run, state, "redrawn grids examined")
        progress(f"{len(state['changed'])} grid(s) redrawn: {state['examined']:,} cases examined")

    if state["answers"] is None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql.STORED_ANSWERS, {"run": run.pk})
            state["answers"] = cursor.fetchone()[0]
            cursor.execute(sql.ANSWER_SLICES, {"run": run.pk, "slices": max(1, config["REASSIGN_WRITERS"])})
            state["slices"] = _slices([row[0] for row in cursor.fetchall()])
            _checkpoint(run, state, f"{state['answers']:,} cases to write by {len(state['slices'])} writer(s)")
    tick = time.perf_counter()
    waits = _write_slices(run, state, progress)
    progress(
        f"{_written(state, 'answers'):,} answers written in {_written(state, 'batches')} batch(es) of at most "
        f"{config['REASSIGN_BATCH_CASES']:,} by {len(state['slices'])} writer(s) in "
        f"{time.perf_counter() - tick:.1f} s ({waits} wait(s) on locked rows)"
    )

    with transaction.atomic(), connection.cursor() as cursor:
        if state["mode"] == "full" and not state["district"]:
            restamp()
        elif state["changed"]:
            restamp(state["changed"])
        cursor.execute(sql.FORGET_ANSWERS, {"run": run.pk})
    report.examined, report.updated, report.moved = (
        state["examined"],
        _written(state, "updated"),
        _written(state, "moved"),
    )
    report.batches, report.districts = _written(state, "batches"), list(state["examined_districts"])
    summary = (
        f"{report.examined:,} cases examined, {report.moved:,} moved to another grid, "
        f"{report.updated:,} updated ({report.batches} batch(es))"
    )
    progress(summary)
    jobs.finish(
        run.pk, result={"examined": report.examined, "moved": report.moved, "updated": report.updated}, message=summary
    )
    report.seconds = time.perf_counter() - started
    return report
