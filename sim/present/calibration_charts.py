"""The calibration's charts: the marginal distribution of each design parameter over the kept sets, against the
candidates tried, on the parameter's stated range."""

from __future__ import annotations

from pathlib import Path

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
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path
