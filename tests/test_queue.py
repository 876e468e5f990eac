"""The background job queue (common/queue.py): the API only enqueues, one job of a kind per district
waits at a time, and a worker killed in the middle of a job leaves it to be done again by the next
worker (real `manage.py worker` processes, killed with SIGKILL), which resumes where it stopped."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.db import connection, transaction
from procrastinate.contrib.django import utils as procrastinate_utils

from common.models import JobRun
from common.queue import AlreadyQueued
from common.waiting import wait_until
from layers.audits import services, tasks
from layers.audits.models import AuditRun, Finding
from layers.incidents.tasks import queue_reassignment
from tests.factories import small_tree
from tests.factories_incidents import make_user
from tests.queue_helpers import job_statuses, run_queued_jobs

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db(transaction=True)  # workers run on their own connections


def broken_tree():
    tree = small_tree()
    tree["g2"].is_active = False  # a gap for the audit to find
    tree["g2"].save()
    return tree


def start_worker(tmp_path: Path, name: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "GRIDGIS_DB_NAME": connection.settings_dict["NAME"],
        "GRIDGIS_MEDIA_ROOT": str(tmp_path / "media"),
        # Short clocks, so that a dead worker is noticed in seconds rather than the default 30 s.
        "GRIDGIS_QUEUE_HEARTBEAT_SECONDS": "0.5",
        "GRIDGIS_QUEUE_STALLED_SECONDS": "2",
        "GRIDGIS_QUEUE_STALLED_SWEEP_CRON": "* * * * * *",
    }
    log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 (the process writes it until killed)
    return subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--queue", "audits", "--queue", "default"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_for(predicate, seconds: float, what: str):
    value = wait_until(predicate, seconds)
    assert value, f"{what} did not happen within {seconds} s"
    return value


def raw_connection() -> psycopg.Connection:
    return psycopg.connect(**procrastinate_utils.connector_params("default"))


def test_a_worker_killed_mid_job_leaves_it_retried_and_the_run_resumes(tmp_path):
    broken_tree()
    with transaction.atomic():
        run = services.create_run(district_code="510502", kinds=["gap", "overlap", "stale"], via="test")
        tasks.queue_run(run)
    # The third chunk reads the patrols table: holding it locked parks the job there, two chunks done.
    blocker = raw_connection()
    blocker.execute("LOCK TABLE inspections_patrol IN ACCESS EXCLUSIVE MODE")
    first = start_worker(tmp_path, "first")
    try:
        wait_for(
            lambda: AuditRun.objects.get(pk=run.pk).done == ["gap:510502", "overlap:510502"],
            60,
            "the first two chunks",
        )
        assert AuditRun.objects.get(pk=run.pk).status == AuditRun.Status.RUNNING
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
        blocker.rollback()
        blocker.close()
    assert job_statuses("run_audit") == ["doing"]  # nobody will finish it: the worker is gone

    second = start_worker(tmp_path, "second")
    try:
        wait_for(lambda: AuditRun.objects.get(pk=run.pk).status == AuditRun.Status.DONE, 90, "the retried run")
    finally:
        second.terminate()
        second.wait(timeout=40)
    assert job_statuses("run_audit") == ["succeeded"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT attempts FROM procrastinate_jobs WHERE task_name LIKE '%%run_audit'")
        assert cursor.fetchone()[0] == 2  # the killed attempt and the one that finished
    run.refresh_from_db()
    assert run.done == ["gap:510502", "overlap:510502", "stale:510502"] and run.progress == 1.0
    # The resumed run skipped the committed chunks: one gap finding, not two.
    assert Finding.objects.filter(run=run, kind="gap").count() == 1
    assert run.summary["gap"]["findings"] == 1
    assert "put back" in (tmp_path / "second.log").read_text()


def test_one_job_of_a_kind_per_district_waits_at_a_time(api):
    small_tree()
    api.force_authenticate(make_user("supervisor"))
    first = api.post("/api/v1/audits/", {"district": "510502", "kinds": ["gap"]}, format="json")
    assert first.status_code == 202
    second = api.post("/api/v1/audits/", {"district": "510502", "kinds": ["gap"]}, format="json")
    assert second.status_code == 409
    assert "already waiting" in second.json()["detail"] and "510502" in second.json()["detail"]
    assert AuditRun.objects.count() == 1  # the refused request stored nothing half-way
    # Another district, or the whole tree, is another lock.
    assert api.post("/api/v1/audits/", {"kinds": ["gap"]}, format="json").status_code == 202
    with pytest.raises(AlreadyQueued):
        with transaction.atomic():
            queue_reassignment(district="510502", full=True)
            queue_reassignment(district="510502", full=True)
    assert JobRun.objects.count() == 0
    run_queued_jobs(["audits"])
    assert set(AuditRun.objects.values_list("status", flat=True)) == {"done"}
    # Once the first has run, the district may be audited again.
    assert api.post("/api/v1/audits/", {"district": "510502", "kinds": ["gap"]}, format="json").status_code == 202


def test_an_export_is_built_by_the_queue_and_downloaded_by_whoever_asked(api, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    broken_tree()
    supervisor = make_user("supervisor")
    api.force_authenticate(supervisor)
    run = services.create_run(district_code="510502", kinds=["gap"], via="test")
    services.execute_run(run.pk)
    response = api.post(f"/api/v1/audits/{run.pk}/exports/", {"format": "csv"}, format="json")
    assert response.status_code == 202, response.content
    job_url = response["Location"]
    assert api.get(job_url).json()["status"] == "queued" and api.get(job_url).json()["file_url"] is None
    run_queued_jobs(["exports"])
    body = api.get(job_url).json()
    assert body["status"] == "done" and body["progress"] == 1.0
    download = api.get(body["file_url"])
    assert download.status_code == 200
    assert "audit-" in download["Content-Disposition"]
    exported = b"".join(download.streaming_content).decode("utf-8-sig")
    inline = api.get(f"/api/v1/audits/{run.pk}/findings.csv").content.decode("utf-8-sig")
    assert exported == inline  # the same ledger as the inline export
    assert len(list(csv.reader(io.StringIO(exported)))) == 2  # header + the one gap
    api.force_authenticate(make_user("supervisor"))
    assert api.get(job_url).status_code == 404 and api.get(body["file_url"]).status_code == 404
    assert api.post(f"/api/v1/audits/{run.pk}/exports/", {"format": "pdf"}, format="json").status_code == 400
