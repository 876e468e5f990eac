#!/usr/bin/env bash
# Installs what gridgis needs on a Debian/Ubuntu machine, once: the system packages (PostgreSQL,
# PostGIS, the GDAL/GEOS/PROJ libraries GeoDjango loads, Chromium for the browser tests) and a
# virtualenv built from the pinned requirements.txt. A second run only checks and returns.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing_packages() {
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
  done
}

apt_install() {
  local missing
  missing=$(missing_packages "$@")
  [ -z "$missing" ] && return 0
  echo "setup: installing system packages: $missing"
  if [ ! -f var/.apt-updated ] || [ -n "$(find var/.apt-updated -mmin +600 2>/dev/null)" ]; then
    $SUDO apt-get update -qq
    mkdir -p var && touch var/.apt-updated
  fi
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
}

mkdir -p var
if [ "${1:-}" = "--cluster" ]; then
  # Only for `make cluster`: etcd, Patroni and HAProxy. Debian enables their systemd services on
  # install; on a normal host etcd (and pgbouncer, which patroni pulls in) would then start on their
  # default ports, so they are disabled: gridgis.cluster starts its own on loopback.
  apt_install patroni etcd-server haproxy
  for service in etcd etcd2 patroni haproxy pgbouncer; do
    $SUDO systemctl disable --now "$service" >/dev/null 2>&1 || $SUDO systemctl disable "$service" >/dev/null 2>&1 || true
  done
  exit 0
fi
apt_install postgresql postgresql-contrib gdal-bin binutils libproj-dev python3-venv chromium fonts-noto-cjk gettext
# PostGIS is packaged per PostgreSQL major version: match the server that was installed.
pg_major=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
apt_install "postgresql-${pg_major}-postgis-3"

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
want=$(sha256sum requirements.txt | cut -d' ' -f1)
have=$(cat .venv/.requirements.sha256 2>/dev/null || true)
if [ "$want" != "$have" ]; then
  echo "setup: installing Python requirements into .venv"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r requirements.txt
  echo "$want" > .venv/.requirements.sha256
fi
