"""A watcher in a thread of its own beside the work a benchmark measures (standard library only: the
failover drill imports it before Django is set up)."""

from __future__ import annotations

import abc
import threading


class Sampler(abc.ABC):
    """Something that watches in a thread of its own while a `with` block runs: a subclass's `_run`
    loops until `self._stop` is set."""

    def __init__(self):
        self._stop = threading.Event()

    @abc.abstractmethod
    def _run(self): ...

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)
