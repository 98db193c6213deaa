"""The shared state of R replicates stepped in lockstep: levers, state arrays, this week's acts and the event log.

Agents read the world and post acts to it; an act has an actor, a target, an action and a rung, and is applied to
the replicates selected by a boolean mask. The world classifies each act into the two escalation axes (Russia with
its allies against NATO with its members; Russia against Ukraine), marks the outcomes it realises and, when asked,
records it as an event row. Nothing here loops over replicates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.engine.outcomes import OutcomeTracker
from sim.engine.streams import Streams
from sim.spec.doctrine import Doctrine
from sim.spec.scenario import Levers, ScenarioSpec
from sim.spec.vocabulary import Bloc, Role

NO_TARGET = -1


@dataclass(frozen=True)
class Context:
    """Everything fixed for one batch and variant: doctrine, scenario, levers, parameters (overrides applied)."""

    doctrine: Doctrine
    scenario: ScenarioSpec
    levers: Levers
    params: dict[str, float]
    actor_ids: tuple[str, ...]
    severity: np.ndarray = field(repr=False)

    @classmethod
    def build(cls, doctrine: Doctrine, scenario: ScenarioSpec, levers: Levers) -> Context:
        params = {k: p.value for k, p in doctrine.parameters.items()}
        params.update(scenario.overrides)
        severity = np.array([r.severity for r in doctrine.ladder], dtype=np.float64)
        return cls(doctrine, scenario, levers, params, tuple(doctrine.ids("actors")), severity)

    def index(self, actor_id: str) -> int:
        return self.actor_ids.index(actor_id)


class World:
    """The state of ``streams.size`` replicates of one scenario variant.

    Args:
        ctx: the batch context.
        streams: the keyed random draws of these replicates.
        record_events: keep an event row for every act (for events.parquet and traces).
    """

    def __init__(self, ctx: Context, streams: Streams, record_events: bool = False) -> None:
        self.ctx = ctx
        self.streams = streams
        self.size = R = streams.size
        self.week = 0
        self.horizon = ctx.scenario.horizon_weeks
        doctrine = ctx.doctrine
        self.blocs = np.array([doctrine.actor(a).bloc.value for a in ctx.actor_ids])
        self._bloc_of = tuple(self.blocs.tolist())  # plain strings: looked up for every act
        self.members = doctrine.members()
        self.member_index = np.array([ctx.index(m) for m in self.members])
        self.frontline = np.array([Role.FRONTLINE_STATE in doctrine.actor(m).roles for m in self.members])
        self.russia, self.ukraine, self.nato = ctx.index("russia"), ctx.index("ukraine"), ctx.index("nato")

        # deployments: levers compiled to per-deployment constants
        types = {t.id: t for t in doctrine.deployment_types}
        locs = {f.location: f for f in doctrine.locations}
        deps = ctx.levers.deployments
        size_exp = ctx.params["size_exponent"]
        self.deployments = deps
        self.dep_inside = np.array([d.location.inside_ukraine for d in deps], dtype=bool)
        size_factor = np.array([(d.size / 1000.0) ** size_exp for d in deps])
        self.dep_provocation = np.array(
            [types[d.type].provocation * locs[d.location].provocation for d in deps]
        ) * size_factor if deps else np.zeros(0)
        self.dep_exposure = np.array(
            [types[d.type].exposure * locs[d.location].exposure for d in deps]
        ) * size_factor if deps else np.zeros(0)
        self.dep_lead = np.array([self.members.index(d.contributors[0]) for d in deps], dtype=np.int64)
        self.dep_contributors = np.zeros((len(deps), len(self.members)), dtype=bool)
        for i, d in enumerate(deps):
            for c in d.contributors:
                self.dep_contributors[i, self.members.index(c)] = True

        # state arrays over replicates
        self.tension = np.zeros(R)
        self.provocation = np.zeros(R)  # accumulated since Russia last perceived
        self.territorial_threat = np.zeros(R)
        self.fighting = np.ones(R, dtype=bool)
        self.ceasefire = np.zeros(R, dtype=bool)
        self.at_war = np.zeros(R, dtype=bool)
        self.nato_retaliated = np.zeros(R, dtype=bool)
        self.nuclear_used = np.zeros(R, dtype=bool)
        self.strategic_war = np.zeros(R, dtype=bool)
        self.article5 = np.zeros(R, dtype=bool)
        self.withdrawn = np.zeros((R, len(deps)), dtype=bool)
        self.dep_active = np.zeros((R, len(deps)), dtype=bool)
        self.dep_started = np.zeros(len(deps), dtype=bool)
        self.moves: set[str] = set()
        self.deep_strike_authorised = False
        self.strategic_recent = np.zeros(R, dtype=np.int16)  # weeks left in which a strategic strike counts
        # context that third-country agents set each week
        self.host_capability = np.zeros(R)
        self.supplier_capability = np.zeros(R)
        self.dialogue_lift = np.ones(R)
        self.china_leverage = np.zeros(R)

        # this week's and last week's signals
        self.headline = np.ones(R, dtype=np.int8)
        self.ukraine_axis = np.full(R, 4, dtype=np.int8)
        self._fresh_signals()
        self.prev = self._signals
        self.article4_request = np.zeros(R, dtype=bool)

        self.outcomes = OutcomeTracker(R, self.horizon)
        self.record_events = record_events
        self._events: list[tuple[np.ndarray, int, int, np.ndarray, str, int]] = []
        self._red_line_log: list[tuple[np.ndarray, int, str, str]] = []

    # ------------------------------------------------------------------ weekly bookkeeping
    def _fresh_signals(self) -> None:
        R = self.size
        self._signals = {
            "hybrid_target": np.full(R, NO_TARGET, dtype=np.int16),
            "airspace_target": np.full(R, NO_TARGET, dtype=np.int16),
            "territory_target": np.full(R, NO_TARGET, dtype=np.int16),
            "forces_target": np.full(R, NO_TARGET, dtype=np.int16),
            "forces_deployment": np.full(R, NO_TARGET, dtype=np.int16),
            "deep_strike": np.zeros(R, dtype=bool),
            "strategic_strike": np.zeros(R, dtype=bool),
            "nato_attack": np.zeros(R, dtype=bool),
            "russian_nuclear": np.zeros(R, dtype=bool),
            "incident": np.zeros(R, dtype=bool),
        }

    @property
    def now(self) -> dict[str, np.ndarray]:
        """This week's signals (Russian acts, Ukrainian strikes, NATO attacks)."""
        return self._signals

    def begin_week(self, week: int) -> None:
        """Open week ``week``: set the floors of both axes, then apply the scripted levers (their acts count)."""
        self.week = week
        self._fresh_signals()
        self.article4_request[:] = False
        ctx, p = self.ctx, self.ctx.params
        self.territorial_threat *= p["territorial_threat_decay"]
        np.maximum(self.strategic_recent - 1, 0, out=self.strategic_recent)

        # axis floors first, so that this week's scripted acts raise them: the status quo with NATO,
        # the routine war in Ukraine, a war with NATO, a nuclear war
        self.headline = np.where(self.at_war, 12, 1).astype(np.int8)
        self.headline[self.strategic_war] = 15
        self.ukraine_axis = np.where(self.fighting, 4, 0).astype(np.int8)

        # scripted moves of this week
        moves = {m.id: m for m in ctx.doctrine.moves}
        self.moves = set()
        for mv in ctx.levers.timeline:
            if mv.week != week:
                continue
            kind = moves[mv.move]
            self.moves.add(mv.move)
            everyone = np.ones(self.size, dtype=bool)
            self.act(mv.actor, "russia", "move:" + mv.move, kind.rung, everyone)
            self.provocation += kind.provocation
            if kind.territorial_threat:
                np.minimum(self.territorial_threat + kind.territorial_threat, 1.0, out=self.territorial_threat)
            if kind.strategic:
                self.now["strategic_strike"][:] = True
                self.strategic_recent[:] = 4

        # policies
        ds = ctx.levers.policies.deep_strike
        self.deep_strike_authorised = ds.authorised and week >= ds.from_week

        # deployments: scheduled window, condition on the ceasefire, not withdrawn
        ongoing = p["ongoing_deployment_share"]
        for i, d in enumerate(self.deployments):
            scheduled = d.start_week <= week and (d.end_week is None or week < d.end_week)
            if not scheduled:
                self.dep_active[:, i] = False
                continue
            if d.condition == "after_ceasefire":
                cond = self.ceasefire
            elif d.condition == "during_fighting":
                cond = self.fighting
            else:
                cond = np.ones(self.size, dtype=bool)
            active = cond & ~self.withdrawn[:, i]
            starting = active & ~self.dep_active[:, i]
            if starting.any():
                self.act(d.contributors[0], "russia", "deploy:" + d.type, 4, starting)
                self.provocation += np.where(starting, self.dep_provocation[i], 0.0)
            if self.dep_inside[i]:
                self.provocation += np.where(active & ~starting, ongoing * self.dep_provocation[i], 0.0)
            self.dep_active[:, i] = active


    def end_week(self) -> None:
        """Close the week: record the axes and outcomes, keep this week's signals as last week's."""
        self.outcomes.record_week(self)
        self.prev = self._signals

    # ------------------------------------------------------------------ derived state
    def forces_in_ukraine(self) -> np.ndarray:
        """True where NATO forces of any deployment stand inside Ukraine."""
        out = np.zeros(self.size, dtype=bool)
        for d in np.flatnonzero(self.dep_inside):  # a loop over deployments: row-wise any() is slow
            out |= self.dep_active[:, d]
        return out

    def exposure(self) -> np.ndarray:
        """Total exposure of the NATO forces standing inside Ukraine."""
        out = np.zeros(self.size)
        for d in np.flatnonzero(self.dep_inside):
            out += np.where(self.dep_active[:, d], self.dep_exposure[d], 0.0)
        return out

    def doctrine_permits_nuclear(self) -> np.ndarray:
        """Where the doctrine's permissive thresholds are met (DOMAIN.md 4.2): war with NATO, a NATO attack,
        a critical territorial threat, a recent strike on strategic assets, or nuclear use by the other side."""
        return (
            self.at_war
            | self.nato_retaliated
            | self.nuclear_used
            | (self.territorial_threat >= self.ctx.params["doctrine_threat_threshold"])
            | (self.strategic_recent > 0)
        )

    # ------------------------------------------------------------------ acts
    def act(self, actor: str | int, target: str | int | np.ndarray, action: str, rung: int, mask: np.ndarray) -> None:
        """Post an act of ``actor`` toward ``target`` at ``rung`` in the replicates where ``mask`` holds."""
        if not mask.any():
            return
        a = actor if isinstance(actor, (int, np.integer)) else self.ctx.index(actor)
        if isinstance(target, str):
            t: int | np.ndarray = self.ctx.index(target)
        else:
            t = target
        abloc = self._bloc_of[a]
        tbloc = self._bloc_of[t] if isinstance(t, (int, np.integer)) else Bloc.NATO.value
        pair = {abloc, tbloc}
        if pair == {Bloc.RUSSIA.value, Bloc.NATO.value} or rung >= 13:
            np.maximum(self.headline, np.int8(rung), out=self.headline, where=mask)
        if pair == {Bloc.RUSSIA.value, Bloc.UKRAINE.value} or (rung >= 14 and abloc == Bloc.RUSSIA.value):
            np.maximum(self.ukraine_axis, np.int8(rung), out=self.ukraine_axis, where=mask)
        self.outcomes.mark_act(action, abloc, rung, mask, self.week)
        if self.record_events:
            rows = np.flatnonzero(mask)
            tt = np.full(len(rows), t, dtype=np.int16) if isinstance(t, (int, np.integer)) else t[rows].astype(np.int16)
            self._events.append((self.streams.run_ids[rows], self.week, int(a), tt, action, rung))

    def note_red_line(self, red_line: str, event: str, mask: np.ndarray) -> None:
        """Log a red-line ``event`` (crossed, enforced, pressed) in the replicates of ``mask``, when recording."""
        if self.record_events and mask.any():
            self._red_line_log.append((self.streams.run_ids[mask], self.week, red_line, event))

    def red_line_log(self) -> list[dict[str, int | str]]:
        """The logged red-line events as rows {run, week, red_line, event}, sorted by run and week."""
        rows: list[dict[str, int | str]] = [{"run": int(r), "week": week, "red_line": rl, "event": ev}
                                            for runs, week, rl, ev in self._red_line_log for r in runs]
        return sorted(rows, key=lambda row: (row["run"], row["week"]))

    def events(self) -> dict[str, np.ndarray | list]:
        """The recorded events as columns: run, week, actor, target, action, rung (sorted by run, week)."""
        if not self._events:
            return {"run": np.zeros(0, np.int64), "week": np.zeros(0, np.int16), "actor": [], "target": [],
                    "action": [], "rung": np.zeros(0, np.int8)}
        run = np.concatenate([e[0] for e in self._events])
        week = np.concatenate([np.full(len(e[0]), e[1], dtype=np.int16) for e in self._events])
        actor = np.concatenate([np.full(len(e[0]), e[2], dtype=np.int16) for e in self._events])
        target = np.concatenate([e[3] for e in self._events])
        action_codes = sorted({e[4] for e in self._events})
        code = {a: i for i, a in enumerate(action_codes)}
        action = np.concatenate([np.full(len(e[0]), code[e[4]], dtype=np.int16) for e in self._events])
        rung = np.concatenate([np.full(len(e[0]), e[5], dtype=np.int8) for e in self._events])
        order = np.lexsort((np.arange(len(run)), week, run))
        ids = np.array(self.ctx.actor_ids)
        safe_target = np.where(target >= 0, target, self.nato)
        return {
            "run": run[order],
            "week": week[order],
            "actor": ids[actor[order]].tolist(),
            "target": ids[safe_target[order]].tolist(),
            "action": np.array(action_codes)[action[order]].tolist(),
            "rung": rung[order],
        }
