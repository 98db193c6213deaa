"""report.html and `escalation plot`: one self-contained file that opens offline in a real browser, and every chart
redrawn from a results folder without running the model."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim import NOT_A_FORECAST
from sim.cli.app import app

runner = CliRunner()
CHROMIUM = Path("/usr/bin/chromium")

SCENARIO = """\
name: report_test
title: "Report test: trainers & engineers <inside>"
question: "How often does Russia strike the trainers, and what follows?"
horizon_weeks: 14
runs: 40
seed: 8
chunk_size: 20
sources: ["seed 001_3227528b8a3d3f35.txt (Limited Deployment)"]
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


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    path = folder / "report_test.yaml"
    path.write_text(SCENARIO)
    result = runner.invoke(app, ["run", str(path), "--workers", "1", "--out", str(folder / "out"), "--json"])
    assert result.exit_code == 0, result.output
    return Path(json.loads(result.stdout)["results"])


@pytest.fixture(scope="module")
def html(results) -> str:
    return (results / "report.html").read_text(encoding="utf-8")


def test_every_results_folder_gets_a_report(results):
    assert (results / "report.html").is_file()
    assert (results / "story.json").is_file()
    assert (results / "comparison.json").is_file()


def test_report_is_self_contained(html):
    """No external URL is fetched: every image is embedded, there are no external scripts, styles or fonts."""
    for attr in re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", html, flags=re.I):
        assert attr.startswith("data:") or attr.startswith("#"), attr
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", html, flags=re.I)
    assert "<link" not in html.lower() and "<script" not in html.lower()


def test_report_embeds_every_chart(results, html):
    pngs = sorted(p.stem for p in (results / "charts").glob("*.png"))
    imgs = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,', html)
    assert sorted(imgs) == pngs
    assert {"escalation_fan", "rung_occupancy", "outcome_probabilities", "max_rung", "time_to_threshold",
            "rung_transitions", "variant_comparison"} <= set(pngs)
    assert any(p.startswith("timeline__baseline__run") for p in pngs)


def test_report_states_question_summary_assumptions_and_that_it_is_no_forecast(results, html, doctrine):
    import html as html_lib

    text = html_lib.unescape(html)
    assert NOT_A_FORECAST in text
    assert "How often does Russia strike the trainers, and what follows?" in text
    assert "Report test: trainers & engineers <inside>" in text
    assert "<inside>" not in html  # escaped, not markup
    summary = json.loads((results / "summary.json").read_text())
    for oid, o in summary["variants"]["baseline"]["outcomes"].items():
        assert oid in text
        assert f"{100 * o['probability']:.1f}%" in text
    manifest = json.loads((results / "manifest.json").read_text())
    assert manifest["scenario_hash"] in text  # the manifest is shown
    assert "seed 001_3227528b8a3d3f35.txt (Limited Deployment)" in text
    assert "report test source" in text  # the scenario's uncertainty and its source
    # the doctrine: red lines with their sources, deployment types
    for rl in doctrine.red_lines:
        assert rl.statement in text and rl.source in text, rl.id
    for t in doctrine.deployment_types:
        assert t.name in text and t.source in text, t.id
    assert "The story of one run" in text and "replayed from the batch's seed" in text


def _chromium_args(profile: str) -> list[str]:
    return [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
            "--virtual-time-budget=10000"]


def test_report_renders_every_image_in_a_real_browser(results, tmp_path):
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (CI installs it with apt-get)")
    html = (results / "report.html").read_text(encoding="utf-8")
    probe = ("<script>window.addEventListener('load',function(){var im=document.images,n=0;"
             "for(var i=0;i<im.length;i++){if(im[i].complete&&im[i].naturalWidth>0){n++;}}"
             "document.body.setAttribute('data-images-rendered',n);"
             "document.body.setAttribute('data-images-total',im.length);});</script>")
    page = tmp_path / "probe.html"
    page.write_text(html.replace("</body>", probe + "</body>"), encoding="utf-8")
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        done = subprocess.run(_chromium_args(profile) + ["--dump-dom", page.as_uri()], capture_output=True,
                              text=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert done.returncode == 0, done.stderr[-2000:]
    total = re.search(r'data-images-total="(\d+)"', done.stdout)
    rendered = re.search(r'data-images-rendered="(\d+)"', done.stdout)
    assert total and rendered, "the page did not finish loading"
    n_png = len(list((results / "charts").glob("*.png")))
    assert int(total.group(1)) == n_png
    assert int(rendered.group(1)) == n_png, "some embedded images did not render"
    assert "not a forecast" in done.stdout


def test_plot_redraws_every_chart_without_running_the_model(results, monkeypatch, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(results, copy)
    before = sorted(p.name for p in (copy / "charts").iterdir())
    shutil.rmtree(copy / "charts")
    (copy / "report.html").unlink()

    def no_run(*args, **kwargs):
        raise AssertionError("plot must not run the model")

    monkeypatch.setattr("sim.engine.model.EscalationModel.run", no_run)
    monkeypatch.setattr("sim.output.story.replay", no_run)
    result = runner.invoke(app, ["plot", str(copy)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (copy / "charts").iterdir()) == before
    assert (copy / "report.html").is_file()
    assert f"{len(before)} chart files redrawn" in result.stdout


def test_plot_tells_the_story_from_the_event_table_when_no_replay_was_saved(results, monkeypatch, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(results, copy)
    replayed = json.loads((copy / "story.json").read_text())
    (copy / "story.json").unlink()
    monkeypatch.setattr("sim.engine.model.EscalationModel.run", lambda *a, **k: (_ for _ in ()).throw(AssertionError("ran")))
    result = runner.invoke(app, ["plot", str(copy), "--json"])
    assert result.exit_code == 0, result.output
    files = json.loads(result.stdout)["charts"]
    assert any(f"timeline__baseline__run{replayed['run']}.png" in f for f in files)
    report = (copy / "report.html").read_text()
    assert "rebuilt from the event table" in report


@pytest.mark.parametrize("make, message", [
    (lambda p: p, "error: RESULTS_DIR: not a results folder: manifest.json, summary.json, aggregates.json missing; "
                  "expected a folder written by 'escalation run' or 'escalation compare'; found '{p}'"),
    (lambda p: p / "nope", "error: RESULTS_DIR: not a results folder: no such folder; expected a folder written by "
                           "'escalation run' or 'escalation compare'; found '{p}'"),
])
def test_plot_rejects_a_folder_that_is_not_a_results_folder(tmp_path, make, message):
    target = make(tmp_path)
    result = runner.invoke(app, ["plot", str(target)])
    assert result.exit_code == 2
    assert message.format(p=target) in " ".join(result.stderr.split())


def test_plot_help():
    result = runner.invoke(app, ["plot", "--help"])
    assert result.exit_code == 0
    assert "RESULTS_DIR" in result.stdout
