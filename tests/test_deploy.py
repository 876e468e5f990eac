"""Deployment settings (issue 13): the secret key, the HTTPS and cookie settings from the environment,
the Content-Security-Policy, docker-compose, and a durable local cluster."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from gridgis import localdb

BASE_DIR = Path(__file__).resolve().parent.parent
PUBLIC_KEY = "gridgis-development-only-key-change-me-in-deployment"


def start_settings(**env) -> subprocess.CompletedProcess:
    """Load the settings in a fresh interpreter with `env` (DJANGO_* and DATABASE_URL cleared first)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    code = "import django; django.setup(); from django.conf import settings; print(len(settings.SECRET_KEY))"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "gridgis.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_deployment_refuses_to_start_without_a_key_or_with_the_public_one():
    deployment = {"DATABASE_URL": "postgis://u:p@db.example:5432/gridgis", "DJANGO_DEBUG": "0"}
    missing = start_settings(**deployment)
    assert missing.returncode != 0 and "DJANGO_SECRET_KEY is not set" in missing.stderr
    public = start_settings(**deployment, DJANGO_SECRET_KEY=PUBLIC_KEY)
    assert public.returncode != 0 and "public development key" in public.stderr
    assert start_settings(DJANGO_SECRET_KEY=PUBLIC_KEY).returncode != 0  # DEBUG off anywhere
    given = start_settings(**deployment, DJANGO_SECRET_KEY="k" * 60)
    assert given.returncode == 0 and given.stdout.strip() == "60"


def test_the_local_cluster_gets_a_random_key_of_its_own_never_the_public_one():
    first, second = start_settings(), start_settings()
    assert first.returncode == 0 and second.returncode == 0
    from django.conf import settings

    assert settings.SECRET_KEY != PUBLIC_KEY and len(settings.SECRET_KEY) >= 50
    assert (BASE_DIR / "var" / "secret_key").stat().st_mode & 0o077 == 0  # readable by its owner only


def test_check_deploy_passes_with_the_documented_production_environment():
    # As a deployment runs it: without what the test session itself sets (the browser tests allow the ORM
    # beside Playwright's event loop, which Django's deployment check rightly refuses).
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    result = subprocess.run(
        ["make", "-s", "check-deploy"], cwd=BASE_DIR, capture_output=True, text=True, timeout=300, env=environment
    )
    assert result.returncode == 0, result.stdout + result.stderr
    readme = (BASE_DIR / "README.md").read_text(encoding="utf-8")
    makefile = (BASE_DIR / "Makefile").read_text(encoding="utf-8")
    for name in re.findall(r"(DJANGO_[A-Z_]+)=", makefile.split("PRODUCTION_ENV =", 1)[1].split("\n\n", 1)[0]):
        assert f"`{name}`" in readme, f"{name} is in make check-deploy's environment but not in the README"


def test_the_security_settings_come_from_the_environment():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_PROXY_SSL_HEADER)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="gridgis.settings",
        DJANGO_SECURE_HSTS_SECONDS="31536000",
        DJANGO_SECURE_COOKIES="1",
        DJANGO_SECURE_SSL_REDIRECT="1",
        DJANGO_BEHIND_TLS_PROXY="1",
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True)
    assert out.stdout.split() == ["31536000", "True", "True", "True", "('HTTP_X_FORWARDED_PROTO',", "'https')"]


@pytest.mark.django_db
def test_every_answer_carries_a_strict_content_security_policy():
    policy = Client().get("/accounts/login/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'" and directives["object-src"] == "'none'"  # no nonce used here
    assert directives["frame-ancestors"] == "'none'" and directives["default-src"] == "'self'"
    assert "script-src 'self'" in Client().get("/api/v1/incidents/categories/")["Content-Security-Policy"]
    docs = Client().get("/api/docs/")
    assert docs.status_code == 200 and b"<script>" not in docs.content  # Swagger UI without inline script
    # Only the admin allows inline scripts (Django's geometry editor has one and no request for a nonce).
    assert "'unsafe-inline'" in Client().get("/admin/login/")["Content-Security-Policy"].split("script-src")[1]


@pytest.mark.django_db
def test_the_map_pages_inline_scripts_carry_the_nonce_of_their_policy():
    from tests.factories import small_tree
    from tests.factories_incidents import make_user

    small_tree()
    client = Client()
    client.force_login(make_user("supervisor"))
    response = client.get("/map/supervisor/")
    assert response.status_code == 200
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    html = response.content.decode()
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline and all(f'nonce="{nonce}"' in attributes for attributes in inline)


def test_docker_compose_publishes_on_loopback_with_named_hosts_and_no_default_secrets():
    compose = (BASE_DIR / "docker-compose.yml").read_text(encoding="utf-8")
    assert '"127.0.0.1:8000:8000"' in compose and '- "8000:8000"' not in compose
    assert 'DJANGO_ALLOWED_HOSTS: "*"' not in compose
    assert "${DJANGO_SECRET_KEY:?" in compose and "${GRIDGIS_DEMO_PASSWORD:?" in compose


def test_the_local_cluster_is_durable(tmp_path, monkeypatch):
    assert "fsync" not in localdb.SERVER_SETTINGS and "full_page_writes" not in localdb.SERVER_SETTINGS
    # An existing cluster made by the old settings is put right at its next start.
    monkeypatch.setattr(localdb, "DATA_DIR", tmp_path)
    (tmp_path / "postgresql.conf").write_text("shared_buffers = 1GB\nfsync = off\nfull_page_writes = off\n")
    assert localdb.make_durable() is True
    assert (tmp_path / "postgresql.conf").read_text() == "shared_buffers = 1GB\n"
    assert localdb.make_durable() is False


@pytest.mark.django_db
def test_the_running_cluster_has_fsync_and_full_page_writes_on():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW fsync")
        fsync = cursor.fetchone()[0]
        cursor.execute("SHOW full_page_writes")
        full_page_writes = cursor.fetchone()[0]
        cursor.execute("SHOW synchronous_commit")
        synchronous_commit = cursor.fetchone()[0]
    assert (fsync, full_page_writes) == ("on", "on")
    assert synchronous_commit == "off"  # the tests' own connections only (tests/conftest.py)
