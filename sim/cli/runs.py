"""``escalation runs``: the runs of a results folder worth reading, by how high and how soon they climbed."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from sim.cli.common import fail, out, print_json
from sim.errors import SimError

Results = Annotated[Path, typer.Argument(metavar="RESULTS_DIR", help="A results folder written by run, compare or "
                                         "sweep.", show_default=False)]
Where = Annotated[str | None, typer.Option("--where", help="Only runs in which this outcome happened.")]
Worst = Annotated[int, typer.Option("--worst", min=1, help="How many runs to list, most escalated first.")]
Variant = Annotated[str | None, typer.Option("--variant", help="Only this variant (default: all).")]
Json = Annotated[bool, typer.Option("--json", help="Print the runs, with every sampled parameter, as JSON.")]


def runs(results: Results, where: Where = None, worst: Worst = 10, variant: Variant = None,
         as_json: Json = False) -> None:
    """List the most escalated runs of a results folder (highest rung first, then soonest), with the outcomes
    they reached and their sampled parameters; replay one with ``escalation trace --run K --variant V``."""
    from sim.output.ranking import rank_runs
    from sim.present.publish import check_results_folder

    try:
        folder = check_results_folder(results)
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        ranked = rank_runs(folder, where=where, worst=worst, variant=variant, rung_names=summary.get("rung_names"))
    except SimError as exc:
        fail(exc)
    if as_json:
        print_json({"results": str(folder), "where": where, "variant": variant, "runs": ranked})
        return
    t = Table(title=f"{summary.get('title', '')}: the {len(ranked)} most escalated runs"
                    + (f" where {where} happened" if where else ""))
    for col in ("run", "variant", "highest rung", "week", "outcomes (first week)",
                "unusual parameters (IQRs from median)"):
        t.add_column(col)
    for r in ranked:
        t.add_row(str(r["run"]), r["variant"], f"{r['max_rung']} {r['max_rung_name'] or ''}".strip(),
                  str(r["week_of_max_rung"]), ", ".join(f"{o} ({w})" for o, w in r["outcomes"].items()),
                  ", ".join(f"{k} {v:+.1f}" for k, v in r["notable"].items()))
    out.print(t)
    if ranked:
        out.print(replay_hint(folder, ranked[0]), highlight=False, markup=False, soft_wrap=True)


def replay_hint(folder: Path, first: dict[str, Any]) -> str:
    """How to replay the first run listed, with the batch's own scenario file, seed and run count (from the
    folder's manifest); for a sweep point, which ``trace`` cannot replay by name, how to reproduce it."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        manifest = {}
    manifest = manifest if isinstance(manifest, dict) else {}
    scenario = manifest.get("scenario_file") or "SCENARIO"
    batch = f"--seed {manifest['seed']} --runs {manifest['runs']}" if "seed" in manifest and "runs" in manifest \
        else ""
    configs = f" --configs {shlex.quote(str(manifest['configs']))}" if manifest.get("configs") else ""
    run, variant = first["run"], first["variant"]
    points = (manifest.get("sweep") or {}).get("points") or {}
    if variant in points:
        levers = ", ".join(f"{p}={v}" for p, v in points[variant].items())
        return (f"replay: {variant} is a sweep point, not a variant of {scenario}, so 'escalation trace' cannot "
                f"replay it by name; to reproduce run {run}, write its levers ({levers}) as a variant named "
                f"{variant} in a copy of the scenario file and run: escalation trace COPY --run {run} "
                f"--variant {variant} {batch}{configs}").rstrip()
    return (f"replay: escalation trace {shlex.quote(str(scenario))} --run {run} --variant {variant} "
            f"{batch}{configs}").rstrip() + " (every sampled parameter of each run: --json)"
