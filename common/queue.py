"""The background job queue: procrastinate, whose jobs live in PostgreSQL beside the data (no server to run).

Where tasks live: each Django app that has background work keeps it in its own `tasks.py`, next to the
services it calls, and declares each task with the decorators below. procrastinate's Django app
imports every installed app's `tasks.py` when Django starts (PROCRASTINATE_AUTODISCOVER_MODULE_NAME),
so no shared module lists the tasks, the way `admin.site.register` works. A layer's `tasks.py` imports
only `common.queue` (the ground floor) and its own layer, so the floors hold:

    from common.queue import task

    @task(queue="incidents", lock_by="district")
    def reassign_cases(*, run_id: int, district: str = "") -> None:
        ...

and the API (or a command) enqueues it with `enqueue(reassign_cases, run_id=..., district=...)`, inside
its own transaction: the job row is written through Django's connection, so it exists exactly when the
rows it refers to were committed, and a rolled-back request leaves no job behind.

`lock_by` names the keyword argument a job is serialised on: one job of a task per value at a time
(procrastinate's `lock`), and at most one more waiting (`queueing_lock`; a second request while one
waits is refused with AlreadyQueued, which the API answers as 409).

A worker that dies in the middle of a job (kill -9, a lost machine) stops sending heartbeats; every
worker runs `retry_stalled_jobs` on a schedule and at start, which puts the jobs of workers silent for
longer than GRIDGIS QUEUE STALLED_SECONDS back to be done again. Tasks are therefore written to be
resumed: they keep their progress in their own rows and skip what a previous attempt committed.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections
from procrastinate import exceptions as procrastinate_exceptions
from procrastinate.contrib.django import app

log = logging.getLogger(__name__)

__all__ = ["AlreadyQueued", "app", "enqueue", "periodic", "task"]


class AlreadyQueued(Exception):
    """A job of this task for this key is already waiting; the caller answers 409."""

    def __init__(self, task_name: str, key: str):
        self.task_name, self.key = task_name, key
        super().__init__(f"a {task_name} job for {key or 'the whole city'} is already waiting to run")


def _with_fresh_connections(func: Callable) -> Callable:
    """A worker thread keeps its Django connection between jobs: drop it when broken or too old."""

    @functools.wraps(func)
    def run(*args, **kwargs):
        close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    return run


def _lock_name(name: str, lock_by: str | None, kwargs: dict) -> str | None:
    if lock_by is None:
        return None
    return f"{name}:{kwargs.get(lock_by) or 'all'}"


def task(*, queue: str = "default", lock_by: str | None = None, retry: int = 0, pass_context: bool = False):
    """Declare a background task: procrastinate's task with our lock convention (see the module docstring)."""

    def decorate(func: Callable):
        wrapped = _with_fresh_connections(func)
        registered = app.task(
            name=f"{func.__module__}.{func.__name__}", queue=queue, retry=retry, pass_context=pass_context
        )(wrapped)
        registered.gridgis_lock_by = lock_by
        return registered

    return decorate


def periodic(*, cron: str, queue: str = "default"):
    """Declare a task procrastinate defers on a schedule (cron, with an optional sixth field for seconds).

    The worker defers each tick once, whichever worker gets there first; the task receives `timestamp`.
    """

    def decorate(func: Callable):
        wrapped = _with_fresh_connections(func)
        # A tick's job waits in the queue like any other: one at a time per task (its lock).
        registered = app.task(name=f"{func.__module__}.{func.__name__}", queue=queue, lock=func.__name__)(wrapped)
        return app.periodic(cron=cron)(registered)

    return decorate


def enqueue(registered_task, **kwargs) -> int:
    """Defer one job of `registered_task` with `kwargs` (JSON values); returns the job id.

    Uses the caller's transaction (Django's connection): call it inside the service's atomic block.
    """
    name = registered_task.name
    lock = _lock_name(name.rsplit(".", 1)[-1], getattr(registered_task, "gridgis_lock_by", None), kwargs)
    try:
        return registered_task.configure(lock=lock, queueing_lock=lock).defer(**kwargs)
    except procrastinate_exceptions.AlreadyEnqueued as exc:
        key = str(kwargs.get(registered_task.gridgis_lock_by) or "")
        raise AlreadyQueued(name.rsplit(".", 1)[-1], key) from exc


def worker_options() -> dict:
    """How `manage.py worker` runs procrastinate's worker (GRIDGIS QUEUE in settings)."""
    config = settings.GRIDGIS["QUEUE"]
    return {
        "concurrency": config["CONCURRENCY"],
        "update_heartbeat_interval": config["HEARTBEAT_SECONDS"],
        "stalled_worker_timeout": config["STALLED_SECONDS"],
        "shutdown_graceful_timeout": config["SHUTDOWN_SECONDS"],
    }


async def retry_stalled_jobs_now() -> list[int]:
    """Put back the jobs whose worker stopped sending heartbeats; returns their ids."""
    seconds = settings.GRIDGIS["QUEUE"]["STALLED_SECONDS"]
    stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=seconds)
    for job in stalled:
        log.warning("queue: job %s (%s) was left running by a dead worker: put back for a retry", job.id, job.task_name)
        await app.job_manager.retry_job(job)
    return [job.id for job in stalled]
