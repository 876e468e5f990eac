"""manage.py deliver_notifications [--once]: the delivery worker of the notification outbox.

Loops over common.notifications.deliver_due(), sleeping --idle seconds when nothing is due. Safe to run
several at once (rows are taken with SKIP LOCKED) and to kill at any moment (an unmarked row is sent
again by the next worker)."""

import time

from django.core.management.base import BaseCommand

from common.notifications import deliver_due


class Command(BaseCommand):
    help = "Send the e-mails and webhooks waiting in the notification outbox."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="deliver what is due now, then stop")
        parser.add_argument("--idle", type=float, default=1.0, help="seconds to sleep when nothing is due")

    def handle(self, *args, once=False, idle=1.0, **options):
        while True:
            attempted = deliver_due()
            if attempted:
                self.stdout.write(f"{attempted} delivery attempt(s)")
                self.stdout.flush()
            if once:
                return
            if not attempted:
                time.sleep(idle)
