"""Writes of the audits layer: create an audit run and execute it chunk by chunk (a queue worker does, tasks.py).

A run is cut into chunks, one per (kind, district). Each chunk is one statement of layers/audits/sql.py
executed in its own transaction together with the run row's progress, summary and list of chunks done:
a run interrupted half-way keeps what it wrote, and executing it again (`manage.py audit --resume ID`)
does only the chunks still missing. A chunk first deletes whatever it wrote before, so re-running a
finished run recomputes it without duplicating a finding.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from common.dbfuncs import SEGMENT_DEGREES
from layers.audits import sql
from layers.audits.models import AuditRun, Finding, Kind
from layers.grids.models import Grid, Level
from layers.incidents.models import OPEN_STATUSES

STATEMENTS = {
    Kind.GAP: sql.GAP,
    Kind.OVERLAP: sql.OVERLAP,
    Kind.OUTSIDE_PARENT: sql.OUTSIDE_PARENT,
    Kind.ORPHAN: sql.ORPHAN,
    Kind.HOTSPOT: sql.HOTSPOT,
    Kind.DEAD_CORNER_CASE: sql.DEAD_CORNER_CASE,
    Kind.UNOWNED_POINT: sql.UNOWNED_POINT,
    Kind.STALE: sql.STALE,
    Kind.UNCOVERED_ESTATE: sql.UNCOVERED_ESTATE,
}

# Kinds about things that may lie outside every grid: a whole-tree run also audits those with a blank
# district code (cases reported, points placed beyond the tree).
OUTSIDE_KINDS = {Kind.DEAD_CORNER_CASE, Kind.UNOWNED_POINT, Kind.STALE}

# The kinds a run checks when none are named, in the order they run.
DEFAULT_KINDS = [kind.value for kind in STATEMENTS]


def default_parameters() -> dict:
    """The knobs of a run, from settings.GRIDGIS; a run stores them so that a re-run computes the same."""
    config = settings.GRIDGIS
    levels = config["AUDIT_DUTY_LEVELS"]
    return {
        "min_area_m2": float(config["AUDIT_MIN_AREA_M2"]),
        "snap_degrees": float(config["AUDIT_SNAP_DEGREES"]),
        "leader_level": Level.from_name(levels["leader"]).name.lower(),
        "officer_level": Level.from_name(levels["officer"]).name.lower(),
        "hotspot_cases": int(config["AUDIT_HOTSPOT"]["CASES"]),
        "hotspot_metres": float(config["AUDIT_HOTSPOT"]["METRES"]),
        "hotspot_days": float(config["AUDIT_HOTSPOT"]["DAYS"]),
        "stale_days": float(config["AUDIT_STALE_DAYS"]),
        "on": None,
    }


def _clean_parameters(given: dict | None) -> dict:
    parameters = default_parameters()
    errors = {}
    for key, value in (given or {}).items():
        if key not in parameters:
            errors[key] = f"unknown parameter; use one of {', '.join(sorted(parameters))}"
        elif key == "snap_degrees":
            try:
                parameters[key] = float(value)
            except (TypeError, ValueError):
                errors[key] = f"{value!r} is not a number of degrees"
                continue
            if not 0 <= parameters[key] <= 1e-5:
                errors[key] = "must be between 0 and 1e-5 degrees (about 1 m)"
        elif key == "min_area_m2":
            try:
                parameters[key] = float(value)
            except (TypeError, ValueError):
                errors[key] = f"{value!r} is not a number of m²"
                continue
            if not 0 <= parameters[key] < 1e9:
                errors[key] = "must be between 0 and 1e9 m²"
        elif key in ("hotspot_cases", "hotspot_metres", "hotspot_days", "stale_days"):
            try:
                parameters[key] = int(value) if key == "hotspot_cases" else float(value)
            except (TypeError, ValueError):
                errors[key] = f"{value!r} is not a number"
                continue
            if not 0 < parameters[key] <= 100_000:
                errors[key] = "must be above 0 and at most 100000"
        elif key in ("leader_level", "officer_level"):
            try:
                parameters[key] = Level.from_name(str(value)).name.lower()
            except ValueError as exc:
                errors[key] = str(exc)
        elif key == "on" and value is not None:
            try:
                parameters[key] = datetime.date.fromisoformat(str(value)).isoformat()
            except ValueError:
                errors[key] = f"{value!r} is not a date (YYYY-MM-DD)"
    if errors:
        raise ValidationError(errors)
    return parameters


@transaction.atomic
def create_run(
    *, district_code: str = "", kinds: list[str] | None = None, parameters: dict | None = None, user=None, via: str = ""
) -> AuditRun:
    """Validate and store a queued run; raises ValidationError naming the field at fault."""
    kinds = list(dict.fromkeys(kinds or DEFAULT_KINDS))
    unknown = [k for k in kinds if k not in STATEMENTS]
    if unknown:
        raise ValidationError({"kinds": f"unknown kind(s) {', '.join(unknown)}; use {', '.join(STATEMENTS)}"})
    district_code = (district_code or "").strip()
    if district_code and not Grid.objects.filter(code=district_code, level=Level.DISTRICT).exists():
        raise ValidationError({"district": f"no district with code {district_code!r}"})
    clean = _clean_parameters(parameters)
    return AuditRun.objects.create(
        district_code=district_code,
        kinds=kinds,
        parameters=clean,
        requested_by=user if user is not None and user.is_authenticated else None,
        requested_via=via[:100],
    )


def _districts(run: AuditRun) -> list[str]:
    if run.district_code:
        return [run.district_code]
    with connection.cursor() as cursor:
        cursor.execute(sql.DISTRICTS)
        return [row[0] for row in cursor.fetchall()]


def _chunks(run: AuditRun) -> list[tuple[str, str]]:
    """(kind, district) pairs in the order they run; see OUTSIDE_KINDS for the blank district."""
    districts = _districts(run)
    chunks = []
    for kind in run.kinds:
        chunks += [(kind, district) for district in districts]
        if kind in OUTSIDE_KINDS and not run.district_code:
            chunks.append((kind, ""))
    return chunks


def _window(run: AuditRun) -> tuple[datetime.datetime, datetime.datetime]:
    """The moment the run looks from (now, or the end of the day `on`) and the start of the hotspot window."""
    on = run.parameters.get("on")
    if on:
        day = datetime.date.fromisoformat(on) + datetime.timedelta(days=1)
        until = datetime.datetime.combine(day, datetime.time(), tzinfo=timezone.get_current_timezone())
    else:
        until = timezone.now()
    return until, until - datetime.timedelta(days=run.parameters.get("hotspot_days", 30))


def _statement_parameters(run: AuditRun, district: str) -> dict:
    p = run.parameters
    on = p.get("on") or timezone.localdate().isoformat()
    until, since = _window(run)
    hotspot = settings.GRIDGIS["AUDIT_HOTSPOT"]
    return {
        "run": run.pk,
        "district": district,
        "min_area": p["min_area_m2"],
        # Below this many m² a family's double cover is rounding, not an overlap (see sql.OVERLAP).
        "noise": 0.01,
        "segment": SEGMENT_DEGREES,
        "snap": p.get("snap_degrees", settings.GRIDGIS["AUDIT_SNAP_DEGREES"]),
        "leader_level": int(Level.from_name(p["leader_level"])),
        "officer_level": int(Level.from_name(p["officer_level"])),
        "on": on,
        "until": until,
        "since": since,
        "cases": p.get("hotspot_cases", hotspot["CASES"]),
        "metres": p.get("hotspot_metres", hotspot["METRES"]),
        "days": p.get("hotspot_days", hotspot["DAYS"]),
        "metric_srid": settings.GRIDGIS["AUDIT_METRIC_SRID"],
        "stale_days": p.get("stale_days", settings.GRIDGIS["AUDIT_STALE_DAYS"]),
        "open_statuses": [str(status) for status in OPEN_STATUSES],
    }


def _claim(run_id: int, resume: bool) -> AuditRun | None:
    """Mark the run running, unless another worker has it; returns None when it is taken.

    A done run starts over (its chunks are recomputed); a failed or interrupted run resumes where it
    stopped. `resume=True` also takes a run left "running" by a process that died.
    """
    with transaction.atomic():
        run = AuditRun.objects.select_for_update().get(pk=run_id)
        if run.status == AuditRun.Status.RUNNING and not resume:
            return None
        if run.status == AuditRun.Status.DONE:
            # Starting over: the tree may have changed since (a district added or gone).
            Finding.objects.filter(run=run).delete()
            run.done, run.summary, run.progress = [], {}, 0.0
        run.status = AuditRun.Status.RUNNING
        run.error = ""
        run.started_at = timezone.now()
        run.finished_at = None
        run.save()
    return run


def execute_run(run_id: int, *, resume: bool = False, progress=None) -> AuditRun:
    """Execute the run's chunks still to do, saving progress after each; returns the finished run.

    `progress(run, kind, district)`, if given, is called after each chunk (the command prints it).
    A failing statement marks the run failed with the error and re-raises it.
    """
    run = _claim(run_id, resume)
    if run is None:
        return AuditRun.objects.get(pk=run_id)
    try:
        chunks = _chunks(run)
        total = max(len(chunks), 1)
        for kind, district in chunks:
            key = f"{kind}:{district}"
            if key in run.done:
                continue
            _execute_chunk(run, kind, district, key, total)
            if progress:
                progress(run, kind, district)
        run.status = AuditRun.Status.DONE
        run.progress = 1.0
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "progress", "finished_at"])
    except Exception as exc:
        AuditRun.objects.filter(pk=run.pk).update(
            status=AuditRun.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    return run


@transaction.atomic
def _execute_chunk(run: AuditRun, kind: str, district: str, key: str, total: int) -> None:
    Finding.objects.filter(run=run, kind=kind, district_code=district).delete()
    with connection.cursor() as cursor:
        cursor.execute(STATEMENTS[kind], _statement_parameters(run, district))
        written, slivers, sliver_area = cursor.fetchone()
    totals = run.summary.setdefault(kind, {"findings": 0, "slivers": 0, "sliver_m2": 0.0})
    totals["findings"] += written
    totals["slivers"] += slivers
    totals["sliver_m2"] = round(totals["sliver_m2"] + float(sliver_area), 3)
    run.done.append(key)
    run.progress = round(len(run.done) / total, 4)
    run.save(update_fields=["summary", "done", "progress"])
