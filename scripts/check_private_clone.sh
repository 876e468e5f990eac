#!/usr/bin/env bash
# The README's two commands from a clone in a private folder (`mktemp -d` makes it mode 700, as home
# folders often are), as root, as CI runs: the `postgres` user cannot reach the clone, so its cluster
# must live in /var/lib/gridgis/<clone>-<hash> (gridgis/localdb.py). Runs `make test` on a few test
# files (the whole suite already ran in this checkout) and `make demo` until it answers, then deletes
# the clone and its cluster. Under a minute here.
set -euo pipefail
cd "$(dirname "$0")/.."
source_checkout="$PWD"

if [ "$(id -u)" -ne 0 ]; then
  echo "check_private_clone: run as root (the cluster then runs as 'postgres', who cannot enter the clone)" >&2
  exit 1
fi

private="$(mktemp -d)"
clone="$private/gridgis"
server_log="$private/demo.log"
server=""
cleanup() {
  if [ -n "$server" ]; then kill -- "-$server" 2>/dev/null || true; fi
  if [ -x "$clone/.venv/bin/python" ]; then (cd "$clone" && .venv/bin/python -m gridgis.localdb destroy) || true; fi
  rm -rf "$private"
}
trap cleanup EXIT

git clone --quiet "$source_checkout" "$clone"
# The virtualenv is this checkout's (building another one would fetch every requirement again).
ln -s "$(readlink -f .venv)" "$clone/.venv"
cd "$clone"
[ "$(stat -c %a "$private")" = 700 ] || { echo "check_private_clone: $private is not mode 700" >&2; exit 1; }
cluster="$(.venv/bin/python -m gridgis.localdb where)"
case "$cluster" in
  /var/lib/gridgis/*) echo "check_private_clone: $clone keeps its cluster in $cluster" ;;
  *) echo "check_private_clone: expected the cluster under /var/lib/gridgis, not $cluster" >&2; exit 1 ;;
esac

nodes="$(.venv/bin/python -c 'from gridgis import cluster; print(cluster.ROOT)')"
case "$nodes" in
  /var/lib/gridgis/*-cluster) echo "check_private_clone: its three-node cluster would live in $nodes" ;;
  *) echo "check_private_clone: expected the three-node cluster under /var/lib/gridgis, not $nodes" >&2; exit 1 ;;
esac

make test PYTEST_ARGS="-p no:cacheprovider -q tests/test_locate.py tests/test_grid_tree.py"

port="$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
setsid make demo PORT="$port" >"$server_log" 2>&1 &
server=$!
# curl waits for the server itself: it retries while the port refuses connections (migrate and the
# demo seed run first), up to about four minutes.
if ! curl --silent --fail --retry 240 --retry-delay 1 --retry-connrefused --max-time 300 \
  "http://127.0.0.1:$port/api/v1/locate/?lon=105.4425&lat=28.8717" >"$private/locate.json"; then
  tail -n 40 "$server_log" >&2
  exit 1
fi
grep -q '"chain"' "$private/locate.json"
echo "check_private_clone: make test and make demo work from $clone"
