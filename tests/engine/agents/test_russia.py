"""Russia keeps the agent contract (legal acts, a pure function of its streams, R = 1 equal to its row)."""

from __future__ import annotations

from engine.agents.contract import AgentContract

from sim.engine.agents import Russia


class TestRussia(AgentContract):
    agent = Russia
