"""Benchmark of the coverage audit on the database's tree (build it with `manage.py seed_demo --scale city`).

Three ways to find the gaps and sibling overlaps of the same tree, timed in the same run:

- audit: `layers.audits.services.execute_run` for kinds gap + overlap (what users run: it also writes
  the findings and saves progress per chunk), and for all kinds;
- baseline: the plain PostGIS queries one would write by hand: parent minus ST_Union of its children
  grouped by parent, and an index-driven self-join of every pair of same-level grids whose interiors
  meet (ST_Intersects, then the intersection's area), findings not stored;
- shapely: the active grids read once into memory (reading timed apart), projected to EPSG:4544, then
  union_all of each parent's children and an STRtree query for overlapping pairs.

`figures()` returns a dict of seconds and counts (`python -m bench.audits` prints it, on the database
the settings point at); `bench_audits()` gives the lines of `make bench`'s table. The target is
audit(gap + overlap) ≤ 2 × baseline. Also timed: all grid kinds, the case kinds (hotspot, dead-corner
case) and the assessment of the latest quarter by grid. The runs it makes are deleted afterwards.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict

import numpy as np
import shapely
from django.db import connection
from pyproj import Transformer

MIN_AREA_M2 = 50.0

# The hand-written baseline: what an engineer types at psql, no chunks, no writes.
BASELINE_GAP = """
SELECT count(*) FILTER (WHERE area >= %(min_area)s), coalesce(sum(area), 0)
  FROM (SELECT ST_Area(ST_Difference(p.boundary, ST_Union(c.boundary))::geography) AS area
          FROM grids_grid p JOIN grids_grid c ON c.parent_id = p.id AND c.is_active
         WHERE p.is_active
         GROUP BY p.id, p.boundary) AS per_parent
"""

# Same-level neighbours (cousins too), as "the neighbour overlap self-join" of issue 5 ...
BASELINE_OVERLAP = """
SELECT count(*)
  FROM grids_grid a JOIN grids_grid b
    ON a.level = b.level AND a.id < b.id AND ST_Intersects(a.boundary, b.boundary)
 WHERE a.is_active AND b.is_active
   AND ST_Area(ST_Intersection(a.boundary, b.boundary)::geography) >= %(min_area)s
"""

# ... and restricted to siblings, the audit's own definition (cousins are caught by outside_parent).
BASELINE_SIBLING_OVERLAP = """
SELECT count(*)
  FROM grids_grid a JOIN grids_grid b
    ON a.parent_id = b.parent_id AND a.id < b.id AND ST_Intersects(a.boundary, b.boundary)
 WHERE a.is_active AND b.is_active
   AND ST_Area(ST_Intersection(a.boundary, b.boundary)::geography) >= %(min_area)s
"""

LOAD_GRIDS = """
SELECT id, parent_id, level, ST_AsBinary(boundary) FROM grids_grid WHERE is_active ORDER BY id
"""


REPEAT = 3


def _timed(fn, repeat: int = 1):
    """Best wall time of `repeat` calls (the machine is shared: the best is the least disturbed) and the result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def _sql(statement: str) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(statement, {"min_area": MIN_AREA_M2})
        return cursor.fetchone()


def _audit(kinds: list[str]):
    # Imported here so that `python -m bench.audits` can set Django up first.
    from layers.audits import services
    from layers.audits.models import AuditRun

    run = services.create_run(kinds=kinds, parameters={"min_area_m2": MIN_AREA_M2}, via="bench")
    try:
        return services.execute_run(run.pk)
    finally:
        AuditRun.objects.filter(pk=run.pk).delete()


def _shapely_load():
    with connection.cursor() as cursor:
        cursor.execute(LOAD_GRIDS)
        rows = cursor.fetchall()
    ids = np.array([r[0] for r in rows])
    parents = [r[1] for r in rows]
    levels = np.array([r[2] for r in rows])
    shapes = shapely.from_wkb([bytes(r[3]) for r in rows])
    return ids, parents, levels, shapes


def _shapely_audit(ids, parents, levels, shapes) -> tuple[int, int]:
    """Gaps and overlaps in memory, in EPSG:4544 metres (areas therefore comparable to geography)."""
    to_metric = Transformer.from_crs("EPSG:4326", "EPSG:4544", always_xy=True)
    # Edges are straight in lon/lat; densified first (0.0005° ≈ 50 m) so that a district's long edge
    # does not become a chord that parts from its streets' many-vertex edges once projected.
    dense = shapely.segmentize(shapes, 0.0005)
    metric = shapely.transform(dense, to_metric.transform, interleaved=False)
    index_of = {grid_id: i for i, grid_id in enumerate(ids)}
    children = defaultdict(list)
    for i, parent in enumerate(parents):
        if parent in index_of:
            children[index_of[parent]].append(i)
    gaps = 0
    for parent, kids in children.items():
        uncovered = shapely.difference(metric[parent], shapely.union_all(metric[kids]))
        gaps += sum(1 for part in shapely.get_parts(uncovered) if part.area >= MIN_AREA_M2)
    tree = shapely.STRtree(metric)
    left, right = tree.query(metric, predicate="intersects")
    keep = (left < right) & (levels[left] == levels[right])
    left, right = left[keep], right[keep]
    areas = shapely.area(shapely.intersection(metric[left], metric[right]))
    overlaps = int((areas >= MIN_AREA_M2).sum())
    return gaps, overlaps


GRID_KINDS = ["gap", "overlap", "outside_parent", "orphan"]


def figures(repeat: int = REPEAT) -> dict:
    """Time the audit, the hand-written baseline and shapely on the tree in the database (best of `repeat`).

    Seconds and counts in a flat dict; `bench_audits` turns them into lines of `make bench`'s table.
    """
    from layers.audits.assessment import assess

    with connection.cursor() as cursor:
        cursor.execute("SELECT level, count(*) FROM grids_grid WHERE is_active GROUP BY level ORDER BY level")
        per_level = dict(cursor.fetchall())
        cursor.execute("SELECT count(*) FROM incidents_case")
        cases = cursor.fetchone()[0]
    out: dict = {"grids_by_level": per_level, "micro_grids": per_level.get(5, 0), "cases": cases, "repeat": repeat}

    # Warm the cache once so that neither side pays for the first read of the table.
    _sql(BASELINE_GAP)

    t_gap, (gaps, _) = _timed(lambda: _sql(BASELINE_GAP), repeat)
    t_overlap, (overlaps,) = _timed(lambda: _sql(BASELINE_OVERLAP), repeat)
    out["baseline_gap_s"] = round(t_gap, 3)
    out["baseline_overlap_s"] = round(t_overlap, 3)
    out["baseline_s"] = round(t_gap + t_overlap, 3)
    out["baseline_gaps"], out["baseline_overlaps"] = gaps, overlaps
    t_sibling, (sibling_overlaps,) = _timed(lambda: _sql(BASELINE_SIBLING_OVERLAP), repeat)
    out["baseline_sibling_overlap_s"] = round(t_sibling, 3)
    out["baseline_sibling_overlaps"] = sibling_overlaps

    t_audit, run = _timed(lambda: _audit(["gap", "overlap"]), repeat)
    out["audit_gap_overlap_s"] = round(t_audit, 3)
    out["audit_gaps"] = run.summary["gap"]["findings"]
    out["audit_overlaps"] = run.summary["overlap"]["findings"]
    out["audit_vs_baseline"] = round(t_audit / (t_gap + t_overlap), 2)
    out["audit_vs_sibling_baseline"] = round(t_audit / (t_gap + t_sibling), 2)

    t_grid_kinds, run = _timed(lambda: _audit(GRID_KINDS), repeat)
    out["audit_grid_kinds_s"] = round(t_grid_kinds, 3)
    out["audit_grid_kinds_summary"] = run.summary
    t_case_kinds, run = _timed(
        lambda: _audit(["hotspot", "dead_corner_case", "unowned_point", "stale", "uncovered_estate"]), repeat
    )
    out["audit_case_kinds_s"] = round(t_case_kinds, 3)
    out["audit_case_kinds_summary"] = run.summary

    t_load, loaded = _timed(_shapely_load)
    t_shapely, (s_gaps, s_overlaps) = _timed(lambda: _shapely_audit(*loaded), repeat)
    out["shapely_load_s"] = round(t_load, 3)
    out["shapely_s"] = round(t_shapely, 3)
    out["shapely_gaps"], out["shapely_overlaps"] = s_gaps, s_overlaps

    period = _latest_period()
    t_assess, result = _timed(lambda: assess(period=period, unit="grid"), repeat)
    out["assessment_period"] = period
    out["assessment_grid_s"] = round(t_assess, 3)
    out["assessment_units"] = len(result.rows)
    return out


def _latest_period() -> str:
    """The quarter of the latest case (the seeded cases lie in the days before the seed ran)."""
    from django.utils import timezone

    from layers.incidents.models import Case

    latest = Case.objects.order_by("-reported_at").values_list("reported_at", flat=True).first()
    moment = timezone.localtime(latest) if latest else timezone.localtime()
    return f"{moment.year}Q{(moment.month - 1) // 3 + 1}"


def bench_audits(repeat: int = REPEAT) -> list:
    """Lines for `make bench` (bench/run.py): the audit against the hand-written baseline and shapely."""
    from bench.common import Result

    f = figures(repeat)
    counts = {
        "micro_grids": f["micro_grids"],
        "repeat": repeat,
        "findings": {
            "audit": [f["audit_gaps"], f["audit_overlaps"]],
            "baseline": [f["baseline_gaps"], f["baseline_overlaps"]],
            "sibling_baseline_overlaps": f["baseline_sibling_overlaps"],
            "shapely": [f["shapely_gaps"], f["shapely_overlaps"]],
        },
    }
    ms = 1000
    return [
        Result(
            "audit gap + overlap (run, chunks, findings written)",
            f["audit_gap_overlap_s"] * ms,
            None,
            "hand-written PostGIS gap + same-level neighbour self-join",
            f["baseline_s"] * ms,
            target="≤ 2× baseline",
            extra=counts,
        ),
        Result(
            "audit gap + overlap",
            f["audit_gap_overlap_s"] * ms,
            None,
            "hand-written PostGIS gap + sibling self-join",
            (f["baseline_gap_s"] + f["baseline_sibling_overlap_s"]) * ms,
            target="≤ 2× baseline",
        ),
        Result(
            "shapely union_all + STRtree in memory (gap + overlap)",
            f["shapely_s"] * ms,
            None,
            "hand-written PostGIS gap + same-level neighbour self-join",
            f["baseline_s"] * ms,
            extra={"load_from_db_s": f["shapely_load_s"]},
        ),
        Result(
            "audit all grid kinds (gap, overlap, outside_parent, orphan)",
            f["audit_grid_kinds_s"] * ms,
            None,
            extra=f["audit_grid_kinds_summary"],
        ),
        Result(
            "audit case, point and estate kinds (hotspot, dead_corner_case, unowned_point, stale, uncovered_estate)",
            f["audit_case_kinds_s"] * ms,
            None,
            extra={"cases": f["cases"], **f["audit_case_kinds_summary"]},
        ),
        Result(
            f"assessment by grid, {f['assessment_period']}",
            f["assessment_grid_s"] * ms,
            None,
            extra={"cases": f["cases"], "units": f["assessment_units"]},
        ),
    ]


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgis.settings")
    django.setup()
    print(json.dumps(figures(), indent=2, ensure_ascii=False))
