"""report.html: one self-contained file that states the question, the results and their assumptions, and opens
offline in a real browser. Redrawing it with ``escalation plot`` is tested in tests/cli/test_plot.py."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from sim import NOT_A_FORECAST
from sim.output.folder import load_results
from sim.present.text import share

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def html(small_results) -> str:
    return (small_results / "report.html").read_text(encoding="utf-8")


def test_every_results_folder_gets_a_report(small_results):
    assert (small_results / "report.html").is_file()
    assert (small_results / "story.json").is_file()
    assert (small_results / "comparison.json").is_file()


def test_report_is_self_contained(html):
    """No external URL is fetched: every image is embedded, there are no external scripts, styles or fonts."""
    for attr in re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", html, flags=re.I):
        assert attr.startswith("data:") or attr.startswith("#"), attr
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", html, flags=re.I)
    assert "<link" not in html.lower() and "<script" not in html.lower()


def test_report_embeds_every_chart_in_its_section_with_a_caption(small_results, html):
    from sim.present.charts import SECTIONS, plan
    from sim.present.publish import story
    from sim.present.report import _comparison

    pngs = sorted(p.stem for p in (small_results / "charts").glob("*.png"))
    imgs = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,', html)
    assert sorted(imgs) == pngs
    assert not list((small_results / "charts").glob("*.svg"))  # PNG only unless asked
    manifest, summary, aggs = load_results(small_results)
    planned = plan(summary, aggs, _comparison(small_results, summary), [story(small_results, replay=False)])
    assert imgs == [c.name for c in planned]  # in the plan's order, section by section
    assert {"escalation_fan", "rung_occupancy", "variant_comparison", "rung_reached",
            "cumulative__nuclear_use"} <= set(pngs)
    assert any(p.startswith("timeline__baseline__run") for p in pngs)
    import html as html_lib

    for chart in planned:  # a caption that says how to read it, under the chart
        figure = html[html.index(f'<figure id="chart-{chart.name}"'):]
        caption = html_lib.unescape(figure[figure.index("<figcaption>") + 12:figure.index("</figcaption>")])
        assert caption.startswith(chart.caption), chart.name
    positions = [html.index(f'<h2 id="{sid}">') for sid, _ in SECTIONS]
    assert positions == sorted(positions)


def test_report_states_question_summary_assumptions_and_that_it_is_no_forecast(small_results, html, doctrine):
    import html as html_lib

    text = html_lib.unescape(html)
    words = html_lib.unescape(re.sub(r"<[^>]+>", "", html))  # the text without markup (citations are links)
    assert NOT_A_FORECAST in text
    assert "How often does Russia strike the trainers, and what follows?" in text
    assert "Report test: trainers & engineers <inside>" in text
    assert "<inside>" not in html  # escaped, not markup
    summary = json.loads((small_results / "summary.json").read_text())
    for oid, o in summary["variants"]["baseline"]["outcomes"].items():
        assert oid in text
        assert share(o["count"], summary["runs"], o["ci95"]).split(" (")[0] in text
    manifest = json.loads((small_results / "manifest.json").read_text())
    assert manifest["scenario_hash"] in text  # the manifest is shown
    assert "[seed-001-retaliate-decisively] (Limited Deployment)" in words
    assert "report test source" in text  # the scenario's uncertainty and its source
    # the doctrine: red lines with their sources, deployment types
    for rl in doctrine.red_lines:
        assert rl.statement in text and rl.source in words, rl.id
    for t in doctrine.deployment_types:
        assert t.name in text and t.source in words, t.id
    assert "The story of the most escalated run" in text and "replayed from the batch's seed" in text


def test_report_lists_the_entries_its_sources_cite(html, doctrine):
    import html as html_lib

    from sim.spec.sources import cited_keys, load_sources

    entries = load_sources()
    cited = {k for item in [*doctrine.red_lines, *doctrine.deployment_types] for k in cited_keys(item.source)}
    cited.add("seed-001-retaliate-decisively")  # the scenario's own source
    text = html_lib.unescape(html)
    section = text[text.index('id="works-cited"'):]
    for key in cited:
        e = entries[key]
        assert f'<li id="source-{key}"><b>[{key}]</b> {e.by}, <i>{e.title}</i>, {e.date}: {e.gives}.' in section, key
        assert f'<a href="#source-{key}">[{key}]</a>' in text, key  # each citation links to its entry
    assert "no entry in docs/sources.md" not in text



def test_report_gives_the_source_of_each_overridden_parameter(small_results, doctrine):
    import copy

    from sim.present.report import _assumptions_section

    manifest = copy.deepcopy(json.loads((small_results / "manifest.json").read_text()))
    manifest["resolved_scenario"]["overrides"] = {"memory_decay": 0.9}
    section = _assumptions_section(manifest)
    row = section[section.index("<td>memory_decay</td>"):]
    row = row[:row.index("</tr>")]
    assert '<a href="#source-record-2022-2024">[record-2022-2024]</a> summary' in row
    assert '<li id="source-record-2022-2024">' in section

def _chromium_args(profile: str) -> list[str]:
    return [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
            "--virtual-time-budget=10000"]


#: The report's bounds, as docs/charts.md states them: at most this tall in a 1400-pixel-wide window and this large,
#: for a scenario of up to 15 variants.
MAX_HEIGHT_PX = 15_000
MAX_BYTES = 3_000_000

_PROBE = ("<script>window.addEventListener('load',function(){var im=document.images,n=0;"
          "for(var i=0;i<im.length;i++){if(im[i].complete&&im[i].naturalWidth>0){n++;}}"
          "document.body.setAttribute('data-images-rendered',n);"
          "document.body.setAttribute('data-images-total',im.length);"
          "document.body.setAttribute('data-height',document.documentElement.scrollHeight);});</script>")


def _browse(report: Path, tmp_path: Path) -> tuple[int, int, int, str]:
    """Open a report in headless chromium, 1400 pixels wide: (images, images rendered, page height, DOM)."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (CI installs it with apt-get)")
    page = tmp_path / "probe.html"
    page.write_text(report.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>"), encoding="utf-8")
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        done = subprocess.run(_chromium_args(profile) + ["--window-size=1400,1000", "--dump-dom", page.as_uri()],
                              capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert done.returncode == 0, done.stderr[-2000:]
    found = [re.search(rf'data-{k}="(\d+)"', done.stdout) for k in ("images-total", "images-rendered", "height")]
    assert all(found), "the page did not finish loading"
    total, rendered, height = (int(m.group(1)) for m in found if m)
    return total, rendered, height, done.stdout


def test_report_renders_every_image_in_a_real_browser(small_results, tmp_path):
    total, rendered, height, dom = _browse(small_results / "report.html", tmp_path)
    n_png = len(list((small_results / "charts").glob("*.png")))
    assert total == n_png
    assert rendered == n_png, "some embedded images did not render"
    assert "not a forecast" in dom
    assert height <= MAX_HEIGHT_PX


MANY = 15


@pytest.fixture(scope="module")
def many_results(tmp_path_factory) -> Path:
    """A finished results folder of a scenario with 15 variants (more than a chart draws)."""
    from typer.testing import CliRunner

    from sim.cli.app import app

    folder = tmp_path_factory.mktemp("many")
    variants = "".join(f"  - name: v{i:02d}\n    description: option {i}\n    deployments: []\n"
                       for i in range(1, MANY))
    path = folder / "many.yaml"
    path.write_text("name: many\ntitle: Many options\nquestion: Which of fifteen options matters?\n"
                    "horizon_weeks: 10\nruns: 30\nseed: 5\nchunk_size: 30\n"
                    "deployments:\n  - {id: eng, contributors: [france], type: non_combat, size: 2000, "
                    "location: frontline, start_week: 1}\nvariants:\n" + variants)
    result = CliRunner().invoke(app, ["run", str(path), "--workers", "1", "--out", str(folder / "out"), "--json"])
    assert result.exit_code == 0, result.output
    return Path(json.loads(result.stdout)["results"])


def test_many_variants_make_a_bounded_page_and_a_bounded_number_of_files(many_results, small_results, tmp_path):
    from sim.present.charts import MAX_OVERLAID, MAX_PANELS

    assert len(list((many_results / "charts").iterdir())) == len(list((small_results / "charts").iterdir()))
    report = many_results / "report.html"
    assert report.stat().st_size <= MAX_BYTES
    text = report.read_text(encoding="utf-8")
    assert f"Only the first {MAX_PANELS} of the {MANY} variants are drawn" in text
    assert f"Only the first {MAX_OVERLAID} of the {MANY} variants are drawn" in text
    total, rendered, height, _ = _browse(report, tmp_path)
    assert rendered == total > 0
    assert height <= MAX_HEIGHT_PX, height


# ------------------------------------------------------------------------------------------ findings and tail risk
def _outcome(count: int, runs: int) -> dict:
    from sim.output.statistics import wilson_interval

    return {"count": count, "probability": count / runs, "ci95": list(wilson_interval(count, runs)),
            "description": "An outcome."}


def _synthetic(counts: dict[str, dict[str, int]], runs: int = 2000) -> tuple[dict, dict]:
    """A summary and its (independent-sample) comparison with the given counts per variant and outcome."""
    from sim.output import comparison as compare
    from sim.spec.vocabulary import OUTCOME_IDS

    summary = {"title": "t", "baseline": "baseline", "runs": runs, "seed": 1, "horizon_weeks": 52,
               "variants": {v: {"runs": runs, "outcomes": {oid: _outcome(c.get(oid, 0), runs) for oid in OUTCOME_IDS}}
                            for v, c in counts.items()}}
    return summary, compare.from_summary(summary)


def test_key_findings_say_which_option_raises_which_risk_by_how_much():
    from sim.present.report import findings

    summary, comparison = _synthetic({
        "baseline": {"strike_on_nato_forces_in_ukraine": 240, "nuclear_use": 2},
        "front": {"strike_on_nato_forces_in_ukraine": 832, "nuclear_use": 3},
        "none": {"strike_on_nato_forces_in_ukraine": 0, "nuclear_use": 1},
    })
    told = findings(summary, comparison)
    assert told[0].startswith("<b>front</b> raises the most headline risks (1 of 6)")
    assert "<b>none</b> lowers the most (1 of 6)" in told[0]
    strike = next(t for t in told if t.startswith("<b>strike_on_nato_forces_in_ukraine</b>"))
    assert "12.0% of runs (10.6-13.5) in <b>baseline</b>" in strike
    assert "Raised by <b>front</b> to 41.6% (39.5-43.8), +29.6 (" in strike
    assert "Lowered by <b>none</b> to 0 of 2,000 (0-0.19%), -12.0 (" in strike
    nuclear = next(t for t in told if t.startswith("<b>nuclear_use</b>"))
    assert "2 of 2,000 runs (0.027-0.36%)" in nuclear
    assert "No variant differs from it beyond the 95% interval of the difference (2,000 runs each)." in nuclear
    assert not re.search(r"[-+]0\.0(?![0-9])", " ".join(told))  # no signed zero


def test_key_findings_of_a_single_variant_state_its_shares():
    from sim.present.report import findings

    summary, comparison = _synthetic({"baseline": {"nuclear_signalling": 1426}})
    told = findings(summary, comparison)
    assert len(told) == 6 and "71.3% of runs" in told[3] and "Raised" not in " ".join(told)


def test_tail_risk_table_counts_runs(small_results, html):
    import html as html_lib

    summary = json.loads((small_results / "summary.json").read_text())
    section = html_lib.unescape(html[html.index('id="tail-risk"'):html.index('id="variants"')])
    for oid in ("strike_on_nato_territory", "nuclear_use", "strategic_nuclear_war"):
        assert oid in section
        for v in summary["variants"]:
            count = summary["variants"][v]["outcomes"][oid]["count"]
            assert f"<b>{count:,}</b> of {summary['runs']:,}" in section
    assert "a count of 0 is not a probability of 0" in section


def test_report_starts_with_the_question_then_findings(html):
    order = [html.index(k) for k in ('id="contents"', 'id="question"', 'id="findings"', 'id="tail-risk"',
                                     'id="overlays"', 'id="comparison"', 'id="multiples"', 'id="story"',
                                     'id="assumptions"')]
    assert order == sorted(order)
    for anchor in ("question", "findings", "tail-risk", "overlays", "multiples", "story", "manifest"):
        assert f'<a href="#{anchor}">' in html  # the table of contents links every section


HOSTILE = "Costs $\\foo{x}$ \x1b[31mred\x1b[0m \x1b]8;;http://example.invalid\x07link\x1b]8;;\x07 <script>x</script>"


def test_hostile_user_text_is_shown_as_text(small_results, tmp_path):
    """Title, question, variant descriptions and the scenario description with markup, mathtext, ANSI and OSC
    escapes: shown as their letters, escaped, without escape or control characters."""
    import shutil

    from sim.output.folder import file_checksum
    from sim.present.report import render

    copy = tmp_path / "copy"
    shutil.copytree(small_results, copy)
    summary = json.loads((copy / "summary.json").read_text())
    summary["title"] = summary["question"] = HOSTILE
    (copy / "summary.json").write_text(json.dumps(summary))
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["resolved_scenario"]["description"] = HOSTILE
    manifest["resolved_scenario"]["variants"][0]["description"] = HOSTILE + "\x00\x9b2J\u202e"
    # text that validation would refuse, as a folder written by another tool might hold it: recorded as whole
    manifest["files"]["summary.json"] = file_checksum(copy / "summary.json")
    (copy / "manifest.json").write_text(json.dumps(manifest))
    page = render(copy)
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202e]", page)
    assert "<script>" not in page
    assert "Costs $\\foo{x}$ red link &lt;script&gt;x&lt;/script&gt;" in page
    assert page.count("Costs $\\foo{x}$ red link") >= 4  # heading, title, question, descriptions
