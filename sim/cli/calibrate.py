"""``escalation calibrate``: fit the design parameters to the 2022-2024 record by history matching."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from sim.cli.common import Configs, err, fail, out, print_json
from sim.errors import SimError

Candidates = Annotated[int, typer.Option("--candidates", min=4, help="Candidate parameter sets per wave (3 waves).")]
Runs = Annotated[int, typer.Option("--runs", min=50, help="Back-test runs per candidate.")]
Seed = Annotated[int, typer.Option("--seed", min=0, help="Seed of the design and of the back-test runs.")]
Workers = Annotated[int | None, typer.Option("--workers", min=1, help="Worker processes (default: all cores).")]
Out = Annotated[Path, typer.Option("--out", help="Folder for the fit report and the candidates table.")]
Json = Annotated[bool, typer.Option("--json", help="Print the fit report as JSON on stdout.")]
TornadoRuns = Annotated[int, typer.Option(
    "--tornado-runs", min=0, help="Runs per scenario and end of the tornado over the calibrated ranges (0: none).")]


def calibrate(candidates: Candidates = 120, runs: Runs = 1000, seed: Seed = 20220224, workers: Workers = None,
              out_dir: Out = Path("results/calibration"), as_json: Json = False, configs: Configs = None,
              tornado_runs: TornadoRuns = 1000) -> None:
    """Fit the design parameters to the 2022-2024 record (calibration/targets.yaml) by history matching and write
    the kept parameter sets to configs/calibration.yaml, and to --out the fit report, every candidate, the marginals
    of the kept sets and a tornado of the tail outcomes over the calibrated ranges."""
    from sim.output import calibration
    from sim.present.calibration_charts import marginals_chart, tornado_chart
    from sim.spec.loading import default_configs_dir

    t0 = time.perf_counter()
    columns = (TextColumn("[bold]history matching"), BarColumn(), MofNCompleteColumn(), TextColumn("candidates"),
               TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn())
    try:
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task("fit", total=calibration.WAVES * candidates)
            fit = calibration.calibrate(candidates=candidates, runs=runs, seed=seed, workers=workers,
                                        configs=str(configs) if configs else None,
                                        progress=lambda done, total: bar.update(task, completed=done))
        paths = calibration.write(fit, Path(configs) if configs else default_configs_dir(), out_dir)
        ranges = {p: (calibration.load_doctrine(configs).parameters[p].low,
                      calibration.load_doctrine(configs).parameters[p].high) for p in fit.parameters}
        paths["marginals"] = marginals_chart(fit.parameters, fit.candidates, fit.kept, ranges,
                                             out_dir / "marginals.png")
        swing = None
        if tornado_runs:
            err.print("[dim]tornado over the calibrated ranges ...[/]", highlight=False)
            swing = calibration.tornado(calibration.calibrated_ends(calibration.load_doctrine(configs)),
                                        runs=tornado_runs, workers=workers, configs=str(configs) if configs else None)
            paths["tornado"] = tornado_chart(swing, out_dir / "tornado.png")
            (out_dir / "tornado.json").write_text(json.dumps(swing, indent=2) + "\n", encoding="utf-8")
    except (SimError, ValueError) as exc:
        fail(exc if isinstance(exc, SimError) else SimError(str(exc)))
    summary = {**calibration.report(fit), "tornado": swing, "wall_seconds": round(time.perf_counter() - t0, 1),
               "written": {k: str(v) for k, v in paths.items()}}
    if as_json:
        print_json(summary)
        return
    out.print(f"kept {summary['kept']} of {summary['candidates']} candidates in {summary['wall_seconds']} s")
    for row in summary["targets"]:
        mark = "ok " if row["within"] else "OUT"
        out.print(f"  {mark} {row['id']:28s} [{row['low']:g}, {row['high']:g}]  kept: {row['kept_min']:.3g} to "
                  f"{row['kept_max']:.3g}")
    for k, v in summary["written"].items():
        out.print(f"{k}: {v}")
