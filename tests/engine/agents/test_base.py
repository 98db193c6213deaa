"""The agent registry: every agent class in sim.engine.agents plays an actor of the shipped doctrine and keeps the
contract (tests/engine/agents/contract.py), each actor gets the class of its family, an actor of no family is
refused; attributes are sampled per run unless the scenario fixes them; and the contract's checks can fail."""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import inspect
import pkgutil
from pathlib import Path

import numpy as np
import pytest
from engine.agents.contract import AgentContract, legality_errors, recording
from support import make_scenario, run_model

import sim.engine.agents as agents_package
from sim.engine.agents import (
    Alliance,
    DialogueVoice,
    Mediator,
    Member,
    NuclearHost,
    Russia,
    Supplier,
    Ukraine,
    agent_class,
)
from sim.engine.agents.base import Actor
from sim.engine.model import EscalationModel
from sim.engine.world import Context
from sim.spec.doctrine import ActorSpec

#: The family each actor of the shipped doctrine is played by (configs/actors.yaml: bloc and roles).
EXPECTED = {"russia": Russia, "belarus": NuclearHost, "ukraine": Ukraine, "nato": Alliance, "china": Mediator,
            "india": DialogueVoice, "iran": Supplier, "north_korea": Supplier,
            **{m: Member for m in ("us", "uk", "france", "germany", "poland", "estonia", "latvia", "lithuania",
                                   "romania", "italy", "spain", "turkey")}}


def agent_classes() -> set[type[Actor]]:
    """Every subclass of Actor defined in the modules of sim.engine.agents."""
    found = set()
    for info in pkgutil.iter_modules(agents_package.__path__):
        module = importlib.import_module(f"{agents_package.__name__}.{info.name}")
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Actor) and obj is not Actor and obj.__module__ == module.__name__:
                found.add(obj)
    return found


def contracts() -> dict[type[Actor], type[AgentContract]]:
    """The contract test classes of this folder, by the agent class they check."""
    out = {}
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        spec = importlib.util.spec_from_file_location(f"_contracts_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, AgentContract) and obj is not AgentContract:
                out[obj.agent] = obj
    return out


def test_every_agent_class_plays_an_actor_of_the_shipped_doctrine(doctrine):
    played = {agent_class(a) for a in doctrine.actors}
    assert agent_classes() == played, "a class no actor plays is never run, so no contract can check it"
    assert len(played) == 8


def test_every_agent_class_keeps_the_contract():
    assert set(contracts()) == agent_classes()


def test_each_actor_is_played_by_its_family(doctrine):
    assert {a.id: agent_class(a) for a in doctrine.actors} == EXPECTED


def test_mediator_roles_mediate_whatever_their_bloc(doctrine):
    """Turkey, a NATO member with the mediator role, is a Member that also mediates; China mediates as a third
    country; no other actor does."""
    spec = make_scenario(doctrine)
    model = EscalationModel(Context.build(doctrine, spec, spec.levers()[0]), np.arange(8))
    mediating = {a.actor_id for a in list(model.agents) if getattr(a, "mediation", None) is not None}
    with_role = {a.id for a in doctrine.actors if "mediator" in {r.value for r in a.roles}}
    assert mediating == with_role == {"turkey", "china", "us"}
    assert isinstance(next(a for a in list(model.agents) if a.actor_id == "turkey"), Member)


def test_an_actor_of_no_family_is_refused(doctrine):
    spec = ActorSpec.model_validate({"id": "atlantis", "name": "Atlantis", "bloc": "third", "roles": [],
                                     "attributes": {}, "source": "test", "rationale": "no role at all"})
    with pytest.raises(ValueError, match="no agent class plays actor 'atlantis'"):
        agent_class(spec)


def test_a_scenario_uncertainty_fixes_the_attribute_in_every_run(doctrine):
    spec = make_scenario(doctrine, uncertainties={"russia.resolve": {"dist": "fixed", "value": 0.42}})
    res = run_model(doctrine, spec, np.arange(50))
    assert np.allclose(res.runs["param.russia.resolve"], 0.42)
    assert np.ptp(res.runs["param.russia.risk_tolerance"]) > 0, "the other attributes still vary by run"
    free = run_model(doctrine, make_scenario(doctrine), np.arange(50))
    assert np.ptp(free.runs["param.russia.resolve"]) > 0


def test_the_contract_catches_illegal_acts():
    """The legality check is not toothless: each way an act can break the contract is reported."""
    rec = recording("limited_deployment", "frontline_engineers")
    act = next(a for a in rec.acts if a.action == "strike_nato_forces_in_ukraine")
    assert legality_errors(act) == []
    broken = {
        "rung off the ladder": dataclasses.replace(act, rung=16),
        "stands at rung 9": dataclasses.replace(act, rung=8),
        "neither configs/responses.yaml": dataclasses.replace(act, action="annexation"),
        "another actor's name": dataclasses.replace(act, actor="belarus"),
        "only nato may post it": dataclasses.replace(act, action="expel_diplomats", rung=3,
                                                     targets=("russia",) * len(act.runs)),
        "are not nato_forces_in_ukraine": dataclasses.replace(act, targets=("estonia",) * len(act.runs)),
        "requires nato_forces_in_ukraine": dataclasses.replace(
            act, requirements={**act.requirements, "nato_forces_in_ukraine": np.zeros(len(act.runs), bool)}),
    }
    for expected, bad in broken.items():
        errors = legality_errors(bad)
        assert any(expected in e for e in errors), (expected, errors)
