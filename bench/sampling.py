"""What a benchmark watches beside the work it measures: a watcher in a thread of its own, and how the
machine's cores were spent (standard library only: the failover drill imports it before Django is set up)."""

from __future__ import annotations

import abc
import os
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


# The first eight columns of /proc/stat's "cpu" line, in clock ticks summed over all cores.
_CPU_COLUMNS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


def _cpu_ticks() -> dict[str, int] | None:
    try:
        with open("/proc/stat") as stat:
            values = stat.readline().split()[1 : 1 + len(_CPU_COLUMNS)]
    except OSError:
        return None
    return dict(zip(_CPU_COLUMNS, map(int, values), strict=True))


class MachineCores:
    """How this machine's cores were spent while a `with` block ran, from /proc/stat (Linux; `figures`
    is None elsewhere): cores busy (user, nice, system, irq, softirq), waiting on I/O, idle, and taken
    by the hypervisor (steal), each averaged over the block, adding up to the machine's cores.

    A latency measured beside a maintenance job needs it: with no core idle a request waits for a
    core, whatever the job's locks do, and a virtual machine's neighbours can take cores away."""

    figures: dict[str, float] | None = None

    def __enter__(self):
        self._before = _cpu_ticks()
        return self

    def __exit__(self, *exc):
        after = _cpu_ticks()
        if self._before is None or after is None:
            return
        spent = {column: after[column] - self._before[column] for column in _CPU_COLUMNS}
        total = sum(spent.values())
        if total <= 0:
            return
        cores = os.cpu_count() or 1

        def share(*columns: str) -> float:
            return round(cores * sum(spent[column] for column in columns) / total, 2)

        self.figures = {
            "busy": share("user", "nice", "system", "irq", "softirq"),
            "iowait": share("iowait"),
            "idle": share("idle"),
            "steal": share("steal"),
        }
