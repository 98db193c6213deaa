"""What per-run tables and events cost, process by process: ``escalation run`` of the reference scenario's
baseline, 200,000 runs (or the number given) in chunks of 10,000 on two workers, with aggregates only
(``--no-runs``) and then with tables and events (``--events``), each in a fresh process, ROUNDS times. Prints the
CPU-seconds of the whole command and of each of its processes: the main process (which writes the chunk parts and
joins them), the fork server and the two workers. Run it from the checkout to measure (``PYTHONPATH`` chooses the
code), alternating checkouts in the same minutes:

    PYTHONPATH=. python benchmarks/tables_cost.py 3
    PYTHONPATH=. python benchmarks/tables_cost.py 3 1000000
"""

import sys
import tempfile

from sim.batch.bench import measure_command
from sim.spec.loading import default_scenarios_dir


def command(args: list[str]) -> tuple[float, list[float]]:
    """The command's CPU-seconds in all, and each process's, in the order the processes were started."""
    measured = measure_command(args)
    # the resource tracker uses next to nothing
    return measured["cpu_seconds"], [c for c in measured["cpu_seconds_by_process"] if c >= 0.05]


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    scenario = default_scenarios_dir() / "limited_deployment.yaml"
    base = ["run", str(scenario), "--runs", str(runs), "--variants", "baseline", "--no-charts", "--workers", "2",
            "--chunk-size", "10000"]
    with tempfile.TemporaryDirectory(prefix="escalation-tables-") as out:
        for r in range(rounds):
            costs = {}
            for mode in ("--no-runs", "--events"):
                total, per = command([*base, mode, "--out", out])
                costs[mode] = total
                print(f"round {r + 1} {mode:9s}: {total:5.2f} CPU-s; main, server, workers: "
                      + ", ".join(f"{c:.2f}" for c in per), flush=True)
            print(f"round {r + 1}: the tables cost {costs['--events'] / costs['--no-runs'] - 1:+.0%}", flush=True)


if __name__ == "__main__":
    main()
