"""What a batch into a results folder runs, resolved from the command line's settings or from an unfinished folder.

A :class:`BatchPlan` holds the loaded doctrine and scenario (settings applied), the variants, what is recorded and
where the folder goes: a new folder under ``out``, or the unfinished folder ``resume`` to complete.
:func:`sim.output.running.run_to_folder` runs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sim.batch.chunks import Batch, default_record_events, plan_chunks, select_variants
from sim.errors import InputError
from sim.output.folder import read_manifest
from sim.spec.doctrine import Doctrine
from sim.spec.loading import load_doctrine, load_scenario, with_overrides
from sim.spec.scenario import ScenarioSpec, auto_chunk_size

#: How an interrupted ``escalation run`` is finished; the command is followed by the folder.
RESUME_RUN = "escalation run --resume"


@dataclass(frozen=True)
class BatchPlan:
    """A batch ready to run into a results folder."""

    doctrine: Doctrine
    scenario: ScenarioSpec
    variants: tuple[str, ...]
    record_runs: bool = True
    record_events: bool = True
    #: The folder under which a new results folder is made.
    out: Path = Path("results")
    #: An unfinished results folder to complete instead of making a new one.
    resume: Path | None = None
    scenario_file: Path | None = None
    configs: Path | None = None
    #: The chunks the unfinished folder's manifest lists as done (for the resource estimate).
    chunks_done: frozenset[int] = frozenset()
    #: The command that finishes this batch if it is stopped (followed by the folder).
    resume_command: str = RESUME_RUN

    def batch(self) -> Batch:
        """The batch to execute."""
        return Batch(self.doctrine, self.scenario, self.variants, record_runs=self.record_runs,
                     record_events=self.record_events)

    def chunks_left(self) -> int:
        """The chunks the batch has still to run."""
        return sum(c.index not in self.chunks_done for c in plan_chunks(self.scenario.runs, self.scenario.chunk_size))

    def runs_done(self, chunks: set[int] | frozenset[int]) -> int:
        """Runs per variant in the given finished chunks."""
        return sum(c.size for c in plan_chunks(self.scenario.runs, self.scenario.chunk_size) if c.index in chunks)


def plan_run(scenario_file: Path | None, *, configs: Path | None = None, runs: int | None = None,
             seed: int | None = None, chunk_size: int | None = None, variants: list[str] | None = None,
             record_runs: bool = True, events: bool | None = None, out: Path = Path("results"),
             fixed_parameters: bool = False) -> BatchPlan:
    """A new batch of a scenario file: its settings overridden where given, the variants named (default: all),
    events recorded when asked or, by default, for a batch of at most 200,000 runs in all; with
    ``fixed_parameters`` the design parameters at their point values instead of drawn from the calibrated sets."""
    if scenario_file is None:
        raise InputError("missing the scenario file", expected="escalation run SCENARIO (or --resume FOLDER)")
    doctrine = load_doctrine(configs)
    spec = with_overrides(load_scenario(scenario_file, doctrine), doctrine, runs=runs, seed=seed,
                          chunk_size=chunk_size, design_parameters="fixed" if fixed_parameters else None)
    names = select_variants(spec, variants)
    record_events = record_runs and (events if events is not None else default_record_events(spec.runs, len(names)))
    if spec.chunk_size_chosen and not record_runs:  # aggregates only: larger chunks for a large batch
        spec = with_overrides(spec, doctrine, chunk_size=auto_chunk_size(spec.runs, tables=False))
    return BatchPlan(doctrine, spec, names, record_runs=record_runs, record_events=record_events, out=out,
                     scenario_file=scenario_file, configs=configs)


def refuse_settings(settings: dict[str, object] | None) -> None:
    """A resumed batch keeps the settings it was started with: refuse any given (a value other than None)."""
    given = [name for name, value in (settings or {}).items() if value is not None]
    if given:
        raise InputError("a resumed batch keeps the settings it was started with", key=", ".join(given),
                         hint="Leave these options out with --resume")


def plan_resume(folder: Path, scenario_file: Path | None = None, *, configs: Path | None = None,
                settings: dict[str, object] | None = None, command: str = "run") -> BatchPlan:
    """The unfinished batch in ``folder``, with the settings of its manifest.

    The scenario file and the doctrine folder default to those the batch was started with. ``settings`` are the
    options given with ``--resume`` (None where not given): any given is refused. ``command`` is the command
    that finishes the folder (``run`` or ``compare``).
    """
    refuse_settings(settings)
    manifest = read_manifest(folder)
    if scenario_file is None and manifest.get("scenario_file"):
        scenario_file = Path(manifest["scenario_file"])
    if scenario_file is None:
        raise InputError("the manifest does not name its scenario file", file=folder,
                         hint=f"Give the scenario file as well: escalation {command} SCENARIO --resume FOLDER")
    if configs is None and manifest.get("configs"):
        configs = Path(manifest["configs"])
    doctrine = load_doctrine(configs)
    spec = with_overrides(load_scenario(scenario_file, doctrine), doctrine, runs=manifest["runs"],
                          seed=manifest["seed"], chunk_size=manifest["chunk_size"])
    names = select_variants(spec, [str(v) for v in manifest["variants"]])
    return BatchPlan(doctrine, spec, names, record_runs=bool(manifest["record_runs"]),
                     record_events=bool(manifest["record_events"]), out=folder, resume=folder,
                     scenario_file=scenario_file, configs=configs,
                     chunks_done=frozenset(int(i) for i in manifest.get("chunks_done") or []),
                     resume_command=f"escalation {command} --resume")
