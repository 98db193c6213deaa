"""The unit of work: one chunk run for every variant, in this process or in a worker process.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Generator

import numpy as np

from sim.batch.chunks import Batch, Chunk
from sim.engine.model import ChunkResult, simulate
from sim.engine.world import Context

#: Test hook: the worker process that runs this chunk index kills itself (see :func:`_fault_injection`).
FAULT_KILL_CHUNK = "ESCALATION_FAULT_KILL_CHUNK"
#: Test hook: with this marker file, the kill happens the first time only.
FAULT_MARKER = "ESCALATION_FAULT_MARKER"
#: Test hook: the worker process that runs this chunk index hangs (a chunk that never ends).
FAULT_HANG_CHUNK = "ESCALATION_FAULT_HANG_CHUNK"

#: One finished chunk: the chunk and its results, one per variant.
ChunkDone = tuple[Chunk, list[ChunkResult]]
#: What an executor yields, chunk by chunk as they finish. A generator: closing it early (``close()``) ends the
#: executor's workers at once.
ChunkStream = Generator[ChunkDone, None, None]


# ------------------------------------------------------------------------------------------ the unit of work
_WORKER_BATCH: Batch | None = None
_WORKER_CONTEXTS: dict[str, Context] | None = None


def _init_worker(batch: Batch) -> None:
    global _WORKER_BATCH, _WORKER_CONTEXTS
    # Ctrl-C reaches the whole process group: the parent decides what stops, and ends its workers itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER_BATCH = batch
    _WORKER_CONTEXTS = batch.contexts()


def _fault_injection(chunk: Chunk) -> None:
    """Kill this worker process if ``$ESCALATION_FAULT_KILL_CHUNK`` names ``chunk`` (used by the tests).

    With ``$ESCALATION_FAULT_MARKER`` set to a path, the worker dies only if that file does not exist yet, and
    creates it first: the chunk dies once and succeeds when retried. Without it, the chunk dies every time.
    If ``$ESCALATION_FAULT_HANG_CHUNK`` names ``chunk``, the worker hangs instead, as a chunk that never ends.
    """
    if os.environ.get(FAULT_HANG_CHUNK, "").strip() == str(chunk.index):
        time.sleep(3600)
    target = os.environ.get(FAULT_KILL_CHUNK)
    if target is None or target.strip() != str(chunk.index):
        return
    marker = os.environ.get(FAULT_MARKER)
    if marker:
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
    os.kill(os.getpid(), signal.SIGKILL)


def run_chunk(batch: Batch, chunk: Chunk, contexts: dict[str, Context] | None = None) -> ChunkDone:
    """Step one chunk for every variant of the batch (common random numbers: same run ids for all)."""
    contexts = contexts or batch.contexts()
    run_ids = np.arange(chunk.start, chunk.stop, dtype=np.int64)
    out = []
    for v in batch.variants:
        res = simulate(contexts[v], run_ids, v, record_events=batch.record_events and batch.record_runs,
                       runs_table=batch.record_runs)
        res.headline = res.ukraine = None  # paths stay in the worker; aggregates carry what is needed
        out.append(res)
    return chunk, out


def _run_chunk_in_worker(chunk: Chunk) -> ChunkDone:
    if _WORKER_BATCH is None:  # pragma: no cover - the pool initializer always runs first
        raise RuntimeError("worker used before its initializer ran")
    _fault_injection(chunk)
    return run_chunk(_WORKER_BATCH, chunk, _WORKER_CONTEXTS)


def _run_chunk_dask(batch: Batch, chunk: Chunk) -> ChunkDone:
    return run_chunk(batch, chunk)
