"""Running the queue's jobs inside a test: a worker that does what is waiting, then returns."""

from __future__ import annotations

from django.db import connection

from common.queue import app


def run_queued_jobs(queues: list[str] | None = None) -> None:
    """Work through every job waiting now (and those they enqueue), as `manage.py worker` does.

    The worker's own connector (psycopg 3 with a pool, on the test database) like the real worker's:
    so the jobs must be committed, and tests that use this are transactional.
    """
    with app.replace_connector(app.connector.get_worker_connector()):
        app.run_worker(queues=queues, wait=False, install_signal_handlers=False, listen_notify=False)
    connection.close_if_unusable_or_obsolete()


def job_statuses(task_suffix: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status::text FROM procrastinate_jobs WHERE task_name LIKE %s ORDER BY id", [f"%{task_suffix}"]
        )
        return [row[0] for row in cursor.fetchall()]
