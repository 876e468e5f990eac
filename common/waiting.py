"""Waiting for something another process does (a server starting, a job finishing, a replica catching
up), where there is no event to wait on: ask again every so often until a deadline. Standard library
only (gridgis.cluster uses it before the virtualenv matters)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(check: Callable[[], T], seconds: float, every: float = 0.2) -> T | None:
    """check()'s first truthy answer within `seconds`, asking every `every` seconds; None if none came."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() >= deadline:
            return value or None
        time.sleep(every)
