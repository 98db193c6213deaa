"""NATO: each member's national answers to Russian acts, and the alliance's Article 4 and Article 5 decisions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.engine.agents.base import Actor
from sim.engine.agents.mediators import Mediation
from sim.spec.doctrine import ActorSpec

if TYPE_CHECKING:
    from sim.engine.model import EscalationModel


class Member(Actor):
    """A NATO member answers Russian acts on its soil or its troops by its own appetite: expulsions after sabotage,
    shoot-downs after incursions, national retaliation or withdrawal after its troops are struck, and requests for
    Article 4. Its answers and their rungs are the ``side: nato`` rows of configs/responses.yaml; each answers last
    week's act (their lag is one week). Sources: DOMAIN.md 2.1 member rows; DOMAIN.md 3.1."""

    def __init__(self, model: EscalationModel, spec: ActorSpec) -> None:
        super().__init__(model, spec)
        self.member = self.world.members.index(spec.id)
        self.resolve = self.attribute("resolve")
        self.hawkishness = self.attribute("hawkishness")
        self.article4_propensity = self.attribute("article4_propensity")
        self.article5_support = self.attribute("article5_support")
        self.deterrence_weight = self.attribute("deterrence_weight")
        # long-range strike weapons the member can supply (0 for members that have none to give)
        self.capability = self.attribute("capability") if "capability" in spec.attributes else np.zeros(self.world.size)
        self.mediation = Mediation(self) if "mediator" in {r.value for r in spec.roles} else None
        self._answers: list[tuple[str, np.ndarray]] = []

    def decide(self) -> None:
        if self.mediation is not None:
            self.mediation.decide()
        w, p = self.world, self.p
        prev, m = w.prev, self.member
        hybrid = prev["hybrid_target"] == m
        airspace = prev["airspace_target"] == m
        forces = prev["forces_target"] == m
        territory = prev["territory_target"] == m
        hawk = self.hawkishness
        self._answers = [
            ("expel_diplomats", hybrid & (self.u("expel", where=hybrid) < p["expel_rate"] * hawk)),
            ("shoot_down_intruder", airspace & (self.u("shoot", where=airspace) < p["shootdown_rate"] * hawk)),
            ("national_retaliation", forces & ~w.at_war
             & (self.u("retaliate", where=forces) < p["national_retaliation_rate"] * hawk * self.resolve)),
        ]
        prop = self.article4_propensity
        struck = forces | territory
        w.article4_request |= (
            (hybrid & (self.u("a4_hybrid", where=hybrid) < p["hybrid_article4_factor"] * prop))
            | (airspace & (self.u("a4_airspace", where=airspace) < p["airspace_article4_factor"] * prop))
            | (struck & (self.u("a4_strike", where=struck) < p["strike_article4_factor"] * prop))
        )
        if forces.any() and len(w.deployments):
            leads = np.flatnonzero(w.dep_lead == m)
            withdraw = forces & (self.u("withdraw", where=forces) < p["withdrawal_rate"] * (1.0 - self.resolve))
            for d in leads:
                w.withdrawn[:, d] |= withdraw & (prev["forces_deployment"] == d)

    def act(self) -> None:
        if self.mediation is not None:
            self.mediation.act()
        post_answers(self, self._answers)
        self._engage_air_defence()

    def _engage_air_defence(self) -> None:
        """The NATO-crewed air defence this member leads meets the week's Russian strikes on Ukraine: with chance
        ``air_defence_engagement_rate`` it engages, a military incident with Russia that Russia perceives as
        participation; from NATO soil the engagement is over the member's own territory, which may then ask for
        Article 4 (DOMAIN.md 2.2 rows 4 and 5; 2.1 Poland row: drones shot down with allied jets and Article 4, Sep
        2025; Romania row: a drone tracked for 50 minutes, not fired on for the risk of debris)."""
        w, p = self.world, self.p
        struck = w.now["strikes_on_ukraine"]
        mine = np.flatnonzero(w.dep_intercepts & (w.dep_lead == self.member))
        if not len(mine) or not struck.any():
            return
        u = self.u("air_defence", where=struck)
        for d in mine:
            engaged = struck & w.dep_active[:, d] & (u < p["air_defence_engagement_rate"])
            if not engaged.any():
                continue
            post_answers(self, [("air_defence_engagement", engaged)])
            if not w.dep_inside[d]:
                free = engaged & (w.now["airspace_target"] < 0)
                w.now["airspace_target"][free] = self.member


def post_answers(actor: Actor, answers: list[tuple[str, np.ndarray]]) -> None:
    """Post NATO answers (option ids of configs/responses.yaml) toward Russia: each adds a share of its severity to
    Russia's provocation from the posture rungs up, strikes on Russian forces count as NATO attacks, and a nuclear
    detonation as NATO nuclear use (the condition of Russia's doctrinal red line)."""
    w = actor.world
    share, L = actor.p["nato_act_provocation_share"], w.L
    for action, mask in answers:
        if not mask.any():
            continue
        rung = w.ctx.response(action).rung
        w.act(actor.index, w.russia, action, rung, mask)
        if rung >= L.first("posture"):
            w.provocation += np.where(mask, share * w.ctx.severity[rung], 0.0)
        if rung >= L.first("nato_attack"):
            w.now["nato_attack"] |= mask
            w.nato_retaliated |= mask
        if L.has("nuclear_detonation")[rung]:
            w.nuclear_used |= mask
            w.now["nato_nuclear"] |= mask


class Alliance(Actor):
    """The alliance's collective decisions: Article 4 when a member asks; Article 5 by a vote of the members after a
    strike on member territory, each member backing it with probability support^(1/cohesion), so that a less
    cohesive alliance can split; collective retaliation, flank reinforcement; and one decision per crisis whether
    to answer Russian nuclear use in kind. Sources: DOMAIN.md 3.1; seed 004_44b9cfa060f9e693.txt (Article 5);
    seed 001_3227528b8a3d3f35.txt (leaders divided); DOMAIN.md 7 (Swift Centre: 11% US nuclear strike within 90
    days of Russian use)."""

    def __init__(self, model: EscalationModel, spec: ActorSpec) -> None:
        super().__init__(model, spec)
        self.cohesion = self.attribute("cohesion")
        self.resolve = self.attribute("resolve")
        self.nuclear_decided = np.zeros(self.world.size, dtype=bool)
        self._answers: list[tuple[str, np.ndarray]] = []

    def decide(self) -> None:
        w, p, model = self.world, self.p, self.model
        prev = w.prev
        article4 = w.article4_request.copy()
        struck = (prev["territory_target"] >= 0) & ~w.article5
        yes = np.zeros(w.size)
        if struck.any():
            for k, member in enumerate(model.members):
                backing = member.article5_support ** (1.0 / self.cohesion)
                yes += backing > self.u("article5_vote", k, where=struck)
        article5 = struck & (yes / len(model.members) >= p["article5_threshold"])
        w.article5 |= article5
        retaliate = article5 & (self.u("retaliate", where=article5) < p["alliance_retaliation_rate"] * self.resolve)
        incident = (prev["hybrid_target"] >= 0) | (prev["airspace_target"] >= 0)
        reinforce = incident & (self.u("reinforce", where=incident) < p["reinforce_rate"])
        # Russian nuclear use opens one decision, taken once: answering in kind is not redrawn with every act
        crisis = prev["russian_nuclear"] & ~self.nuclear_decided
        self.nuclear_decided |= crisis
        nuclear = crisis & (self.u("nuclear", where=crisis) < p["nato_nuclear_response_rate"])
        self._answers = [
            ("article4_consultation", article4),
            ("article5_invoked", article5),
            ("reinforce_flank", reinforce),
            ("alliance_retaliation", retaliate),
            ("nato_nuclear_response", nuclear),
        ]

    def act(self) -> None:
        post_answers(self, self._answers)
