"""``escalation sweep``: a grid of lever values, each point a variant on the same random numbers, into one results
folder with its table and response curves."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from sim.cli.common import Configs, fail, out, prepare_engine, print_json, with_progress
from sim.errors import InputError, SimError
from sim.present.text import difference, share

Scenario = Annotated[Path | None, typer.Argument(
    help="Scenario YAML file (with --resume: defaults to the one the sweep was started with).", show_default=False)]
Lever = Annotated[list[str] | None, typer.Option(
    "--lever", help="PATH=VALUES, e.g. deployments.eu_engineers.size=500,2000 or =500..20000:4 or =log:500..20000:4; "
    "repeat for a grid (default: the scenario's sweep: block).", show_default=False)]
Runs = Annotated[int | None, typer.Option("--runs", min=1, help="Runs per point (default: the file's).")]
Seed = Annotated[int | None, typer.Option("--seed", min=0, help="Root seed (default: the file's).")]
Workers = Annotated[int | None, typer.Option("--workers", min=1, help="Worker processes (default: all cores).")]
Executor = Annotated[str, typer.Option("--executor", help="process (default), serial or dask.")]
Out = Annotated[Path, typer.Option("--out", help="Folder under which the results folder is made.")]
Json = Annotated[bool, typer.Option("--json", help="Print the sweep's points as JSON on stdout.")]
Resume = Annotated[Path | None, typer.Option(
    "--resume", help="Finish an interrupted sweep folder: compute only its missing chunks.")]
#: Outcomes shown in the printed table (all are in sweep.json and sweep.csv).
SHOWN = ("strike_on_nato_forces_in_ukraine", "strike_on_nato_territory", "hybrid_attack_on_nato",
         "nuclear_signalling", "nato_russia_war")


def sweep(scenario: Scenario = None, lever: Lever = None, runs: Runs = None, seed: Seed = None,
          workers: Workers = None, executor: Executor = "process", out_dir: Out = Path("results"),
          as_json: Json = False, resume: Resume = None, configs: Configs = None) -> None:
    """Sweep levers over a grid of values: every point a variant on common random numbers, with each outcome's
    probability, its 95% interval and the paired difference to the first point.

    Guarded, interruptible and resumable like ``escalation run``.
    """
    from sim.batch import forking
    from sim.output.sweeping import brief, plan_sweep, plan_sweep_resume, write_sweep

    try:
        if resume is not None:
            plan = plan_sweep_resume(resume, scenario, configs=configs,
                                     settings={"--lever": lever or None, "--runs": runs, "--seed": seed})
        else:
            plan = plan_sweep(scenario, lever, configs=configs, runs=runs, seed=seed, out=out_dir)
        # a pool's fork server preloads the model while this process imports it: before the imports below
        forking.start_early(executor, workers, plan.chunks_left())
        from sim.batch.executors import execution

        how = execution(executor, workers)
    except SimError as exc:
        fail(exc)
    from sim.output.running import run_to_folder
    from sim.present.publish import publish
    from sim.present.sweep_charts import draw_sweep, write_sweep_page

    prepare_engine()
    result = with_progress(lambda bar: run_to_folder(plan, how, command=sys.argv[1:], on_start=bar.start,
                                                     on_chunk=bar.chunk))
    try:
        table = write_sweep(result.folder)
        charts = draw_sweep(table, result.folder / "charts")
        page = write_sweep_page(table, charts, result.folder)
    except OSError as exc:  # a file in the way, a full or read-only disk: the runs are kept, say where it failed
        fail(cannot_write(exc, result.folder))
    publish(result.folder)
    if as_json:
        print_json(dict(brief(table), results=str(result.folder),
                        wall_seconds=round(result.outcome.wall_seconds, 3)))
        return
    out.print(points_table(table))
    n_new = result.runs_computed * result.variants
    seconds = result.outcome.wall_seconds
    out.print(f"{n_new:,} runs in {seconds:.1f} s ({n_new / max(seconds, 1e-9):,.0f} runs/s)")
    out.print(f"results: {result.folder}")
    out.print(f"table:   {result.folder / 'sweep.csv'}")
    out.print(f"charts:  {', '.join(p.name for p in charts if p.suffix == '.png')}")
    out.print(f"page:    {page}")


def points_table(table: dict[str, Any]) -> Table:
    """The grid as a rich table: one row per point, its lever values and a few outcomes with their intervals."""
    t = Table(title=f"{table['title']}: {len(table['points'])} points, {table['runs']:,} runs each "
                    f"(difference to {table['reference']}, paired)")
    for lever in table["levers"]:
        t.add_column(lever.split(".", 1)[-1])
    for oid in SHOWN:
        t.add_column(oid, justify="right")
    for p in table["points"]:
        cells = [str(p["levers"][lv]) for lv in table["levers"]]
        for oid in SHOWN:
            o = p["outcomes"][oid]
            text = share(o["count"], table["runs"], o["ci95"], unit=True)
            if p["variant"] != table["reference"]:
                text += " " + difference(o["difference"], o["difference_ci95"])
            cells.append(text)
        t.add_row(*cells)
    return t


def cannot_write(exc: OSError, folder: Path) -> InputError:
    """An error writing a results folder's files, as one message naming the path (exit status 2)."""
    path = exc.filename if exc.filename is not None else folder
    return InputError(f"cannot write this file: {exc.strerror or exc}", file=str(path),
                      expected="a writable folder with no other file or folder in the way",
                      hint="Move what is in the way, then run the command again")
