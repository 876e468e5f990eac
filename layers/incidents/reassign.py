"""Reassignment of cases after grids are redrawn: set-based, per district, resumable.

`reassign()` finds the grids drawn differently since the last run by comparing each grid with its
stamp (incidents_gridstamp: version, md5 of the boundary, active flag), so a redraw is noticed
whoever wrote it. With stamps, only the cases a change can affect are examined: those assigned to a
changed grid and those inside a changed grid's new boundary (REASSIGN_AFFECTED). Without stamps (the
first run), or with `full=True`, every case is examined, one district per transaction
(REASSIGN_DISTRICT, a grid-driven join). Stamps are refreshed only after every district is done, so
an interrupted run is simply run again: the statements only write cases whose grid differs, so
nothing is moved twice. Each case that moves to another grid gets a trail entry.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from layers.incidents import sql

NOTE = "grids redrawn: reassigned by the smallest covering grid"


@dataclass
class ReassignReport:
    mode: str = "affected"
    changed_grids: int = 0
    examined: int = 0
    updated: int = 0
    moved: int = 0
    seconds: float = 0.0
    districts: list[str] = field(default_factory=list)


def _run(statement: str, params: dict) -> tuple[int, int, int]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone()


def changed_grid_ids() -> list[int]:
    """Ids of grids drawn differently from their stamp, new or deleted since the last run."""
    with connection.cursor() as cursor:
        cursor.execute(sql.CHANGED_GRIDS)
        return sorted(row[0] for row in cursor.fetchall())


def has_stamps() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM incidents_gridstamp)")
        return cursor.fetchone()[0]


@transaction.atomic
def restamp() -> None:
    """Record how every grid is drawn now."""
    with connection.cursor() as cursor:
        cursor.execute(sql.RESTAMP_GRIDS)


def case_districts() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(sql.CASE_DISTRICTS)
        return [row[0] for row in cursor.fetchall()]


def reassign_district(district: str) -> tuple[int, int, int]:
    """Re-examine every case of one district in one transaction: (examined, updated, moved)."""
    with transaction.atomic():
        return _run(sql.REASSIGN_DISTRICT, {"district": district, "now": timezone.now(), "note": NOTE})


def reassign_affected(grid_ids: list[int]) -> tuple[int, int, int]:
    """Re-examine only the cases the changed grids can affect, in one transaction."""
    with transaction.atomic():
        return _run(sql.REASSIGN_AFFECTED, {"grid_ids": grid_ids, "now": timezone.now(), "note": NOTE})


def reassign(*, district: str | None = None, full: bool = False,
             progress: Callable[[str], None] = lambda message: None) -> ReassignReport:
    """Bring every case's grid up to date with the grid tree; see the module docstring.

    `district` limits a full run to one district's cases (and leaves the stamps alone, since other
    districts were not examined).
    """
    started = time.perf_counter()
    report = ReassignReport()
    if district or full or not has_stamps():
        report.mode = "full"
        districts = [district] if district else case_districts()
        for number, code in enumerate(districts, 1):
            tick = time.perf_counter()
            examined, updated, moved = reassign_district(code)
            report.examined += examined
            report.updated += updated
            report.moved += moved
            report.districts.append(code)
            progress(f"[{number}/{len(districts)}] district {code or '(none)'}: {examined} cases examined, "
                     f"{moved} moved, {updated} updated in {time.perf_counter() - tick:.1f} s")
        if not district:
            restamp()
    else:
        changed = changed_grid_ids()
        report.changed_grids = len(changed)
        if changed:
            report.examined, report.updated, report.moved = reassign_affected(changed)
            progress(f"{len(changed)} grid(s) redrawn: {report.examined} cases examined, {report.moved} moved")
        else:
            progress("no grid redrawn since the last run")
        restamp()
    report.seconds = time.perf_counter() - started
    return report
