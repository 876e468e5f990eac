"""This checkout's own random secret key (var/secret_key), for the app on the checkout's own databases.

Both the single local cluster (gridgis/localdb.py) and the loopback Patroni cluster (gridgis/cluster.py)
run the app with it: they are this machine's, not a deployment's. Standard library only, since
gridgis.cluster runs before the virtualenv matters.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

KEY_PATH = Path(__file__).resolve().parent.parent / "var" / "secret_key"


def machine_secret_key() -> str:
    """A random key for this checkout, made once (mode 600) and read back by every process after."""
    KEY_PATH.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(KEY_PATH, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return KEY_PATH.read_text(encoding="ascii").strip()
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secrets.token_urlsafe(50))
    return KEY_PATH.read_text(encoding="ascii").strip()
