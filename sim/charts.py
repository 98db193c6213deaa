"""Escalation charts drawn with matplotlib (Agg backend) from a batch's summary and aggregates, as PNG and SVG.

One colour per rung, the same in every chart, from the colour-blind-safe 'cividis' map; rung names label the rung
axis. Charts are drawn from the merged aggregates only, so ``escalation plot`` can redraw them from a results
folder without running anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sim.outcomes import Aggregates  # noqa: E402
from sim.vocabulary import OUTCOME_IDS  # noqa: E402

N_RUNGS = 16


def rung_colours() -> list[tuple[float, float, float, float]]:
    """One colour per rung, low rungs pale, high rungs dark (cividis: readable with colour-blindness)."""
    cmap = matplotlib.colormaps["cividis_r"]
    return [cmap(0.08 + 0.92 * r / (N_RUNGS - 1)) for r in range(N_RUNGS)]


def _save(fig: plt.Figure, folder: Path, name: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in ("png", "svg"):
        p = folder / f"{name}.{ext}"
        fig.savefig(p, dpi=130 if ext == "png" else None, bbox_inches="tight")
        paths.append(p)
    plt.close(fig)
    return paths


def fan_chart(agg: Aggregates, rung_names: list[str], title: str, folder: Path, name: str = "escalation_fan") -> list[Path]:
    """Share of runs at or above each rung, week by week, with a few sample paths over it."""
    n = max(agg.runs, 1)
    at_or_above = np.cumsum(agg.headline_hist[:, ::-1], axis=1)[:, ::-1] / n  # (W, 16)
    weeks = np.arange(agg.horizon)
    colours = rung_colours()
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(11, 8.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    top = int(np.flatnonzero(agg.max_rung_hist)[-1]) if agg.max_rung_hist.any() else 1
    for r in range(2, min(top, 15) + 1):
        ax.fill_between(weeks, 0, at_or_above[:, r], step="mid", color=colours[r], alpha=0.9,
                        label=f"{r}: {rung_names[r]}")
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of runs at or above rung")
    ax.set_title(f"{title}\nEscalation fan: share of runs at or above each rung (Russia-NATO axis), week by week")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, title="rung", title_fontsize=9)
    ax.grid(alpha=0.3)
    for run, path in list(sorted(agg.sample_paths.items()))[:8]:
        ax2.step(weeks, path, where="mid", alpha=0.7, lw=1.2, label=f"run {run}")
    ax2.set_yticks(range(N_RUNGS))
    ax2.set_yticklabels([f"{r} {rung_names[r][:28]}" for r in range(N_RUNGS)], fontsize=6.5)
    ax2.set_ylim(-0.5, 15.5)
    ax2.set_xlabel("week")
    ax2.set_ylabel("rung")
    ax2.set_title("Sample paths: the highest rung each week in single runs", fontsize=10)
    ax2.grid(alpha=0.3)
    ax2.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7)
    return _save(fig, folder, name)


def outcome_chart(variant_summary: dict[str, Any], title: str, folder: Path, name: str = "outcome_probabilities") -> list[Path]:
    """Each outcome's probability with its 95% Wilson interval."""
    outs = variant_summary["outcomes"]
    ids = list(OUTCOME_IDS)
    p = np.array([outs[i]["probability"] for i in ids])
    lo = np.array([outs[i]["ci95"][0] for i in ids])
    hi = np.array([outs[i]["ci95"][1] for i in ids])
    fig, ax = plt.subplots(figsize=(9, 6))
    y = np.arange(len(ids))[::-1]
    ax.barh(y, p, color=rung_colours()[9], alpha=0.85)
    ax.errorbar(p, y, xerr=[np.maximum(p - lo, 0), np.maximum(hi - p, 0)], fmt="none", ecolor="black", capsize=3, lw=1)
    for yi, pi, hii in zip(y, p, hi):
        ax.text(min(hii + 0.01, 0.93), yi, f"{pi:.1%}", va="center", fontsize=8)
    ax.set_yticks(y)
    ax.set_yticklabels(ids, fontsize=9)
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"probability within the horizon (95% Wilson interval; {variant_summary['runs']:,} runs)")
    ax.set_title(f"{title}\nOutcome probabilities")
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, folder, name)


def draw_all(summary: dict[str, Any], aggregates: dict[str, Aggregates], folder: Path) -> list[Path]:
    """Draw every chart of a batch into ``folder``; returns the files written."""
    folder = Path(folder)
    names = summary["rung_names"]
    paths: list[Path] = []
    for v, agg in aggregates.items():
        suffix = "" if v == summary["baseline"] else f"__{v}"
        label = f"{summary['title']} [{v}]"
        paths += fan_chart(agg, names, label, folder, "escalation_fan" + suffix)
        paths += outcome_chart(summary["variants"][v], label, folder, "outcome_probabilities" + suffix)
    return paths
