"""What the bench's memory sampler costs the batch it measures: the million-run batch of ``escalation bench``
(process pool, aggregates only, chunks as ``escalation run --no-runs`` chooses them) timed alternately with the
sampler (``TreeMemory``) and without it, in this process:

    PYTHONPATH=. python benchmarks/sampler_cost.py          # two rounds of each
    PYTHONPATH=. python benchmarks/sampler_cost.py 3 200000  # three rounds of 200,000 runs
"""

import sys

import sim.batch.bench as bench
from sim.spec.loading import default_scenarios_dir, load_doctrine, load_scenario


class _NoSampler:
    """Stands in for TreeMemory: samples nothing."""

    peak = peak_pss = 0
    cpu_seconds = 0.0

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __enter__(self) -> "_NoSampler":
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    doctrine = load_doctrine()
    scenario = load_scenario(default_scenarios_dir() / "limited_deployment.yaml", doctrine)
    sampler = bench.TreeMemory
    bench.measure_batch(doctrine, scenario, 20_000, 2)  # the fork server, the kernels on disk
    for _ in range(rounds):
        for name, cls in (("sampled", sampler), ("not sampled", _NoSampler)):
            bench.TreeMemory = cls  # type: ignore[misc]
            row = bench.measure_batch(doctrine, scenario, runs, 2)
            print(f"{name:>11}: {runs:,} runs in {row['seconds']:.2f} s (chunks of {row['chunk_size']:,})", flush=True)
    bench.TreeMemory = sampler  # type: ignore[misc]


if __name__ == "__main__":
    main()
