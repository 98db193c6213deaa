"""The ``escalation`` command line: parse, load, call one library function, print.

Every error caused by the user's input is printed as one message on standard error with exit status 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from sim.config import Doctrine, ScenarioSpec
from sim.errors import EXIT_INPUT, InputError, SimError
from sim.loading import default_scenarios_dir, load_doctrine, load_scenario
from sim.vocabulary import OUTCOME_IDS

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Escalation scenario simulator: Monte Carlo batches of an agent-based model of Russia, NATO members, "
    "Ukraine and third countries. Exploratory, not a forecast.",
)
err = Console(stderr=True)
out = Console(width=None if sys.stdout.isatty() else 160)

ConfigsOpt = typer.Option(None, "--configs", help="Doctrine folder (default: the shipped configs/).")


def fail(exc: SimError) -> None:
    """Print a user error and exit with its status (2 for input errors)."""
    err.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(exc.exit_code)


def _doctrine(configs: Optional[Path]) -> Doctrine:
    return load_doctrine(configs)


def with_overrides(scenario: ScenarioSpec, doctrine: Doctrine, **changes: Any) -> ScenarioSpec:
    """The scenario with command-line settings (runs, seed, chunk size) applied and validated again."""
    updates = {k: v for k, v in changes.items() if v is not None}
    if not updates:
        return scenario
    data = scenario.model_dump(mode="json", exclude_unset=False)
    data.update(updates)
    try:
        return ScenarioSpec.model_validate(data, context={"doctrine": doctrine})
    except Exception as exc:  # pydantic's ValidationError: report the option that broke it
        first = getattr(exc, "errors", lambda: [{"loc": ["?"], "msg": str(exc)}])()[0]
        raise InputError(first["msg"], key="--" + str(first["loc"][0]).replace("_", "-")) from None


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs  {task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )


def summary_table(summary: dict[str, Any]) -> Table:
    """Outcome probabilities with their 95% CIs, one column per variant."""
    table = Table(title=f"{summary['title']}\n% of runs (95% CI), {summary['runs']:,} runs per variant, "
                        f"{summary['horizon_weeks']} weeks", caption=summary["note"], caption_justify="left")
    table.add_column("outcome")
    variants = list(summary["variants"])
    for v in variants:
        table.add_column(v, justify="right")
    for oid in OUTCOME_IDS:
        row = [oid]
        for v in variants:
            o = summary["variants"][v]["outcomes"][oid]
            lo, hi = o["ci95"]
            row.append(f"{100 * o['probability']:.1f} ({100 * lo:.1f}-{100 * hi:.1f})")
        table.add_row(*row)
    return table


# ------------------------------------------------------------------------------------------------- commands
@app.command()
def run(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    runs: Optional[int] = typer.Option(None, "--runs", min=1, help="Runs per variant (default: the file's)."),
    seed: Optional[int] = typer.Option(None, "--seed", min=0, help="Root seed (default: the file's)."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Worker processes (default: all cores; 1 runs in-process)."),
    chunk_size: Optional[int] = typer.Option(None, "--chunk-size", min=1, help="Runs per chunk (default: the file's)."),
    variants: Optional[str] = typer.Option(None, "--variants", help="Comma-separated variant names (default: all)."),
    executor: str = typer.Option("process", "--executor", help="process (default), serial or dask."),
    address: Optional[str] = typer.Option(None, "--address", help="Dask scheduler address, e.g. tcp://host:8786."),
    out_dir: Path = typer.Option(Path("results"), "--out", help="Folder under which the results folder is made."),
    no_runs: bool = typer.Option(False, "--no-runs", help="Skip the per-run and event tables (aggregates only)."),
    events: Optional[bool] = typer.Option(None, "--events/--no-events", help="Write events.parquet (default: on up to 200,000 runs in all)."),
    no_charts: bool = typer.Option(False, "--no-charts", help="Skip drawing charts."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
    configs: Optional[Path] = ConfigsOpt,
) -> None:
    """Run a scenario's Monte Carlo batch and write a new results folder."""
    from sim.charts import draw_all
    from sim.results import ResultsWriter
    from sim.runner import Batch, default_workers, execute, select_variants

    try:
        doctrine = _doctrine(configs)
        spec = load_scenario(scenario, doctrine)
        spec = with_overrides(spec, doctrine, runs=runs, seed=seed, chunk_size=chunk_size)
        names = select_variants(spec, [v.strip() for v in variants.split(",") if v.strip()] if variants else None)
        if executor not in ("process", "serial", "dask"):
            raise InputError("unknown executor", key="--executor", expected="one of: process, serial, dask", found=executor)
        n_workers = workers or default_workers()
        record_events = events if events is not None else spec.runs * len(names) <= 200_000
        batch = Batch(doctrine, spec, names, record_runs=not no_runs, record_events=record_events and not no_runs)
        writer = ResultsWriter(out_dir, doctrine, spec, names, record_runs=not no_runs, record_events=batch.record_events,
                               executor=executor, workers=n_workers, command=sys.argv[1:])
    except SimError as exc:
        fail(exc)
        return

    total = spec.runs
    done: list[int] = []
    with _progress() as bar:
        task = bar.add_task(spec.name, total=total, rate="")
        import time as _time
        t0 = _time.perf_counter()

        def on_chunk(chunk, results) -> None:
            writer.add_chunk(results)
            done.append(chunk.index)
            writer.progress(done)
            rate = bar.tasks[0].completed + chunk.size
            elapsed = max(_time.perf_counter() - t0, 1e-9)
            bar.update(task, advance=chunk.size, rate=f"{rate * len(names) / elapsed:,.0f}/s")

        try:
            outcome = execute(batch, executor=executor, workers=n_workers, address=address, on_chunk=on_chunk)
        except KeyboardInterrupt:
            writer.finish({v: __import__("sim.outcomes").outcomes.Aggregates(horizon=spec.horizon_weeks) for v in names},
                          _time.perf_counter() - t0, status="interrupted")
            err.print(f"interrupted; partial results marked in {writer.folder}")
            raise typer.Exit(130)
        except SimError as exc:
            from sim.outcomes import Aggregates

            writer.finish({v: Aggregates(horizon=spec.horizon_weeks) for v in names}, _time.perf_counter() - t0,
                          status="failed")
            fail(exc)
            return
    summary = writer.finish(outcome.aggregates, outcome.wall_seconds)
    charts: list[Path] = []
    if not no_charts:
        charts = draw_all(summary, outcome.aggregates, writer.folder / "charts")
    report = _write_report(writer.folder)
    if as_json:
        payload = dict(summary, results=str(writer.folder), wall_seconds=round(outcome.wall_seconds, 3))
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    out.print(summary_table(summary))
    rate = spec.runs * len(names) / max(outcome.wall_seconds, 1e-9)
    out.print(f"{spec.runs * len(names):,} runs in {outcome.wall_seconds:.1f} s ({rate:,.0f} runs/s, {n_workers} worker(s), {executor})")
    out.print(f"results: {writer.folder}")
    if charts:
        out.print(f"charts:  {writer.folder / 'charts'} ({len(charts)} files)")
    if report:
        out.print(f"report:  {report}")


def _write_report(folder: Path) -> Optional[Path]:
    """Write report.html if the report module is available in this version."""
    try:
        from sim.report import write_report
    except ImportError:
        return None
    return write_report(folder)


@app.command()
def validate(
    scenarios: list[Path] = typer.Argument(..., help="Scenario YAML files."),
    configs: Optional[Path] = ConfigsOpt,
) -> None:
    """Check scenario files against the schema and the doctrine; exit 2 if any is invalid."""
    try:
        doctrine = _doctrine(configs)
    except SimError as exc:
        fail(exc)
        return
    bad = 0
    for path in scenarios:
        try:
            spec = load_scenario(path, doctrine)
        except SimError as exc:
            bad += 1
            err.print(f"[bold red]invalid:[/] {exc}", highlight=False, soft_wrap=True)
            continue
        out.print(f"ok: {path} ({spec.name}: {len(spec.variants) + 1} variant(s), {spec.runs:,} runs, {spec.horizon_weeks} weeks)", highlight=False)
    if bad:
        raise typer.Exit(EXIT_INPUT)


@app.command()
def schema(
    out_file: Optional[Path] = typer.Option(None, "--out", help="Write to this file instead of stdout."),
    configs: Optional[Path] = ConfigsOpt,
) -> None:
    """Print the JSON Schema of scenario files (vocabularies from the doctrine)."""
    from sim.schema import schema_text

    try:
        text = schema_text(_doctrine(configs))
    except SimError as exc:
        fail(exc)
        return
    if out_file is None:
        sys.stdout.write(text)
    else:
        out_file.write_text(text, encoding="utf-8")
        err.print(f"schema written to {out_file}")


@app.command("list")
def list_(
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    configs: Optional[Path] = ConfigsOpt,
) -> None:
    """List actors, rungs, deployment types, red lines, outcomes and shipped scenarios."""
    from sim.outcomes import OUTCOMES

    try:
        d = _doctrine(configs)
    except SimError as exc:
        fail(exc)
        return
    shipped = sorted(p.name for p in default_scenarios_dir().glob("*.yaml"))
    data = {
        "actors": [{"id": a.id, "name": a.name, "bloc": a.bloc.value, "roles": [r.value for r in a.roles]} for a in d.actors],
        "rungs": [{"rung": r.rung, "id": r.id, "name": r.name, "severity": r.severity} for r in d.ladder],
        "deployment_types": [{"id": t.id, "name": t.name, "locations": [loc.value for loc in t.locations]} for t in d.deployment_types],
        "red_lines": [{"id": r.id, "actor": r.actor, "statement": r.statement, "declared_response": r.declared_response} for r in d.red_lines],
        "moves": [{"id": m.id, "name": m.name, "rung": m.rung} for m in d.moves],
        "outcomes": [{"id": k, "description": v.description} for k, v in OUTCOMES.items()],
        "scenarios": shipped,
    }
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    for title, rows, cols in (
        ("Actors", data["actors"], ("id", "name", "bloc", "roles")),
        ("Ladder", data["rungs"], ("rung", "id", "name", "severity")),
        ("Deployment types", data["deployment_types"], ("id", "name", "locations")),
        ("Red lines", data["red_lines"], ("id", "actor", "statement", "declared_response")),
        ("Scripted moves", data["moves"], ("id", "name", "rung")),
        ("Outcomes", data["outcomes"], ("id", "description")),
    ):
        t = Table(title=title)
        for c in cols:
            t.add_column(c)
        for row in rows:
            t.add_row(*[", ".join(v) if isinstance(v, list) else str(v) for v in (row[c] for c in cols)])
        out.print(t)
    out.print("Shipped scenarios: " + ", ".join(shipped))


@app.command()
def bench(
    scenario: Optional[Path] = typer.Argument(None, help="Scenario YAML file (default: the shipped limited_deployment.yaml)."),
    quick: bool = typer.Option(False, "--quick", help="A small version of every measurement (well under a minute)."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Worker processes for the batches (default: all cores)."),
    chunk_size: Optional[int] = typer.Option(None, "--chunk-size", min=1, help="Runs per chunk (default: the file's)."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON on stdout."),
    configs: Optional[Path] = ConfigsOpt,
) -> None:
    """Measure the engine: lockstep against a per-run loop, a full batch on all cores, scaling in runs, weeks and
    actors (the baseline variant of the scenario)."""
    from sim.bench import run_bench

    path = scenario or default_scenarios_dir() / "limited_deployment.yaml"
    try:
        result = run_bench(path, quick=quick, workers=workers, chunk_size=chunk_size, configs=configs,
                           progress=lambda msg: err.print(f"[dim]{msg}[/]", highlight=False))
    except SimError as exc:
        fail(exc)
        return
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return
    out.print(bench_table(result))
    for dim in ("runs", "weeks", "actors"):
        out.print(scaling_table(result, dim))


def bench_table(r: dict[str, Any]) -> Table:
    """The headline numbers of a bench result."""
    m = r["machine"]
    t = Table(title=f"{r['scenario']} ({r['variant']}, {r['weeks']} weeks, {r['actors']} actors, chunks of "
                    f"{r['chunk_size']:,}) on {m['cores']} core(s), {m['cpu']}")
    t.add_column("measurement")
    t.add_column("value", justify="right")
    rows = [
        ("lockstep engine, one process", f"{r['lockstep_runs_per_second']:,.0f} runs/s"),
        ("per-run loop (R = 1), one process", f"{r['per_run_loop_runs_per_second']:,.1f} runs/s"),
        ("speedup of lockstep over the loop", f"{r['speedup']:,.0f}x"),
        ("per-run loop rows equal lockstep rows", str(r["loop_rows_equal_lockstep"])),
        (f"batch of {r['runs']:,} runs, {r['workers']} worker(s)", f"{r['runs_per_second']:,.0f} runs/s in {r['batch_seconds']:.1f} s"),
        ("the batch per CPU-second used (all processes)", f"{r['batch_runs_per_cpu_second'] or 0:,.0f} runs"),
        ("load average (1, 5, 15 min) at the end", ", ".join(f"{x:.1f}" for x in r["machine"]["load_average"] or [])),
        ("peak resident memory of the batch (all processes)", f"{r['peak_rss_mib']:,.0f} MiB"),
        ("peak traced allocation of one lockstep chunk", f"{r['lockstep_peak_traced_mib']:,.0f} MiB"),
    ]
    for name, value in rows:
        t.add_row(name, value)
    return t


def scaling_table(r: dict[str, Any], dim: str) -> Table:
    """One scaling table of a bench result: runs, weeks or actors."""
    t = Table(title=f"scaling in {dim}")
    for col in ("runs", "weeks", "actors", "seconds", "runs/s", "CPU us per run-week", "peak MiB"):
        t.add_column(col, justify="right")
    for row in r["scaling"][dim]:
        actors = f"{row['actors']} ({row['roster']})" if "roster" in row else str(row["actors"])
        t.add_row(f"{row['runs']:,}", str(row["weeks"]), actors, f"{row['seconds']:.2f}",
                  f"{row['runs_per_second']:,.0f}", f"{row['us_per_run_week']:.2f}", f"{row['peak_rss_mib']:,.0f}")
    return t


def main() -> None:
    """Entry point of the ``escalation`` script and of ``python -m sim``."""
    try:
        app()
    except SimError as exc:  # a user error that escaped a command: still no traceback
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(exc.exit_code)
