"""``escalation run``: a scenario's Monte Carlo batch into a new results folder, or an interrupted one finished."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sim.cli.common import Configs, fail, names, out, plain_data, prepare_engine, print_json, with_progress
from sim.cli.plot import drawing_progress, formats
from sim.cli.tables import summary_table
from sim.errors import SimError

if TYPE_CHECKING:
    from sim.output.running import FolderRun

Scenario = Annotated[Path | None, typer.Argument(
    help="Scenario YAML file (with --resume: defaults to the one the batch was started with).")]
Runs = Annotated[int | None, typer.Option("--runs", min=1, help="Runs per variant (default: the file's).")]
Seed = Annotated[int | None, typer.Option("--seed", min=0, help="Root seed (default: the file's).")]
Workers = Annotated[int | None, typer.Option(
    "--workers", min=1, help="Worker processes (default: all cores; 1 runs in-process).")]
ChunkSize = Annotated[int | None, typer.Option("--chunk-size", min=1, help="Runs per chunk (default: the file's).")]
Variants = Annotated[str | None, typer.Option("--variants", help="Comma-separated variant names (default: all).")]
Executor = Annotated[str, typer.Option("--executor", help="process (default), serial or dask.")]
Address = Annotated[str | None, typer.Option("--address", help="Dask scheduler address, e.g. tcp://host:8786.")]
Out = Annotated[Path, typer.Option("--out", help="Folder under which the results folder is made.")]
NoRuns = Annotated[bool, typer.Option("--no-runs", help="Skip the per-run and event tables (aggregates only).")]
Events = Annotated[bool | None, typer.Option(
    "--events/--no-events", help="Write events.parquet (default: on up to 200,000 runs in all).")]
NoCharts = Annotated[bool, typer.Option(
    "--no-charts", help="Skip drawing charts (the data files, comparison.json and .csv and story.json, are written "
    "all the same).")]
Svg = Annotated[bool, typer.Option("--svg", help="Save every chart as SVG as well as PNG (the report embeds PNG).")]
Json = Annotated[bool, typer.Option("--json", help="Print the summary as JSON on stdout.")]
Fixed = Annotated[bool, typer.Option(
    "--fixed-parameters", help="Design parameters at their point values (configs/model.yaml) in every run, not "
    "drawn from the calibrated sets: intervals then hold Monte Carlo noise only.")]
Resume = Annotated[Path | None, typer.Option(
    "--resume", help="Finish an interrupted results folder: compute only its missing chunks.")]


def run(scenario: Scenario = None, runs: Runs = None, seed: Seed = None, workers: Workers = None,
        chunk_size: ChunkSize = None, variants: Variants = None, executor: Executor = "process",
        address: Address = None, out_dir: Out = Path("results"), no_runs: NoRuns = False, events: Events = None,
        no_charts: NoCharts = False, as_json: Json = False, resume: Resume = None, configs: Configs = None,
        fixed_parameters: Fixed = False, svg: Svg = False) -> None:
    """Run a scenario's Monte Carlo batch and write a new results folder (or finish an interrupted one).

    Before it starts, the batch's memory and disk needs are estimated; a batch that cannot fit is refused with
    a suggestion. Ctrl-C stops it within a second or two and leaves a folder marked interrupted that
    ``--resume`` completes, with the same results as a batch never stopped.
    """
    from sim.batch import forking
    from sim.output.plans import plan_resume, plan_run

    try:
        if resume is not None:
            plan = plan_resume(resume, scenario, configs=configs, settings={
                "--runs": runs, "--seed": seed, "--chunk-size": chunk_size, "--variants": variants,
                "--events/--no-events": events, "--no-runs": no_runs or None,
                "--fixed-parameters": fixed_parameters or None})
        else:
            plan = plan_run(scenario, configs=configs, runs=runs, seed=seed, chunk_size=chunk_size,
                            variants=names(variants), record_runs=not no_runs, events=events, out=out_dir,
                            fixed_parameters=fixed_parameters)
        # a pool's fork server preloads the model while this process imports it: before the imports below
        forking.start_early(executor, workers, plan.chunks_left(), address)
        from sim.batch.executors import execution

        how = execution(executor, workers, address)  # before any folder is made: a bad scheduler writes nothing
    except SimError as exc:
        fail(exc)
    from sim.output.running import run_to_folder
    from sim.present.publish import publish

    prepare_engine()
    result = with_progress(lambda bar: run_to_folder(plan, how, command=sys.argv[1:], on_start=bar.start,
                                                     on_chunk=bar.chunk))
    with drawing_progress() as tell:
        charts, report = publish(result.folder, charts=not no_charts, formats=formats(svg), on_progress=tell)
    if as_json:
        print_json(dict(result.summary, results=str(result.folder), wall_seconds=round(result.outcome.wall_seconds, 3)))
        return
    print_run(result, charts, report)


def print_run(result: FolderRun, charts: list[Path], report: Path | None) -> None:
    """The summary table, how long the batch took, and where its files are."""
    out.print(summary_table(plain_data(result.summary)))
    n_new = result.runs_computed * result.variants
    seconds, how = result.outcome.wall_seconds, result.execution
    out.print(f"{n_new:,} runs in {seconds:.1f} s ({n_new / max(seconds, 1e-9):,.0f} runs/s, {how.workers} worker(s), "
              f"{how.executor})")
    out.print(f"results: {result.folder}")
    if charts:
        out.print(f"charts:  {result.folder / 'charts'} ({len(charts)} files)")
    if report:
        out.print(f"report:  {report}")
