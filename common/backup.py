"""Backup and restore: the database (pg_dump -Fc / pg_restore) and the media folder, in one tar archive.

The archive holds `database.dump` (PostgreSQL's custom format, restored with --clean --if-exists so a
restore replaces what is there) and `media/` (case photos). Both tools get the project's connection
settings (DATABASES["default"]) through the PG* environment variables, never on the command line, so
a password does not show in the process list.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import connections

from common.pgtools import postgres_program

DUMP_NAME = "database.dump"
MEDIA_NAME = "media"


class BackupError(RuntimeError):
    """pg_dump or pg_restore failed, or the archive is not a gridgis backup."""


def _tool(name: str) -> str:
    found = postgres_program(name)
    if not found:
        raise BackupError(f"{name} not found; run scripts/setup.sh to install PostgreSQL")
    return found


def _pg_env() -> dict:
    db = settings.DATABASES["default"]
    env = {**os.environ, "PGDATABASE": db["NAME"]}
    for key, var in (("USER", "PGUSER"), ("HOST", "PGHOST"), ("PORT", "PGPORT"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    return env


def _run(args: list[str]) -> None:
    result = subprocess.run(args, env=_pg_env(), capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {result.stderr.strip()[-2000:]}")


def backup(path: str | Path) -> dict:
    """Write the database and the media folder to the tar archive `path`; returns what it holds."""
    path = Path(path)
    media = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory() as work:
        dump = Path(work) / DUMP_NAME
        _run([_tool("pg_dump"), "-Fc", "--no-owner", "--no-privileges", "-f", str(dump)])
        files = 0
        with tarfile.open(path, "w") as archive:
            archive.add(dump, arcname=DUMP_NAME)
            if media.is_dir():
                for item in sorted(media.rglob("*")):
                    if item.is_file():
                        archive.add(item, arcname=f"{MEDIA_NAME}/{item.relative_to(media)}")
                        files += 1
        return {"archive": str(path), "database_bytes": dump.stat().st_size, "media_files": files}


def restore(path: str | Path) -> dict:
    """Replace the database and the media folder with those in the archive `path`."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    media = Path(settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory() as work, tarfile.open(path, "r") as archive:
        names = archive.getnames()
        if DUMP_NAME not in names:
            raise BackupError(f"{path}: not a gridgis backup (no {DUMP_NAME})")
        archive.extractall(work, filter="data")  # "data" refuses absolute paths, .. and links out
        for connection in connections.all():
            connection.close()  # pg_restore --clean drops tables this process may hold open
        _run(
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "-d",
                settings.DATABASES["default"]["NAME"],
                str(Path(work) / DUMP_NAME),
            ]
        )
        files = 0
        restored_media = Path(work) / MEDIA_NAME
        if media.exists():
            shutil.rmtree(media)
        media.mkdir(parents=True, exist_ok=True)
        if restored_media.is_dir():
            for item in restored_media.rglob("*"):
                target = media / item.relative_to(restored_media)
                if item.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(item, target)
                    files += 1
    return {"archive": str(path), "media_files": files}
