"""Estates benchmarks: the planners' overlay of every seeded project and the totals per batch/status.

Called by bench/run.py after django.setup() on the seeded database; returns bench.common.Result rows.
"""

from __future__ import annotations

from bench.common import Result, summarise, timed
from layers.estates.models import RenovationProject
from layers.estates.selectors import project_overlay, renovation_totals


def bench_estates(requests: int = 50) -> list[Result]:
    """Overlay (grids, duties, open cases within 50 m, conflicts) and the totals, `requests` calls each."""
    projects = list(RenovationProject.objects.order_by("id"))
    results = []
    if projects:
        samples = []
        for n in range(requests):
            project = projects[n % len(projects)]
            samples += timed(lambda project=project: project_overlay(project), 1)
        median, p99 = summarise(samples)
        results.append(
            Result(
                "renovation overlay (one project)", median, p99, target="< 300 ms", extra={"projects": len(projects)}
            )
        )
    median, p99 = summarise(timed(lambda: renovation_totals(group="batch,status"), requests))
    results.append(Result("renovation totals per batch and status", median, p99, target="< 100 ms"))
    return results
