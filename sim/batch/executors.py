"""Executors: the same chunks run serially, on a local process pool or on Dask, with identical results.

Aggregates are merged as chunks arrive; each chunk's results are handed on as soon as it is finished, so an
interrupted batch keeps every finished chunk and a resumed one computes only the others (``on_finished``); callers
that want them in chunk order get them so (``on_chunk``).

A worker process that dies (killed, out of memory) takes the chunks it was running with it: the pool is made
again and those chunks are retried once; a chunk lost twice stops the batch with :class:`WorkerLost`.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from sim.batch import forking
from sim.batch.chunks import Batch, Chunk, plan_chunks
from sim.batch.cluster import _dask, check_scheduler
from sim.batch.stopping import STOP_POLL_SECONDS, deferred_stops, raise_if_stopped
from sim.batch.work import ChunkDone, ChunkStream, _init_worker, _run_chunk_in_worker, run_chunk
from sim.engine.aggregates import Aggregates
from sim.engine.model import ChunkResult
from sim.errors import InputError, SimError

EXECUTORS = ("process", "serial", "dask")


class WorkerLost(SimError):
    """A worker process died twice while running the same chunk; the batch stops and can be resumed."""

    exit_code = 1


# ------------------------------------------------------------------------------------------------ executors
def _serial(batch: Batch, chunks: list[Chunk], workers: int, address: str | None) -> ChunkStream:
    contexts = batch.contexts()
    for c in chunks:
        yield run_chunk(batch, c, contexts)


def _mp_context():
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        # the fork server imports the model once and forks workers that have it (sim/batch/forking.py); started
        # when a pool is first made, or earlier by the command that will make one, never on import
        forking.start()
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


#: Exit status of a worker process that ends because the process that started the batch is gone.
ORPHAN_EXIT = 3


def _watch_parent() -> None:
    """In a worker: end this process as soon as the process that made the pool is gone (killed outright).

    Nothing else would end it: a worker waits for work on a pipe it holds both ends of, and it holds the fork
    server's and the resource tracker's pipes open too, so after a SIGKILL of the main process the workers, the
    fork server and the resource tracker would all stay alive. ``multiprocessing`` gives every child a sentinel of
    its parent (for a forkserver child, the process that asked for it) that becomes ready when that process ends.
    """
    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:  # pragma: no cover - always set in a pool's worker
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(ORPHAN_EXIT)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _start_worker() -> None:
    _watch_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # until the batch arrives and _init_worker says so again


#: In a worker: the token of the batch it holds (see :func:`_run_sent_chunk`).
_HELD: list[object] = [None]


def _run_sent_chunk(token: object, batch: bytes, chunk: Chunk) -> ChunkDone:
    """In a worker: run ``chunk`` of the pickled ``batch``, unpickled and set up once per batch (``token``).

    The batch travels with each task, through the pool's queue, rather than as the pool initializer's argument:
    an initializer's arguments are written to each new worker by this process's main thread while it starts the
    worker, and a batch larger than a pipe's buffer (the shipped doctrine alone is about 90 KB) kept it waiting
    there, deaf to a stop, for as long as the new worker took to read them (seconds on a busy machine). The
    queue is fed by a thread of its own."""
    if _HELD[0] != token:
        _init_worker(pickle.loads(batch))
        _HELD[0] = token
    return _run_chunk_in_worker(chunk)


def _new_pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context(), initializer=_start_worker)


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: cancel what has not started and end the worker processes, running chunks included.

    A worker ended while it was sending a chunk's result leaves half a message in the result pipe, and the pool's
    management thread then waits for the rest for ever; at exit the interpreter joins that thread and the process
    never ends. Once the workers are gone this process holds the pipe's last writing end: closing it turns the wait
    into an end of file, and the thread finishes."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)  # shutdown() forgets the queue
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + 1.0
    for p in procs:
        p.join(timeout=max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join(timeout=0.5)
    if writer is not None and not any(p.is_alive() for p in procs):
        with contextlib.suppress(OSError):
            writer.close()
    if manager is not None:
        manager.join(timeout=2.0)


def _process(batch: Batch, chunks: list[Chunk], workers: int, address: str | None) -> ChunkStream:
    if workers <= 1 or len(chunks) <= 1:
        yield from _serial(batch, chunks, workers, address)
        return
    n = min(workers, len(chunks))
    queue = deque(chunks)
    suspects: deque[Chunk] = deque()  # chunks lost with a dead worker: retried one at a time
    retried: set[int] = set()
    pool = _new_pool(n)
    token, sent = (os.getpid(), time.monotonic_ns()), pickle.dumps(batch)
    pending: dict[Future, Chunk] = {}
    # for the whole batch, a stop signal is held and raised only at the top of the loop: never inside the
    # pool's own locks, the progress bar or the writer
    with deferred_stops():
        try:
            while queue or pending or suspects:
                raise_if_stopped()
                # no worker is asked for before the fork server has preloaded the model (a new one, if a pool was
                # made again after the server died): until then this waits here, where a stop ends it, rather than
                # in the pool's submit, where it would have to wait
                forking.wait_ready(raise_if_stopped)
                broken = False
                if suspects:
                    todo, limit = suspects, 1
                else:  # keep a bounded number of chunks in flight so results never pile up in memory
                    todo, limit = queue, 2 * n
                done: set[Future] = set()
                while todo and len(pending) < limit:
                    c = todo.popleft()
                    try:
                        pending[pool.submit(_run_sent_chunk, token, sent, c)] = c
                    except BrokenProcessPool:  # a worker died since the last look
                        todo.appendleft(c)
                        broken = True
                        break
                alone = len(pending) == 1 and pending[next(iter(pending))].index in retried
                if pending and not broken:
                    done, _ = wait(pending, timeout=STOP_POLL_SECONDS, return_when=FIRST_COMPLETED)
                    broken = any(isinstance(f.exception(), BrokenProcessPool) for f in done)
                if broken and pending:
                    # the pool is unusable: every chunk still in it fails now or soon
                    done, _ = wait(pending, return_when=ALL_COMPLETED)
                lost: list[Chunk] = []
                for f in done:
                    c = pending.pop(f)
                    if isinstance(f.exception(), BrokenProcessPool):
                        lost.append(c)
                    else:
                        # a stop waits for one chunk's saving at most, not for every chunk that finished together
                        # (a chunk not handed over is not done: a resume runs it again)
                        raise_if_stopped()
                        yield f.result()
                if broken or lost:
                    _terminate(pool)
                    if alone and lost:
                        raise WorkerLost(
                            f"a worker process died twice while running chunk {lost[0].index} (killed, or out of "
                            "memory? fewer --workers or a smaller --chunk-size may help)"
                        )
                    retried.update(c.index for c in lost)
                    suspects.extend(sorted(lost, key=lambda c: c.index))
                    pool = _new_pool(n)
        except BaseException:
            _terminate(pool)
            forking.end_loading()
            raise
        pool.shutdown(wait=True)


_EXECUTORS: dict[str, Callable[[Batch, list[Chunk], int, str | None], ChunkStream]] = {
    "serial": _serial,
    "process": _process,
    "dask": _dask,
}


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Execution:
    """Where a batch's chunks run: the executor, its number of workers and (Dask) a scheduler's address."""

    executor: str = "process"
    workers: int = 1
    address: str | None = None

    @property
    def in_process(self) -> bool:
        """True when the parent process runs every chunk itself."""
        return self.executor == "serial" or (self.executor == "process" and self.workers <= 1)


def execution(executor: str = "process", workers: int | None = None, address: str | None = None) -> Execution:
    """The executor settings, checked before anything is loaded or written: a known executor, ``workers``
    defaulting to all cores, and an ``address`` only with Dask, of a scheduler that answers."""
    if executor not in EXECUTORS:
        raise InputError("unknown executor", key="--executor", expected="one of: " + ", ".join(EXECUTORS),
                         found=executor)
    if address is not None:
        if executor != "dask":
            raise InputError("--address names a Dask scheduler", key="--address", found=address,
                             hint="Add --executor dask, or leave --address out")
        check_scheduler(address)
    return Execution(executor, workers or default_workers(), address)


@dataclass
class BatchOutcome:
    """What a finished batch yields: merged aggregates per variant, the chunks done and the wall time."""

    aggregates: dict[str, Aggregates]
    chunks_done: list[int] = field(default_factory=list)
    wall_seconds: float = 0.0


def execute(
    batch: Batch,
    *,
    executor: str = "process",
    workers: int | None = None,
    address: str | None = None,
    chunks: list[Chunk] | None = None,
    aggregates: dict[str, Aggregates] | None = None,
    on_chunk: Callable[[Chunk, list[ChunkResult]], None] | None = None,
    on_finished: Callable[[Chunk, list[ChunkResult]], None] | None = None,
) -> BatchOutcome:
    """Run the batch (or only ``chunks`` of it) and merge the aggregates.

    Args:
        batch: what to run.
        executor: ``process``, ``serial`` or ``dask``.
        workers: worker processes (default: all cores).
        address: a Dask scheduler's address.
        chunks: the chunks to run (default: all of the batch's).
        aggregates: sums already merged from other chunks (a resumed batch); merged into in place.
        on_chunk: called with each chunk's results in chunk order (a chunk that finishes early waits for those
            before it).
        on_finished: called with each chunk's results as soon as it is finished and merged, in the order chunks
            finish, so a caller can save every finished chunk before the next arrives.

    ``chunks_done`` of the outcome lists the chunks in chunk order. Whatever stops the batch (Ctrl-C, an error,
    a worker lost twice) ends its worker processes before it propagates.
    """
    if executor not in _EXECUTORS:
        raise InputError("unknown executor", key="--executor", expected="one of: " + ", ".join(EXECUTORS),
                         found=executor)
    workers = workers or default_workers()
    plan = chunks if chunks is not None else plan_chunks(batch.runs, batch.scenario.chunk_size)
    horizon = batch.scenario.horizon_weeks
    merged = aggregates if aggregates is not None else {v: Aggregates(horizon=horizon) for v in batch.variants}
    outcome = BatchOutcome(merged)
    order = [c.index for c in plan]
    waiting: dict[int, tuple[Chunk, list[ChunkResult]] | None] = {}
    next_pos = 0
    t0 = time.perf_counter()
    stream = _EXECUTORS[executor](batch, plan, workers, address)
    try:
        for chunk, results in stream:
            for res in results:
                merged[res.variant].merge(res.aggregates)
            if on_finished is not None:
                on_finished(chunk, results)
            # results are held for the in-order callback only if there is one
            waiting[chunk.index] = (chunk, results) if on_chunk is not None else None
            while next_pos < len(order) and order[next_pos] in waiting:
                held = waiting.pop(order[next_pos])
                if held is not None and on_chunk is not None:
                    on_chunk(*held)
                outcome.chunks_done.append(order[next_pos])
                next_pos += 1
    finally:
        stream.close()  # stops the executor's workers at once if the loop ended early
    outcome.wall_seconds = time.perf_counter() - t0
    return outcome
