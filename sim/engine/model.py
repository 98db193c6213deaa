"""EscalationModel: one Mesa model steps R replicates of one scenario variant in lockstep, week by week.

Each actor is one Mesa agent whose state is a set of arrays of shape (R,). A week is: the world opens it (scripted
moves, deployments, axis floors), the agents run their ``perceive``, ``decide`` and ``act`` stages in roster
order, and the model resolves it (ceasefire breakdown, axes and outcomes recorded). R = 1 runs the same code: the
replay of one run and the batch never disagree, because every draw is keyed by run index (sim/engine/streams.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np

from sim.engine.agents import agent_class
from sim.engine.agents.nato import Alliance, Member, MembersAnswer
from sim.engine.agents.russia import Russia
from sim.engine.agents.ukraine import Ukraine
from sim.engine.aggregates import Aggregates
from sim.engine.kernels import kernel
from sim.engine.streams import Streams, inverse_cdf
from sim.engine.world import BORDERS, Context, World
from sim.spec.vocabulary import OUTCOME_IDS

STAGES = ("perceive", "decide", "act")
#: Roster order within each stage: standing third-country effects first, then initiators, then answerers.
_ORDER = {"NuclearHost": 0, "Supplier": 0, "DialogueVoice": 0, "Mediator": 1, "Ukraine": 2, "Russia": 3,
          "Member": 4, "Alliance": 5}


@dataclass
class ChunkResult:
    """What one model run over a chunk of replicates yields: aggregates, per-run columns, optional events."""

    variant: str
    run_ids: np.ndarray
    aggregates: Aggregates
    runs: dict[str, np.ndarray]
    events: Mapping[str, Any] | None  # an Events (sim/engine/world.py): integer codes, text when read
    #: the paths per run and week, None once a batch's worker has dropped them (the aggregates carry what is needed)
    headline: np.ndarray | None
    ukraine: np.ndarray | None

    def paths(self) -> tuple[np.ndarray, np.ndarray]:
        """(headline, Ukraine axis) rungs per run and week; a ValueError once the worker has dropped them."""
        if self.headline is None or self.ukraine is None:
            raise ValueError("the paths of this chunk were dropped by the worker that ran it")
        return self.headline, self.ukraine


#: The column of each border in ``world.borders``.
_BORDER_COLUMN = {b: i for i, b in enumerate(BORDERS)}


class StruckPairs:
    """Last week's Russian acts on members as (member, run) pairs, found once a week for all members: each member
    draws at its own slice of them (``of``) instead of searching every struck run for itself.

    ``at`` is the run (position) of each pair, ``member`` its member, ``on_member`` whether the hybrid, airspace,
    forces and territory signals of that run name that member, and ``deployment`` the deployment struck in that
    run."""

    def __init__(self, rows: np.ndarray, signals: dict[str, np.ndarray], members: int) -> None:
        keys = EscalationModel.MEMBER_SIGNALS[:4]
        pos = np.concatenate([np.flatnonzero(signals[key] >= 0) for key in keys])
        target = np.concatenate([signals[key][signals[key] >= 0] for key in keys]).astype(np.int64)
        pair = np.unique(target * max(len(rows), 1) + pos)  # each pair once, by member, then by run
        member, pos = pair // max(len(rows), 1), pair % max(len(rows), 1)
        self.at = rows[pos]
        self.member = member  # the member (index into ``world.members``) of each pair
        self.on_member = tuple(signals[key][pos] == member for key in keys)
        self.deployment = signals["forces_deployment"][pos]
        self._bounds = np.searchsorted(member, np.arange(members + 1))
        #: per signal, per member: whether any of the member's pairs carries it (what ``on_member[k][of(m)].any()``
        #: says, counted once a week for every member)
        self.signalled = tuple((np.bincount(member[on], minlength=members) > 0).tolist() for on in self.on_member)

    def of(self, member: int) -> slice:
        """The pairs of one member (index into ``world.members``)."""
        return slice(int(self._bounds[member]), int(self._bounds[member + 1]))


class EscalationModel(mesa.Model):
    """The escalation model for one chunk of runs of one variant.

    Args:
        ctx: doctrine, scenario, levers and parameters of the variant.
        run_ids: global indices of the runs stepped together (their random draws are keyed by these).
        record_events: keep every act as an event row.

    The model ends after ``ctx.scenario.horizon_weeks`` steps. Sources of each rule are in the agent classes and
    in docs/model.md.
    """

    def __init__(self, ctx: Context, run_ids: np.ndarray, record_events: bool = False) -> None:
        super().__init__(seed=ctx.scenario.seed)  # Mesa's own generators are not used: draws are keyed
        self.ctx = ctx
        self.sampled: dict[str, np.ndarray] = {}
        self.world = World(ctx, Streams(ctx.scenario.seed, run_ids), record_events)
        for name, values in self.world.design.items():  # the calibrated set each run drew, in runs.parquet
            self.sampled["design." + name] = values
        specs = sorted(ctx.doctrine.actors, key=lambda s: _ORDER[agent_class(s).__name__])
        for spec in specs:  # each agent registers itself with the model; stages run in this order
            agent_class(spec)(self, spec)
        by_type = self.agents_by_type
        self.russia: Russia = by_type[Russia][0]
        self.ukraine: Ukraine = by_type[Ukraine][0]
        self.alliance: Alliance = by_type[Alliance][0]
        self.members: list[Member] = sorted(by_type[Member], key=lambda m: m.member)  # as world.members
        self._cache_week = -1
        self._cache: dict[str, object] = {}
        self._fixed: dict[str, np.ndarray] = {}  # per-run constants derived from sampled attributes

    @property
    def week(self) -> int:
        """The week the replicates are in: Mesa's step counter, less the step under way."""
        return self.world.week

    # ---------------------------------------------------------------- stepping
    def step(self) -> None:
        """Advance all replicates by one week (Mesa counts the step in ``steps`` before this body runs)."""
        w = self.world
        w.begin_week(self.steps - 1)
        for stage in STAGES:
            self.agents.do(stage)
        self._resolve()
        w.end_week()
        if self.steps >= w.horizon:
            self.running = False

    def _resolve(self) -> None:
        """Ceasefires break down at a weekly rate (DOMAIN.md 2.3: the grain deal lasted a year)."""
        w = self.world
        u = w.streams.uniform("world:ceasefire_break", w.week, where=w.ceasefire)
        broken = w.ceasefire & (u < w.params["ceasefire_break_rate"])
        w.ceasefire &= ~broken
        w.fighting |= broken

    # ---------------------------------------------------------------- helpers the agents share
    def _weekly(self, key: str, compute):
        if self._cache_week != self.week:
            self._cache.clear()
            self._cache_week = self.week
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    #: The signals that name the member a Russian act fell on (which it answers the next week).
    MEMBER_SIGNALS = ("hybrid_target", "airspace_target", "forces_target", "territory_target", "forces_deployment")

    def no_runs(self) -> np.ndarray:
        """A read-only mask that selects no run (an answer nobody gives this week)."""
        if "no_runs" not in self._fixed:
            self._fixed["no_runs"] = np.zeros(self.world.size, dtype=bool)
            self._fixed["no_runs"].flags.writeable = False
        return self._fixed["no_runs"]

    def struck_members(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The runs (positions) where last week's Russian acts fell on some member, and last week's member signals
        at those runs: the only runs in which members have something to answer (about one run-week in seventy)."""
        def compute() -> tuple[np.ndarray, dict[str, np.ndarray]]:
            prev = self.world.prev
            any_target = prev["hybrid_target"] >= 0
            for key in self.MEMBER_SIGNALS[1:4]:
                any_target |= prev[key] >= 0
            rows = np.flatnonzero(any_target)
            return rows, {key: prev[key][rows] for key in self.MEMBER_SIGNALS}
        return self._weekly("struck_members", compute)

    def struck_pairs(self) -> StruckPairs:
        """Last week's Russian acts on members as (member, run) pairs, sorted by member (see :class:`StruckPairs`)."""
        return self._weekly("struck_pairs", lambda: StruckPairs(*self.struck_members(), len(self.members)))

    def members_answer(self) -> MembersAnswer:
        """This week's answers of the members to last week's acts on them, drawn member by member and decided
        together (see :class:`~sim.engine.agents.nato.MembersAnswer`)."""
        return self._weekly("members_answer", lambda: MembersAnswer(self))

    def member_attribute(self, name: str) -> np.ndarray:
        """A sampled attribute of every member, (members, runs), in the order of ``world.members``."""
        key = "member:" + name
        if key not in self._fixed:
            values = np.zeros((len(self.world.members), self.world.size))
            for m in self.members:
                values[m.member] = getattr(m, name)
            self._fixed[key] = values
        return self._fixed[key]

    def weekly_mediation_terms(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """What every mediator reads this week, computed once for all of them: last week's danger (the higher axis'
        severity over 100; this week's axes are still at their floors), the gain in attempts it brings
        (1 + mediation_danger_gain x danger), both sides' mean war fatigue, and how little fresh provocation there
        was (exp(-perceived / provocation_aversion_scale)); docs/model.md 4.12."""
        def compute() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
            w, p = self.world, self.world.params
            severity = w.ctx.severity
            danger = np.maximum(severity[w.prev_headline], severity[w.prev_ukraine_axis]) / 100.0
            fresh = np.exp(-w.perceived / p["provocation_aversion_scale"])
            return danger, 1.0 + p["mediation_danger_gain"] * danger, self._fatigue(), fresh
        return self._weekly("mediation_terms", compute)

    def _fatigue(self) -> np.ndarray:
        if "fatigue" not in self._fixed:
            self._fixed["fatigue"] = 0.5 * (self.russia.war_fatigue + self.ukraine.war_fatigue)
        return self._fixed["fatigue"]

    def member_deterrence(self) -> np.ndarray:
        """Members' deterrence weights, shape (R, members) (sampled once per run, so computed once)."""
        if "member_det" not in self._fixed:
            self._fixed["member_det"] = np.stack([m.deterrence_weight for m in self.members], axis=1)
        return self._fixed["member_det"]

    def _deployment_deterrence(self) -> np.ndarray:
        """Per run and deployment, the largest deterrence weight among its contributors (at least 0), shape (R, D)."""
        if "dep_det" not in self._fixed:
            w = self.world
            det = self.member_deterrence()
            per_dep = np.zeros((w.size, len(w.deployments)))
            for d in range(len(w.deployments)):
                for m in np.flatnonzero(w.dep_contributors[d]):
                    np.maximum(per_dep[:, d], det[:, m], out=per_dep[:, d])
            self._fixed["dep_det"] = per_dep
        return self._fixed["dep_det"]

    def contributor_deterrence(self) -> np.ndarray:
        """Per run, the largest deterrence weight among contributors of forces standing inside Ukraine."""
        def compute() -> np.ndarray:
            w = self.world
            out = np.zeros(w.size)
            if not len(w.deployments):
                return out
            per_dep = self._deployment_deterrence()
            for d in np.flatnonzero(w.dep_inside):
                np.maximum(out, per_dep[:, d], out=out, where=w.dep_active[:, d])
            return out
        return self._weekly("contrib_det", compute)

    def alliance_deterrence(self) -> np.ndarray:
        """Per run, the deterrence of the alliance as a whole: its cohesion times the US's resolve."""
        if "alliance_det" not in self._fixed:
            us = next(m for m in self.members if m.actor_id == "us")
            self._fixed["alliance_det"] = self.alliance.cohesion * (0.5 + us.resolve)
        return self._fixed["alliance_det"]

    #: Which borders draw each kind of act aimed at a member (configs/geography.yaml; docs/model.md 4.14).
    TARGET_BORDERS = {
        "airspace": ("russia", "belarus", "kaliningrad", "black_sea"),  # violations, probing, drones from the east
        "spillover": ("ukraine",),                                         # strikes on Ukraine that go astray
    }

    def targets(self, kind: str, where: np.ndarray) -> np.ndarray:
        """Per run, the member (index into ``world.members``) that this week's Russian act of ``kind`` aims at;
        valid in the runs ``where`` selects (and in those asked for before this week), 0 elsewhere.

        ``airspace`` and ``spillover`` fall only on members that border the theatre, weighted by adjacency (a
        launch area in Belarus adds weight to its neighbours); ``hybrid`` reaches any member, weighted by its role
        (a logistics hub, troops in Ukraine, deep-strike weapons supplied); ``territory`` (a deliberate strike) falls
        on hubs, contributors and suppliers, and on frontline states. The draw is keyed by run, so it is made only
        in the runs that act, with the values they would have in a draw over all runs."""
        w = self.world
        out, done = self._weekly("targets:" + kind, lambda: (np.zeros(w.size, dtype=np.int64),
                                                             np.zeros(w.size, dtype=bool)))
        need = where & ~done
        rows = np.flatnonzero(need)
        if len(rows):
            weights = self._target_weights(kind, rows)
            u = w.streams.uniform_at(rows, f"russia:target:{kind}", w.week)
            if w.compiled:
                picked = np.empty(len(rows), dtype=np.int64)
                kernel("inverse_cdf")(weights, u, picked)
            else:
                picked = inverse_cdf(weights, u)
            out[rows] = picked
            done |= need
        return out

    def _target_weights(self, kind: str, rows: np.ndarray) -> np.ndarray:
        """Targeting weights of the members for acts of ``kind`` in the runs ``rows``, shape (len(rows), members)."""
        w, p = self.world, self.world.params
        col = _BORDER_COLUMN
        base = self._fixed.get("target_base:" + kind)
        if base is None:  # each member's standing weight, the same every week (the geography and these weights)
            if kind in self.TARGET_BORDERS:
                base = w.borders[:, [col[b] for b in self.TARGET_BORDERS[kind]]].sum(axis=1).astype(np.float64)
            else:
                role = p["hub_target_weight"] * w.logistics_hub + (w.frontline if kind == "territory" else 1.0)
                base = role.astype(np.float64)
            self._fixed["target_base:" + kind] = base
        weights = np.repeat(base[None, :], len(rows), axis=0)
        if kind in self.TARGET_BORDERS:
            if kind == "airspace":  # DOMAIN.md 2.1 Belarus row: some drones entering Poland came from Belarus
                weights += (p["launch_area_weight"] * w.launch_area[rows][:, None]
                            * w.borders[None, :, col["belarus"]])
            return weights
        inside = np.flatnonzero(w.dep_inside)
        if len(inside):
            standing = w.dep_active[rows][:, inside].astype(np.int64)
            contributes = (standing @ w.dep_contributors[inside].astype(np.int64)) > 0
            weights += p["contributor_target_weight"] * contributes
        suppliers = self.ctx.levers.policies.deep_strike.suppliers
        if w.deep_strike_authorised and suppliers:
            sup = np.array([m in suppliers for m in w.members])
            weights += p["contributor_target_weight"] * sup[None, :]
        return weights

    def most_exposed_deployment(self) -> tuple[np.ndarray, np.ndarray]:
        """Per run, the index of the most exposed active deployment inside Ukraine and its lead contributor
        (member index), -1 where none stands."""
        def compute():
            w = self.world
            dep = np.full(w.size, -1)
            best = np.full(w.size, -1.0)
            for d in np.flatnonzero(w.dep_inside):  # strictly greater: the first of equals wins, as argmax
                better = w.dep_active[:, d] & (w.dep_exposure[d] > best)
                dep[better] = d
                best[better] = w.dep_exposure[d]
            lead = np.where(dep >= 0, w.dep_lead[np.maximum(dep, 0)] if len(w.deployments) else -1, -1)
            return dep, lead
        return self._weekly("exposed", compute)

    # ---------------------------------------------------------------- results
    def result(self, variant: str, runs_table: bool = True) -> ChunkResult:
        """Summarise the finished chunk: its aggregates, and (``runs_table``) its per-run rows."""
        w = self.world
        tr = w.outcomes
        return ChunkResult(
            variant=variant,
            run_ids=w.streams.run_ids.copy(),
            aggregates=Aggregates.from_tracker(tr, w.streams.run_ids, compiled=w.compiled),
            runs=self._runs_table() if runs_table else {},
            events=w.events() if w.record_events else None,
            headline=tr.headline,
            ukraine=tr.ukraine,
        )

    def _runs_table(self) -> dict[str, np.ndarray]:
        """The chunk's per-run rows: each run's sampled parameters, its peaks and the first week of each outcome."""
        w = self.world
        tr = w.outcomes
        runs: dict[str, np.ndarray] = {"run": w.streams.run_ids.copy()}
        for key in sorted(self.sampled):
            runs["param." + key] = self.sampled[key].astype(np.float32)
        runs["max_rung"] = tr.headline.max(axis=1)
        # the week the headline first reached its peak: with the peak, how high and how soon a run climbed
        runs["week_of_max_rung"] = np.argmax(tr.headline == runs["max_rung"][:, None], axis=1).astype(np.int16)
        runs["max_ukraine_rung"] = tr.ukraine.max(axis=1)
        for i, oid in enumerate(OUTCOME_IDS):
            runs["first_week." + oid] = tr.first[:, i].copy()
        return runs


def simulate(ctx: Context, run_ids: np.ndarray, variant: str, record_events: bool = False,
             runs_table: bool = True) -> ChunkResult:
    """Run the model over ``run_ids`` to the horizon and return the chunk's result (without its per-run rows
    unless ``runs_table``)."""
    model = EscalationModel(ctx, np.asarray(run_ids, dtype=np.int64), record_events)
    try:
        model.run_model()
        return model.result(variant, runs_table)
    finally:
        _forget(model)


def _forget(model: mesa.Model) -> None:
    """Free a finished model's arrays now: a worker steps thousands of chunks, each model holding tens of MiB.

    Mesa 3.3 counts agent ids per model in a class-level dict (``mesa.Agent._ids``), which keeps every model it has
    seen alive (Mesa issue 3179; later releases number agents in the model, and then the first step does nothing).
    Agents and model (and a mediating agent and its mediation) also refer to each other, so without the second step
    they would wait for a full garbage collection, which may come only after dozens of chunks.
    """
    ids = getattr(mesa.Agent, "_ids", None)
    if isinstance(ids, dict):
        ids.pop(model, None)
    for agent in list(model.agents):
        vars(agent).clear()
    vars(model).clear()
