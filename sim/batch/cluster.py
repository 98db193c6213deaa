"""The Dask executor: one task per chunk, on a local cluster or on a running scheduler.
"""

from __future__ import annotations

from sim.batch.chunks import Batch, Chunk
from sim.batch.work import ChunkStream, _run_chunk_dask
from sim.errors import InputError


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
