"""NATO's members and the alliance keep the agent contract (legal acts, a pure function of their streams, R = 1 equal
to their row)."""

from __future__ import annotations

import numpy as np
import pytest
from engine.agents.contract import ROOT, AgentContract

from sim.engine.agents import Alliance, Member
from sim.engine.agents.nato import MembersAnswer
from sim.engine.model import EscalationModel
from sim.engine.world import Context
from sim.spec.loading import load_scenario


class TestMember(AgentContract):
    agent = Member


class TestAlliance(AgentContract):
    agent = Alliance


@pytest.mark.parametrize("stem", ["limited_deployment", "full_military_involvement"])
def test_members_answer_together_as_each_would_over_all_runs(doctrine, stem, monkeypatch):
    """The members' answers, drawn member by member and decided for every member's struck runs at once, are those of
    each member's rules (docs/model.md 4.9) applied over all runs with draws over all runs: the same answers, the
    same Article 4 requests and the same withdrawals, week by week."""
    spec = load_scenario(ROOT / "scenarios" / f"{stem}.yaml", doctrine)
    lever = spec.levers()[0]
    model = EscalationModel(Context.build(doctrine, spec, lever), np.arange(4000))
    w, p = model.world, model.world.params
    checked = {"answers": 0, "article4": 0, "withdrawn": 0}
    apply = MembersAnswer._apply

    def reference() -> tuple[dict[str, list[np.ndarray]], np.ndarray, np.ndarray]:
        answers, request, withdrawn = {}, np.zeros(w.size, dtype=bool), w.withdrawn.copy()
        for m in model.members:
            signals = EscalationModel.MEMBER_SIGNALS[:4]
            hybrid, airspace, forces, territory = (w.prev[key] == m.member for key in signals)

            def u(site: str, m=m) -> np.ndarray:
                return w.streams.uniform(f"{m.actor_id}:{site}", w.week)
            answers[m.actor_id] = [
                hybrid & (u("expel") < p["expel_rate"] * m.hawkishness),
                airspace & (u("shoot") < p["shootdown_rate"] * m.hawkishness),
                forces & ~w.at_war & (u("retaliate") < p["national_retaliation_rate"] * m.hawkishness * m.resolve)]
            request |= hybrid & (u("a4_hybrid") < p["hybrid_article4_factor"] * m.article4_propensity)
            request |= airspace & (u("a4_airspace") < p["airspace_article4_factor"] * m.article4_propensity)
            request |= (forces | territory) & (u("a4_strike") < p["strike_article4_factor"] * m.article4_propensity)
            withdraw = forces & (u("withdraw") < p["withdrawal_rate"] * (1.0 - m.resolve))
            for d in np.flatnonzero(w.dep_lead == m.member):
                withdrawn[withdraw & (w.prev["forces_deployment"] == d), d] = True
        return answers, request, withdrawn

    def checked_apply(self: MembersAnswer) -> None:
        answers, request, withdrawn = reference()
        before = w.withdrawn.copy()
        apply(self)
        for m in model.members:
            for (action, got), want in zip(m._answers, answers[m.actor_id], strict=True):
                assert np.array_equal(got, want), (w.week, m.actor_id, action)
                checked["answers"] += int(want.sum())
        assert np.array_equal(w.article4_request, request), w.week
        assert np.array_equal(w.withdrawn, withdrawn), w.week
        checked["article4"] += int(request.sum())
        checked["withdrawn"] += int((withdrawn & ~before).sum())

    monkeypatch.setattr(MembersAnswer, "_apply", checked_apply)
    model.run_model()
    assert min(checked.values()) > 50, checked  # the check saw answers, requests and withdrawals
