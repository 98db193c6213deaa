"""The calibration's charts: the marginal distribution of each design parameter over the kept sets, against the
candidates tried, on the parameter's stated range."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def marginals_chart(parameters: tuple[str, ...], candidates: np.ndarray, kept: np.ndarray,
                    ranges: dict[str, tuple[float, float]], path: Path) -> Path:
    """One panel per parameter: the candidates tried (grey) and the sets kept (blue), over its stated range."""
    cols = 4
    rows = -(-len(parameters) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.3 * rows), squeeze=False)
    for ax, (j, name) in zip(axes.flat, enumerate(parameters), strict=False):
        lo, hi = ranges[name]
        bins = np.linspace(lo, hi, 21)
        ax.hist(candidates[:, j], bins=bins, color="#cccccc", label="tried")
        ax.hist(candidates[kept, j], bins=bins, color="#1f77b4", label="kept")
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(parameters):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"History matching on the 2022-2024 record: {int(kept.sum())} of {len(candidates)} parameter sets "
                 "kept", fontsize=10)
    return _save(fig, path)


def tornado_chart(result: dict, path: Path, tail: str = "nato_russia_war") -> Path:
    """Bars from each parameter's low end to its high end of the pooled probability of ``tail``, sorted by swing,
    about its value at the point values."""
    rows = sorted(result["rows"], key=lambda r: abs(r["at_high"][tail] - r["at_low"][tail]))
    base = result["at_point_values"][tail]
    fig, ax = plt.subplots(figsize=(8, 0.38 * len(rows) + 1.4))
    for y, r in enumerate(rows):
        lo, hi = r["at_low"][tail], r["at_high"][tail]
        ax.barh(y, hi - lo, left=lo, color="#1f77b4" if hi >= lo else "#d62728", height=0.6)
        ax.text(max(lo, hi), y, f"  {r['low']:.3g} to {r['high']:.3g}", va="center", fontsize=7)
    ax.axvline(base, color="black", lw=0.8)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r["parameter"] for r in rows], fontsize=8)
    ax.set_xlabel(f"P({tail}), pooled over {', '.join(result['scenarios'])} ({result['runs']:,} runs each)", fontsize=8)
    ax.set_title("Tornado: each parameter from the low to the high end of its range (blue: rises, red: falls);\n"
                 "line: all at their point values", fontsize=9)
    return _save(fig, path)


def _save(fig: plt.Figure, path: Path) -> Path:
    """Write the figure as PNG under a temporary name, then rename it: a chart is never left half-written."""
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path


def publish_calibration(fit: Any, ranges: dict[str, tuple[float, float]], out: Path,
                        swing: dict[str, Any] | None) -> dict[str, Path]:
    """The calibration's charts in ``out``: the marginals of the kept sets and, when measured, the tornado (chart and
    ``tornado.json``)."""
    paths = {"marginals": marginals_chart(fit.parameters, fit.candidates, fit.kept, ranges, out / "marginals.png")}
    if swing is not None:
        paths["tornado"] = tornado_chart(swing, out / "tornado.png")
        paths["tornado_table"] = out / "tornado.json"
        paths["tornado_table"].write_text(json.dumps(swing, indent=2) + "\n", encoding="utf-8")
    return paths
