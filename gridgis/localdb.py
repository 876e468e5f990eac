"""The project's own PostGIS cluster, kept under var/pg/ when DATABASE_URL is not set.

Run with the system Python (standard library only), before the virtualenv exists:

    python3 -m gridgis.localdb start     # initdb on first use, start, create the database
    python3 -m gridgis.localdb stop
    python3 -m gridgis.localdb status
    python3 -m gridgis.localdb restart

    python3 -m gridgis.localdb where       # the folder that holds the cluster
    python3 -m gridgis.localdb destroy     # stop it and delete its folder (all its data)

The cluster listens on a Unix socket only (<cluster folder>/run), never on a TCP port, so several
clones of the project on one machine each have their own cluster without clashing. PostgreSQL refuses
to run as root: when the caller is root, the cluster belongs to the unprivileged `postgres` system user
that the Debian package creates, and that user must reach the cluster's folder. The folder is var/pg/
in the checkout when it can; a checkout the `postgres` user cannot reach (a clone in a private home
folder, or in `mktemp -d`) keeps its cluster in /var/lib/gridgis/<checkout folder name>-<hash of the
checkout's path> instead (see cluster_root()).
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

from common.pgtools import postgres_program

BASE_DIR = Path(__file__).resolve().parent.parent
SERVICE_USER = "postgres"
# Where clusters of checkouts that SERVICE_USER cannot reach live, one folder per checkout.
SYSTEM_ROOT = Path("/var/lib/gridgis")


def searchable_by(path: Path, uid: int, gids: set[int], stat=os.stat) -> bool:
    """Whether the user `uid` (in groups `gids`) may pass through `path` and every folder above it."""
    for folder in [path, *path.parents]:
        mode = stat(folder)
        if mode.st_uid == uid:
            allowed = mode.st_mode & 0o100
        elif mode.st_gid in gids:
            allowed = mode.st_mode & 0o010
        else:
            allowed = mode.st_mode & 0o001
        if not allowed:
            return False
    return True


def checkout_folder_name(checkout: Path) -> str:
    """The checkout's own folder under SYSTEM_ROOT: readable, and unique to the checkout's path."""
    return f"{checkout.name}-{hashlib.sha256(str(checkout).encode()).hexdigest()[:12]}"


def cluster_root(
    checkout: Path, service_account: tuple[int, set[int]] | None, folder: str = "pg", made: str = "data/PG_VERSION"
) -> Path:
    """The folder that holds the checkout's cluster (data/, run/, server.log).

    `service_account` is (uid, gids) of the user the cluster runs as when that is not the caller (the
    caller is root), else None. The cluster stays in the checkout's var/`folder` unless that user
    cannot reach the checkout; then, and whenever a cluster was already made there (its `made` file
    exists), it is kept in the checkout's folder under SYSTEM_ROOT. gridgis.cluster keeps its three
    nodes the same way (folder "cluster", in a folder of SYSTEM_ROOT of its own).
    """
    local = checkout / "var" / folder
    if service_account is None:
        return local
    system = SYSTEM_ROOT / (checkout_folder_name(checkout) + ("" if folder == "pg" else f"-{folder}"))
    if (system / made).exists() or not searchable_by(checkout, *service_account):
        return system
    return local


def _service_account() -> tuple[int, set[int]] | None:
    """(uid, gids) of SERVICE_USER when we are root (None otherwise, or before PostgreSQL is installed)."""
    if os.geteuid() != 0:
        return None
    try:
        owner = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        return None
    return owner.pw_uid, set(os.getgrouplist(SERVICE_USER, owner.pw_gid))


PG_ROOT = cluster_root(BASE_DIR, _service_account())
DATA_DIR = PG_ROOT / "data"
SOCKET_DIR = PG_ROOT / "run"
LOG_FILE = PG_ROOT / "server.log"
# GRIDGIS_DB_NAME picks another database in the same cluster (the benchmarks use gridgis_bench).
DB_NAME = os.environ.get("GRIDGIS_DB_NAME", "gridgis")
DB_USER = "gridgis"

# The cluster `make demo` serves from, so it is durable: fsync and full_page_writes keep PostgreSQL's
# defaults (on), and a power cut or a kernel crash loses no committed case and corrupts nothing
# (measured: intake p99 41.7 ms with both on, 47.0 ms with both off, within noise). The test suite
# turns synchronous_commit off in its own connections (tests/conftest.py), which risks only the
# last transactions of a crash, never corruption. Sized for city-scale benchmarks on 2 cores, 24 GiB.
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
        if PG_ROOT.is_relative_to(SYSTEM_ROOT):
            # Which checkout a folder of SYSTEM_ROOT belongs to, for whoever tidies the machine up.
            (PG_ROOT / "checkout").write_text(f"{BASE_DIR}\n", encoding="utf-8")
        # cluster_root() checked the checkout; var/ (made above, with the caller's umask) must pass too.
        service_account = _service_account()
        if service_account and not searchable_by(PG_ROOT.parent, *service_account):
            sys.exit(
                f"localdb: {PG_ROOT.parent} is not searchable by the '{SERVICE_USER}' user; "
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


# Lines an older version of this module wrote into postgresql.conf; dropped at the next start.
NOT_DURABLE = ("fsync = off", "full_page_writes = off")


def make_durable() -> bool:
    """Remove the non-durable settings from an existing cluster's postgresql.conf; True if it changed."""
    conf = DATA_DIR / "postgresql.conf"
    if not conf.exists():
        return False
    lines = conf.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if line.strip() not in NOT_DURABLE]
    if kept == lines:
        return False
    conf.write_text("".join(kept), encoding="utf-8")
    return True


def is_running() -> bool:
    if not (DATA_DIR / "PG_VERSION").exists():
        return False
    return _run([_bin("pg_ctl"), "-D", str(DATA_DIR), "status"], check=False, capture=True).returncode == 0


def start() -> None:
    initdb()
    changed = make_durable()
    if changed and is_running():  # both settings take effect on a reload
        _run([_bin("pg_ctl"), "-D", str(DATA_DIR), "reload"], capture=True)
        print("localdb: fsync and full_page_writes back on (durable)", flush=True)
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


def destroy() -> None:
    """Stop the cluster and delete its folder, data included (a clone about to be deleted, say)."""
    stop()
    if PG_ROOT.exists():
        shutil.rmtree(PG_ROOT)
        print(f"localdb: deleted {PG_ROOT}", flush=True)


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
    elif command == "where":
        print(PG_ROOT)
    elif command == "destroy":
        destroy()
    else:
        sys.exit(f"localdb: unknown command {command!r}; use start, stop, restart, status, where or destroy")


if __name__ == "__main__":
    main(sys.argv)
