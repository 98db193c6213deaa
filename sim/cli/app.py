"""The ``escalation`` command line: parse, load, call one library function, print.

Every error caused by the user's input is printed as one message on standard error with exit status 2.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from sim.errors import EXIT_INPUT, InputError, SimError
from sim.spec.doctrine import Doctrine
from sim.spec.loading import (
    default_scenarios_dir,
    load_doctrine,
    load_scenario,
    with_overrides,
)
from sim.spec.scenario import ScenarioSpec
from sim.spec.vocabulary import OUTCOME_IDS

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Escalation scenario simulator: Monte Carlo batches of an agent-based model of Russia, NATO members, "
    "Ukraine and third countries. Exploratory, not a forecast.",
)
err = Console(stderr=True)
out = Console(width=None if sys.stdout.isatty() else 160, markup=False)  # user text and paths print as they are

ConfigsOpt = typer.Option(None, "--configs", help="Doctrine folder (default: the shipped configs/).")


def fail(exc: SimError) -> None:
    """Print a user error and exit with its status (2 for input errors)."""
    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(exc.exit_code)


def _doctrine(configs: Optional[Path]) -> Doctrine:
    return load_doctrine(configs)


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
    scenario: Optional[Path] = typer.Argument(None, help="Scenario YAML file (with --resume: defaults to the one the batch was started with)."),
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
    resume: Optional[Path] = typer.Option(None, "--resume", help="Finish an interrupted results folder: compute only its missing chunks."),
    configs: Optional[Path] = ConfigsOpt,
) -> None:
    """Run a scenario's Monte Carlo batch and write a new results folder (or finish an interrupted one).

    Before it starts, the batch's memory and disk needs are estimated; a batch that cannot fit is refused with
    a suggestion. Ctrl-C stops it within a second or two and leaves a folder marked interrupted that
    ``--resume`` completes, with the same results as a batch never stopped.
    """
    try:
        if executor not in ("process", "serial", "dask"):
            raise InputError("unknown executor", key="--executor", expected="one of: process, serial, dask", found=executor)
        if address is not None:
            if executor != "dask":
                raise InputError("--address names a Dask scheduler", key="--address", found=address,
                                 hint="Add --executor dask, or leave --address out")
            from sim.batch.cluster import check_scheduler

            check_scheduler(address)  # before any folder is made: an unreachable scheduler writes nothing
        if resume is not None:
            given = [name for name, value in (("--runs", runs), ("--seed", seed), ("--chunk-size", chunk_size),
                                              ("--variants", variants), ("--events/--no-events", events))
                     if value is not None] + (["--no-runs"] if no_runs else [])
            if given:
                raise InputError("a resumed batch keeps the settings it was started with", key=", ".join(given),
                                 hint="Leave these options out with --resume")
            from sim.output.folder import read_manifest

            manifest = read_manifest(resume)
            scenario = scenario or (Path(manifest["scenario_file"]) if manifest.get("scenario_file") else None)
            if scenario is None:
                raise InputError("the manifest does not name its scenario file", file=resume,
                                 hint="Give the scenario file as well: escalation run SCENARIO --resume FOLDER")
            if configs is None and manifest.get("configs"):
                configs = Path(manifest["configs"])
        elif scenario is None:
            raise InputError("missing the scenario file", expected="escalation run SCENARIO (or --resume FOLDER)")
        doctrine = _doctrine(configs)
        spec = load_scenario(scenario, doctrine)
        if resume is not None:
            spec = with_overrides(spec, doctrine, runs=manifest["runs"], seed=manifest["seed"],
                                  chunk_size=manifest["chunk_size"])
            names = _select_variants(spec, [str(v) for v in manifest["variants"]])
            record_runs, record_events = bool(manifest["record_runs"]), bool(manifest["record_events"])
        else:
            spec = with_overrides(spec, doctrine, runs=runs, seed=seed, chunk_size=chunk_size)
            names = _select_variants(spec, [v.strip() for v in variants.split(",") if v.strip()] if variants else None)
            record_runs = not no_runs
            record_events = record_runs and (events if events is not None else spec.runs * len(names) <= 200_000)
        n_workers = workers or _default_workers()
        in_process = executor == "serial" or (executor == "process" and n_workers <= 1)
        guard_out = resume if resume is not None else out_dir

        from sim.batch import guard as guard
        from sim.batch.chunks import Batch
        from sim.output.folder import ResultsWriter

        if resume is not None:
            # the manifest's record of finished chunks is enough for an estimate
            done_runs = sum(_chunk_sizes(spec, set(manifest.get("chunks_done") or [])))
            est = guard.check(runs=spec.runs - done_runs, weeks=spec.horizon_weeks, variants=len(names),
                              chunk_size=spec.chunk_size, workers=n_workers, record_runs=record_runs,
                              record_events=record_events, out=guard_out, in_process=in_process,
                              check_memory=not address,
                              disk_extra_bytes=guard.estimate(runs=done_runs, weeks=spec.horizon_weeks,
                                                              variants=len(names), chunk_size=spec.chunk_size,
                                                              workers=1, record_runs=record_runs,
                                                              record_events=record_events).disk_bytes)
            writer, aggregates = ResultsWriter.reopen(resume, doctrine, spec, executor=executor, workers=n_workers,
                                                      command=sys.argv[1:])
            left = spec.runs - sum(_chunk_sizes(spec, writer.done))
        else:
            est = guard.check(runs=spec.runs, weeks=spec.horizon_weeks, variants=len(names),
                              chunk_size=spec.chunk_size, workers=n_workers, record_runs=record_runs,
                              record_events=record_events, out=guard_out, in_process=in_process,
                              check_memory=not address)
            aggregates = None
            writer = ResultsWriter(out_dir, doctrine, spec, names, record_runs=record_runs,
                                   record_events=record_events, executor=executor, workers=n_workers,
                                   command=sys.argv[1:], scenario_file=scenario, configs=configs)
        batch = Batch(doctrine, spec, names, record_runs=record_runs, record_events=record_events)
    except SimError as exc:
        fail(exc)
        return

    from sim.output.running import run_batch

    if est.seconds > 120:
        err.print(f"estimated time: about {est.seconds / 60:,.0f} min; Ctrl-C stops it and keeps finished chunks "
                  f"(resume with --resume {writer.folder})", highlight=False, soft_wrap=True)
    total = spec.runs
    with _progress() as bar:
        task = bar.add_task(spec.name, total=total, completed=total - left if resume is not None else 0, rate="")
        t0 = time.perf_counter()
        computed = [0]

        def on_chunk(chunk) -> None:
            computed[0] += chunk.size
            elapsed = max(time.perf_counter() - t0, 1e-9)
            bar.update(task, advance=chunk.size, rate=f"{computed[0] * len(names) / elapsed:,.0f}/s")

        try:
            summary, outcome = run_batch(batch, writer, executor=executor, workers=n_workers, address=address,
                                         aggregates=aggregates, on_chunk=on_chunk)
        except SimError as exc:
            bar.stop()
            fail(exc)
            return
    charts: list[Path] = []
    if not no_charts:
        from sim.present.publish import draw_results

        charts = draw_results(writer.folder)
    report = _write_report(writer.folder)
    if as_json:
        payload = dict(summary, results=str(writer.folder), wall_seconds=round(outcome.wall_seconds, 3))
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    out.print(summary_table(summary))
    n_new = computed[0] * len(names)
    rate = n_new / max(outcome.wall_seconds, 1e-9)
    out.print(f"{n_new:,} runs in {outcome.wall_seconds:.1f} s ({rate:,.0f} runs/s, {n_workers} worker(s), {executor})")
    out.print(f"results: {writer.folder}")
    if charts:
        out.print(f"charts:  {writer.folder / 'charts'} ({len(charts)} files)")
    if report:
        out.print(f"report:  {report}")


def _select_variants(spec: ScenarioSpec, names: Optional[list[str]]) -> tuple[str, ...]:
    from sim.batch.chunks import select_variants

    return select_variants(spec, names)


def _default_workers() -> int:
    from sim.batch.executors import default_workers

    return default_workers()


def _chunk_sizes(spec: ScenarioSpec, done: set[int]) -> list[int]:
    from sim.batch.chunks import plan_chunks

    return [c.size for c in plan_chunks(spec.runs, spec.chunk_size) if c.index in done]


def _write_report(folder: Path) -> Optional[Path]:
    """Write report.html if the report module is available in this version."""
    try:
        from sim.present.report import write_report
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
            err.print(f"[bold red]invalid:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
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
    from sim.spec.json_schema import schema_text

    try:
        text = schema_text(_doctrine(configs))
    except SimError as exc:
        fail(exc)
        return
    if out_file is None:
        sys.stdout.write(text)
    else:
        try:
            out_file.write_text(text, encoding="utf-8")
        except OSError as exc:
            fail(InputError(f"cannot write the schema ({exc.strerror or exc})", key="--out", found=str(out_file)))
            return
        err.print(f"schema written to {out_file}")


@app.command("list")
def list_(
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    configs: Optional[Path] = ConfigsOpt,
) -> None:
    """List actors, rungs, deployment types, red lines, outcomes and shipped scenarios."""
    from sim.engine.outcomes import OUTCOMES

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


# ------------------------------------------------------------------------------------------ compare, trace, plot
def _difference_table(comparison: dict[str, Any]) -> Table:
    """Baseline probabilities and each variant's difference to the baseline, in percentage points, with 95% CIs."""
    base = comparison["baseline"]
    others = [v for v in comparison["variants"] if v != base]
    table = Table(title=f"{comparison['title']}\nDifference to '{base}' in percentage points (95% CI), "
                        f"{comparison['runs']:,} runs per variant, seed {comparison['seed']}",
                  caption="Intervals: " + comparison["method_text"], caption_justify="left")
    table.add_column("outcome")
    table.add_column(f"{base} %", justify="right")
    for v in others:
        table.add_column(v, justify="right")
    for oid in OUTCOME_IDS:
        o = comparison["outcomes"][oid][base]
        row = [oid, f"{100 * o['probability']:.1f} ({100 * o['ci95'][0]:.1f}-{100 * o['ci95'][1]:.1f})"]
        for v in others:
            d = comparison["differences"][v][oid]
            row.append(f"{100 * d['difference']:+.1f} ({100 * d['ci95'][0]:+.1f} to {100 * d['ci95'][1]:+.1f})")
        table.add_row(*row)
    return table


def _run_batch(batch: Any, executor: str, workers: int, on_chunk: Any) -> Any:
    """Execute a batch under a progress bar; ``on_chunk`` sees each chunk's results in chunk order."""
    from sim.batch.executors import execute

    with _progress() as bar:
        task = bar.add_task(batch.scenario.name, total=batch.runs, rate="")

        def step(chunk: Any, results: Any) -> None:
            on_chunk(chunk, results)
            bar.update(task, advance=chunk.size)

        return execute(batch, executor=executor, workers=workers, on_chunk=step)


@app.command()
def compare(
    scenarios: list[Path] = typer.Argument(..., help="One scenario file (its variants are compared) or several "
                                                      "(their baselines are compared side by side)."),
    variants: Optional[str] = typer.Option(None, "--variants", help="Comma-separated variant names of one file "
                                                                    "(default: all; the baseline is always included)."),
    runs: Optional[int] = typer.Option(None, "--runs", min=1, help="Runs per variant (default: the first file's)."),
    seed: Optional[int] = typer.Option(None, "--seed", min=0, help="Root seed (default: the first file's)."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Worker processes (default: all cores)."),
    executor: str = typer.Option("process", "--executor", help="process (default), serial or dask."),
    out_dir: Path = typer.Option(Path("results"), "--out", help="Folder under which the results folder is made."),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON on stdout."),
    configs: Optional[Path] = ConfigsOpt,
) -> None:
    """Run variants with common random numbers and report each outcome's difference to the baseline."""
    from sim.batch.chunks import Batch, select_variants
    from sim.batch.executors import default_workers
    from sim.output import comparison as cmp
    from sim.output.folder import ResultsWriter
    from sim.present.charts import comparison_chart
    from sim.present.publish import draw_results
    from sim.present.report import write_report

    try:
        if executor not in ("process", "serial", "dask"):
            raise InputError("unknown executor", key="--executor", expected="one of: process, serial, dask", found=executor)
        doctrine = _doctrine(configs)
        specs = [load_scenario(p, doctrine) for p in scenarios]
        n_workers = workers or default_workers()
        if len(specs) == 1:
            spec = with_overrides(specs[0], doctrine, runs=runs, seed=seed)
            chosen = list(select_variants(spec, [v.strip() for v in variants.split(",") if v.strip()] if variants else None))
            names = tuple(dict.fromkeys([spec.baseline_name] + chosen))
            if not spec.variants:
                raise InputError("nothing to compare: the scenario has no variants", key="--variants",
                                 expected="a scenario with variants, or several scenario files", found=spec.name)
            if len(names) < 2:
                raise InputError("nothing to compare: only the baseline was named", key="--variants",
                                 expected="at least one variant besides the baseline: "
                                 + ", ".join(v.name for v in spec.variants), found=variants)
            batch = Batch(doctrine, spec, names, record_runs=True, record_events=spec.runs * len(names) <= 200_000)
            writer = ResultsWriter(out_dir, doctrine, spec, names, record_runs=True, record_events=batch.record_events,
                                   executor=executor, workers=n_workers, command=sys.argv[1:])
        else:
            if variants:
                raise InputError("--variants applies to a single scenario file", key="--variants",
                                 expected="one scenario file", found=f"{len(specs)} files")
            first = specs[0]
            specs = [with_overrides(sp, doctrine, runs=runs or first.runs, seed=first.seed if seed is None else seed)
                     for sp in specs]
            cmp.check_side_by_side(specs)
    except SimError as exc:
        fail(exc)
        return

    try:
        if len(specs) == 1:
            done: list[int] = []

            def on_chunk(chunk: Any, results: Any) -> None:
                writer.add_chunk(results)
                done.append(chunk.index)
                writer.progress(done)

            outcome = _run_batch(batch, executor, n_workers, on_chunk)
            writer.finish(outcome.aggregates, outcome.wall_seconds)
            folder = writer.folder
            draw_results(folder)
            write_report(folder)
            comparison = json.loads((folder / "comparison.json").read_text(encoding="utf-8"))
        else:
            comparison = cmp.side_by_side(doctrine, specs, lambda b, on_chunk: _run_batch(b, executor, n_workers, on_chunk))
            folder = cmp.write_side_by_side(comparison, doctrine, specs, out_dir, command=sys.argv[1:])
            comparison_chart(comparison, comparison["title"], folder / "charts")
    except SimError as exc:
        fail(exc)
        return
    if as_json:
        sys.stdout.write(json.dumps(dict(comparison, results=str(folder)), indent=2) + "\n")
        return
    out.print(_difference_table(comparison))
    out.print(f"results: {folder}")
    out.print(f"table:   {folder / 'comparison.csv'}")
    out.print(f"chart:   {folder / 'charts' / 'variant_comparison.png'}")


@app.command()
def trace(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    run_index: int = typer.Option(..., "--run", min=0, help="Index of the run to replay (0 to runs - 1)."),
    seed: Optional[int] = typer.Option(None, "--seed", min=0, help="Root seed of the batch (default: the file's)."),
    runs: Optional[int] = typer.Option(None, "--runs", min=1, help="Runs of the batch (default: the file's)."),
    variant: Optional[str] = typer.Option(None, "--variant", help="Variant name (default: the baseline)."),
    out_dir: Path = typer.Option(Path("results"), "--out", help="Folder under which the trace folder is made."),
    all_weeks: bool = typer.Option(False, "--all-weeks", help="Print quiet weeks too."),
    as_json: bool = typer.Option(False, "--json", help="Print the story as JSON on stdout."),
    configs: Optional[Path] = ConfigsOpt,
) -> None:
    """Replay run K of a batch and tell it week by week: who did what to whom, and which red lines were crossed."""
    from sim.output.folder import safe_name
    from sim.output.story import replay, story_lines
    from sim.present.charts import timeline_chart

    try:
        doctrine = _doctrine(configs)
        spec = load_scenario(scenario, doctrine)
        spec = with_overrides(spec, doctrine, seed=seed, runs=runs)
        story = replay(doctrine, spec, run_index, variant)
        folder = Path(out_dir) / safe_name(spec.name) / "traces" / f"{story['variant']}-run{run_index}-seed{spec.seed}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create the trace folder ({exc.strerror})", key="--out", found=str(folder)) from None
    except SimError as exc:
        fail(exc)
        return
    (folder / "story.json").write_text(json.dumps(story, indent=1) + "\n", encoding="utf-8")
    charts = timeline_chart(story, folder)
    if as_json:
        sys.stdout.write(json.dumps(dict(story, results=str(folder)), indent=2) + "\n")
        return
    for line in story_lines(story, quiet_weeks=not all_weeks):
        out.print(line, highlight=False, markup=False)
    out.print(f"timeline: {charts[0]}", highlight=False)


@app.command()
def plot(
    results_dir: Path = typer.Argument(..., metavar="RESULTS_DIR",
                                       help="A results folder written by 'escalation run' or 'escalation compare'."),
    as_json: bool = typer.Option(False, "--json", help="Print the files written as JSON."),
) -> None:
    """Redraw every chart (and the report) of a results folder from its files, without running the model."""
    from sim.output.folder import TableError
    from sim.present.charts import comparison_chart
    from sim.present.publish import draw_results
    from sim.present.report import write_report

    try:
        cfile, mfile = results_dir / "comparison.json", results_dir / "manifest.json"
        if cfile.is_file() and mfile.is_file() and not (results_dir / "summary.json").exists():
            try:
                comparison = json.loads(cfile.read_text(encoding="utf-8"))
                files = comparison_chart(comparison, comparison["title"], results_dir / "charts")
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise InputError(f"comparison.json cannot be read ({exc})", key="RESULTS_DIR", found=str(results_dir)) from None
            report = None
        else:
            try:
                files = draw_results(results_dir, replay=False)
                report = write_report(results_dir)
            except (ValueError, KeyError, TypeError, IndexError, StopIteration, OSError, TableError) as exc:
                # a damaged folder: files present but not what 'escalation run' writes
                raise InputError(f"the results folder is damaged and cannot be drawn ({type(exc).__name__}: {exc})",
                                 key="RESULTS_DIR", found=str(results_dir),
                                 hint="Run the scenario again, or resume it if it was interrupted") from None
    except SimError as exc:
        fail(exc)
        return
    if as_json:
        sys.stdout.write(json.dumps({"charts": [str(f) for f in files], "report": str(report) if report else None},
                                    indent=2) + "\n")
        return
    out.print(f"{len(files)} chart files redrawn in {results_dir / 'charts'}", highlight=False)
    if report:
        out.print(f"report: {report}", highlight=False)

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
    from sim.batch.bench import run_bench

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


@app.command()
def explain(
    item_id: str = typer.Argument(..., metavar="ID", help="A rung, actor, actor.attribute, red line, response, "
                                  "deployment type, location, move, model parameter or outcome id; KIND:ID picks "
                                  "one kind where an id names several (e.g. response:hybrid_attack)."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    configs: Optional[Path] = ConfigsOpt,
) -> None:
    """Explain one doctrine item: its parameters, its source and rationale, and the scenarios that use it."""
    from sim.present.explain import explain as explain_item

    try:
        info = explain_item(item_id, _doctrine(configs))
    except SimError as exc:
        fail(exc)
        return
    if as_json:
        sys.stdout.write(json.dumps(info, indent=2) + "\n")
        return
    table = Table(title=f"{info['kind']}: {info['id']}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, value in info["fields"].items():
        table.add_row(key, json.dumps(value) if isinstance(value, (dict, list)) else str(value))
    table.add_row("source", info["source"])
    table.add_row("rationale", info["rationale"])
    table.add_row("scenarios", ", ".join(info["scenarios"]) or "none of the shipped scenarios")
    if info["also"]:
        table.add_row("also", "the id names other items too: " + ", ".join(info["also"]))
    out.print(table)

def main() -> None:
    """Entry point of the ``escalation`` script and of ``python -m sim``."""
    try:
        app()
    except SimError as exc:  # a user error that escaped a command: still no traceback
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(exc.exit_code)
