"""A process-pool batch's timeline: a million runs of the reference scenario's baseline, aggregates only, in chunks
of 25,000 on two workers (``execute`` alone: no results folder, no command line), run ROUNDS times in one process.
The first round starts the pool's fork server; later rounds find it running. Prints each round's wall time, when
the first two chunks came back, and the mean time between chunks. Run it from the checkout to measure, alternating
checkouts in the same minutes:

    PYTHONPATH=. python benchmarks/pool_timeline.py 2
"""

import sys
import time

import numpy as np

from sim.batch.chunks import Batch
from sim.batch.executors import execute
from sim.spec.loading import default_scenarios_dir, load_doctrine, load_scenario


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    doctrine = load_doctrine()
    spec = load_scenario(default_scenarios_dir() / "limited_deployment.yaml", doctrine)
    spec = spec.model_copy(update={"runs": 1_000_000, "chunk_size": 25_000})
    batch = Batch(doctrine, spec, (spec.baseline_name,), record_runs=False, record_events=False)
    for i in range(rounds):
        back: list[float] = []
        t0 = time.perf_counter()
        execute(batch, executor="process", workers=2, on_finished=lambda c, r: back.append(time.perf_counter() - t0))
        wall = time.perf_counter() - t0
        print(f"round {i + 1}: {wall:.2f} s; first chunks back at {back[0]:.2f} and {back[1]:.2f} s, then one every "
              f"{np.diff(back).mean():.3f} s", flush=True)


if __name__ == "__main__":  # the pool's workers import this file again: the batch must not run in them
    main()
