"""``escalation compare``: one scenario's variants, or several scenario files side by side, with paired intervals."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import Configs, fail, names, out, plain_data, prepare_engine, print_json, with_progress
from sim.cli.plot import drawing_progress
from sim.cli.tables import difference_table
from sim.errors import SimError

Scenarios = Annotated[list[Path] | None, typer.Argument(
    help="One scenario file (its variants are compared) or several (their baselines are compared side by side).",
    show_default=False)]
Variants = Annotated[str | None, typer.Option(
    "--variants", help="Comma-separated variant names of one file (default: all; the baseline is always included).")]
Runs = Annotated[int | None, typer.Option("--runs", min=1, help="Runs per variant (default: the first file's).")]
Seed = Annotated[int | None, typer.Option("--seed", min=0, help="Root seed (default: the first file's).")]
Workers = Annotated[int | None, typer.Option("--workers", min=1, help="Worker processes (default: all cores).")]
Executor = Annotated[str, typer.Option("--executor", help="process (default), serial or dask.")]
Out = Annotated[Path, typer.Option("--out", help="Folder under which the results folder is made.")]
Json = Annotated[bool, typer.Option("--json", help="Print the comparison as JSON on stdout.")]
Resume = Annotated[Path | None, typer.Option(
    "--resume", help="Finish an interrupted comparison folder: compute only its missing chunks.")]


def compare(scenarios: Scenarios = None, variants: Variants = None, runs: Runs = None, seed: Seed = None,
            workers: Workers = None, executor: Executor = "process", out_dir: Out = Path("results"),
            as_json: Json = False, resume: Resume = None, configs: Configs = None) -> None:
    """Run variants with common random numbers and report each outcome's difference to the baseline.

    Guarded, interruptible and resumable like ``escalation run``: Ctrl-C leaves a folder marked interrupted that
    ``--resume`` completes, with the same results as a comparison never stopped.
    """
    from sim.batch import forking
    from sim.errors import InputError
    from sim.output.compare_plans import plan_compare, plan_compare_resume

    try:
        if resume is not None:
            plan = plan_compare_resume(resume, scenarios, configs=configs,
                                       settings={"--variants": variants, "--runs": runs, "--seed": seed})
        elif not scenarios:
            raise InputError("missing the scenario file",
                             expected="escalation compare SCENARIO... (or --resume FOLDER)")
        else:
            plan = plan_compare(scenarios, configs=configs, runs=runs, seed=seed, variants=names(variants), out=out_dir)
        # a pool's fork server preloads the model while this process imports it: before the imports below
        forking.start_early(executor, workers, plan.chunks_left())
        from sim.batch.executors import execution

        how = execution(executor, workers)  # before any folder is made: an unknown executor writes nothing
    except SimError as exc:
        fail(exc)
    from sim.output.comparing import compare_to_folder
    from sim.present.publish import publish_comparison

    prepare_engine()
    folder = with_progress(lambda bar: compare_to_folder(plan, how, command=sys.argv[1:], on_start=bar.start,
                                                         on_chunk=bar.chunk))
    with drawing_progress() as tell:
        comparison = publish_comparison(folder, on_progress=tell)
    reports = side_by_side_reports(folder)
    if as_json:
        print_json(dict(comparison, results=str(folder), reports=[str(r) for r in reports]))
        return
    out.print(difference_table(plain_data(comparison)))
    out.print(f"results: {folder}")
    out.print(f"table:   {folder / 'comparison.csv'}")
    out.print(f"chart:   {folder / 'charts' / 'variant_comparison.png'}")
    for report in reports:
        out.print(f"report:  {report}")


def side_by_side_reports(folder: Path) -> list[Path]:
    """The report of each scenario file's batch in a side-by-side comparison folder (written now), or of the
    folder itself when it compares one file's variants."""
    import json

    from sim.present.report import write_report

    if (folder / "report.html").is_file():
        return [folder / "report.html"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return [write_report(folder / part) for part in (manifest.get("batches") or {}).values()]
