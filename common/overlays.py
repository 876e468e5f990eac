"""The registry of what a footprint touches, beyond the grids: each layer that keeps things on the
ground a planner must know about (open cases, ...) registers a reader in its AppConfig.ready(), and the
renovation overlay (layers/estates) asks them all without naming any of them.

A reader is called as `reader(reach=<geometry>, footprint=<geometry>, scope=<Scope or None>)` and
answers (rows, total): at most its own limit of rows as dicts, nearest first, and how many there are.
`reach` is the footprint grown by the overlay's buffer, computed once in PostGIS by the caller.
"""

from __future__ import annotations

from collections.abc import Callable

Reader = Callable[..., tuple[list[dict], int]]

_READERS: dict[str, Reader] = {}


def register_nearby(name: str, reader: Reader) -> None:
    """Add `reader` under `name` (e.g. "cases"), from the owning layer's AppConfig.ready()."""
    if name in _READERS and _READERS[name] is not reader:
        raise ValueError(f"an overlay reader {name!r} is already registered")
    _READERS[name] = reader


def nearby(*, reach, footprint, scope) -> dict[str, tuple[list[dict], int]]:
    """Every registered reader's answer for this footprint, by name."""
    return {name: reader(reach=reach, footprint=footprint, scope=scope) for name, reader in _READERS.items()}


def reader_names() -> list[str]:
    return list(_READERS)
