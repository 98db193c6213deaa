"""Imported by the fork server that starts a batch's worker processes (:mod:`sim.batch.forking`), never by a worker
or by the command line itself: it imports the model and loads the engine's compiled kernels once, so that every
worker forked from the server starts with both, in milliseconds rather than the second each would take.

When it is done, whatever happened, it creates the file that ``$ESCALATION_FORKSERVER_READY`` names: the process
that started the server waits for that file (and can stop while it waits) before it asks the server for a worker,
since the server answers only once this import is over. A failure here is not reported: the workers then import
what they need themselves, and meet the same failure where it can be reported.

While it imports, the server cannot see the process that started it end (it looks only once it serves), so a
thread watches for that and ends the server at once. It compares the server's parent with the process id it was
given (``$ESCALATION_FORKSERVER_PARENT``), so a parent already gone before the watch began counts too, and the other
modules the server is to import (``$ESCALATION_FORKSERVER_EXTRA``: Dask's, for a local cluster) are imported under
the watch as well. The thread has ended before the server forks any worker (the numerical libraries' own threads
are fork-safe). Imported anywhere but in a fork server started for it (no ``$ESCALATION_FORKSERVER_READY``), it does
nothing.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading

from sim.batch.forking import EXTRA_ENV, PARENT_ENV, READY_ENV

#: Test hook: seconds the preload sleeps first (a server slow to import, as on a loaded machine).
FAULT_SLOW_PRELOAD = "ESCALATION_FAULT_SLOW_PRELOAD"
#: How often the watching thread looks whether the process that started the server is gone, in seconds.
WATCH_SECONDS = 0.05


def _load() -> None:
    import time

    slow = os.environ.get(FAULT_SLOW_PRELOAD, "").strip()
    if slow:
        time.sleep(float(slow))
    import sim.batch.work  # noqa: F401  (the model, Mesa and numpy: what every worker imports first)
    from sim.engine import kernels

    # the kernels are loaded only from numba's cache: a machine's first batch compiles them in the command's own
    # process, saying so (sim/cli/common.py), and the workers then load them as before
    if kernels.engine() == "numba" and kernels.compiled_on_disk() is not False:
        kernels.warm_up()
    for name in filter(None, os.environ.get(EXTRA_ENV, "").split(",")):
        with contextlib.suppress(ImportError):  # a worker that needs it imports it and reports its absence
            importlib.import_module(name.strip())


def _signal_ready(marker: str) -> None:
    with contextlib.suppress(OSError):  # a folder gone has been given up by the process that waited for it
        os.close(os.open(marker, os.O_CREAT | os.O_WRONLY, 0o600))


def _watch_parent(parent: int, done: threading.Event) -> None:
    while not done.wait(WATCH_SECONDS):
        if os.getppid() != parent:  # the process that started the server is gone: no worker will be asked for
            os._exit(0)


def _preload(marker: str) -> None:
    done = threading.Event()
    parent = os.environ.get(PARENT_ENV, "").strip()
    watched = int(parent) if parent.isdigit() else os.getppid()
    watch = threading.Thread(target=_watch_parent, args=(watched, done), name="parent-watch", daemon=True)
    watch.start()
    try:
        with contextlib.suppress(Exception):  # reported by the workers, which import the same modules
            _load()
    finally:
        done.set()
        watch.join()  # no thread is left when the server forks
        _signal_ready(marker)


if os.environ.get(READY_ENV):
    _preload(os.environ[READY_ENV])
