"""``escalation compare``: every variant under common random numbers, its folder, table, chart and report, the
fallback to Newcombe's interval without per-run data, and exact messages for bad input. The intervals themselves are
tested in tests/output/test_comparison.py."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli.app import app
from sim.output import comparison as compare
from sim.spec.vocabulary import OUTCOME_IDS

runner = CliRunner()

SCENARIO = """\
name: {name}
title: "Compare test"
question: "Does the deployment matter?"
horizon_weeks: {horizon}
runs: 48
seed: 5
chunk_size: 16
deployments:
  - {{id: eng, contributors: [france, poland], type: non_combat, size: 4000, location: frontline, start_week: 2}}
timeline:
  - {{week: 0, actor: us, move: arms_delivery}}
variants:
  - name: none
    deployments: []
  - name: same
    description: "the baseline's levers again: must not differ from it in any run"
    deployments:
      - {{id: eng, contributors: [france, poland], type: non_combat, size: 4000, location: frontline, start_week: 2}}
"""


def _write(folder: Path, name: str, horizon: int = 14, variants: bool = True) -> Path:
    text = SCENARIO.format(name=name, horizon=horizon)
    if not variants:
        text = text.split("variants:")[0]
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare")
    path = _write(folder, "compare_test")
    result = runner.invoke(app, ["compare", str(path), "--workers", "1", "--out", str(folder / "out"), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), folder


def test_compare_runs_every_variant_with_common_random_numbers(compared):
    c, _ = compared
    assert c["variants"] == ["baseline", "none", "same"]
    assert c["method"] == "paired" and "common random numbers" in c["method_text"]
    for oid in OUTCOME_IDS:
        assert c["outcomes"][oid]["same"] == c["outcomes"][oid]["baseline"]
        assert c["differences"]["same"][oid]["difference"] == 0.0
    nuclear = c["differences"]["none"]["strike_on_nato_forces_in_ukraine"]
    assert nuclear["difference"] < 0 and nuclear["ci95"][1] <= 0  # no troops in Ukraine, no strike on them


def test_compare_writes_a_results_folder_with_table_chart_and_report(compared):
    c, _ = compared
    folder = Path(c["results"])
    for name in ("manifest.json", "summary.json", "runs.parquet", "comparison.json", "comparison.csv", "report.html",
                 "charts/variant_comparison.png"):
        assert (folder / name).is_file(), name
    rows = list(csv.DictReader((folder / "comparison.csv").open()))
    assert len(rows) == 3 * len(OUTCOME_IDS)
    assert {r["method"] for r in rows if r["variant"] != "baseline"} == {"paired"}
    assert "Variants against the baseline" in (folder / "report.html").read_text()


def test_results_folder_without_runs_falls_back_to_newcombe(compared):
    c, _ = compared
    folder = Path(c["results"])
    summary = json.loads((folder / "summary.json").read_text())
    assert compare.for_results(folder, summary)["method"] == "paired"
    fallback = compare.for_results(folder / "no-such-subfolder", summary)
    assert fallback["method"] == "newcombe"
    assert "independent samples" in fallback["method_text"]
    for oid in OUTCOME_IDS:
        paired = c["differences"]["none"][oid]
        indep = fallback["differences"]["none"][oid]
        assert indep["difference"] == pytest.approx(paired["difference"])


def test_compare_prints_differences_with_intervals(tmp_path):
    path = _write(tmp_path, "compare_print")
    result = runner.invoke(app, ["compare", str(path), "--variants", "none", "--runs", "20", "--workers", "1",
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Difference to 'baseline' in percentage points (95% CI)" in out
    assert "none" in out and "same" not in out.split("Intervals:")[0].split("baseline %")[1]
    assert "paired runs under common random numbers" in " ".join(out.split())


def test_side_by_side_files_share_their_random_numbers(tmp_path):
    a = _write(tmp_path, "left")
    b = _write(tmp_path, "right")
    result = runner.invoke(app, ["compare", str(a), str(b), "--runs", "30", "--workers", "1",
                                 "--out", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    c = json.loads(result.stdout)
    assert c["variants"] == ["left", "right"] and c["runs"] == 30
    for oid in OUTCOME_IDS:
        assert c["differences"]["right"][oid]["difference"] == 0.0
    folder = Path(c["results"])
    assert (folder / "charts" / "variant_comparison.png").is_file()
    redraw = runner.invoke(app, ["plot", str(folder)])
    assert redraw.exit_code == 0, redraw.output


@pytest.mark.parametrize("case, message", [
    ("unknown_variant",
     "error: --variants: unknown variant 'nope'; expected one of: baseline, none, same; found 'nope'"),
    ("no_variants",
     "error: --variants: nothing to compare: the scenario has no variants; expected a scenario with variants, or "
     "several scenario files; found 'lonely'"),
    ("only_baseline",
     "error: --variants: nothing to compare: only the baseline was named; expected at least one variant besides the "
     "baseline: none, same; found 'baseline'"),
    ("horizons",
     "error: horizon_weeks: scenario files compared side by side need the same horizon; expected one horizon for "
     "all; found 'short: 10, long: 14'"),
    ("variants_with_files",
     "error: --variants: --variants applies to a single scenario file; expected one scenario file; found '2 files'"),
])
def test_compare_bad_input_exits_2_with_a_message(tmp_path, case, message):
    if case == "unknown_variant":
        args = [str(_write(tmp_path, "c1")), "--variants", "nope"]
    elif case == "no_variants":
        args = [str(_write(tmp_path, "lonely", variants=False))]
    elif case == "only_baseline":
        args = [str(_write(tmp_path, "c2")), "--variants", "baseline"]
    elif case == "horizons":
        args = [str(_write(tmp_path, "short", horizon=10)), str(_write(tmp_path, "long", horizon=14))]
    else:
        args = [str(_write(tmp_path, "x1")), str(_write(tmp_path, "x2")), "--variants", "none"]
    result = runner.invoke(app, ["compare", *args, "--runs", "5", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())
    assert not (tmp_path / "out").exists()


def test_a_batch_without_per_run_data_compares_with_newcombe(tmp_path):
    path = _write(tmp_path, "no_runs")
    result = runner.invoke(app, ["run", str(path), "--runs", "20", "--workers", "1", "--no-runs", "--no-charts",
                                 "--out", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    folder = Path(json.loads(result.stdout)["results"])
    assert not (folder / "runs.parquet").exists()
    c = compare.for_results(folder, json.loads((folder / "summary.json").read_text()))
    assert c["method"] == "newcombe"
    from sim.present.charts import comparison_chart

    svg = comparison_chart(c, "t", tmp_path / "charts", formats=("svg",))[0].read_text()
    assert "independent samples" in svg


def test_a_batch_without_its_baseline_compares_with_the_first_variant_run(tmp_path):
    path = _write(tmp_path, "no_baseline")
    result = runner.invoke(app, ["run", str(path), "--runs", "12", "--workers", "1", "--variants", "none,same",
                                 "--out", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    folder = Path(json.loads(result.stdout)["results"])
    c = json.loads((folder / "comparison.json").read_text())
    assert c["baseline"] == "none" and c["variants"] == ["none", "same"]
    assert (folder / "charts" / "variant_comparison.png").is_file()
    assert (folder / "report.html").is_file()
