"""Charts: the rung palette, the outcome colours, and every chart drawn from a small batch's aggregates."""

from __future__ import annotations

import json
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


def _scenario(doctrine):
    from sim.spec.scenario import ScenarioSpec

    data = {
        "name": "chart_test", "title": "Chart test", "question": "What do the charts show?", "horizon_weeks": 16,
        "runs": 60, "seed": 11, "chunk_size": 25,
        "deployments": [{"id": "eng", "contributors": ["france", "poland"], "type": "non_combat", "size": 3000,
                         "location": "frontline", "start_week": 1}],
        "timeline": [{"week": 0, "actor": "us", "move": "arms_delivery"}],
        "variants": [{"name": "none", "deployments": []}],
    }
    return ScenarioSpec.model_validate(data, context={"doctrine": doctrine})


@pytest.fixture(scope="module")
def drawn(doctrine, tmp_path_factory):
    spec = _scenario(doctrine)
    batch = Batch(doctrine, spec, ("baseline", "none"), record_runs=False, record_events=False)
    aggs = execute(batch, executor="serial").aggregates
    names = [r.name for r in doctrine.ladder]
    summary = {"title": spec.title, "baseline": "baseline", "rung_names": names, "runs": spec.runs, "seed": spec.seed,
               "variants": {v: summarise(a, names) for v, a in aggs.items()}}
    from sim.output import comparison as compare

    comparison = compare.from_summary(summary)
    from sim.output.story import replay

    story = replay(doctrine, spec, 3)
    folder = tmp_path_factory.mktemp("charts")
    paths = charts.draw_all(summary, aggs, folder, comparison=comparison, stories=[story])
    return folder, paths, aggs, story


def test_draw_all_writes_every_chart_as_png_and_svg(drawn):
    folder, paths, _, story = drawn
    stems = {p.stem for p in paths}
    expected = set()
    for base in ("escalation_fan", "rung_occupancy", "outcome_probabilities", "max_rung", "time_to_threshold",
                 "rung_transitions"):
        expected |= {base, base + "__none"}
    expected |= {"variant_comparison", f"timeline__baseline__run{story['run']}"}
    assert stems == expected
    for stem in expected:
        png, svg = folder / f"{stem}.png", folder / f"{stem}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.stat().st_size > 10_000
        root = ET.parse(svg).getroot()
        assert root.tag.endswith("svg")


def _svg_text(path: Path) -> str:
    return "".join(ET.parse(path).getroot().itertext())


def test_rung_axes_carry_rung_names(drawn, doctrine):
    folder = drawn[0]
    for stem in ("escalation_fan", "rung_occupancy", "max_rung", "rung_transitions"):
        text = _svg_text(folder / f"{stem}.svg")
        names = [r.name for r in doctrine.ladder]
        for r in (0, 5, 9, 15):
            assert charts.rung_label(r, names) in text, (stem, r)


def test_charts_have_titles_and_axis_labels(drawn):
    folder = drawn[0]
    for stem, words in {
        "escalation_fan": ["Escalation fan", "week", "share of runs at or above the rung"],
        "rung_occupancy": ["Rung occupancy", "week", "rung (Russia-NATO axis)"],
        "outcome_probabilities": ["Outcome probabilities", "95% Wilson interval"],
        "max_rung": ["Highest rung reached", "Russia-Ukraine axis"],
        "time_to_threshold": ["Time to threshold", "not happened yet"],
        "rung_transitions": ["Transitions between rungs", "rung next week (to)"],
    }.items():
        text = _svg_text(folder / f"{stem}.svg")
        for w in words:
            assert w in text, (stem, w)


def test_comparison_chart_says_which_interval_it_uses(drawn):
    text = _svg_text(drawn[0] / "variant_comparison.svg")
    assert "Newcombe's hybrid score interval for independent samples" in text
    assert "Difference to 'baseline'" in text


def test_timeline_marks_the_red_lines_crossed(drawn):
    story = drawn[3]
    text = _svg_text(drawn[0] / f"timeline__baseline__run{story['run']}.svg")
    assert story["red_lines_crossed"], "the deployment crosses a declared red line"
    for rl in story["red_lines_crossed"]:
        assert rl in text
    assert "The story of run 3" in text


def test_time_to_threshold_starts_at_one_and_ends_at_the_share_not_reached(drawn):
    aggs = drawn[2]
    agg = aggs["baseline"]
    i = list(OUTCOMES).index("nuclear_signalling")
    before = np.concatenate([[0], np.cumsum(agg.first_week_hist[i])])
    survival = 1 - before / agg.runs
    assert survival[0] == 1.0
    assert survival[-1] == pytest.approx(1 - agg.outcome_counts[i] / agg.runs)


def test_svg_output_is_reproducible(drawn, tmp_path):
    """Redrawing the same aggregates gives byte-identical SVG files (no dates inside)."""
    aggs = drawn[2]
    names = json.loads(json.dumps([f"rung {i}" for i in range(16)]))
    a = charts.fan_chart(aggs["baseline"], names, "t", tmp_path / "a")[1]
    b = charts.fan_chart(aggs["baseline"], names, "t", tmp_path / "b")[1]
    assert a.read_bytes() == b.read_bytes()


def test_the_distance_check_rejects_the_old_cividis_fill():
    """The check above can fail: the previous cividis palette does not pass it."""
    import matplotlib

    cmap = matplotlib.colormaps["cividis_r"]
    old = ["#{:02x}{:02x}{:02x}".format(*(int(255 * c) for c in cmap(0.08 + 0.92 * r / 15)[:3])) for r in range(16)]
    lab = _lab(_linear(_rgb(old)) @ CVD["deuteranopia"].T)
    assert np.linalg.norm(np.diff(lab, axis=0), axis=1).min() < 12
