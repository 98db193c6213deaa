"""Rich tables of what the commands print: summaries, comparisons, the catalogue, one explained item, bench results."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from rich.table import Table

from sim.present.text import difference, plain, share
from sim.spec.vocabulary import OUTCOME_IDS


def summary_table(summary: dict[str, Any]) -> Table:
    """Outcome probabilities with their 95% CIs, one column per variant."""
    table = Table(title=f"{plain(summary['title'])}\n% of runs (95% CI; under 1%: runs of all), {summary['runs']:,} "
                        f"runs per variant, {summary['horizon_weeks']} weeks", caption=summary["note"] + (
                        f" Parameter uncertainty: {summary['parameter_uncertainty']}."
                        if "parameter_uncertainty" in summary else ""), caption_justify="left")
    table.add_column("outcome")
    variants = list(summary["variants"])
    for v in variants:
        table.add_column(v, justify="right")
    for oid in OUTCOME_IDS:
        row = [oid]
        for v in variants:
            o = summary["variants"][v]["outcomes"][oid]
            row.append(share(o["count"], summary["runs"], o["ci95"]))
        table.add_row(*row)
    return table


def difference_table(comparison: dict[str, Any]) -> Table:
    """Baseline probabilities and each variant's difference to the baseline, in percentage points, with 95% CIs."""
    base = comparison["baseline"]
    others = [v for v in comparison["variants"] if v != base]
    table = Table(title=f"{plain(comparison['title'])}\nDifference to '{base}' in percentage points (95% CI), "
                        f"{comparison['runs']:,} runs per variant, seed {comparison['seed']}",
                  caption="Intervals: " + comparison["method_text"], caption_justify="left")
    table.add_column("outcome")
    table.add_column(f"{base} %", justify="right")
    for v in others:
        table.add_column(v, justify="right")
    for oid in OUTCOME_IDS:
        o = comparison["outcomes"][oid][base]
        row = [oid, share(o["count"], comparison["runs"], o["ci95"])]
        for v in others:
            d = comparison["differences"][v][oid]
            row.append(difference(d["difference"], d["ci95"]))
        table.add_row(*row)
    return table


#: The sections of ``escalation list``: title, key in the catalogue, columns.
CATALOGUE_SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Actors", "actors", ("id", "name", "bloc", "roles")),
    ("Ladder", "rungs", ("rung", "id", "name", "severity")),
    ("Deployment types", "deployment_types", ("id", "name", "locations")),
    ("Red lines", "red_lines", ("id", "actor", "statement", "declared_response")),
    ("Scripted moves", "moves", ("id", "name", "rung")),
    ("Outcomes", "outcomes", ("id", "description")),
)


def catalogue_tables(data: dict[str, list[Any]]) -> Iterator[Table]:
    """One table per section of the catalogue (:func:`sim.present.explain.catalogue`)."""
    for title, key, cols in CATALOGUE_SECTIONS:
        t = Table(title=title)
        for c in cols:
            t.add_column(c)
        for row in data[key]:
            t.add_row(*[", ".join(v) if isinstance(v, list) else str(v) for v in (row[c] for c in cols)])
        yield t


def item_table(info: dict[str, Any]) -> Table:
    """One doctrine item explained (:func:`sim.present.explain.explain`)."""
    table = Table(title=f"{info['kind']}: {info['id']}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, value in info["fields"].items():
        table.add_row(key, json.dumps(value) if isinstance(value, (dict, list)) else str(value))
    table.add_row("source", info["source"])
    for ref in info.get("references", []):
        table.add_row(f"[{ref['key']}]", f"{ref['by']}, {ref['title']}, {ref['date']}: {ref['gives']}")
    for key in info.get("unresolved", []):
        table.add_row(f"[{key}]", "no entry in docs/sources.md")
    table.add_row("rationale", info["rationale"])
    table.add_row("scenarios", ", ".join(info["scenarios"]) or "none of the shipped scenarios")
    if info["also"]:
        table.add_row("also", "the id names other items too: " + ", ".join(info["also"]))
    return table


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
        (f"batch of {r['runs']:,} runs, {r['workers']} worker(s), chunks of {r['batch_chunk_size']:,}",
         f"{r['runs_per_second']:,.0f} runs/s in {r['batch_seconds']:.1f} s"),
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


def calibration_lines(summary: dict[str, Any]) -> list[str]:
    """The calibration's fit, a line per target, and the files written."""
    lines = [f"kept {summary['kept']} of {summary['candidates']} candidates in {summary['wall_seconds']} s"]
    for row in summary["targets"]:
        mark = "ok " if row["within"] else "OUT"
        lines.append(f"  {mark} {row['id']:28s} [{row['low']:g}, {row['high']:g}]  kept: {row['kept_min']:.3g} to "
                     f"{row['kept_max']:.3g}")
    lines += [f"{k}: {v}" for k, v in summary["written"].items()]
    return lines
