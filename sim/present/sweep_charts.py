"""The charts of a sweep: response curves (an outcome against a lever, with its 95% band) and, for two levers,
heat maps of each outcome over the grid. Drawn from ``sweep.json`` alone (matplotlib, Agg backend, PNG and SVG)."""

from __future__ import annotations

import html
import itertools
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sim.present.charts import OUTCOME_RUNG, RUNG_PALETTE, embedded_png, save_laid_out  # noqa: E402

#: Most outcome panels drawn in one chart (those the levers move most).
MAX_PANELS = 6
#: Most lines in one panel (combinations of the other levers); past it, the other levers' first values only.
MAX_LINES = 8


def _outcomes(table: dict[str, Any], outcomes: list[str] | None = None) -> list[str]:
    """The outcomes to draw: those named, else those whose probability the levers move most over the grid."""
    if outcomes:
        return outcomes
    probs = {oid: [p["outcomes"][oid]["probability"] for p in table["points"]]
             for oid in table["points"][0]["outcomes"]}
    spread = {oid: max(v) - min(v) for oid, v in probs.items()}
    moved = [oid for oid, s in sorted(spread.items(), key=lambda kv: -kv[1]) if s > 0]
    return moved[:MAX_PANELS] or list(probs)[:1]


def _numeric(values: list[Any]) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _values(table: dict[str, Any], lever: str) -> list[Any]:
    return list(dict.fromkeys(p["levers"][lever] for p in table["points"]))


def _short(path: str) -> str:
    """A lever path without its first part: ``eu_engineers.size``."""
    return path.split(".", 1)[-1]


def response_curves(table: dict[str, Any], folder: Path, lever: str | None = None,
                    outcomes: list[str] | None = None, name: str | None = None) -> list[Path]:
    """One panel per outcome: its probability at each value of ``lever`` (default: the first), with the 95%
    interval as a band; one line per combination of the other levers."""
    lever = lever or table["levers"][0]
    others = [p for p in table["levers"] if p != lever]
    xs = _values(table, lever)
    numeric = _numeric(xs)
    combos = list(itertools.product(*[_values(table, o) for o in others]))[:MAX_LINES]
    chosen = _outcomes(table, outcomes)
    cols = min(3, len(chosen))
    rows = -(-len(chosen) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False,
                             layout="constrained")
    styles = ["-", "--", ":", "-."]
    for ax, oid in zip(axes.flat, chosen, strict=False):
        colour = RUNG_PALETTE[OUTCOME_RUNG.get(oid, 9)]
        for j, combo in enumerate(combos):
            fixed = dict(zip(others, combo, strict=True))
            pts = [p for p in table["points"] if all(p["levers"][k] == v for k, v in fixed.items())]
            pts.sort(key=lambda p: xs.index(p["levers"][lever]))
            x = np.array([p["levers"][lever] for p in pts], dtype=float) if numeric else np.arange(len(pts))
            y = np.array([p["outcomes"][oid]["probability"] for p in pts])
            lo = np.array([p["outcomes"][oid]["ci95"][0] for p in pts])
            hi = np.array([p["outcomes"][oid]["ci95"][1] for p in pts])
            label = ", ".join(f"{_short(k).rsplit('.', 1)[-1]}={v}" for k, v in fixed.items()) or None
            line = ax.plot(x, y, styles[j % len(styles)], marker="o", ms=3, lw=1.2,
                           color=colour if len(combos) == 1 else None, label=label)[0]
            ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, lw=0)
        if numeric and min(xs) > 0 and max(xs) / min(xs) >= 20:
            ax.set_xscale("log")
        if not numeric:
            ax.set_xticks(range(len(xs)))
            ax.set_xticklabels([str(v) for v in xs], fontsize=7)
        ax.set_title(oid, fontsize=9)
        ax.set_xlabel(_short(lever), fontsize=8)
        ax.set_ylabel("probability", fontsize=8)
        ax.set_ylim(bottom=0)
        ax.tick_params(labelsize=7)
        if len(combos) > 1:
            ax.legend(fontsize=6)
    for ax in list(axes.flat)[len(chosen):]:
        ax.axis("off")
    fig.suptitle(f"{table['title']}: response to {_short(lever)} ({table['runs']:,} runs per point; bands: 95% "
                 "intervals)", fontsize=10)
    return save_laid_out(fig, folder, name or f"sweep_response_{_short(lever).replace('.', '_')}")


def heat_maps(table: dict[str, Any], folder: Path, outcomes: list[str] | None = None,
              name: str = "sweep_heatmap") -> list[Path]:
    """For a sweep over two levers: one heat map per outcome, its probability in each cell of the grid."""
    if len(table["levers"]) != 2:
        raise ValueError(f"a heat map needs two levers, the sweep has {len(table['levers'])}")
    a, b = table["levers"]
    va, vb = _values(table, a), _values(table, b)
    chosen = _outcomes(table, outcomes)
    cols = min(3, len(chosen))
    rows = -(-len(chosen) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, (0.5 * len(va) + 2.4) * rows),
                             squeeze=False, layout="constrained")
    for ax, oid in zip(axes.flat, chosen, strict=False):
        grid = np.full((len(va), len(vb)), np.nan)
        for p in table["points"]:
            grid[va.index(p["levers"][a]), vb.index(p["levers"][b])] = p["outcomes"][oid]["probability"]
        im = ax.imshow(grid, cmap="Reds", aspect="auto", vmin=0, vmax=max(float(np.nanmax(grid)), 1e-9))
        for i, j in itertools.product(range(len(va)), range(len(vb))):
            ax.text(j, i, f"{100 * grid[i, j]:.1f}%", ha="center", va="center", fontsize=7,
                    color="white" if grid[i, j] > 0.6 * np.nanmax(grid) else "black")
        ax.set_xticks(range(len(vb)))
        ax.set_xticklabels([str(v) for v in vb], fontsize=7)
        ax.set_yticks(range(len(va)))
        ax.set_yticklabels([str(v) for v in va], fontsize=7)
        ax.set_xlabel(_short(b), fontsize=8)
        ax.set_ylabel(_short(a), fontsize=8)
        ax.set_title(oid, fontsize=9)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04).ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(chosen):]:
        ax.axis("off")
    fig.suptitle(f"{table['title']}: probability over the grid ({table['runs']:,} runs per point)", fontsize=10)
    return save_laid_out(fig, folder, name)


def draw_sweep(table: dict[str, Any], folder: Path) -> list[Path]:
    """Every chart of a sweep into ``folder``: a response curve per lever, and heat maps for two levers."""
    paths: list[Path] = []
    for lever in table["levers"]:
        if len(_values(table, lever)) > 1:
            paths += response_curves(table, folder, lever)
    if len(table["levers"]) == 2 and all(len(_values(table, lv)) > 1 for lv in table["levers"]):
        paths += heat_maps(table, folder)
    return paths


def write_sweep_page(table: dict[str, Any], charts: list[Path], folder: Path) -> Path:
    """``sweep.html``: the grid's table and its charts, each with a sentence on what it shows; one file."""
    shown = _outcomes(table)
    head = "".join(f"<th>{html.escape(_short(lv))}</th>" for lv in table["levers"])
    head += "".join(f"<th>{html.escape(o)}</th>" for o in shown)
    rows = []
    for p in table["points"]:
        cells = "".join(f"<td>{html.escape(str(p['levers'][lv]))}</td>" for lv in table["levers"])
        for oid in shown:
            o = p["outcomes"][oid]
            diff = "" if p["variant"] == table["reference"] else (
                f"<br>{100 * o['difference']:+.1f} [{100 * o['difference_ci95'][0]:+.1f}, "
                f"{100 * o['difference_ci95'][1]:+.1f}]")
            cells += (f"<td>{100 * o['probability']:.1f}% [{100 * o['ci95'][0]:.1f}, {100 * o['ci95'][1]:.1f}]"
                      f"{diff}</td>")
        rows.append(f"<tr>{cells}</tr>")
    body = [f"<h1>{html.escape(table['title'])}: a sweep of {len(table['points'])} points</h1>",
            f"<p>{html.escape(table['note'])}</p>",
            f"<p>{table['runs']:,} runs per point, every point on the same random numbers. Each cell is the "
            "outcome's probability with its 95% interval and, below it, the difference to the first point with its "
            f"paired 95% interval ({html.escape(table['method_text'])}). All outcomes are in sweep.csv.</p>",
            f"<table><tr>{head}</tr>{''.join(rows)}</table>"]
    for path in charts:
        if path.suffix != ".png":
            continue
        if path.stem.startswith("sweep_heatmap"):
            body.append("<p>The heat maps show each outcome's probability in every cell of the two-lever grid: "
                        "where the risk concentrates.</p>")
        else:
            body.append("<p>The response curves show how each outcome the levers move most changes along one lever, "
                        "one line per value of the others, with the 95% interval as a band.</p>")
        body.append(embedded_png(path))
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Sweep</title><style>body{font-family:"
            "sans-serif;max-width:70em;margin:auto}td,th{padding:2px 6px;text-align:left;font-size:small}</style>"
            "</head><body>" + "\n".join(body) + "</body></html>\n")
    out = folder / "sweep.html"
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out
