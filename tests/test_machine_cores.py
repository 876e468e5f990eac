"""bench.sampling.MachineCores: how the machine's cores were spent while a block ran."""

import os
import subprocess
import sys

import pytest

from bench.sampling import MachineCores


def test_a_spinning_process_shows_as_a_busy_core_and_the_shares_add_up_to_the_machine():
    # One process spinning for a second keeps one core busy; the rest of the machine is what it is.
    with MachineCores() as cores:
        subprocess.run([sys.executable, "-c", "import time\nend = time.time() + 1\nwhile time.time() < end: pass"])
    figures = cores.figures
    assert set(figures) == {"busy", "iowait", "idle", "steal"}
    assert sum(figures.values()) == pytest.approx(os.cpu_count(), abs=0.05)
    assert figures["busy"] >= 0.5


def test_without_proc_stat_there_are_no_figures(monkeypatch):
    monkeypatch.setattr("bench.sampling._cpu_ticks", lambda: None)
    with MachineCores() as cores:
        pass
    assert cores.figures is None
