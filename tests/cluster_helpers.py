"""The live cluster for the tests marked slow: started once per session (gridgis/cluster.py) unless it
runs already, with a database of its own migrated and given the small test tree; stopped at the end
when the session started it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gridgis import cluster

ROOT = Path(__file__).resolve().parent.parent
CLUSTER_DB = "gridgis_cluster_test"


def cluster_env() -> dict[str, str]:
    """The environment of a process that uses the cluster's test database (both URLs)."""
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "DATABASE_REPLICA_URL")}
    return {**env, **cluster.app_env(CLUSTER_DB), "GRIDGIS_DB_NAME": CLUSTER_DB, "GRIDGIS_THROTTLE": "off"}


def django_in(env: dict[str, str], code: str) -> str:
    """Run `code` (with django set up, json imported) in a process on the cluster's database."""
    prelude = (
        "import json, os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'gridgis.settings'); django.setup()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", prelude + code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return result.stdout


def start_cluster() -> tuple[dict[str, str], bool]:
    """(the env, whether we started it)."""
    was_running = bool(cluster.leader())
    subprocess.run([sys.executable, "-m", "gridgis.cluster", "start"], cwd=ROOT, check=True, timeout=600)
    cluster.ensure_database(CLUSTER_DB)
    env = cluster_env()
    django_in(env, "from bench.load import prepare_database; prepare_database()")
    return env, not was_running


def stop_cluster() -> None:
    subprocess.run([sys.executable, "-m", "gridgis.cluster", "stop"], cwd=ROOT, check=True, timeout=600)
