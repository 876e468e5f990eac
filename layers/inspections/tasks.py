"""The inspections layer's background work (registered through common.queue; a worker runs it).

- refresh_patrol_coverage: this week's patrol coverage so far of every grid the leader's dashboard
  shows, kept per grid (selectors.summarise_coverage) on a schedule (GRIDGIS QUEUE
  PATROL_COVERAGE_CRON), so the dashboard reads a small table instead of buffering the week's tracks.
"""

from __future__ import annotations

from django.conf import settings

from common.queue import periodic
from layers.inspections import selectors


@periodic(cron=settings.GRIDGIS["QUEUE"]["PATROL_COVERAGE_CRON"], queue="inspections")
def refresh_patrol_coverage(timestamp: int) -> dict:
    return selectors.summarise_coverage()
