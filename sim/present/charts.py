"""Escalation charts drawn with matplotlib (Agg backend) from what a batch leaves behind, PNG by default and SVG on
request.

Every chart is a pure function of the summary, the merged aggregates, the comparison and the story of one run, so
``escalation plot`` redraws them from a results folder without running the model. The default set is what the
report shows: one overlay per headline outcome across variants (cumulative probability by week, log scale), the
highest rung reached across variants, the variant comparison, the escalation fan and the rung occupancy of every
variant side by side (small multiples, in the scenario's order) and the timeline of one run. Every file goes
through :func:`_save`.

Rung names label every rung axis in full, and every rung has one colour, the same in every chart. The rung palette
groups the ladder into stages (talk and status quo in greys, threats and posturing in blues, signalling, hybrid and
airspace moves in yellows and oranges, conventional violence in pinks and reds, war and nuclear use in purples and
near-black) and alternates lightness inside a stage, so neighbouring rungs stay distinguishable under the common
forms of colour-blindness (a test checks their distance in CIELAB after simulating deuteranopia, protanopia and
tritanopia).

User text (titles, variant names) is shown as text: mathtext is off for every chart (``$`` is a dollar sign),
control characters and escape sequences are removed, and a long title is cut with an ellipsis
(:mod:`sim.present.text`).
"""

from __future__ import annotations

import base64
import html
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullLocator  # noqa: E402

from sim.engine.aggregates import Aggregates  # noqa: E402
from sim.output.summary import share_at_or_above  # noqa: E402
from sim.present.text import label, share  # noqa: E402
from sim.spec.vocabulary import OUTCOME_IDS  # noqa: E402

# user text is text: no mathtext ('$' stays a dollar sign), no TeX
matplotlib.rcParams.update({"text.parse_math": False, "text.usetex": False})

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


#: Variant colours (Okabe and Ito's colour-blind-safe qualitative set), baseline first; markers differ too.
VARIANT_COLOURS: tuple[str, ...] = (
    "#000000", "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442",
)
VARIANT_MARKERS: tuple[str, ...] = ("o", "s", "D", "^", "v", "P", "X", "*")

_BLOC_MARKERS = {"russia": "o", "nato": "s", "ukraine": "^", "third": "D"}

#: The outcomes the report overlays across variants, one chart each, in this order.
HEADLINE_OUTCOMES: tuple[str, ...] = (
    "strike_on_nato_forces_in_ukraine",
    "strike_on_nato_territory",
    "hybrid_attack_on_nato",
    "nuclear_signalling",
    "nato_russia_war",
    "nuclear_use",
)

#: At most this many variants share one overlay chart (one colour and marker each), in the scenario's order.
MAX_OVERLAID = len(VARIANT_COLOURS)
#: At most this many variants get a panel in a set of small multiples.
MAX_PANELS = 12
#: The escalation fan shows the rungs from this one up. Below it lie talk, threats, coercion and the posture of the
#: routine war, which every scripted Western move (an arms delivery) sets for every run in its week.
FAN_FROM = 5
#: The file formats a chart can be saved in; PNG is what the report embeds.
FORMATS: tuple[str, ...] = ("png", "svg")
DPI = 100


def rung_colours() -> list[str]:
    """One colour per rung, the same in every chart.

    >>> len(rung_colours()), rung_colours()[15]
    (16, '#000000')
    """
    return list(RUNG_PALETTE)


def rung_label(r: int, names: Sequence[str]) -> str:
    """The label of rung ``r``: its number and full name.

    >>> rung_label(5, ["x"] * 5 + ["Nuclear signalling without use"])
    '5 Nuclear signalling without use'
    """
    return f"{r} {label(names[r], 120)}"


def _wrapped(text: str, width: int = 34) -> str:
    """A tick label on at most two lines, whole words kept.

    >>> _wrapped("9 Deliberate strikes on NATO-state personnel or assets inside Ukraine")
    '9 Deliberate strikes on NATO-state\\npersonnel or assets inside Ukraine'
    """
    return "\n".join(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)) or text


def _dark(colour: str) -> bool:
    """Whether text on this colour should be white (relative luminance below 0.25).

    >>> _dark("#000000"), _dark("#ffe066")
    (True, False)
    """
    r, g, b = matplotlib.colors.to_rgb(colour)
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2] < 0.25


def _rung_axis(ax: Any, names: Sequence[str] | None, which: str = "y", fontsize: float = 7,
               rungs: Sequence[int] = range(16)) -> None:
    """Label a rung axis, each tick label in a box of its rung's colour: the rung's number and full name (wrapped
    on two lines), or its number alone when ``names`` is None (small multiples, beside a key of the names)."""
    ticks = list(rungs)
    labels = [str(r) if names is None else _wrapped(rung_label(r, names)) for r in ticks]
    if which == "y":
        ax.set_yticks(ticks)
        ax.set_yticklabels(labels, fontsize=fontsize, linespacing=0.95)
        tl = ax.get_yticklabels()
    else:
        ax.set_xticks(ticks)
        ax.set_xticklabels(labels, fontsize=fontsize)
        tl = ax.get_xticklabels()
    for r, text in zip(ticks, tl, strict=True):
        text.set_bbox({"facecolor": RUNG_PALETTE[r], "edgecolor": "none", "pad": 1})
        text.set_color("white" if _dark(RUNG_PALETTE[r]) else "black")


def _rung_key(fig: Any, names: Sequence[str], rungs: Sequence[int], title: str = "rung") -> None:
    """A key of rung colours and full names at the right of a figure."""
    handles = [Patch(facecolor=RUNG_PALETTE[r], edgecolor="#666666", lw=0.4, label=rung_label(r, names))
               for r in reversed(list(rungs))]
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 0.98), fontsize=7.5, title=title,
               title_fontsize=8, frameon=False)


def _save(fig: Any, folder: Path, name: str, formats: Sequence[str] = ("png",)) -> list[Path]:
    """Save a chart in each of ``formats`` and close it: every chart file is written here."""
    folder.mkdir(parents=True, exist_ok=True)
    # the tight box once, for every format (each tight save would draw the figure twice)
    box = fig.get_tightbbox(fig.canvas.get_renderer()).padded(0.1)
    paths = []
    for ext in formats:
        p = folder / f"{name}.{ext}"
        tmp = p.with_name(p.name + ".tmp")  # then renamed: a chart stopped mid-drawing is never left half-written
        # SVG text stays text: searchable, selectable and smaller than glyph outlines
        with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": name}):
            fig.savefig(tmp, format=ext, dpi=DPI if ext == "png" else None, bbox_inches=box,
                        metadata=_metadata(ext))
        tmp.replace(p)
        paths.append(p)
    plt.close(fig)
    return paths


def save_laid_out(fig: Any, folder: Path, name: str, formats: Sequence[str] = ("png",)) -> list[Path]:
    """Save a figure laid out by the constrained layout: drawn once first, so its tight box holds every label."""
    fig.canvas.draw()
    return _save(fig, folder, name, formats)


def embedded_png(path: Path) -> str:
    """A PNG file as an ``<img>`` element holding its data (a page with it opens offline)."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}" style="max-width:100%">'


def _share_format(x: float, _pos: Any = None) -> str:
    """Tick label of a share on a log scale, in plain text (no mathtext).

    >>> _share_format(0.001), _share_format(0.01), _share_format(1.0), _share_format(0.00005)
    ('0.1%', '1%', '100%', '0.005%')
    """
    return f"{100 * x:.3g}%"


def floor_share(runs: int) -> float:
    """The bottom of a log share axis: half a run, so one run stands clear of it and none lies below.

    >>> floor_share(2000)
    0.00025
    """
    return 0.5 / max(runs, 1)


def _log_shares(ax: Any, runs: int, which: str = "y") -> None:
    """A log axis of shares from :func:`floor_share` to 1, ticks in percent, and a dotted line at one run."""
    floor = floor_share(runs)
    axis = ax.yaxis if which == "y" else ax.xaxis
    if which == "y":
        ax.set_yscale("log")
        ax.set_ylim(floor, 1.3)
        ax.axhline(1 / max(runs, 1), color="#999999", lw=0.8, ls=":")
    else:
        ax.set_xscale("log")
        ax.set_xlim(floor, 1.3)
        ax.axvline(1 / max(runs, 1), color="#999999", lw=0.8, ls=":")
    axis.set_major_locator(LogLocator(base=10))
    axis.set_major_formatter(FuncFormatter(_share_format))
    axis.set_minor_locator(NullLocator())  # one grid line per power of ten; minor ticks cost most of a draw


def _log_colourbar(fig: Any, im: Any, ax: Any, text: str, **kw: Any) -> None:
    cb = fig.colorbar(im, ax=ax, pad=0.01, **kw)
    cb.ax.yaxis.set_major_locator(LogLocator(base=10))
    cb.ax.yaxis.set_major_formatter(FuncFormatter(_share_format))
    cb.ax.yaxis.set_minor_locator(NullLocator())
    cb.set_label(text)


def _metadata(ext: str) -> dict[str, Any]:
    # no creation dates: the same results draw byte-identical SVG files
    return {"Date": None} if ext == "svg" else {}


def _footer(fig: Any, text: str, y: float = -0.01) -> None:
    fig.text(0.01, y, text, fontsize=7, color="#555555", ha="left", va="top")


def _variant_style(j: int) -> dict[str, Any]:
    return {"color": VARIANT_COLOURS[j % len(VARIANT_COLOURS)], "marker": VARIANT_MARKERS[j % len(VARIANT_MARKERS)]}


def _variant_label(v: str, base: str) -> str:
    """A variant's legend entry: its name, marked when it is the baseline under another name.

    >>> _variant_label("baseline", "baseline"), _variant_label("a", "a"), _variant_label("b", "a")
    ('baseline', 'a (baseline)', 'b')
    """
    return v if v != base or v == "baseline" else f"{v} (baseline)"


def _grid(k: int) -> tuple[int, int]:
    """Columns and rows of ``k`` small multiples.

    >>> _grid(1), _grid(4), _grid(6), _grid(7)
    ((1, 1), (2, 2), (3, 2), (3, 3))
    """
    cols = 1 if k == 1 else 2 if k in (2, 4) else 3
    return cols, -(-k // cols)


def shown(variants: Sequence[str], limit: int) -> list[str]:
    """The variants a chart shows: the first ``limit``, in the scenario's order."""
    return list(variants)[:limit]


def _multiples_layout(fig: Any, rows: int) -> None:
    """Fixed margins for small multiples (a tight layout would draw the figure once more)."""
    height = fig.get_figheight()
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.5 / height, top=1 - 0.55 / height,
                        hspace=0.35 if rows > 1 else 0.2, wspace=0.08)


def _with_nan(x: np.ndarray) -> np.ndarray:
    """Shares with zeros as NaN: not drawn on a log axis."""
    return np.where(x > 0, x, np.nan)


# ------------------------------------------------------------------------------------------- across variants
def cumulative_chart(summary: dict[str, Any], aggregates: dict[str, Aggregates], outcome: str, folder: Path,
                     name: str | None = None, formats: Sequence[str] = ("png",)) -> list[Path]:
    """One outcome across variants: the share of runs in which it has happened by the end of each week (log
    scale, from half a run up; a line starts at the first run that reaches it)."""
    i = OUTCOME_IDS.index(outcome)
    variants = shown(summary["variants"], MAX_OVERLAID)
    base = summary["baseline"]
    n = summary["runs"]
    some = next(iter(aggregates.values()))
    weeks = np.arange(some.horizon)
    fig, ax = plt.subplots(figsize=(6.4, 3.9))
    drawn = 0
    for j, v in enumerate(variants):
        agg = aggregates[v]
        cum = np.cumsum(agg.first_week_hist[i]) / max(agg.runs, 1)
        o = summary["variants"][v]["outcomes"][outcome]
        style = _variant_style(j)
        ax.plot(weeks, _with_nan(cum), drawstyle="steps-post", color=style["color"], lw=1.6 if j else 2.2,
                label=f"{_variant_label(v, base)}: {share(o['count'], agg.runs, o['ci95'], unit=True)}")
        last = cum[-1]
        if last > 0:
            ax.plot([weeks[-1]], [last], ls="", ms=5, mec="white", mew=0.5, **style)
        drawn += int(last > 0)
    _log_shares(ax, n)
    ax.set_xlim(0, max(some.horizon - 1, 1))
    ax.set_xlabel("week")
    ax.set_ylabel("share of runs (log scale)")
    desc = summary["variants"][variants[0]]["outcomes"][outcome]["description"]
    ax.set_title(f"{outcome}: share of runs in which it has happened, by week\n{label(desc, 90)}", fontsize=9)
    ax.grid(alpha=0.25, which="major")
    if not drawn:
        ax.text(0.5, 0.5, f"no run of any variant ({n:,} runs each)", transform=ax.transAxes, ha="center",
                color="#555555")
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.16), fontsize=7, ncol=2, frameon=False,
              title=f"by week {some.horizon - 1}, % (95% interval); dotted line: one run of {n:,}", title_fontsize=7)
    return _save(fig, folder, name or f"cumulative__{outcome}", formats)


def reached_chart(summary: dict[str, Any], aggregates: dict[str, Aggregates], folder: Path,
                  name: str = "rung_reached", formats: Sequence[str] = ("png",)) -> list[Path]:
    """The highest rung reached, across variants: per rung, the share of runs whose Russia-NATO axis reaches it
    or a higher one within the horizon (log scale)."""
    names: list[str] = summary["rung_names"]
    variants = shown(summary["variants"], MAX_OVERLAID)
    base = summary["baseline"]
    n = summary["runs"]
    fig, ax = plt.subplots(figsize=(9.5, 6.4))
    r = np.arange(N_RUNGS)
    k = len(variants)
    for j, v in enumerate(variants):
        agg = aggregates[v]
        reach = np.cumsum(agg.max_rung_hist[::-1])[::-1] / max(agg.runs, 1)
        style = _variant_style(j)
        ax.plot(_with_nan(reach), r + (j - (k - 1) / 2) * 0.06, lw=1.1 if j else 1.6, ms=4.5,
                label=_variant_label(v, base), **style)
    _log_shares(ax, n, "x")
    _rung_axis(ax, names)
    ax.set_ylim(-0.5, N_RUNGS - 0.5)
    ax.set_xlabel(f"share of runs reaching the rung or a higher one (log scale; dotted line: one run of {n:,})")
    ax.set_title("Highest rung reached on the Russia-NATO axis within the horizon, per variant", fontsize=9)
    ax.grid(alpha=0.25)
    ax.legend(loc="lower left", fontsize=7.5, title="variant", title_fontsize=7.5)
    return _save(fig, folder, name, formats)


def comparison_chart(comparison: dict[str, Any], title: str, folder: Path, name: str = "variant_comparison",
                     formats: Sequence[str] = ("png",)) -> list[Path]:
    """Each outcome's probability per variant with its 95% interval (log scale, so rare outcomes stand apart from
    none), and each variant's difference to the baseline (symmetric log scale in percentage points).

    ``comparison`` is the structure built by :mod:`sim.output.comparison`; its ``method`` says how the difference
    intervals were computed (paired, from per-run data under common random numbers, or Newcombe's independent-sample
    one). With one variant only the probabilities are drawn.
    """
    base = comparison["baseline"]
    variants = shown(comparison["variants"], MAX_OVERLAID)
    others = [v for v in variants if v != base]
    n = comparison["runs"]
    floor = floor_share(n)
    ids = [i for i in OUTCOME_IDS if i in comparison["outcomes"]]
    y = np.arange(len(ids))[::-1].astype(float)
    height = max(5.5, 0.42 * len(ids) + 2.2)
    if others:
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, height), sharey=True)
    else:
        fig, ax = plt.subplots(figsize=(8, height))
        ax2 = None
    k = len(variants)
    offsets = (np.arange(k) - (k - 1) / 2) * min(0.8 / max(k, 1), 0.14)
    for j, v in enumerate(variants):
        p = np.array([comparison["outcomes"][i][v]["probability"] for i in ids])
        lo = np.array([comparison["outcomes"][i][v]["ci95"][0] for i in ids])
        hi = np.array([comparison["outcomes"][i][v]["ci95"][1] for i in ids])
        style = _variant_style(j)
        shown_p = np.maximum(p, floor)
        ax.errorbar(shown_p, y + offsets[j], xerr=[shown_p - np.maximum(lo, floor), np.maximum(hi, floor) - shown_p],
                    fmt=style["marker"], color=style["color"], ms=4.5, capsize=2, lw=0.9,
                    mfc=style["color"], label=_variant_label(v, base))
        none = p == 0
        if none.any():  # no run: a hollow marker on the floor
            ax.plot(shown_p[none], (y + offsets[j])[none], ls="", marker=style["marker"], ms=4.5, mfc="white",
                    mec=style["color"])
    ax.set_yticks(y)
    ax.set_yticklabels(ids, fontsize=8.5)
    for yi, oid in zip(y, ids, strict=True):
        ax.axhspan(yi - 0.45, yi + 0.45, xmin=0, xmax=0.012, color=RUNG_PALETTE[OUTCOME_RUNG.get(oid, 1)])
    _log_shares(ax, n, "x")
    ax.set_xlabel(f"probability within the horizon, 95% Wilson interval\n(log scale; dotted line: one run of {n:,}; "
                  "hollow marker: no run)", fontsize=8)
    ax.set_title("Probability per variant", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.1), fontsize=8, ncol=min(k, 3), frameon=False)
    if ax2 is not None:
        span = 0.0
        for j, v in enumerate(variants):
            if v == base:
                continue
            diffs = comparison["differences"][v]
            d = np.array([diffs[i]["difference"] for i in ids])
            lo = np.array([diffs[i]["ci95"][0] for i in ids])
            hi = np.array([diffs[i]["ci95"][1] for i in ids])
            span = max(span, float(np.abs(lo).max(initial=0)), float(np.abs(hi).max(initial=0)))
            style = _variant_style(j)
            ax2.errorbar(d, y + offsets[j], xerr=[np.clip(d - lo, 0, None), np.clip(hi - d, 0, None)],
                         fmt=style["marker"], color=style["color"], ms=4.5, capsize=2, lw=0.9, label=f"{v} - {base}")
        ax2.axvline(0, color="#444444", lw=1)
        linear = max(10 / max(n, 1), 1e-4)
        ax2.set_xscale("symlog", linthresh=linear, linscale=0.6)
        span = max(span * 1.3, 2 * linear)
        ax2.set_xlim(-span, span)
        ax2.xaxis.set_major_locator(FixedLocator(_symlog_ticks(linear, span)))
        ax2.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: _points_tick(x)))
        ax2.xaxis.set_minor_locator(NullLocator())
        ax2.set_xlabel(f"difference to '{base}' in percentage points, 95% interval\n(symmetric log scale, linear "
                       f"within ±{_points_tick(linear).lstrip('+')})", fontsize=8)
        ax2.set_title(f"Difference to '{base}'", fontsize=9)
        ax2.grid(axis="x", alpha=0.3)
        ax2.legend(loc="upper left", bbox_to_anchor=(0, -0.1), fontsize=8, ncol=min(len(others), 2), frameon=False)
        _footer(fig, "Difference intervals: " + comparison["method_text"], y=-0.02)
    fig.suptitle(f"{label(title)}\nOutcomes per variant ({n:,} runs per variant, seed {comparison.get('seed', '?')})",
                 fontsize=10)
    return _save(fig, folder, name, formats)


def _symlog_ticks(linear: float, span: float) -> list[float]:
    """Ticks of a symmetric log axis: 0 and, each side, the linear threshold and 1, 3, 10, 30 and 100 percentage
    points beyond it, up to ``span``.

    >>> [round(100 * t, 3) for t in _symlog_ticks(0.005, 0.35)]
    [-30.0, -10.0, -3.0, -0.5, 0.0, 0.5, 3.0, 10.0, 30.0]
    """
    steps = [linear] + [x for x in (0.01, 0.03, 0.1, 0.3, 1.0) if linear * 2.5 < x <= span]
    return sorted([-s for s in steps] + [0.0] + steps)


def _points_tick(x: float) -> str:
    """A tick on a difference axis in percentage points.

    >>> _points_tick(0.25), _points_tick(-0.001), _points_tick(0.0)
    ('+25', '-0.1', '0')
    """
    v = 100 * x
    if abs(v) < 1e-12:
        return "0"
    return f"{v:+.2g}"


# ------------------------------------------------------------------------------------------- small multiples
def fan_chart(summary: dict[str, Any], aggregates: dict[str, Aggregates], folder: Path,
              name: str = "escalation_fan", formats: Sequence[str] = ("png",)) -> list[Path]:
    """The escalation fan of every variant side by side: per week, the share of runs at each rung or higher on the
    Russia-NATO axis, one line per rung from :data:`FAN_FROM` up (log scale)."""
    names: list[str] = summary["rung_names"]
    variants = shown(summary["variants"], MAX_PANELS)
    n = summary["runs"]
    cols, rows = _grid(len(variants))
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 2.9 * rows + 0.6), sharex=True, sharey=True,
                             squeeze=False)
    seen: set[int] = set()
    for ax, v in zip(axes.flat, variants, strict=False):
        agg = aggregates[v]
        at_or_above = share_at_or_above(agg.headline_hist, agg.runs)
        weeks = np.arange(agg.horizon)
        for r in range(FAN_FROM, N_RUNGS):
            line = at_or_above[:, r]
            if not line.any():
                continue
            seen.add(r)
            ax.plot(weeks, _with_nan(line), drawstyle="steps-mid", color=RUNG_PALETTE[r], lw=1.3)
        _log_shares(ax, n)
        ax.set_title(label(v, 60), fontsize=9)
        ax.grid(alpha=0.25)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(variants):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("week", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("share of runs (log)", fontsize=8)
    _rung_key(fig, names, sorted(seen) or [FAN_FROM], title="at this rung or higher")
    fig.suptitle(f"Escalation fan: share of runs at each rung or higher that week, rungs {FAN_FROM}-15 "
                 f"({n:,} runs per variant)", fontsize=10)
    _multiples_layout(fig, rows)
    return _save(fig, folder, name, formats)


def occupancy_chart(summary: dict[str, Any], aggregates: dict[str, Aggregates], folder: Path,
                    name: str = "rung_occupancy", formats: Sequence[str] = ("png",)) -> list[Path]:
    """Heat maps over weeks and rungs, every variant side by side: the share of runs whose Russia-NATO axis stands
    at each rung that week (one log colour scale for all)."""
    names: list[str] = summary["rung_names"]
    variants = shown(summary["variants"], MAX_PANELS)
    n = summary["runs"]
    cols, rows = _grid(len(variants))
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 2.9 * rows + 0.6), sharex=True, sharey=True,
                             squeeze=False)
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="white")
    norm = LogNorm(vmin=max(1.0 / max(n, 1), 1e-5), vmax=1.0)
    im = None
    for ax, v in zip(axes.flat, variants, strict=False):
        agg = aggregates[v]
        share_ = agg.headline_hist.T / max(agg.runs, 1)
        im = ax.imshow(np.ma.masked_where(share_ <= 0, share_), aspect="auto", origin="lower", cmap=cmap, norm=norm,
                       extent=(-0.5, agg.horizon - 0.5, -0.5, N_RUNGS - 0.5), interpolation="nearest")
        ax.set_title(label(v, 60), fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(variants):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        _rung_axis(ax, None, fontsize=6.5, rungs=range(0, N_RUNGS, 1))
        ax.set_ylabel("rung", fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("week", fontsize=8)
    fig.suptitle(f"Rung occupancy: share of runs at each rung of the Russia-NATO axis, week by week ({n:,} runs per "
                 "variant; log colour scale; white: no run)", fontsize=10)
    _multiples_layout(fig, rows)
    if im is not None:
        _log_colourbar(fig, im, axes, "share of runs (log scale)", shrink=0.9, aspect=40)
    _rung_key(fig, names, range(N_RUNGS))
    return _save(fig, folder, name, formats)


# ------------------------------------------------------------------------------------------- one run
def timeline_chart(story: dict[str, Any], folder: Path, name: str | None = None,
                   formats: Sequence[str] = ("png",)) -> list[Path]:
    """The story of one run: each actor's acts by week on the ladder, both axes' paths and the red lines crossed.

    ``story`` is the structure built by :mod:`sim.output.story` (from a replay or from the event table).
    """
    names: list[str] = story["rung_names"]
    horizon = story["horizon_weeks"]
    weeks = np.arange(horizon)
    acts = [(w["week"], a) for w in story["weeks"] for a in w["acts"]]
    actors = list(dict.fromkeys(a["actor"] for _, a in acts))
    blocs: dict[str, str] = story.get("blocs", {})
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(12, 9 + 0.12 * len(actors)), sharex=True,
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
    ax.set_title(f"{label(story['title'])} [{label(story['variant'], 60)}]\n"
                 f"The story of run {story['run']} (seed {story['seed']}, {source}): acts by week on the ladder",
                 fontsize=10)
    ax2.set_yticks(range(len(actors)))
    ax2.set_yticklabels([label(a, 40) for a in actors], fontsize=7.5)
    ax2.set_ylim(-0.7, max(len(actors), 1) - 0.3)
    ax2.invert_yaxis()
    ax2.set_xlim(-0.7, horizon - 0.3)
    ax2.set_xlabel("week")
    ax2.set_ylabel("actor")
    ax2.set_title("Who acted when (marker colour: the act's rung)", fontsize=9)
    ax2.grid(alpha=0.25)
    return _save(fig, folder, name or timeline_name(story), formats)


def timeline_name(story: dict[str, Any]) -> str:
    """The file name (stem) of a story's timeline."""
    return f"timeline__{story['variant']}__run{story['run']}"


# ------------------------------------------------------------------------------------------- the set
@dataclass(frozen=True)
class Chart:
    """One chart of the default set: its file stem, the report section it belongs to, a caption that says how to
    read it, and how to draw it (``draw(*args, formats=...)``)."""

    name: str
    section: str
    caption: str
    draw: Callable[..., list[Path]] = field(repr=False, compare=False)
    args: tuple[Any, ...] = field(repr=False, compare=False)


#: The report's sections of charts, in order: id and heading.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("overlays", "Headline outcomes over time, all variants"),
    ("comparison", "All outcomes, variant by variant"),
    ("multiples", "Each variant side by side"),
    ("story", "The story of the most escalated run"),
)


def _capped(k: int, limit: int) -> str:
    return f" Only the first {limit} of the {k} variants are drawn, in the scenario's order." if k > limit else ""


def plan(summary: dict[str, Any], aggregates: dict[str, Aggregates], comparison: dict[str, Any] | None = None,
         stories: Sequence[dict[str, Any]] = ()) -> list[Chart]:
    """The default set of charts of a batch (what the report shows), in the report's order, without drawing them."""
    n, k = summary["runs"], len(summary["variants"])
    over, panels = _capped(k, MAX_OVERLAID), _capped(k, MAX_PANELS)
    base = summary["baseline"]
    charts: list[Chart] = []
    for oid in HEADLINE_OUTCOMES:
        charts.append(Chart(
            f"cumulative__{oid}", "overlays",
            f"{oid}: each line is one variant; its height at week w is the share of that variant's {n:,} runs in "
            f"which the outcome has happened by the end of week w. The scale is logarithmic: each grid line is ten "
            f"times the one below, the dotted line is one run and a line starts at the first run that reaches the "
            f"outcome (no line: no run). The legend gives the share by the last week with its 95% interval, or the "
            f"count of runs when under 1%." + over,
            cumulative_chart, (summary, aggregates, oid)))
    reached = Chart(
        "rung_reached", "comparison",
        "Each line is one variant; read across from a rung to the share of runs whose Russia-NATO axis reached that "
        "rung or a higher one at least once within the horizon (log scale; dotted line: one run). A line further "
        "right at the top rungs means a fatter tail of escalation." + over,
        reached_chart, (summary, aggregates))
    if comparison is not None:
        others = len(comparison["variants"]) > 1
        charts.append(Chart(
            "variant_comparison", "comparison",
            "Left: every outcome's probability within the horizon per variant, with its 95% Wilson interval, on a log "
            "scale so that a rare outcome stands apart from none (hollow marker on the axis floor: no run). "
            + (f"Right: each variant's difference to '{base}' in percentage points with its 95% interval; an "
               "interval that crosses the vertical line at 0 is not told apart from the baseline by this many runs; "
               "the scale is linear near 0 and logarithmic beyond." if others else "") + over,
            comparison_chart, (comparison, summary["title"])))
    charts.append(reached)
    charts.append(Chart(
        "escalation_fan", "multiples",
        f"One panel per variant, in the scenario's order. Each line is a rung from {FAN_FROM} up: its height in week "
        f"w is the share of runs at that rung or higher that week (log scale; dotted line: one run). Rungs 0-4 (talk, "
        "threats, coercion and the posture of the routine war, which every scripted arms delivery sets for all runs "
        "in its week) are left out; the occupancy below shows them." + panels,
        fan_chart, (summary, aggregates)))
    charts.append(Chart(
        "rung_occupancy", "multiples",
        "One panel per variant, in the scenario's order: each cell is the share of runs whose Russia-NATO axis stands "
        "at that rung (row) in that week (column), on one log colour scale for all panels; white: no run. The key "
        "at the right names the rungs." + panels,
        occupancy_chart, (summary, aggregates)))
    for told in stories:
        charts.append(Chart(
            timeline_name(told), "story",
            f"Run {told['run']} of '{told['variant']}'. Top: the highest rung each week on both axes, every act as a "
            "marker at its rung (shape: the actor's bloc; colour: the rung), red lines crossed (dotted) and enforced "
            "(solid). Bottom: who acted in which week.",
            timeline_chart, (told,)))
    return charts


#: The charts a pool of drawing processes is drawing: set before the processes are forked, so each task names
#: a chart by its index and nothing large is pickled.
_PLANNED: list[tuple[Chart, Path, tuple[str, ...]]] = []


def _drawing_process() -> None:
    """A drawing process leaves Ctrl-C to the command (which stops the pool) and ends with it on Linux."""
    import signal
    import sys

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import contextlib
        import ctypes

        with contextlib.suppress(OSError, AttributeError):  # PR_SET_PDEATHSIG: SIGTERM when the parent ends
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)


def _draw_planned(i: int) -> tuple[int, list[Path]]:
    chart, folder, formats = _PLANNED[i]
    return i, chart.draw(*chart.args, folder=folder, name=chart.name, formats=formats)


def drawing_workers(requested: int | None = None) -> int:
    """How many processes draw charts: ``requested``, else one per core up to 4; 1 where processes cannot be forked
    (the drawing processes inherit the loaded libraries and the data instead of loading them again)."""
    import multiprocessing
    import os

    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, requested if requested is not None else min(os.cpu_count() or 1, 4))


def draw_all(summary: dict[str, Any], aggregates: dict[str, Aggregates], folder: Path,
             comparison: dict[str, Any] | None = None, stories: Sequence[dict[str, Any]] = (),
             formats: Sequence[str] = ("png",), on_chart: Callable[[int, int, str], None] | None = None,
             workers: int | None = None) -> list[Path]:
    """Draw the default set of charts (:func:`plan`) into ``folder`` in each of ``formats``, in ``workers``
    processes (:func:`drawing_workers`); returns the files written, in the plan's order. ``on_chart(done, total,
    name)`` is told after each chart."""
    import multiprocessing

    folder = Path(folder)
    charts = plan(summary, aggregates, comparison, stories)
    fmts = tuple(formats)
    n_workers = min(drawing_workers(workers), len(charts))
    drawn: dict[int, list[Path]] = {}
    if n_workers <= 1:
        for i, chart in enumerate(charts):
            drawn[i] = chart.draw(*chart.args, folder=folder, name=chart.name, formats=fmts)
            if on_chart is not None:
                on_chart(i + 1, len(charts), chart.name)
        return [p for i in range(len(charts)) for p in drawn[i]]
    folder.mkdir(parents=True, exist_ok=True)
    _PLANNED[:] = [(c, folder, fmts) for c in charts]
    pool = multiprocessing.get_context("fork").Pool(n_workers, initializer=_drawing_process)
    try:
        # the slowest charts first, so that no process is left drawing one alone at the end
        order = sorted(range(len(charts)), key=lambda i: charts[i].section not in ("multiples", "comparison"))
        for k, (i, paths) in enumerate(pool.imap_unordered(_draw_planned, order)):
            drawn[i] = paths
            if on_chart is not None:
                on_chart(k + 1, len(charts), charts[i].name)
        pool.close()
    except BaseException:
        pool.terminate()  # a stop or an error: the charts being drawn are abandoned at once
        raise
    finally:
        pool.join()
        _PLANNED.clear()
    return [p for i in range(len(charts)) for p in drawn[i]]
