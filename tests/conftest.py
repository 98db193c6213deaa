"""Shared fixtures: the shipped doctrine, and one small finished results folder for the report and plot tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli.app import app
from sim.spec.doctrine import Doctrine
from sim.spec.loading import load_doctrine

ROOT = Path(__file__).resolve().parent.parent

REPORT_SCENARIO = """\
name: report_test
title: "Report test: trainers & engineers <inside>"
question: "How often does Russia strike the trainers, and what follows?"
horizon_weeks: 14
runs: 40
seed: 8
chunk_size: 20
sources: ["[seed-001-retaliate-decisively] (Limited Deployment)"]
deployments:
  - {id: eng, contributors: [france, poland], type: non_combat, size: 4000, location: frontline, start_week: 2}
timeline:
  - {week: 0, actor: france, move: troop_talk}
uncertainties:
  russia.resolve: {dist: uniform, low: 0.6, high: 0.9, source: "report test source", rationale: "A test band."}
variants:
  - name: none
    deployments: []
"""


@pytest.fixture(scope="session")
def doctrine() -> Doctrine:
    return load_doctrine(ROOT / "configs")


@pytest.fixture(scope="session")
def small_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The results folder of ``escalation run`` on :data:`REPORT_SCENARIO` (two variants, charts and report).
    Tests copy it before changing anything in it."""
    folder = tmp_path_factory.mktemp("report")
    path = folder / "report_test.yaml"
    path.write_text(REPORT_SCENARIO)
    result = CliRunner().invoke(app, ["run", str(path), "--workers", "1", "--out", str(folder / "out"), "--json"])
    assert result.exit_code == 0, result.output
    return Path(json.loads(result.stdout)["results"])
