"""The command line through Typer's runner: help, the results folder of ``run``, JSON output of every command, exact
error messages. Each command with more to it has a file of its own here (compare, plot, trace, resume, refusals)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from support import ROOT
from typer.testing import CliRunner

from sim.cli.app import app

SCENARIO = str(ROOT / "scenarios" / "limited_deployment.yaml")
VARIANTS = "baseline,frontline_engineers"  # two of five: every chart for each, and a comparison between them
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


HELP = {
    "run": ("--runs", "--seed", "--workers", "--out", "--json", "--no-runs", "--executor", "--address", "--resume",
            "--fixed-parameters"),
    "compare": ("--variants", "--runs", "--seed", "--out", "--json"),
    "trace": ("--run", "--worst", "--variant", "--json", "--seed"),
    "plot": ("RESULTS_DIR", "--json"),
    "validate": ("--json",),
    "schema": ("--out", "--json"),
    "list": ("--json",),
    "explain": ("--json",),
    "bench": ("--quick", "--json", "--workers"),
    "calibrate": ("--candidates", "--runs", "--seed", "--workers", "--out", "--json"),
    "app": ("--port", "--host", "--runs", "--out", "--json"),
    "analyse": ("RESULTS_DIR", "--outcome", "--json"),
    "runs": ("RESULTS_DIR", "--where", "--worst", "--variant", "--json"),
    "sweep": ("--lever", "--runs", "--seed", "--workers", "--out", "--json", "--resume"),
}


@pytest.mark.parametrize("command", sorted(HELP))
def test_every_command_has_help_naming_its_options(command):
    res = invoke(command, "--help")
    assert res.exit_code == 0
    assert "Usage" in res.output
    for option in HELP[command]:
        assert option in res.output, option


def test_the_help_table_lists_every_command():
    """A new command gets a row in HELP, so its help is checked too."""
    import typer

    assert set(typer.main.get_command(app).commands) == set(HELP)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    res = invoke("run", SCENARIO, "--runs", "300", "--seed", "7", "--workers", "1", "--out", str(out),
                 "--variants", VARIANTS)
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
    assert list(summary["variants"]) == VARIANTS.split(",")
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
    assert {"run", "week", "actor", "target", "action", "rung", "actor1_code", "actor2_code", "event_code",
            "event_root_code", "quad_class", "goldstein"} <= set(events.column_names)
    assert (folder / "charts" / "escalation_fan.png").stat().st_size > 10_000
    assert (folder / "charts" / "variant_comparison.png").is_file()
    assert f"results: {folder}" in res.output
    assert "nuclear_signalling" in res.output


def test_same_seed_gives_the_same_summary(finished, tmp_path):
    _, folder = finished
    res = invoke("run", SCENARIO, "--runs", "300", "--seed", "7", "--workers", "2", "--out", str(tmp_path), "--json",
                 "--no-charts", "--variants", VARIANTS)
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


def test_invalid_scenario_is_exit_2_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntitle: t\nquestion: q\nrunz: 5\n")
    out = tmp_path / "out"
    res = invoke("run", str(bad), "--out", str(out))
    assert res.exit_code == 2
    assert "bad.yaml:4: runz: unknown key 'runz' (did you mean 'runs'?)" in " ".join(res.output.split())
    assert not out.exists()


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
    def refuse(constant: str) -> None:
        raise AssertionError(f"the schema holds {constant}: strict JSON parsers and editors refuse it")

    schema = json.loads(res.stdout, parse_constant=refuse)  # strict JSON: no NaN or Infinity
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


def test_schema_to_an_unwritable_path_is_exit_2(tmp_path):
    target = tmp_path / "missing" / "s.json"
    res = invoke("schema", "--out", str(target))
    assert res.exit_code == 2
    expected = f"--out: cannot write the schema (No such file or directory); found '{target}'"
    assert expected in " ".join(res.output.split())
    assert not target.exists()


def test_messages_stay_on_one_line_and_keep_brackets(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text('name: t\ntitle: T\nquestion: Q\ndeployments:\n'
                   '  - {id: d, contributors: ["fr\\nance"], type: non_combat, size: 5, location: western}\n',
                   encoding="utf-8")
    res = invoke("validate", str(bad))
    assert res.exit_code == 2
    line = " ".join(res.output.split())
    assert "string should match pattern '^[a-z][a-z0-9_]*$'; found 'fr\\nance'" in line
    bad.write_text('name: t\ntitle: T\nquestion: Q\nuncertainties:\n  "rus\\nsia.resolve": {dist: fixed, value: 1}\n',
                   encoding="utf-8")
    res = invoke("validate", str(bad))
    assert res.exit_code == 2
    assert res.output.count("\n") == 1  # one message, newline escaped


def test_bench_quick_json_reports_its_contract():
    result = runner.invoke(app, ["bench", "--quick", "--json", "--workers", "2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for key in ("runs_per_second", "per_run_loop_runs_per_second", "speedup", "peak_rss_mib",
                "lockstep_runs_per_second", "machine", "scaling"):
        assert key in data, key
    assert data["runs_per_second"] > 0 and data["peak_rss_mib"] > 0
    assert data["loop_rows_equal_lockstep"] is True
    assert data["speedup"] > 10  # lockstep beats the per-run loop by far, even on a busy machine
    assert [row["weeks"] for row in data["scaling"]["weeks"]] == [26, 52, 104]
    assert [row["roster"] for row in data["scaling"]["actors"]] == ["roster", "doubled roster"]
    assert data["scaling"]["actors"][1]["actors"] > data["scaling"]["actors"][0]["actors"]
    assert all(row["merged_runs"] == row["runs"] for dim in data["scaling"].values() for row in dim)


def test_explain_prints_json_and_refuses_an_unknown_id():
    res = runner.invoke(app, ["explain", "long_range_strikes", "--json"])
    assert res.exit_code == 0
    data = json.loads(res.stdout)
    assert data["kind"] == "red line" and "[seed-004-range-of-responses]" in data["source"]
    assert "seed-004-range-of-responses" in [r["key"] for r in data["references"]]
    table = runner.invoke(app, ["explain", "long_range_strikes"])
    assert table.exit_code == 0
    assert "[seed-004-range-of-responses]" in table.stdout and "Understanding Putin's New Threats" in " ".join(
        table.stdout.split())  # the entry is printed after the source
    bad = runner.invoke(app, ["explain", "zzz"])
    assert bad.exit_code == 2
    assert "no doctrine item or outcome 'zzz'" in bad.output


def test_run_on_a_local_dask_cluster_matches_serial(tmp_path):
    pytest.importorskip("dask.distributed")
    common = [SCENARIO, "--runs", "400", "--chunk-size", "100", "--seed", "5",
              "--variants", "baseline,frontline_engineers",
              "--no-charts", "--no-runs", "--json", "--workers", "2"]
    payloads = {}
    for executor in ("serial", "dask"):
        result = runner.invoke(app, ["run", *common, "--executor", executor, "--out", str(tmp_path / executor)])
        assert result.exit_code == 0, result.output
        payloads[executor] = json.loads(result.stdout)
    assert payloads["serial"]["variants"] == payloads["dask"]["variants"]
    manifest = json.loads((Path(payloads["dask"]["results"]) / "manifest.json").read_text())
    assert manifest["executor"] == "dask" and manifest["status"] == "complete"
    summary = json.loads((Path(payloads["dask"]["results"]) / "summary.json").read_text())
    assert summary["variants"] == payloads["serial"]["variants"]


def test_calibrate_writes_the_fit_and_the_calibrated_sets(tmp_path):
    """A tiny calibration into a copy of configs/: the candidates, the fit report and the marginals chart are written;
    the calibration file is rewritten when a set is kept, and a fit that keeps none says so (exit 1)."""
    import shutil

    configs = tmp_path / "configs"
    shutil.copytree(ROOT / "configs", configs)
    before = (configs / "calibration.yaml").read_text()
    res = runner.invoke(app, ["calibrate", "--candidates", "4", "--runs", "60", "--tornado-runs", "0", "--workers",
                              "1", "--configs", str(configs), "--out", str(tmp_path / "out")])
    assert (tmp_path / "out" / "candidates.csv").is_file() and (tmp_path / "out" / "calibration_report.json").is_file()
    assert "Traceback" not in res.output
    if res.exit_code == 0:
        assert (configs / "calibration.yaml").read_text() != before and (tmp_path / "out" / "marginals.png").is_file()
    else:
        assert res.exit_code == 1 and "no parameter set is consistent" in res.stderr
        assert (configs / "calibration.yaml").read_text() == before


def test_calibrate_into_a_folder_it_cannot_make_is_refused(tmp_path):
    import shutil

    configs = tmp_path / "configs"
    shutil.copytree(ROOT / "configs", configs)
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    res = runner.invoke(app, ["calibrate", "--candidates", "4", "--runs", "60", "--tornado-runs", "0", "--workers",
                              "1", "--configs", str(configs), "--out", str(blocker / "out")])
    assert res.exit_code == 2, res.output
    assert "cannot write the calibration" in res.stderr and "--out" in res.stderr
    assert "Traceback" not in res.output


def test_bench_says_what_the_tables_cost_with_its_range():
    from sim.cli.bench import _tables_cost

    t = {"tables_cpu_cost": 0.41, "tables_cpu_cost_range": [0.3, 0.65], "tables_cpu_seconds": 3.04,
         "tables_cpu_seconds_range": [2.5, 4.26], "pairs": [{}, {}, {}]}
    assert _tables_cost(t) == "+41% (+30% to +65%), 3.0 s (2.5 to 4.3)"
    assert _tables_cost({**t, "tables_cpu_cost": None}) == "3.0 s (2.5 to 4.3)"
    assert _tables_cost({**t, "pairs": [{}]}) == "+41%, 3.0 s"  # one pair: no range to give
