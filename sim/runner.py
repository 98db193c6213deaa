"""Batches: runs cut into fixed-size chunks, each chunk stepped for every variant, on an executor of choice.

A chunk's result depends only on the batch seed and its run indices (sim/streams.py), so results are identical
serially, on a local process pool and on Dask, whatever the chunk size or the number of workers. Aggregates are
merged as chunks arrive; per-run rows and events go to the results writer chunk by chunk, in chunk order.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field

import numpy as np

from sim.config import Doctrine, ScenarioSpec
from sim.errors import InputError
from sim.model import ChunkResult, simulate
from sim.outcomes import Aggregates
from sim.world import Context

EXECUTORS = ("process", "serial", "dask")


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
    _WORKER_BATCH = batch
    _WORKER_CONTEXTS = batch.contexts()


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
    assert _WORKER_BATCH is not None
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
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _process(batch: Batch, chunks: list[Chunk], workers: int, address: str | None) -> Iterator[tuple[Chunk, list[ChunkResult]]]:
    if workers <= 1 or len(chunks) <= 1:
        yield from _serial(batch, chunks, workers, address)
        return
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=_mp_context(),
                             initializer=_init_worker, initargs=(batch,)) as pool:
        pending: set[Future] = set()
        todo = iter(chunks)
        # keep a bounded number of chunks in flight so results never pile up in memory
        for c in todo:
            pending.add(pool.submit(_run_chunk_in_worker, c))
            if len(pending) >= 2 * workers:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                yield f.result()
                nxt = next(todo, None)
                if nxt is not None:
                    pending.add(pool.submit(_run_chunk_in_worker, nxt))


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
            hint="install it with: pip install 'escalation-sim[dask]'",
        ) from None
    cluster = None
    if address:
        try:
            client = Client(address, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise InputError(f"cannot reach the Dask scheduler ({exc})", key="--address", found=address,
                             hint="start one with 'dask scheduler' and workers with 'dask worker ADDRESS'") from None
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
    on_chunk: Callable[[Chunk, list[ChunkResult]], None] | None = None,
) -> BatchOutcome:
    """Run the batch and merge the aggregates; ``on_chunk`` receives each chunk's results in chunk order."""
    if executor not in _EXECUTORS:
        raise InputError("unknown executor", key="--executor", expected="one of: " + ", ".join(EXECUTORS), found=executor)
    workers = workers or default_workers()
    plan = chunks if chunks is not None else plan_chunks(batch.runs, batch.scenario.chunk_size)
    horizon = batch.scenario.horizon_weeks
    merged = {v: Aggregates(horizon=horizon) for v in batch.variants}
    outcome = BatchOutcome(merged)
    order = [c.index for c in plan]
    waiting: dict[int, tuple[Chunk, list[ChunkResult]]] = {}
    next_pos = 0
    t0 = time.perf_counter()
    for chunk, results in _EXECUTORS[executor](batch, plan, workers, address):
        for res in results:
            merged[res.variant].merge(res.aggregates)
        waiting[chunk.index] = (chunk, results)
        while next_pos < len(order) and order[next_pos] in waiting:
            c, r = waiting.pop(order[next_pos])
            if on_chunk is not None:
                on_chunk(c, r)
            outcome.chunks_done.append(c.index)
            next_pos += 1
    outcome.wall_seconds = time.perf_counter() - t0
    return outcome


def python_version() -> str:
    return sys.version.split()[0]
