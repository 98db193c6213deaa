"""Where a Dask batch spends its time: the steps of ``--executor dask`` on a local cluster of two workers (the
cluster of ``sim.batch.cluster.local_cluster``), each printed with the seconds since the start, for the reference
scenario's baseline, aggregates only, in the chunks ``escalation run --no-runs`` takes:

    PYTHONPATH=. python benchmarks/dask_timeline.py            # a million runs
    PYTHONPATH=. python benchmarks/dask_timeline.py 200000
"""

import sys
import time


def main() -> None:
    t0 = time.perf_counter()

    def say(what: str) -> None:
        print(f"{time.perf_counter() - t0:6.2f} s  {what}", flush=True)

    from dask.distributed import Client, as_completed

    from sim.batch.chunks import Batch, plan_chunks
    from sim.batch.cluster import local_cluster
    from sim.batch.work import _run_chunk_dask
    from sim.spec.loading import default_scenarios_dir, load_doctrine, load_scenario, with_overrides
    from sim.spec.scenario import auto_chunk_size

    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    doctrine = load_doctrine()
    spec = load_scenario(default_scenarios_dir() / "limited_deployment.yaml", doctrine)
    spec = with_overrides(spec, doctrine, runs=runs, chunk_size=auto_chunk_size(runs, tables=False))
    batch = Batch(doctrine, spec, (spec.baseline_name,), record_runs=False, record_events=False)
    chunks = plan_chunks(spec.runs, spec.chunk_size)
    say(f"imports and plan: {len(chunks)} chunks of {spec.chunk_size:,}")
    cluster = local_cluster(2)
    client = Client(cluster)
    say("cluster up, client connected")
    held = client.scatter(batch, broadcast=True)
    say("batch on both workers")
    todo, running = list(reversed(chunks)), as_completed()
    for _ in range(4):  # two tasks per worker in flight, as the executor keeps them
        running.add(client.submit(_run_chunk_dask, held, todo.pop(), pure=False))
    first, done = None, 0
    for future in running:
        future.result()
        future.release()
        done += 1
        if first is None:
            first = time.perf_counter()
            say("first chunk back")
        if todo:
            running.add(client.submit(_run_chunk_dask, held, todo.pop(), pure=False))
    say(f"last chunk back ({done} chunks; {(time.perf_counter() - first) / max(done - 1, 1):.3f} s a chunk since the "
        "first)")
    client.close()
    cluster.close()
    say("cluster closed")


if __name__ == "__main__":  # Dask starts its workers by spawning: the script must not run again in them
    main()
