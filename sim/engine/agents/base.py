"""The base of every actor agent: a Mesa agent whose state is numpy arrays over the R replicates of its model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from sim.engine.world import World
from sim.spec.distributions import Normal
from sim.spec.doctrine import ActorSpec, AttributeName

if TYPE_CHECKING:
    from sim.engine.model import EscalationModel


def at_rows(value: np.ndarray | float, rows: np.ndarray) -> np.ndarray | float:
    """A parameter at the runs ``rows``: its per-run values there when it is calibrated per run, else itself."""
    return value[rows] if isinstance(value, np.ndarray) and value.ndim else value


def scatter(size: int, rows: np.ndarray) -> np.ndarray:
    """A mask over ``size`` runs that holds at ``rows``."""
    out = np.zeros(size, dtype=bool)
    out[rows] = True
    return out


class Actor(mesa.Agent):
    """Base of every actor agent: its spec, its sampled attributes and no-op stages."""

    model: EscalationModel

    def __init__(self, model: EscalationModel, spec: ActorSpec) -> None:
        super().__init__(model)
        self.spec = spec
        self.actor_id = spec.id
        self.index = model.world.ctx.index(spec.id)

    @property
    def world(self) -> World:
        return self.model.world

    @property
    def p(self) -> dict[str, Any]:
        return self.model.world.params

    def attribute(self, name: AttributeName) -> np.ndarray:
        """This actor's attribute ``name``, sampled once per run (the scenario's uncertainty overrides it)."""
        key = f"{self.actor_id}.{name}"
        dist = self.world.ctx.scenario.uncertainties.get(key) or self.spec.attributes[name]
        s = self.world.streams
        z = s.normal("param:" + key, week=-1) if isinstance(dist, Normal) else None
        values = dist.quantile(s.uniform("param:" + key, week=-1), z)
        self.model.sampled[key] = values
        return values

    def u(self, site: str, k: int = 0, where: np.ndarray | None = None) -> np.ndarray:
        """This week's keyed uniforms for a named draw site of this actor (only in the runs ``where`` selects)."""
        return self.world.streams.uniform(f"{self.actor_id}:{site}", self.world.week, k, where)

    def u_at(self, rows: np.ndarray, site: str, k: int = 0) -> np.ndarray:
        """This week's keyed uniforms of a draw site at the runs ``rows`` only (the values ``u`` gives them)."""
        return self.world.streams.uniform_at(rows, f"{self.actor_id}:{site}", self.world.week, k)

    def perceive(self) -> None:
        """Read the world."""

    def decide(self) -> None:
        """Choose this week's moves."""

    def act(self) -> None:
        """Post this week's acts."""
