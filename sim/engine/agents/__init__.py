"""The actors as Mesa agents. Each agent's state is a set of numpy arrays over the R replicates of its model.

Every week runs in three agent stages, each over all agents in roster order, then the model resolves the week:

- ``perceive``: read the world (Russia updates its tension; third countries set their standing effects);
- ``decide``: choose (Russia schedules responses with lags; members and the alliance answer last week's Russian
  acts; Ukraine decides deep strikes; mediators try for deals);
- ``act``: post the acts that fall due this week to the world.

Rules cite their source; equations are in docs/model.md. No method loops over replicates.
"""

from __future__ import annotations

from sim.engine.agents.base import Actor
from sim.engine.agents.mediators import Mediation, Mediator
from sim.engine.agents.nato import Alliance, Member
from sim.engine.agents.russia import ResponseAxis, Russia
from sim.engine.agents.third_countries import DialogueVoice, NuclearHost, Supplier
from sim.engine.agents.ukraine import Ukraine
from sim.spec.doctrine import ActorSpec

__all__ = ["Actor", "Alliance", "DialogueVoice", "Mediation", "Mediator", "Member", "NuclearHost", "ResponseAxis",
           "Russia", "Supplier", "Ukraine", "agent_class"]


def agent_class(spec: ActorSpec) -> type[Actor]:
    """The agent class that plays an actor, from its bloc and roles (the registry is complete: a test checks)."""
    roles = {r.value for r in spec.roles}
    if spec.id == "russia":
        return Russia
    if spec.id == "ukraine":
        return Ukraine
    if "alliance" in roles:
        return Alliance
    if spec.bloc.value == "nato":
        return Member
    if "mediator" in roles:
        return Mediator
    if "dialogue" in roles:
        return DialogueVoice
    if "supplier" in roles:
        return Supplier
    if "nuclear_host" in roles:
        return NuclearHost
    raise ValueError(f"no agent class plays actor '{spec.id}' (bloc {spec.bloc.value}, roles {sorted(roles)})")
