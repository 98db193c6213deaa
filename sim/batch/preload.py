"""Imported by the fork server that starts a batch's worker processes (:mod:`sim.batch.forking`), never by a worker
or by the command line itself: it imports the model and loads the engine's compiled kernels once, so that every
worker forked from the server starts with both, in milliseconds rather than the second each would take.

When it is done, whatever happened, it creates the file that ``$ESCALATION_FORKSERVER_READY`` names: the process
that started the server waits for that file (and can stop while it waits) before it asks the server for a worker,
since the server answers only once this import is over. A failure here is not reported: the workers then import
what they need themselves, and meet the same failure where it can be reported.
"""

from __future__ import annotations

import contextlib
import os

#: The environment variable that names the file this module creates when it is done.
READY_ENV = "ESCALATION_FORKSERVER_READY"


def _load() -> None:
    import sim.batch.work  # noqa: F401  (the model, Mesa and numpy: what every worker imports first)
    from sim.engine import kernels

    # the kernels are loaded only from numba's cache: a machine's first batch compiles them in the command's own
    # process, saying so (sim/cli/common.py), and the workers then load them as before
    if kernels.engine() == "numba" and kernels.compiled_on_disk() is not False:
        kernels.warm_up()


def _signal_ready() -> None:
    marker = os.environ.get(READY_ENV)
    if marker:  # a folder gone has been given up by the process that waited for it
        with contextlib.suppress(OSError):
            os.close(os.open(marker, os.O_CREAT | os.O_WRONLY, 0o600))


try:
    with contextlib.suppress(Exception):  # reported by the workers, which import the same modules
        _load()
finally:
    _signal_ready()
