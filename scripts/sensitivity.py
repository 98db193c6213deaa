"""One-at-a-time sensitivity of the tail outcomes to every model parameter at the two ends of its stated range.

For each parameter of configs/model.yaml, the reference scenarios are run at the parameter's ``low`` and ``high``
(or, with ``--calibrated``, at the 5th and 95th percentiles of its calibrated sets: a tornado), everything else at
its point value, the same seed and run indices at both ends (common random numbers), and the tail outcomes are
counted. Prints a Markdown table: per parameter, the pooled probability of each tail outcome at both ends, and the
largest factor between the ends over the scenarios in which the outcome happened at least 10 times at one end
(rarer counts are left out as noise). Used for the sensitivity and tornado tables of docs/model.md::

    .venv/bin/python scripts/sensitivity.py --runs 6000 > /tmp/sensitivity.md
    .venv/bin/python scripts/sensitivity.py --runs 6000 --calibrated > /tmp/tornado.md
"""

from __future__ import annotations

import argparse
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("limited_deployment", "full_military_involvement", "backtest_2022_2024")
TAILS = ("strike_on_nato_territory", "nato_russia_war", "nuclear_use")


def _counts(args: tuple[str, str | None, float | None, int, int]) -> tuple[str, str | None, float | None, list[int]]:
    from sim.engine.model import simulate
    from sim.engine.world import Context
    from sim.spec.loading import load_doctrine, load_scenario, with_overrides

    scenario, parameter, value, runs, seed = args
    doctrine = load_doctrine()
    spec = load_scenario(ROOT / "scenarios" / f"{scenario}.yaml", doctrine)
    overrides = dict(spec.overrides)
    if parameter is not None:
        overrides[parameter] = value
    spec = with_overrides(spec, doctrine, overrides=overrides, seed=seed, variants=[], design_parameters="fixed")
    levers = spec.levers()[0]
    res = simulate(Context.build(doctrine, spec, levers), np.arange(runs), levers.name)
    return scenario, parameter, value, [int((res.runs["first_week." + t] >= 0).sum()) for t in TAILS]


def main() -> None:
    from sim.spec.loading import load_doctrine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6000, help="runs per scenario and end (default 6000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--calibrated", action="store_true",
                        help="a tornado over the calibrated parameters: each from the 5th to the 95th percentile of "
                             "its calibrated sets (configs/calibration.yaml)")
    args = parser.parse_args()
    doctrine = load_doctrine()
    ends = {name: (p.low, p.high) for name, p in doctrine.parameters.items()}
    if args.calibrated:
        sets = np.asarray(doctrine.calibration.sets)
        ends = {name: tuple(float(v) for v in np.percentile(sets[:, j], [5, 95]))
                for j, name in enumerate(doctrine.calibration.parameters)}
    jobs = [(s, None, None, args.runs, args.seed) for s in SCENARIOS]
    jobs += [(s, name, end, args.runs, args.seed) for name, lh in ends.items() for end in lh for s in SCENARIOS]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(_counts, jobs, chunksize=4))
    table: dict[tuple[str | None, float | None], dict[str, list[int]]] = {}
    for scenario, name, value, counts in results:
        table.setdefault((name, value), {})[scenario] = counts
    n = args.runs * len(SCENARIOS)
    default = table[(None, None)]
    print(f"Runs: {args.runs:,} per scenario and end, seed {args.seed}; scenarios: {', '.join(SCENARIOS)}.")
    print("Pooled probability over the three scenarios at the parameter's low -> high end; factor: the largest "
          "ratio between the ends in one scenario (counts of 10 or more at one end).\n")
    pooled_default = [sum(default[s][i] for s in SCENARIOS) / n for i in range(len(TAILS))]
    print("Defaults: " + ", ".join(f"{t} {p:.4f}" for t, p in zip(TAILS, pooled_default, strict=False)) + "\n")
    print("| parameter | range | sourced | " + " | ".join(TAILS) + " | largest factor |")
    print("|---|---|---|" + "---|" * len(TAILS) + "---|")
    for name, (low, high) in ends.items():
        p = doctrine.parameters[name]
        lo, hi = table[(name, low)], table[(name, high)]
        cells, factor = [], 1.0
        for i in range(len(TAILS)):
            cells.append(f"{sum(lo[s][i] for s in SCENARIOS) / n:.4f} -> {sum(hi[s][i] for s in SCENARIOS) / n:.4f}")
            for s in SCENARIOS:
                a, b = lo[s][i], hi[s][i]
                if max(a, b) >= 10:
                    factor = max(factor, (max(a, b) + 0.5) / (min(a, b) + 0.5))
        sourced = "no [D]" if "[D]" in p.source else "yes"
        print(f"| `{name}` | {low:.3g}-{high:.3g} | {sourced} | " + " | ".join(cells) + f" | {factor:.1f} |")


if __name__ == "__main__":
    main()
