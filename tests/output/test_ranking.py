"""Runs worth reading: the ranking by peak rung then week, its filters and refusals, the report's story as the most
escalated run of the batch, and ``trace --worst`` replaying that run."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from sim.cli.app import app
from sim.errors import InputError
from sim.output.ranking import escalation_order, most_escalated_run, rank_runs
from sim.output.story import worst_run
from sim.spec.loading import load_scenario

runner = CliRunner()

SCENARIO = """\
name: rank_test
title: "Ranking test"
question: "Which runs climb?"
horizon_weeks: 20
runs: 80
seed: 21
chunk_size: 40
deployments:
  - {id: eng, contributors: [france, poland], type: non_combat, size: 8000, location: frontline, start_week: 1}
variants:
  - name: none
    deployments: []
"""


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("rank")
    path = tmp / "rank_test.yaml"
    path.write_text(SCENARIO)
    res = runner.invoke(app, ["run", str(path), "--executor", "serial", "--out", str(tmp / "r"), "--json"])
    assert res.exit_code == 0, res.output
    return path, Path(json.loads(res.stdout)["results"])


def test_order_is_peak_then_week_then_run():
    peak, week, run = np.array([3, 7, 7, 7, 1]), np.array([0, 9, 4, 4, 0]), np.array([0, 1, 2, 3, 4])
    assert escalation_order(peak, week, run).tolist() == [2, 3, 1, 0, 4]


def test_ranking_matches_the_table(finished):
    _, folder = finished
    table = pq.read_table(folder / "runs.parquet").to_pydict()
    ranked = rank_runs(folder, worst=5, variant="baseline")
    rows = [(-p, w, r) for p, w, r, v in zip(table["max_rung"], table["week_of_max_rung"], table["run"],
                                             table["variant"], strict=True) if v == "baseline"]
    assert [r["run"] for r in ranked] == [r for _, _, r in sorted(rows)[:5]]
    top = ranked[0]
    assert top["max_rung"] == max(table["max_rung"][i] for i, v in enumerate(table["variant"]) if v == "baseline")
    assert "russia.resolve" in top["parameters"] and len(top["notable"]) <= 4
    both = rank_runs(folder, worst=1000)
    assert {r["variant"] for r in both} == {"baseline", "none"} and len(both) == 160


def test_where_keeps_runs_with_the_outcome(finished):
    _, folder = finished
    hit = rank_runs(folder, where="strike_on_nato_forces_in_ukraine", worst=1000, variant="baseline")
    table = pq.read_table(folder / "runs.parquet").to_pydict()
    expected = sum(1 for v, w in zip(table["variant"], table["first_week.strike_on_nato_forces_in_ukraine"],
                                     strict=True) if v == "baseline" and w is not None)
    assert len(hit) == expected > 0
    assert all("strike_on_nato_forces_in_ukraine" in r["outcomes"] for r in hit)


def test_refusals(finished, tmp_path):
    _, folder = finished
    with pytest.raises(InputError, match="unknown outcome 'war'; expected one of: nuclear_signalling"):
        rank_runs(folder, where="war")
    with pytest.raises(InputError, match="unknown variant 'x'; expected one of: baseline, none"):
        rank_runs(folder, variant="x")
    with pytest.raises(InputError, match="no per-run table"):
        rank_runs(tmp_path)
    res = runner.invoke(app, ["runs", str(folder), "--where", "war"])
    assert res.exit_code == 2 and "--where: unknown outcome 'war'" in res.stderr


def test_the_story_is_the_most_escalated_run(finished):
    _, folder = finished
    story = json.loads((folder / "story.json").read_text())
    assert story["run"] == rank_runs(folder, worst=1, variant="baseline")[0]["run"]
    for variant in ("baseline", "none"):  # read from the ranking's own columns, as rank_runs ranks them
        assert most_escalated_run(folder, variant) == rank_runs(folder, worst=1, variant=variant)[0]["run"]
    assert most_escalated_run(folder, "no_such_variant") is None


def test_trace_worst_replays_the_most_escalated_run(finished, doctrine):
    path, folder = finished
    expected = rank_runs(folder, worst=1, variant="none")[0]
    assert worst_run(doctrine, load_scenario(path, doctrine), "none") == expected["run"]
    res = runner.invoke(app, ["trace", str(path), "--worst", "--variant", "none", "--json",
                              "--out", str(folder.parent)])
    assert res.exit_code == 0, res.output
    story = json.loads(res.stdout)
    assert story["run"] == expected["run"] and story["max_rung"] == expected["max_rung"]
    for args in (["--worst", "--run", "3"], []):
        res = runner.invoke(app, ["trace", str(path), *args])
        assert res.exit_code == 2 and "--run: give the run to replay; expected --run K or --worst" in res.stderr


def test_runs_command_lists_them(finished):
    _, folder = finished
    res = runner.invoke(app, ["runs", str(folder), "--worst", "3", "--json"])
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert [r["run"] for r in data["runs"]] == [r["run"] for r in rank_runs(folder, worst=3)]
    res = runner.invoke(app, ["runs", str(folder), "--worst", "2"])
    assert res.exit_code == 0 and "most escalated runs" in res.output and "replay: escalation trace" in res.output


def test_the_app_picks_the_run_the_ranking_picks():
    from sim.app.session import Arm, most_escalated_run
    from sim.output.story import most_escalated

    rng = np.random.default_rng(3)
    for _ in range(20):
        headline = np.maximum.accumulate(rng.integers(0, 6, size=(200, 12)), axis=1) * rng.integers(0, 2, (200, 1))
        arm = Arm("x", np.zeros((200, 3), dtype=bool), None, headline, 0.0)  # type: ignore[arg-type]
        assert most_escalated_run(arm) == most_escalated({i: headline[i].tolist() for i in range(200)})
    empty = Arm("x", np.zeros((0, 3), dtype=bool), None, np.zeros((0, 12)), 0.0)  # type: ignore[arg-type]
    assert most_escalated_run(empty) == 0


def test_the_replay_hint_replays_the_batch_run(finished):
    path, folder = finished
    res = runner.invoke(app, ["runs", str(folder), "--worst", "1", "--variant", "none"])
    assert res.exit_code == 0, res.output
    line = next(x for x in res.stdout.splitlines() if x.startswith("replay: "))
    args = shlex.split(line.removeprefix("replay: ").partition(" (")[0])
    assert args[:2] == ["escalation", "trace"] and args[2] == str(path.resolve())
    assert args[args.index("--seed") + 1] == "21" and args[args.index("--runs") + 1] == "80"
    replay = runner.invoke(app, [*args[1:], "--json", "--out", str(folder.parent)])
    assert replay.exit_code == 0, replay.output
    assert json.loads(replay.stdout)["max_rung"] == rank_runs(folder, worst=1, variant="none")[0]["max_rung"]


def test_the_replay_hint_of_a_sweep_point_says_how_to_reproduce_it(tmp_path):
    path = tmp_path / "rank_sweep.yaml"
    path.write_text(SCENARIO.replace("runs: 80", "runs: 20").split("variants:")[0])
    res = runner.invoke(app, ["sweep", str(path), "--lever", "deployments.eng.size=500,8000", "--executor", "serial",
                              "--out", str(tmp_path / "r"), "--json"])
    assert res.exit_code == 0, res.output
    folder = Path(json.loads(res.stdout)["results"])
    res = runner.invoke(app, ["runs", str(folder), "--worst", "1"])
    assert res.exit_code == 0, res.output
    hint = " ".join(res.stdout.split()).partition("replay: ")[2]
    assert "is a sweep point, not a variant of" in hint and "deployments.eng.size=" in hint
    assert "--seed 21 --runs 20" in hint


@pytest.mark.parametrize(("command", "resume"), [(["run", "x.yaml"], "escalation run --resume"),
                                                 (["sweep", "x.yaml"], "escalation sweep --resume")])
def test_an_interrupted_folder_is_named_with_its_resume_command(finished, tmp_path, command, resume):
    _, done = finished
    folder = tmp_path / "stopped"
    shutil.copytree(done, folder)
    for name in ("summary.json", "aggregates.json", "comparison.json"):  # written once the batch is complete
        (folder / name).unlink(missing_ok=True)
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps(dict(manifest, status="interrupted", command=command)))
    for cmd in ("runs", "analyse", "plot"):
        res = runner.invoke(app, [cmd, str(folder)])
        assert res.exit_code == 2, (cmd, res.output)
        message = " ".join(res.stderr.split())
        assert "this batch is not complete (status 'interrupted')" in message, (cmd, message)
        assert f"Finish it with: {resume} {folder}" in message, (cmd, message)
