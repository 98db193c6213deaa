"""Commands run as a terminal would run them: in a process group of their own, with the fault-injection hooks
cleared, and ended with their whole group when the test that started them ends (the fixture
``end_started_processes``, autouse in the modules that import it)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
from support import ROOT

from sim.batch.preload import FAULT_SLOW_PRELOAD
from sim.batch.work import FAULT_HANG_CHUNK, FAULT_KILL_CHUNK, FAULT_MARKER

STARTED: list[subprocess.Popen] = []


def env(**extra: str) -> dict[str, str]:
    """This environment with the project on the path, no fault-injection hook set, and ``extra`` added."""
    e = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for k in (FAULT_KILL_CHUNK, FAULT_MARKER, FAULT_HANG_CHUNK, FAULT_SLOW_PRELOAD):
        e.pop(k, None)
    e.update(extra)
    return e


def start(args: list[str], **extra: str) -> subprocess.Popen:
    """``python -m sim ARGS`` in a process group of its own, with ``extra`` in its environment."""
    proc = subprocess.Popen([sys.executable, "-m", "sim", *args], env=env(**extra), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True)
    STARTED.append(proc)
    return proc


@pytest.fixture(autouse=True)
def end_started_processes() -> Iterator[None]:
    """Whatever a test does, the process groups it started do not outlive it."""
    yield
    while STARTED:
        proc = STARTED.pop()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
