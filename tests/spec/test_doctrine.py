"""Contract tests over the doctrine (configs/) and the scenario library: every rule says where it comes from and
why, every actor is played by an agent, every reference resolves, every shipped scenario validates."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.engine.agents import agent_class
from sim.spec.doctrine import Doctrine
from sim.spec.loading import load_doctrine, load_scenario
from sim.spec.vocabulary import Location

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
SCHEMA_LINE = "# yaml-language-server: $schema=../schema/scenario.schema.json"


@pytest.fixture(scope="module")
def doctrine() -> Doctrine:
    return load_doctrine()


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


def test_ladder_has_all_scales(doctrine):
    assert [r.rung for r in doctrine.ladder] == list(range(16))
    severities = [r.severity for r in doctrine.ladder]
    assert severities == sorted(severities), "severity rises with the rung"
    for r in doctrine.ladder:
        assert r.cameo and r.mid_hostility and r.rivera_category, r.id
        assert r.kahn or r.rung == 0, f"rung {r.rung} names no Kahn rung (only rung 0 lies below Kahn's ladder)"


def test_every_actor_has_an_agent(doctrine):
    for a in doctrine.actors:
        assert agent_class(a) is not None, a.id


def test_every_red_line_resolves(doctrine):
    responses = {r.id: r for r in doctrine.responses}
    actors = set(doctrine.ids("actors"))
    for rl in doctrine.red_lines:
        assert rl.actor in actors, rl.id
        assert rl.declared_response in responses, f"{rl.id}: {rl.declared_response}"
        assert responses[rl.declared_response].side == "russia", f"{rl.id} declares a response Russia cannot take"
        lo, hi = (rl.credibility.value,) * 2 if rl.credibility.dist == "fixed" else (rl.credibility.low, rl.credibility.high)
        assert 0.0 <= lo <= hi <= 1.0, f"{rl.id}: credibility must be a probability"


def test_parameters_within_their_ranges(doctrine):
    for name, p in doctrine.parameters.items():
        assert p.low <= p.value <= p.high, name


def test_every_location_has_a_factor(doctrine):
    assert sorted(f.location.value for f in doctrine.locations) == sorted(loc.value for loc in Location)


def test_each_response_axis_has_a_do_nothing_option(doctrine):
    for axis in ("nato", "ukraine"):
        opts = [r for r in doctrine.responses if r.side == "russia" and r.axis == axis]
        lowest = min(opts, key=lambda r: r.rung)
        assert lowest.cost == 0.0, f"the baseline option of the {axis} axis must cost nothing"


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_validates(doctrine, path):
    spec = load_scenario(path, doctrine)
    assert path.read_text().splitlines()[0] == SCHEMA_LINE
    assert spec.name == path.stem
    assert spec.title and spec.question and spec.description and spec.sources
    assert spec.variants, "every scenario compares its levers with alternatives"
    if spec.name != "backtest_2022_2024":
        assert spec.horizon_weeks == 52 and spec.runs == 20000
        assert 1000 <= spec.chunk_size <= spec.runs  # a performance setting: results do not depend on it


def test_scenario_library_is_complete():
    names = {p.stem for p in SCENARIOS}
    for required in ("continued_proxy_support", "full_military_involvement", "negotiated_pause", "long_range_strikes",
                     "reassurance_force", "air_defence_western_ukraine", "limited_deployment", "backtest_2022_2024"):
        assert required in names


def test_no_deployment_scenario_has_none(doctrine):
    spec = load_scenario(ROOT / "scenarios" / "continued_proxy_support.yaml", doctrine)
    assert spec.deployments == []
