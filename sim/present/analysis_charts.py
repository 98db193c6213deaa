"""The charts and page of an analysis: a tornado of first-order indices with their intervals, PRIM's trade-off
between coverage and density along its peeling trajectory, and ``analysis.html`` saying what each one means."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sim import NOT_A_FORECAST  # noqa: E402
from sim.output.folder import _write_json  # noqa: E402
from sim.present.charts import embedded_png, save_laid_out  # noqa: E402

#: Inputs shown in a tornado.
TORNADO_ROWS = 15


def tornado(outcome: str, result: dict[str, Any], folder: Path) -> list[Path]:
    """The inputs of highest first-order index S1 for ``outcome``, as bars with their 95% intervals."""
    rows = result["sensitivity"][:TORNADO_ROWS][::-1]
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(rows) + 1.5), layout="constrained")
    y = range(len(rows))
    # an index that could not be estimated (None) is drawn as no bar; an interval bound that could not, as none
    s1 = [r["S1"] if r["S1"] is not None else 0.0 for r in rows]
    err = [[_gap(r["S1"], r["ci95"][0]) for r in rows], [_gap(r["ci95"][1], r["S1"]) for r in rows]]
    colours = ["#d6604d" if r["input"].startswith("lever.") else "#4292c6" for r in rows]
    ax.barh(list(y), s1, xerr=err, color=colours, height=0.6, error_kw={"lw": 0.8, "capsize": 2})
    ax.axvline(0, color="black", lw=0.6)
    ax.set_yticks(list(y))
    ax.set_yticklabels([r["input"] + (" (not estimable)" if r["S1"] is None else "") for r in rows], fontsize=7)
    ax.set_xlabel("first-order index S1 (share of the outcome's variance explained alone), 95% interval", fontsize=8)
    ax.set_title(f"What drives {outcome} (P = {100 * result['probability']:.1f}% over {result['runs']:,} runs; "
                 "red: levers)", fontsize=9)
    return save_laid_out(fig, folder, f"tornado_{outcome}")


def _gap(high: float | None, low: float | None) -> float:
    """The length of one arm of an error bar, 0 where either end is unknown."""
    return 0.0 if high is None or low is None else max(high - low, 0.0)


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def tradeoff(outcome: str, result: dict[str, Any], folder: Path) -> list[Path]:
    """PRIM's peeling trajectory: each box's coverage against its density, coloured by how many inputs it
    restricts; the box reported is circled."""
    box = result["prim"]
    tr = box["trajectory"]
    fig, ax = plt.subplots(figsize=(6, 4.2), layout="constrained")
    sc = ax.scatter([t["coverage"] for t in tr], [t["density"] for t in tr], c=[t["restricted"] for t in tr],
                    cmap="viridis", s=16)
    ax.scatter([box["coverage"]], [box["density"]], s=120, facecolors="none", edgecolors="#d6604d", lw=1.5,
               label=f"reported box: coverage {100 * box['coverage']:.0f}%, density {100 * box['density']:.0f}%")
    ax.axhline(box["base_density"], color="grey", lw=0.8, ls="--", label="share of all runs")
    fig.colorbar(sc, ax=ax).set_label("inputs restricted", fontsize=8)
    ax.set_xlabel("coverage (share of the outcome's runs inside the box)", fontsize=8)
    ax.set_ylabel("density (share of the box's runs with the outcome)", fontsize=8)
    ax.set_title(f"PRIM trade-off for {outcome}", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    return save_laid_out(fig, folder, f"prim_tradeoff_{outcome}")


def _box_text(box: dict[str, Any]) -> str:
    parts = []
    for r in box["restrictions"]:
        if not r["significant"]:
            continue
        where = (", ".join(str(v) for v in r["values"]) if r.get("values") is not None
                 else f"{r['min']:.3g} to {r['max']:.3g}")
        parts.append(f"{html.escape(r['input'])} in [{html.escape(where)}] (qp {r['qp']:.3f})")
    return "; ".join(parts) or "no restriction with a quasi-p value below 0.05"


def write_page(analysis: dict[str, Any], folder: Path) -> Path:
    """``analysis.html``: per outcome, its tornado and PRIM trade-off with a sentence on what each means, the
    table of drivers and the box; one self-contained file."""
    charts = folder / "charts"
    body = [f"<h1>What drives the outcomes</h1><p>{html.escape(NOT_A_FORECAST)}</p>",
            f"<p>{analysis['runs']:,} runs, {len(analysis['inputs'])} sampled inputs. Sensitivity: "
            f"{html.escape(analysis['method']['sensitivity'])}. Scenario discovery: "
            f"{html.escape(analysis['method']['discovery'])}.</p>"]
    for oid, res in analysis["outcomes"].items():
        box = res["prim"]
        rows = "".join(f"<tr><td>{html.escape(r['input'])}</td><td>{_num(r['S1'])}</td>"
                       f"<td>[{_num(r['ci95'][0])}, {_num(r['ci95'][1])}]</td></tr>" for r in res["sensitivity"][:10])
        body += [
            f"<h2>{html.escape(oid)}: {100 * res['probability']:.1f}% of runs</h2>",
            embedded_png(charts / f"tornado_{oid}.png"),
            "<p>The tornado ranks the inputs by how much of the outcome's variance each explains on its own (S1); "
            "a bar whose interval crosses zero may do nothing, and a red bar is a lever the analyst chose.</p>",
            f"<table><tr><th>input</th><th>S1</th><th>95% interval</th></tr>{rows}</table>",
            embedded_png(charts / f"prim_tradeoff_{oid}.png"),
            "<p>The trade-off chart follows PRIM as it narrows the inputs toward the runs with the outcome: "
            "moving right to left, each box keeps fewer of those runs (coverage) but holds them more densely "
            "(density); the circled box is the one reported.</p>",
            f"<p>Box: coverage {100 * box['coverage']:.0f}%, density {100 * box['density']:.0f}% (against "
            f"{100 * box['base_density']:.1f}% of all runs), mass {100 * box['mass']:.0f}%: {_box_text(box)}.</p>",
        ]
    for oid, why in analysis["skipped"].items():
        body.append(f"<p>{html.escape(oid)} not analysed: {html.escape(why)}.</p>")
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Analysis</title><style>body{font-family:"
            "sans-serif;max-width:60em;margin:auto}td,th{padding:2px 8px;text-align:left}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")
    path = folder / "analysis.html"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path


def publish_analysis(analysis: dict[str, Any], folder: Path) -> list[Path]:
    """Write ``analysis.json``, the charts and ``analysis.html`` into ``folder``; returns the files."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_json(folder / "analysis.json", analysis)  # strict JSON (no NaN), written whole or not at all
    paths = [folder / "analysis.json"]
    for oid, res in analysis["outcomes"].items():
        paths += tornado(oid, res, folder / "charts") + tradeoff(oid, res, folder / "charts")
    return paths + [write_page(analysis, folder)]
