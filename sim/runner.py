"""Batches: runs cut into fixed-size chunks, each chunk stepped for every variant, on an executor of choice.

A chunk's result depends only on the batch seed and its run indices (sim/streams.py), so results are identical
serially, on a local process pool and on Dask, whatever the chunk size or the number of workers. Aggregates are
merged as chunks arrive; each chunk's results go to the results writer as soon as it is finished, so an
interrupted batch keeps every finished chunk and a resumed one computes only the others (``on_finished``); callers
that want them in chunk order get them so (``on_chunk``).

A worker process that dies (killed, out of memory) takes the chunks it was running with it: the pool is made
again and those chunks are retried once; a chunk lost twice stops the batch with :class:`WorkerLost`.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from contextlib import contextmanager
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import numpy as np

from sim.config import Doctrine, ScenarioSpec
from sim.errors import InputError, SimError
from sim.model import ChunkResult, simulate
from sim.outcomes import Aggregates
from sim.world import Context

EXECUTORS = ("process", "serial", "dask")

#: Test hook: the worker process that runs this chunk index kills itself (see :func:`_fault_injection`).
FAULT_KILL_CHUNK = "ESCALATION_FAULT_KILL_CHUNK"
#: Test hook: with this marker file, the kill happens the first time only.
FAULT_MARKER = "ESCALATION_FAULT_MARKER"
#: Test hook: the worker process that runs this chunk index hangs (a chunk that never ends).
FAULT_HANG_CHUNK = "ESCALATION_FAULT_HANG_CHUNK"


class WorkerLost(SimError):
    """A worker process died twice while running the same chunk; the batch stops and can be resumed."""

    exit_code = 1


@dataclass(frozen=True)
class Chunk:
    """Runs ``start`` (inclusive) to ``stop`` (exclusive) of a batch: chunk number ``index``."""

    index: int
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start


def plan_chunks(runs: int, chunk_size: int) -> list[Chunk]:
    """Cut ``runs`` into chunks of ``chunk_size`` (the last may be shorter).

    >>> [(c.start, c.stop) for c in plan_chunks(10, 4)]
    [(0, 4), (4, 8), (8, 10)]
    """
    return [Chunk(i, s, min(s + chunk_size, runs)) for i, s in enumerate(range(0, runs, chunk_size))]


@dataclass(frozen=True)
class Batch:
    """A fully resolved batch: doctrine, scenario, which variants, how many runs, and what to record."""

    doctrine: Doctrine
    scenario: ScenarioSpec
    variants: tuple[str, ...]
    record_runs: bool = True
    record_events: bool = True

    @property
    def runs(self) -> int:
        return self.scenario.runs

    def contexts(self) -> dict[str, Context]:
        levers = {lv.name: lv for lv in self.scenario.levers()}
        return {v: Context.build(self.doctrine, self.scenario, levers[v]) for v in self.variants}


def select_variants(scenario: ScenarioSpec, names: list[str] | None) -> tuple[str, ...]:
    """The variant names to run: all (baseline first) or those named, checked."""
    known = [lv.name for lv in scenario.levers()]
    if not names:
        return tuple(known)
    for n in names:
        if n not in known:
            raise InputError(f"unknown variant '{n}'", key="--variants", expected="one of: " + ", ".join(known), found=n)
    return tuple(dict.fromkeys(names))


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


def run_chunk(batch: Batch, chunk: Chunk, contexts: dict[str, Context] | None = None) -> tuple[Chunk, list[ChunkResult]]:
    """Step one chunk for every variant of the batch (common random numbers: same run ids for all)."""
    contexts = contexts or batch.contexts()
    run_ids = np.arange(chunk.start, chunk.stop, dtype=np.int64)
    out = []
    for v in batch.variants:
        res = simulate(contexts[v], run_ids, v, record_events=batch.record_events and batch.record_runs)
        res.headline = None  # type: ignore[assignment]  # paths stay in the worker; aggregates carry what is needed
        res.ukraine = None  # type: ignore[assignment]
        if not batch.record_runs:
            res.runs = {}
        out.append(res)
    return chunk, out


def _run_chunk_in_worker(chunk: Chunk) -> tuple[Chunk, list[ChunkResult]]:
    if _WORKER_BATCH is None:  # pragma: no cover - the pool initializer always runs first
        raise RuntimeError("worker used before its initializer ran")
    _fault_injection(chunk)
    return run_chunk(_WORKER_BATCH, chunk, _WORKER_CONTEXTS)


def _run_chunk_dask(batch: Batch, chunk: Chunk) -> tuple[Chunk, list[ChunkResult]]:
    return run_chunk(batch, chunk)


# ------------------------------------------------------------------------------------------------ executors
def _serial(batch: Batch, chunks: list[Chunk], workers: int, address: str | None) -> Iterator[tuple[Chunk, list[ChunkResult]]]:
    contexts = batch.contexts()
    for c in chunks:
        yield run_chunk(batch, c, contexts)


def _mp_context():
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        # the fork server imports the model once; each worker (a replacement for a dead one too) starts as a fork
        # of it in milliseconds instead of importing everything again. Set when a pool is made, never on import.
        ctx.set_forkserver_preload(["sim.runner"])
        return ctx
    return multiprocessing.get_context("spawn")


# ------------------------------------------------------------------------------------------------ stopping
#: How often the process-pool loop looks for a stop signal it deferred, in seconds.
STOP_POLL_SECONDS = 0.25


class _StopState:
    """Stop signals (Ctrl-C, SIGTERM) that arrived while the pool was being driven, to raise at a safe point."""

    depth = 0
    pending = False


def stop_signal_handler(signum: int, frame: object) -> None:
    """Raise KeyboardInterrupt, or defer it while inside :func:`deferred_stops`.

    An exception raised asynchronously inside ``concurrent.futures`` (in ``submit`` or ``wait``, holding their locks)
    can leave the pool's management thread blocked, and the process then hangs at exit instead of stopping.
    """
    if _StopState.depth > 0:
        _StopState.pending = True
        return
    raise KeyboardInterrupt


def raise_if_stopped() -> None:
    """Raise the stop signal that :func:`stop_signal_handler` deferred, if one came."""
    if _StopState.pending:
        _StopState.pending = False
        raise KeyboardInterrupt


@contextmanager
def deferred_stops() -> Iterator[None]:
    """Hold stop signals (when :func:`stop_signal_handler` is installed) until the block ends, then raise."""
    _StopState.depth += 1
    try:
        yield
    finally:
        _StopState.depth -= 1
        if _StopState.depth == 0 and _StopState.pending:
            _StopState.pending = False
            raise KeyboardInterrupt


def _new_pool(batch: Batch, workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context(), initializer=_init_worker,
                               initargs=(batch,))


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: cancel what has not started and end the worker processes, running chunks included."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
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


def _process(batch: Batch, chunks: list[Chunk], workers: int, address: str | None) -> Iterator[tuple[Chunk, list[ChunkResult]]]:
    if workers <= 1 or len(chunks) <= 1:
        yield from _serial(batch, chunks, workers, address)
        return
    n = min(workers, len(chunks))
    queue = deque(chunks)
    suspects: deque[Chunk] = deque()  # chunks lost with a dead worker: retried one at a time
    retried: set[int] = set()
    pool = _new_pool(batch, n)
    pending: dict[Future, Chunk] = {}
    # for the whole batch, a stop signal is held and raised only at the top of the loop: never inside the
    # pool's own locks, the progress bar or the writer
    with deferred_stops():
        try:
            while queue or pending or suspects:
                raise_if_stopped()
                broken = False
                if suspects:
                    todo, limit = suspects, 1
                else:  # keep a bounded number of chunks in flight so results never pile up in memory
                    todo, limit = queue, 2 * n
                done: set[Future] = set()
                while todo and len(pending) < limit:
                    c = todo.popleft()
                    try:
                        pending[pool.submit(_run_chunk_in_worker, c)] = c
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
                    pool = _new_pool(batch, n)
        except BaseException:
            _terminate(pool)
            raise
        pool.shutdown(wait=True)


def check_scheduler(address: str) -> None:
    """Connect to the Dask scheduler at ``address`` and disconnect; an InputError if it cannot be reached."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise InputError("the Dask executor needs dask's distributed scheduler",
                         hint="Install it with: pip install 'escalation-sim[dask]'") from None
    try:
        Client(address, timeout="10s").close()
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"cannot reach the Dask scheduler ({exc})", key="--address", found=address,
                         hint="Start one with 'dask scheduler' and workers with 'dask worker ADDRESS'") from None


def local_cluster(workers: int):
    """The local Dask cluster that ``--executor dask`` starts: ``workers`` processes of one thread each.

    Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536, which turns off glibc's adaptive thresholds: every array
    of more than 128 KiB is then mapped and unmapped afresh, and the engine runs three times slower. This cluster's
    workers are started without it.
    """
    import dask
    from dask.distributed import LocalCluster

    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        return LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True, dashboard_address=":0")


def _dask(batch: Batch, chunks: list[Chunk], workers: int, address: str | None) -> Iterator[tuple[Chunk, list[ChunkResult]]]:
    """One Dask task per chunk, on a local cluster of ``workers`` processes or on the scheduler at ``address``.

    The batch is sent to every worker once; at most two tasks per worker thread are in flight, so results never
    pile up on the cluster, and each is released as soon as it has been handed on.
    """
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise InputError(
            "the Dask executor needs dask's distributed scheduler",
            hint="Install it with: pip install 'escalation-sim[dask]'",
        ) from None
    cluster = None
    if address:
        try:
            client = Client(address, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"cannot reach the Dask scheduler ({exc})", key="--address", found=address,
                             hint="Start one with 'dask scheduler' and workers with 'dask worker ADDRESS'") from None
    else:
        cluster = local_cluster(workers)
        client = Client(cluster)
    try:
        batch_future = client.scatter(batch, broadcast=True)
        todo = list(reversed(chunks))
        running = as_completed()
        in_flight = 0

        def top_up() -> None:  # workers may join a running scheduler: count their threads each time
            nonlocal in_flight
            slots = max(2, 2 * sum(client.nthreads().values()))
            while todo and in_flight < slots:
                running.add(client.submit(_run_chunk_dask, batch_future, todo.pop(), pure=False))
                in_flight += 1

        top_up()
        for f in running:
            result = f.result()
            f.release()
            in_flight -= 1
            top_up()
            yield result
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


_EXECUTORS: dict[str, Callable[..., Iterator[tuple[Chunk, list[ChunkResult]]]]] = {
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
        raise InputError("unknown executor", key="--executor", expected="one of: " + ", ".join(EXECUTORS), found=executor)
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
