"""manage.py assess: the quarterly assessment (考核) of grids, departments or leaders, with the notice list."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from layers.audits import exports
from layers.audits.assessment import UNITS, assess


class Command(BaseCommand):
    help = (
        "Assess grids, departments or leaders over a period (2026Q3, 2026-07, 2026) from their cases: "
        "closure, on-time, register, rework and accurate-dispatch rates, overdue cases, deductions, "
        "score and rank; prints the table and the notice list, --export writes .xlsx or .csv."
    )

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="2026Q3, 2026-07 or 2026")
        parser.add_argument("--unit", default="grid", choices=UNITS)
        parser.add_argument("--level", default="grid", help="which grids are units when --unit grid (default: grid)")
        parser.add_argument("--district", default="", help="only this district's cases")
        parser.add_argument("--notice", type=int, default=None, help="how many of the worst go on the notice list")
        parser.add_argument("--export", type=Path, metavar="FILE", help="write FILE.xlsx (table + notice) or FILE.csv")

    def handle(self, *args, **options):
        export = options["export"]
        if export and export.suffix.lower() not in (".xlsx", ".csv"):
            raise CommandError("--export: the file name must end in .xlsx or .csv")
        try:
            result = assess(
                period=options["period"],
                unit=options["unit"],
                level=options["level"],
                district_code=options["district"],
                notice_size=options["notice"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(f"--{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        self.stdout.write(
            f"assessment {result.period.label} by {result.unit}: {len(result.rows)} units "
            f"({sum(r['ranked'] for r in result.rows)} ranked, minimum sample {result.min_sample})"
        )
        self.stdout.write(
            f"{'rank':>5} {'unit':<20} {'cases':>6} {'closed%':>8} {'on-time%':>9} {'overdue':>8} {'score':>7}  name"
        )
        for row in result.rows:
            rank = str(row["rank"]) if row["ranked"] else "-"
            closure = "" if row["closure_rate"] is None else f"{100 * row['closure_rate']:.1f}"
            on_time = "" if row["on_time_rate"] is None else f"{100 * row['on_time_rate']:.1f}"
            self.stdout.write(
                f"{rank:>5} {row['unit_code'] or '':<20} {row['received']:>6} {closure:>8} {on_time:>9} "
                f"{row['overdue']:>8} {row['score']:>7.2f}  {row['unit_name'] or ''}"
            )
        if result.notice:
            self.stdout.write("notice (通报), worst first:")
            for row in result.notice:
                cases = ", ".join(str(c["id"]) for c in row["overdue_cases"]) or "none"
                self.stdout.write(
                    f"  #{row['rank']} {row['unit_code']} {row['unit_name']}: score {row['score']:.2f}, "
                    f"overdue cases {cases}"
                )
        if export:
            body = (
                exports.assessment_xlsx(result) if export.suffix.lower() == ".xlsx" else exports.assessment_csv(result)
            )
            export.write_bytes(body)
            self.stdout.write(f"written to {export}")
