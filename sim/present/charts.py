"""Escalation charts drawn with matplotlib (Agg backend), as PNG and SVG, from what a batch leaves behind.

Every chart is a pure function of the summary, the merged aggregates and, where it needs them, the per-run table,
the events and the story of one run, so ``escalation plot`` redraws them all from a results folder without running
the model. Rung names label every rung axis, and every rung has one colour, the same in every chart.

The rung palette groups the ladder into stages (talk and status quo in greys, threats and posturing in blues,
signalling, hybrid and airspace moves in yellows and oranges, conventional violence in pinks and reds, war and
nuclear use in purples and near-black) and alternates lightness inside a stage, so neighbouring rungs stay
distinguishable under the common forms of colour-blindness (a test checks their distance in CIELAB after simulating
deuteranopia, protanopia and tritanopia).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import patheffects  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from sim.engine.aggregates import Aggregates  # noqa: E402
from sim.output.statistics import wilson_interval
from sim.output.summary import share_at_or_above
from sim.spec.vocabulary import OUTCOME_IDS  # noqa: E402

N_RUNGS = 16

#: One colour per rung (hex sRGB), in rung order; see the module docstring for how it was chosen.
RUNG_PALETTE: tuple[str, ...] = (
    "#e8e8e8",  # 0 de-escalation
    "#aaaaaa",  # 1 status quo
    "#9ecae1",  # 2 explicit threat
    "#4292c6",  # 3 coercion
    "#08519c",  # 4 posturing, routine war
    "#ffe066",  # 5 nuclear signalling
    "#fdae61",  # 6 hybrid attack
    "#b35806",  # 7 airspace incident
    "#f4a3a8",  # 8 massed strikes in Ukraine
    "#d6604d",  # 9 strike on NATO forces in Ukraine
    "#8e0152",  # 10 strike on NATO territory
    "#67001f",  # 11 limited NATO-Russia combat
    "#7b3294",  # 12 general war
    "#40004b",  # 13 nuclear demonstration
    "#3f3f3f",  # 14 limited nuclear use
    "#000000",  # 15 strategic nuclear war
)

#: The rung at which each outcome happens, for its colour (the rung of the acts that realise it).
OUTCOME_RUNG: dict[str, int] = {
    "nuclear_signalling": 5,
    "heavier_strikes_on_ukraine": 8,
    "hybrid_attack_on_nato": 6,
    "airspace_incident": 7,
    "strike_on_nato_forces_in_ukraine": 9,
    "strike_on_nato_territory": 10,
    "article4_consultation": 1,
    "article5_invoked": 2,
    "nato_russia_war": 12,
    "nuclear_use": 14,
    "strategic_nuclear_war": 15,
    "partial_deal": 0,
    "ceasefire": 0,
}

#: Outcomes shown in the time-to-threshold chart, when they happen in at least one run.
KEY_OUTCOMES: tuple[str, ...] = (
    "nuclear_signalling",
    "hybrid_attack_on_nato",
    "airspace_incident",
    "article4_consultation",
    "strike_on_nato_forces_in_ukraine",
    "strike_on_nato_territory",
    "nato_russia_war",
    "nuclear_use",
)

#: Variant colours (Okabe and Ito's colour-blind-safe qualitative set), baseline first; markers differ too.
VARIANT_COLOURS: tuple[str, ...] = (
    "#000000", "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442",
)
VARIANT_MARKERS: tuple[str, ...] = ("o", "s", "D", "^", "v", "P", "X", "*")

_BLOC_MARKERS = {"russia": "o", "nato": "s", "ukraine": "^", "third": "D"}


def rung_colours() -> list[str]:
    """One colour per rung, the same in every chart.

    >>> len(rung_colours()), rung_colours()[15]
    (16, '#000000')
    """
    return list(RUNG_PALETTE)


def rung_label(r: int, names: Sequence[str], width: int = 30) -> str:
    """The tick label of rung ``r``: its number and (shortened) name.

    >>> rung_label(5, ["x"] * 5 + ["Nuclear signalling and alerts"], width=12)
    '5 Nuclear sig…'
    """
    name = names[r]
    if len(name) > width:
        name = name[: width - 1].rstrip() + "…"
    return f"{r} {name}"


def _dark(colour: str) -> bool:
    """Whether text on this colour should be white (relative luminance below 0.25).

    >>> _dark("#000000"), _dark("#ffe066")
    (True, False)
    """
    r, g, b = matplotlib.colors.to_rgb(colour)
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2] < 0.25


def _rung_axis(ax: Any, names: Sequence[str], which: str = "y", fontsize: float = 7) -> None:
    """Label a rung axis with rung names, each tick label in a box of its rung's colour."""
    ticks = list(range(N_RUNGS))
    labels = [rung_label(r, names) for r in ticks]
    if which == "y":
        ax.set_yticks(ticks)
        ax.set_yticklabels(labels, fontsize=fontsize)
        tl = ax.get_yticklabels()
    else:
        ax.set_xticks(ticks)
        ax.set_xticklabels(labels, fontsize=fontsize, rotation=60, ha="right")
        tl = ax.get_xticklabels()
    for r, label in enumerate(tl):
        label.set_bbox({"facecolor": RUNG_PALETTE[r], "edgecolor": "none", "pad": 1})
        label.set_color("white" if _dark(RUNG_PALETTE[r]) else "black")


def _save(fig: Any, folder: Path, name: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    # the tight box once, for both formats (each tight save would draw the figure twice)
    box = fig.get_tightbbox(fig.canvas.get_renderer()).padded(0.1)
    paths = []
    for ext in ("png", "svg"):
        p = folder / f"{name}.{ext}"
        tmp = p.with_name(p.name + ".tmp")  # then renamed: a chart stopped mid-drawing is never left half-written
        # SVG text stays text: searchable, selectable and smaller than glyph outlines
        with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": name}):
            fig.savefig(tmp, format=ext, dpi=110 if ext == "png" else None, bbox_inches=box,
                        metadata=_metadata(ext))
        tmp.replace(p)
        paths.append(p)
    plt.close(fig)
    return paths


def _share_format(x: float, _pos: Any = None) -> str:
    """Tick label of a share on a log colour scale, in plain text (no mathtext).

    >>> _share_format(0.001), _share_format(0.5), _share_format(1.0)
    ('0.1%', '50%', '100%')
    """
    return f"{100 * x:.0f}%" if x >= 0.1 else f"{100 * x:.2g}%"


def _log_colourbar(fig: Any, im: Any, ax: Any, label: str, **kw: Any) -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    cb = fig.colorbar(im, ax=ax, pad=0.01, **kw)
    cb.ax.yaxis.set_major_locator(LogLocator(base=10))
    cb.ax.yaxis.set_major_formatter(FuncFormatter(_share_format))
    cb.ax.yaxis.set_minor_formatter(NullFormatter())
    cb.set_label(label)


def _metadata(ext: str) -> dict[str, Any]:
    # no creation dates: the same results draw byte-identical SVG files
    return {"Date": None} if ext == "svg" else {}


def _footer(fig: Any, text: str) -> None:
    fig.text(0.01, -0.01, text, fontsize=7, color="#555555", ha="left", va="top")


# ------------------------------------------------------------------------------------------- one variant
def fan_chart(agg: Aggregates, rung_names: Sequence[str], title: str, folder: Path,
              name: str = "escalation_fan") -> list[Path]:
    """Share of runs at or above each rung of the Russia-NATO axis, week by week, with sample paths below."""
    n = max(agg.runs, 1)
    at_or_above = share_at_or_above(agg.headline_hist, n)  # (W, 16)
    weeks = np.arange(agg.horizon)
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(11, 9), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    seen = np.flatnonzero(agg.headline_hist.sum(axis=0))
    top = int(seen[-1]) if seen.size else 1
    handles = [Patch(facecolor="white", edgecolor="#666666", lw=0.4, label="white: status quo or calmer (rungs 0-1)")]
    for r in range(2, top + 1):
        upper = at_or_above[:, r]
        lower = at_or_above[:, r + 1] if r + 1 < N_RUNGS else np.zeros_like(upper)
        ax.fill_between(weeks, lower, upper, step="mid", color=RUNG_PALETTE[r], lw=0)
        handles.append(Patch(facecolor=RUNG_PALETTE[r], edgecolor="#666666", lw=0.4,
                             label=rung_label(r, rung_names, 40)))
    ax.set_ylim(0, 1)
    ax.set_xlim(-0.5, agg.horizon - 0.5)
    ax.set_ylabel("share of runs at or above the rung")
    ax.set_title(f"{title}\nEscalation fan: share of runs at each rung or higher on the Russia-NATO axis, week by week "
                 f"({agg.runs:,} runs)", fontsize=10)
    ax.legend(handles=handles[::-1], loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7.5,
              title="highest rung that week", title_fontsize=8)
    ax.grid(alpha=0.25)
    # a few stored paths: the three that climb highest, then the lowest-numbered others
    ranked = sorted(agg.sample_paths.items(), key=lambda kv: (-max(kv[1]), kv[0]))[:3]
    rest = [kv for kv in sorted(agg.sample_paths.items()) if kv not in ranked][: 6 - len(ranked)]
    paths = sorted(ranked + rest)
    styles = ["-", "--", "-.", ":"]
    for i, (run, path) in enumerate(paths):
        jitter = (i - (len(paths) - 1) / 2) * 0.09
        ax2.step(weeks, np.asarray(path) + jitter, where="mid", color=("#222222", "#666666")[i % 2],
                 ls=styles[i % len(styles)], alpha=0.85, lw=1.1, label=f"run {run}")
        peak = int(np.argmax(path))
        ax2.scatter([peak], [path[peak] + jitter], color=RUNG_PALETTE[int(path[peak])], edgecolor="#222222",
                    s=28, zorder=3, lw=0.6)
    _rung_axis(ax2, rung_names)
    ax2.set_ylim(-0.5, 15.5)
    ax2.set_xlabel("week")
    ax2.set_ylabel("rung")
    ax2.set_title(f"Sample paths: the highest rung each week in runs {', '.join(str(r) for r, _ in paths)}"
                  " (dot: each run's peak)", fontsize=9)
    ax2.grid(alpha=0.25)
    if paths:
        ax2.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7.5)
    return _save(fig, folder, name)


def occupancy_heatmap(agg: Aggregates, rung_names: Sequence[str], title: str, folder: Path,
                      name: str = "rung_occupancy") -> list[Path]:
    """Heat map over weeks and rungs: the share of runs whose Russia-NATO axis stands at each rung that week."""
    n = max(agg.runs, 1)
    share = agg.headline_hist.T / n  # (16, W)
    fig, ax = plt.subplots(figsize=(11, 6))
    masked = np.ma.masked_where(share <= 0, share)
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="white")
    im = ax.imshow(masked, aspect="auto", origin="lower", cmap=cmap, norm=LogNorm(vmin=max(1.0 / n, 1e-4), vmax=1.0),
                   extent=(-0.5, agg.horizon - 0.5, -0.5, N_RUNGS - 0.5), interpolation="nearest")
    _rung_axis(ax, rung_names)
    ax.set_xlabel("week")
    ax.set_ylabel("rung (Russia-NATO axis)")
    ax.set_title(f"{title}\nRung occupancy: share of runs at each rung, week by week (log colour scale; white: no run)",
                 fontsize=10)
    _log_colourbar(fig, im, ax, "share of runs (log scale)")
    return _save(fig, folder, name)


def outcome_chart(variant_summary: dict[str, Any], title: str, folder: Path,
                  name: str = "outcome_probabilities") -> list[Path]:
    """Each outcome's probability within the horizon with its 95% Wilson interval, coloured by its rung."""
    outs = variant_summary["outcomes"]
    ids = [i for i in OUTCOME_IDS if i in outs]
    p = np.array([outs[i]["probability"] for i in ids])
    lo = np.array([outs[i]["ci95"][0] for i in ids])
    hi = np.array([outs[i]["ci95"][1] for i in ids])
    fig, ax = plt.subplots(figsize=(9.5, 6))
    y = np.arange(len(ids))[::-1]
    ax.barh(y, p, color=[RUNG_PALETTE[OUTCOME_RUNG.get(i, 1)] for i in ids], edgecolor="#444444", lw=0.5)
    ax.errorbar(p, y, xerr=[np.clip(p - lo, 0, None), np.clip(hi - p, 0, None)], fmt="none", ecolor="black",
                capsize=3, lw=1)
    for yi, pi, loi, hii in zip(y, p, lo, hi, strict=True):
        ax.text(hii + 0.012, yi, f"{pi:.1%} ({loi:.1%}-{hii:.1%})", va="center", fontsize=7.5)
    ax.set_yticks(y)
    ax.set_yticklabels(ids, fontsize=8.5)
    ax.set_xlim(0, 1.3)  # room for the labels right of a bar near 1
    ax.set_xticks(np.linspace(0, 1, 6))
    ax.set_xlabel(f"probability within the horizon, 95% Wilson interval ({variant_summary['runs']:,} runs)")
    ax.set_title(f"{title}\nOutcome probabilities (bar colour: the outcome's rung)", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, folder, name)


def max_rung_chart(agg: Aggregates, rung_names: Sequence[str], title: str, folder: Path,
                   name: str = "max_rung") -> list[Path]:
    """Distribution of the highest rung each run reaches, on both axes, with 95% Wilson intervals."""
    n = max(agg.runs, 1)
    fig, axes = plt.subplots(1, 2, figsize=(12, 6.5), sharey=True)
    for ax, hist, label in ((axes[0], agg.max_rung_hist, "Russia-NATO axis"),
                            (axes[1], agg.max_ukraine_hist, "Russia-Ukraine axis")):
        share = hist / n
        ci = np.array([wilson_interval(int(k), agg.runs) for k in hist])
        r = np.arange(N_RUNGS)
        ax.barh(r, share, color=RUNG_PALETTE, edgecolor="#444444", lw=0.5)
        ax.errorbar(share, r, xerr=[np.clip(share - ci[:, 0], 0, None), np.clip(ci[:, 1] - share, 0, None)],
                    fmt="none", ecolor="black", capsize=2, lw=0.8)
        reach = np.cumsum(hist[::-1])[::-1] / n
        ax.plot(reach, r, "o--", color="#222222", lw=0.9, ms=3, label="reached: this rung or higher")
        for ri, s, top in zip(r, share, ci[:, 1], strict=True):
            if s > 0:
                ax.text(top + 0.015, ri + 0.2, f"{s:.1%}", va="center", fontsize=7)
        ax.set_xlim(0, 1.12)
        ax.set_xticks(np.linspace(0, 1, 6))
        ax.set_xlabel(f"share of runs, 95% Wilson interval ({agg.runs:,} runs)")
        ax.set_title(label, fontsize=9)
        ax.grid(axis="x", alpha=0.3)
        ax.legend(loc="upper right", fontsize=7.5)
    _rung_axis(axes[0], rung_names)
    axes[0].set_ylabel("highest rung reached in the run")
    axes[0].set_ylim(-0.5, 15.5)
    fig.suptitle(f"{title}\nHighest rung reached within the horizon", fontsize=10)
    return _save(fig, folder, name)


def time_to_threshold_chart(agg: Aggregates, title: str, folder: Path, name: str = "time_to_threshold",
                            outcomes: Sequence[str] = KEY_OUTCOMES) -> list[Path]:
    """For key outcomes, the share of runs in which the outcome has not yet happened, week by week."""
    n = max(agg.runs, 1)
    weeks = np.arange(agg.horizon + 1)
    fig, ax = plt.subplots(figsize=(10, 6))
    styles = ["-", "--", "-.", ":"]
    drawn = 0
    for i, oid in enumerate(OUTCOME_IDS):
        if oid not in outcomes or agg.outcome_counts[i] == 0:
            continue
        # not yet by the start of week w: 1 - (share happened in weeks before w)
        before = np.concatenate([[0], np.cumsum(agg.first_week_hist[i])])
        ax.step(weeks, 1 - before / n, where="post", color=RUNG_PALETTE[OUTCOME_RUNG[oid]], lw=2.2,
                ls=styles[drawn % len(styles)], label=f"{oid} ({agg.outcome_counts[i] / n:.1%} by the end)",
                path_effects=[patheffects.Stroke(linewidth=3.4, foreground="#555555"), patheffects.Normal()])
        drawn += 1
    if not drawn:
        ax.text(0.5, 0.5, "none of the key outcomes happened in any run", transform=ax.transAxes, ha="center")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, agg.horizon)
    ax.set_xlabel("week")
    ax.set_ylabel("share of runs in which it has not happened yet")
    ax.set_title(f"{title}\nTime to threshold: runs still short of each outcome, week by week ({agg.runs:,} runs; "
                 "line colour: the outcome's rung)", fontsize=10)
    ax.grid(alpha=0.3)
    if drawn:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, title="outcome", title_fontsize=8)
    return _save(fig, folder, name)


def transition_chart(agg: Aggregates, rung_names: Sequence[str], title: str, folder: Path,
                     name: str = "rung_transitions") -> list[Path]:
    """The week-to-week transition matrix between rungs of the Russia-NATO axis (rows: from; share of each row)."""
    counts = agg.transitions.astype(np.float64)
    rows = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    fig, ax = plt.subplots(figsize=(10, 9))
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="white")
    norm = LogNorm(vmin=max(share[share > 0].min(), 1e-5) if (share > 0).any() else 1e-5, vmax=1.0)
    im = ax.imshow(np.ma.masked_where(share <= 0, share), cmap=cmap, origin="lower", norm=norm)
    for i, j in zip(*np.nonzero(share), strict=True):
        v = share[i, j]
        ax.text(j, i, f"{v:.0%}" if v >= 0.01 else "<1%", ha="center", va="center", fontsize=6,
                color="black" if norm(v) > 0.55 else "white")
    _rung_axis(ax, rung_names, "y")
    _rung_axis(ax, rung_names, "x")
    ax.set_ylabel("rung this week (from)")
    ax.set_xlabel("rung next week (to)")
    ax.set_title(f"{title}\nTransitions between rungs, week to week (share of each row; white: never seen; "
                 f"{int(counts.sum()):,} week pairs)", fontsize=10)
    _log_colourbar(fig, im, ax, "share of the row (log scale)", shrink=0.8)
    return _save(fig, folder, name)


# ------------------------------------------------------------------------------------------- variants
def comparison_chart(comparison: dict[str, Any], title: str, folder: Path,
                     name: str = "variant_comparison") -> list[Path]:
    """Each outcome's probability per variant with 95% intervals, and each variant's difference to the baseline.

    ``comparison`` is the structure built by :mod:`sim.output.comparison`; its ``method`` says how the difference
    intervals were computed (paired, from per-run data under common random numbers, or Newcombe's independent-sample
    one).
    """
    variants: list[str] = comparison["variants"]
    base = comparison["baseline"]
    others = [v for v in variants if v != base]
    ids = [i for i in OUTCOME_IDS if i in comparison["outcomes"]]
    y = np.arange(len(ids))[::-1].astype(float)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(14, max(6, 0.45 * len(ids) + 2)), sharey=True)
    k = len(variants)
    offsets = (np.arange(k) - (k - 1) / 2) * min(0.8 / max(k, 1), 0.16)
    for j, v in enumerate(variants):
        p = np.array([comparison["outcomes"][i][v]["probability"] for i in ids])
        lo = np.array([comparison["outcomes"][i][v]["ci95"][0] for i in ids])
        hi = np.array([comparison["outcomes"][i][v]["ci95"][1] for i in ids])
        ax.errorbar(p, y + offsets[j], xerr=[np.clip(p - lo, 0, None), np.clip(hi - p, 0, None)],
                    fmt=VARIANT_MARKERS[j % len(VARIANT_MARKERS)], color=VARIANT_COLOURS[j % len(VARIANT_COLOURS)],
                    ms=5, capsize=2, lw=1, label=v + (" (baseline)" if v == base else ""))
    ax.set_yticks(y)
    ax.set_yticklabels(ids, fontsize=8.5)
    for yi, oid in zip(y, ids, strict=True):
        ax.axhspan(yi - 0.45, yi + 0.45, xmin=0, xmax=0.012, color=RUNG_PALETTE[OUTCOME_RUNG.get(oid, 1)])
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("probability within the horizon (95% Wilson interval)")
    ax.set_title("Probability per variant", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.08), fontsize=8, ncol=min(k, 3))
    span = 0.0
    for j, v in enumerate(variants):
        if v == base:
            continue
        diffs = comparison["differences"][v]
        d = np.array([diffs[i]["difference"] for i in ids])
        lo = np.array([diffs[i]["ci95"][0] for i in ids])
        hi = np.array([diffs[i]["ci95"][1] for i in ids])
        span = max(span, float(np.abs(lo).max(initial=0)), float(np.abs(hi).max(initial=0)))
        ax2.errorbar(d, y + offsets[j], xerr=[np.clip(d - lo, 0, None), np.clip(hi - d, 0, None)],
                     fmt=VARIANT_MARKERS[j % len(VARIANT_MARKERS)], color=VARIANT_COLOURS[j % len(VARIANT_COLOURS)],
                     ms=5, capsize=2, lw=1, label=f"{v} - {base}")
    ax2.axvline(0, color="#444444", lw=1)
    span = max(span * 1.1, 0.02)
    ax2.set_xlim(-span, span)
    ax2.set_xlabel("difference in probability to the baseline (95% interval)")
    ax2.set_title(f"Difference to '{base}'", fontsize=9)
    ax2.grid(axis="x", alpha=0.3)
    if others:
        ax2.legend(loc="upper left", bbox_to_anchor=(0, -0.08), fontsize=8, ncol=min(len(others), 3))
    fig.suptitle(f"{title}\nVariant comparison ({comparison['runs']:,} runs per variant, "
                 f"seed {comparison.get('seed', '?')})", fontsize=10)
    _footer(fig, "Difference intervals: " + comparison["method_text"])
    return _save(fig, folder, name)


# ------------------------------------------------------------------------------------------- one run
def timeline_chart(story: dict[str, Any], folder: Path, name: str | None = None) -> list[Path]:
    """The story of one run: each actor's acts by week on the ladder, both axes' paths and the red lines crossed.

    ``story`` is the structure built by :mod:`sim.output.story` (from a replay or from the event table).
    """
    names: list[str] = story["rung_names"]
    horizon = story["horizon_weeks"]
    weeks = np.arange(horizon)
    acts = [(w["week"], a) for w in story["weeks"] for a in w["acts"]]
    actors = list(dict.fromkeys(a["actor"] for _, a in acts))
    blocs: dict[str, str] = story.get("blocs", {})
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(12, 10 + 0.12 * len(actors)), sharex=True,
                                  gridspec_kw={"height_ratios": [3, max(1.2, 0.22 * len(actors))]})
    ax.step(weeks, story["headline"], where="mid", color="#222222", lw=1.8, label="Russia-NATO axis (highest rung)")
    if story.get("ukraine_axis") is not None:
        ax.step(weeks, story["ukraine_axis"], where="mid", color="#777777", lw=1.2, ls="--",
                label="Russia-Ukraine axis")
    per_week: dict[tuple[int, int], int] = {}
    points: dict[str, tuple[list[float], list[int], list[float], list[str]]] = {}
    for week, a in acts:
        k = per_week.get((week, a["rung"]), 0)
        per_week[(week, a["rung"])] = k + 1
        xs, ys, rows, cols = points.setdefault(blocs.get(a["actor"], "third"), ([], [], [], []))
        xs.append(week + 0.18 * k)
        ys.append(a["rung"])
        rows.append(actors.index(a["actor"]))
        cols.append(RUNG_PALETTE[a["rung"]])
    for bloc, (xs, ys, rows, cols) in points.items():
        marker = _BLOC_MARKERS.get(bloc, "o")
        ax.scatter(xs, ys, marker=marker, s=40, c=cols, edgecolor="#222222", lw=0.6, zorder=3)
        ax2.scatter(np.floor(xs), rows, marker=marker, s=34, c=cols, edgecolor="#222222", lw=0.5, zorder=3)
    crossed = [(w["week"], r) for w in story["weeks"] for r in w.get("red_lines", [])
               if r["event"] in ("crossed", "enforced")]
    marked: dict[int, list[str]] = {}
    for week, r in crossed:
        tag = r["id"] + (" (enforced)" if r["event"] == "enforced" else "")
        if r["event"] == "enforced" and r["id"] in marked.get(week, []):
            marked[week].remove(r["id"])
        marked.setdefault(week, []).append(tag)
    for week, tags in sorted(marked.items()):
        enforced = any(t.endswith("(enforced)") for t in tags)
        for a_ in (ax, ax2):
            a_.axvline(week, color="#b2182b", lw=1.4 if enforced else 0.9, ls="-" if enforced else ":", alpha=0.8)
        ax.text(week + 0.1, 15.3, "\n".join(tags), rotation=90, va="top", ha="left", fontsize=6.5, color="#b2182b")
    _rung_axis(ax, names)
    ax.set_ylim(-0.5, 15.5)
    ax.set_ylabel("rung")
    legend = [Line2D([], [], color="#222222", lw=1.8, label="Russia-NATO axis")]
    if story.get("ukraine_axis") is not None:
        legend.append(Line2D([], [], color="#777777", lw=1.2, ls="--", label="Russia-Ukraine axis"))
    if story.get("red_lines_known", True):
        legend += [Line2D([], [], color="#b2182b", lw=1.4, label="red line crossed and enforced"),
                   Line2D([], [], color="#b2182b", lw=0.9, ls=":", label="red line crossed, not enforced")]
    legend += [Line2D([], [], marker=m, ls="", color="#bbbbbb", markeredgecolor="#222222", label=f"act by {b}")
               for b, m in _BLOC_MARKERS.items() if b in set(blocs.get(a, "third") for a in actors)]
    ax.legend(handles=legend, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7.5)
    ax.grid(alpha=0.25)
    source = "replayed" if story.get("replayed") else "from the event table"
    if not story.get("red_lines_known", True):
        source += "; red-line crossings are recorded only by a replay"
    ax.set_title(f"{story['title']} [{story['variant']}]\n"
                 f"The story of run {story['run']} (seed {story['seed']}, {source}): acts by week on the ladder",
                 fontsize=10)
    ax2.set_yticks(range(len(actors)))
    ax2.set_yticklabels(actors, fontsize=7.5)
    ax2.set_ylim(-0.7, max(len(actors), 1) - 0.3)
    ax2.invert_yaxis()
    ax2.set_xlim(-0.7, horizon - 0.3)
    ax2.set_xlabel("week")
    ax2.set_ylabel("actor")
    ax2.set_title("Who acted when (marker colour: the act's rung)", fontsize=9)
    ax2.grid(alpha=0.25)
    return _save(fig, folder, name or f"timeline__{story['variant']}__run{story['run']}")


# ------------------------------------------------------------------------------------------- all of them
def draw_all(summary: dict[str, Any], aggregates: dict[str, Aggregates], folder: Path,
             comparison: dict[str, Any] | None = None, stories: Sequence[dict[str, Any]] = ()) -> list[Path]:
    """Draw every chart of a batch into ``folder``; returns the files written.

    Per variant (the baseline's files carry no suffix, the others ``__<variant>``): the escalation fan, the rung
    occupancy heat map, outcome probabilities, the highest rung reached, time to threshold and the transition
    matrix. With more than one variant and a ``comparison``, the variant comparison; and one timeline per story.
    """
    folder = Path(folder)
    names = summary["rung_names"]
    paths: list[Path] = []
    for v, agg in aggregates.items():
        suffix = "" if v == summary["baseline"] else f"__{v}"
        label = f"{summary['title']} [{v}]"
        paths += fan_chart(agg, names, label, folder, "escalation_fan" + suffix)
        paths += occupancy_heatmap(agg, names, label, folder, "rung_occupancy" + suffix)
        paths += outcome_chart(summary["variants"][v], label, folder, "outcome_probabilities" + suffix)
        paths += max_rung_chart(agg, names, label, folder, "max_rung" + suffix)
        paths += time_to_threshold_chart(agg, label, folder, "time_to_threshold" + suffix)
        paths += transition_chart(agg, names, label, folder, "rung_transitions" + suffix)
    if comparison is not None and len(comparison["variants"]) > 1:
        paths += comparison_chart(comparison, summary["title"], folder)
    for story in stories:
        paths += timeline_chart(story, folder)
    return paths
