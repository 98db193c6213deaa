"""NATO's members and the alliance keep the agent contract (legal acts, a pure function of their streams, R = 1 equal
to their row)."""

from __future__ import annotations

from engine.agents.contract import AgentContract

from sim.engine.agents import Alliance, Member


class TestMember(AgentContract):
    agent = Member


class TestAlliance(AgentContract):
    agent = Alliance
