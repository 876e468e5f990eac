"""City-scale cases built inside PostgreSQL: `generate_cases(total, days)`.

Luzhou's 2,000+ reports a day for three years are about 2.2 million cases with ~6 state changes
each; the benchmarks and the demo need that many without a Python loop over rows. Everything here is
set-based: one statement samples report sites in the leaf grids (ST_GeneratePoints), one routes
category × district to a department, one INSERT ... SELECT over generate_series builds the cases,
and one more builds their trail entries from each case's status. Draws come from hashint4 of the
row number and a salt, so the same grids and arguments give the same cases on every machine.

Cases are spread evenly over the leaf grids (micro-grids where the tree has them), so the dense
urban core, where micro-grids are small, gets most reports per km². Their age is uniform over
`days` before `anchor`; cases older than a week are mostly closed (some rejected, a few stuck in
handling), younger ones are spread over every stage. Each case is assigned as intake would: its
leaf grid (points are generated inside it), the district's routed department, the nearest officer
and leader on the grid chain; due times follow the category's limits in their clocks (working or clock
time), computed by the same SQL function (gridgis_due) as a single case's.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone

from layers.incidents import sql
from layers.incidents.models import Category

# Report sites: `per_leaf` random points in every active leaf grid, numbered in a shuffled order,
# with the officer and the leader on duty for the leaf (grids_on_duty, the one rule; once per leaf).
SITES = """
CREATE TEMP TABLE bulk_sites ON COMMIT DROP AS
WITH leaves AS (
    SELECT g.id, g.code, g.version, g.district_code, g.boundary
    FROM grids_grid g
    WHERE g.is_active AND g.level >= 2
      AND NOT EXISTS (SELECT 1 FROM grids_grid c WHERE c.parent_id = g.id AND c.is_active)
),
staffed AS MATERIALIZED (
    SELECT l.*,
           (SELECT person_id FROM grids_on_duty(l.code, 'officer', %(today)s)) AS officer_id,
           (SELECT person_id FROM grids_on_duty(l.code, 'leader', %(today)s)) AS leader_id
    FROM leaves l
)
SELECT row_number() OVER (ORDER BY hashint4(s.id::int + %(seed)s) # hashint4(d.path[1]), s.id, d.path[1]) AS site,
       s.id AS grid_id, s.version, s.district_code, d.geom AS location, s.officer_id, s.leader_id
FROM staffed s, LATERAL ST_Dump(ST_GeneratePoints(s.boundary, %(per_leaf)s, %(seed)s)) AS d
"""

# Department per category (by its position in %(category_ids)s) and district: a routing rule whose
# department belongs to the district, else the category's (or its major's) default, else the
# district's dispatch office.
ROUTES = """
CREATE TEMP TABLE bulk_routes ON COMMIT DROP AS
WITH districts AS (SELECT DISTINCT district_code FROM bulk_sites),
cats AS (SELECT * FROM unnest(%(category_ids)s::bigint[]) WITH ORDINALITY AS t(category_id, idx))
SELECT k.idx, d.district_code,
       COALESCE(
           (SELECT r.department_id FROM incidents_routingrule r
            JOIN incidents_category rc ON rc.id = r.category_id
            JOIN grids_department dep ON dep.id = r.department_id
            JOIN grids_grid dg ON dg.id = dep.district_id
            WHERE (rc.id = k.category_id OR rc.id = cat.parent_id) AND dg.code = d.district_code
            ORDER BY (rc.id = k.category_id) DESC, r.id LIMIT 1),
           cat.default_department_id,
           (SELECT parent.default_department_id FROM incidents_category parent WHERE parent.id = cat.parent_id),
           (SELECT dep.id FROM grids_department dep JOIN grids_grid dg ON dg.id = dep.district_id
            WHERE dep.kind = 'dispatch_office' AND dg.code = d.district_code ORDER BY dep.code LIMIT 1)
       ) AS department_id
FROM cats k
JOIN incidents_category cat ON cat.id = k.category_id
CROSS JOIN districts d
"""

# The cases. Per row n: u_* are independent uniform draws in [0, 1) from hashint4.
# steps = how many workflow steps the case has taken (0 reported ... 6 closed; -1 rejected).
INSERT_CASES = """
WITH draws AS (
    SELECT n,
           (hashint4(n * 7 + %(seed)s)::bigint + 2147483648) / 4294967296.0 AS u_age,
           (hashint4(n * 11 + %(seed)s)::bigint + 2147483648) %% 100 AS u_stage,
           (hashint4(n * 13 + %(seed)s)::bigint + 2147483648) %% array_length(%(category_ids)s::bigint[], 1) + 1
               AS cat_idx,
           (hashint4(n * 17 + %(seed)s)::bigint + 2147483648) %% 4 AS u_source
    FROM generate_series(%(first)s, %(last)s) AS n
),
shaped AS (
    SELECT d.*, s.grid_id, s.version, s.district_code, s.location, s.officer_id, s.leader_id,
           %(anchor)s::timestamptz - d.u_age * %(days)s * interval '1 day' AS reported_at,
           CASE
               WHEN d.u_stage < 5 THEN -1
               WHEN d.u_age * %(days)s > 7 THEN CASE WHEN d.u_stage < 8 THEN 3 ELSE 6 END
               ELSE d.u_stage %% 7
           END AS steps
    FROM draws d
    JOIN bulk_sites s ON s.site = (d.n - 1) %% %(sites)s + 1
),
timed AS (
    -- Steps are evenly spaced: over the case's whole age while it is open, over a few hours to
    -- days once it is closed.
    SELECT sh.*,
           CASE WHEN sh.steps IN (-1, 6)
                THEN LEAST(%(anchor)s::timestamptz - sh.reported_at,
                           (1 + sh.u_stage %% 20) * interval '1 hour') / CASE sh.steps WHEN -1 THEN 1 ELSE 6 END
                ELSE (%(anchor)s::timestamptz - sh.reported_at) / (GREATEST(sh.steps, 0) + 2)
           END AS step,
           -- Which of the category's four limits runs in the case's status (open cases only).
           (sh.cat_idx - 1) * 4 + (ARRAY[1, 2, 3, 3, 4, 4])[GREATEST(sh.steps, 0) + 1] AS limit_idx
    FROM shaped sh
)
INSERT INTO incidents_case
    (category_id, status, source, description, address, location, input_point, input_srs, district_code,
     grid_id, grid_version, department_id, leader_id, officer_id, provenance, near_edge, dead_corner,
     me_too_count, rework_count, escalation_level, reported_at, due_at, final_due_at, stage_started_at,
     due_clock, closed_at, updated_at,
     version, reporter_name, reporter_phone, reporter_email, media_url, attributes)
SELECT (%(category_ids)s::bigint[])[t.cat_idx],
       (ARRAY['rejected', 'reported', 'registered', 'dispatched', 'handling', 'handled', 'verified',
              'closed'])[t.steps + 2],
       (ARRAY['officer', 'citizen', 'hotline', 'supervisor'])[t.u_source + 1],
       (%(category_names)s::text[])[t.cat_idx],
       '', t.location,
       jsonb_build_object('lon', ST_X(t.location), 'lat', ST_Y(t.location)), 'EPSG:4326', t.district_code,
       t.grid_id, t.version, r.department_id, t.leader_id, t.officer_id,
       jsonb_build_object('grid', jsonb_build_object('rule', 'smallest_covering', 'version', t.version),
                          'generated', true),
       false, false, 0, 0, 0,
       t.reported_at,
       stage.due,
       f4.due,
       CASE WHEN t.steps IN (-1, 6) THEN NULL ELSE t.reported_at + t.steps * t.step END,
       CASE WHEN t.steps IN (-1, 6) THEN '' ELSE (%(clocks)s::text[])[t.limit_idx] END,
       CASE WHEN t.steps IN (-1, 6) THEN t.reported_at + abs(t.steps) * t.step END,
       t.reported_at + abs(t.steps) * t.step,
       abs(t.steps) + 1, '', '', '', '', '{}'::jsonb
FROM timed t
JOIN bulk_routes r ON r.idx = t.cat_idx AND r.district_code = t.district_code
-- Deadlines by the one rule (gridgis_due_at, inlined): the current stage's (none once closed or
-- rejected: a NULL clock gives a NULL due time), and the four limits one after the other to close.
CROSS JOIN LATERAL gridgis_due_at(
    t.reported_at + GREATEST(t.steps, 0) * t.step, (%(limits)s::int[])[t.limit_idx] * 60,
    CASE WHEN t.steps IN (-1, 6) THEN NULL ELSE (%(clocks)s::text[])[t.limit_idx] END) AS stage
CROSS JOIN LATERAL gridgis_due_at(
    t.reported_at, (%(limits)s::int[])[(t.cat_idx - 1) * 4 + 1] * 60, (%(clocks)s::text[])[(t.cat_idx - 1) * 4 + 1]) AS f1
CROSS JOIN LATERAL gridgis_due_at(
    f1.due, (%(limits)s::int[])[(t.cat_idx - 1) * 4 + 2] * 60, (%(clocks)s::text[])[(t.cat_idx - 1) * 4 + 2]) AS f2
CROSS JOIN LATERAL gridgis_due_at(
    f2.due, (%(limits)s::int[])[(t.cat_idx - 1) * 4 + 3] * 60, (%(clocks)s::text[])[(t.cat_idx - 1) * 4 + 3]) AS f3
CROSS JOIN LATERAL gridgis_due_at(
    f3.due, (%(limits)s::int[])[(t.cat_idx - 1) * 4 + 4] * 60, (%(clocks)s::text[])[(t.cat_idx - 1) * 4 + 4]) AS f4
ORDER BY t.district_code, t.grid_id
"""

# One trail entry per step taken, timed between reported_at and updated_at.
INSERT_TRAIL = """
INSERT INTO incidents_trailentry
    (case_id, at, actor_id, actor_name, action, from_status, to_status, note, escalation_level, data)
SELECT c.id,
       c.reported_at + k * (c.updated_at - c.reported_at) / GREATEST(c.version - 1, 1),
       NULL,
       CASE WHEN k = 0 THEN c.source WHEN w.action IN ('accept', 'handle') THEN 'department'
            WHEN w.action = 'verify' THEN 'officer' ELSE 'dispatcher' END,
       w.action, w.from_status, w.to_status, w.note, NULL, '{}'::jsonb
FROM incidents_case c
CROSS JOIN LATERAL generate_series(0, c.version - 1) AS k
CROSS JOIN LATERAL (
    SELECT CASE WHEN c.status = 'rejected' AND k = 1 THEN 'reject'
                ELSE (ARRAY['report', 'register', 'dispatch', 'accept', 'handle', 'verify', 'close'])[k + 1]
           END AS action,
           CASE WHEN k = 0 THEN ''
                ELSE (ARRAY['reported', 'registered', 'dispatched', 'handling', 'handled', 'verified'])[k]
           END AS from_status,
           CASE WHEN c.status = 'rejected' AND k = 1 THEN 'rejected'
                ELSE (ARRAY['reported', 'registered', 'dispatched', 'handling', 'handled', 'verified',
                            'closed'])[k + 1]
           END AS to_status,
           CASE WHEN c.status = 'rejected' AND k = 1 THEN '不属于受理范围'
                WHEN k = 4 THEN '已处置，附处置后照片' ELSE '' END AS note
) AS w
WHERE c.id > %(after_id)s
"""


def _category_arrays() -> tuple[list[int], list[str], list[int], list[str]]:
    categories = list(
        Category.objects.filter(is_active=True, parent__isnull=False).select_related("parent").order_by("code")
    )
    if not categories:
        raise ValueError("no minor categories: load them first (layers.incidents.catalogue.load_categories)")
    limits, clocks = [], []
    for category in categories:
        limits += [category.limit_hours(stage) for stage in ("register", "dispatch", "handle", "verify")]
        clocks += [category.limit_clock(stage) for stage in ("register", "dispatch", "handle", "verify")]
    return [c.pk for c in categories], [c.name_zh for c in categories], limits, clocks


@transaction.atomic
def generate_cases(
    total: int,
    days: float,
    *,
    seed: int = 2026,
    anchor: datetime.datetime | None = None,
    chunk: int = 250_000,
    progress: Callable[[dict], None] = lambda figures: None,
) -> dict[str, int]:
    """Insert `total` cases reported over the `days` before `anchor`, with their trail entries.

    Writes `chunk` cases (and their trail) per statement and calls `progress` with the running counts
    after each: the draws depend on the row number only, so the chunk size changes nothing but the
    physical order. Returns counts: sites, cases, trail. Needs the grid tree and the categories.
    """
    anchor = anchor or timezone.now()
    category_ids, category_names, limits, clocks = _category_arrays()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM grids_grid g WHERE g.is_active AND g.level >= 2 AND NOT EXISTS "
            "(SELECT 1 FROM grids_grid c WHERE c.parent_id = g.id AND c.is_active)"
        )
        leaves = cursor.fetchone()[0]
        if leaves == 0:
            raise ValueError("no leaf grids to report from: build the grid tree first")
        per_leaf = max(1, -(-total // leaves))
        # ON COMMIT DROP cleans up after a normal run; inside an enclosing transaction (tests, the
        # demo seed calling twice) the previous run's tables may still be there.
        cursor.execute("DROP TABLE IF EXISTS bulk_sites, bulk_routes")
        cursor.execute(SITES, {"per_leaf": per_leaf, "seed": seed, "today": timezone.localdate(anchor)})
        cursor.execute("SELECT count(*) FROM bulk_sites")
        sites = cursor.fetchone()[0]
        cursor.execute("CREATE UNIQUE INDEX ON bulk_sites (site)")
        cursor.execute(ROUTES, {"category_ids": category_ids})
        # Checks still queued (Django's keys are deferred) would block ALTER TABLE below.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # Row by row, 2.2 million cases and their 14.5 million trail entries would queue some 25 million
        # key checks, half of the whole generation time: the keys are set aside and added back.
        cursor.execute(sql.FOREIGN_KEYS_ON, {"tables": ["incidents_case", "incidents_trailentry"], "columns": None})
        keys = cursor.fetchall()
        for drop, _, _ in keys:
            cursor.execute(drop)  # DDL generated from the catalogue, never from input
        cases = trail = 0
        for first in range(1, total + 1, chunk):
            cursor.execute("SELECT COALESCE(max(id), 0) FROM incidents_case")
            after_id = cursor.fetchone()[0]
            cursor.execute(
                INSERT_CASES,
                {
                    "first": first,
                    "last": min(total, first + chunk - 1),
                    "days": days,
                    "seed": seed,
                    "anchor": anchor,
                    "sites": sites,
                    "category_ids": category_ids,
                    "category_names": category_names,
                    "limits": limits,
                    "clocks": clocks,
                },
            )
            cases += cursor.rowcount
            cursor.execute(INSERT_TRAIL, {"after_id": after_id})
            trail += cursor.rowcount
            progress({"sites": sites, "cases": cases, "trail": trail, "total": total})
        for _, restore, name in keys:
            cursor.execute(restore)
            progress({"sites": sites, "cases": cases, "trail": trail, "total": total, "checked": name})
    return {"sites": sites, "cases": cases, "trail": trail}
