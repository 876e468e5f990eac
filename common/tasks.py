"""The queue's own housekeeping, on every worker's schedule (see common/queue.py)."""

from __future__ import annotations

from django.conf import settings

from common import idempotency, notifications
from common.queue import app, periodic, retry_stalled_jobs_now


@app.periodic(cron=settings.GRIDGIS["QUEUE"]["STALLED_SWEEP_CRON"])
@app.task(name="common.tasks.retry_stalled_jobs", queue="default", lock="retry_stalled_jobs")
async def retry_stalled_jobs(timestamp: int) -> list[int]:
    """Jobs left "doing" by a worker that stopped sending heartbeats go back to be done again."""
    return await retry_stalled_jobs_now()


@app.periodic(cron="17 * * * *")
@app.task(name="common.tasks.remove_old_jobs", queue="default", lock="remove_old_jobs")
async def remove_old_jobs(timestamp: int) -> None:
    """Finished jobs' rows (the sweep above alone adds four a minute) are kept for three days."""
    await app.job_manager.delete_old_jobs(nb_hours=72)


@periodic(cron=settings.GRIDGIS["QUEUE"]["NOTIFY_CRON"], queue="notifications")
def deliver_notifications(timestamp: int) -> int:
    """Send the outbox's due e-mails and webhooks, batch after batch until none is due (or the tick's
    budget is spent: the next tick goes on). `manage.py deliver_notifications` is the same loop for a
    deployment that runs no queue worker."""
    sent = 0
    while sent < NOTIFY_BUDGET_PER_TICK:
        batch = notifications.deliver_due()
        if not batch:
            break
        sent += batch
    return sent


@periodic(cron=settings.GRIDGIS["QUEUE"]["IDEMPOTENCY_PURGE_CRON"], queue="default")
def purge_idempotency_keys(timestamp: int) -> int:
    """Delete the Idempotency-Keys kept past their lifetime: every write sent with a key keeps a row
    with its whole answer (about 2 KB), so without this the table grows for as long as the service
    runs. `manage.py purge_idempotency_keys` is the same for a deployment without a queue worker."""
    return idempotency.purge_expired()


# At most this many messages a tick, so that one tick cannot hold the notifications queue for long.
NOTIFY_BUDGET_PER_TICK = 1000
