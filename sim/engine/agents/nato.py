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
    Article 4. Sources: DOMAIN.md 2.1 member rows; DOMAIN.md 3.1."""

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
        self._answers: list[tuple[str, int, np.ndarray]] = []

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
            ("expel_diplomats", 3, hybrid & (self.u("expel", where=hybrid) < p["expel_rate"] * hawk)),
            ("shoot_down_intruder", 7, airspace & (self.u("shoot", where=airspace) < p["shootdown_rate"] * hawk)),
            ("national_retaliation", 11, forces & ~w.at_war
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
        w, share = self.world, self.p["nato_act_provocation_share"]
        for action, rung, mask in self._answers:
            if not mask.any():
                continue
            w.act(self.index, w.russia, action, rung, mask)
            w.provocation += np.where(mask, share * w.ctx.severity[rung], 0.0)
            if rung >= 11:
                w.now["nato_attack"] |= mask
                w.nato_retaliated |= mask


class Alliance(Actor):
    """The alliance's collective decisions: Article 4 when a member asks, Article 5 by (near) consensus after a
    strike on member territory, collective retaliation, flank reinforcement, and a rare nuclear answer to Russian
    nuclear use. Sources: DOMAIN.md 3.1; seed 004_44b9cfa060f9e693.txt (Article 5); DOMAIN.md 7 (Swift Centre)."""

    def __init__(self, model: EscalationModel, spec: ActorSpec) -> None:
        super().__init__(model, spec)
        self.cohesion = self.attribute("cohesion")
        self.resolve = self.attribute("resolve")
        self._answers: list[tuple[str, int, np.ndarray]] = []

    def decide(self) -> None:
        w, p, model = self.world, self.p, self.model
        prev = w.prev
        article4 = w.article4_request.copy()
        struck = (prev["territory_target"] >= 0) & ~w.article5
        yes = np.zeros(w.size)
        for k, member in enumerate(model.members):
            yes += member.article5_support > self.u("article5_vote", k, where=struck)
        article5 = struck & (yes / len(model.members) >= p["article5_threshold"])
        w.article5 |= article5
        retaliate = article5 & (self.u("retaliate", where=article5) < p["alliance_retaliation_rate"] * self.resolve)
        incident = (prev["hybrid_target"] >= 0) | (prev["airspace_target"] >= 0)
        reinforce = incident & (self.u("reinforce", where=incident) < p["reinforce_rate"])
        russian_nuclear = prev["russian_nuclear"]
        nuclear = russian_nuclear & (self.u("nuclear", where=russian_nuclear) < p["nato_nuclear_response_rate"])
        self._answers = [
            ("article4_consultation", 1, article4),
            ("article5_invoked", 2, article5),
            ("reinforce_flank", 4, reinforce),
            ("alliance_retaliation", 11, retaliate),
            ("nato_nuclear_response", 14, nuclear),
        ]

    def act(self) -> None:
        w, share = self.world, self.p["nato_act_provocation_share"]
        for action, rung, mask in self._answers:
            if not mask.any():
                continue
            w.act(self.index, w.russia, action, rung, mask)
            if rung >= 3:
                w.provocation += np.where(mask, share * w.ctx.severity[rung], 0.0)
            if rung >= 11:
                w.now["nato_attack"] |= mask
                w.nato_retaliated |= mask
            if rung >= 14:
                w.nuclear_used |= mask
