"""``escalation sweep``: the grid's JSON, its files and charts, the sweep: block, and exact refusals (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sim.cli.app import app
from sim.spec.vocabulary import OUTCOME_IDS

runner = CliRunner()

SCENARIO = """\
name: sweep_cli
title: "Sweep CLI test"
question: "Does size matter?"
horizon_weeks: 12
runs: 30
seed: 4
chunk_size: 15
deployments:
  - {id: eng, contributors: [france, poland], type: non_combat, size: 2000, location: western, start_week: 1}
"""


def _file(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "sweep_cli.yaml"
    path.write_text(SCENARIO + extra)
    return path


def test_help():
    result = runner.invoke(app, ["sweep", "--help"])
    assert result.exit_code == 0
    assert "--lever" in result.output


def test_json_grid_and_files(tmp_path):
    result = runner.invoke(app, ["sweep", str(_file(tmp_path)), "--lever", "deployments.eng.size=1000..4000:2",
                                 "--lever", "deployments.eng.location=western,frontline", "--executor", "serial",
                                 "--out", str(tmp_path / "r"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["levers"] == ["deployments.eng.size", "deployments.eng.location"]
    assert [p["levers"] for p in data["points"]] == [
        {"deployments.eng.size": 1000, "deployments.eng.location": "western"},
        {"deployments.eng.size": 1000, "deployments.eng.location": "frontline"},
        {"deployments.eng.size": 4000, "deployments.eng.location": "western"},
        {"deployments.eng.size": 4000, "deployments.eng.location": "frontline"}]
    o = data["points"][0]["outcomes"]["strike_on_nato_forces_in_ukraine"]
    assert set(o) >= {"probability", "ci95"} and o["ci95"][0] <= o["probability"] <= o["ci95"][1]
    assert set(data["points"][0]["outcomes"]) == set(OUTCOME_IDS)
    folder = Path(data["results"])
    page = (folder / "sweep.html").read_text()
    assert "The response curves show" in page and "The heat maps show" in page
    for name in ("sweep.json", "sweep.csv", "sweep.html", "runs.parquet", "report.html", "charts/sweep_heatmap.png",
                 "charts/sweep_response_eng_size.png", "charts/sweep_response_eng_location.png"):
        assert (folder / name).is_file(), name


def test_sweep_block_runs_without_levers(tmp_path):
    path = _file(tmp_path, "sweep:\n  levers:\n    policies.deep_strike.authorised: [false, true]\n")
    result = runner.invoke(app, ["sweep", str(path), "--executor", "serial", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert "2 points, 30 runs each" in result.output


def test_refusals_are_one_line_with_exit_2(tmp_path):
    path = _file(tmp_path)
    cases = [
        (["--lever", "deployments.eng.sise=1,2"], "--lever: unknown lever 'deployments.eng.sise'; expected one of: "
                                                  "deployments.eng.contributors, deployments.eng.type"),
        (["--lever", "deployments.eng.size=abc"], "--lever deployments.eng.size: lever 'deployments.eng.size' takes "
                                                  "numbers; expected int values; found 'abc'"),
        (["--lever", "deployments.eng.size"], "--lever: a lever is PATH=VALUES"),
        ([], "no levers to sweep"),
        (["--lever", "deployments.eng.size=1", "--lever", "deployments.eng.size=2"],
         "--lever: lever 'deployments.eng.size' is given twice"),
    ]
    for args, message in cases:
        result = runner.invoke(app, ["sweep", str(path), *args, "--out", str(tmp_path / "r")])
        assert result.exit_code == 2, (args, result.output)
        text = " ".join(result.stderr.split())
        assert message in text, (args, text)
        assert "Traceback" not in result.output
    assert not (tmp_path / "r").exists()
    bad = _file(tmp_path, "sweep:\n  levers: {}\n")
    result = runner.invoke(app, ["sweep", str(bad)])
    assert result.exit_code == 2 and "sweep.levers" in result.stderr


def test_points_table_shows_rare_outcomes_as_run_counts():
    from sim.cli.sweep import SHOWN, points_table

    outcome = {"count": 1, "probability": 1 / 2000, "ci95": [0.0000883, 0.0028], "difference": -0.0005,
               "difference_ci95": [-0.0029, 0.0014]}
    table = {"title": "t", "runs": 2000, "reference": "point_1", "levers": ["deployments.eng.size"],
             "points": [{"variant": f"point_{i}", "levers": {"deployments.eng.size": i},
                         "outcomes": dict.fromkeys(SHOWN, outcome)} for i in (1, 2)]}
    rows = [list(col.cells) for col in points_table(table).columns]
    assert rows[1] == ["1 of 2,000 (0.0088-0.28%)", "1 of 2,000 (0.0088-0.28%) -0.05 (-0.29 to +0.14)"]


def test_a_file_in_the_way_after_the_batch_is_one_line_with_exit_2(tmp_path, monkeypatch):
    import sim.output.sweeping as sweeping

    real = sweeping.write_sweep

    def in_the_way(folder):
        (folder / "sweep.json").mkdir()
        return real(folder)

    monkeypatch.setattr(sweeping, "write_sweep", in_the_way)
    result = runner.invoke(app, ["sweep", str(_file(tmp_path)), "--lever", "deployments.eng.size=1000,4000",
                                 "--executor", "serial", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2, result.output
    assert "sweep.json" in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("error: ")


def test_validate_and_run_check_the_sweep_block(tmp_path):
    bogus = _file(tmp_path, "variants:\n  - {name: point_1, mediators: []}\nsweep: {levers: {bogus.path: [1]}}\n")
    for command in (["validate", str(bogus)], ["run", str(bogus), "--executor", "serial", "--out",
                                                 str(tmp_path / "r")]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, result.output
        assert "sweep.levers.bogus.path: unknown lever 'bogus.path'; expected one of: " in result.stderr
        assert "deployments.eng.size" in result.stderr and "Traceback" not in result.stderr
    # a valid sweep: block with a variant that merely looks like a point runs as any scenario
    looks = _file(tmp_path, "variants:\n  - {name: point_1, mediators: []}\n"
                            "sweep: {levers: {deployments.eng.size: [500, 900]}}\n")
    result = runner.invoke(app, ["run", str(looks), "--executor", "serial", "--out", str(tmp_path / "r"), "--json"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((Path(json.loads(result.stdout)["results"]) / "manifest.json").read_text())
    assert "sweep" not in manifest
