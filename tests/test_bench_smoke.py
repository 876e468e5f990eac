"""`make bench` keeps working: a smoke run of every suite on the demo city (a minute), in a database
of its own so that neither the tests' nor the city-scale benchmark database is touched."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.slow

EXPECTED_ROWS = {
    "locate via HTTP (chain + duties, JSON)",
    "case intake POST via HTTP (no photos)",
    "reassign all cases, every case rewritten (set-based, grid-driven)",
    "per-case ORM loop (sample, extrapolated to all cases)",
    "reassign after redrawing 10 micro-grids (affected cases only)",
    "intake during reassignment (50% of cases move, online batches)",
    "workflow steps during reassignment (50% of cases move, online batches)",
    "intake during reassignment (50% of cases move, online batches, reports every 0.2 s a client)",
    "workflow steps during reassignment (50% of cases move, online batches, reports every 0.2 s a client)",
    "audit gap + overlap (run, chunks, findings written)",
    "assessment by grid, 2026Q4",
    "grids bbox GeoJSON via API (719 unit grids)",
    "plan: locate (one statement)",
    "field app shell, first load: KB transferred (compressed; value in the ms column)",
    "field outbox sync, N reports x 3 photos, loopback",
    "office: dispatcher queue usable in Chromium",
    "office: filter change to overdue",
    "office: leader dashboard of district",
    "due times set-based, working hours",
    "escalation with working-time deadlines, steady state (every case, rolled back)",
    "working-time limits applied to every open case (one statement)",
}


def test_every_benchmark_runs_on_the_demo_city_and_records_its_figures(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env["GRIDGIS_DB_NAME"] = "gridgis_bench_smoke"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--scale",
            "demo",
            "--cases",
            "3000",
            "--requests",
            "30",
            "--results-dir",
            str(tmp_path),
        ],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    record = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert record["cores"] == os.cpu_count() and record["scale"] == "demo"
    assert record["data"]["grids_by_level"]["5"] == 2157  # the demo city's micro-grids
    rows = {row["what"]: row for row in record["results"]}
    missing = {what for what in EXPECTED_ROWS if not any(row.startswith(what.split(",")[0]) for row in rows)}
    assert not missing, missing
    # Every row with a baseline carries its ratio, computed in the same run.
    for row in rows.values():
        assert row["median_ms"] >= 0
        if row["baseline_median_ms"]:
            assert row["ratio"] == row["median_ms"] / row["baseline_median_ms"]
    assert "what" in run.stdout and "ratio" in run.stdout  # the printed table
    # The rows beside a reassignment say how the machine's cores were spent in each round.
    beside = [row for what, row in rows.items() if "during reassignment" in what]
    assert len(beside) == 4
    for row in beside:
        for round_ in ("cores_quiet", "cores_during"):
            assert sum(row["extra"][round_].values()) == pytest.approx(os.cpu_count(), abs=0.05)
