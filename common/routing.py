"""Reads on the replicas, writes on the primary, and every client reading its own writes.

With DATABASE_REPLICA_URL set (the cluster's read port), settings add the database alias "replica",
this router and ReplicaRoutingMiddleware. Without it nothing here is installed: one database, as before.

Which requests read from a replica: a GET, HEAD or OPTIONS request (maps, tiles, OGC API, locate,
lists, details, exports, assessment reads), when none of these holds:
- the client wrote in the last READ_YOUR_WRITES_SECONDS: every request with another method (a report,
  a workflow step, a sign-in) runs wholly on the primary, and marks its client (by session cookie,
  by Authorization header, and by a cookie of its own for browsers before they have a session) so
  that its next reads go to the primary too. Measured on the cluster of `make cluster` (bench/replicas.py,
  synchronous_mode on): 11 % of reads right after a commit missed it, visible after up to 24 ms;
- the replica lags more than MAX_LAG_SECONDS (asked at most every LAG_CHECK_SECONDS per process; a
  replica that does not answer counts as lagging).
Everything outside a request (commands, the queue's workers, migrations) uses the primary. So do the
shared cache's tables (throttle counters, the marks themselves), whose readers need the latest value.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import caches
from django.db import connections

from common.text import is_ascii_number

log = logging.getLogger(__name__)

REPLICA = "replica"
PRIMARY = "default"
MARK_COOKIE = "gridgis_wrote"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

# The database a request's reads go to; None outside requests (then: the primary).
_reads_from: contextvars.ContextVar[str | None] = contextvars.ContextVar("gridgis_reads_from", default=None)
_lag = {"checked_at": 0.0, "seconds": None}


def config() -> dict:
    return settings.GRIDGIS["REPLICA"]


class PrimaryReplicaRouter:
    """Django's database router: see the module docstring."""

    def db_for_read(self, model, **hints):
        if model._meta.app_label == "django_cache":  # DatabaseCache's stand-in model: latest value only
            return PRIMARY
        return _reads_from.get() or PRIMARY

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, replicated: rows from either alias are the same rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY


# On the replica: its replay position, how many bytes it has received and not replayed, and how old
# the last replayed commit is when there are such bytes (0 when it has replayed all it received).
LAG = """
SELECT pg_last_wal_replay_lsn()::text,
       coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0),
       CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END
"""
# Unreplayed WAL below this, with replay moving, is a replica keeping up (not one far behind).
KEEPING_UP_BYTES = 16 * 1024 * 1024


def _measure_lag() -> float:
    """The replica's lag in seconds. The age of the last replayed commit overstates it whenever WAL
    without commits is in flight (a checkpoint, a vacuum on the primary after an idle spell), so a
    lag over the bound is believed only if, asked again 20 ms later, replay has not moved on or is
    more than KEEPING_UP_BYTES behind."""
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(LAG)
        position, _, seconds = cursor.fetchone()
        if float(seconds) <= config()["MAX_LAG_SECONDS"]:
            return float(seconds)
        time.sleep(0.02)
        cursor.execute(LAG)
        again, behind_bytes, seconds_again = cursor.fetchone()
        if again != position and float(behind_bytes) < KEEPING_UP_BYTES:
            return 0.0
        return float(seconds_again)


def replica_lag_seconds() -> float | None:
    """How far behind the replica behind the read port is; None when it cannot be asked. Cached per
    process for LAG_CHECK_SECONDS."""
    now = time.monotonic()
    if now - _lag["checked_at"] < config()["LAG_CHECK_SECONDS"]:
        return _lag["seconds"]
    seconds = None
    try:
        seconds = _measure_lag()
    except Exception as exc:  # the replica is down or the read port has none: read from the primary
        log.warning("replica lag check failed: %s", str(exc).splitlines()[0] if str(exc) else exc)
        connections[REPLICA].close()
    _lag.update(checked_at=now, seconds=seconds)
    return seconds


def _marks(request) -> list[str]:
    """The keys that name this client: its session, its Authorization header (a token), its mark cookie."""
    keys = []
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if session_key:
        keys.append("session:" + hashlib.sha256(session_key.encode()).hexdigest()[:32])
    authorization = request.META.get("HTTP_AUTHORIZATION")
    if authorization:
        keys.append("auth:" + hashlib.sha256(authorization.encode()).hexdigest()[:32])
    return [f"gridgis:wrote:{key}" for key in keys]


def _wrote_recently(request) -> bool:
    until = request.COOKIES.get(MARK_COOKIE, "")
    seconds, _, fraction = until.partition(".")
    if is_ascii_number(seconds) and (not fraction or is_ascii_number(fraction)) and float(until) > time.time():
        return True
    keys = _marks(request)
    return bool(keys) and any(caches[config()["CACHE"]].get_many(keys).values())


def reads_for(request) -> str:
    """Where this request's reads go; see the module docstring."""
    if request.method not in SAFE_METHODS:
        return PRIMARY
    if _wrote_recently(request):
        return PRIMARY
    lag = replica_lag_seconds()
    if lag is None or lag > config()["MAX_LAG_SECONDS"]:
        return PRIMARY
    return REPLICA


class ReplicaRoutingMiddleware:
    """Decide where a request reads (before any view or authentication reads a row) and, after a
    request that may have written, mark its client for READ_YOUR_WRITES_SECONDS."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        target = reads_for(request)
        token = _reads_from.set(target)
        try:
            response = self.get_response(request)
        finally:
            _reads_from.reset(token)
        if request.method not in SAFE_METHODS:
            window = config()["READ_YOUR_WRITES_SECONDS"]
            # The session may have been created by this very request (a sign-in): mark it as well.
            marks = set(_marks(request))
            new_session = response.cookies.get(settings.SESSION_COOKIE_NAME)
            if new_session and new_session.value:
                marks.add("gridgis:wrote:session:" + hashlib.sha256(new_session.value.encode()).hexdigest()[:32])
            if marks:
                caches[config()["CACHE"]].set_many(dict.fromkeys(marks, True), timeout=window)
            response.set_cookie(
                MARK_COOKIE, f"{time.time() + window:.3f}", max_age=int(window) + 1, httponly=True, samesite="Lax"
            )
        if config()["SAY_WHERE"]:
            response["X-Gridgis-Reads-From"] = "replica" if target == REPLICA else "primary"
        return response


def mark_authorization(header_value: str) -> None:
    """Mark a client by the Authorization header it will send (a token just issued to it)."""
    if REPLICA not in settings.DATABASES:
        return
    key = "gridgis:wrote:auth:" + hashlib.sha256(header_value.encode()).hexdigest()[:32]
    caches[config()["CACHE"]].set(key, True, timeout=config()["READ_YOUR_WRITES_SECONDS"])
