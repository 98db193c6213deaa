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
    """A supplier (Iran's drones, North Korea's troops and shells) cheapens Russia's massed strikes.
    Sources: DOMAIN.md 2.1 Iran and North Korea rows."""

    def __init__(self, model: EscalationModel, spec: ActorSpec) -> None:
        super().__init__(model, spec)
        self.capability = self.attribute("capability")

    def perceive(self) -> None:
        np.maximum(self.world.supplier_capability, self.capability, out=self.world.supplier_capability)


class NuclearHost(Actor):
    """A host of Russian nuclear weapons (Belarus) cheapens Russian nuclear signalling.
    Source: DOMAIN.md 2.1 Belarus row; DOMAIN.md 3 row 14."""

    def __init__(self, model: EscalationModel, spec: ActorSpec) -> None:
        super().__init__(model, spec)
        self.capability = self.attribute("capability")

    def perceive(self) -> None:
        np.maximum(self.world.host_capability, self.capability, out=self.world.host_capability)
