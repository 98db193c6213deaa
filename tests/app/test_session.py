"""The app's computations without a browser: bounded edits, the option against the baseline under common random
numbers, the story, and saving an option as a variant through the file's validation."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from support import ROOT

pytest.importorskip("ruamel.yaml", reason="the app's optional dependencies are not installed (pip install -e '.[app]')")

from sim.app import session, variants  # noqa: E402
from sim.errors import InputError  # noqa: E402
from sim.output.comparison import paired_difference  # noqa: E402
from sim.spec.loading import load_scenario  # noqa: E402
from sim.spec.vocabulary import OUTCOME_IDS  # noqa: E402

SHIPPED = ROOT / "scenarios" / "limited_deployment.yaml"
RUNS = 300


@pytest.fixture
def opened(tmp_path):
    path = tmp_path / "limited.yaml"
    shutil.copy(SHIPPED, path)
    return session.open_scenario(path, ROOT / "configs")


def test_edits_stay_inside_the_schema(opened):
    ch = session.choices(opened.doctrine, opened.scenario)
    option = session.option_from(opened.scenario)
    # training outside Ukraine cannot stand at the front: the location follows the type
    changed = session.set_deployment(option, ch, 0, type="training_outside")
    assert changed["deployments"][0]["location"] in ch.locations["training_outside"]
    assert session.set_deployment(option, ch, 0, size=10**9)["deployments"][0]["size"] == ch.max_size
    assert session.set_deployment(option, ch, 0, size=-5)["deployments"][0]["size"] == ch.min_size
    assert session.set_deployment(option, ch, 0, start_week=999)["deployments"][0]["start_week"] == ch.horizon - 1
    # a deployment keeps at least one contributor, and only NATO members
    kept = session.set_deployment(option, ch, 0, contributors=[])["deployments"][0]["contributors"]
    assert kept == option["deployments"][0]["contributors"]
    only_members = session.set_deployment(option, ch, 0, contributors=["china", "uk"])
    assert only_members["deployments"][0]["contributors"] == ["uk"]
    with pytest.raises(ValueError):
        session.set_deployment(option, ch, 0, id="renamed")
    strike = session.set_deep_strike(option, ch, authorised=True, from_week=500, suppliers=["us", "iran"])
    assert strike["policies"]["deep_strike"] == {"authorised": True, "from_week": ch.horizon - 1, "suppliers": ["us"]}
    added = session.add_deployment(session.add_deployment(option, ch), ch)
    assert [d["id"] for d in added["deployments"]] == ["eu_engineers", "deployment_1", "deployment_2"]
    assert [d["id"] for d in session.remove_deployment(added, 1)["deployments"]] == ["eu_engineers", "deployment_2"]
    # every edit above is a valid variant of the file
    for o in (changed, strike, added, session.set_mediators(option, ch, ["turkey"])):
        session.with_option(opened, o)


def test_an_invalid_option_is_refused_with_the_schema_message(opened):
    option = session.option_from(opened.scenario)
    bad = dict(option, deployments=[dict(option["deployments"][0], location="frontline", type="training_outside")])
    with pytest.raises(InputError, match="cannot stand at 'frontline'"):
        session.with_option(opened, bad)


def test_option_and_baseline_share_their_random_numbers(opened):
    option = session.option_from(opened.scenario)
    same = session.answer(opened, option, RUNS)
    assert same.runs == RUNS
    # the unchanged option is the baseline, run for run
    assert np.array_equal(same.option.happened, same.baseline.happened)
    assert np.array_equal(same.option.headline, same.baseline.headline)
    ch = session.choices(opened.doctrine, opened.scenario)
    front = session.answer(opened, session.set_deployment(option, ch, 0, location="frontline"), RUNS)
    rows = {r["outcome"]: r for r in session.rows(front)}
    assert list(rows) == list(OUTCOME_IDS)
    i = OUTCOME_IDS.index("strike_on_nato_forces_in_ukraine")
    x, b = front.option.happened[:, i], front.baseline.happened[:, i]
    expected = paired_difference(int((x & b).sum()), int((x & ~b).sum()), int((~x & b).sum()), int((~x & ~b).sum()))
    r = rows["strike_on_nato_forces_in_ukraine"]
    assert (r["difference"], *r["difference_ci"]) == pytest.approx(expected)
    assert r["option"] == pytest.approx(x.mean())
    assert r["option"] > r["baseline"]  # units at the front are struck more often


def test_cumulative_curves_end_at_the_probabilities(opened):
    result = session.answer(opened, session.option_from(opened.scenario), RUNS)
    curves = session.cumulative(result.option.aggregates)
    for oid, curve in curves.items():
        assert np.all(np.diff(curve) >= 0)
        assert curve[-1] == pytest.approx(result.option.happened[:, OUTCOME_IDS.index(oid)].mean())


def test_the_story_is_of_the_most_escalated_run(opened):
    result = session.answer(opened, session.option_from(opened.scenario), RUNS)
    story = session.most_escalated_story(opened, result)
    assert story["variant"] == session.OPTION
    assert story["max_rung"] == int(result.option.headline.max())
    assert story["headline"] == result.option.headline[story["run"]].tolist()


def test_a_saved_variant_validates_and_reproduces_the_app(opened, tmp_path):
    ch = session.choices(opened.doctrine, opened.scenario)
    option = session.set_deployment(session.option_from(opened.scenario), ch, 0, location="frontline", size=5000)
    before = opened.path.read_text(encoding="utf-8")
    spec = variants.save_variant(opened.path, opened.doctrine, "front_app", "from the app",
                                 session.differing_levers(opened, option))
    after = opened.path.read_text(encoding="utf-8")
    # the file keeps its comments and every line it had; the variant is appended
    assert after.startswith(before.rstrip("\n"))
    assert "# yaml-language-server" in after and "front_app" in after
    assert spec.variants[-1].name == "front_app"
    proc = subprocess.run([sys.executable, "-m", "sim", "validate", str(opened.path)], capture_output=True, text=True,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    # the saved variant runs what the app ran
    saved = load_scenario(opened.path, opened.doctrine)
    arm = session.run_arm(opened.doctrine, saved, "front_app", RUNS)
    app_arm = session.answer(opened, option, RUNS).option
    assert np.array_equal(arm.happened, app_arm.happened)


def test_a_name_clash_or_bad_name_leaves_the_file_as_it_was(opened):
    option = session.option_from(opened.scenario)
    before = opened.path.read_bytes()
    with pytest.raises(InputError, match="variant names must be unique"):
        variants.save_variant(opened.path, opened.doctrine, "frontline_engineers", "", session.differing_levers(
            opened, option))
    with pytest.raises(InputError, match="identifier"):
        variants.save_variant(opened.path, opened.doctrine, "Bad Name", "", option)
    assert opened.path.read_bytes() == before
    assert not [p for p in opened.path.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_file_that_does_not_validate_gives_the_validate_message(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SHIPPED.read_text(encoding="utf-8").replace("location: western", "location: moon", 1),
                   encoding="utf-8")
    with pytest.raises(InputError) as err:
        session.open_scenario(bad, ROOT / "configs")
    proc = subprocess.run([sys.executable, "-m", "sim", "validate", str(bad)], capture_output=True, text=True,
                          cwd=ROOT)
    assert proc.returncode == 2
    assert " ".join(proc.stderr.split()) == " ".join(f"invalid: {err.value}".split())


SMALL = """\
name: app_small
title: "App test: engineers in western Ukraine"
question: "Does the full batch of the app write a results folder?"
horizon_weeks: 12
runs: 40
seed: 5
chunk_size: 20
deployments:
  - {id: eng, contributors: [france], type: non_combat, size: 2000, location: western, start_week: 1}
variants:
  - name: none
    deployments: []
"""


def test_the_full_batch_writes_a_results_folder_and_its_report(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    small = session.open_scenario(path, ROOT / "configs")
    seen: list[float] = []
    report = session.full_batch(small, out=tmp_path / "results", on_progress=seen.append, executor="serial")
    assert report.name == "report.html" and report.is_file()
    assert seen == [0.5, 1.0]
    manifest = json.loads((report.parent / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "complete" and manifest["runs"] == 40
