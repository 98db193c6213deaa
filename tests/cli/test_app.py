"""The command line through Typer's runner: help, defaults, the results folder, JSON output, exact error messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from sim.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = str(ROOT / "scenarios" / "limited_deployment.yaml")
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.mark.parametrize("command", ["run", "validate", "schema", "list"])
def test_help(command):
    res = invoke(command, "--help")
    assert res.exit_code == 0
    assert "Usage" in res.output


def test_run_help_lists_its_options():
    out = invoke("run", "--help").output
    for opt in ("--runs", "--seed", "--workers", "--out", "--json", "--no-runs", "--executor", "--address"):
        assert opt in out


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    res = invoke("run", SCENARIO, "--runs", "300", "--seed", "7", "--workers", "1", "--out", str(out))
    assert res.exit_code == 0, res.output
    folders = list((out / "limited_deployment").iterdir())
    assert len(folders) == 1
    return res, folders[0]


def test_run_writes_a_complete_results_folder(finished):
    res, folder = finished
    for name in ("manifest.json", "summary.json", "aggregates.json", "runs.parquet", "events.parquet"):
        assert (folder / name).is_file(), name
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["seed"] == 7 and manifest["runs"] == 300
    assert manifest["versions"]["mesa"].startswith("3.")
    assert manifest["resolved_scenario"]["name"] == "limited_deployment"
    summary = json.loads((folder / "summary.json").read_text())
    base = summary["variants"]["baseline"]
    for oid in ("nuclear_signalling", "strike_on_nato_territory", "article5_invoked", "ceasefire"):
        o = base["outcomes"][oid]
        assert o["ci95"][0] <= o["probability"] <= o["ci95"][1]
    assert len(base["share_at_or_above_by_week"]) == 52
    assert base["rung_reached"][0]["probability"] == 1.0
    runs = pq.read_table(folder / "runs.parquet")
    assert runs.num_rows == 300 * len(summary["variants"])
    assert {"run", "variant", "max_rung", "first_week.nuclear_use", "param.russia.resolve"} <= set(runs.column_names)
    events = pq.read_table(folder / "events.parquet")
    assert {"run", "week", "actor", "target", "action", "rung", "cameo", "goldstein"} <= set(events.column_names)
    assert (folder / "charts" / "escalation_fan.png").stat().st_size > 10_000
    assert (folder / "charts" / "outcome_probabilities.svg").is_file()
    assert f"results: {folder}" in res.output
    assert "nuclear_signalling" in res.output


def test_same_seed_gives_the_same_summary(finished, tmp_path):
    _, folder = finished
    res = invoke("run", SCENARIO, "--runs", "300", "--seed", "7", "--workers", "2", "--out", str(tmp_path), "--json", "--no-charts")
    assert res.exit_code == 0
    payload = json.loads(res.stdout)
    before = json.loads((folder / "summary.json").read_text())
    assert payload["variants"] == before["variants"]
    assert Path(payload["results"]).parent.parent == tmp_path


def test_a_new_folder_for_every_batch(tmp_path):
    for _ in range(2):
        assert invoke("run", SCENARIO, "--runs", "50", "--workers", "1", "--out", str(tmp_path), "--no-charts",
                      "--variants", "baseline").exit_code == 0
    assert len(list((tmp_path / "limited_deployment").iterdir())) == 2


def test_missing_file_is_exit_2_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    res = invoke("run", str(tmp_path / "nope.yaml"), "--out", str(out))
    assert res.exit_code == 2
    assert f"error: {tmp_path / 'nope.yaml'}: file not found. Check the path" in " ".join(res.output.split())
    assert "Traceback" not in res.output
    assert not out.exists()


def test_invalid_scenario_is_exit_2_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntitle: t\nquestion: q\nrunz: 5\n")
    out = tmp_path / "out"
    res = invoke("run", str(bad), "--out", str(out))
    assert res.exit_code == 2
    assert "bad.yaml:4: runz: unknown key 'runz' (did you mean 'runs'?)" in " ".join(res.output.split())
    assert not out.exists()


def test_bad_option_values_are_exit_2(tmp_path):
    assert invoke("run", SCENARIO, "--runs", "0", "--out", str(tmp_path)).exit_code == 2
    res = invoke("run", SCENARIO, "--variants", "nope", "--out", str(tmp_path))
    assert res.exit_code == 2
    assert "--variants: unknown variant 'nope'" in " ".join(res.output.split())
    res = invoke("run", SCENARIO, "--executor", "threads", "--out", str(tmp_path))
    assert res.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_validate_good_and_bad(tmp_path):
    ok = invoke("validate", SCENARIO)
    assert ok.exit_code == 0 and "ok:" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    res = invoke("validate", SCENARIO, str(bad))
    assert res.exit_code == 2
    assert "missing required key 'title'" in res.output


def test_schema_matches_the_committed_file():
    res = invoke("schema")
    assert res.exit_code == 0
    committed = (ROOT / "schema" / "scenario.schema.json").read_text(encoding="utf-8")
    assert res.stdout == committed, "run: escalation schema --out schema/scenario.schema.json"
    schema = json.loads(res.stdout)
    assert "non_combat" in schema["$defs"]["DeploymentSpec"]["properties"]["type"]["enum"]


def test_list_json_names_the_vocabularies():
    data = json.loads(invoke("list", "--json").stdout)
    assert "russia" in [a["id"] for a in data["actors"]]
    assert [r["rung"] for r in data["rungs"]] == list(range(16))
    assert "nato_troops_in_ukraine" in [r["id"] for r in data["red_lines"]]
    assert "limited_deployment.yaml" in data["scenarios"]
    assert "strike_on_nato_territory" in [o["id"] for o in data["outcomes"]]


def test_python_dash_m_sim():
    res = subprocess.run([sys.executable, "-m", "sim", "--help"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0
    assert "escalation" in res.stdout.lower() or "Usage" in res.stdout


def test_address_needs_the_dask_executor_and_a_reachable_scheduler(tmp_path):
    out = tmp_path / "out"
    res = invoke("run", SCENARIO, "--address", "tcp://127.0.0.1:1", "--out", str(out))
    assert res.exit_code == 2
    assert "--address: --address names a Dask scheduler" in " ".join(res.output.split())
    res = invoke("run", SCENARIO, "--executor", "dask", "--address", "notanaddress", "--out", str(out))
    assert res.exit_code == 2
    assert "--address: cannot reach the Dask scheduler" in " ".join(res.output.split())
    assert not out.exists()


def test_plot_on_a_damaged_folder_is_exit_2(finished, tmp_path):
    import shutil

    _, folder = finished
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    (copy / "summary.json").write_text("[]")
    res = invoke("plot", str(copy))
    assert res.exit_code == 2
    text = " ".join(res.output.split())
    assert "RESULTS_DIR: the results folder is damaged and cannot be drawn" in text
    assert "Traceback" not in res.output


def test_schema_to_an_unwritable_path_is_exit_2(tmp_path):
    target = tmp_path / "missing" / "s.json"
    res = invoke("schema", "--out", str(target))
    assert res.exit_code == 2
    assert f"--out: cannot write the schema (No such file or directory); found '{target}'" in " ".join(res.output.split())
    assert not target.exists()


def test_messages_stay_on_one_line_and_keep_brackets(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text('name: t\ntitle: T\nquestion: Q\ndeployments:\n  - {id: d, contributors: ["fr\\nance"], type: non_combat,'
                   ' size: 5, location: western}\n', encoding="utf-8")
    res = invoke("validate", str(bad))
    assert res.exit_code == 2
    line = " ".join(res.output.split())
    assert "string should match pattern '^[a-z][a-z0-9_]*$'; found 'fr\\nance'" in line
    bad.write_text('name: t\ntitle: T\nquestion: Q\nuncertainties:\n  "rus\\nsia.resolve": {dist: fixed, value: 1}\n',
                   encoding="utf-8")
    res = invoke("validate", str(bad))
    assert res.exit_code == 2
    assert res.output.count("\n") == 1  # one message, newline escaped
