"""The third countries' standing effects keep the agent contract: they post no act, their draws are their own and
R = 1 equals their row."""

from __future__ import annotations

from engine.agents.contract import AgentContract

from sim.engine.agents import DialogueVoice, NuclearHost, Supplier


class TestDialogueVoice(AgentContract):
    agent = DialogueVoice
    acts = False


class TestSupplier(AgentContract):
    agent = Supplier
    acts = False


class TestNuclearHost(AgentContract):
    agent = NuclearHost
    acts = False
