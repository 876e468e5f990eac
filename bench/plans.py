"""The plans of the hot queries at city scale: EXPLAIN each and check it reaches its table through the
index it was written for (a GiST index on a geometry, the grid key of the case table, ...).

A plan that turns into a sequential scan of 2.2 million cases or 27,000 grid outlines is a regression
no timing of a small database shows, so the suite fails loudly when an expected index is missing
from a plan, and prints every index each plan uses. Plans are only meaningful at city scale: on the
tiny test databases PostgreSQL rightly prefers sequential scans.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db import connection
from psycopg import ClientCursor

from bench.common import Result, sample_points

# The GiST indexes of each table, from the catalogue.
GIST_INDEXES = """
SELECT c.relname, i.relname
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_am am ON am.oid = i.relam
WHERE am.amname = 'gist' AND c.relname = ANY(%(tables)s)
"""


@dataclass
class PlanCheck:
    what: str
    statement: str
    params: dict | list
    needs_gist_on: tuple[str, ...]  # tables whose GiST index the plan must use
    prepared: str = ""  # run as EXPLAIN EXECUTE of this prepared statement ($n parameters)
    setup: str = ""  # run first (the reassignment statements fill a temporary table)


def _indexes_in(plan: dict) -> list[str]:
    found = []
    if "Index Name" in plan:
        found.append(plan["Index Name"])
    for child in plan.get("Plans", []):
        found += _indexes_in(child)
    return found


def _explain(cursor, check: PlanCheck) -> tuple[dict, float]:
    if check.prepared:
        cursor.execute("DEALLOCATE ALL")
        cursor.execute(f"PREPARE {check.prepared} AS {check.statement}")  # noqa: S608  (module constants)
        placeholders = ", ".join(["%s"] * len(check.params))
        # EXECUTE is a utility statement, which takes no bound parameters: the values are written
        # into its text (client-side binding), as PREPARE's $n will type them.
        with connection.make_cursor(ClientCursor(connection.connection)) as client_cursor:
            client_cursor.execute(
                f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE {check.prepared}({placeholders})",  # noqa: S608
                check.params,
            )
            document = client_cursor.fetchone()[0]
    else:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {check.statement}", check.params)  # noqa: S608
        document = cursor.fetchone()[0]
    document = json.loads(document) if isinstance(document, str) else document
    return document[0]["Plan"], document[0]["Execution Time"]


def checks() -> list[PlanCheck]:
    import datetime

    from django.conf import settings
    from django.utils import timezone

    from layers.grids.sql import LOCATE_SQL
    from layers.incidents import sql as incidents_sql
    from layers.incidents.models import OPEN_STATUSES, Category
    from maps import sql as maps_sql

    ((lon, lat),) = sample_points(1, seed=3)
    category = Category.objects.filter(parent__isnull=False).order_by("code").first()
    now = timezone.now()
    box = {"xmin": lon - 0.02, "ymin": lat - 0.02, "xmax": lon + 0.02, "ymax": lat + 0.02}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array_agg(id) FROM (SELECT id FROM grids_grid WHERE level = 5 AND is_active "
            "ORDER BY hashint4(id::int) LIMIT 10) g"
        )
        ten_grids = cursor.fetchone()[0]
        cursor.execute("SELECT district_code FROM grids_grid WHERE level = 1 ORDER BY code LIMIT 1")
        district = cursor.fetchone()[0]
    return [
        PlanCheck(
            "locate (one statement)",
            LOCATE_SQL,
            [lon, lat, datetime.date.today()],
            ("grids_grid",),
            prepared="bench_plan_locate",
        ),
        PlanCheck(
            "intake facts (one statement)",
            incidents_sql.INTAKE_FACTS,
            [
                lon,
                lat,
                timezone.localdate(now),
                category.pk,
                [category.pk, category.parent_id],
                settings.GRIDGIS["METRIC_SRID"],
                list(OPEN_STATUSES),
                now - datetime.timedelta(days=3),
                30.0,
            ],
            ("grids_grid",),
            prepared="bench_plan_intake",
        ),
        PlanCheck(
            "case list page in a bbox (API)",
            "SELECT id FROM incidents_case WHERE location && ST_MakeEnvelope(%(xmin)s, %(ymin)s, %(xmax)s, "
            "%(ymax)s, 4326) ORDER BY reported_at DESC, id DESC LIMIT 100",
            box,
            ("incidents_case",),
        ),
        PlanCheck(
            "map grids in a bbox (FeatureCollection)",
            maps_sql.GRIDS_BBOX_FEATURE_COLLECTION,
            {**box, "levels": [4, 5], "limit": 5000, "precision": 6, "prefix": "%", "scope_patterns": None},
            ("grids_grid",),
        ),
        PlanCheck(
            "map grids in a bbox, one community's scope",
            maps_sql.GRIDS_BBOX_FEATURE_COLLECTION,
            {
                **box,
                "levels": [4, 5],
                "limit": 5000,
                "precision": 6,
                "prefix": "%",
                "scope_patterns": [f"{district}001001%"],
            },
            ("grids_grid",),
        ),
        PlanCheck(
            "reassign: cases a redraw of 10 grids can affect",
            incidents_sql.ANSWERS_FOR_CHANGED_GRIDS,
            {"grid_ids": ten_grids},
            ("incidents_case", "grids_grid"),
            setup=incidents_sql.CREATE_ANSWERS,
        ),
        PlanCheck(
            "reassign: one district, grid-driven join",
            incidents_sql.ANSWERS_FOR_DISTRICT,
            {"district": district, "deepest": 5},
            ("incidents_case", "grids_grid"),
            setup=incidents_sql.CREATE_ANSWERS,
        ),
    ]


def bench_plans(enforce: bool = True) -> list[Result]:
    """EXPLAIN ANALYZE every check inside a transaction that is rolled back (the reassignment
    statements write into a temporary table). With `enforce`, a missing spatial index is an error;
    the smoke run on the demo city only records the plans (sequential scans are right there)."""
    from django.db import transaction

    results, missing = [], []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(GIST_INDEXES, {"tables": ["grids_grid", "incidents_case"]})
        gist: dict[str, set[str]] = {}
        for table, index in cursor.fetchall():
            gist.setdefault(table, set()).add(index)
        for check in checks():
            if check.setup:
                cursor.execute(check.setup)
            plan, ms = _explain(cursor, check)
            used = sorted(set(_indexes_in(plan)))
            lacking = [table for table in check.needs_gist_on if not gist.get(table, set()) & set(used)]
            if lacking:
                missing.append(f"{check.what}: no GiST index of {', '.join(lacking)} in the plan (uses {used})")
            results.append(
                Result(
                    f"plan: {check.what}",
                    ms,
                    target="GiST on " + ", ".join(check.needs_gist_on),
                    extra={"indexes": used, "spatial_index_used": not lacking},
                )
            )
        transaction.set_rollback(True)
    if missing and enforce:
        raise RuntimeError("hot queries lost their spatial index:\n" + "\n".join(missing))
    return results
