"""Inspections benchmarks: patrol coverage per grid, the ledger, one check-in.

Called by bench/run.py after django.setup() on the seeded database; returns bench.common.Result rows.
"""

from __future__ import annotations

import datetime

from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone

from bench.common import Result, summarise, timed
from layers.grids.models import Grid, Level
from layers.inspections import services
from layers.inspections.models import InspectionPoint, Patrol
from layers.inspections.selectors import patrol_coverage, patrol_ledger


def bench_inspections(requests: int = 50) -> list[Result]:
    results = []
    district = Grid.objects.filter(level=Level.DISTRICT).order_by("code").first()
    patrols = Patrol.objects.filter(track__isnull=False).count()
    if district is not None:
        grids = Grid.objects.filter(level=Level.GRID, code__startswith=district.code, is_active=True).count()
        median, p99 = summarise(timed(lambda: patrol_coverage(code_prefix=district.code, level=Level.GRID, days=7), 3))
        results.append(
            Result(
                f"patrol coverage, {grids} grids of {district.code}, 7 days",
                median,
                p99,
                target="< 5 s",
                extra={"grids": grids, "patrols_with_tracks": patrols},
            )
        )
    until = timezone.now()
    since = until - datetime.timedelta(days=28)
    median, p99 = summarise(timed(lambda: patrol_ledger(since=since, until=until), max(3, requests // 10)))
    results.append(Result("patrol ledger, all officers, 4 weeks", median, p99, target="< 500 ms"))
    patrol = Patrol.objects.filter(ended_at__isnull=False).order_by("id").first()
    point = InspectionPoint.objects.order_by("id").first()
    if patrol is not None and point is not None:

        def check_in():
            with transaction.atomic():
                services.check_in(
                    patrol=patrol,
                    point=point,
                    checked_at=patrol.started_at,
                    location=Point(point.location.x, point.location.y + 0.0001, srid=4326),
                )
                transaction.set_rollback(True)

        median, p99 = summarise(timed(check_in, requests))
        results.append(Result("check-in (distance rule in PostGIS, rolled back)", median, p99, target="< 20 ms"))
    return results
