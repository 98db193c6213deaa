"""Lever paths derived from the lever models, their values parsed and refused exactly, and a sweep expanded into
one validated variant per grid point."""

from __future__ import annotations

import pytest
from support import make_scenario

from sim.errors import InputError
from sim.spec.levers import (
    LeverKind,
    expand,
    lever_paths,
    parse_lever,
    parse_range,
    parse_values,
    resolve_grid,
    sweep_points,
    sweep_scenario,
)

DEPLOYMENT = {"id": "eng", "contributors": ["france", "poland"], "type": "non_combat", "size": 2000,
              "location": "western", "start_week": 2}


@pytest.fixture()
def spec(doctrine):
    return make_scenario(doctrine, deployments=[DEPLOYMENT], overrides={"size_exponent": 0.5})


def test_paths_follow_the_models(spec, doctrine):
    paths = lever_paths(spec, doctrine)
    for p in ("deployments.eng.size", "deployments.eng.location", "deployments.eng.start_week",
              "deployments.eng.type", "deployments.eng.contributors", "deployments.eng.end_week",
              "policies.deep_strike.from_week", "policies.deep_strike.authorised", "mediators"):
        assert p in paths
    assert "deployments.eng.id" not in paths
    assert not any(p.startswith("timeline") for p in paths)
    assert {p for p in paths if p.startswith("overrides.")} == {f"overrides.{k}" for k in doctrine.parameters}
    assert paths["deployments.eng.size"].kind == "int"
    assert paths["deployments.eng.location"].choices == ("outside", "western", "central", "frontline")
    assert paths["policies.deep_strike.authorised"].kind == "bool"
    assert paths["deployments.eng.end_week"].optional


def test_values_lists_and_ranges():
    i, f = LeverKind("int"), LeverKind("float")
    assert parse_values("500,2000, 8000", i, "x") == [500, 2000, 8000]
    assert parse_values("500..2000:4", i, "x") == [500, 1000, 1500, 2000]
    assert parse_values("log:500..20000:3", i, "x") == [500, 3162, 20000]
    assert parse_values("0..1:5", f, "x") == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert parse_range("1..3:10", i) == [1, 2, 3]  # rounded, repeats dropped
    assert parse_values([1, 2, 2], i, "x") == [1, 2]
    assert parse_values("true,false", LeverKind("bool"), "x") == [True, False]
    assert parse_values("france+uk,us", LeverKind("list"), "x") == [["france", "uk"], ["us"]]
    assert parse_values("none,10", LeverKind("int", optional=True), "x") == [None, 10]


@pytest.mark.parametrize(("text", "kind", "message"), [
    ("1.5", LeverKind("int"), "x: lever 'x' takes integers; expected a whole number; found '1.5'"),
    ("abc", LeverKind("float"), "x: lever 'x' takes numbers; expected float values; found 'abc'"),
    ("1..5:x", LeverKind("int"), "x: lever 'x' has a malformed range; expected lo..hi:n or log:lo..hi:n; "
                                 "found '1..5:x'"),
    ("log:0..5:3", LeverKind("float"), "x: a logarithmic range of lever 'x' needs positive bounds; found 'log:0..5:3'"),
    ("1..5:0", LeverKind("int"), "x: lever 'x' needs at least one point in its range; found '1..5:0'"),
    ("a..b:2", LeverKind("text", ("a", "b")), "x: lever 'x' has a malformed range; expected lo..hi:n or "
                                              "log:lo..hi:n; found 'a..b:2'"),
    ("1..2:2", LeverKind("text", ("a", "b")), "x: lever 'x' takes text values, not a range; expected a comma list "
                                              "of: a, b; found '1..2:2'"),
    ("east", LeverKind("text", ("west", "front")), "x: lever 'x' has no value 'east'; expected one of: west, front; "
                                                   "found 'east'"),
    ("1,,2", LeverKind("int"), "x: lever 'x' has an empty value in its list; expected values separated by commas; "
                               "found '1,,2'"),
    ("maybe", LeverKind("bool"), "x: lever 'x' takes true or false; expected true, false; found 'maybe'"),
])
def test_bad_values_are_refused_exactly(text, kind, message):
    with pytest.raises(InputError) as info:
        parse_values(text, kind, "x")
    assert str(info.value) == message


def test_lever_option_parsing():
    assert parse_lever("a.b=1,2") == ("a.b", "1,2")
    with pytest.raises(InputError, match="a lever is PATH=VALUES"):
        parse_lever("a.b")


def test_unknown_path_lists_the_valid_ones(spec, doctrine):
    with pytest.raises(InputError) as info:
        resolve_grid(spec, doctrine, {"deployments.eng.sise": "1,2"})
    text = str(info.value)
    assert text.startswith("--lever: unknown lever 'deployments.eng.sise'; expected one of: deployments.eng.")
    assert "deployments.eng.size" in text and "policies.deep_strike.from_week" in text
    assert "overrides.<parameter of configs/model.yaml>" in text
    with pytest.raises(InputError, match="overrides.<parameter> with a parameter of configs/model.yaml: .*size_exp"):
        resolve_grid(spec, doctrine, {"overrides.nope": "1"})


def test_values_are_validated_like_any_scenario(spec, doctrine):
    for levers, message in [
        ({"deployments.eng.size": "0,10"},
         "--lever deployments.eng.size: lever 'deployments.eng.size' = 0 is not a valid scenario: Input should be "
         "greater than or equal to 1 (at deployments.0.size)"),
        ({"deployments.eng.location": "outside"},
         "--lever deployments.eng.location: lever 'deployments.eng.location' = 'outside' is not a valid scenario: a "
         "'non_combat' deployment cannot stand at 'outside'; expected one of: western, central, frontline "
         "(at deployments.0)"),
        ({"deployments.eng.start_week": "10,30"},
         "--lever deployments.eng.start_week: lever 'deployments.eng.start_week' = 30 is not a valid scenario: "
         "variant 'point_1': deployment 'eng' starts in week 30, beyond the horizon of 26 weeks (0 to 25)"),
        ({"overrides.size_exponent": "99"},
         "--lever overrides.size_exponent: lever 'overrides.size_exponent' = 99.0 is not a valid scenario: override "
         f"'size_exponent' = 99.0 is outside its range [{doctrine.parameters['size_exponent'].low}, "
         f"{doctrine.parameters['size_exponent'].high}] (at overrides)"),
        ({"deployments.eng.contributors": "france+atlantis"},
         "--lever deployments.eng.contributors: lever 'deployments.eng.contributors' = 'france+atlantis' is not a "
         "valid scenario: unknown contributor 'atlantis'; expected NATO members: "),
    ]:
        with pytest.raises(InputError) as info:
            expand(spec, doctrine, resolve_grid(spec, doctrine, levers))
        assert str(info.value).startswith(message)


def test_a_combination_of_valid_values_names_its_point(doctrine):
    spec = make_scenario(doctrine, deployments=[dict(DEPLOYMENT, location="frontline")])
    grid = resolve_grid(spec, doctrine, {"deployments.eng.type": "non_combat,combat",
                                         "deployments.eng.location": "frontline,western"})
    with pytest.raises(InputError) as info:
        expand(spec, doctrine, grid)
    assert str(info.value).startswith("--lever: the sweep point type=combat, location=western is not a valid "
                                      "scenario: a 'combat' deployment cannot stand at 'western'")


def test_a_grid_larger_than_a_scenario_holds_is_refused(spec, doctrine):
    grid = {"deployments.eng.size": list(range(100, 1200, 100)), "deployments.eng.start_week": list(range(1, 11))}
    with pytest.raises(InputError) as info:
        expand(spec, doctrine, grid)
    assert str(info.value).startswith("--lever: the sweep has 110 points (11 x 10); a scenario holds at most 100")


def test_grid_points_in_order(spec, doctrine):
    grid = resolve_grid(spec, doctrine, {"deployments.eng.size": "500,8000", "overrides.size_exponent": "0.3,0.6",
                                         "policies.deep_strike.authorised": "true"})
    swept = expand(spec, doctrine, grid)
    points = sweep_points(swept, doctrine)
    assert list(points) == ["point_1", "point_2", "point_3", "point_4"]
    assert [tuple(p.values()) for p in points.values()] == [
        (500, 0.3, True), (500, 0.6, True), (8000, 0.3, True), (8000, 0.6, True)]
    levers = {lv.name: lv for lv in swept.levers()}
    assert levers["point_4"].deployments[0].size == 8000
    assert levers["point_4"].overrides == {"size_exponent": 0.6}
    assert levers["point_1"].policies.deep_strike.authorised
    assert levers["point_1"].timeline == spec.timeline
    assert sweep_points(spec, doctrine) == {}


def test_sweep_block_in_the_file(doctrine):
    levers = {"deployments.eng.size": [500, 4000], "deployments.eng.start_week": "0..4:2"}
    spec = make_scenario(doctrine, deployments=[DEPLOYMENT], sweep={"levers": levers})
    swept = sweep_scenario(spec, doctrine, None)
    assert list(sweep_points(swept, doctrine).values()) == [
        {"deployments.eng.size": 500, "deployments.eng.start_week": 0},
        {"deployments.eng.size": 500, "deployments.eng.start_week": 4},
        {"deployments.eng.size": 4000, "deployments.eng.start_week": 0},
        {"deployments.eng.size": 4000, "deployments.eng.start_week": 4}]
    with pytest.raises(InputError, match="sweep.levers deployments.eng.size: lever 'deployments.eng.size' takes "
                                         "integers"):
        sweep_scenario(make_scenario(doctrine, deployments=[DEPLOYMENT],
                                     sweep={"levers": {"deployments.eng.size": [1.5]}}), doctrine)
    with pytest.raises(InputError, match="no levers to sweep"):
        sweep_scenario(make_scenario(doctrine, deployments=[DEPLOYMENT]), doctrine)
    with pytest.raises(ValueError, match="lever 'a' has no values"):
        make_scenario(doctrine, sweep={"levers": {"a": []}})


@pytest.mark.parametrize("levers", [{"deployments.eng.size": "1..2:99999999999"},
                                    {"deployments.eng.size": [500], "overrides.size_exponent": "log:0.1..1:101"}])
def test_a_huge_range_is_refused_before_it_is_built(spec, doctrine, levers):
    with pytest.raises(InputError, match="points in its range; a sweep has at most 100"):
        resolve_grid(spec, doctrine, levers)
    with pytest.raises(InputError, match=r"sweep.levers deployments.eng.size: .*at most 100|sweep.levers "
                                         r"overrides.size_exponent: .*at most 100"):
        sweep_scenario(make_scenario(doctrine, deployments=[DEPLOYMENT], sweep={"levers": levers}), doctrine)


def test_the_grid_size_is_checked_against_the_variant_limit(spec, doctrine):
    with pytest.raises(InputError, match=r"the sweep has 110 points \(11 x 10\)"):
        resolve_grid(spec, doctrine, {"deployments.eng.size": "100..20000:11",
                                      "overrides.size_exponent": "0.1..1:10"})


def test_variants_that_merely_look_like_points_are_no_sweep(doctrine):
    variant = {"name": "point_1", "deployments": [dict(DEPLOYMENT, size=500)]}
    looks = make_scenario(doctrine, deployments=[DEPLOYMENT], variants=[variant],
                          sweep={"levers": {"bogus.path": [1]}})
    assert sweep_points(looks, doctrine) == {}
    other = make_scenario(doctrine, deployments=[DEPLOYMENT], variants=[variant, dict(variant, name="point_2")],
                          sweep={"levers": {"deployments.eng.size": [500, 900, 1000]}})
    assert sweep_points(other, doctrine) == {}


SWEEP_FILE = """\
name: s
title: s
question: s?
horizon_weeks: 12
deployments:
  - {id: eng, contributors: [france, poland], type: non_combat, size: 2000, location: western, start_week: 1}
variants:
  - {name: point_1, mediators: []}
sweep:
  levers:
"""


@pytest.mark.parametrize(("levers", "message"), [
    ("    bogus.path: [1]\n",
     r"s\.yaml:11: sweep\.levers\.bogus\.path: unknown lever 'bogus\.path'; expected one of: .*deployments\.eng\.size"),
    ("    deployments.eng.size: [1.5]\n",
     r"s\.yaml:11: sweep\.levers\.deployments\.eng\.size: lever 'deployments\.eng\.size' takes integers"),
    ("    deployments.eng.size: 1..2:99999999999\n", r"sweep\.levers\.deployments\.eng\.size: .*at most 100"),
])
def test_a_sweep_block_is_checked_when_the_file_is_loaded(tmp_path, doctrine, levers, message):
    from sim.spec.loading import load_scenario

    path = tmp_path / "s.yaml"
    path.write_text(SWEEP_FILE + levers)
    with pytest.raises(InputError, match=message):
        load_scenario(path, doctrine)
    path.write_text(SWEEP_FILE + "    deployments.eng.size: [500, 900]\n")
    assert load_scenario(path, doctrine).sweep is not None
