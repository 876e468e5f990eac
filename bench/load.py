"""Load and fault runs against a live gunicorn on loopback: idempotent intake under concurrency.

`run_load` sends `submissions` case reports from `clients` threads. Every report carries its own
Idempotency-Key and is sent twice (the second send is the client's retry, often racing the first on
another thread); a send that meets a connection error or a 5xx is retried with the same key, with
backoff, until it gets an answer or the run's deadline passes. With `restart_db_after`, the local
PostgreSQL is restarted (`python -m gridgis.localdb restart`) once that many reports were accepted.

`verify` then checks against the database: exactly one case per key, every key answered, every 201
answer's id a stored case with that key, every retry answered with the same id. A retry's answer is
the first answer again (201) with `Idempotent-Replayed: true` (common/idempotency.py). The figures come back
as a dict (bench/run.py style); `python -m bench.load` prints them. Bounded in count and time: the run
stops by itself at `deadline_s`, whatever happens.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import random
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench.sampling import Sampler

BASE_DIR = Path(__file__).resolve().parent.parent
INTAKE = "/api/v1/incidents/"


@dataclass
class LoadFigures:
    """What a run did and saw; `lost` and `mismatched` must be 0."""

    submissions: int = 0
    requests: int = 0
    created_201: int = 0
    replayed: int = 0
    status_5xx: int = 0
    connection_errors: int = 0
    other_status: Counter = field(default_factory=Counter)
    unanswered: int = 0
    duration_s: float = 0.0
    db_restart_s: float | None = None
    db_restarted_after_accepted: int | None = None
    recovered_after_s: float | None = None
    prefix: str = ""
    answers: dict = field(default_factory=lambda: defaultdict(list), repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def as_dict(self) -> dict:
        return {
            k: (dict(v) if isinstance(v, Counter) else v)
            for k, v in self.__dict__.items()
            if k not in ("answers", "lock")
        }


class _Client:
    """One keep-alive HTTP/1.1 connection to the server, reopened after an error."""

    def __init__(self, port: int):
        self.port = port
        self.connection: http.client.HTTPConnection | None = None

    def post(self, body: bytes, key: str, path: str = INTAKE, token: str | None = None) -> tuple[int, dict, bool]:
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        response, data = self._send("POST", path, body, headers, token)
        return response.status, _json_object(data), response.getheader("Idempotent-Replayed") == "true"

    def get(self, path: str, token: str | None = None) -> tuple[int, dict]:
        response, data = self._send("GET", path, None, {}, token)
        return response.status, _json_object(data)

    def _send(self, method: str, path: str, body: bytes | None, headers: dict, token: str | None):
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        if token:
            headers = {**headers, "Authorization": f"Token {token}"}
        try:
            self.connection.request(method, path, body, headers)
            response = self.connection.getresponse()
            return response, response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = None
            raise


def _json_object(data: bytes) -> dict:
    """An answer's JSON object ({} for an empty, malformed or non-object body)."""
    try:
        parsed = json.loads(data) if data else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _restart_database(figures: LoadFigures) -> None:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "gridgis.localdb", "restart"], cwd=BASE_DIR, check=True, capture_output=True)
    figures.db_restart_s = round(time.monotonic() - started, 2)


def run_load(
    port: int,
    *,
    submissions: int,
    clients: int = 16,
    category: str = "0101",
    bbox: tuple[float, float, float, float] = (105.40, 28.85, 105.50, 28.95),
    prefix: str | None = None,
    restart_db_after: int | None = None,
    deadline_s: float = 600.0,
    seed: int = 11,
    fault=None,
) -> LoadFigures:
    """Send `submissions` reports, each twice with one Idempotency-Key, from `clients` threads.

    After `restart_db_after` accepted reports, `fault(figures)` runs in a thread of its own (by
    default: restart the local PostgreSQL); bench/failover.py kills cluster nodes instead."""
    rng = random.Random(seed)
    prefix = prefix or f"load-{int(time.time() * 1000)}-"
    figures = LoadFigures(submissions=submissions)
    work: queue.Queue = queue.Queue()
    for number in range(submissions):
        body = json.dumps(
            {
                "category": category,
                "description": f"load {number}",
                "lon": round(rng.uniform(bbox[0], bbox[2]), 6),
                "lat": round(rng.uniform(bbox[1], bbox[3]), 6),
            }
        ).encode()
        key = f"{prefix}{number}"
        work.put((key, body))
        work.put((key, body))  # the retry: queued next, so another thread often sends it at the same time
    deadline = time.monotonic() + deadline_s
    accepted = [0]
    restart_started = threading.Event()
    down_since: list[float] = []

    def worker():
        client = _Client(port)
        while time.monotonic() < deadline:
            try:
                key, body = work.get_nowait()
            except queue.Empty:
                return
            delay = 0.05
            while True:
                if time.monotonic() >= deadline:
                    with figures.lock:
                        figures.unanswered += 1
                    break
                with figures.lock:
                    figures.requests += 1
                try:
                    status, answer, replayed = client.post(body, key)
                except (OSError, http.client.HTTPException):
                    status, answer = None, None  # no answer at all
                if status is None or status >= 500:
                    with figures.lock:
                        if status is None:
                            figures.connection_errors += 1
                        else:
                            figures.status_5xx += 1
                        if restart_started.is_set() and not down_since:
                            down_since.append(time.monotonic())
                    # A client retries the same key after a back-off, as a real one would.
                    time.sleep(delay)
                    delay = min(delay * 2, 1.0)
                    continue
                with figures.lock:
                    if status in (200, 201):
                        figures.answers[key].append((status, answer.get("id"), replayed))
                        if replayed:
                            figures.replayed += 1
                        elif status == 201:
                            figures.created_201 += 1
                            accepted[0] += 1
                        if down_since and figures.recovered_after_s is None:
                            figures.recovered_after_s = round(time.monotonic() - down_since[0], 2)
                    else:
                        figures.other_status[status] += 1
                        figures.answers[key].append((status, None, False))
                    trigger = (
                        restart_db_after is not None
                        and not restart_started.is_set()
                        and accepted[0] >= restart_db_after
                    )
                    if trigger:
                        restart_started.set()
                        figures.db_restarted_after_accepted = accepted[0]
                if trigger:
                    threading.Thread(target=fault or _restart_database, args=(figures,), daemon=True).start()
                break

    started = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()) + 35)
    figures.duration_s = round(time.monotonic() - started, 2)
    figures.unanswered += work.qsize()
    figures.prefix = prefix
    return figures


def verify(figures: LoadFigures) -> dict:
    """Compare the answers with the database (Django must be set up on the server's database)."""
    from layers.incidents.models import Case

    stored_rows = Case.objects.filter(idempotency_key__startswith=figures.prefix).values_list("idempotency_key", "id")
    cases_per_key = Counter(key for key, _ in stored_rows)
    stored = dict(stored_rows)
    keys = {f"{figures.prefix}{n}" for n in range(figures.submissions)}
    lost = sorted(
        key
        for key, answers in figures.answers.items()
        if any(status == 201 for status, _, _ in answers) and key not in stored
    )
    mismatched = sorted(
        key
        for key, answers in figures.answers.items()
        if any(status in (200, 201) and case_id != stored.get(key) for status, case_id, _ in answers)
    )
    created_per_key = Counter(
        key
        for key, answers in figures.answers.items()
        for status, _, replayed in answers
        if status == 201 and not replayed
    )
    return {
        "keys": len(keys),
        "cases_stored": len(stored),
        "keys_without_a_case": len(keys - set(stored)),
        "extra_cases": len(set(stored) - keys),
        "lost": len(lost),  # a 201 answered but no case stored
        "mismatched": len(mismatched),  # an answer naming another case than the key's
        "keys_with_two_201": sum(1 for n in created_per_key.values() if n > 1),  # two answers not replays
        "keys_with_two_cases": sum(1 for n in cases_per_key.values() if n > 1),
    }


def server_for(database: str, media_root: str, workers: int = 2, threads: int = 4, env: dict | None = None):
    """bench.common.live_server on `database`, throttling off, photos in `media_root`, `env` added (the
    cluster's URLs for the failover drill); yields (port, pid)."""
    from bench.common import live_server

    env = {**(env or {}), "GRIDGIS_DB_NAME": database, "GRIDGIS_THROTTLE": "off", "GRIDGIS_MEDIA_ROOT": media_root}
    for variable in ("DATABASE_URL", "DATABASE_REPLICA_URL"):
        value = env.get(variable) or os.environ.get(variable)
        if value:
            url = urllib.parse.urlsplit(value)
            env[variable] = urllib.parse.urlunsplit(url._replace(path=f"/{database}"))
    return live_server(workers=workers, threads=threads, env=env, log_name="load-gunicorn")


def prepare_database() -> None:
    """Migrate gridgis_load and give it the small test tree and a category, once."""
    from django.core.management import call_command

    from layers.grids.models import Grid
    from layers.incidents.models import Category

    call_command("migrate", verbosity=0)
    if not Grid.objects.exists():
        from tests.factories import small_tree

        small_tree()
    if not Category.objects.filter(code="0101").exists():
        major = Category.objects.create(code="01", name_zh="市容环境", name_en="city appearance")
        Category.objects.create(code="0101", parent=major, name_zh="暴露垃圾", name_en="exposed rubbish")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--restart-db", action="store_true", help="restart PostgreSQL mid-run (the fault run)")
    parser.add_argument("--deadline", type=float, default=900, help="stop after this many seconds regardless")
    args = parser.parse_args(argv)
    os.environ.setdefault("GRIDGIS_DB_NAME", "gridgis_load")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgis.settings")
    from gridgis import localdb

    if not os.environ.get("DATABASE_URL"):
        localdb.start()
    elif args.restart_db:
        sys.exit("bench.load: --restart-db restarts the local cluster; unset DATABASE_URL")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    prepare_database()
    database = connection.settings_dict["NAME"]
    media = str(Path(settings.BASE_DIR) / "var" / "load-media")
    with server_for(database, media) as (port, _pid):
        figures = run_load(
            port,
            submissions=args.submissions,
            clients=args.clients,
            deadline_s=args.deadline,
            restart_db_after=args.submissions // 3 if args.restart_db else None,
        )
    connection.close()  # the restart may have cut it
    checks = verify(figures)
    report = {**figures.as_dict(), **checks}
    print(json.dumps(report, indent=2, default=str))
    ok = (
        checks["lost"] == 0
        and checks["mismatched"] == 0
        and checks["keys_without_a_case"] == 0
        and checks["keys_with_two_201"] == 0
        and checks["keys_with_two_cases"] == 0
        and figures.unanswered == 0
    )
    if not args.restart_db and figures.status_5xx:
        ok = False  # without a fault, a 5xx is a bug
    print("bench.load:", "OK" if ok else "FAILED", flush=True)
    return 0 if ok else 1


@dataclass
class RequestTimings:
    """Requests sent while something else ran (reports, workflow steps): each one's seconds and answer."""

    seconds: list[float] = field(default_factory=list)
    started: list[float] = field(default_factory=list)  # time.monotonic() at each request's start
    statuses: Counter = field(default_factory=Counter)

    def percentile(self, share: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0

    def as_dict(self) -> dict:
        return {
            "requests": len(self.seconds),
            "p50_ms": round(1000 * self.percentile(0.50), 1),
            "p99_ms": round(1000 * self.percentile(0.99), 1),
            "max_ms": round(1000 * max(self.seconds, default=0.0), 1),
            "statuses": dict(self.statuses),
        }


@dataclass
class WorkflowSteps:
    """What a dispatcher's console does beside the reports: `cases` ((id, status) of cases reported or
    registered) taken in turn through register and dispatch, one step every `every_s` seconds, as the
    user whose API token is `token`. Before each step the case is read (its version, as the console
    shows it); only the step itself is timed, in `timings`. A step refused as stale (409) is read and
    sent again; any other refusal leaves the case there.

    `retry_errors` (the failover drill): a read or step that gets no answer or a 5xx is sent again
    with the same Idempotency-Key after a back-off, until answered, as the phone app and the console
    do; `answered` then holds each step's final answer by (case id, action)."""

    token: str
    cases: list[tuple[int, str]]
    every_s: float = 0.1
    retry_errors: bool = False
    timings: RequestTimings = field(default_factory=RequestTimings)
    taken: list[int] = field(default_factory=list)  # the ids stepped, for the caller to put back
    answered: dict = field(default_factory=dict)  # (case id, action) -> the step's final answer
    errors: int = 0  # sends that got no answer or a 5xx (each sent again when retry_errors)
    refusals: Counter = field(default_factory=Counter)  # (status, the answer's detail) of refused steps

    NEXT = {"reported": ("register", "dispatch"), "registered": ("dispatch",)}

    def run(self, port: int, stop: threading.Event, deadline: float, prefix: str) -> None:
        client = _Client(port)
        for case_id, status in self.cases:
            self.taken.append(case_id)
            for action in self.NEXT[status]:
                for attempt in range(3):
                    if stop.is_set() or time.monotonic() >= deadline:
                        return
                    answer = self._step(client, case_id, action, f"{prefix}{case_id}-{action}-{attempt}", deadline)
                    if answer != 409:
                        break
                self.answered[(case_id, action)] = answer
                if answer != 200:
                    break

    def _send(self, send, deadline: float):
        """`send()` once, or (retry_errors) until it is answered below 500 or `deadline` passes."""
        delay = 0.05
        while True:
            try:
                answer = send()
            except (OSError, http.client.HTTPException):
                answer = None
            if answer is not None and answer[0] < 500:
                return answer
            self.errors += 1
            if not self.retry_errors or time.monotonic() >= deadline:
                return answer or (0, {})
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def _step(self, client: _Client, case_id: int, action: str, key: str, deadline: float) -> int:
        """Read the case, then take `action` at the version read; the step's answer (0: no answer)."""
        read_status, case = self._send(lambda: client.get(f"{INTAKE}{case_id}/", token=self.token), deadline)
        if read_status != 200:
            return read_status
        body = json.dumps({"version": case.get("properties", case)["version"]}).encode()
        began, started = time.monotonic(), time.perf_counter()
        status, answer = self._send(
            lambda: client.post(body, key, path=f"{INTAKE}{case_id}/{action}/", token=self.token)[:2], deadline
        )
        if status != 200:
            self.refusals[(status, str(answer.get("detail", ""))[:120])] += 1
        self.timings.started.append(began)
        self.timings.seconds.append(time.perf_counter() - started)
        self.timings.statuses[status] += 1
        time.sleep(max(0.0, self.every_s - (time.perf_counter() - started)))
        return status


def intake_while(
    port: int,
    busy,
    *,
    clients: int = 2,
    category: str = "0101",
    bbox: tuple[float, float, float, float] = (105.40, 28.85, 105.50, 28.95),
    seed: int = 5,
    at_most_s: float = 600.0,
    steps: WorkflowSteps | None = None,
    every_s: float | None = None,
):
    """Post reports from `clients` threads for as long as `busy()` runs in this thread, and take
    `steps` in one more thread if given; returns (busy's result, RequestTimings of the reports; the
    steps' are in steps.timings). Each request has its own Idempotency-Key; nothing is retried, so a
    slow answer shows as it is. Each client posts as soon as its last report is answered, or with
    `every_s`, one report every that many seconds (a steady rate, so that a slow answer is the
    server's doing and not the clients' own queue)."""
    rng = random.Random(seed)
    prefix = f"intake-{int(time.time() * 1000)}-"
    timings = RequestTimings()
    lock = threading.Lock()
    stop = threading.Event()
    deadline = time.monotonic() + at_most_s
    counter = iter(range(10**9))

    def poster():
        client = _Client(port)
        while not stop.is_set() and time.monotonic() < deadline:
            with lock:
                number = next(counter)
                lon, lat = rng.uniform(bbox[0], bbox[2]), rng.uniform(bbox[1], bbox[3])
            body = json.dumps(
                {"category": category, "source": "citizen", "description": f"intake {number}", "lon": lon, "lat": lat}
            ).encode()
            began, started = time.monotonic(), time.perf_counter()
            try:
                status, _body, _replayed = client.post(body, f"{prefix}{number}")
            except (OSError, http.client.HTTPException):
                status = 0
            with lock:
                timings.started.append(began)
                timings.seconds.append(time.perf_counter() - started)
                timings.statuses[status] += 1
            if every_s:
                stop.wait(max(0.0, every_s - (time.perf_counter() - started)))

    threads = [threading.Thread(target=poster, daemon=True) for _ in range(clients)]
    if steps is not None:
        threads.append(threading.Thread(target=steps.run, args=(port, stop, deadline, f"{prefix}step-"), daemon=True))
    for thread in threads:
        thread.start()
    try:
        result = busy()
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    return result, timings


class LockWaits(Sampler):
    """The longest any other backend of the database was seen waiting on a lock, sampled every 10 ms
    on a connection of its own while the block runs (a request that waits for a lock a maintenance job
    holds shows here; one that is merely slow on a busy machine does not). A wait is timed from the
    first sample that saw that backend waiting in that query to the last, so that a long query's
    moment of waiting (e.g. two writers extending one table) is not counted as its whole length.
    `longest_what` says which: the backend's application_name, wait event and query's first words."""

    SAMPLE = (
        "SELECT pid, query_start, application_name, wait_event, left(query, 60) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
    )

    def __init__(self, connect):
        super().__init__()
        self.connect = connect
        self.longest_s = 0.0
        self.longest_what = ""
        self.samples = 0

    def _run(self):
        connection = self.connect()
        waiting: dict = {}  # (pid, query_start) -> when first seen waiting
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                with connection.cursor() as cursor:
                    cursor.execute(self.SAMPLE)
                    rows = cursor.fetchall()
                seen = {}
                for pid, query_start, application, event, query in rows:
                    since = waiting.get((pid, query_start), now)
                    seen[(pid, query_start)] = since
                    if now - since > self.longest_s:
                        self.longest_s = now - since
                        self.longest_what = f"{application or '?'}: {event} in {' '.join(query.split())}"
                waiting = seen
                self.samples += 1
                self._stop.wait(0.01)
        finally:
            connection.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
