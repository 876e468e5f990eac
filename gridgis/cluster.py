"""A three-node PostgreSQL + PostGIS cluster on loopback: etcd, Patroni and HAProxy (`make cluster`).

    python3 -m gridgis.cluster start      # bootstrap on first use, start everything, wait for the replicas
    python3 -m gridgis.cluster stop
    python3 -m gridgis.cluster status     # who leads, who replicates, the lag
    python3 -m gridgis.cluster env        # the two database URLs and the key for the app

Everything lives under var/cluster/ (data, configuration, logs, pid files; for a checkout the
`postgres` user cannot reach, a folder of its own under /var/lib/gridgis) and listens on 127.0.0.1
only, from GRIDGIS_CLUSTER_PORT (default 15400): HAProxy's write port (the leader, by Patroni's
`OPTIONS /primary` check) at +0 and read port (the streaming replicas, `OPTIONS /replica`) at +1; the
nodes' PostgreSQL at +11..+13, their Patroni REST API at +21..+23; etcd at +79 (client) and +80
(peer). Servers run as the `postgres` system user (setpriv) when we are root, since PostgreSQL
refuses root. Synchronous replication is on (Patroni's synchronous_mode): a commit the client saw
is on a replica too, so a failover loses none. Each node is sized small (shared_buffers 128MB).

Standard library only, like gridgis.localdb: it runs before the virtualenv matters.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from common.pgtools import postgres_program
from common.waiting import wait_until
from gridgis.localdb import SYSTEM_ROOT, _service_account, cluster_root
from gridgis.machine_key import machine_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
# var/cluster/ in the checkout, or, for a checkout the `postgres` user cannot reach (a private home
# folder, `mktemp -d`), /var/lib/gridgis/<checkout folder name>-<hash>-cluster (as gridgis.localdb).
ROOT = cluster_root(BASE_DIR, _service_account(), folder="cluster", made="etcd")
PORT = int(os.environ.get("GRIDGIS_CLUSTER_PORT", 15400))
WRITE_PORT, READ_PORT = PORT, PORT + 1
NODES = ["n1", "n2", "n3"]
ETCD_CLIENT, ETCD_PEER = PORT + 79, PORT + 80
SERVICE_USER = "postgres"
DB_NAME = os.environ.get("GRIDGIS_DB_NAME", "gridgis")
DB_USER = "gridgis"
SCOPE = "gridgis"


def pg_port(node: str) -> int:
    return PORT + 11 + NODES.index(node)


def api_port(node: str) -> int:
    return PORT + 21 + NODES.index(node)


def database_urls(name: str = DB_NAME) -> dict[str, str]:
    return {
        "DATABASE_URL": f"postgis://{DB_USER}@127.0.0.1:{WRITE_PORT}/{name}",
        "DATABASE_REPLICA_URL": f"postgis://{DB_USER}@127.0.0.1:{READ_PORT}/{name}",
    }


def app_env(name: str = DB_NAME) -> dict[str, str]:
    """What the app needs to run on this cluster: the two URLs and, since a DATABASE_URL with DEBUG off
    is taken for a deployment that must bring its own key, this checkout's key (the cluster is the
    checkout's, like var/pg)."""
    return {**database_urls(name), "DJANGO_SECRET_KEY": machine_secret_key()}


def _bin_dir() -> str:
    initdb = postgres_program("initdb")
    if not initdb:
        sys.exit("cluster: PostgreSQL not found; run scripts/setup.sh")
    return str(Path(initdb).parent)


def _need(program: str) -> str:
    found = shutil.which(program) or (f"/usr/bin/{program}" if Path(f"/usr/bin/{program}").exists() else None)
    if not found:
        sys.exit(f"cluster: {program} not found; run `bash scripts/setup.sh --cluster` (patroni, etcd-server, haproxy)")
    return found


def _as_service_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    return ["setpriv", f"--reuid={SERVICE_USER}", f"--regid={SERVICE_USER}", "--init-groups", "--"]


def _chown(path: Path) -> None:
    if os.geteuid() == 0:
        owner = pwd.getpwnam(SERVICE_USER)
        os.chown(path, owner.pw_uid, owner.pw_gid)


def _dir(path: Path, mode: int = 0o700) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(mode)
    _chown(path)
    return path


def _patroni_config(node: str) -> str:
    """Patroni's YAML for one node (JSON is YAML): see the module docstring for the ports."""
    home = ROOT / node
    config = {
        "scope": SCOPE,
        "namespace": "/gridgis/",
        "name": node,
        "log": {"level": "WARNING", "dir": str(home / "log")},
        "restapi": {"listen": f"127.0.0.1:{api_port(node)}", "connect_address": f"127.0.0.1:{api_port(node)}"},
        # etcd 3.4 serves only the v3 API: Patroni's `etcd3` section, not `etcd`.
        "etcd3": {"hosts": [f"127.0.0.1:{ETCD_CLIENT}"]},
        "bootstrap": {
            "dcs": {
                "ttl": 10,
                "loop_wait": 1,
                "retry_timeout": 4,
                "maximum_lag_on_failover": 16 * 1024 * 1024,
                # With the default, Patroni restarts a killed postmaster in place and waits for it
                # instead of failing over: 0 hands over to a replica at once.
                "primary_start_timeout": 0,
                "synchronous_mode": True,
                "postgresql": {
                    "use_pg_rewind": True,
                    "use_slots": True,
                    "parameters": {
                        "shared_buffers": "128MB",
                        "max_connections": 100,
                        "max_wal_senders": 10,
                        "max_replication_slots": 10,
                        "wal_keep_size": "256MB",
                        "wal_log_hints": "on",
                        "hot_standby": "on",
                        "hot_standby_feedback": "on",
                        "work_mem": "16MB",
                        "jit": "off",
                    },
                },
            },
            "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}],
        },
        "postgresql": {
            "listen": f"127.0.0.1:{pg_port(node)}",
            "connect_address": f"127.0.0.1:{pg_port(node)}",
            "data_dir": str(home / "data"),
            "bin_dir": _bin_dir(),
            "pgpass": str(home / "pgpass"),
            # Loopback only and disposable: trust, as the local cluster does over its socket.
            "pg_hba": [
                "local all all trust",
                "host all all 127.0.0.1/32 trust",
                "host replication all 127.0.0.1/32 trust",
            ],
            "authentication": {
                "superuser": {"username": DB_USER, "password": "gridgis"},
                "replication": {"username": "replicator", "password": "replicator"},
                "rewind": {"username": DB_USER, "password": "gridgis"},
            },
            "parameters": {"unix_socket_directories": str(home)},
            # Without a fast checkpoint a new replica's base backup waits for the next timed one (minutes).
            "basebackup": [{"checkpoint": "fast"}],
        },
        "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False, "nosync": False},
    }
    return json.dumps(config, indent=2)


def _haproxy_config() -> str:
    servers = "\n".join(
        f"    server {node} 127.0.0.1:{pg_port(node)} maxconn 100 check port {api_port(node)}" for node in NODES
    )
    # OPTIONS rather than GET: Patroni answers both, but logs a traceback for every GET health check.
    return f"""global
    maxconn 400
    pidfile {ROOT / "haproxy.pid"}

defaults
    mode tcp
    timeout connect 2s
    timeout client 30m
    timeout server 30m
    timeout check 1s
    default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions

listen primary
    bind 127.0.0.1:{WRITE_PORT}
    option httpchk OPTIONS /primary
    http-check expect status 200
{servers}

listen replicas
    bind 127.0.0.1:{READ_PORT}
    balance roundrobin
    option httpchk OPTIONS /replica
    http-check expect status 200
{servers}
"""


def _pid_file(name: str) -> Path:
    return ROOT / "pids" / f"{name}.pid"


def _alive(pid: int) -> bool:
    # A server this process started and that has died stays a zombie until reaped, and a zombie still
    # answers kill(pid, 0): reap it first (the drill starts the cluster itself, then kills nodes).
    with contextlib.suppress(ChildProcessError):  # raised for a server this process did not start
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _running(name: str) -> int | None:
    path = _pid_file(name)
    if not path.exists():
        return None
    pid = int(path.read_text().strip() or 0)
    return pid if pid and _alive(pid) else None


def _spawn(name: str, args: list[str], log: Path) -> int:
    """Start a server in the background as the service user; its pid is setpriv's, which execs it."""
    with open(log, "ab") as out:
        process = subprocess.Popen(
            _as_service_user() + args,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
            start_new_session=True,
        )
    _pid_file(name).write_text(str(process.pid))
    return process.pid


def _http(port: int, path: str, method: str = "GET", timeout: float = 1.0) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
            return response.status, json.loads(body) if body else {}
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return exc.code, json.loads(body) if body else {}
        except ValueError:
            return exc.code, {}
    except (OSError, ValueError):
        return 0, {}


def _wait(what: str, check, seconds: float = 120.0):
    value = wait_until(check, seconds, every=0.25)
    if value:
        return value
    sys.exit(f"cluster: {what} did not happen within {seconds:.0f} s; see {ROOT}/*/log and {ROOT}/*.log")


def role(node: str) -> str:
    """'primary', 'replica', or '' when the node's Patroni does not answer."""
    status, body = _http(api_port(node), "/patroni")
    if status == 0:
        return ""
    return "primary" if body.get("role") in ("master", "primary") else str(body.get("role", ""))


def leader() -> str | None:
    for node in NODES:
        status, _ = _http(api_port(node), "/primary", method="OPTIONS")
        if status == 200:
            return node
    return None


def cluster_state() -> dict:
    """Patroni's view of the members (role, state, lag) from any node that answers."""
    for node in NODES:
        status, body = _http(api_port(node), "/cluster")
        if status == 200:
            return body
    return {}


def start_etcd() -> None:
    if _running("etcd"):
        return
    data = _dir(ROOT / "etcd")
    _spawn(
        "etcd",
        [
            _need("etcd"),
            "--name",
            "e1",
            "--data-dir",
            str(data),
            "--listen-client-urls",
            f"http://127.0.0.1:{ETCD_CLIENT}",
            "--advertise-client-urls",
            f"http://127.0.0.1:{ETCD_CLIENT}",
            "--listen-peer-urls",
            f"http://127.0.0.1:{ETCD_PEER}",
            "--initial-advertise-peer-urls",
            f"http://127.0.0.1:{ETCD_PEER}",
            "--initial-cluster",
            f"e1=http://127.0.0.1:{ETCD_PEER}",
            "--listen-metrics-urls",
            "",
        ],
        ROOT / "etcd.log",
    )
    _wait("etcd", lambda: _http(ETCD_CLIENT, "/health")[1].get("health") == "true", 30)


def start_node(node: str) -> None:
    if _running(node):
        return
    home = _dir(ROOT / node)
    _dir(home / "log")
    config = home / "patroni.yml"
    config.write_text(_patroni_config(node))
    _chown(config)
    _spawn(node, [_need("patroni"), str(config)], home / "patroni.out")


def start_haproxy() -> None:
    if _running("haproxy"):
        return
    config = ROOT / "haproxy.cfg"
    config.write_text(_haproxy_config())
    _chown(config)
    _spawn("haproxy", [_need("haproxy"), "-db", "-f", str(config)], ROOT / "haproxy.log")


def _psql(sql: str, port: int = WRITE_PORT, database: str = "postgres") -> str:
    psql = postgres_program("psql") or "psql"
    result = subprocess.run(
        [psql, "-h", "127.0.0.1", "-p", str(port), "-U", DB_USER, "-d", database, "-At", "-c", sql],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip())
    return result.stdout.strip()


def ensure_database(name: str = DB_NAME) -> None:
    def created():
        try:
            if not _psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"):  # noqa: S608 (our own name)
                _psql(f'CREATE DATABASE "{name}"')
            return True
        except RuntimeError:
            return False  # the write port is between leaders

    _wait(f"database {name} on the write port", created, 60)


def replicas_streaming() -> int:
    members = cluster_state().get("members", [])
    return sum(
        1
        for m in members
        if m.get("role") in ("replica", "sync_standby") and m.get("state") in ("running", "streaming")
    )


def start() -> None:
    for program in ("etcd", "patroni", "haproxy"):
        _need(program)
    _dir(ROOT, 0o755)
    _dir(ROOT / "pids", 0o755)
    if ROOT.is_relative_to(SYSTEM_ROOT):
        # Which checkout a folder of SYSTEM_ROOT belongs to, for whoever tidies the machine up.
        (ROOT / "checkout").write_text(f"{BASE_DIR}\n", encoding="utf-8")
    if os.geteuid() == 0:
        for parent in [ROOT.parent, *ROOT.parent.parents]:
            if not os.stat(parent).st_mode & 0o001:
                sys.exit(f"cluster: {parent} is not searchable by '{SERVICE_USER}'; run `chmod o+x` on it")
    started = time.monotonic()
    start_etcd()
    start_node(NODES[0])
    _wait("a leader", leader, 120)
    for node in NODES[1:]:
        start_node(node)
    start_haproxy()
    _wait("two streaming replicas", lambda: replicas_streaming() == 2, 180)
    _wait("the write port", lambda: _port_answers(WRITE_PORT), 30)
    ensure_database()
    print(
        f"cluster: leader {leader()}, 2 replicas, in {time.monotonic() - started:.0f} s; "
        f"write port {WRITE_PORT}, read port {READ_PORT}",
        flush=True,
    )


def _port_answers(port: int) -> bool:
    try:
        return bool(_psql("SELECT 1", port=port))
    except RuntimeError:
        return False


def stop_process(name: str, seconds: float = 30.0) -> None:
    pid = _running(name)
    if pid is None:
        _pid_file(name).unlink(missing_ok=True)
        return
    os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not _alive(pid), seconds)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    _pid_file(name).unlink(missing_ok=True)


def postmaster_pid(node: str) -> int | None:
    path = ROOT / node / "data" / "postmaster.pid"
    if not path.exists():
        return None
    try:
        pid = int(path.read_text().splitlines()[0])
    except (ValueError, IndexError):
        return None
    return pid if _alive(pid) else None


def stop() -> None:
    stop_process("haproxy")
    # Replicas first, so that the leader does not fail over while the others go.
    for node in sorted(NODES, key=lambda n: n == leader()):
        stop_process(node, 60)
    for node in NODES:  # a postmaster whose Patroni was killed (the drill) goes too
        pid = postmaster_pid(node)
        if pid:
            os.kill(pid, signal.SIGTERM)
            _wait(f"{node}'s postmaster to stop", lambda pid=pid: not _alive(pid), 60)
    stop_process("etcd")
    print("cluster: stopped", flush=True)


def status() -> None:
    state = cluster_state()
    if not state:
        print("cluster: not running")
        return
    for member in state.get("members", []):
        print(
            f"{member['name']}: {member.get('role')} {member.get('state')} lag={member.get('lag', 0)} "
            f"timeline={member.get('timeline')}"
        )


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "status"
    if command == "start":
        start()
    elif command == "stop":
        stop()
    elif command == "status":
        status()
    elif command == "env":
        for key, value in app_env().items():
            print(f"export {key}={value}")
    elif command == "wipe":
        stop()
        shutil.rmtree(ROOT, ignore_errors=True)
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
