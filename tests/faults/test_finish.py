"""A stop in the last instant of a batch, while the manifest that marks it complete is being written: the folder
must not be tidied as complete (its parts removed) while the manifest on disk still says it is running. It is
marked interrupted, keeps what a resume needs, and the resume finishes it exactly."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from support import ROOT
from typer.testing import CliRunner

from sim.cli.app import app
from sim.output import folder as results


def test_a_stop_while_the_complete_manifest_is_written_leaves_a_resumable_folder(tmp_path: Path,
                                                                                 monkeypatch) -> None:
    data = yaml.safe_load((ROOT / "scenarios" / "limited_deployment.yaml").read_text())
    data.update(horizon_weeks=26, runs=300, chunk_size=100, variants=[])
    scenario = tmp_path / "small.yaml"
    scenario.write_text(yaml.safe_dump(data, sort_keys=False))
    real = results._write_json

    def cut_short(path: Path, content: object) -> None:
        if path.name == "manifest.json" and isinstance(content, dict) and content.get("status") == "complete":
            raise KeyboardInterrupt  # the stop lands before the complete manifest is on disk
        real(path, content)

    monkeypatch.setattr(results, "_write_json", cut_short)
    stopped = CliRunner().invoke(app, ["run", str(scenario), "--workers", "1", "--out", str(tmp_path / "r"),
                                       "--no-charts"])
    monkeypatch.undo()
    assert stopped.exit_code == 130, stopped.output
    assert "Resume with" in stopped.stderr and "the results are complete" not in stopped.stderr, stopped.stderr
    (manifest_path,) = (tmp_path / "r").glob("*/*/manifest.json")
    folder = manifest_path.parent
    assert json.loads(manifest_path.read_text())["status"] == "interrupted"
    resumed = CliRunner().invoke(app, ["run", "--resume", str(folder), "--workers", "1", "--no-charts", "--json"])
    assert resumed.exit_code == 0, resumed.output
    whole = CliRunner().invoke(app, ["run", str(scenario), "--workers", "1", "--out", str(tmp_path / "w"),
                                     "--no-charts", "--json"])
    reference = Path(json.loads(whole.stdout)["results"])
    for name in ("summary.json", "aggregates.json"):
        assert json.loads((folder / name).read_text()) == json.loads((reference / name).read_text())
    assert json.loads(manifest_path.read_text())["status"] == "complete"
