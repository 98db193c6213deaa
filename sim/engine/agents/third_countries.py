"""Third countries' standing effects: a dialogue voice, arms suppliers to Russia and a nuclear host.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.engine.agents.base import Actor
from sim.spec.doctrine import ActorSpec

if TYPE_CHECKING:
    from sim.engine.model import EscalationModel


class DialogueVoice(Actor):
    """A third country that calls for dialogue (India) lifts the success of mediation in proportion to its leverage.
    Source: DOMAIN.md 2.1 India row; seed 001_3227528b8a3d3f35.txt (India urged dialogue)."""

    def __init__(self, model: EscalationModel, spec: ActorSpec) -> None:
        super().__init__(model, spec)
        self.leverage = self.attribute("leverage")

    def perceive(self) -> None:
        self.world.dialogue_lift = 1.0 + self.p["dialogue_boost"] * self.leverage


class Supplier(Actor):
    """A supplier of Russia's war: its shells and drones cheapen Russia's massed strikes (``supplier``); supplied
    strike drones stray more often into neighbouring members' airspace (``drone_supplier``: Iran's Shahed/Geran, the
    type that entered Poland and Romania); troops lent for Russia's own ground speed the recapture of territory
    under threat (``troop_supplier``: North Korea, about 11,000 troops in the Kursk counter-offensive).
    Sources: DOMAIN.md 2.1 Iran and North Korea rows; DOMAIN.md 3 row 24."""

    def __init__(self, model: EscalationModel, spec: ActorSpec) -> None:
        super().__init__(model, spec)
        self.capability = self.attribute("capability")
        self.roles = {r.value for r in spec.roles}

    def perceive(self) -> None:
        w = self.world
        np.maximum(w.supplier_capability, self.capability, out=w.supplier_capability)
        if "drone_supplier" in self.roles:
            np.maximum(w.drone_supply, self.capability, out=w.drone_supply)
        if "troop_supplier" in self.roles:
            np.maximum(w.troop_supply, self.capability, out=w.troop_supply)


class NuclearHost(Actor):
    """A host of Russian nuclear weapons (Belarus) cheapens Russian nuclear signalling; as a launch area it cheapens
    airspace probing and draws it toward its NATO neighbours (Poland, Lithuania, Latvia).
    Sources: DOMAIN.md 2.1 Belarus row (hosts tactical nuclear weapons; some drones entering Poland came from
    Belarus); DOMAIN.md 3 row 14."""

    def __init__(self, model: EscalationModel, spec: ActorSpec) -> None:
        super().__init__(model, spec)
        self.capability = self.attribute("capability")
        self.launches = "launch_area" in {r.value for r in spec.roles}

    def perceive(self) -> None:
        w = self.world
        np.maximum(w.host_capability, self.capability, out=w.host_capability)
        if self.launches:
            np.maximum(w.launch_area, self.capability, out=w.launch_area)
