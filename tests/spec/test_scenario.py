"""The scenario library: every shipped scenario validates against the doctrine and points editors at the schema,
and the library holds the scenarios the documentation promises."""

from __future__ import annotations

import pytest
from support import ROOT

from sim.spec.loading import load_scenario

SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
SCHEMA_LINE = "# yaml-language-server: $schema=../schema/scenario.schema.json"
REQUIRED = ("continued_proxy_support", "full_military_involvement", "negotiated_pause", "long_range_strikes",
            "reassurance_force", "air_defence_western_ukraine", "limited_deployment", "backtest_2022_2024")


def test_the_library_holds_every_promised_scenario():
    assert set(REQUIRED) <= {p.stem for p in SCENARIOS}


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_shipped_scenario_validates(doctrine, path):
    assert path.read_text(encoding="utf-8").splitlines()[0] == SCHEMA_LINE
    spec = load_scenario(path, doctrine)
    assert spec.name == path.stem
    assert spec.title.strip() and spec.question.strip() and spec.description.strip() and spec.sources
    assert spec.variants, "every scenario compares its levers with alternatives"
    levers = spec.levers()
    assert [lv.name for lv in levers] == [spec.baseline_name] + [v.name for v in spec.variants]
    assert len({lv.model_dump_json(exclude={"name", "description"}) for lv in levers}) == len(levers), \
        "each variant changes at least one lever"
    if spec.name == "backtest_2022_2024":
        assert spec.horizon_weeks >= 148
    else:
        assert spec.horizon_weeks == 52 and spec.runs == 20000
        assert 1000 <= spec.chunk_size <= spec.runs  # a performance setting: results do not depend on it
    if spec.name == "continued_proxy_support":
        assert spec.deployments == [], "the no-deployment baseline deploys nothing"
