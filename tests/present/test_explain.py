"""explain(): an item with its source and the bibliography entries it cites, its parameters and the scenarios that
use it; clear error otherwise."""

from __future__ import annotations

import pytest

from sim.errors import InputError
from sim.present.explain import explain


def test_red_line_carries_its_statement_source_and_response(doctrine):
    info = explain("nato_troops_in_ukraine", doctrine)
    assert info["kind"] == "red line"
    assert info["fields"]["declared_response"] == "strike_nato_forces_in_ukraine"
    assert "[seed-000-legitimate-targets] ('legitimate targets')" in info["source"]
    refs = {r["key"]: r for r in info["references"]}
    assert list(refs)[0] == "seed-000-legitimate-targets" and "record-russian-statements" in refs
    assert refs["seed-000-legitimate-targets"]["gives"] and refs["seed-000-legitimate-targets"]["line"].startswith(
        "seed-000-legitimate-targets: ")
    assert info["unresolved"] == []
    assert info["rationale"]


def test_deployment_type_lists_the_scenarios_that_deploy_it(doctrine):
    info = explain("non_combat", doctrine)
    assert "limited_deployment" in info["scenarios"]
    assert "limited_deployment" not in explain("combat", doctrine)["scenarios"]


@pytest.mark.parametrize("item,kind", [("russia", "actor"), ("russia.resolve", "actor attribute"), ("14", "rung"),
                                       ("memory_decay", "model parameter"), ("frontline", "location"),
                                       ("incursion", "scripted move"), ("nuclear_use", "outcome"),
                                       ("response:hybrid_attack", "response option")])
def test_every_kind_of_item_is_found(doctrine, item, kind):
    info = explain(item, doctrine)
    assert info["kind"] == kind
    assert info["source"]
    assert info["references"] and not info["unresolved"]  # every source cites an entry of docs/sources.md


def test_unknown_id_suggests_close_ones(doctrine):
    with pytest.raises(InputError,
                       match="no doctrine item or outcome 'nato_trops'; expected one of: nato_troops_in_ukraine"):
        explain("nato_trops", doctrine)


def test_an_id_of_several_kinds_names_the_others(doctrine):
    info = explain("hybrid_attack", doctrine)
    assert info["kind"] == "rung"
    assert "response:hybrid_attack" in info["also"]
    with pytest.raises(InputError, match="unknown kind 'bogus'"):
        explain("bogus:hybrid_attack", doctrine)


def test_a_key_without_an_entry_is_reported_not_dropped(doctrine):
    from sim.present.explain import cited_entries

    found, unknown = cited_entries("[design] (a choice); [no-such-entry] row 1")
    assert [e.key for e in found] == ["design"] and unknown == ["no-such-entry"]
