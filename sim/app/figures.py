"""The app's charts, as PNG bytes: a thin adapter over :mod:`sim.present.charts`, so the charts it shows can be
swapped for others in one place.

The fan chart is the results folder's own (drawn into a temporary folder and read back). The overlay of the
option against the baseline, the cumulative probability of each headline outcome by week, has no counterpart among
the folder's charts and is drawn here with the same palette.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sim.engine.aggregates import Aggregates  # noqa: E402
from sim.present import charts  # noqa: E402

#: Line styles of the overlay: the baseline dashed, the option solid.
BASELINE_STYLE, OPTION_STYLE = "--", "-"
DPI = 90


def fan_png(baseline: Aggregates, option: Aggregates, rung_names: Sequence[str], *, baseline_name: str,
            option_name: str) -> bytes:
    """The escalation fan of the baseline and the option side by side (the project's fan chart)."""
    summary = {"rung_names": list(rung_names), "variants": [baseline_name, option_name], "runs": option.runs}
    with tempfile.TemporaryDirectory(prefix="escalation-app-") as tmp:
        paths = charts.fan_chart(summary, {baseline_name: baseline, option_name: option}, Path(tmp), name="fan")
        return paths[0].read_bytes()


def overlay_png(baseline: dict[str, np.ndarray], option: dict[str, np.ndarray], *, baseline_name: str,
                option_name: str, runs: int, title: str) -> bytes:
    """Cumulative probability of each headline outcome by week: the option (solid) over the baseline (dashed)."""
    colours = charts.VARIANT_COLOURS
    fig, ax = plt.subplots(figsize=(9, 4.6))
    try:
        for i, oid in enumerate(option):
            colour = colours[i % len(colours)]
            weeks = np.arange(len(option[oid]))
            ax.step(weeks, baseline[oid], where="post", ls=BASELINE_STYLE, color=colour, lw=1.2, alpha=0.8)
            ax.step(weeks, option[oid], where="post", ls=OPTION_STYLE, color=colour, lw=1.8, label=oid)
        ax.plot([], [], ls=BASELINE_STYLE, color="#444444", label=f"dashed: {baseline_name}")
        ax.plot([], [], ls=OPTION_STYLE, color="#444444", label=f"solid: {option_name}")
        ax.set_ylim(0, 1)
        ax.set_xlabel("week")
        ax.set_ylabel("share of runs in which it has happened")
        ax.set_title(f"{title}\nCumulative probability by week, {option_name} against {baseline_name} "
                     f"({runs:,} runs each, common random numbers)", fontsize=9)
        ax.grid(alpha=0.25)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7.5)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
        return buf.getvalue()
    finally:
        plt.close(fig)
