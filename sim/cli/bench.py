"""``escalation bench``: measure the engine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import Configs, err, fail, out, print_json
from sim.cli.tables import bench_table, scaling_table
from sim.errors import SimError

Scenario = Annotated[Path | None, typer.Argument(
    help="Scenario YAML file (default: the shipped limited_deployment.yaml).")]
Quick = Annotated[bool, typer.Option("--quick", help="A small version of every measurement (well under a minute).")]
Workers = Annotated[int | None, typer.Option(
    "--workers", min=1, help="Worker processes for the batches (default: all cores).")]
ChunkSize = Annotated[int | None, typer.Option("--chunk-size", min=1, help="Runs per chunk (default: the file's).")]
Json = Annotated[bool, typer.Option("--json", help="Print the results as JSON on stdout.")]


def bench(scenario: Scenario = None, quick: Quick = False, workers: Workers = None, chunk_size: ChunkSize = None,
          as_json: Json = False, configs: Configs = None) -> None:
    """Measure the engine: lockstep against a per-run loop, a full batch on all cores, scaling in runs, weeks and
    actors (the baseline variant of the scenario)."""
    from sim.batch.bench import run_bench
    from sim.spec.loading import default_scenarios_dir

    path = scenario or default_scenarios_dir() / "limited_deployment.yaml"
    try:
        result = run_bench(path, quick=quick, workers=workers, chunk_size=chunk_size, configs=configs,
                           progress=lambda msg: err.print(f"[dim]{msg}[/]", highlight=False))
    except SimError as exc:
        fail(exc)
    if as_json:
        print_json(result)
        return
    out.print(bench_table(result))
    for dim in ("runs", "weeks", "actors"):
        out.print(scaling_table(result, dim))
