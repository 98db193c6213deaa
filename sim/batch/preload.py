"""What the process pool's fork server imports before it forks any worker: the model's modules and, on the compiled
engine path, its kernels loaded (from numba's cache, or compiled on a machine's first use). Each worker is a fork of
the server, so it starts with the kernels ready instead of loading them again (about a second per process)."""

from __future__ import annotations

import contextlib

import sim.batch.executors  # noqa: F401  (the model's modules, as before)
from sim.engine import kernels
from sim.errors import SimError

# a bad $ESCALATION_ENGINE is reported by the batch itself, with its message; the server just skips the warm-up
with contextlib.suppress(SimError):
    if kernels.engine() == "numba":
        kernels.warm_up()
