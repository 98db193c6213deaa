"""Time a batch end to end with and without its charts and report, to check that drawing costs at most as much as
the batch itself.

Runs ``escalation run SCENARIO --runs N`` alternately with and without ``--no-charts`` (``--tries`` times each, into
a temporary folder), and prints each try, the median of each mode, their ratio, the 1-minute load average before
and after, and the CPU time of all the processes of each try (steadier than wall time on a shared machine)::

    PYTHONPATH=. .venv/bin/python scripts/chart_timing.py --runs 2000 --tries 3

Extra options after ``--`` go to ``escalation run`` (``-- --svg``).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def once(scenario: Path, runs: int, charts: bool, out: Path, extra: list[str]) -> tuple[float, float]:
    """One run of the command: (wall seconds, CPU seconds of it and its children)."""
    cmd = [sys.executable, "-m", "sim", "run", str(scenario), "--runs", str(runs), "--out", str(out), *extra]
    if not charts:
        cmd.append("--no-charts")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", type=Path, default=ROOT / "scenarios" / "limited_deployment.yaml")
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--tries", type=int, default=3)
    parser.add_argument("extra", nargs="*", help="options for 'escalation run' (after --)")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    times: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    with tempfile.TemporaryDirectory(prefix="chart-timing-") as tmp:
        for i in range(args.tries):
            for charts in (False, True):
                wall, cpu = once(args.scenario, args.runs, charts, Path(tmp) / str(i), args.extra)
                times[charts].append((wall, cpu))
                print(f"try {i + 1} {'with charts' if charts else 'no charts  '}: {wall:5.2f} s wall, {cpu:5.2f} s CPU",
                      flush=True)
    med = {c: statistics.median(w for w, _ in times[c]) for c in times}
    cpu = {c: statistics.median(u for _, u in times[c]) for c in times}
    print(f"median without charts: {med[False]:.2f} s wall ({cpu[False]:.2f} s CPU)")
    print(f"median with charts:    {med[True]:.2f} s wall ({cpu[True]:.2f} s CPU)")
    print(f"ratio: {med[True] / med[False]:.2f} (wall), {cpu[True] / cpu[False]:.2f} (CPU)")
    print(f"load average (1 min): {load:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} core(s)")


if __name__ == "__main__":
    main()
