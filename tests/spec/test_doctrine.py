"""The doctrine (configs/): every rule says where it comes from and why, severity rises up the ladder, each red
line declares a Russian answer with a probability of enforcement, and a doctrine that breaks its own consistency
rules is refused at load with a message naming the file. (The actors' agent classes are tested in
tests/engine/agents, the scenario library in test_scenario.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.spec.doctrine import Doctrine
from sim.spec.loading import load_doctrine

ROOT = Path(__file__).resolve().parents[2]


def _sourced(item, what: str) -> None:
    source = getattr(item, "source", None)
    rationale = getattr(item, "rationale", None)
    assert source and source.strip(), f"{what} has no source"
    assert rationale and rationale.strip(), f"{what} has no rationale"


def _items(doctrine: Doctrine):
    for r in doctrine.ladder:
        yield r, f"rung {r.rung} ({r.id})"
    for a in doctrine.actors:
        yield a, f"actor {a.id}"
        for name, dist in a.attributes.items():
            yield dist, f"attribute {name} of actor {a.id}"
    for rl in doctrine.red_lines:
        yield rl, f"red line {rl.id}"
        yield rl.credibility, f"credibility of red line {rl.id}"
    for r in doctrine.responses:
        yield r, f"response {r.id}"
    for t in doctrine.deployment_types:
        yield t, f"deployment type {t.id}"
    for f in doctrine.locations:
        yield f, f"location {f.location.value}"
    for m in doctrine.moves:
        yield m, f"move {m.id}"
    for name, p in doctrine.parameters.items():
        yield p, f"parameter {name}"


def test_every_doctrine_item_has_source_and_rationale(doctrine):
    items = list(_items(doctrine))
    assert len(items) > 100
    for item, what in items:
        _sourced(item, what)


def test_severity_rises_strictly_up_the_ladder_and_every_rung_maps_to_kahn(doctrine):
    severities = [r.severity for r in doctrine.ladder]
    assert severities == sorted(severities) and len(set(severities)) == 16, "severity rises with the rung"
    for r in doctrine.ladder:
        assert r.kahn or r.rung == 0, f"rung {r.rung} names no Kahn rung (only rung 0 lies below Kahn's ladder)"


def test_every_red_line_declares_an_answer_its_actor_can_take(doctrine):
    responses = {r.id: r for r in doctrine.responses}
    for rl in doctrine.red_lines:
        assert doctrine.actor(rl.actor).bloc.value == "russia", rl.id
        assert responses[rl.declared_response].side == "russia", f"{rl.id} declares a response Russia cannot take"
        cred = rl.credibility
        lo, hi = (cred.value,) * 2 if cred.dist == "fixed" else (cred.low, cred.high)
        assert 0.0 <= lo <= hi <= 1.0, f"{rl.id}: credibility must be a probability"


def test_each_response_axis_has_a_do_nothing_option(doctrine):
    for axis in ("nato", "ukraine"):
        opts = [r for r in doctrine.responses if r.side == "russia" and r.axis == axis]
        lowest = min(opts, key=lambda r: r.rung)
        assert lowest.cost == 0.0, f"the baseline option of the {axis} axis must cost nothing"




@pytest.mark.parametrize("file, old, new, message", [
    ("model.yaml", "memory_decay: {value: ", "memory_decay: {value: 7", "outside its range"),
    ("red_lines.yaml", "declared_response: massed_strikes", "declared_response: carpet_bombing",
     "unknown declared_response 'carpet_bombing'"),
    ("red_lines.yaml", "moves: [transit_restriction]", "moves: [blockade]", "unknown move 'blockade'"),
    ("ladder.yaml", "  - rung: 15", "  - rung: 14", "the ladder must list rungs 0 to 15 in order"),
], ids=["parameter_out_of_range", "unknown_response", "unknown_move", "ladder_out_of_order"])
def test_an_inconsistent_doctrine_is_refused(tmp_path, file, old, new, message):
    import shutil

    from sim.errors import InputError

    configs = tmp_path / "configs"
    shutil.copytree(ROOT / "configs", configs)
    text = (configs / file).read_text(encoding="utf-8")
    assert old in text
    (configs / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InputError, match=message) as info:
        load_doctrine(configs)
    assert str(info.value).startswith(str(configs))
