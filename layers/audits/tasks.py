"""The audits layer's background work (registered through common.queue; a worker runs it).

- run_audit: one audit run, chunk by chunk (services.execute_run). Retried after a dead worker, it
  resumes: the chunks the first attempt committed are skipped. One per district at a time.
- export_findings: a run's findings ledger (.xlsx or .csv) written to MEDIA_ROOT/exports/, for ledgers
  too large to build inside a request; the JobRun carries the file's name for the download.
- refresh_dashboard_rates: the leader's dashboard's on-time and closure rates of this quarter and the
  last, kept per grid (assessment.refresh_dashboard_rates) on a schedule (GRIDGIS QUEUE
  DASHBOARD_RATES_CRON), so the dashboard reads a small table instead of a quarter of trail.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from common import jobs
from common.models import JobRun
from common.queue import enqueue, periodic, task
from layers.audits import assessment, exports, services
from layers.audits.models import AuditRun

EXPORT_FORMATS = {"xlsx": exports.XLSX_CONTENT_TYPE, "csv": exports.CSV_CONTENT_TYPE}


@task(queue="audits", lock_by="district")
def run_audit(*, run_id: int, district: str = "") -> None:
    # resume=True: a run marked running by an attempt whose worker died is taken over, not skipped.
    services.execute_run(run_id, resume=True)


def queue_run(run: AuditRun) -> int:
    """Enqueue the run (inside the caller's transaction, so the job exists iff the run row does)."""
    return enqueue(run_audit, run_id=run.pk, district=run.district_code)


@periodic(cron=settings.GRIDGIS["QUEUE"]["DASHBOARD_RATES_CRON"], queue="audits")
def refresh_dashboard_rates(timestamp: int) -> dict:
    return assessment.refresh_dashboard_rates()


@task(queue="exports")
def export_findings(*, job_run_id: int) -> None:
    job = jobs.start(job_run_id)
    parameters = job.parameters
    try:
        run = AuditRun.objects.get(pk=parameters["audit_run"])
        fmt = parameters["format"]
        filters = {"kind": parameters.get("kind"), "bbox_wkt": parameters.get("bbox")}
        jobs.report(job.pk, progress=0.1, message="reading the findings")
        body = exports.findings_xlsx(run, **filters) if fmt == "xlsx" else exports.findings_csv(run, **filters)
        name = f"audit-{run.pk}-findings-{job.pk}.{fmt}"
        folder = Path(settings.MEDIA_ROOT) / "exports"
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{name}.part"
        partial.write_bytes(body)
        partial.replace(folder / name)  # a reader never sees half a file
    except Exception as exc:
        jobs.fail(job.pk, exc)
        raise
    jobs.finish(
        job.pk,
        result={
            "file": f"exports/{name}",
            "filename": f"audit-{run.pk}-findings.{fmt}",
            "content_type": EXPORT_FORMATS[fmt],
        },
        message=f"{len(body):,} bytes",
    )


def queue_export(*, run: AuditRun, fmt: str, kind: str | None, bbox: str | None, user, via: str) -> JobRun:
    job = jobs.create(
        kind="export_findings",
        key=run.district_code,
        parameters={"audit_run": run.pk, "format": fmt, "kind": kind, "bbox": bbox},
        user=user,
        via=via,
    )
    jobs.attach(job, enqueue(export_findings, job_run_id=job.pk))
    return job
