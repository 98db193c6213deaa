"""What the app computes, free of any user interface: the scenario opened, the choices its controls offer, the
option being tried, and the answer of a batch of that option against the scenario's baseline.

The option is a plain mapping of levers, shaped like a variant of the scenario file (``deployments``,
``policies``, ``timeline``, ``mediators``). Every change goes through the edit functions here, which keep it inside
the schema's bounds (a location the deployment type allows, a week inside the horizon, a size the schema accepts),
and then through the scenario schema itself (:func:`with_option`), so the app runs only what a file could hold.

A batch of the option and of the baseline runs in-process over runs ``0 .. n - 1`` with the scenario's seed: every
draw is keyed by (seed, run, week, site), so the two arms share their random numbers (common random numbers) and
``escalation compare FILE --variants NAME --runs n`` reproduces the same numbers once the option is saved as a
variant. The difference to the baseline is the paired interval of :mod:`sim.output.comparison`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from sim.batch.chunks import Chunk
from sim.engine.aggregates import Aggregates
from sim.engine.model import simulate
from sim.engine.world import Context
from sim.errors import InputError
from sim.output.comparison import from_indicators, indicators_from_runs
from sim.output.ranking import escalation_order
from sim.output.story import replay
from sim.spec.doctrine import Doctrine
from sim.spec.loading import canonical_hash, default_scenarios_dir, load_doctrine, load_scenario
from sim.spec.messages import validation_error
from sim.spec.scenario import DeploymentSpec, ScenarioSpec
from sim.spec.vocabulary import OUTCOME_IDS, Bloc, Role
from sim.spec.yaml_reader import Document

#: Runs per arm of the batch answering each change (fewer when the scenario itself has fewer runs).
APP_RUNS = 4000
#: Bounds of the app's batch size (``escalation app --runs``).
MIN_RUNS, MAX_RUNS = 100, 100_000
#: The name of the option inside the app's batch (a variant of the scenario while it runs).
OPTION = "option"
#: The outcomes drawn on the overlay chart: the steps up the Russia-NATO axis.
HEADLINE_OUTCOMES = ("strike_on_nato_forces_in_ukraine", "strike_on_nato_territory", "nuclear_signalling",
                     "nato_russia_war", "nuclear_use")
#: The conditions a deployment can stand under (the schema's literal choices).
CONDITIONS = ("always", "after_ceasefire", "during_fighting")
#: Size of a deployment added in the app, before the user sets it.
NEW_DEPLOYMENT_SIZE = 1000

Option = dict[str, Any]


# ------------------------------------------------------------------------------------------------- opening
@dataclass(frozen=True)
class Opened:
    """A scenario file opened in the app: where it is, the doctrine it was checked against, what it says."""

    path: Path
    doctrine: Doctrine
    scenario: ScenarioSpec

    @property
    def key(self) -> str:
        """A short hash of doctrine and scenario: a changed file opens as a new one."""
        return canonical_hash(self.doctrine, self.scenario)


def shipped_scenarios() -> list[Path]:
    """The scenario files shipped in ``scenarios/``, by name."""
    return sorted(default_scenarios_dir().glob("*.yaml"))


def open_scenario(path: str | Path, configs: str | Path | None = None) -> Opened:
    """Read and validate a scenario file as ``escalation validate`` does; :class:`InputError` (with the same
    message) when it does not validate."""
    doctrine = load_doctrine(configs)
    return Opened(Path(path), doctrine, load_scenario(path, doctrine))


# ------------------------------------------------------------------------------------------------- choices
@dataclass(frozen=True)
class Choices:
    """What the controls offer: the schema's choices, resolved against the doctrine."""

    types: tuple[str, ...]
    #: For each deployment type, the locations it may stand at (the doctrine's rule), in the vocabulary's order.
    locations: dict[str, tuple[str, ...]]
    members: tuple[str, ...]
    mediators: tuple[str, ...]
    moves: tuple[str, ...]
    move_actors: tuple[str, ...]
    horizon: int
    min_size: int
    max_size: int


def _size_bounds() -> tuple[int, int]:
    low, high = 1, 500_000
    for meta in DeploymentSpec.model_fields["size"].metadata:
        low = getattr(meta, "ge", low)
        high = getattr(meta, "le", high)
    return int(low), int(high)


def choices(doctrine: Doctrine, scenario: ScenarioSpec) -> Choices:
    """The choices of every control for this scenario."""
    low, high = _size_bounds()
    return Choices(
        types=tuple(doctrine.ids("deployment_types")),
        locations={t.id: tuple(loc.value for loc in t.locations) for t in doctrine.deployment_types},
        members=tuple(doctrine.members()),
        mediators=tuple(a.id for a in doctrine.actors if Role.MEDIATOR in a.roles),
        moves=tuple(doctrine.ids("moves")),
        move_actors=tuple(a.id for a in doctrine.actors if a.bloc in (Bloc.NATO, Bloc.UKRAINE)),
        horizon=scenario.horizon_weeks,
        min_size=low,
        max_size=high,
    )


# ------------------------------------------------------------------------------------------------- options
def starting_points(scenario: ScenarioSpec) -> list[str]:
    """The levers an option can start from: the baseline, then each variant of the file."""
    return [lv.name for lv in scenario.levers()]


def option_from(scenario: ScenarioSpec, name: str | None = None) -> Option:
    """The levers of the baseline (or of variant ``name``) as an option to edit."""
    levers = {lv.name: lv for lv in scenario.levers()}
    lv = levers[name or scenario.baseline_name]
    return lv.model_dump(mode="json", exclude={"name", "description"})


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(int(value), high))


def _fit_deployment(d: dict[str, Any], previous: dict[str, Any], ch: Choices) -> dict[str, Any]:
    """Keep a deployment inside the schema: the type's locations, the size bounds, weeks inside the horizon."""
    if d["type"] not in ch.types:
        d["type"] = previous["type"]
    allowed = ch.locations[d["type"]]
    if d["location"] not in allowed:
        d["location"] = previous["location"] if previous["location"] in allowed else allowed[0]
    d["size"] = _clamp(d["size"], ch.min_size, ch.max_size)
    contributors = [c for c in dict.fromkeys(d["contributors"]) if c in ch.members]
    d["contributors"] = contributors or list(previous["contributors"])
    if d.get("condition", "always") not in CONDITIONS:
        d["condition"] = previous.get("condition", "always")
    end = d.get("end_week")
    last = (end - 1) if end is not None else ch.horizon - 1
    d["start_week"] = _clamp(d["start_week"], 0, max(last, 0))
    return d


def set_deployment(option: Option, ch: Choices, index: int, **changes: Any) -> Option:
    """The option with deployment ``index`` changed (a field not in the schema is refused)."""
    deployments = [dict(d) for d in option["deployments"]]
    previous = deployments[index]
    unknown = set(changes) - set(DeploymentSpec.model_fields)
    if unknown or "id" in changes:
        raise ValueError(f"cannot change {sorted(unknown | ({'id'} & set(changes)))} of a deployment")
    deployments[index] = _fit_deployment(dict(previous, **changes), previous, ch)
    return dict(option, deployments=deployments)


def add_deployment(option: Option, ch: Choices) -> Option:
    """The option with one more deployment (an unused id, the first type and location, the first member)."""
    ids = {d["id"] for d in option["deployments"]}
    n = 1
    while f"deployment_{n}" in ids:
        n += 1
    kind = ch.types[0]
    new = {"id": f"deployment_{n}", "contributors": [ch.members[0]], "type": kind,
           "size": _clamp(NEW_DEPLOYMENT_SIZE, ch.min_size, ch.max_size), "location": ch.locations[kind][0],
           "start_week": 0, "end_week": None, "condition": "always"}
    return dict(option, deployments=[*option["deployments"], new])


def remove_deployment(option: Option, index: int) -> Option:
    """The option without deployment ``index``."""
    return dict(option, deployments=[d for i, d in enumerate(option["deployments"]) if i != index])


def set_deep_strike(option: Option, ch: Choices, **changes: Any) -> Option:
    """The option with the deep-strike policy changed (authorised, from_week, suppliers)."""
    policy = dict(option["policies"]["deep_strike"])
    unknown = set(changes) - {"authorised", "from_week", "suppliers"}
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)} of the deep-strike policy")
    policy.update(changes)
    policy["authorised"] = bool(policy["authorised"])
    policy["from_week"] = _clamp(policy["from_week"], 0, ch.horizon - 1)
    policy["suppliers"] = [s for s in dict.fromkeys(policy["suppliers"]) if s in ch.members]
    return dict(option, policies=dict(option["policies"], deep_strike=policy))


def set_mediators(option: Option, ch: Choices, mediators: list[str] | None) -> Option:
    """The option with these mediators (None: the doctrine's default)."""
    return dict(option, mediators=None if mediators is None else [m for m in dict.fromkeys(mediators)
                                                                  if m in ch.mediators])


def set_move(option: Option, ch: Choices, index: int, **changes: Any) -> Option:
    """The option with scripted move ``index`` changed (week, actor, move)."""
    timeline = [dict(m) for m in option["timeline"]]
    unknown = set(changes) - {"week", "actor", "move"}
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)} of a scripted move")
    move = dict(timeline[index], **changes)
    move["week"] = _clamp(move["week"], 0, ch.horizon - 1)
    if move["actor"] not in ch.move_actors:
        move["actor"] = timeline[index]["actor"]
    if move["move"] not in ch.moves:
        move["move"] = timeline[index]["move"]
    timeline[index] = move
    return dict(option, timeline=timeline)


def with_option(opened: Opened, option: Option, name: str = OPTION, description: str = "") -> ScenarioSpec:
    """The scenario with the option as its variant ``name`` (replacing one of that name), validated by the schema;
    :class:`InputError` with the schema's message when it does not hold."""
    data = opened.scenario.model_dump(mode="json")
    variant = {"name": name, "description": description, **option}
    data["variants"] = [v for v in data["variants"] if v["name"] != name] + [variant]
    try:
        return ScenarioSpec.model_validate(data, context={"doctrine": opened.doctrine})
    except ValidationError as exc:
        raise validation_error(exc, ScenarioSpec, {"<option>": Document("<option>", data)}, {}) from None


def differing_levers(opened: Opened, option: Option) -> Option:
    """The levers of the option that differ from the scenario's own (what a variant must name), deployments at
    least."""
    own = option_from(opened.scenario)
    changed = {k: v for k, v in option.items() if own.get(k) != v}
    return changed or {"deployments": option["deployments"]}


# ------------------------------------------------------------------------------------------------- batches
@dataclass(frozen=True)
class Arm:
    """One variant's batch: per-run outcome indicators, the aggregates, each run's headline path."""

    name: str
    #: bool (runs, outcomes), outcomes in the order of OUTCOME_IDS
    happened: np.ndarray
    aggregates: Aggregates
    #: the highest rung on the Russia-NATO axis, (runs, weeks)
    headline: np.ndarray
    seconds: float

    @property
    def runs(self) -> int:
        return int(self.happened.shape[0])


def run_arm(doctrine: Doctrine, scenario: ScenarioSpec, variant: str, runs: int) -> Arm:
    """Runs ``0 .. runs - 1`` of one variant in-process, in one chunk."""
    t0 = time.perf_counter()
    levers = {lv.name: lv for lv in scenario.levers()}[variant]
    result = simulate(Context.build(doctrine, scenario, levers), np.arange(runs, dtype=np.int64), variant)
    _, happened = indicators_from_runs(result.runs)
    headline, _ = result.paths()
    return Arm(variant, happened, result.aggregates, np.asarray(headline), time.perf_counter() - t0)


def app_runs(scenario: ScenarioSpec, runs: int = APP_RUNS) -> int:
    """Runs per arm of the app's batch: ``runs``, but never more than the scenario's own batch."""
    return max(1, min(int(runs), scenario.runs))


_BASELINES: dict[tuple[str, int], Arm] = {}


def baseline_arm(opened: Opened, runs: int) -> Arm:
    """The scenario's baseline batch, run once per scenario and batch size (its levers never change)."""
    key = (opened.key, runs)
    arm = _BASELINES.get(key)
    if arm is None:
        arm = run_arm(opened.doctrine, opened.scenario, opened.scenario.baseline_name, runs)
        if len(_BASELINES) > 16:
            _BASELINES.clear()
        _BASELINES[key] = arm
    return arm


@dataclass(frozen=True)
class Answer:
    """The answer to one option: both arms and their paired comparison."""

    scenario: ScenarioSpec
    baseline: Arm
    option: Arm
    comparison: dict[str, Any]
    seconds: float

    @property
    def runs(self) -> int:
        return self.option.runs


def answer(opened: Opened, option: Option, runs: int = APP_RUNS) -> Answer:
    """Run the option against the baseline (common random numbers) and compare them outcome by outcome."""
    t0 = time.perf_counter()
    spec = with_option(opened, option)
    n = app_runs(opened.scenario, runs)
    base = baseline_arm(opened, n)
    arm = run_arm(opened.doctrine, spec, OPTION, n)
    comparison = from_indicators({base.name: base.happened, OPTION: arm.happened}, base.name, seed=spec.seed,
                                 title=spec.title)
    return Answer(spec, base, arm, comparison, time.perf_counter() - t0)


def rows(result: Answer) -> list[dict[str, Any]]:
    """One row per outcome: the baseline's and the option's probability with 95% intervals, and the paired
    difference with its interval."""
    c = result.comparison
    base = c["baseline"]
    out = []
    for oid in OUTCOME_IDS:
        b, o = c["outcomes"][oid][base], c["outcomes"][oid][OPTION]
        d = c["differences"][OPTION][oid]
        out.append({"outcome": oid, "baseline": b["probability"], "baseline_ci": tuple(b["ci95"]),
                    "option": o["probability"], "option_ci": tuple(o["ci95"]), "difference": d["difference"],
                    "difference_ci": tuple(d["ci95"])})
    return out


def cumulative(agg: Aggregates, outcomes: tuple[str, ...] = HEADLINE_OUTCOMES) -> dict[str, np.ndarray]:
    """For each outcome, the share of runs in which it has happened by each week (its cumulative first-week
    histogram)."""
    n = max(agg.runs, 1)
    return {oid: np.cumsum(agg.first_week_hist[OUTCOME_IDS.index(oid)]) / n for oid in outcomes}


def most_escalated_run(arm: Arm) -> int:
    """The run of the arm the story tells: the project's choice of the most escalated run, over every run."""
    if arm.runs == 0:
        return 0
    headline = np.asarray(arm.headline)
    return int(escalation_order(headline.max(axis=1), headline.argmax(axis=1), np.arange(arm.runs))[0])


def most_escalated_story(opened: Opened, result: Answer) -> dict[str, Any]:
    """The option's most escalated run, replayed alone and told week by week."""
    return replay(opened.doctrine, result.scenario, most_escalated_run(result.option), OPTION)


def full_batch(opened: Opened, *, configs: Path | None = None, out: Path = Path("results"),
               on_progress: Callable[[float], None] | None = None, executor: str = "process") -> Path:
    """Run the scenario file's full batch (all its variants, its own runs) into a new results folder under ``out``,
    as ``escalation run`` does, telling ``on_progress`` the share done after each chunk; draw its charts and
    report, and return the report's path."""
    from sim.batch.executors import execution
    from sim.output.plans import plan_run
    from sim.output.running import run_to_folder
    from sim.present.publish import publish

    plan = plan_run(opened.path, configs=configs, out=out)
    total = max(plan.scenario.runs, 1)
    done = [0]

    def chunk(c: Chunk) -> None:
        done[0] += c.size
        if on_progress is not None:
            on_progress(min(done[0] / total, 1.0))

    result = run_to_folder(plan, execution(executor), command=["app", str(opened.path)], on_chunk=chunk)
    _, report = publish(result.folder)
    return report


def check_runs(runs: int) -> int:
    """The app's batch size, within its bounds; :class:`InputError` otherwise."""
    if not MIN_RUNS <= runs <= MAX_RUNS:
        raise InputError("runs per arm out of range", key="--runs", expected=f"{MIN_RUNS:,} to {MAX_RUNS:,}",
                         found=runs)
    return runs
