"""A sweep run into a results folder: each point is the same as its variant run alone (common random numbers), the
per-run table carries one column per lever, the table of points holds paired differences, and an interrupted sweep
resumes to the same results."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from sim.batch.executors import Execution
from sim.errors import InputError
from sim.output.plans import plan_run
from sim.output.running import run_to_folder
from sim.output.sweeping import plan_sweep, plan_sweep_resume, sweep_table, write_sweep
from sim.spec.vocabulary import OUTCOME_IDS

SCENARIO = """\
name: sweep_test
title: "Sweep test"
question: "Does size matter?"
horizon_weeks: 16
runs: 60
seed: 11
chunk_size: 20
deployments:
  - {id: eng, contributors: [france, poland], type: non_combat, size: 2000, location: western, start_week: 2}
timeline:
  - {week: 0, actor: us, move: arms_delivery}
variants:
  - name: big_front
    deployments:
      - {id: eng, contributors: [france, poland], type: non_combat, size: 12000, location: frontline, start_week: 2}
"""

SERIAL = Execution("serial", 1)


def _scenario(tmp_path: Path) -> Path:
    path = tmp_path / "sweep_test.yaml"
    path.write_text(SCENARIO)
    return path


def _rows(folder: Path, variant: str) -> dict[str, list]:
    table = pq.read_table(folder / "runs.parquet").to_pydict()
    keep = [i for i, v in enumerate(table["variant"]) if v == variant]
    return {k: [vals[i] for i in keep] for k, vals in table.items() if k != "variant" and not k.startswith("lever.")}


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("sweep")
    path = _scenario(tmp)
    plan = plan_sweep(path, ["deployments.eng.size=2000,12000", "deployments.eng.location=western,frontline"],
                      out=tmp / "results")
    folder = run_to_folder(plan, SERIAL).folder
    write_sweep(folder)
    return path, folder


def test_a_point_equals_its_variant_run_alone(swept, tmp_path):
    path, folder = swept
    alone = run_to_folder(plan_run(path, out=tmp_path / "alone"), SERIAL).folder
    # point_4 is size 12000 at the front: the scenario's variant 'big_front'; point_1 is its baseline
    assert _rows(folder, "point_4") == _rows(alone, "big_front")
    assert _rows(folder, "point_1") == _rows(alone, "baseline")
    assert _rows(folder, "point_2") != _rows(folder, "point_1")


def test_runs_table_carries_the_levers(swept):
    _, folder = swept
    table = pq.read_table(folder / "runs.parquet")
    assert table.schema.field("lever.deployments.eng.size").type == "int64"
    assert table.schema.field("lever.deployments.eng.location").type == "string"
    data = table.to_pydict()
    seen = {(v, s, loc) for v, s, loc in zip(data["variant"], data["lever.deployments.eng.size"],
                                             data["lever.deployments.eng.location"], strict=True)}
    assert seen == {("point_1", 2000, "western"), ("point_2", 2000, "frontline"), ("point_3", 12000, "western"),
                    ("point_4", 12000, "frontline")}
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["sweep"]["levers"] == ["deployments.eng.size", "deployments.eng.location"]


def test_table_of_points_with_paired_differences(swept):
    _, folder = swept
    table = json.loads((folder / "sweep.json").read_text())
    assert table["reference"] == "point_1" and table["method"] == "paired"
    assert [p["levers"] for p in table["points"]][1] == {"deployments.eng.size": 2000,
                                                          "deployments.eng.location": "frontline"}
    runs = pq.read_table(folder / "runs.parquet").to_pydict()
    for point in table["points"]:
        sel = np.array(runs["variant"]) == point["variant"]
        for oid in OUTCOME_IDS:
            happened = np.array([w is not None for w in runs["first_week." + oid]])[sel]
            o = point["outcomes"][oid]
            assert o["count"] == happened.sum()
            assert o["ci95"][0] <= o["probability"] <= o["ci95"][1]
            assert o["difference_ci95"][0] <= o["difference"] <= o["difference_ci95"][1]
    first = table["points"][0]["outcomes"]
    assert all(o["difference"] == 0.0 for o in first.values())
    csv_lines = (folder / "sweep.csv").read_text().splitlines()
    assert csv_lines[0].startswith("variant,lever.deployments.eng.size,lever.deployments.eng.location,outcome,")
    assert len(csv_lines) == 1 + 4 * len(OUTCOME_IDS)


def test_an_interrupted_sweep_resumes_to_the_same_results(swept, tmp_path, monkeypatch):
    path, folder = swept
    plan = plan_sweep(path, ["deployments.eng.size=2000,12000", "deployments.eng.location=western,frontline"],
                      out=tmp_path)
    import sim.output.running as running

    calls = {"n": 0}
    real = running.ResultsWriter.add_chunk

    def stop_after_one(self, results, aggregates=None):
        real(self, results, aggregates)
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(running.ResultsWriter, "add_chunk", stop_after_one)
    with pytest.raises(running.BatchStopped, match="escalation sweep --resume"):
        run_to_folder(plan, SERIAL)
    monkeypatch.undo()
    stopped = next(p for p in (tmp_path / "sweep_test").iterdir())
    resumed = run_to_folder(plan_sweep_resume(stopped), SERIAL).folder
    assert resumed == stopped
    assert pq.read_table(resumed / "runs.parquet").equals(pq.read_table(folder / "runs.parquet"))
    assert sweep_table(resumed)["points"] == sweep_table(folder)["points"]


def test_resume_refuses_a_folder_that_is_no_sweep(tmp_path):
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({
        "status": "interrupted", "scenario_hash": "a", "doctrine_hash": "b", "seed": 1, "runs": 2, "chunk_size": 2,
        "variants": ["baseline"], "record_runs": True, "record_events": False}))
    with pytest.raises(InputError, match="does not hold a sweep"):
        plan_sweep_resume(folder)
