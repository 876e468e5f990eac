"""The project's own PostGIS cluster, kept under var/pg/ when DATABASE_URL is not set.

Run with the system Python (standard library only), before the virtualenv exists:

    python3 -m gridgis.localdb start     # initdb on first use, start, create the database
    python3 -m gridgis.localdb stop
    python3 -m gridgis.localdb status
    python3 -m gridgis.localdb restart

The cluster listens on a Unix socket only (var/pg/run), never on a TCP port, so several clones of the
project on one machine each have their own cluster without clashing. PostgreSQL refuses to run as
root: when the caller is root, the cluster belongs to the unprivileged `postgres` system user that the
Debian package creates.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path

from common.pgtools import postgres_program

BASE_DIR = Path(__file__).resolve().parent.parent
PG_ROOT = BASE_DIR / "var" / "pg"
DATA_DIR = PG_ROOT / "data"
SOCKET_DIR = PG_ROOT / "run"
LOG_FILE = PG_ROOT / "server.log"
# GRIDGIS_DB_NAME picks another database in the same cluster (the benchmarks use gridgis_bench).
DB_NAME = os.environ.get("GRIDGIS_DB_NAME", "gridgis")
DB_USER = "gridgis"
SERVICE_USER = "postgres"

# A development and test cluster: sized for city-scale benchmarks on a 2-core, 24 GiB machine.
# fsync is off because the cluster is disposable; a graceful or fast restart still loses nothing.
SERVER_SETTINGS = f"""
# --- gridgis local cluster ---
listen_addresses = ''
unix_socket_directories = '{SOCKET_DIR}'
shared_buffers = 1GB
work_mem = 64MB
maintenance_work_mem = 1GB
effective_cache_size = 8GB
max_wal_size = 8GB
checkpoint_timeout = 30min
fsync = off
full_page_writes = off
jit = off
random_page_cost = 1.1
max_connections = 200
log_min_duration_statement = -1
"""


def _bin(name: str) -> str:
    found = postgres_program(name)
    if not found:
        sys.exit(f"localdb: {name} not found; run scripts/setup.sh to install PostgreSQL")
    return found


def _as_service_user() -> list[str]:
    """Prefix for running PostgreSQL's programs: as `postgres` when we are root, else as ourselves."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", SERVICE_USER, "--"]


def _run(args: list[str], check: bool = True, capture: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(
        _as_service_user() + args,
        check=check,
        text=True,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.PIPE if capture else None,
    )


def _prepare_dirs() -> None:
    for path in (PG_ROOT, SOCKET_DIR):
        path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        owner = pwd.getpwnam(SERVICE_USER)
        for path in (PG_ROOT, SOCKET_DIR):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        # The service user must be able to reach var/pg through the checkout's parent folders.
        for parent in [PG_ROOT.parent, *PG_ROOT.parent.parents]:
            if not os.stat(parent).st_mode & 0o001:
                sys.exit(
                    f"localdb: {parent} is not searchable by the '{SERVICE_USER}' user; "
                    "run `chmod o+x` on it or set DATABASE_URL to another PostGIS"
                )


def initdb() -> None:
    if (DATA_DIR / "PG_VERSION").exists():
        return
    _prepare_dirs()
    print(f"localdb: creating a PostgreSQL cluster in {DATA_DIR}", flush=True)
    _run(
        [
            _bin("initdb"),
            "-D",
            str(DATA_DIR),
            "-U",
            DB_USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ],
        capture=True,
    )
    with open(DATA_DIR / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write(SERVER_SETTINGS)


def is_running() -> bool:
    if not (DATA_DIR / "PG_VERSION").exists():
        return False
    return _run([_bin("pg_ctl"), "-D", str(DATA_DIR), "status"], check=False, capture=True).returncode == 0


def start() -> None:
    initdb()
    if not is_running():
        _prepare_dirs()
        _run([_bin("pg_ctl"), "-D", str(DATA_DIR), "-l", str(LOG_FILE), "-w", "-t", "60", "start"], capture=True)
        print(f"localdb: PostgreSQL running on socket {SOCKET_DIR}", flush=True)
    ensure_database(DB_NAME)


def stop() -> None:
    if is_running():
        _run([_bin("pg_ctl"), "-D", str(DATA_DIR), "-m", "fast", "-w", "stop"], capture=True)
        print("localdb: stopped", flush=True)
    else:
        print("localdb: not running", flush=True)


def psql(sql: str, database: str = "postgres") -> str:
    result = _run(
        [_bin("psql"), "-h", str(SOCKET_DIR), "-U", DB_USER, "-d", database, "-v", "ON_ERROR_STOP=1", "-tAc", sql],
        capture=True,
    )
    return result.stdout.strip()


def ensure_database(name: str) -> None:
    probe = _run(
        [_bin("psql"), "-h", str(SOCKET_DIR), "-U", DB_USER, "-d", name, "-tAc", "SELECT 1"], check=False, capture=True
    )
    if probe.returncode != 0:
        _run([_bin("createdb"), "-h", str(SOCKET_DIR), "-U", DB_USER, name], capture=True)
    psql("CREATE EXTENSION IF NOT EXISTS postgis", database=name)


def main(argv: list[str]) -> None:
    if os.environ.get("DATABASE_URL"):
        print("localdb: DATABASE_URL is set; the local cluster is not used", flush=True)
        return
    command = argv[1] if len(argv) > 1 else "start"
    if command == "start":
        start()
    elif command == "stop":
        stop()
    elif command == "restart":
        stop()
        start()
    elif command == "status":
        print("running" if is_running() else "stopped")
    else:
        sys.exit(f"localdb: unknown command {command!r}; use start, stop, restart or status")


if __name__ == "__main__":
    main(sys.argv)
