"""Online reassignment never stalls the service: short batches, each its own transaction, no index or
key of the live table touched, resumable where it stopped; the index-dropping rewrite only offline,
refused while a server accepts reports; and intake beside a full run on the demo city stays fast."""

from __future__ import annotations

import io
import time

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from procrastinate.contrib.django.utils import connector_params

from bench.incidents import _dispatcher_token
from bench.load import LockWaits, WorkflowSteps, intake_while, server_for
from common import serving
from common.models import JobRun
from layers.incidents import reassign as reassign_module
from layers.incidents.models import Case, ReassignAnswer, Status, TrailEntry
from layers.incidents.reassign import latest_unfinished_run, reassign
from tests.factories_incidents import case_foreign_keys, case_indexes
from tests.test_incidents_reassign import grid_of, world  # noqa: F401 (fixture)

# The bounds while a reassignment runs beside intake (the bench has the city's figures): how long any
# request may wait for a lock, and how long a report may take in all on this shared 2-core machine.
LOCK_WAIT_BOUND_S = 0.5
INTAKE_BOUND_S = 2.0


@pytest.mark.django_db
def test_an_online_run_writes_in_batches_and_never_touches_indexes_or_keys(world, settings):  # noqa: F811
    settings.GRIDGIS = {**settings.GRIDGIS, "REASSIGN_BATCH_CASES": 2, "REASSIGN_REBUILD_FRACTION": 0.01}
    before, keys = case_indexes(), case_foreign_keys()
    Case.objects.update(grid=None, grid_version=None)  # every case lost its grid: a complete redraw
    report = reassign(full=True)
    assert report.strategy == "batches" and report.batches == 2  # 4 answers in batches of 2
    assert report.moved == 4 and TrailEntry.objects.filter(action="reassign").count() == 4
    assert case_indexes() == before and case_foreign_keys() == keys
    assert grid_of(world["cases"]["in_m2"]) == "510502001001001002"
    run = JobRun.objects.get(pk=report.run_id)
    assert run.status == "done" and run.progress == 1.0 and run.result["moved"] == 4
    assert not ReassignAnswer.objects.exists()  # a finished run's answers are forgotten


@pytest.mark.django_db(transaction=True)  # each writer has a connection of its own: committed rows only
def test_two_writers_share_the_answers_each_with_its_own_checkpoint(world, settings):  # noqa: F811
    settings.GRIDGIS = {**settings.GRIDGIS, "REASSIGN_BATCH_CASES": 1, "REASSIGN_WRITERS": 2}
    Case.objects.update(grid=None, grid_version=None)
    report = reassign(full=True)
    assert report.moved == 4 and report.batches == 4
    run = JobRun.objects.get(pk=report.run_id)
    slices = run.state["slices"]
    assert [part["answers"] for part in slices] == [2, 2] and [part["batches"] for part in slices] == [2, 2]
    assert slices[0]["until"] == slices[1]["after"] and slices[1]["through"] == slices[1]["until"]
    assert run.status == "done" and run.progress == 1.0
    assert TrailEntry.objects.filter(action="reassign").count() == 4  # each case moved once
    assert grid_of(world["cases"]["in_m2"]) == "510502001001001002"


@pytest.mark.django_db
def test_an_interrupted_online_run_resumes_from_its_checkpoint(world, settings, monkeypatch):  # noqa: F811
    settings.GRIDGIS = {**settings.GRIDGIS, "REASSIGN_BATCH_CASES": 1}
    Case.objects.update(grid=None, grid_version=None)
    real_batch = reassign_module._write_batch
    written = []

    def interrupted_after_two(*args, **kwargs):
        if len(written) == 2:
            raise KeyboardInterrupt
        written.append(1)
        return real_batch(*args, **kwargs)

    monkeypatch.setattr(reassign_module, "_write_batch", interrupted_after_two)
    with pytest.raises(KeyboardInterrupt):
        reassign(full=True)
    assert Case.objects.exclude(grid=None).count() == 2  # two batches committed, each with its trail
    run = latest_unfinished_run()
    assert run.state["slices"][0]["answers"] == 2 and run.state["answers"] == 4 and 0.5 < run.progress < 1.0

    monkeypatch.setattr(reassign_module, "_write_batch", real_batch)
    out = io.StringIO()
    call_command("reassign", "--resume", stdout=out)
    assert "resuming run" in out.getvalue()
    assert Case.objects.exclude(grid=None).count() == 4
    assert TrailEntry.objects.filter(action="reassign").count() == 4  # nobody moved twice
    run.refresh_from_db()
    assert run.status == "done"
    with pytest.raises(CommandError, match="no interrupted"):
        call_command("reassign", "--resume", stdout=io.StringIO())


@pytest.mark.django_db
def test_offline_mode_is_refused_while_a_server_accepts_reports(world):  # noqa: F811
    stop = serving.announce_serving()
    try:
        deadline = time.monotonic() + 10
        while serving.serving_processes() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert serving.serving_processes() == 1
        Case.objects.update(grid=None, grid_version=None)
        with pytest.raises(CommandError, match="--offline refused: 1 web server process"):
            call_command("reassign", "--full", "--offline", stdout=io.StringIO())
        assert not Case.objects.exclude(grid=None).exists()  # nothing was written
    finally:
        stop.set()
        serving._keeper.join(15)
    assert serving.serving_processes() == 0
    call_command("reassign", "--full", "--offline", stdout=io.StringIO())
    assert Case.objects.exclude(grid=None).count() == 4


@pytest.mark.django_db(transaction=True)  # the server's own connections see committed rows
def test_intake_beside_a_full_reassignment_of_the_demo_city_waits_no_longer_than_the_bound(settings, tmp_path):
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    settings.GRIDGIS = {**settings.GRIDGIS, "REASSIGN_BATCH_CASES": 5}
    Case.objects.update(grid=None, grid_version=None)  # every case must move
    # A dispatcher registers and dispatches cases the run is moving, beside the reports.
    steppable = list(Case.objects.filter(status=Status.REPORTED).order_by("id").values_list("id", "status")[:30])
    steps = WorkflowSteps(_dispatcher_token(), steppable, every_s=0.0)
    with server_for(connection.settings_dict["NAME"], str(tmp_path / "media")) as (port, _pid):
        # The same clients beside nothing first (which also warms the server up): the figure to compare with.
        _, quiet = intake_while(port, lambda: time.sleep(3), clients=2)
        with LockWaits(lambda: psycopg.connect(**connector_params("default"), autocommit=True)) as waits:
            report, busy = intake_while(port, lambda: reassign(full=True), clients=2, steps=steps)
        assert serving.serving_processes() >= 1  # the server announced itself ...
        with pytest.raises(serving.ServiceAccepting):
            reassign(full=True, offline=True)  # ... so the locking rewrite is refused
    assert report.batches >= 80 and report.moved > 400
    assert busy.statuses == {201: len(busy.seconds)} and len(busy.seconds) >= 5
    assert waits.samples >= 10 and waits.longest_s <= LOCK_WAIT_BOUND_S, waits.longest_s
    assert max(busy.seconds) <= INTAKE_BOUND_S, (quiet.as_dict(), busy.as_dict())
    # Every step was answered (a stale one, 409, read again and sent again), and the server holds each
    # one that was taken: registered, then dispatched. How many fit in depends on how long the run
    # takes on the machine (on a quiet one, a second or two): at least one, steps sent back to back.
    stepped = steps.timings.as_dict()
    assert stepped["statuses"].get(200, 0) >= 1 and set(stepped["statuses"]) <= {200, 409}, stepped
    assert max(steps.timings.seconds) <= INTAKE_BOUND_S, stepped
    held = TrailEntry.objects.filter(case_id__in=steps.taken, action__in=("register", "dispatch")).count()
    assert held == stepped["statuses"][200]
    # Every case, old and new, sits where the one rule puts it.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM incidents_case c LEFT JOIN LATERAL grids_smallest_covering(c.location) f ON true "
            "WHERE c.grid_id IS DISTINCT FROM f.id"
        )
        assert cursor.fetchone()[0] == 0
