"""Loading scenario files: exact error messages naming file, line, key, what was expected and what was found."""

from __future__ import annotations

import pytest
from support import ROOT, error_of, write

from sim.errors import InputError
from sim.spec.loading import load_doctrine, load_scenario

BASE = """\
name: t
title: T
question: Q?
runs: 100
deployments:
  - id: d1
    contributors: [france]
    type: non_combat
    size: 2000
    location: western
"""


def test_base_scenario_loads(tmp_path, doctrine):
    spec = load_scenario(write(tmp_path, BASE), doctrine)
    assert spec.deployments[0].contributors == ["france"]
    assert spec.runs == 100


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    type: non_combat", "    tipe: non_combat",
         ":8: deployments[0].tipe: unknown key 'tipe' (did you mean 'type'?); expected one of: id, contributors, "
         "type, size, location, start_week, end_week, condition"),
        ("[france]", "[narnia]",
         ":7: deployments[0].contributors: unknown contributor 'narnia'; expected NATO members: us, uk, france, "
         "germany, poland, estonia, latvia, lithuania, romania, italy, spain, turkey"),
        ("type: non_combat", "type: paratroopers",
         ":8: deployments[0].type: unknown deployment type 'paratroopers'; expected one of: training_outside, "
         "training_inside, non_combat, air_defence, logistics_protection, reassurance, combat"),
        ("size: 2000", "size: 0",
         ":9: deployments[0].size: invalid value; expected greater than or equal to 1; found 0"),
        ("runs: 100", "runs: many",
         ":4: runs: invalid value; expected a whole number; found 'many'"),
        ("location: western", "location: moscow",
         ":10: deployments[0].location: invalid choice; expected one of: outside, western, central, frontline; "
         "found 'moscow'"),
        ("location: western", "location: outside",
         ":6: deployments[0]: a 'non_combat' deployment cannot stand at 'outside'; expected one of: western, "
         "central, frontline"),
        ("runs: 100", "runs: 100\nhorizon_weeks: 10\ntimeline:\n  - {week: 12, actor: us, move: arms_delivery}",
         ":7: timeline[0].week: move 'arms_delivery' in week 12 is beyond the horizon of 10 weeks (0 to 9)"),
        ("runs: 100", "runs: 100\nuncertainties:\n  russia.bravado: {dist: uniform, low: 0, high: 1}",
         ":6: uncertainties.russia.bravado: unknown attribute 'bravado' of 'russia'; expected one of: capability, "
         "resolve, risk_tolerance, war_fatigue"),
        ("runs: 100", "runs: 100\noverrides:\n  memory_decay: 5",
         ":6: overrides.memory_decay: override 'memory_decay' = 5.0 is outside its range [0.3, 0.99]"),
    ],
)
def test_exact_messages(tmp_path, doctrine, old, new, expected):
    path = write(tmp_path, BASE.replace(old, new))
    assert old in BASE
    assert error_of(path, doctrine) == str(path) + expected


def test_missing_file(tmp_path, doctrine):
    path = tmp_path / "nope.yaml"
    assert error_of(path, doctrine) == f"{path}: file not found. Check the path"


def test_doctrine_error_names_its_file(tmp_path):
    import shutil

    configs = tmp_path / "configs"
    shutil.copytree(ROOT / "configs", configs)
    text = (configs / "deployments.yaml").read_text(encoding="utf-8")
    (configs / "deployments.yaml").write_text(text.replace("exposure: 0.35", "exposure: 3.5", 1), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_doctrine(configs)
    assert str(info.value).startswith(f"{configs / 'deployments.yaml'}:")
    assert "deployment_types[2].exposure: invalid value; expected less than or equal to 1; found 3.5" in str(info.value)


def test_a_chunk_size_left_out_is_chosen_from_the_runs_and_chosen_again_when_they_change(tmp_path, doctrine):
    from sim.spec.loading import with_overrides
    from sim.spec.scenario import auto_chunk_size

    spec = load_scenario(write(tmp_path, BASE), doctrine)
    assert spec.chunk_size == 100 and spec.chunk_size_chosen  # never more than the runs
    assert [with_overrides(spec, doctrine, runs=n).chunk_size for n in (20_000, 10**8)] == [10_000, 10_000]
    assert [auto_chunk_size(n, tables=False) for n in (20_000, 400_001, 1_000_000, 10**8)] == \
        [10_000, 11_000, 25_000, 25_000]
    given = with_overrides(spec, doctrine, runs=1_000_000, chunk_size=5_000)
    assert given.chunk_size == 5_000 and not given.chunk_size_chosen
    assert with_overrides(given, doctrine, runs=2_000_000).chunk_size == 5_000  # a size given stays given
    written = load_scenario(write(tmp_path, BASE + "chunk_size: 30\n"), doctrine)
    assert written.chunk_size == 30 and not written.chunk_size_chosen
    # aggregates only: at least AUTO_CHUNKS chunks between the bounds, in whole thousands
    for runs in (400_000, 400_001, 555_555, 999_999):
        size = auto_chunk_size(runs, tables=False)
        assert 10_000 <= size <= 25_000 and size % 1000 == 0 and -(-runs // size) <= 40 <= -(-runs // (size - 1000))


def test_a_negative_chunk_size_is_refused(tmp_path, doctrine):
    err = error_of(write(tmp_path, BASE + "chunk_size: -5\n"), doctrine)
    assert "chunk_size" in err and "-5" in err


def test_an_override_that_breaks_a_check_of_the_whole_scenario_names_the_options_given(doctrine):
    """A check over the whole scenario (a move beyond the horizon) has no field of its own: the error names the
    settings that were given, not a traceback."""
    from sim.spec.loading import default_scenarios_dir, with_overrides

    spec = load_scenario(default_scenarios_dir() / "limited_deployment.yaml", doctrine)
    with pytest.raises(InputError) as err:
        with_overrides(spec, doctrine, horizon_weeks=12)
    assert err.value.key == "--horizon-weeks" and "beyond the horizon" in str(err.value)
