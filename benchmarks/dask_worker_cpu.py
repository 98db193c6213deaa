"""Where a Dask worker's CPU goes: a million runs of the reference scenario's baseline, aggregates only, in chunks of
25,000, on the local cluster of ``--executor dask`` (two workers of one thread). For each worker it prints the
CPU-seconds of the whole process while its tasks ran and those of the thread that ran them; the difference is what
the worker's other threads (Dask's profiler, its event loop, its monitors) took meanwhile. With ``--dask-defaults``
the cluster keeps Dask's own settings for what ``sim.batch.cluster.QUIET_WORKERS`` changes, to compare:

    PYTHONPATH=. python benchmarks/dask_worker_cpu.py
    PYTHONPATH=. python benchmarks/dask_worker_cpu.py --dask-defaults
"""

import os
import sys
import time

from sim.batch.chunks import Batch, Chunk
from sim.batch.work import run_chunk
from sim.spec.loading import default_scenarios_dir, load_doctrine, load_scenario

#: Dask's defaults for the settings the local cluster changes.
DASK_DEFAULTS = {
    "distributed.worker.profile.enabled": True,
    "distributed.admin.tick.interval": "20ms",
    "distributed.admin.system-monitor.interval": "500ms",
    "distributed.worker.memory.monitor-interval": "100ms",
}


def task(batch: Batch, chunk: Chunk) -> tuple[int, float, float]:
    """Run one chunk; return the worker's process id, and the CPU-seconds of its process and of this thread."""
    process, thread = time.process_time(), time.thread_time()
    run_chunk(batch, chunk)
    return os.getpid(), time.process_time() - process, time.thread_time() - thread


def main() -> None:
    from dask.distributed import Client

    from sim.batch import cluster

    if "--dask-defaults" in sys.argv:
        cluster.QUIET_WORKERS.update(DASK_DEFAULTS)
    doctrine = load_doctrine()
    spec = load_scenario(default_scenarios_dir() / "limited_deployment.yaml", doctrine)
    spec = spec.model_copy(update={"runs": 1_000_000, "chunk_size": 25_000})
    batch = Batch(doctrine, spec, (spec.baseline_name,), record_runs=False, record_events=False)
    with cluster.local_cluster(2) as local, Client(local) as client:
        sent = client.scatter(batch, broadcast=True)
        futures = [client.submit(task, sent, Chunk(i, i * 25_000, (i + 1) * 25_000), pure=False) for i in range(40)]
        by_worker: dict[int, list[tuple[float, float]]] = {}
        for pid, process, thread in client.gather(futures):
            by_worker.setdefault(pid, []).append((process, thread))
    for n, rows in enumerate(by_worker.values(), 1):
        process = sum(r[0] for r in rows)
        thread = sum(r[1] for r in rows)
        print(f"worker {n}: {len(rows)} chunks; {process:.2f} CPU-s in all while they ran, {thread:.2f} in the "
              f"thread that ran them, {process - thread:.2f} in the worker's other threads")


if __name__ == "__main__":
    main()
