"""The story of one run: `escalation trace` replays run K exactly as it ran in its batch, and names the red lines
it crossed with their sources; the event table carries the CAMEO coding of every act."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from sim.batch.chunks import Batch
from sim.batch.executors import execute
from sim.cli.app import app
from sim.engine.model import simulate
from sim.engine.world import Context
from sim.spec.scenario import ScenarioSpec
from sim.spec.vocabulary import OUTCOME_IDS

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

SCENARIO = """\
name: trace_test
title: "Trace test: engineers at the front"
question: "What happens in one run?"
horizon_weeks: 20
runs: 40
seed: 97
chunk_size: 7
deployments:
  - {id: eng, contributors: [france, poland], type: non_combat, size: 4000, location: frontline, start_week: 3}
timeline:
  - {week: 0, actor: france, move: troop_talk}
  - {week: 2, actor: us, move: arms_delivery}
variants:
  - name: none
    deployments: []
"""


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("trace") / "trace_test.yaml"
    path.write_text(SCENARIO)
    return path


@pytest.fixture(scope="module")
def spec(doctrine) -> ScenarioSpec:
    return ScenarioSpec.model_validate(yaml.safe_load(SCENARIO), context={"doctrine": doctrine})


@pytest.fixture(scope="module")
def batch_rows(doctrine, spec):
    """Per-run rows of the whole batch (chunks of 7), by variant and run index."""
    rows: dict[str, dict[str, np.ndarray]] = {}

    def keep(chunk, results):
        for r in results:
            got = rows.setdefault(r.variant, {k: [] for k in r.runs})
            for k, v in r.runs.items():
                got[k].append(v)

    execute(Batch(doctrine, spec, ("baseline", "none")), executor="serial", on_chunk=keep)
    return {v: {k: np.concatenate(parts) for k, parts in cols.items()} for v, cols in rows.items()}


def _trace_json(scenario_file: Path, tmp_path: Path, *args: str) -> dict:
    result = runner.invoke(app, ["trace", str(scenario_file), "--json", "--out", str(tmp_path), *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("variant", ["baseline", "none"])
def test_traced_run_equals_its_row_in_the_batch(scenario_file, tmp_path, batch_rows, variant):
    rows = batch_rows[variant]
    k = int(np.argmax(rows["max_rung"].astype(np.int64) * 1000 - rows["run"]))  # the most escalated run
    assert rows["run"][k] == k
    story = _trace_json(scenario_file, tmp_path, "--run", str(k), "--variant", variant)
    assert story["run"] == k and story["variant"] == variant and story["replayed"]
    assert story["max_rung"] == int(rows["max_rung"][k])
    assert max(story["ukraine_axis"]) == int(rows["max_ukraine_rung"][k])
    for oid in OUTCOME_IDS:
        w = int(rows["first_week." + oid][k])
        assert story["first_weeks"][oid] == (w if w >= 0 else None), oid


def test_traced_path_equals_the_batch_path_over_a_range_of_runs(doctrine, spec, scenario_file, tmp_path):
    k = 17
    levers = {lv.name: lv for lv in spec.levers()}
    res = simulate(Context.build(doctrine, spec, levers["baseline"]), np.arange(10, 30), "baseline")
    story = _trace_json(scenario_file, tmp_path, "--run", str(k))
    assert story["headline"] == res.headline[k - 10].tolist()
    assert story["ukraine_axis"] == res.ukraine[k - 10].tolist()
    assert [w["headline"] for w in story["weeks"]] == story["headline"]


def _lines_on(doctrine, kind: str, item: str) -> set[str]:
    """Ids of the red lines that ``item`` (a deployment type or a move) crosses on its own: named in the condition
    itself or in one branch of an ``any``."""
    def walk(cond):
        yield cond
        if cond.kind == "any":
            for sub in cond.of:
                yield from walk(sub)

    hits = set()
    for rl in doctrine.red_lines:
        for cond in walk(rl.condition):
            if cond.kind != kind:
                continue
            if kind == "move" and item in cond.moves:
                hits.add(rl.id)
            if (kind == "deployment" and item in (cond.types or [item]) and cond.min_size <= 4000
                    and (cond.locations is None or "frontline" in [loc.value for loc in cond.locations])):
                hits.add(rl.id)  # the scenario's 4,000 engineers at the front
    return hits


def test_story_names_red_lines_crossed_with_their_sources(scenario_file, tmp_path, doctrine):
    story = _trace_json(scenario_file, tmp_path, "--run", "5")
    lines = {rl.id: rl for rl in doctrine.red_lines}
    on_engineers = _lines_on(doctrine, "deployment", "non_combat")
    on_talk = _lines_on(doctrine, "move", "troop_talk")
    assert on_engineers and on_talk, "the doctrine declares lines on non-combat troops and on troop talk"
    week3 = {r["id"] for r in story["weeks"][3]["red_lines"] if r["event"] == "crossed"}
    assert on_engineers <= week3, "engineers arrive in week 3: their lines are crossed that week"
    week0 = {r["id"] for r in story["weeks"][0]["red_lines"] if r["event"] == "crossed"}
    assert on_talk <= week0
    assert not any(r["event"] == "crossed" and r["id"] in on_engineers
                   for w in story["weeks"][4:] for r in w["red_lines"]), "a standing line is crossed once"
    for w in story["weeks"]:
        for r in w["red_lines"]:
            assert r["source"] == lines[r["id"]].source
            assert r["statement"] == lines[r["id"]].statement
    for w in story["weeks"]:
        for r in w["red_lines"]:
            if r["event"] == "enforced":
                assert (r["id"], "crossed") in {(x["id"], x["event"]) for x in w["red_lines"]}


def test_story_tells_who_did_what_to_whom(scenario_file, tmp_path):
    story = _trace_json(scenario_file, tmp_path, "--run", "2")
    week0 = story["weeks"][0]["acts"]
    assert {"actor": "france", "target": "russia", "action": "move:troop_talk", "rung": 2} in [
        {k: a[k] for k in ("actor", "target", "action", "rung")} for a in week0]
    assert all(a["rung_name"] == story["rung_names"][a["rung"]] for w in story["weeks"] for a in w["acts"])


def test_trace_prints_the_story_and_draws_the_timeline(scenario_file, tmp_path):
    result = runner.invoke(app, ["trace", str(scenario_file), "--run", "4", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "run 4 of variant 'baseline', seed 97, 20 weeks (replayed)" in out
    assert "red line CROSSED" in out
    assert "france -> russia: move:troop_talk" in out
    assert "not a forecast" in out
    folder = tmp_path / "trace_test" / "traces" / "baseline-run4-seed97"
    assert (folder / "story.json").is_file()
    assert (folder / "timeline__baseline__run4.png").is_file() and (folder / "timeline__baseline__run4.svg").is_file()


def test_seed_option_changes_the_run(scenario_file, tmp_path):
    a = _trace_json(scenario_file, tmp_path, "--run", "3")
    b = _trace_json(scenario_file, tmp_path, "--run", "3", "--seed", "98")
    assert a["seed"] == 97 and b["seed"] == 98
    assert a["sampled"] != b["sampled"]


@pytest.mark.parametrize("args, message", [
    (["--run", "40"], "error: --run: run 40 is not in the batch; expected a run index from 0 to 39; found 40"),
    (["--run", "1", "--variant", "nope"],
     "error: --variant: unknown variant 'nope'; expected one of: baseline, none; found 'nope'"),
])
def test_trace_bad_input_exits_2_with_a_message(scenario_file, tmp_path, args, message):
    result = runner.invoke(app, ["trace", str(scenario_file), "--out", str(tmp_path), *args])
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())


def test_trace_needs_a_run(scenario_file):
    result = runner.invoke(app, ["trace", str(scenario_file)])
    assert result.exit_code == 2
    assert "--run: give the run to replay; expected --run K or --worst (one of them)" in result.output


# ------------------------------------------------------------------------------------------ event export
def test_event_rows_carry_the_cameo_coding_of_their_act(scenario_file, tmp_path):
    """Every act in events.parquet has the CAMEO event code, root code, QuadClass, Goldstein value and direction of
    its kind in configs/events.yaml, and the CAMEO codes of its two actors from configs/actors.yaml."""
    result = runner.invoke(app, ["run", str(scenario_file), "--runs", "12", "--workers", "1", "--no-charts",
                                 "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    folder = Path(json.loads(result.stdout)["results"])
    config = yaml.safe_load((ROOT / "configs" / "events.yaml").read_text())
    goldstein = {c["code"]: float(c["goldstein"]) for c in config["codes"]}
    acts = {a["act"]: a for a in config["acts"]}
    actors = {a["id"]: a["codes"]["cameo"] for a in yaml.safe_load((ROOT / "configs" / "actors.yaml").read_text())[
        "actors"]}
    table = pq.read_table(folder / "events.parquet").to_pylist()
    assert len(table) > 100
    assert "date" not in table[0], "no start_date, no date column"
    for row in table:
        act = acts[row["action"]]
        assert row["event_code"] == act["code"]
        assert row["event_root_code"] == act["code"][:2]
        root = int(act["code"][:2])
        assert row["quad_class"] == (1 if root <= 5 else 2 if root <= 8 else 3 if root <= 13 else 4)
        assert row["goldstein"] == pytest.approx(goldstein[act["code"]])
        side = {"actor": row["actor"], "target": row["target"]}
        assert row["actor1"] == side.get(act.get("source_actor", "actor"), act.get("source_actor"))
        assert row["actor2"] == side.get(act.get("target_actor", "target"), act.get("target_actor"))
        assert (row["actor1_code"], row["actor2_code"]) == (actors[row["actor1"]], actors[row["actor2"]])
    arms = [r for r in table if r["action"] == "move:arms_delivery"]
    assert arms and {(r["actor1_code"], r["actor2_code"], r["event_code"], r["quad_class"]) for r in arms} == {
        ("USA", "UKR", "072", 2)}, "an arms delivery is coded as GDELT codes it: USA to UKR, provide military aid"
    assert len({r["rung"] for r in table}) >= 4 and len({r["event_code"] for r in table}) >= 4
