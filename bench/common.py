"""Shared pieces of the benchmarks: timing, percentiles, a live server, sample points."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)


@dataclass
class Result:
    """One line of the benchmark table: a measurement and the baseline measured in the same run."""

    what: str
    median_ms: float
    p99_ms: float | None = None
    baseline: str = ""
    baseline_median_ms: float | None = None
    target: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.baseline_median_ms:
            return self.median_ms / self.baseline_median_ms
        return None

    def as_dict(self) -> dict:
        return {**asdict(self), "ratio": self.ratio}


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def summarise(samples_s: list[float]) -> tuple[float, float]:
    """(median, p99) in milliseconds from samples in seconds."""
    ms = [s * 1000 for s in samples_s]
    return statistics.median(ms), percentile(ms, 99)


def timed(fn, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


# Micro-grids in a seeded shuffle, enough points in each to reach `count`, cut at `count`.
SAMPLE_POINTS_SQL = """
WITH shuffled AS (
    SELECT boundary, row_number() OVER (ORDER BY md5(code || %(seed)s::text)) AS n,
           count(*) OVER () AS total
    FROM grids_grid WHERE level = 5 AND is_active
)
SELECT ST_X(d.geom), ST_Y(d.geom)
FROM shuffled s,
     LATERAL ST_Dump(ST_GeneratePoints(s.boundary, ceil(%(count)s::float / s.total)::int, %(seed)s + s.n::int)) d
ORDER BY s.n, d.path[1]
LIMIT %(count)s
"""


def sample_points(count: int, seed: int = 7) -> list[tuple[float, float]]:
    """`count` points spread over the active micro-grids (deterministic), as (lon, lat) in EPSG:4326."""
    with connection.cursor() as cursor:
        cursor.execute(SAMPLE_POINTS_SQL, {"count": count, "seed": seed})
        return cursor.fetchall()


@contextlib.contextmanager
def live_server(workers: int = 2, threads: int = 4, env: dict | None = None, log_name: str = "gunicorn"):
    """gunicorn serving the project on a loopback port, as `make demo` runs it; yields (port, pid).

    The listening socket is opened here and handed to gunicorn (`--bind fd://N`), so it takes
    connections from the first moment: a request sent while the workers boot waits in the backlog
    instead of being refused, and nothing polls for the port to open. `env` is added to this
    process's environment. stderr goes to var/<log_name>.log, not a pipe: while the database is down
    every request logs a traceback, and an unread pipe would fill and stall the workers.
    """
    log_path = BASE_DIR / "var" / f"{log_name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with socket.create_server(("127.0.0.1", 0), backlog=256) as listener, open(log_path, "ab") as log:
        port = listener.getsockname()[1]
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "gridgis.wsgi:application",
                "--bind",
                f"fd://{listener.fileno()}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--log-level",
                "warning",
                "--graceful-timeout",
                "10",
            ],
            cwd=BASE_DIR,
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=log,
            pass_fds=(listener.fileno(),),
        )
    # Only gunicorn holds the socket now: should it die, connections are refused, not left waiting.
    try:
        yield port, process.pid
    finally:
        exited_by_itself = process.poll() is not None
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if exited_by_itself:
            raise RuntimeError(f"gunicorn exited with code {process.returncode}; see {log_path}")


def resident_mb(pid: int) -> float:
    """Resident memory of a process and its children (gunicorn master + workers), in MB."""
    total = 0
    pids = [pid] + [
        int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    ]
    per_process = {}
    for one in pids:
        with contextlib.suppress(FileNotFoundError):
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    per_process[one] = int(line.split()[1]) / 1024
                    total += per_process[one]
    return max(per_process.values(), default=0.0), total


class HttpClient:
    """A keep-alive HTTP/1.1 client on loopback: what a mobile app's connection pool does."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def get(self, path: str) -> tuple[int, bytes]:
        self.connection.request("GET", path)
        response = self.connection.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.connection.close()
