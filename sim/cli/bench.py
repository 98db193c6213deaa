"""``escalation bench``: measure the engine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

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
    out.print(_engines_table(result))
    for dim in ("runs", "weeks", "actors"):
        out.print(scaling_table(result, dim))


def _engines_table(r: dict[str, Any]) -> Table:
    """Both engine paths side by side, the memory floor, and what per-run tables cost."""
    e, f, t = r["engines"], r["floor"], r["tables"]
    table = Table(title=f"engine paths (in force: {r['engine']}; ESCALATION_ENGINE=numpy|numba), the memory floor "
                        "and the tables")
    table.add_column("measurement")
    table.add_column("value", justify="right")
    c = e["compile"]
    rows = [
        ("numpy path, runs per CPU-second", f"{e['numpy']['runs_per_cpu_second']:,.0f}"),
        ("numba path, runs per CPU-second", f"{e['numba']['runs_per_cpu_second']:,.0f}"),
        ("numba over numpy", f"{e['ratio']:.2f}x"),
        ("kernels compiled (empty cache) / loaded from the cache",
         f"{c['cold_seconds']:.1f} s / {c['cached_seconds']:.1f} s"),
        ("state per run (bytes)", f"{f['state_bytes_per_run']:,.0f}"),
        ("memory floor, runs per CPU-second", f"{f['runs_per_cpu_second']:,.0f}"),
        ("engine over the floor", f"{f['times_the_floor']:.1f}x"),
        ("the batch's peak proportional memory (shared pages split)", f"{r['peak_pss_mib']:,.0f} MiB"),
        (f"{t['runs']:,} runs, aggregates only: peak resident (proportional) / CPU",
         f"{t['aggregates_only']['peak_rss_mib']:,.0f} ({t['aggregates_only']['peak_pss_mib']:,.0f}) MiB / "
         f"{t['aggregates_only']['cpu_seconds']:.1f} s"),
        (f"{t['runs']:,} runs with tables and events: peak resident (proportional) / CPU",
         f"{t['with_tables']['peak_rss_mib']:,.0f} ({t['with_tables']['peak_pss_mib']:,.0f}) MiB / "
         f"{t['with_tables']['cpu_seconds']:.1f} s"),
        ("what the tables add in CPU" + (f" (median of {len(t['pairs'])} pairs, range)" if len(t["pairs"]) > 1 else ""),
         _tables_cost(t)),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def _tables_cost(t: dict[str, Any]) -> str:
    """What the tables add: a share of the aggregates-only command's CPU-seconds and the seconds themselves, each
    with its range when more than one pair was measured."""
    def spread(bounds: list[float], fmt: str) -> str:
        return f" ({fmt.format(bounds[0])} to {fmt.format(bounds[1])})" if len(t["pairs"]) > 1 else ""

    seconds = f"{t['tables_cpu_seconds']:.1f} s" + spread(t["tables_cpu_seconds_range"], "{:.1f}")
    if t["tables_cpu_cost"] is None:
        return seconds
    share = "{:+.0%}"
    return share.format(t["tables_cpu_cost"]) + spread(t["tables_cpu_cost_range"], share) + ", " + seconds
