"""The engine of two checkouts side by side: one process per checkout, each with its engine loaded, asked in turn
to step one chunk of the reference scenario's baseline, so that both meet the machine's drift alike (its speed can
move by a tenth or more within a minute, which hid a change of 5% from processes run one after the other:
benchmarks/RESULTS.md, seventh round). Prints the runs per CPU-second of each and their ratio:

    python benchmarks/engine_ab.py OLD_CHECKOUT NEW_CHECKOUT [ROUNDS] [CHUNK]
    ESCALATION_ENGINE=numpy python benchmarks/engine_ab.py /tmp/old . 20 10000

Each round steps the next chunk of runs in both processes (in alternating order), so both step the same runs.
"""

import os
import statistics
import subprocess
import sys
from pathlib import Path

#: What each process runs: it loads the engine, then steps the chunk it is sent and answers with the CPU-seconds.
STEPPER = """
import sys, time
import numpy as np
from sim.batch.bench import baseline_context
from sim.engine.model import simulate
from sim.spec.loading import default_scenarios_dir, load_doctrine, load_scenario
doctrine = load_doctrine()
ctx = baseline_context(doctrine, load_scenario(default_scenarios_dir() / "limited_deployment.yaml", doctrine))
simulate(ctx, np.arange(100), "baseline")
print("ready", flush=True)
for line in sys.stdin:
    start, stop = map(int, line.split())
    t0 = time.process_time()
    simulate(ctx, np.arange(start, stop), "baseline")
    print(time.process_time() - t0, flush=True)
"""


def stepper(checkout: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", STEPPER], cwd=checkout, text=True, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(checkout)})
    if proc.stdout is None or proc.stdout.readline().strip() != "ready":
        raise SystemExit(f"the engine of {checkout} did not load")
    return proc


def step(proc: subprocess.Popen, start: int, stop: int) -> float:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(f"{start} {stop}\n")
    proc.stdin.flush()
    return float(proc.stdout.readline())


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    checkouts = [Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    size = int(sys.argv[4]) if len(sys.argv) > 4 else 10_000
    procs = [stepper(c) for c in checkouts]
    cpu: list[list[float]] = [[], []]
    try:
        for r in range(rounds):
            for i in (0, 1) if r % 2 == 0 else (1, 0):
                cpu[i].append(step(procs[i], r * size, (r + 1) * size))
    finally:
        for proc in procs:
            proc.kill()
    rates = [rounds * size / sum(c) for c in cpu]
    # each round's two chunks ran next to each other: the median of their ratios is the least moved by the drift
    paired = statistics.median(a / b for a, b in zip(cpu[0], cpu[1], strict=True))
    quartiles = statistics.quantiles([a / b for a, b in zip(cpu[0], cpu[1], strict=True)], n=4)
    engine = os.environ.get("ESCALATION_ENGINE", "numba")
    print(f"{engine}, chunks of {size:,}, {rounds} rounds: {checkouts[0]} {rates[0]:,.0f} runs per CPU-second, "
          f"{checkouts[1]} {rates[1]:,.0f} (ratio of the sums {rates[1] / rates[0]:.3f}); the second is "
          f"{paired:.3f}x the first, round by round (quartiles {quartiles[0]:.3f}-{quartiles[2]:.3f})")


if __name__ == "__main__":
    main()
