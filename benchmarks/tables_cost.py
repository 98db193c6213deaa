"""What per-run tables and events cost, process by process: ``escalation run`` of the reference scenario's
baseline, 200,000 runs (or the number given) in chunks of 10,000 on two workers, with aggregates only
(``--no-runs``) and then with tables and events (``--events``), each in a fresh process, ROUNDS times. Prints the
CPU-seconds of the whole command and of each of its processes: the main process (which writes the chunk parts and
joins them), the fork server and the two workers. Run it from the checkout to measure (``PYTHONPATH`` chooses the
code), alternating checkouts in the same minutes:

    PYTHONPATH=. python benchmarks/tables_cost.py 3
    PYTHONPATH=. python benchmarks/tables_cost.py 3 1000000
"""

import os
import subprocess
import sys
import tempfile

from sim.batch.bench import _ROOT, TreeMemory, _fresh_env
from sim.spec.loading import default_scenarios_dir


def command(args: list[str]) -> tuple[float, list[float]]:
    """The command's CPU-seconds in all, and each process's, in the order the processes were started."""
    proc = subprocess.Popen([sys.executable, "-m", "sim", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=_fresh_env(), cwd=_ROOT)
    with TreeMemory(root=proc.pid) as mem:
        _, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"escalation {' '.join(args)} failed: {err.decode().strip()}")
    hz = os.sysconf("SC_CLK_TCK")
    per = [(ticks - mem._start[pid]) / hz for pid, ticks in sorted(mem._ticks.items())]
    return mem.cpu_seconds, [c for c in per if c >= 0.05]  # the resource tracker uses next to nothing


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
