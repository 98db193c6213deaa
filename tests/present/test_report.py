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


def test_report_renders_every_image_in_a_real_browser(small_results, tmp_path):
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (CI installs it with apt-get)")
    html = (small_results / "report.html").read_text(encoding="utf-8")
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
    n_png = len(list((small_results / "charts").glob("*.png")))
    assert int(total.group(1)) == n_png
    assert int(rendered.group(1)) == n_png, "some embedded images did not render"
    assert "not a forecast" in done.stdout


