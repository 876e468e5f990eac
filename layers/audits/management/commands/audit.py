"""manage.py audit: look for dead corners (gaps, overlaps, grids nobody answers for) in the grid tree."""

from __future__ import annotations

import getpass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from layers.audits import exports, services
from layers.audits.models import RUN_PARAMETERS, AuditRun, Kind


class Command(BaseCommand):
    help = (
        "Audit the grid tree (or one district) for dead corners and print a summary; "
        "--resume ID finishes an interrupted run, --export writes the findings ledger (.xlsx or .csv)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--district", default="", help="6-digit district code (default: the whole tree)")
        parser.add_argument(
            "--kinds",
            nargs="+",
            choices=[k.value for k in Kind],
            metavar="KIND",
            help=f"kinds to check (default: all of {', '.join(services.DEFAULT_KINDS)})",
        )
        parser.add_argument(
            "--min-area",
            type=float,
            dest="min_area_m2",
            help="m² under which a gap/overlap part is a sliver, counted not listed (default 50)",
        )
        parser.add_argument("--leader-level", help="level at which a responsible leader is expected")
        parser.add_argument("--officer-level", help="level at which a grid officer is expected")
        parser.add_argument("--hotspot-cases", type=int, help="hotspot: at least K cases of one category (default 5)")
        parser.add_argument("--hotspot-metres", type=float, help="hotspot: within R metres (default 50)")
        parser.add_argument("--hotspot-days", type=float, help="hotspot: reported in the last D days (default 30)")
        parser.add_argument("--stale-days", type=float, help="stale: not visited/patrolled in N days (default 7)")
        parser.add_argument("--on", help="date at which duties must be in force (YYYY-MM-DD, default today)")
        parser.add_argument(
            "--resume",
            type=int,
            metavar="RUN_ID",
            help="execute the chunks an earlier run has not done (or recompute a finished one)",
        )
        parser.add_argument("--export", type=Path, metavar="FILE", help="write the findings to FILE.xlsx or FILE.csv")

    def handle(self, *args, **options):
        export = options["export"]
        if export and export.suffix.lower() not in (".xlsx", ".csv"):
            raise CommandError("--export: the file name must end in .xlsx or .csv")
        if options["resume"]:
            if not AuditRun.objects.filter(pk=options["resume"]).exists():
                raise CommandError(f"--resume: no audit run {options['resume']}")
            run_id = options["resume"]
        else:
            given = {k: options[k] for k in RUN_PARAMETERS if options[k]}
            try:
                run_id = services.create_run(
                    district_code=options["district"],
                    kinds=options["kinds"],
                    parameters=given,
                    via=f"cli:{getpass.getuser()}"[:100],
                ).pk
            except ValidationError as exc:
                raise CommandError(
                    "; ".join(f"--{k.replace('_', '-')}: {' '.join(v)}" for k, v in exc.message_dict.items())
                ) from exc

        def progress(run, kind, district):
            if options["verbosity"] > 1:
                self.stdout.write(f"  {run.progress:6.1%} {kind} {district}")

        try:
            run = services.execute_run(run_id, resume=True, progress=progress)
        except Exception as exc:
            raise CommandError(f"audit run {run_id} failed: {exc}") from exc
        self.stdout.write(f"audit run {run.pk} ({run.district_code or 'whole tree'}): {run.status}")
        for kind in run.kinds:
            totals = run.summary.get(kind, {})
            self.stdout.write(
                f"  {kind:15} {totals.get('findings', 0):6d} findings, "
                f"{totals.get('slivers', 0):6d} slivers ({totals.get('sliver_m2', 0):.1f} m²)"
            )
        if export:
            body = exports.findings_xlsx(run) if export.suffix.lower() == ".xlsx" else exports.findings_csv(run)
            export.write_bytes(body)
            self.stdout.write(f"  ledger written to {export}")
