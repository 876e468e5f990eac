"""Speed figures of the estates layer, for bench/run.py: run against a seeded database
(`manage.py seed_demo --scale city` for city scale). Each function returns a dict of figures. Import after django.setup(), e.g.
`manage.py shell -c "import bench.<name> as b; print(b.run())"`."""

from __future__ import annotations

import statistics
import time

from layers.estates.models import RenovationProject
from layers.estates.selectors import project_overlay, renovation_totals


def _timed(function, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return times


def overlay_ms(repeat: int = 5) -> dict:
    """Median and worst time of the planners' overlay (grids, duties, conflicts) over every project."""
    projects = list(RenovationProject.objects.order_by("id"))
    if not projects:
        return {"overlay_projects": 0}
    times = [t for project in projects for t in _timed(lambda p=project: project_overlay(p), repeat)]
    return {"overlay_projects": len(projects), "overlay_median_ms": round(statistics.median(times), 1),
            "overlay_max_ms": round(max(times), 1)}


def totals_ms(repeat: int = 5) -> dict:
    """Time of the totals per batch and status (two GROUP BY queries over all projects and items)."""
    times = _timed(lambda: renovation_totals(group="batch,status"), repeat)
    return {"totals_median_ms": round(statistics.median(times), 1)}


def run() -> dict:
    return {**overlay_ms(), **totals_ms()}

