"""The measured tables of docs/model.md (sections 9 and 10): every shipped scenario's baseline and variants.

Runs each scenario of ``scenarios/`` with ``escalation run --no-runs --no-charts --json`` (its own seed, ``--runs``
runs per variant) and prints Markdown: per scenario, the baseline's outcomes with 95% Wilson intervals and median
first weeks, then every variant's probabilities. With ``--compare FOLDER`` (a folder of earlier ``--json`` outputs,
one ``<scenario>.json`` each) it prints instead a before/after table of the main outcomes of each baseline::

    .venv/bin/python scripts/model_tables.py --runs 20000 > /tmp/tables.md
    .venv/bin/python scripts/model_tables.py --runs 5000 --save /tmp/after --compare /tmp/before
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHORT = {"nuclear_signalling": "signalling", "heavier_strikes_on_ukraine": "heavier strikes",
         "hybrid_attack_on_nato": "hybrid", "airspace_incident": "airspace",
         "strike_on_nato_forces_in_ukraine": "strike on forces", "strike_on_nato_territory": "strike on territory",
         "article4_consultation": "Article 4", "article5_invoked": "Article 5", "nato_russia_war": "war",
         "nuclear_use": "nuclear use", "strategic_nuclear_war": "strategic war", "partial_deal": "partial deal",
         "ceasefire": "ceasefire"}
MAIN = ("nuclear_signalling", "hybrid_attack_on_nato", "airspace_incident", "strike_on_nato_forces_in_ukraine",
        "strike_on_nato_territory", "nato_russia_war", "nuclear_use", "partial_deal", "ceasefire")


def summary(scenario: Path, runs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "sim", "run", str(scenario), "--runs", str(runs), "--no-runs", "--no-charts",
               "--json", "--out", tmp]
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"{scenario.name}: {done.stderr}")
        return json.loads(done.stdout)


def scenario_section(s: dict) -> str:
    base = s["variants"][s["baseline"]]
    lines = [f"Baseline ({s['runs']:,} runs, seed {s['seed']}):", "",
             "| Outcome | Probability | 95% CI | First week (median) |", "|---|---|---|---|"]
    for oid, o in base["outcomes"].items():
        lo, hi = o["ci95"]
        first = o["first_week"]["median"] if o["count"] else "-"
        lines.append(f"| `{oid}` | {o['probability']:.4f} | {lo:.4f} to {hi:.4f} | {first} |")
    lines += ["", f"Variants (probabilities; {s['runs']:,} runs each):", "",
              "| Variant | " + " | ".join(SHORT.values()) + " |", "|---|" + "---|" * len(SHORT)]
    for name, v in s["variants"].items():
        lines.append(f"| {name} | " + " | ".join(f"{v['outcomes'][o]['probability']:.3f}" for o in SHORT) + " |")
    return "\n".join(lines)


def before_after(before: dict[str, dict], after: dict[str, dict]) -> str:
    lines = ["| scenario | " + " | ".join(SHORT[o] for o in MAIN) + " |", "|---|" + "---|" * len(MAIN)]
    for name in sorted(after):
        cells = []
        for o in MAIN:
            a = after[name]["variants"][after[name]["baseline"]]["outcomes"][o]["probability"]
            b = None
            if name in before:
                b = before[name]["variants"][before[name]["baseline"]]["outcomes"][o]["probability"]
            cells.append(f"{b:.3f} -> {a:.3f}" if b is not None else f"{a:.3f}")
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20000)
    parser.add_argument("--save", type=Path, help="also keep each scenario's JSON summary in this folder")
    parser.add_argument("--compare", type=Path, help="a folder of earlier JSON summaries: print before/after")
    args = parser.parse_args()
    results = {}
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        results[path.stem] = s = summary(path, args.runs)
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            (args.save / f"{path.stem}.json").write_text(json.dumps(s))
    if args.compare:
        before = {p.stem: json.loads(p.read_text()) for p in args.compare.glob("*.json") if p.stat().st_size}
        print(before_after(before, results))
        return
    for name, s in results.items():
        print(f"### `{name}`: {s['title']}\n\n{scenario_section(s)}\n")


if __name__ == "__main__":
    main()
