"""``escalation calibrate``: fit the design parameters to the 2022-2024 record by history matching."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from sim.cli.common import Configs, err, fail, out, print_json
from sim.cli.tables import calibration_lines
from sim.errors import InputError, SimError

Candidates = Annotated[int, typer.Option("--candidates", min=4, help="Candidate parameter sets per wave (3 waves).")]
Runs = Annotated[int, typer.Option("--runs", min=50, help="Back-test runs per candidate.")]
Seed = Annotated[int, typer.Option("--seed", min=0, help="Seed of the design and of the back-test runs.")]
Workers = Annotated[int | None, typer.Option("--workers", min=1, help="Worker processes (default: all cores).")]
Out = Annotated[Path, typer.Option("--out", help="Folder for the fit report and the candidates table.")]
Json = Annotated[bool, typer.Option("--json", help="Print the fit report as JSON on stdout.")]
COLUMNS = (TextColumn("[bold]history matching"), BarColumn(), MofNCompleteColumn(), TextColumn("candidates"),
           TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn())
TornadoRuns = Annotated[int, typer.Option(
    "--tornado-runs", min=0, help="Runs per scenario and end of the tornado over the calibrated ranges (0: none).")]


def calibrate(candidates: Candidates = 120, runs: Runs = 1000, seed: Seed = 20220224, workers: Workers = None,
              out_dir: Out = Path("results/calibration"), as_json: Json = False, configs: Configs = None,
              tornado_runs: TornadoRuns = 1000) -> None:
    """Fit the design parameters to the 2022-2024 record (calibration/targets.yaml) by history matching and write
    the kept parameter sets to configs/calibration.yaml, and to --out the fit report, every candidate, the marginals
    of the kept sets and a tornado of the tail outcomes over the calibrated ranges."""
    from sim.output import calibration
    from sim.present.calibration_charts import publish_calibration
    from sim.spec.loading import default_configs_dir, load_doctrine

    t0 = time.perf_counter()
    where = str(configs) if configs else None
    try:
        doctrine = load_doctrine(configs)
        with Progress(*COLUMNS, console=err, transient=True) as bar:
            task = bar.add_task("fit", total=calibration.WAVES * candidates)
            fit = calibration.calibrate(candidates=candidates, runs=runs, seed=seed, workers=workers, configs=where,
                                        progress=lambda done, total: bar.update(task, completed=done))
        paths = calibration.write(fit, Path(configs) if configs else default_configs_dir(), out_dir)
        ends = calibration.calibrated_ends(load_doctrine(configs))
        swing = calibration.tornado(ends, runs=tornado_runs, workers=workers, configs=where) if tornado_runs else None
        ranges = {p: (doctrine.parameters[p].low, doctrine.parameters[p].high) for p in fit.parameters}
        paths.update(publish_calibration(fit, ranges, out_dir, swing))
    except (SimError, ValueError) as exc:
        fail(exc if isinstance(exc, SimError) else SimError(str(exc)))
    except OSError as exc:  # the report folder or the calibration file cannot be written
        fail(InputError(f"cannot write the calibration ({exc.strerror})", key="--out", found=str(exc.filename)))
    summary = {**calibration.report(fit), "tornado": swing, "wall_seconds": round(time.perf_counter() - t0, 1),
               "written": {k: str(v) for k, v in paths.items()}}
    if as_json:
        print_json(summary)
        return
    for line in calibration_lines(summary):
        out.print(line)
