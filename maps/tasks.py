"""The map layer's background work: the per-grid case counts behind low-zoom tiles, on a schedule."""

from __future__ import annotations

from django.conf import settings

from common.queue import periodic
from maps import tiles


@periodic(cron=settings.GRIDGIS["QUEUE"]["CASE_COUNTS_CRON"], queue="maps")
def refresh_case_counts(timestamp: int) -> int:
    return tiles.refresh_case_counts(source=tiles.case_source())
