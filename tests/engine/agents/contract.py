"""The contract every agent class keeps, after the Axelrod library's TestPlayer pattern: a test file per family of
agents subclasses :class:`AgentContract` and names its class; the base class checks, for every actor of the
shipped doctrine that the class plays, over every shipped scenario:

(a) legal acts only: each act is in the agent's own name, uses an action of the doctrine (a response of
    configs/responses.yaml on the agent's side, or a move of configs/moves.yaml) or one of the few acts the engine
    defines itself (:data:`ENGINE_ACTS`), at that action's rung of configs/ladder.yaml, aimed at the kind of actor
    the action names, and only where the response's requirements hold;
(b) a pure function of its inputs and its streams: the same seed and scenario give the same acts and draws, another
    seed gives other draws, other sampled attributes and (for an agent that acts) other acts; every draw is keyed
    by a site named after the actor, so two actors of one class never share random numbers;
(c) R = 1 equals a row of R = N: one run stepped alone gives, week by week, the agent's state, acts and draws of
    its row in a chunk of :data:`RUNS` runs.

The model is stepped with its ``world.act``, its ``streams.uniform`` (every draw goes through it) and each agent's
stages wrapped, so that every act and draw is attributed to the agent whose stage made it; the numbers are not
changed. Recordings are cached: every contract shares one run of each scenario's variants.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.engine.agents import agent_class
from sim.engine.agents.base import Actor
from sim.engine.model import STAGES, ChunkResult, EscalationModel, _forget
from sim.engine.streams import Streams
from sim.engine.world import Context, World
from sim.spec.doctrine import Doctrine
from sim.spec.loading import load_doctrine, load_scenario
from sim.spec.scenario import ScenarioSpec
from sim.spec.vocabulary import Bloc, Role

ROOT = Path(__file__).resolve().parents[3]
SCENARIOS = tuple(sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml")))
RUNS = 64
#: Rows of the chunk replayed alone for (c): the first, one inside, the last.
ROWS = (0, 29, RUNS - 1)


@dataclass(frozen=True)
class EngineAct:
    """An act the engine posts that has no entry in configs/ (its id and rung are fixed in the agent code)."""

    rung: int
    target: str  # a ResponseTarget, or "frontline_member"
    by: str  # who may post it: "russia", "ukraine", "alliance" or "mediator" (an actor with the mediator role)


#: Acts posted by agents whose ids are in neither responses.yaml nor moves.yaml. Each is realised as an outcome
#: (sim/engine/outcomes.py) except the deep strike, which only feeds Russia's perception and red lines.
ENGINE_ACTS: dict[str, EngineAct] = {
    "deep_strike": EngineAct(8, "russia", "ukraine"),
    "accidental_strike_on_nato_forces": EngineAct(9, "nato_forces_in_ukraine", "russia"),
    "combat_with_nato_forces": EngineAct(9, "nato_forces_in_ukraine", "russia"),
    "spillover": EngineAct(7, "frontline_member", "russia"),
    "partial_deal": EngineAct(0, "russia", "mediator"),
    "ceasefire": EngineAct(0, "russia", "mediator"),
}

#: The world's state behind each requirement a response may declare (configs/responses.yaml ``requires``).
REQUIREMENTS = {
    "nato_forces_in_ukraine": lambda w: w.forces_in_ukraine(),
    "doctrine_permits_nuclear": lambda w: w.doctrine_permits_nuclear(),
    "nato_retaliated": lambda w: w.nato_retaliated.copy(),
    "at_war": lambda w: w.at_war.copy(),
    "nuclear_used": lambda w: w.nuclear_used.copy(),
    "fighting": lambda w: w.fighting.copy(),
}


# ------------------------------------------------------------------------------------------------ recording
@dataclass(frozen=True)
class Posted:
    """One call of ``world.act`` that reached at least one run, with the world as it stood at that moment."""

    poster: str | None  # the actor whose stage posted it; None: the world itself (scripted levers)
    stage: str | None
    week: int
    actor: str
    action: str
    rung: int
    runs: np.ndarray  # run ids
    targets: tuple[str, ...]  # one per run
    requirements: dict[str, np.ndarray]  # per requirement, whether it held in each run
    leads_inside: tuple[frozenset[str], ...]  # per run, the lead contributors of forces standing inside Ukraine

    def key(self) -> tuple:
        return (self.poster, self.stage, self.week, self.actor, self.action, self.rung, tuple(self.runs.tolist()),
                self.targets)

    def only(self, run: int) -> tuple | None:
        """This act as it reached one run (None if it did not), without the run id."""
        hit = np.flatnonzero(self.runs == run)
        if not len(hit):
            return None
        return (self.poster, self.stage, self.week, self.actor, self.action, self.rung, self.targets[hit[0]])


Draws = dict[tuple[str, int, int], np.ndarray]


@dataclass
class Recording:
    """Everything one model run over ``run_ids`` did, attributed to the agents."""

    spec: ScenarioSpec
    variant: str
    run_ids: np.ndarray
    acts: list[Posted] = field(default_factory=list)
    draws: dict[str | None, Draws] = field(default_factory=dict)
    sampled: dict[str, np.ndarray] = field(default_factory=dict)
    #: per actor and attribute path, the per-run state at the end of every week, shape (runs, weeks, ...)
    states: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    result: ChunkResult | None = None

    def acts_of(self, actor: str) -> list[Posted]:
        return [a for a in self.acts if a.poster == actor]

    def sampled_of(self, actor: str) -> dict[str, np.ndarray]:
        return {k: v for k, v in self.sampled.items() if k.startswith(actor + ".")}


@functools.lru_cache(maxsize=1)
def shipped_doctrine() -> Doctrine:
    return load_doctrine(ROOT / "configs")


@functools.cache
def scenario(stem: str, seed: int | None = None) -> ScenarioSpec:
    spec = load_scenario(ROOT / "scenarios" / f"{stem}.yaml", shipped_doctrine())
    return spec if seed is None else spec.model_copy(update={"seed": seed})


def variants(stem: str) -> list[str]:
    return [lv.name for lv in scenario(stem).levers()]


def _merge(draws: Draws, key: tuple[str, int, int], values: np.ndarray) -> None:
    """Keep a draw; a site drawn again in the same week (once masked, once not) fills in the masked runs."""
    old = draws.get(key)
    draws[key] = values.copy() if old is None else np.where(np.isnan(old), values, old)


def _state(obj: object, size: int) -> dict[str, np.ndarray]:
    """The per-run arrays (first or last axis of length ``size``, runs first in what is returned) an agent holds,
    directly or in its helpers (response axes, red-line rules, mediation), by attribute path."""
    out: dict[str, np.ndarray] = {}
    seen: set[int] = set()

    def walk(value: object, path: str) -> None:
        if isinstance(value, np.ndarray):
            if value.ndim and value.shape[0] == size:
                out[path] = value.copy()
            elif value.ndim > 1 and value.shape[-1] == size:  # held as (options or week slots, runs)
                out[path] = np.moveaxis(value, -1, 0).copy()
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]")
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{path}[{k!r}]")
        elif (type(value).__module__.startswith("sim.engine") and hasattr(value, "__dict__")
              and not isinstance(value, (Actor, World, EscalationModel, Streams, Context)) and id(value) not in seen):
            seen.add(id(value))
            for name, v in vars(value).items():
                walk(v, f"{path}.{name}")

    for name, value in vars(obj).items():
        if name != "model":
            walk(value, name)
    return out


def _instrument(model: EscalationModel, rec: Recording) -> None:
    world = model.world
    current: list[str | None] = [None, None]
    post = world.act
    draw = world.streams.uniform
    members = world.members

    def act(actor, target, action, rung, mask):
        if mask.any():
            rows = np.flatnonzero(mask)
            ids = world.ctx.actor_ids
            a = ids[actor] if isinstance(actor, (int, np.integer)) else actor
            if isinstance(target, str):
                targets = (target,) * len(rows)
            elif isinstance(target, (int, np.integer)):
                targets = (ids[target],) * len(rows)
            else:
                targets = tuple(ids[t] for t in np.asarray(target)[rows])
            standing = world.dep_active[rows][:, world.dep_inside]
            leads = world.dep_lead[world.dep_inside]
            rec.acts.append(Posted(
                poster=current[0], stage=current[1], week=world.week, actor=a, action=action, rung=int(rung),
                runs=world.streams.run_ids[rows].copy(), targets=targets,
                requirements={name: np.asarray(f(world))[rows] for name, f in REQUIREMENTS.items()},
                leads_inside=tuple(frozenset(members[m] for m in leads[row]) for row in standing)))
        return post(actor, target, action, rung, mask)

    def uniform(site, week=0, k=0, where=None):
        out = draw(site, week, k, where)
        _merge(rec.draws.setdefault(current[0], {}), (site, int(week), int(k)), out)
        return out

    draw_at = world.streams.uniform_at

    def uniform_at(rows, site, week=0, k=0):
        out = draw_at(rows, site, week, k)
        full = np.full(world.size, np.nan)
        full[rows] = out
        _merge(rec.draws.setdefault(current[0], {}), (site, int(week), int(k)), full)
        return out

    world.act = act
    world.streams.uniform = uniform
    world.streams.uniform_at = uniform_at

    def staged(agent: Actor, stage: str):
        method = getattr(agent, stage)

        def run() -> None:
            current[:] = [agent.actor_id, stage]
            try:
                method()
            finally:
                current[:] = [None, None]
        return run

    for agent in list(model.agents):
        for stage in STAGES:
            setattr(agent, stage, staged(agent, stage))


def record_model(spec: ScenarioSpec, variant: str, run_ids: np.ndarray, states: bool = True) -> Recording:
    """Step one variant of ``spec`` over ``run_ids`` with every act and draw attributed to its agent, and (with
    ``states``) each agent's per-run state at the end of every week."""
    levers = {lv.name: lv for lv in spec.levers()}[variant]
    model = EscalationModel(Context.build(shipped_doctrine(), spec, levers), np.asarray(run_ids, dtype=np.int64),
                            record_events=True)
    rec = Recording(spec, variant, np.asarray(run_ids))
    rec.sampled = {k: v.copy() for k, v in model.sampled.items()}
    _instrument(model, rec)
    size = len(run_ids)
    weekly: dict[str, list[dict[str, np.ndarray]]] = {a.actor_id: [] for a in list(model.agents)}
    try:
        while model.running:
            model.step()
            for agent in list(model.agents) if states else ():
                weekly[agent.actor_id].append(_state(agent, size))
        rec.result = model.result(variant)
    finally:
        _forget(model)
    for actor, weeks in weekly.items():
        if weeks:
            paths = weeks[0].keys()
            assert all(w.keys() == paths for w in weeks), f"{actor}: its state changes shape between weeks"
            rec.states[actor] = {path: np.stack([w[path] for w in weeks], axis=1) for path in paths}
    return rec


def recording(stem: str, variant: str | None = None, seed: int | None = None, runs: tuple[int, ...] | None = None,
              again: bool = False) -> Recording:
    """The cached recording of a shipped scenario's variant (baseline by default) over ``runs`` (default: the first
    :data:`RUNS`). ``again`` makes a second, independent recording of the same inputs. Agents' states are kept for
    the baseline, the variant (c) compares."""
    baseline = scenario(stem).baseline_name
    return _recording(stem, variant or baseline, seed, tuple(range(RUNS)) if runs is None else tuple(runs), again)


@functools.cache
def _recording(stem: str, variant: str, seed: int | None, runs: tuple[int, ...], again: bool) -> Recording:
    spec = scenario(stem, seed)
    return record_model(spec, variant, np.array(runs), states=variant == spec.baseline_name)


def every_variant() -> Iterator[Recording]:
    for stem in SCENARIOS:
        for v in variants(stem):
            yield recording(stem, v)


# ------------------------------------------------------------------------------------------------ checks
@functools.lru_cache(maxsize=1)
def vocabulary() -> dict[str, tuple[int, str, str]]:
    """Every legal action id of an agent: (rung, target kind, who may post it)."""
    d = shipped_doctrine()
    vocab: dict[str, tuple[int, str, str]] = {m.id: (m.rung, "russia", "west") for m in d.moves}
    vocab.update({r.id: (r.rung, r.target, r.side) for r in d.responses})  # reinforce_flank: the alliance's answer
    vocab.update({k: (v.rung, v.target, v.by) for k, v in ENGINE_ACTS.items()})
    return vocab


@functools.cache
def may_post(actor: str, who: str) -> bool:
    spec = shipped_doctrine().actor(actor)
    return {
        "russia": spec.bloc is Bloc.RUSSIA,
        "nato": spec.bloc is Bloc.NATO,
        "west": spec.bloc in (Bloc.NATO, Bloc.UKRAINE),
        "ukraine": spec.bloc is Bloc.UKRAINE,
        "alliance": Role.ALLIANCE in spec.roles,
        "mediator": Role.MEDIATOR in spec.roles,
    }[who]


@functools.lru_cache(maxsize=1)
def _groups() -> dict[str, frozenset[str]]:
    d = shipped_doctrine()
    members = frozenset(d.members())
    return {"alliance": frozenset({"nato"}), "nato_member": members, "ukraine": frozenset({"ukraine"}),
            "russia": frozenset({"russia"}),
            "frontline_member": frozenset(g.member for g in d.geography if g.borders)}


def target_fits(kind: str, act: Posted) -> list[str]:
    """The targets of ``act`` that are not of the kind its action names (empty when all fit)."""
    if kind == "nato_forces_in_ukraine":  # the lead of forces standing inside Ukraine in that run, at that moment
        return [t for t, leads in zip(act.targets, act.leads_inside, strict=False) if t not in leads]
    allowed = _groups()[kind]
    return [t for t in set(act.targets) if t not in allowed]


@functools.lru_cache(maxsize=1)
def _requires() -> dict[str, list[str]]:
    return {r.id: list(r.requires) for r in shipped_doctrine().responses}


def legality_errors(act: Posted) -> list[str]:
    """Why ``act`` (posted by an agent) breaks the contract; empty when it is legal."""
    vocab = vocabulary()
    what = f"week {act.week}: {act.actor} -> {act.action} at rung {act.rung} ({act.stage} of {act.poster})"
    errors = []
    if act.actor != act.poster:
        errors.append(f"{what}: posted in another actor's name")
    if act.rung not in {r.rung for r in shipped_doctrine().ladder}:
        errors.append(f"{what}: rung off the ladder")
    if act.action not in vocab:
        return errors + [f"{what}: the action is in neither configs/responses.yaml, configs/moves.yaml nor ENGINE_ACTS"]
    rung, kind, who = vocab[act.action]
    if act.rung != rung:
        errors.append(f"{what}: the action stands at rung {rung}")
    if not may_post(act.actor, who):
        errors.append(f"{what}: only {who} may post it")
    bad = target_fits(kind, act)
    if bad:
        errors.append(f"{what}: targets {sorted(set(bad))} are not {kind}")
    for req in _requires().get(act.action, ()):
        if not act.requirements[req].all():
            errors.append(f"{what}: requires {req}, which did not hold in {int((~act.requirements[req]).sum())} runs")
    return errors


def nan_equal(a: np.ndarray, b: np.ndarray) -> bool:
    return np.array_equal(a, b, equal_nan=True)


def draws_differ(a: Draws, b: Draws) -> tuple[int, int]:
    """(number of values compared, number equal) over the sites, weeks and runs both recordings drew."""
    compared = equal = 0
    for key in a.keys() & b.keys():
        both = ~np.isnan(a[key]) & ~np.isnan(b[key])
        compared += int(both.sum())
        equal += int((a[key][both] == b[key][both]).sum())
    return compared, equal


# ------------------------------------------------------------------------------------------------ the contract
class AgentContract:
    """Subclass with ``agent = <class>``; every test runs for each actor of the shipped doctrine it plays."""

    agent: type[Actor]
    #: Whether the class posts acts of its own (an agent with only standing effects posts none).
    acts = True

    def actors(self) -> list[str]:
        ids = [a.id for a in shipped_doctrine().actors if agent_class(a) is self.agent]
        assert ids, f"no actor of the shipped doctrine is played by {self.agent.__name__}"
        return ids

    # (a) ------------------------------------------------------------------------------------------------------
    def test_posts_only_legal_acts(self):
        errors, seen = [], set()
        for rec in every_variant():
            for actor in self.actors():
                for act in rec.acts_of(actor):
                    seen.add(act.action)
                    errors += [f"{rec.spec.name}/{rec.variant}: {e}" for e in legality_errors(act)]
        assert not errors, "\n".join(errors[:20])
        if self.acts:
            assert seen, f"{self.agent.__name__} posted no act in any shipped scenario: the check saw nothing"
        else:
            assert not seen, f"{self.agent.__name__} was expected to have standing effects only, posted {seen}"

    def test_acts_only_in_its_own_stages(self):
        """An agent's acts are posted while one of its stages runs, never by another agent or the world."""
        for rec in every_variant():
            for act in rec.acts:
                if act.actor in self.actors():
                    lever = act.poster is None and act.action.startswith(("move:", "deploy:"))
                    assert act.poster == act.actor or lever, (
                        f"{rec.spec.name}/{rec.variant}: {act.action} in {act.actor}'s name posted by {act.poster}")

    # (b) ------------------------------------------------------------------------------------------------------
    def test_same_seed_gives_the_same_acts_and_draws(self):
        for stem in SCENARIOS:
            a, b = recording(stem), recording(stem, again=True)
            assert a is not b
            for actor in self.actors():
                where = f"{stem}: {actor}"
                assert [x.key() for x in a.acts_of(actor)] == [x.key() for x in b.acts_of(actor)], where
                da, db = a.draws.get(actor, {}), b.draws.get(actor, {})
                assert da.keys() == db.keys() and all(nan_equal(da[k], db[k]) for k in da), where
                sa, sb = a.sampled_of(actor), b.sampled_of(actor)
                assert sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa), where

    def test_another_seed_gives_other_draws(self):
        stem = "limited_deployment"
        a = recording(stem)
        b = recording(stem, seed=a.spec.seed + 1)
        for actor in self.actors():
            sa, sb = a.sampled_of(actor), b.sampled_of(actor)
            assert sa and sa.keys() == sb.keys(), actor
            for k in sa:
                assert not np.isclose(sa[k], sb[k]).any() or np.ptp(sa[k]) == 0, (actor, k)
            compared, equal = draws_differ(a.draws.get(actor, {}), b.draws.get(actor, {}))
            assert equal == 0, f"{actor}: {equal} of {compared} weekly draws repeat under another seed"
            if a.acts_of(actor) or b.acts_of(actor):
                assert [x.key() for x in a.acts_of(actor)] != [x.key() for x in b.acts_of(actor)], actor

    def test_draws_are_keyed_by_the_actor(self):
        """Every draw made in the agent's stages is at a site named after its actor (or one of its red lines), so
        two actors of one class never share random numbers."""
        for stem in SCENARIOS:
            rec = recording(stem)
            for actor in self.actors():
                lines = {f"redline:{rl.id}" for rl in shipped_doctrine().red_lines if rl.actor == actor}
                for site, week, _ in rec.draws.get(actor, {}):
                    own = site.startswith(actor + ":") or site in lines
                    assert own, f"{stem}: {actor} drew at {site!r}, week {week}"

    # (c) ------------------------------------------------------------------------------------------------------
    def test_a_run_alone_equals_its_row(self):
        for stem in SCENARIOS:
            batch = recording(stem)
            for row in ROWS:
                run = int(batch.run_ids[row])
                alone = recording(stem, runs=(run,))
                for actor in self.actors():
                    where = f"{stem}, run {run}: {actor}"
                    assert [x.only(run) for x in batch.acts_of(actor) if x.only(run)] == \
                           [x.only(run) for x in alone.acts_of(actor)], where
                    s1, sn = alone.states[actor], batch.states[actor]
                    assert sn and sn.keys() <= s1.keys(), (where, sorted(sn.keys() - s1.keys()))
                    for path, values in sn.items():
                        assert values.shape[1] == batch.spec.horizon_weeks, (where, path)
                        if not nan_equal(s1[path][0], values[row]):
                            week = next(w for w in range(values.shape[1])
                                        if not nan_equal(s1[path][0, w], values[row, w]))
                            raise AssertionError(f"{where}.{path} differs from week {week}")
                    d1, dn = alone.draws.get(actor, {}), batch.draws.get(actor, {})
                    assert d1.keys() <= dn.keys(), (where, sorted(d1.keys() - dn.keys())[:5])
                    for key, values in d1.items():
                        assert nan_equal(values[0], dn[key][row]) or np.isnan(values[0]), (where, key)
                    sampled = alone.sampled_of(actor)
                    assert sampled, where
                    assert all(np.array_equal(v[0], batch.sampled[k][row]) for k, v in sampled.items()), where
