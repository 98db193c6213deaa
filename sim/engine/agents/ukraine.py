"""Ukraine: requests support and strikes deep into Russia when its suppliers allow it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.engine.agents.base import Actor
from sim.spec.doctrine import ActorSpec

if TYPE_CHECKING:
    from sim.engine.model import EscalationModel


class Ukraine(Actor):
    """Ukraine strikes deep into Russia with Western weapons when authorised, and now and then hits strategic assets.

    Sources: DOMAIN.md 2.1 Ukraine row; DOMAIN.md 3 rows 24, 26; seed 004_44b9cfa060f9e693.txt (Zelensky urged the
    US and UK to allow ATACMS and Storm Shadow strikes); DOMAIN.md 10 (Spiderweb).
    """

    def __init__(self, model: EscalationModel, spec: ActorSpec) -> None:
        super().__init__(model, spec)
        self.resolve = self.attribute("resolve")
        self.capability = self.attribute("capability")
        self.war_fatigue = self.attribute("war_fatigue")

    def supply(self) -> np.ndarray:
        """The long-range strike supply of the authorising suppliers: the sum of their sampled ``capability``
        (1 where the policy names no supplier). DOMAIN.md 3 row 26: ATACMS (US) and Storm Shadow (UK) were used
        within days of each other; each supplier's own permission adds its missiles."""
        suppliers = self.world.ctx.levers.policies.deep_strike.suppliers
        if not suppliers:
            return np.ones(self.world.size)
        capabilities = (m.capability for m in self.model.members if m.actor_id in suppliers)
        return sum(capabilities, start=np.zeros(self.world.size))

    def act(self) -> None:
        w, p = self.world, self.p
        if w.deep_strike_authorised:
            chance = p["deep_strike_rate"] * self.capability * self.supply()
            deep = w.fighting & (self.u("deep_strike") < chance)
            w.now["deep_strike"] |= deep
            w.provocation += np.where(deep, p["deep_strike_provocation"], 0.0)
            w.act(self.index, w.russia, "deep_strike", w.L.first("vertical_in_ukraine"), deep)
        strategic = w.fighting & (self.u("strategic_strike") < p["strategic_strike_rate"])
        if strategic.any():
            move = next(m for m in w.ctx.doctrine.moves if m.id == "strategic_strike")
            w.now["strategic_strike"] |= strategic
            w.strategic_recent[strategic] = 4
            w.provocation += np.where(strategic, move.provocation, 0.0)
            w.act(self.index, w.russia, "strategic_strike", move.rung, strategic)
