"""``escalation plot``: every chart and the report redrawn from a results folder without running the model, the
story told from the event table when no replay was saved, and exit 2 with one message for a folder it cannot draw."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli.app import app

runner = CliRunner()


def _no_run(*args, **kwargs):
    raise AssertionError("plot must not run the model")


def test_plot_redraws_every_chart_without_running_the_model(small_results, monkeypatch, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(small_results, copy)
    before = sorted(p.name for p in (copy / "charts").iterdir())
    shutil.rmtree(copy / "charts")
    (copy / "report.html").unlink()
    monkeypatch.setattr("sim.engine.model.EscalationModel.run_model", _no_run)
    monkeypatch.setattr("sim.output.story.replay", _no_run)
    result = runner.invoke(app, ["plot", str(copy)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (copy / "charts").iterdir()) == before
    assert (copy / "report.html").is_file()
    assert f"{len(before)} chart files redrawn" in result.stdout


def test_plot_tells_the_story_from_the_event_table_when_no_replay_was_saved(small_results, monkeypatch, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(small_results, copy)
    (copy / "story.json").unlink()
    # the replayed story is the batch's most escalated run; rebuilt from the event table, the story needs the run's
    # path, so it tells the most escalated of the runs whose paths the aggregates keep
    from sim.output.story import most_escalated
    kept = json.loads((copy / "aggregates.json").read_text())["baseline"]["sample_paths"]
    paths = {int(k): v for k, v in kept.items()}
    replayed = {"run": most_escalated(paths)}
    monkeypatch.setattr("sim.engine.model.EscalationModel.run_model", _no_run)
    result = runner.invoke(app, ["plot", str(copy), "--json"])
    assert result.exit_code == 0, result.output
    files = json.loads(result.stdout)["charts"]
    assert any(f"timeline__baseline__run{replayed['run']}.png" in f for f in files)
    assert "rebuilt from the event table" in (copy / "report.html").read_text()


def _damaged(small_results: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(small_results, copy)
    (copy / "summary.json").write_text("[]")
    return copy


@pytest.mark.parametrize("make, message", [
    (lambda res, p: p, "error: RESULTS_DIR: not a results folder: manifest.json, summary.json, aggregates.json "
                       "missing; expected a folder written by 'escalation run', 'escalation compare' or "
                       "'escalation sweep'; found '{p}'"),
    (lambda res, p: p / "nope", "error: RESULTS_DIR: not a results folder: no such folder; expected a folder written "
                                "by 'escalation run', 'escalation compare' or 'escalation sweep'; found '{p}'"),
    (_damaged, "summary.json is damaged"),
], ids=["empty_folder", "no_folder", "damaged_summary"])
def test_plot_refuses_a_folder_it_cannot_draw(small_results, tmp_path, make, message):
    target = make(small_results, tmp_path)
    result = runner.invoke(app, ["plot", str(target)])
    assert result.exit_code == 2
    assert message.format(p=target) in " ".join(result.stderr.split())
    assert "Traceback" not in result.output


def test_plot_draws_svg_on_request_and_png_by_default(small_results, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(small_results, copy)
    shutil.rmtree(copy / "charts")
    result = runner.invoke(app, ["plot", str(copy), "--svg", "--chart-workers", "2", "--json"])
    assert result.exit_code == 0, result.output
    files = [Path(f) for f in json.loads(result.stdout)["charts"]]
    pngs = sorted(f.stem for f in files if f.suffix == ".png")
    assert pngs == sorted(f.stem for f in files if f.suffix == ".svg") == sorted(
        p.stem for p in (small_results / "charts").glob("*.png"))
    assert not list((small_results / "charts").glob("*.svg"))
    import xml.etree.ElementTree as ET

    for f in files:
        assert f.is_file()
        if f.suffix == ".svg":
            ET.parse(f)
