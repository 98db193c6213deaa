"""Sensitivity and scenario discovery on synthetic tables with known answers, and ``escalation analyse`` on a
sweep's folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sim.cli.app import app
from sim.errors import InputError
from sim.output.analysis import analyse, prim_box, sensitivity

runner = CliRunner()


def _table(n: int = 4000, seed: int = 5) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    return rng.random((n, 5)), ["driver", "secondary", "idle_a", "idle_b", "idle_c"]


def test_a_driving_parameter_ranks_first_and_a_do_nothing_one_last():
    x, names = _table()
    rng = np.random.default_rng(9)
    # the outcome happens far more often as 'driver' grows; 'secondary' adds a little; the others do nothing
    p = 0.02 + 0.8 * x[:, 0] ** 2 + 0.1 * x[:, 1]
    y = rng.random(len(x)) < p
    ranked = sensitivity(x, y, names, seed=1)
    assert ranked[0]["input"] == "driver"
    assert ranked[0]["ci95"][0] > 0.1
    assert ranked[1]["input"] == "secondary"
    assert {r["input"] for r in ranked[2:]} == {"idle_a", "idle_b", "idle_c"}
    for r in ranked[2:]:
        assert r["ci95"][0] < 0.02 and r["S1"] < 0.02
    assert ranked == sensitivity(x, y, names, seed=1)  # the bootstrap is seeded


def test_prim_finds_a_planted_box():
    x, names = _table(6000)
    rng = np.random.default_rng(3)
    inside = (x[:, 1] > 0.6) & (x[:, 3] < 0.4)
    y = np.where(inside, rng.random(len(x)) < 0.9, rng.random(len(x)) < 0.03)
    box = prim_box(x, y, names)
    found = {r["input"]: r for r in box["restrictions"] if r["significant"]}
    assert set(found) == {"secondary", "idle_b"}
    # the densest box still covering half of the cases lies inside the planted one, near its edges
    assert 0.58 <= found["secondary"]["min"] <= 0.75 and found["secondary"]["max"] > 0.95
    assert 0.25 <= found["idle_b"]["max"] <= 0.42 and found["idle_b"]["min"] < 0.05
    assert box["density"] > 0.85 and box["coverage"] >= 0.5
    assert box["base_density"] == pytest.approx(y.mean())
    assert len(box["trajectory"]) > 5


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("analyse")
    path = tmp / "an.yaml"
    path.write_text("""\
name: an_test
title: "Analysis test"
question: "What drives strikes on the deployment?"
horizon_weeks: 26
runs: 400
seed: 2
chunk_size: 200
deployments:
  - {id: eng, contributors: [france, poland], type: non_combat, size: 2000, location: western, start_week: 1}
""")
    res = runner.invoke(app, ["sweep", str(path), "--lever", "deployments.eng.size=500,12000", "--lever",
                              "deployments.eng.location=western,frontline", "--executor", "serial",
                              "--out", str(tmp / "r"), "--json"])
    assert res.exit_code == 0, res.output
    return Path(json.loads(res.stdout)["results"])


def test_analyse_a_sweep(sweep_folder):
    res = runner.invoke(app, ["analyse", str(sweep_folder), "--outcome", "strike_on_nato_forces_in_ukraine",
                              "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    result = data["outcomes"]["strike_on_nato_forces_in_ukraine"]
    ranked = {r["input"]: r for r in result["sensitivity"]}
    assert result["sensitivity"][0]["input"].startswith("lever.")  # the levers set the risk to the deployment
    for lever in ("lever.deployments.eng.size", "lever.deployments.eng.location"):
        assert ranked[lever]["ci95"][0] > 0, ranked[lever]
    assert "russia.resolve" in data["inputs"] and "design.set" not in data["inputs"]
    box = result["prim"]
    assert 0 < box["coverage"] <= 1 and box["density"] > box["base_density"]
    folder = sweep_folder / "analysis"
    for name in ("analysis.json", "analysis.html", "charts/tornado_strike_on_nato_forces_in_ukraine.png",
                 "charts/prim_tradeoff_strike_on_nato_forces_in_ukraine.png"):
        assert (folder / name).is_file(), name
    page = (folder / "analysis.html").read_text()
    assert "The tornado ranks the inputs" in page and "The trade-off chart follows PRIM" in page


def test_refusals(sweep_folder, tmp_path):
    with pytest.raises(InputError, match="unknown outcome 'war'"):
        analyse(sweep_folder, ["war"])
    with pytest.raises(InputError, match="no outcome named can be analysed here.*strategic_nuclear_war: happens in"):
        analyse(sweep_folder, ["strategic_nuclear_war"])
    res = runner.invoke(app, ["analyse", str(tmp_path)])
    assert res.exit_code == 2 and "not a results folder" in res.stderr


def _strict(text: str) -> object:
    def refuse(name: str) -> None:
        raise AssertionError(f"not strict JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def test_an_index_that_cannot_be_estimated_is_none_and_last(monkeypatch):
    x, names = _table(500)
    ranked = sensitivity(x, np.zeros(len(x)), names, seed=1)  # no variance: SALib gives NaN for every input
    assert [r["S1"] for r in ranked] == [None] * 5 and all(r["ci95"] == [None, None] for r in ranked)
    from SALib.analyze import rbd_fast

    monkeypatch.setattr(rbd_fast, "analyze", lambda *a, **k: {"S1": np.array([0.1, np.nan, 0.5, np.inf, 0.0]),
                                                               "S1_conf": np.array([0.01, 0.02, np.nan, 0.1, 0.0])})
    ranked = sensitivity(x, np.ones(len(x)), names, seed=1)
    assert [r["input"] for r in ranked][:3] == ["idle_a", "driver", "idle_c"]
    assert ranked[0] == {"input": "idle_a", "S1": 0.5, "ci95": [None, None]}
    assert {r["input"] for r in ranked[3:]} == {"secondary", "idle_b"} and all(r["S1"] is None for r in ranked[3:])


def test_analyse_json_with_indices_salib_cannot_estimate(sweep_folder, tmp_path, monkeypatch):
    from SALib.analyze import rbd_fast

    real = rbd_fast.analyze

    def with_nan(*args, **kwargs):
        result = real(*args, **kwargs)
        result["S1"][0], result["S1_conf"][1] = np.nan, np.nan
        return result

    monkeypatch.setattr(rbd_fast, "analyze", with_nan)
    folder = tmp_path / "copy"
    shutil.copytree(sweep_folder, folder)
    res = runner.invoke(app, ["analyse", str(folder), "--outcome", "strike_on_nato_forces_in_ukraine", "--json"])
    assert res.exit_code == 0, res.output
    printed = _strict(res.stdout)
    ranked = printed["outcomes"]["strike_on_nato_forces_in_ukraine"]["sensitivity"]  # type: ignore[index]
    assert ranked[-1]["S1"] is None and None in [b for r in ranked for b in r["ci95"]]
    written = _strict((folder / "analysis" / "analysis.json").read_text())
    assert written["outcomes"] == printed["outcomes"]  # type: ignore[index]
    assert not list((folder / "analysis").glob("*.tmp"))
    assert (folder / "analysis" / "charts" / "tornado_strike_on_nato_forces_in_ukraine.png").is_file()
    res = runner.invoke(app, ["analyse", str(folder), "--outcome", "strike_on_nato_forces_in_ukraine"])
    assert res.exit_code == 0 and "% (" in res.stdout and "of 1,600 runs" in res.stdout, res.output


def test_a_file_in_the_way_of_the_analysis_is_one_line_with_exit_2(sweep_folder, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(sweep_folder, folder, ignore=shutil.ignore_patterns("analysis"))
    (folder / "analysis").write_text("in the way")
    res = runner.invoke(app, ["analyse", str(folder), "--outcome", "strike_on_nato_forces_in_ukraine"])
    assert res.exit_code == 2, res.output
    assert str(folder / "analysis") in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 or "error:" in res.stderr.splitlines()[0]
