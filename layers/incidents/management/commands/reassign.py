"""manage.py reassign: re-run the grid assignment of cases after grids were redrawn."""

import getpass

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from common import jobs
from common.serving import ServiceAccepting
from layers.incidents.reassign import latest_unfinished_run, reassign
from layers.incidents.tasks import queue_reassignment


class Command(BaseCommand):
    help = (
        "Reassign cases to the smallest covering grid after grids were redrawn. Examines only the "
        "cases a redraw can affect; --full or --district re-examines every case. Online by default: "
        "short batches, each its own transaction, beside a running server; --resume goes on with an "
        "interrupted run. --offline writes in one transaction, setting indexes aside for a bulk rewrite, "
        "and is refused while a server is accepting reports."
    )

    def add_arguments(self, parser):
        parser.add_argument("--district", help="6-digit district code: re-examine all of its cases")
        parser.add_argument("--full", action="store_true", help="re-examine every case")
        parser.add_argument("--resume", action="store_true", help="go on with the last interrupted run")
        parser.add_argument(
            "--offline",
            action="store_true",
            help="one transaction that may set the case table's indexes aside (locks it): only with the service stopped",
        )
        parser.add_argument(
            "--enqueue", action="store_true", help="hand the run to the background queue (manage.py worker) and return"
        )

    def handle(self, *args, district=None, full=False, resume=False, offline=False, enqueue=False, **options):
        if sum([resume, offline, enqueue]) > 1:
            raise CommandError("--resume, --offline and --enqueue go one at a time")
        if enqueue:
            with transaction.atomic():
                job = queue_reassignment(district=district or "", full=full, via=f"cli:{getpass.getuser()}")
            self.stdout.write(f"reassign: queued as job {job.pk} (GET /api/v1/jobs/{job.pk}/ follows it)")
            return
        run = None
        if resume:
            run = latest_unfinished_run()
            if run is None:
                raise CommandError("--resume: no interrupted reassignment to go on with")
            run = jobs.start(run.pk)
            district, full = run.parameters.get("district") or None, bool(run.parameters.get("full"))
        try:
            report = reassign(district=district, full=full, offline=offline, run=run, progress=self.stdout.write)
        except ServiceAccepting as exc:
            raise CommandError(f"--offline refused: {exc}") from exc
        self.stdout.write(
            f"{report.mode}: {report.examined} examined, {report.moved} moved to another grid, "
            f"{report.updated} updated in {report.seconds:.1f} s"
        )
