"""A sweep over lever values run into one results folder, and its table of points.

A sweep is a scenario whose variants are the points of a grid of lever values (:func:`sim.spec.levers.expand`),
run by :func:`sim.output.running.run_to_folder` as any batch: guarded, interruptible, resumable with ``escalation
sweep --resume``. Points share their random numbers (common random numbers), so each point's difference to the
first point is measured on paired runs, with the same intervals as ``escalation compare``
(:func:`sim.output.comparison.from_indicators`). ``runs.parquet`` carries one column ``lever.<path>`` per lever;
``sweep.json`` and ``sweep.csv`` hold each point's outcome probabilities, 95% intervals and paired differences.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from sim.batch.chunks import default_record_events
from sim.errors import InputError
from sim.output.comparison import for_results
from sim.output.folder import _write_json, load_results, read_manifest
from sim.output.plans import BatchPlan, refuse_settings
from sim.spec.levers import expand as expand_grid
from sim.spec.levers import point_names, resolve_grid, sweep_scenario
from sim.spec.loading import load_doctrine, load_scenario, with_overrides
from sim.spec.vocabulary import OUTCOME_IDS

#: How an interrupted ``escalation sweep`` is finished; the command is followed by the folder.
RESUME_SWEEP = "escalation sweep --resume"
SWEEP_JSON = "sweep.json"
SWEEP_CSV = "sweep.csv"


def plan_sweep(scenario_file: Path | None, levers: list[str] | None = None, *, configs: Path | None = None,
               runs: int | None = None, seed: int | None = None, out: Path = Path("results")) -> BatchPlan:
    """The batch of a sweep: the scenario's grid from ``--lever PATH=VALUES`` options (or its ``sweep:`` block),
    every point a variant; the scenario's baseline is not run (the first point is the reference)."""
    if scenario_file is None:
        raise InputError("missing the scenario file", expected="escalation sweep SCENARIO --lever PATH=VALUES")
    doctrine = load_doctrine(configs)
    spec = with_overrides(load_scenario(scenario_file, doctrine), doctrine, runs=runs, seed=seed)
    expanded = sweep_scenario(spec, doctrine, levers, str(scenario_file))
    names = tuple(point_names(expanded))
    return BatchPlan(doctrine, expanded, names, record_runs=True,
                     record_events=default_record_events(expanded.runs, len(names)), out=out,
                     scenario_file=scenario_file, configs=configs, resume_command=RESUME_SWEEP)


def plan_sweep_resume(folder: Path, scenario_file: Path | None = None, *, configs: Path | None = None,
                      settings: dict[str, object] | None = None) -> BatchPlan:
    """The unfinished sweep in ``folder``: its grid, seed, runs and chunk size from the manifest, the scenario file
    and doctrine folder by default those it was started with; options given with ``--resume`` are refused."""
    refuse_settings(settings)
    manifest = read_manifest(folder)
    grid = ((manifest.get("resolved_scenario") or {}).get("sweep") or {}).get("levers")
    if not manifest.get("sweep") or not isinstance(grid, dict):
        raise InputError("this results folder does not hold a sweep", file=folder,
                         hint=f"Finish it with: escalation run --resume {folder}")
    if scenario_file is None and manifest.get("scenario_file"):
        scenario_file = Path(manifest["scenario_file"])
    if scenario_file is None:
        raise InputError("the manifest does not name its scenario file", file=folder,
                         hint="Give the scenario file as well: escalation sweep SCENARIO --resume FOLDER")
    if configs is None and manifest.get("configs"):
        configs = Path(manifest["configs"])
    doctrine = load_doctrine(configs)
    spec = with_overrides(load_scenario(scenario_file, doctrine), doctrine, runs=manifest["runs"],
                          seed=manifest["seed"], chunk_size=manifest["chunk_size"])
    expanded = expand_grid(spec, doctrine, resolve_grid(spec, doctrine, grid, "sweep.levers"), "sweep.levers")
    return BatchPlan(doctrine, expanded, tuple(str(v) for v in manifest["variants"]),
                     record_runs=bool(manifest["record_runs"]), record_events=bool(manifest["record_events"]),
                     out=folder, resume=folder, scenario_file=scenario_file, configs=configs,
                     chunks_done=frozenset(int(i) for i in manifest.get("chunks_done") or []),
                     resume_command=RESUME_SWEEP)


# ------------------------------------------------------------------------------------------------- the table
def sweep_table(folder: str | Path) -> dict[str, Any]:
    """The points of a finished sweep: lever values, outcome probabilities with 95% Wilson intervals, and the
    difference to the first point with its paired interval (Newcombe's method 10 on common random numbers)."""
    folder = Path(folder)
    manifest, summary, _ = load_results(folder)
    sweep = manifest.get("sweep")
    if not sweep:
        raise InputError("this results folder does not hold a sweep", file=folder,
                         hint="Give a folder written by 'escalation sweep'")
    comparison = for_results(folder, summary)
    reference = comparison["baseline"]
    points = []
    for name, values in sweep["points"].items():
        outcomes = {}
        for oid in OUTCOME_IDS:
            o = comparison["outcomes"][oid][name]
            d = comparison["differences"].get(name, {}).get(oid, {"difference": 0.0, "ci95": [0.0, 0.0]})
            outcomes[oid] = {"count": o["count"], "probability": o["probability"], "ci95": list(o["ci95"]),
                             "difference": d["difference"], "difference_ci95": list(d["ci95"])}
        points.append({"variant": name, "levers": values, "outcomes": outcomes})
    return {
        "scenario": summary["scenario"],
        "title": summary.get("title", ""),
        "levers": list(sweep["levers"]),
        "runs": summary["runs"],
        "seed": summary["seed"],
        "reference": reference,
        "method": comparison["method"],
        "method_text": comparison["method_text"],
        "note": summary.get("note", ""),
        "points": points,
    }


def table_rows(table: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per point and outcome: the lever values, probability, interval, difference to the first point."""
    rows = []
    for point in table["points"]:
        for oid in OUTCOME_IDS:
            o = point["outcomes"][oid]
            row: dict[str, Any] = {"variant": point["variant"]}
            row.update({f"lever.{p}": v for p, v in point["levers"].items()})
            row.update({
                "outcome": oid, "runs": table["runs"], "count": o["count"],
                "probability": round(o["probability"], 6),
                "ci95_low": round(o["ci95"][0], 6), "ci95_high": round(o["ci95"][1], 6),
                "difference_to_first": round(o["difference"], 6),
                "difference_ci95_low": round(o["difference_ci95"][0], 6),
                "difference_ci95_high": round(o["difference_ci95"][1], 6),
            })
            rows.append(row)
    return rows


def write_sweep(folder: str | Path) -> dict[str, Any]:
    """Write ``sweep.json`` and ``sweep.csv`` into a finished sweep's folder; returns the table."""
    folder = Path(folder)
    table = sweep_table(folder)
    _write_json(folder / SWEEP_JSON, table)
    rows = table_rows(table)
    tmp = folder / (SWEEP_CSV + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(folder / SWEEP_CSV)
    return table


def read_sweep(folder: str | Path) -> dict[str, Any]:
    """``sweep.json`` of a sweep's folder (written first if missing)."""
    path = Path(folder) / SWEEP_JSON
    if not path.is_file():
        return write_sweep(folder)
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{SWEEP_JSON} cannot be read ({exc})", file=path) from None


def brief(table: dict[str, Any]) -> dict[str, Any]:
    """The sweep as ``--json`` prints it: levers, and per point its levers and each outcome's probability and
    interval (with the paired difference to the first point)."""
    return {
        "levers": table["levers"],
        "reference": table["reference"],
        "runs": table["runs"],
        "points": [{"variant": p["variant"], "levers": p["levers"],
                    "outcomes": {oid: {"probability": o["probability"], "ci95": o["ci95"],
                                       "difference": o["difference"], "difference_ci95": o["difference_ci95"]}
                                 for oid, o in p["outcomes"].items()}} for p in table["points"]],
    }
