"""Bookkeeping of background work (common.models.JobRun): queued, started, progress, done or failed.

Each call commits on its own (a job's progress is visible while it runs, and survives its worker),
so a task calls these outside its own data transactions. A task that is retried after its worker died
calls `start()` again: the attempt counter goes up and `state`, the checkpoint, is kept.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from common.models import JobRun


@transaction.atomic
def create(*, kind: str, key: str = "", parameters: dict | None = None, user=None, via: str = "") -> JobRun:
    return JobRun.objects.create(
        kind=kind,
        key=key or "",
        parameters=parameters or {},
        requested_by=user if user is not None and user.is_authenticated else None,
        requested_via=via[:100],
    )


def attach(run: JobRun, job_id: int) -> None:
    JobRun.objects.filter(pk=run.pk).update(job_id=job_id)
    run.job_id = job_id


@transaction.atomic
def start(run_id: int) -> JobRun:
    """Mark the run running (again, after a dead worker); returns it with its checkpoint."""
    run = JobRun.objects.select_for_update().get(pk=run_id)
    run.status = JobRun.Status.RUNNING
    run.attempts += 1
    run.error = ""
    run.started_at = run.started_at or timezone.now()
    run.finished_at = None
    run.save(update_fields=["status", "attempts", "error", "started_at", "finished_at"])
    return run


def report(run_id: int, *, progress: float | None = None, message: str | None = None, state: dict | None = None):
    """Save how far the run is (0..1), what it is doing, and its checkpoint."""
    changes = {}
    if progress is not None:
        changes["progress"] = round(min(max(progress, 0.0), 1.0), 4)
    if message is not None:
        changes["message"] = message[:2000]
    if state is not None:
        changes["state"] = state
    if changes:
        with transaction.atomic():
            JobRun.objects.filter(pk=run_id).update(**changes)


def finish(run_id: int, *, result: dict | None = None, message: str = "") -> None:
    with transaction.atomic():
        JobRun.objects.filter(pk=run_id).update(
            status=JobRun.Status.DONE,
            progress=1.0,
            result=result or {},
            message=message[:2000],
            finished_at=timezone.now(),
        )


def fail(run_id: int, error: BaseException) -> None:
    with transaction.atomic():
        JobRun.objects.filter(pk=run_id).update(
            status=JobRun.Status.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
