"""Is a web server accepting reports on this database? An advisory lock answers.

Every web process (gridgis/wsgi.py, so gunicorn's workers and nothing else) keeps one dedicated
connection that holds a *shared* session-level advisory lock on SERVING_LOCK for as long as the
process lives; a keeper thread takes it again after the database restarts or fails over. Work that
must not run beside the service (an offline reassignment, which locks the case table for minutes)
takes the same lock *exclusively* with pg_try_advisory_lock: it gets it only when no server holds it,
and holds it while it runs, so a server started meanwhile waits for it before it counts as serving.

What this detects, honestly: gridgis web processes connected to the same PostgreSQL (the primary,
through HAProxy in a cluster). Not a server that cannot reach the database (it accepts nothing
anyway), nor one behind a transaction-pooling proxy that does not keep session locks (pgbouncer in
transaction mode): deployments like that stop the servers before running offline work. A server's
lock may be missing for up to KEEPER_SECONDS after a database restart.
"""

from __future__ import annotations

import contextlib
import logging
import threading

from django.db import connection, connections

log = logging.getLogger(__name__)

# pg_advisory_lock's bigint key: "gridgis serving" as an arbitrary project-wide constant.
SERVING_LOCK = 0x67726964_73657276
KEEPER_SECONDS = 5.0

_keeper: threading.Thread | None = None
_stop = threading.Event()


class ServiceAccepting(Exception):
    """Refused: a web server is accepting reports, and the work asked for would block it."""

    def __init__(self, servers: int):
        self.servers = servers
        super().__init__(
            f"{servers} web server process(es) are accepting reports on this database; stop them "
            "(make demo / gunicorn) before running offline work, or run it online"
        )


def _hold_forever(stop: threading.Event) -> None:
    """The keeper: one private connection holding the shared lock, taken again whenever it is lost."""
    holder = None
    while not stop.is_set():
        try:
            if holder is None:
                holder = connections.create_connection("default")
                with holder.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_lock_shared(%s)", [SERVING_LOCK])
            else:
                with holder.cursor() as cursor:
                    cursor.execute("SELECT 1")  # still connected, so still holding it
        except Exception as exc:  # the database is down or failing over: try again shortly
            log.warning(
                "serving lock: %s; taking it again in %.0f s",
                str(exc).splitlines()[0] if str(exc) else exc,
                KEEPER_SECONDS,
            )
            if holder is not None:
                with contextlib.suppress(Exception):
                    holder.close()
            holder = None
        stop.wait(KEEPER_SECONDS)
    if holder is not None:  # stopped (tests): let go of the lock now, not when the backend exits
        with contextlib.suppress(Exception), holder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_shared(%s)", [SERVING_LOCK])
        with contextlib.suppress(Exception):
            holder.close()


def announce_serving() -> threading.Event:
    """Start holding the serving lock in this process (idempotent); returns the event that stops it."""
    global _keeper, _stop
    if _keeper is None or not _keeper.is_alive():
        _stop = threading.Event()
        _keeper = threading.Thread(target=_hold_forever, args=(_stop,), name="gridgis-serving-lock", daemon=True)
        _keeper.start()
    return _stop


def serving_processes() -> int:
    """How many processes hold the shared serving lock now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND mode = 'ShareLock' AND granted "
            "AND ((classid::bigint << 32) | objid::bigint) = %s",
            [SERVING_LOCK],
        )
        return cursor.fetchone()[0]


@contextlib.contextmanager
def offline():
    """Run the block only while no web server accepts reports, holding them off while it runs."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [SERVING_LOCK])
        if not cursor.fetchone()[0]:
            raise ServiceAccepting(max(serving_processes(), 1))
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [SERVING_LOCK])
