"""The Dask executor: one task per chunk, on a local cluster or on a running scheduler.
"""

from __future__ import annotations

from sim.batch import forking
from sim.batch.chunks import Batch, Chunk
from sim.batch.stopping import raise_if_stopped
from sim.batch.work import ChunkStream, _run_chunk_dask
from sim.errors import InputError, SimError


class SchedulerLost(SimError):
    """The Dask scheduler went away mid-batch; the batch stops, resumably."""

    exit_code = 1


#: Seconds a scheduler is given to show at least one worker before the batch is refused.
WORKER_WAIT_SECONDS = 3.0
#: Address schemes the Dask executor connects with: plain TCP (``tcp://host:port``, or ``host:port``).
SCHEMES = ("tcp",)
_REACH_HINT = "Start one with 'dask scheduler' and workers with 'dask worker ADDRESS'"


def check_address(address: str) -> None:
    """Refuse (:class:`InputError`) an address whose protocol the executor does not speak: TLS needs certificates
    it has no settings for, UCX a library it does not require.

    >>> check_address("tcp://127.0.0.1:8786"), check_address("10.0.0.2:8786")
    (None, None)
    """
    scheme, sep, rest = address.partition("://")
    if not sep:
        return
    if scheme not in SCHEMES or not rest:
        raise InputError(f"the Dask executor connects over plain TCP only, not {scheme}://", key="--address",
                         expected="tcp://HOST:PORT", found=address,
                         hint="Give the scheduler's tcp:// address (TLS and UCX need settings this command has no "
                         "options for)")


def _dask_logs_quiet():
    """Dask's own loggers silenced while the block runs: a lost scheduler is told in one message, not as Dask's
    tracebacks on standard error."""
    import contextlib
    import logging

    @contextlib.contextmanager
    def quiet():
        loggers = [logging.getLogger(name) for name in ("distributed", "distributed.client", "distributed.core",
                                                        "distributed.comm", "distributed.batched", "tornado")]
        levels = [lg.level for lg in loggers]
        for lg in loggers:
            lg.setLevel(logging.CRITICAL + 1)
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels, strict=True):
                lg.setLevel(level)

    return quiet()


def check_scheduler(address: str) -> None:
    """Connect to the Dask scheduler at ``address`` and disconnect; an InputError if it cannot be reached, speaks
    another protocol, or has no worker to run chunks on."""
    check_address(address)
    try:
        from dask.distributed import Client
    except ImportError:
        raise InputError("the Dask executor needs dask's distributed scheduler",
                         hint="Install it with: pip install 'escalation-sim[dask]'") from None
    with _dask_logs_quiet():
        try:
            client = Client(address, timeout="10s")
        except Exception as exc:  # unreachable, refused, a bad address: one message, whatever Dask raised
            raise InputError(f"cannot reach the Dask scheduler ({type(exc).__name__}: {exc})", key="--address",
                             found=address, hint=_REACH_HINT) from None
        try:
            try:
                client.wait_for_workers(1, timeout=WORKER_WAIT_SECONDS)
            except Exception:  # a timeout: the scheduler has no worker
                raise InputError(f"the Dask scheduler has no workers (none joined within {WORKER_WAIT_SECONDS:g} s)",
                                 key="--address", found=address,
                                 hint="Start workers with 'dask worker ADDRESS', then run again") from None
        finally:
            client.close()


#: What the local cluster's workers do beside their tasks, made rarer (:func:`local_cluster`): the statistical
#: profiler that samples the task's stack every 10 ms (for a dashboard no one looks at here), the event loop's
#: 20 ms check that it is not blocked, the system monitor's readings every 0.5 s and the memory monitor's every
#: 0.1 s. Together they took about 0.4 CPU-s per worker over a million runs, about 4% of a worker, on the cores
#: the chunks need, and these settings leave 0.04 (benchmarks/RESULTS.md, "Sixth round"). The memory limit is
#: still enforced, once a second.
QUIET_WORKERS: dict[str, object] = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
}


def local_cluster(workers: int):
    """The local Dask cluster that ``--executor dask`` starts: ``workers`` processes of one thread each.

    Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536, which turns off glibc's adaptive thresholds: every array
    of more than 128 KiB is then mapped and unmapped afresh, and the engine runs three times slower. This cluster's
    workers are started without it, and with less to do beside their tasks (:data:`QUIET_WORKERS`).

    Where the platform has a fork server, the workers are forked from it, the model and Dask preloaded
    (:mod:`sim.batch.forking`), as the process pool's are, rather than started afresh to import both.
    """
    import multiprocessing

    import dask
    from dask.distributed import LocalCluster

    settings: dict[str, object] = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None, **QUIET_WORKERS}
    if "forkserver" in multiprocessing.get_all_start_methods():
        forking.start(forking.DASK_PRELOAD, forking.dask_environ())
        try:
            forking.wait_ready(raise_if_stopped)
        except BaseException:
            forking.end_loading()
            raise
        settings["distributed.worker.multiprocessing-method"] = "forkserver"
    with dask.config.set(settings):
        return LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True, dashboard_address=":0")


def _dask(batch: Batch, chunks: list[Chunk], workers: int, address: str | None) -> ChunkStream:
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
    with _dask_logs_quiet():
        yield from _dask_stream(Client, as_completed, batch, chunks, workers, address)


def _dask_stream(Client, as_completed, batch: Batch, chunks: list[Chunk], workers: int,  # noqa: N803
                 address: str | None) -> ChunkStream:
    cluster = None
    if address:
        check_address(address)
        try:
            client = Client(address, timeout="10s")
        except Exception as exc:  # unreachable, refused, a bad address: one message, whatever Dask raised
            raise InputError(f"cannot reach the Dask scheduler ({type(exc).__name__}: {exc})", key="--address",
                             found=address, hint=_REACH_HINT) from None
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
            try:
                result = f.result()
            except Exception as exc:
                if client.status == "running" and "connection-lost" not in str(exc):
                    raise  # the chunk itself failed: the batch reports it
                raise SchedulerLost(f"lost the Dask scheduler at {address or 'the local cluster'} "
                                    f"({type(exc).__name__})") from None
            f.release()
            in_flight -= 1
            top_up()
            yield result
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
