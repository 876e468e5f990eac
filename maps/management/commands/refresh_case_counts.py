"""refresh_case_counts: rebuild the per-grid case counts behind low-zoom case tiles and the heatmap."""

import time

from django.core.management.base import BaseCommand

from maps import tiles


class Command(BaseCommand):
    help = (
        "Rebuild maps_gridcasecount (cases per grid, rolled up the tree) from the case table in one "
        "statement. Safe to re-run at any time, e.g. every few minutes from cron."
    )

    def handle(self, *args, **options):
        source = tiles.case_source()
        started = time.monotonic()
        rows = tiles.refresh_case_counts(source=source)
        self.stdout.write(f"refresh_case_counts: {rows} grids counted in {time.monotonic() - started:.1f} s")
