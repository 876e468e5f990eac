"""The incidents layer's background work (registered through common.queue; a worker runs it).

- escalate_overdue: the escalation ladder on a schedule (GRIDGIS QUEUE ESCALATE_CRON) for late cases
  and unanswered supervision orders, and the review of suspended cases; idempotent, so a tick missed
  while no worker ran is made up by the next.
- reassign_cases: cases follow the grids after a redraw (layers/incidents/reassign.py), one job per
  district at a time; its JobRun carries the progress and the checkpoint a retried job resumes from.
"""

from __future__ import annotations

from django.conf import settings

from common import jobs
from common.models import JobRun
from common.queue import enqueue, periodic, task
from layers.incidents.escalation import escalate, escalate_orders
from layers.incidents.reassign import reassign
from layers.incidents.requests import review_suspensions


@periodic(cron=settings.GRIDGIS["QUEUE"]["ESCALATE_CRON"], queue="incidents")
def escalate_overdue(timestamp: int) -> dict:
    """What `manage.py escalate` does: late cases and unanswered supervision orders climb the ladder,
    suspended cases whose review date has come are flagged."""
    return {
        "cases": {str(level): count for level, count in escalate().items()},
        "orders": {str(level): count for level, count in escalate_orders().items()},
        "suspensions_due": review_suspensions(),
    }


@task(queue="incidents", lock_by="district")
def reassign_cases(*, job_run_id: int, district: str = "") -> None:
    job = jobs.start(job_run_id)
    try:
        # Retried after its worker died, the job goes on from the checkpoint in job.state.
        reassign(district=district or None, full=bool(job.parameters.get("full")), run=job)
    except Exception as exc:
        jobs.fail(job.pk, exc)
        raise


def queue_reassignment(*, district: str = "", full: bool = False, user=None, via: str = "") -> JobRun:
    """Enqueue a reassignment (inside the caller's transaction); AlreadyQueued if one for it waits."""
    job = jobs.create(
        kind="reassign", key=district, parameters={"full": full, "district": district}, user=user, via=via
    )
    jobs.attach(job, enqueue(reassign_cases, job_run_id=job.pk, district=district))
    return job
