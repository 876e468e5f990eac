"""Where PostgreSQL's programs are (standard library only: gridgis.localdb runs before the virtualenv)."""

from __future__ import annotations

import glob
import shutil


def postgres_program(name: str) -> str | None:
    """The path of PostgreSQL's program `name` (initdb, pg_ctl, pg_dump ...): the newest major version's
    under Debian's /usr/lib/postgresql/<major>/bin, else whatever PATH finds, else None."""
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_major_version)
    return candidates[-1] if candidates else shutil.which(name)


def _major_version(path: str) -> int:
    try:
        return int(path.split("/")[4])
    except (IndexError, ValueError):
        return 0
