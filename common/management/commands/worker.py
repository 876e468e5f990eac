"""manage.py worker: run the background job queue's worker (procrastinate) until stopped.

Stop it with SIGTERM or Ctrl-C: it finishes the jobs in hand (up to GRIDGIS QUEUE SHUTDOWN_SECONDS),
then leaves. Killed outright, its jobs are put back by the next worker's sweep (common/queue.py).
"""

from __future__ import annotations

import asyncio

from django.core.management.base import BaseCommand

from common.queue import app, retry_stalled_jobs_now, worker_options


class Command(BaseCommand):
    help = "Run a background worker: audits, reassignment, exports, case counts, escalation (see common/queue.py)."

    def add_arguments(self, parser):
        parser.add_argument("--queue", action="append", dest="queues", help="only this queue (repeatable)")
        parser.add_argument("--concurrency", type=int, help="jobs at once (default GRIDGIS QUEUE CONCURRENCY)")

    def handle(self, *args, queues=None, concurrency=None, **options):
        settings = worker_options()
        if concurrency:
            settings["concurrency"] = concurrency
        with app.replace_connector(app.connector.get_worker_connector()):
            asyncio.run(self._run(queues, settings))

    async def _run(self, queues, settings):
        async with app.open_async():
            retried = await retry_stalled_jobs_now()
            if retried:
                self.stdout.write(f"worker: {len(retried)} job(s) left by a dead worker put back: {retried}")
            self.stdout.write(f"worker: listening on {', '.join(queues) if queues else 'every queue'}")
            self.stdout.flush()
            await app.run_worker_async(queues=queues, install_signal_handlers=True, **settings)
