"""Charts: the rung palette, the outcome colours, and every chart drawn from a small batch's aggregates."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.batch.chunks import Batch
from sim.batch.executors import execute
from sim.engine.outcomes import OUTCOMES
from sim.output.summary import summarise
from sim.present import charts as charts

ROOT = Path(__file__).resolve().parents[2]

# Simulated colour-vision deficiency (Machado, Oliveira and Fernandes 2009, severity 1), applied in linear RGB.
CVD = {
    "normal": np.eye(3),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}


def _linear(rgb: np.ndarray) -> np.ndarray:
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def _lab(linear: np.ndarray) -> np.ndarray:
    xyz = np.clip(linear, 0, 1) @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                                            [0.0193, 0.1192, 0.9505]]).T
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16 / 116)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1)


def _rgb(hexes: list[str]) -> np.ndarray:
    return np.array([[int(h[i:i + 2], 16) / 255 for i in (1, 3, 5)] for h in hexes])


def test_one_distinct_colour_per_rung():
    pal = charts.rung_colours()
    assert len(pal) == 16 == len(set(pal))
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in pal), pal


@pytest.mark.parametrize("vision", list(CVD))
def test_neighbouring_rungs_stay_distinguishable(vision):
    """Neighbouring rungs differ by at least 12 CIELAB units, also under simulated colour-blindness
    (the old cividis fill had its closest neighbours 3 to 6 units apart)."""
    lab = _lab(_linear(_rgb(charts.rung_colours())) @ CVD[vision].T)
    gaps = np.linalg.norm(np.diff(lab, axis=0), axis=1)
    assert gaps.min() >= 12, f"rungs {int(gaps.argmin())} and {int(gaps.argmin()) + 1} are {gaps.min():.1f} apart"


def test_palette_darkens_up_the_ladder_by_stage():
    lightness = _lab(_linear(_rgb(charts.rung_colours())))[:, 0]
    assert lightness[15] < lightness[12] < lightness[9] < lightness[5]
    assert lightness[15] == lightness.min()


def test_outcome_colours_follow_the_rungs_of_their_acts():
    """An outcome is coloured by the lowest rung of the Russian or NATO responses that realise it (configs)."""
    responses = yaml.safe_load((ROOT / "configs" / "responses.yaml").read_text())["responses"]
    rung_of = {r["id"]: r["rung"] for r in responses}
    assert set(charts.OUTCOME_RUNG) == set(OUTCOMES)
    ladder = yaml.safe_load((ROOT / "configs" / "ladder.yaml").read_text())["ladder"]
    first_marked = {}
    for r in ladder:
        for m in r.get("marks", []):
            first_marked.setdefault(m, r["rung"])
    states = {"at_war": first_marked["general_war"]}
    for oid, rule in OUTCOMES.items():
        if rule.state is not None:
            assert charts.OUTCOME_RUNG[oid] == states[rule.state], oid
        elif rule.mark is not None:
            assert charts.OUTCOME_RUNG[oid] == first_marked[rule.mark], oid
        else:
            known = [rung_of[a] for a in rule.actions if a in rung_of]
            if known:
                assert charts.OUTCOME_RUNG[oid] == min(known), oid


def _scenario(doctrine, title="Chart test"):
    from sim.spec.scenario import ScenarioSpec

    data = {
        "name": "chart_test", "title": title, "question": "What do the charts show?", "horizon_weeks": 16,
        "runs": 60, "seed": 11, "chunk_size": 25,
        "deployments": [{"id": "eng", "contributors": ["france", "poland"], "type": "non_combat", "size": 3000,
                         "location": "frontline", "start_week": 1}],
        "timeline": [{"week": 0, "actor": "us", "move": "arms_delivery"}],
        "variants": [{"name": "none", "deployments": []}, {"name": "front", "deployments": [
            {"id": "eng", "contributors": ["france", "poland"], "type": "non_combat", "size": 3000,
             "location": "frontline", "start_week": 1}]}],
    }
    return ScenarioSpec.model_validate(data, context={"doctrine": doctrine})


@pytest.fixture(scope="module")
def batch(doctrine):
    """A small batch's summary, aggregates, comparison and one story (three variants, scenario order kept)."""
    spec = _scenario(doctrine)
    aggs = execute(Batch(doctrine, spec, ("baseline", "none", "front"), record_runs=False, record_events=False),
                   executor="serial").aggregates
    names = [r.name for r in doctrine.ladder]
    summary = {"title": spec.title, "baseline": "baseline", "rung_names": names, "runs": spec.runs, "seed": spec.seed,
               "horizon_weeks": spec.horizon_weeks,
               "variants": {v: summarise(aggs[v], names) for v in ("baseline", "none", "front")}}
    from sim.output import comparison as compare
    from sim.output.story import replay

    return summary, aggs, compare.from_summary(summary), replay(doctrine, spec, 3)


@pytest.fixture(scope="module")
def drawn(batch, tmp_path_factory):
    summary, aggs, comparison, story = batch
    folder = tmp_path_factory.mktemp("charts")
    paths = charts.draw_all(summary, aggs, folder, comparison=comparison, stories=[story], formats=("png", "svg"),
                            workers=1)
    return folder, paths, aggs, story


class Captured:
    """The figures the chart functions would save, kept open for inspection instead."""

    def __init__(self, monkeypatch):
        self.figures = {}

        def keep(fig, folder, name, formats=("png",)):
            self.figures[name] = fig
            return []

        monkeypatch.setattr(charts, "_save", keep)


@pytest.fixture
def captured(monkeypatch):
    yield (c := Captured(monkeypatch))
    for fig in c.figures.values():
        charts.plt.close(fig)


def test_draw_all_writes_the_report_set_in_the_formats_asked(drawn, batch):
    folder, paths, _, story = drawn
    expected = {f"cumulative__{o}" for o in charts.HEADLINE_OUTCOMES} | {
        "rung_reached", "variant_comparison", "escalation_fan", "rung_occupancy",
        f"timeline__baseline__run{story['run']}"}
    assert {p.stem for p in paths} == expected
    assert [p.stem for p in paths][::2] == [c.name for c in charts.plan(*batch[:3], [story])]  # the plan's order
    for stem in expected:
        png, svg = folder / f"{stem}.png", folder / f"{stem}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.stat().st_size > 10_000
        assert ET.parse(svg).getroot().tag.endswith("svg")
    assert len(list(folder.iterdir())) == 2 * len(expected)  # no per-variant files


def test_png_is_the_default_format(batch, tmp_path):
    summary, aggs, comparison, story = batch
    paths = charts.draw_all(summary, aggs, tmp_path, comparison=comparison, stories=[story], workers=1)
    assert paths and {p.suffix for p in paths} == {".png"}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)


def test_drawing_processes_write_the_same_files_as_one(drawn, batch, tmp_path):
    """In parallel processes the charts are the same, byte for byte (SVG), and come back in the plan's order."""
    summary, aggs, comparison, story = batch
    told = []
    paths = charts.draw_all(summary, aggs, tmp_path, comparison=comparison, stories=[story], formats=("png", "svg"),
                            workers=2, on_chart=lambda done, total, name: told.append((done, total, name)))
    assert [p.name for p in paths] == [p.name for p in drawn[1]]
    for p in paths:
        if p.suffix == ".svg":
            assert p.read_bytes() == (drawn[0] / p.name).read_bytes(), p.name
    assert [d for d, _, _ in told] == list(range(1, len(paths) // 2 + 1))
    assert {t for _, t, _ in told} == {len(paths) // 2}


def _svg_words(path: Path) -> str:
    return " ".join(" ".join(ET.parse(path).getroot().itertext()).split())


def test_rung_axes_and_keys_carry_full_rung_names(drawn, doctrine):
    """No rung name is cut: full names on the rung axes (wrapped on two lines) and in the keys of small multiples."""
    folder = drawn[0]
    names = [r.name for r in doctrine.ladder]
    longest = max(range(16), key=lambda r: len(names[r]))
    for stem, rungs in {"rung_reached": range(16), f"timeline__baseline__run{drawn[3]['run']}": range(16),
                        "rung_occupancy": range(16)}.items():
        text = _svg_words(folder / f"{stem}.svg")
        for r in rungs:
            assert " ".join(charts.rung_label(r, names).split()) in text, (stem, r)
        assert "…" not in text, stem
    assert len(names[longest]) > 60  # the longest name is longer than the old cut-off of 30 characters


def test_charts_have_titles_and_axis_labels(drawn):
    folder = drawn[0]
    for stem, words in {
        "cumulative__nuclear_signalling": ["nuclear_signalling: share of runs in which it has happened", "week",
                                           "log scale"],
        "rung_reached": ["Highest rung reached", "share of runs reaching the rung"],
        "variant_comparison": ["Probability per variant", "Difference to 'baseline'", "log scale"],
        "escalation_fan": ["Escalation fan", "baseline", "none", "front", "at this rung or higher"],
        "rung_occupancy": ["Rung occupancy", "log colour scale", "week"],
    }.items():
        text = _svg_words(folder / f"{stem}.svg")
        for w in words:
            assert w in text, (stem, w)


def test_fan_leaves_out_the_posture_rungs_and_shows_the_tail_on_a_log_axis(batch, captured):
    """Scripted arms deliveries put every run at rung 4 in their week: the fan starts at rung 5, on a log axis
    whose floor is half a run, so a single run at rung 9 or above is visible."""
    summary, aggs, _, _ = batch
    charts.fan_chart(summary, aggs, Path("unused"))
    fig = captured.figures["escalation_fan"]
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["baseline", "none", "front"]  # the scenario's order
    ax = panels[0]
    assert ax.get_yscale() == "log"
    assert ax.get_ylim()[0] == pytest.approx(charts.floor_share(summary["runs"]))
    colours = {matplotlib_colour(line.get_color()) for line in ax.get_lines() if line.get_linestyle() == "-"}
    fan_rungs = {charts.RUNG_PALETTE.index(c) for c in colours if c in charts.RUNG_PALETTE}
    assert fan_rungs and min(fan_rungs) >= charts.FAN_FROM
    agg = aggs["baseline"]
    at_or_above = np.cumsum(agg.headline_hist[:, ::-1], axis=1)[:, ::-1] / agg.runs
    drawn_rungs = {r for r in range(charts.FAN_FROM, 16) if at_or_above[:, r].any()}
    assert fan_rungs == drawn_rungs


def matplotlib_colour(c):
    from matplotlib.colors import to_hex

    return to_hex(c)


def test_cumulative_overlay_is_the_share_happened_by_each_week(batch, captured):
    summary, aggs, _, _ = batch
    oid = "nuclear_signalling"
    charts.cumulative_chart(summary, aggs, oid, Path("unused"))
    ax = captured.figures[f"cumulative__{oid}"].axes[0]
    assert ax.get_yscale() == "log"
    i = list(OUTCOMES).index(oid)
    lines = [ln for ln in ax.get_lines() if ln.get_drawstyle() == "steps-post"]
    assert len(lines) == 3
    for line, v in zip(lines, ("baseline", "none", "front"), strict=True):
        expected = np.cumsum(aggs[v].first_week_hist[i]) / aggs[v].runs
        y = np.asarray(line.get_ydata(), dtype=float)
        assert np.allclose(np.nan_to_num(y), expected)
        assert np.isnan(y[expected == 0]).all()  # no run yet: nothing drawn below the floor
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0].startswith("baseline: ") and legend[1].startswith("none: ")


def test_comparison_chart_uses_log_scales_and_names_the_baseline_once(batch, captured):
    from sim.output import comparison as compare

    summary, _, comparison, _ = batch
    charts.comparison_chart(comparison, "t", Path("unused"))
    fig = captured.figures["variant_comparison"]
    left, right = fig.axes[:2]
    assert left.get_xscale() == "log" and right.get_xscale() == "symlog"
    legend = [t.get_text() for t in left.get_legend().get_texts()]
    assert legend == ["baseline", "none", "front"]
    renamed = compare.from_summary(dict(summary, baseline="none"))
    charts.comparison_chart(renamed, "t", Path("unused"), name="renamed")
    legend = [t.get_text() for t in captured.figures["renamed"].axes[0].get_legend().get_texts()]
    assert sorted(legend) == ["baseline", "front", "none (baseline)"]


def test_comparison_chart_says_which_interval_it_uses(drawn):
    text = _svg_words(drawn[0] / "variant_comparison.svg")
    assert "Newcombe's hybrid score interval for independent samples" in text


def test_timeline_marks_the_red_lines_crossed(drawn):
    story = drawn[3]
    text = _svg_words(drawn[0] / f"timeline__baseline__run{story['run']}.svg")
    assert story["red_lines_crossed"], "the deployment crosses a declared red line"
    for rl in story["red_lines_crossed"]:
        assert rl in text
    assert "The story of run 3" in text


def test_svg_output_is_reproducible(batch, tmp_path):
    """Redrawing the same aggregates gives byte-identical SVG files (no dates inside)."""
    summary, aggs, _, _ = batch
    a = charts.fan_chart(summary, aggs, tmp_path / "a", formats=("svg",))[0]
    b = charts.fan_chart(summary, aggs, tmp_path / "b", formats=("svg",))[0]
    assert a.read_bytes() == b.read_bytes()


HOSTILE = ("Costs $\\foo{x}$ \x1b[31mred\x1b[0m \x1b]8;;http://example.invalid\x07link\x1b]8;;\x07 <b>&amp; "
           + "very long " * 10_000)


def test_hostile_text_is_drawn_as_plain_bounded_text(batch, doctrine, tmp_path):
    """A title with mathtext, ANSI and OSC escapes, markup and 100,000 characters: drawn as its letters, valid
    SVG, no escape character, cut with an ellipsis, and the image stays as wide as with a short title."""
    from PIL import Image

    summary, aggs, comparison, story = batch
    hostile = dict(comparison, title=HOSTILE)
    told = dict(story, title=HOSTILE, variant="baseline")
    paths = charts.comparison_chart(hostile, HOSTILE, tmp_path, formats=("png", "svg"))
    paths += charts.timeline_chart(told, tmp_path, name="timeline", formats=("png", "svg"))
    for p in paths:
        if p.suffix == ".svg":
            raw = p.read_text(encoding="utf-8")
            assert "\x1b" not in raw and "\x07" not in raw
            text = _svg_words(p)  # parses as XML
            assert "Costs $\\foo{x}$ red link <b>&amp; very long" in text
            assert "…" in text and len(text) < 20_000
        else:
            assert Image.open(p).size[0] < 2_500, p.name


def test_the_distance_check_rejects_the_old_cividis_fill():
    """The check above can fail: the previous cividis palette does not pass it."""
    import matplotlib

    cmap = matplotlib.colormaps["cividis_r"]
    old = ["#{:02x}{:02x}{:02x}".format(*(int(255 * c) for c in cmap(0.08 + 0.92 * r / 15)[:3])) for r in range(16)]
    lab = _lab(_linear(_rgb(old)) @ CVD["deuteranopia"].T)
    assert np.linalg.norm(np.diff(lab, axis=0), axis=1).min() < 12


def test_many_variants_draw_a_bounded_set(batch, captured):
    """300 variants draw as many files as three: small multiples keep the first 12 panels, overlays the first 8,
    and the captions say so."""
    summary, aggs, comparison, story = batch
    names = [f"v{i:03d}" for i in range(300)]
    many = dict(summary, baseline="v000", variants={v: summary["variants"]["front"] for v in names})
    many_aggs = {v: aggs["front"] for v in names}
    planned = charts.plan(many, many_aggs, None, [story])
    assert len(planned) == len(charts.plan(summary, aggs, None, [story]))
    assert all("Only the first" in c.caption for c in planned if c.section in ("overlays", "multiples"))
    charts.fan_chart(many, many_aggs, Path("unused"))
    panels = [ax for ax in captured.figures["escalation_fan"].axes if ax.get_visible() and ax.get_title()]
    assert [ax.get_title() for ax in panels] == names[: charts.MAX_PANELS]
    charts.cumulative_chart(many, many_aggs, "nuclear_signalling", Path("unused"))
    ax = captured.figures["cumulative__nuclear_signalling"].axes[0]
    assert len(ax.get_legend().get_texts()) == charts.MAX_OVERLAID
