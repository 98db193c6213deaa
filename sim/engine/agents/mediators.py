"""Mediators: attempts at partial deals and ceasefires.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.engine.agents.base import Actor, at_rows, scatter
from sim.engine.kernels import kernel, per_run
from sim.spec.doctrine import ActorSpec

if TYPE_CHECKING:
    from sim.engine.model import EscalationModel


class Mediation:
    """Mediation by one actor (China; Turkey and the United States, also NATO members): attempts grow with last
    week's danger and yield partial deals (swaps, corridors, moratoria) far more often than a ceasefire. A ceasefire's
    hazard rises with both sides' war fatigue, with the cost the war has reached and with a proposal on the table,
    and falls with fresh provocation. Sources: DOMAIN.md 2.3 and its model implication; seed 001_3227528b8a3d3f35.txt
    ('Negotiated Pause: Diplomatic intermediaries (possibly China or Turkey)'); DESIGN.md section 3."""

    def __init__(self, agent: Actor) -> None:
        self.agent = agent
        self.propensity = agent.attribute("mediation_propensity")
        self.leverage = agent.attribute("leverage")
        mediators = agent.world.ctx.levers.mediators
        self.active = mediators is None or agent.actor_id in mediators
        self.deal = self.ceasefire = np.zeros(agent.world.size, dtype=bool)
        self._rates: tuple[np.ndarray, ...] | None = None  # the compiled path's per-run parameters

    def decide(self) -> None:
        a = self.agent
        w, p, model = a.world, a.p, a.model
        if not self.active:
            return
        danger, danger_gain, fatigue, fresh = model.weekly_mediation_terms()  # danger_gain: 1 + gain x danger
        if w.compiled:  # the same arithmetic run by run (sim/engine/kernels.py)
            self._decide_compiled(danger, danger_gain, fatigue, fresh)
            return
        # a proposal on the table is talks under way: it raises the attempts and the ceasefire hazard alike
        proposal = 1.0 + p["proposal_boost"] * (w.proposal_weeks_left > 0)
        attempt = w.fighting & (a.u("mediation_attempt") < self.propensity * danger_gain * proposal)
        # what an attempt yields, computed at the runs that attempt (the same values as over all runs)
        at = np.flatnonzero(attempt)
        lift = w.dialogue_lift[at] * self.leverage[at]
        hazard = (at_rows(p["ceasefire_rate"], at) * lift * fatigue[at]
                  * (1.0 + at_rows(p["escalation_cost_gain"], at) * danger[at]) * at_rows(proposal, at) * fresh[at])
        self.deal = scatter(w.size, at[a.u_at(at, "mediation_deal") < at_rows(p["partial_deal_rate"], at) * lift])
        self.ceasefire = scatter(w.size, at[a.u_at(at, "mediation_ceasefire") < hazard])

    def _decide_compiled(self, danger: np.ndarray, danger_gain: np.ndarray, fatigue: np.ndarray,
                         fresh: np.ndarray) -> None:
        a = self.agent
        w, s = a.world, a.world.streams
        if self._rates is None:  # the parameters hold for the whole chunk
            self._rates = tuple(per_run(a.p[name], w.size) for name in (
                "proposal_boost", "ceasefire_rate", "escalation_cost_gain", "partial_deal_rate"))
        boost, ceasefire_rate, cost_gain, deal_rate = self._rates
        self.deal, self.ceasefire = np.empty(w.size, dtype=bool), np.empty(w.size, dtype=bool)
        site = a.actor_id + ":mediation_"
        kernel("mediate")(s.keys, s.offset(site + "attempt", w.week), s.offset(site + "deal", w.week),
                          s.offset(site + "ceasefire", w.week), w.fighting, self.propensity, danger_gain,
                          w.proposal_weeks_left > 0, boost, w.dialogue_lift, self.leverage, ceasefire_rate, fatigue,
                          cost_gain, danger, fresh, deal_rate, self.deal, self.ceasefire)

    def act(self) -> None:
        a = self.agent
        w = a.world
        if not self.active:
            return
        rung = w.L.first("de_escalation")
        # the effects are written at the runs of the act only: elsewhere they would change nothing
        if self.deal.any():
            rows = w.act(a.index, w.russia, "partial_deal", rung, self.deal)
            w.tension[rows] *= 1.0 - at_rows(a.p["deal_relief"], rows)
        if self.ceasefire.any():
            rows = w.act(a.index, w.russia, "ceasefire", rung, self.ceasefire)
            w.ceasefire[rows] = True
            w.fighting[rows] = False
            w.at_war[rows] = False


class Mediator(Actor):
    """A third-country mediator (China): mediates, and its leverage backs the norm against nuclear use, an extra
    cost of every nuclear option (sim/engine/agents/russia.py).
    Source: DOMAIN.md 2.1 China row (12-point paper: 'nuclear weapons must not be used')."""

    def __init__(self, model: EscalationModel, spec: ActorSpec) -> None:
        super().__init__(model, spec)
        self.mediation = Mediation(self)

    def perceive(self) -> None:
        if self.mediation.active:
            np.maximum(self.world.china_leverage, self.mediation.leverage, out=self.world.china_leverage)

    def decide(self) -> None:
        self.mediation.decide()

    def act(self) -> None:
        self.mediation.act()
