"""Reassignment of cases after grids are redrawn: set-based, resumable, with the write strategy chosen
by how much changed.

`reassign()` finds the grids drawn differently since the last run by comparing each grid with its
stamp (incidents_gridstamp: version, md5 of the boundary, active flag), so a redraw is noticed
whoever wrote it. With stamps, only the cases a change can affect are examined: those assigned to a
changed grid and those inside a changed grid's new boundary. Without stamps (the first run), or with
`full=True`, every case is examined, district by district (a grid-driven join).

The answers that differ from what the cases hold go into a temporary table first; then those cases
are written, with a trail entry for each case that moved to another grid. Written in place, every
row enters every secondary index and has its changed keys checked one by one (at city scale, 54 s
for all 2.2 million rows against 14 s for the bare UPDATE). So when the changes reach
GRIDGIS REASSIGN_REBUILD_FRACTION of the table (a complete redraw, a first import), the plain
indexes and those foreign keys are set aside, the rows written, the keys checked again in one join
each and the indexes built from sorted input, as PostgreSQL's manual advises for bulk loads. The
default, 0.4, is where the two strategies cost the same at city scale (bench, 2.2 M cases: 25 %
moving 31 s in place / 35 s rebuilt; 40 %: 44 / 42 s; 50 %: 57 / 45 s).

DDL is transactional in PostgreSQL: the whole run is one transaction, so an interrupted run leaves
everything as it was and is simply run again (stamps are refreshed only at the end; nothing is
moved twice).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from layers.grids.models import Level
from layers.incidents import sql
from layers.incidents.models import OPEN_STATUSES

NOTE = "grids redrawn: reassigned by the smallest covering grid"


@dataclass
class ReassignReport:
    mode: str = "affected"
    changed_grids: int = 0
    examined: int = 0
    updated: int = 0
    moved: int = 0
    strategy: str = "in place"
    seconds: float = 0.0
    districts: list[str] = field(default_factory=list)


def changed_grid_ids() -> list[int]:
    """Ids of grids drawn differently from their stamp, new or deleted since the last run."""
    with connection.cursor() as cursor:
        cursor.execute(sql.CHANGED_GRIDS)
        return sorted(row[0] for row in cursor.fetchall())


def has_stamps() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM incidents_gridstamp)")
        return cursor.fetchone()[0]


def restamp(grid_ids: list[int] | None = None) -> None:
    """Record how the grids are drawn now: all of them, or only `grid_ids`."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql.RESTAMP_GRIDS, {"all": grid_ids is None, "grid_ids": grid_ids or []})


def case_districts() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(sql.CASE_DISTRICTS)
        return [row[0] for row in cursor.fetchall()]


def _write(cursor, report: ReassignReport, params: dict) -> None:
    cursor.execute(sql.STAFF_ANSWERS, params)
    cursor.execute(sql.APPLY_ANSWERS, params)
    report.updated = cursor.rowcount
    cursor.execute(sql.TRAIL_MOVES, params)
    report.moved = cursor.rowcount


def _apply(cursor, report: ReassignReport, progress: Callable[[str], None]) -> None:
    """Write the answers gathered in reassign_answer: in place, or around a rebuild of the indexes."""
    cursor.execute(sql.COUNT_ANSWERS)
    changing, table_rows = cursor.fetchone()
    now = timezone.now()
    params = {"now": now, "note": NOTE, "today": timezone.localdate(now), "open_statuses": list(OPEN_STATUSES)}
    if changing == 0 or changing < settings.GRIDGIS["REASSIGN_REBUILD_FRACTION"] * max(table_rows, 1):
        _write(cursor, report, params)
        return
    report.strategy = "rebuild indexes"
    tick = time.perf_counter()
    # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED; ALTER TABLE and CREATE INDEX refuse to
    # run while checks are queued, so the remaining checks run at the end of each statement instead.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    # The keys the write checks row by row (an UPDATE checks only keys whose value changes), then the
    # indexes every rewritten row would enter.
    cursor.execute(
        sql.FOREIGN_KEYS_ON,
        {
            "tables": ["incidents_case", "incidents_trailentry"],
            "columns": ["incidents_case.grid_id", "incidents_trailentry.case_id"],
        },
    )
    set_aside = cursor.fetchall()
    cursor.execute(sql.PLAIN_CASE_INDEXES)
    set_aside += cursor.fetchall()
    progress(
        f"{changing:,} of ~{table_rows:,} cases change: setting aside {len(set_aside)} indexes and "
        "foreign keys, writing the rows, restoring them"
    )
    for drop, _, _ in set_aside:
        cursor.execute(drop)  # DDL generated from the catalogue, never from input
    _write(cursor, report, params)
    progress(
        f"{report.updated:,} cases and {report.moved:,} trail entries written in {time.perf_counter() - tick:.1f} s"
    )
    for _, restore, name in set_aside:
        started = time.perf_counter()
        cursor.execute(restore)
        progress(f"{name} restored in {time.perf_counter() - started:.1f} s")


def reassign(
    *, district: str | None = None, full: bool = False, progress: Callable[[str], None] = lambda message: None
) -> ReassignReport:
    """Bring every case's grid up to date with the grid tree, in one transaction; see the module docstring.

    `district` limits a full run to one district's cases (and leaves the stamps alone, since other
    districts were not examined).
    """
    started = time.perf_counter()
    report = ReassignReport()
    full = bool(district or full or not has_stamps())
    changed = [] if full else changed_grid_ids()
    if not full and not changed:
        progress("no grid redrawn since the last run")
        report.seconds = time.perf_counter() - started
        return report
    with transaction.atomic(), connection.cursor() as cursor:
        # Room for the join's sort (DISTINCT ON over a district's cases) and hashes in memory.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(sql.CREATE_ANSWERS)
        if full:
            report.mode = "full"
            districts = [district] if district else case_districts()
            for number, code in enumerate(districts, 1):
                tick = time.perf_counter()
                cursor.execute(sql.ANSWERS_FOR_DISTRICT, {"district": code, "deepest": int(Level.MICROGRID)})
                examined = cursor.fetchone()[0]
                report.examined += examined
                report.districts.append(code)
                progress(
                    f"[{number}/{len(districts)}] district {code or '(none)'}: {examined:,} cases "
                    f"examined in {time.perf_counter() - tick:.1f} s"
                )
        else:
            report.changed_grids = len(changed)
            cursor.execute(sql.ANSWERS_FOR_CHANGED_GRIDS, {"grid_ids": changed})
            report.examined = cursor.fetchone()[0]
            progress(f"{len(changed)} grid(s) redrawn: {report.examined:,} cases examined")
        _apply(cursor, report, progress)
        progress(
            f"{report.examined:,} cases examined, {report.moved:,} moved to another grid, "
            f"{report.updated:,} updated ({report.strategy})"
        )
        if full and not district:
            restamp()
        elif changed:
            restamp(changed)
    report.seconds = time.perf_counter() - started
    return report
