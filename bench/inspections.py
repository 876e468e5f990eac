"""Speed figures of the inspections layer, for bench/run.py: run against a seeded database
(`manage.py seed_demo` or `--scale city`). Each function returns a dict of figures. Import after django.setup(), e.g.
`manage.py shell -c "import bench.<name> as b; print(b.run())"`."""

from __future__ import annotations

import statistics
import time

from django.contrib.gis.geos import Point
from django.db import transaction

from layers.grids.models import Grid, Level
from layers.inspections import services
from layers.inspections.models import InspectionPoint, Patrol
from layers.inspections.selectors import patrol_coverage, patrol_ledger


def _timed(function, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return times


def coverage_ms(repeat: int = 3) -> dict:
    """Patrol coverage (30 m, last 7 days) of every unit grid of the first district, and of all."""
    district = Grid.objects.filter(level=Level.DISTRICT).order_by("code").first()
    if district is None:
        return {}
    grids = Grid.objects.filter(level=Level.GRID, code__startswith=district.code, is_active=True).count()
    one = _timed(lambda: patrol_coverage(code_prefix=district.code, level=Level.GRID, days=7), repeat)
    every = _timed(lambda: patrol_coverage(level=Level.GRID, days=7), 1)
    return {"coverage_district_grids": grids, "coverage_district_ms": round(statistics.median(one), 1),
            "coverage_all_grids": Grid.objects.filter(level=Level.GRID, is_active=True).count(),
            "coverage_all_ms": round(every[0], 1),
            "patrols_in_window": Patrol.objects.filter(track__isnull=False).count()}


def ledger_ms(repeat: int = 3) -> dict:
    """The ledger of all officers over the last four weeks."""
    from django.utils import timezone

    until = timezone.now()
    since = until - timezone.timedelta(days=28)
    times = _timed(lambda: patrol_ledger(since=since, until=until), repeat)
    return {"ledger_rows": len(patrol_ledger(since=since, until=until)),
            "ledger_median_ms": round(statistics.median(times), 1)}


def check_in_ms(repeat: int = 20) -> dict:
    """One check-in (distance measured in PostGIS, rule applied, row written), rolled back each time."""
    patrol = Patrol.objects.filter(ended_at__isnull=False).order_by("id").first()
    point = InspectionPoint.objects.order_by("id").first()
    if patrol is None or point is None:
        return {}

    def once():
        with transaction.atomic():
            services.check_in(patrol=patrol, point=point, checked_at=patrol.started_at,
                              location=Point(point.location.x, point.location.y + 0.0001, srid=4326))
            transaction.set_rollback(True)

    times = _timed(once, repeat)
    return {"check_in_median_ms": round(statistics.median(times), 2)}


def run() -> dict:
    return {**coverage_ms(), **ledger_ms(), **check_in_ms()}

