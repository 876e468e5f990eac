"""manage.py purge_idempotency_keys: delete the Idempotency-Keys kept longer than their lifetime."""

from django.conf import settings
from django.core.management.base import BaseCommand

from common.idempotency import purge_expired


class Command(BaseCommand):
    help = "Delete kept Idempotency-Keys older than GRIDGIS IDEMPOTENCY_KEY_DAYS (safe to run any time)."

    def handle(self, *args, **opts):
        deleted = purge_expired()
        days = settings.GRIDGIS["IDEMPOTENCY_KEY_DAYS"]
        self.stdout.write(f"purge_idempotency_keys: {deleted} keys older than {days:g} days deleted")
