"""The plan of a comparison, made before anything heavy is imported: one scenario's variants (a
:class:`~sim.output.plans.BatchPlan`), or several scenarios' baselines side by side (:class:`SideBySidePlan`), new or
resumed from a folder. ``escalation compare`` makes it first, so that a process pool's fork server can preload the
model while the command imports the code that runs the batches (:mod:`sim.output.comparing`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.batch.chunks import compare_variants, default_record_events, plan_chunks
from sim.errors import InputError
from sim.output.comparison import check_side_by_side
from sim.output.folder import RESUMABLE, read_manifest
from sim.output.plans import BatchPlan, plan_resume, refuse_settings
from sim.spec.doctrine import Doctrine
from sim.spec.loading import canonical_hash, load_doctrine, load_scenario, with_overrides
from sim.spec.scenario import ScenarioSpec

#: The ``kind`` in the manifest of a side-by-side comparison folder.
SIDE_BY_SIDE = "comparison"
#: How an interrupted ``escalation compare`` is finished; the command is followed by the folder.
RESUME_COMPARE = "escalation compare --resume"


@dataclass(frozen=True)
class SideBySidePlan:
    """The baselines of several scenarios (same seed and runs), each a batch into the same comparison folder."""

    doctrine: Doctrine
    scenarios: tuple[ScenarioSpec, ...]
    scenario_files: tuple[Path, ...]
    out: Path = Path("results")
    configs: Path | None = None
    #: An unfinished comparison folder to complete instead of making a new one.
    resume: Path | None = None

    @property
    def title(self) -> str:
        return "Side by side: " + " vs ".join(sp.name for sp in self.scenarios)

    def chunks_left(self) -> int:
        """The chunks of all its batches, at most: on a resume, some of them may be done already."""
        return sum(len(plan_chunks(sp.runs, sp.chunk_size)) for sp in self.scenarios)

    def batch_plan(self, spec: ScenarioSpec, scenario_file: Path, folder: Path, part: Path | None) -> BatchPlan:
        """The batch of one scenario's baseline: new, in ``folder``, or resumed from its results folder ``part``."""
        done = frozenset(int(i) for i in read_manifest(part).get("chunks_done") or []) if part else frozenset()
        return BatchPlan(self.doctrine, spec, (spec.baseline_name,), record_runs=True, record_events=False,
                         out=part or folder, resume=part, scenario_file=scenario_file, configs=self.configs,
                         chunks_done=done, resume_command=RESUME_COMPARE)


ComparePlan = BatchPlan | SideBySidePlan


def plan_compare(scenario_files: list[Path], *, configs: Path | None = None, runs: int | None = None,
                 seed: int | None = None, variants: list[str] | None = None,
                 out: Path = Path("results")) -> ComparePlan:
    """The comparison of one scenario file's variants, or of several files' baselines side by side (with the first
    file's runs and seed unless given)."""
    doctrine = load_doctrine(configs)
    specs = [load_scenario(p, doctrine) for p in scenario_files]
    if len(specs) == 1:
        spec = with_overrides(specs[0], doctrine, runs=runs, seed=seed)
        names = compare_variants(spec, variants)
        return BatchPlan(doctrine, spec, names, record_runs=True,
                         record_events=default_record_events(spec.runs, len(names)), out=out,
                         scenario_file=scenario_files[0], configs=configs, resume_command=RESUME_COMPARE)
    if variants:
        raise InputError("--variants applies to a single scenario file", key="--variants",
                         expected="one scenario file", found=f"{len(specs)} files")
    first = specs[0]
    specs = [with_overrides(sp, doctrine, runs=runs or first.runs, seed=first.seed if seed is None else seed)
             for sp in specs]
    check_side_by_side(specs)
    return SideBySidePlan(doctrine, tuple(specs), tuple(scenario_files), out=out, configs=configs)


_SIDE_BY_SIDE_KEYS = {"status": str, "scenarios": list, "scenario_files": list, "scenario_hashes": dict,
                      "doctrine_hash": str, "runs": int, "seed": int, "batches": dict}


def side_by_side_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a side-by-side comparison folder, checked; None if ``folder`` is not one."""
    try:
        manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(manifest, dict) or manifest.get("kind") != SIDE_BY_SIDE:
        return None
    for key, kind in _SIDE_BY_SIDE_KEYS.items():
        if not isinstance(manifest.get(key), kind):
            raise InputError(f"manifest.json lacks a valid '{key}'", file=Path(folder) / "manifest.json", key=key,
                             expected=kind.__name__, found=manifest.get(key))
    return manifest


def plan_compare_resume(folder: Path, scenario_files: list[Path] | None = None, *, configs: Path | None = None,
                        settings: dict[str, object] | None = None) -> ComparePlan:
    """The unfinished comparison in ``folder``: a results folder of one scenario's variants, or a side-by-side
    comparison folder. Scenario files and the doctrine folder default to those it was started with; ``settings``
    given with ``--resume`` (values other than None) are refused."""
    refuse_settings(settings)
    files = list(scenario_files or [])
    manifest = side_by_side_manifest(folder)
    if manifest is None:
        if len(files) > 1:
            raise InputError("a results folder of one scenario is resumed with at most its own scenario file",
                             key="SCENARIO", expected="one scenario file or none", found=f"{len(files)} files")
        plan = plan_resume(folder, files[0] if files else None, configs=configs, command="compare")
        if len(plan.variants) < 2:
            raise InputError("nothing to compare: the batch runs one variant", file=folder,
                             hint=f"Finish it with: escalation run --resume {folder}")
        return plan
    return _plan_side_by_side_resume(folder, manifest, files, configs)


def _plan_side_by_side_resume(folder: Path, manifest: dict[str, Any], files: list[Path],
                              configs: Path | None) -> SideBySidePlan:
    if manifest["status"] == "complete":
        raise InputError("this comparison is already complete; there is nothing to resume", file=folder)
    if manifest["status"] not in RESUMABLE:
        raise InputError(f"a comparison with status '{manifest['status']}' cannot be resumed", file=folder,
                         expected="one of: " + ", ".join(RESUMABLE))
    names = [str(n) for n in manifest["scenarios"]]
    paths = files or [Path(p) for p in manifest["scenario_files"]]
    if len(paths) != len(names):
        raise InputError("give every scenario file of the comparison, in its order", key="SCENARIO",
                         expected=f"{len(names)} files: " + ", ".join(names), found=f"{len(paths)} files")
    if configs is None and manifest.get("configs"):
        configs = Path(manifest["configs"])
    doctrine = load_doctrine(configs)
    if canonical_hash(doctrine) != manifest["doctrine_hash"]:
        raise InputError("the doctrine (configs/) has changed since this comparison started", file=folder,
                         expected=f"doctrine hash {manifest['doctrine_hash']}", found=canonical_hash(doctrine),
                         hint="Run it as a new comparison instead of resuming")
    specs = []
    resolved = manifest.get("resolved_scenarios")
    for name, path in zip(names, paths, strict=True):
        # the chunks the comparison was started with (a size the file leaves out is chosen by the code that runs it)
        started = resolved.get(name) if isinstance(resolved, dict) else None
        chunk = started.get("chunk_size") if isinstance(started, dict) else None
        if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, int) or not 1 <= chunk <= 10**6):
            raise InputError("the manifest is damaged: it records an impossible chunk size",
                             file=folder / "manifest.json", key=f"resolved_scenarios.{name}.chunk_size",
                             expected="a whole number from 1 to 10^6", found=chunk,
                             hint="Run it as a new comparison instead of resuming")
        spec = with_overrides(load_scenario(path, doctrine), doctrine, runs=manifest["runs"], seed=manifest["seed"],
                              chunk_size=chunk)
        if canonical_hash(spec) != manifest["scenario_hashes"].get(name):
            raise InputError("the scenario has changed since this comparison started, so its finished chunks "
                             "cannot be reused", file=path,
                             expected=f"scenario '{name}' with hash {manifest['scenario_hashes'].get(name)}",
                             found=canonical_hash(spec), hint="Run it as a new comparison instead of resuming")
        specs.append(spec)
    return SideBySidePlan(doctrine, tuple(specs), tuple(paths), out=folder, configs=configs, resume=folder)


