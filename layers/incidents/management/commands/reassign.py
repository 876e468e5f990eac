"""manage.py reassign: re-run the grid assignment of cases after grids were redrawn."""

import getpass

from django.core.management.base import BaseCommand
from django.db import transaction

from layers.incidents.reassign import reassign
from layers.incidents.tasks import queue_reassignment


class Command(BaseCommand):
    help = (
        "Reassign cases to the smallest covering grid after grids were redrawn. Examines only the "
        "cases a redraw can affect; --full or --district re-examines every case (per district, one "
        "transaction each, safe to interrupt and re-run)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--district", help="6-digit district code: re-examine all of its cases")
        parser.add_argument("--full", action="store_true", help="re-examine every case")
        parser.add_argument(
            "--enqueue", action="store_true", help="hand the run to the background queue (manage.py worker) and return"
        )

    def handle(self, *args, district=None, full=False, enqueue=False, **options):
        if enqueue:
            with transaction.atomic():
                job = queue_reassignment(district=district or "", full=full, via=f"cli:{getpass.getuser()}")
            self.stdout.write(f"reassign: queued as job {job.pk} (GET /api/v1/jobs/{job.pk}/ follows it)")
            return
        report = reassign(district=district, full=full, progress=self.stdout.write)
        self.stdout.write(
            f"{report.mode}: {report.examined} examined, {report.moved} moved to another grid, "
            f"{report.updated} updated in {report.seconds:.1f} s"
        )
