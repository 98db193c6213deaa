"""A comparison run into results folders: one scenario's variants, or several scenarios' baselines side by side.

One scenario file: its variants (the baseline always among them) are one batch with common random numbers, run by
:func:`sim.output.running.run_to_folder` into an ordinary results folder, whose comparison is then drawn from its
per-run table.

Several scenario files: the baseline of each, with the same seed and runs so that the runs pair up, is a batch of
its own, run by :func:`~sim.output.running.run_to_folder` into a results folder inside a new comparison folder
``<out>/comparisons/<UTC time>-<a>-vs-<b>/``; the comparison is made from their per-run tables and written next to
them (``comparison.json``, ``comparison.csv``). The comparison folder's manifest (``kind: comparison``) is
``running``, ``interrupted`` or ``complete``; every batch is guarded, interruptible and resumable, and
``escalation compare --resume FOLDER`` finishes the batches that are not complete, then the comparison.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim import NOT_A_FORECAST
from sim.batch import guard
from sim.batch.chunks import Chunk
from sim.batch.executors import Execution
from sim.batch.stopping import answer_stop, ctrl_c_ignored, stop_signals
from sim.errors import InputError
from sim.output.compare_plans import (
    RESUME_COMPARE,
    SIDE_BY_SIDE,
    ComparePlan,
    SideBySidePlan,
    side_by_side_manifest,
)
from sim.output.comparison import check_side_by_side, from_indicators, indicators_from_table, write
from sim.output.folder import (
    MANIFEST_SCHEMA,
    _new_folder,
    _now,
    _write_json,
    safe_name,
    versions,
)
from sim.output.running import BatchStart, BatchStopped, run_to_folder
from sim.spec.json_schema import json_data
from sim.spec.loading import canonical_hash
from sim.spec.scenario import ScenarioSpec

__all__ = ["RESUME_COMPARE", "SIDE_BY_SIDE", "ComparePlan", "SideBySidePlan", "compare_to_folder", "run_side_by_side",
           "side_by_side_comparison", "side_by_side_manifest"]


# ------------------------------------------------------------------------------------------------- running
def compare_to_folder(plan: ComparePlan, execution: Execution | None = None, *, command: list[str] | None = None,
                      on_start: Callable[[BatchStart], None] | None = None,
                      on_chunk: Callable[[Chunk], None] | None = None) -> Path:
    """Run a comparison into its folder (guarded, interruptible, resumable); returns the folder.

    One scenario's variants run as one batch into a results folder (its comparison is drawn from it afterwards, by
    :func:`sim.present.publish.publish_comparison`); several scenarios run side by side into a comparison folder
    that also gets ``comparison.json`` and ``comparison.csv``.
    """
    if isinstance(plan, SideBySidePlan):
        return run_side_by_side(plan, execution, command=command, on_start=on_start, on_chunk=on_chunk)
    return run_to_folder(plan, execution, command=command, on_start=on_start, on_chunk=on_chunk).folder


def _check_side_by_side_resources(plan: SideBySidePlan, execution: Execution) -> None:
    """All batches together, before any folder is made: one at a time in memory, all of them on disk."""
    first = plan.scenarios[0]
    guard.check(runs=first.runs, weeks=first.horizon_weeks, variants=len(plan.scenarios),
                chunk_size=max(sp.chunk_size for sp in plan.scenarios), workers=execution.workers, record_runs=True,
                record_events=False, out=plan.out, in_process=execution.in_process,
                check_memory=not execution.address)


def _new_comparison_folder(plan: SideBySidePlan, command: list[str] | None) -> tuple[Path, dict[str, Any]]:
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%d-%H%M%S")
    stem = safe_name(f"{stamp}-{'-vs-'.join(sp.name for sp in plan.scenarios)}")
    folder = _new_folder(Path(plan.out) / "comparisons", stem, Path(plan.out))
    first = plan.scenarios[0]
    manifest: dict[str, Any] = {
        "schema": MANIFEST_SCHEMA, "kind": SIDE_BY_SIDE, "status": "running", "title": plan.title,
        "seed": first.seed, "runs": first.runs,
        "scenarios": [sp.name for sp in plan.scenarios],
        "scenario_files": [str(Path(p).resolve()) for p in plan.scenario_files],
        "configs": str(Path(plan.configs).resolve()) if plan.configs is not None else None,
        "scenario_hashes": {sp.name: canonical_hash(sp) for sp in plan.scenarios},
        "doctrine_hash": canonical_hash(plan.doctrine), "batches": {}, "started": _now(), "finished": None,
        "resumed": [], "command": command or [], "versions": versions(),
        "resolved_scenarios": {sp.name: json_data(sp) for sp in plan.scenarios}, "note": NOT_A_FORECAST,
    }
    _write_json(folder / "manifest.json", manifest)
    return folder, manifest


def _reopen_comparison_folder(folder: Path, command: list[str] | None) -> dict[str, Any]:
    manifest = side_by_side_manifest(folder)
    if manifest is None:  # pragma: no cover - planning checked it
        raise InputError("not a side-by-side comparison folder", file=folder)
    manifest["resumed"] = list(manifest.get("resumed") or []) + [{"at": _now(), "command": command or []}]
    manifest.update(status="running")
    _write_json(folder / "manifest.json", manifest)
    return manifest


def _part(folder: Path, manifest: dict[str, Any], name: str) -> Path | None:
    """The results folder of one scenario's batch, if it was started; never one outside the comparison folder."""
    sub = manifest["batches"].get(name)
    if sub is None:
        return None
    part = folder / str(sub)
    if not part.resolve().is_relative_to(folder.resolve()):
        raise InputError("the manifest names a batch folder outside the comparison folder", file=folder,
                         key=f"batches.{name}", found=str(sub))
    return part


def _complete(part: Path) -> bool:
    try:
        return json.loads((part / "manifest.json").read_text(encoding="utf-8")).get("status") == "complete"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return False


def run_side_by_side(plan: SideBySidePlan, execution: Execution | None = None, *, command: list[str] | None = None,
                     on_start: Callable[[BatchStart], None] | None = None,
                     on_chunk: Callable[[Chunk], None] | None = None) -> Path:
    """Run each scenario's baseline into the comparison folder (each through
    :func:`~sim.output.running.run_to_folder`), then write the comparison; returns the folder.

    A batch refused by the guard writes nothing; a stopped one marks the comparison folder interrupted and raises
    :class:`~sim.output.running.BatchStopped`, which says to finish it with ``escalation compare --resume``.
    """
    execution = execution or Execution()
    check_side_by_side(list(plan.scenarios))
    if plan.resume is None:
        _check_side_by_side_resources(plan, execution)
        folder, manifest = _new_comparison_folder(plan, command)
    else:
        folder, manifest = plan.resume, _reopen_comparison_folder(plan.resume, command)

    def started(spec: ScenarioSpec) -> Callable[[BatchStart], None]:
        def record(start: BatchStart) -> None:
            manifest["batches"][spec.name] = start.folder.relative_to(folder).as_posix()
            _write_json(folder / "manifest.json", manifest)
            if on_start is not None:
                on_start(start)
        return record

    current = plan.scenarios[0].name
    try:
        with stop_signals():  # a stop between two batches, too, leaves the comparison folder interrupted
            for spec, path in zip(plan.scenarios, plan.scenario_files, strict=True):
                current = spec.name
                part = _part(folder, manifest, spec.name)
                if part is not None and _complete(part):
                    continue
                run_to_folder(plan.batch_plan(spec, path, folder, part), execution, command=command,
                              on_start=started(spec), on_chunk=on_chunk, resume_folder=folder)
    except BatchStopped as exc:
        _stopped(folder, manifest, f"{current}: {exc.reason}")
        raise BatchStopped(f"{current}: {exc.reason}", folder, exc.exit_code, RESUME_COMPARE) from None
    except KeyboardInterrupt:
        answer_stop()
        _stopped(folder, manifest, "interrupted")
        raise BatchStopped("interrupted between two batches", folder, 130, RESUME_COMPARE) from None
    write(side_by_side_comparison(plan, folder, manifest), folder)
    manifest.update(status="complete", finished=_now())
    manifest.pop("stopped", None)
    _write_json(folder / "manifest.json", manifest)
    return folder


def _stopped(folder: Path, manifest: dict[str, Any], reason: str) -> None:
    manifest.update(status="interrupted", stopped={"at": _now(), "reason": reason})
    with ctrl_c_ignored():
        _write_json(folder / "manifest.json", manifest)


def side_by_side_comparison(plan: SideBySidePlan, folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """The comparison of the scenarios' baselines from their batches' per-run tables, the first file being the
    reference (the runs pair up: same seed, same run indices)."""
    arms = {}
    for spec in plan.scenarios:
        part = _part(folder, manifest, spec.name)
        happened = indicators_from_table(part / "runs.parquet") if part is not None else None
        if happened is None or spec.baseline_name not in happened:
            raise InputError(f"the per-run table of '{spec.name}' cannot be read", file=part or folder,
                             hint="Run the comparison again")
        arms[spec.name] = happened[spec.baseline_name]
    first = plan.scenarios[0]
    return from_indicators(arms, first.name, seed=first.seed, title=plan.title)
