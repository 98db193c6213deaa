"""One-at-a-time sensitivity of the tail outcomes to every model parameter at the two ends of its stated range.

For each parameter of configs/model.yaml, the reference scenarios are run at the parameter's ``low`` and ``high``
(or, with ``--calibrated``, at the 5th and 95th percentiles of its calibrated sets: a tornado), everything else at
its point value, the same seed and run indices at both ends (common random numbers), and the tail outcomes are
counted (``sim.output.calibration.tornado``). Prints a Markdown table: per parameter, the pooled probability of each
tail outcome at both ends, and the largest factor between the ends over the scenarios in which the outcome happened
at least 10 times at one end (rarer counts are left out as noise). Used for the sensitivity and tornado tables of
docs/model.md::

    .venv/bin/python scripts/sensitivity.py --runs 6000 > /tmp/sensitivity.md
    .venv/bin/python scripts/sensitivity.py --runs 4000 --calibrated > /tmp/tornado.md
"""

from __future__ import annotations

import argparse
import os

from sim.output.calibration import REFERENCE, calibrated_ends, tornado
from sim.spec.loading import load_doctrine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6000, help="runs per scenario and end (default 6000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--calibrated", action="store_true",
                        help="each calibrated parameter from the 5th to the 95th percentile of its calibrated sets")
    args = parser.parse_args()
    doctrine = load_doctrine()
    ends = calibrated_ends(doctrine) if args.calibrated else {
        name: (p.low, p.high) for name, p in doctrine.parameters.items()}
    result = tornado(ends, runs=args.runs, seed=args.seed, workers=args.workers)
    tails = result["tails"]
    print(f"Runs: {args.runs:,} per scenario and end, seed {args.seed}; scenarios: {', '.join(REFERENCE)}.")
    print("Pooled probability over the three scenarios at the parameter's low -> high end; factor: the largest "
          "ratio between the ends in one scenario (counts of 10 or more at one end).\n")
    print("Defaults: " + ", ".join(f"{t} {p:.4f}" for t, p in result["at_point_values"].items()) + "\n")
    print("| parameter | range | sourced | " + " | ".join(tails) + " | largest factor |")
    print("|---|---|---|" + "---|" * len(tails) + "---|")
    for row in result["rows"]:
        p = doctrine.parameters[row["parameter"]]
        cells = [f"{row['at_low'][t]:.4f} -> {row['at_high'][t]:.4f}" for t in tails]
        sourced = "no [D]" if "[D]" in p.source else "yes"
        print(f"| `{row['parameter']}` | {row['low']:.3g}-{row['high']:.3g} | {sourced} | " + " | ".join(cells)
              + f" | {row['factor']:.1f} |")


if __name__ == "__main__":
    main()
