"""``escalation analyse``: which sampled assumptions and levers drive each outcome of a results folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import fail, out, print_json
from sim.cli.sweep import cannot_write
from sim.errors import SimError
from sim.present.text import RARE, percent, share

Results = Annotated[Path, typer.Argument(metavar="RESULTS_DIR", help="A results folder written by run, compare or "
                                         "sweep (with its per-run table).", show_default=False)]
Outcome = Annotated[list[str] | None, typer.Option(
    "--outcome", help="Outcome id to analyse; repeat for several (default: the tails of the Russia-NATO axis).",
    show_default=False)]
Seed = Annotated[int, typer.Option("--seed", min=0, help="Seed of the bootstrap intervals.")]
Json = Annotated[bool, typer.Option("--json", help="Print the analysis as JSON on stdout.")]


def analyse(results: Results, outcome: Outcome = None, seed: Seed = 0, as_json: Json = False) -> None:
    """Global sensitivity (first-order indices with 95% intervals, SALib's RBD-FAST on the runs as sampled) and
    scenario discovery (a PRIM box with its coverage and density) for each outcome; writes
    RESULTS_DIR/analysis/ with analysis.json, a tornado and a PRIM trade-off chart per outcome, and analysis.html."""
    from sim.output.analysis import analyse as run_analysis
    from sim.output.statistics import wilson_interval
    from sim.present.analysis_charts import publish_analysis
    from sim.present.publish import check_results_folder

    try:
        folder = check_results_folder(results)
        analysis = run_analysis(folder, outcome, seed)
    except SimError as exc:
        fail(exc)
    target = folder / "analysis"
    try:
        publish_analysis(analysis, target)
    except OSError as exc:  # a file in the way of the analysis folder, a full or read-only disk
        fail(cannot_write(exc, target))
    if as_json:
        print_json(dict(analysis, folder=str(target)))
        return
    for oid, res in analysis["outcomes"].items():
        happened = share(res["count"], res["runs"], wilson_interval(res["count"], res["runs"]), unit=True)
        out.print(f"{oid}: {happened} of {res['runs']:,} runs" if res["count"] >= RARE * res["runs"]
                  else f"{oid}: {happened}")
        for r in res["sensitivity"][:5]:
            out.print(f"  S1 {_num(r['S1'])} [{_num(r['ci95'][0])}, {_num(r['ci95'][1])}]  {r['input']}")
        box = res["prim"]
        shown = [r for r in box["restrictions"] if r["significant"]]
        out.print(f"  PRIM box: coverage {percent(box['coverage'])}%, density {percent(box['density'])}% "
                  f"(all runs: {percent(box['base_density'])}%), "
                  f"mass {percent(box['mass'])}%")
        if len(shown) < len(box["restrictions"]):
            out.print(f"    restrictions with qp < 0.05 ({len(box['restrictions']) - len(shown)} weaker ones in "
                      "analysis.json):")
        for r in shown:
            where = (", ".join(str(v) for v in r["values"]) if r.get("values") is not None
                     else f"{r['min']:.3g} to {r['max']:.3g}")
            out.print(f"    {r['input']} in [{where}]  (qp {r['qp']:.3g})")
    for oid, why in analysis["skipped"].items():
        out.print(f"{oid}: not analysed, {why}")
    out.print(f"analysis: {target / 'analysis.html'}")


def _num(value: float | None) -> str:
    """An index or interval bound, ``n/a`` where it could not be estimated."""
    return "n/a" if value is None else f"{value:.3f}"
