"""Variant comparison: each outcome's probability per variant and its difference to the baseline, with intervals.

Variants of one batch share their random numbers (common random numbers: every draw is keyed by run index and
site, never by variant), so run ``k`` of two variants differs only by the levers. With per-run data the difference
of two probabilities is then estimated on paired runs: Newcombe's (1998) method 10 for paired proportions, which
combines the two Wilson intervals with the correlation of the pairs and is far tighter than treating the variants
as independent. Without per-run data (a batch run with ``--no-runs``) the difference falls back to Newcombe's
hybrid score interval for independent samples (:func:`sim.output.statistics.newcombe_difference`), which is conservative
here. The comparison says which one it used.

>>> d, lo, hi = paired_difference(both=30, only_first=10, only_second=0, neither=60)
>>> round(d, 2), lo > 0, hi < 0.2
(0.1, True, True)
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import InputError
from sim.output.statistics import newcombe_difference, wilson_interval
from sim.spec.vocabulary import OUTCOME_IDS

PAIRED = "paired"
INDEPENDENT = "newcombe"

METHOD_TEXT = {
    PAIRED: "paired runs under common random numbers (Newcombe 1998, method 10 for paired proportions), from "
            "per-run data",
    INDEPENDENT: "Newcombe's hybrid score interval for independent samples (no per-run data; conservative under "
                 "common random numbers)",
}


def paired_difference(both: int, only_first: int, only_second: int, neither: int) -> tuple[float, float, float]:
    """Difference p1 - p2 of two proportions measured on the same runs, with its 95% interval.

    ``both`` runs had the event under both arms, ``only_first`` under the first only, ``only_second`` under the
    second only, ``neither`` under none. Newcombe's method 10: the Wilson intervals of p1 and p2 are combined with
    the phi coefficient of the 2x2 table, so a strong positive correlation (common random numbers) narrows the
    interval.
    """
    a, b, c, d = both, only_first, only_second, neither
    n = a + b + c + d
    if n == 0:
        return (0.0, -1.0, 1.0)
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson_interval(a + b, n)
    l2, u2 = wilson_interval(a + c, n)
    denom = (a + b) * (c + d) * (a + c) * (b + d)
    phi = (a * d - b * c) / math.sqrt(denom) if denom > 0 else 0.0
    dl1, du1, dl2, du2 = p1 - l1, u1 - p1, p2 - l2, u2 - p2
    delta = math.sqrt(max(dl1 * dl1 - 2 * phi * dl1 * du2 + du2 * du2, 0.0))
    eps = math.sqrt(max(du1 * du1 - 2 * phi * du1 * dl2 + dl2 * dl2, 0.0))
    diff = p1 - p2
    return (diff, max(-1.0, diff - delta), min(1.0, diff + eps))


def _probability(k: int, n: int) -> dict[str, Any]:
    lo, hi = wilson_interval(k, n)
    return {"count": int(k), "probability": k / n if n else 0.0, "ci95": [lo, hi]}


def from_indicators(happened: dict[str, np.ndarray], baseline: str, *, seed: int | None = None,
                    title: str = "") -> dict[str, Any]:
    """A paired comparison from per-run outcome indicators: for each arm a bool array (runs, outcomes), rows in
    the same run order for every arm."""
    names = list(happened)
    if baseline not in happened:
        raise ValueError(f"the baseline '{baseline}' is not among the arms {names}")
    n = len(happened[baseline])
    for v, m in happened.items():
        if m.shape != (n, len(OUTCOME_IDS)):
            raise ValueError(f"arm '{v}' has per-run data of shape {m.shape}, expected {(n, len(OUTCOME_IDS))}")
    base = happened[baseline]
    outcomes = {oid: {v: _probability(int(happened[v][:, i].sum()), n) for v in names}
                for i, oid in enumerate(OUTCOME_IDS)}
    differences: dict[str, dict[str, Any]] = {}
    for v in names:
        if v == baseline:
            continue
        x = happened[v]
        differences[v] = {}
        for i, oid in enumerate(OUTCOME_IDS):
            xv, xb = x[:, i], base[:, i]
            d, lo, hi = paired_difference(int((xv & xb).sum()), int((xv & ~xb).sum()), int((~xv & xb).sum()),
                                          int((~xv & ~xb).sum()))
            differences[v][oid] = {"difference": d, "ci95": [lo, hi]}
    return _comparison(names, baseline, n, seed, title, PAIRED, outcomes, differences)


def reference(summary: dict[str, Any]) -> str:
    """The variant the others are compared with: the baseline, or the first variant run when it was left out.

    >>> reference({"baseline": "baseline", "variants": {"a": {}, "b": {}}})
    'a'
    """
    return summary["baseline"] if summary["baseline"] in summary["variants"] else next(iter(summary["variants"]))


def from_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """A comparison from a results folder's summary alone (independent-sample intervals)."""
    names = list(summary["variants"])
    baseline = reference(summary)
    n = summary["runs"]
    outcomes = {oid: {v: {k: summary["variants"][v]["outcomes"][oid][k] for k in ("count", "probability", "ci95")}
                      for v in names} for oid in OUTCOME_IDS}
    differences: dict[str, dict[str, Any]] = {}
    for v in names:
        if v == baseline:
            continue
        differences[v] = {}
        for oid in OUTCOME_IDS:
            kv = summary["variants"][v]["outcomes"][oid]["count"]
            kb = summary["variants"][baseline]["outcomes"][oid]["count"]
            nv, nb = summary["variants"][v]["runs"], summary["variants"][baseline]["runs"]
            d, lo, hi = newcombe_difference(kv, nv, kb, nb)
            differences[v][oid] = {"difference": d, "ci95": [lo, hi]}
    return _comparison(names, baseline, n, summary.get("seed"), summary.get("title", ""), INDEPENDENT, outcomes,
                       differences)


def _comparison(names: list[str], baseline: str, n: int, seed: int | None, title: str, method: str,
                outcomes: dict[str, Any], differences: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": title,
        "baseline": baseline,
        "variants": [baseline] + [v for v in names if v != baseline],
        "runs": n,
        "seed": seed,
        "method": method,
        "method_text": METHOD_TEXT[method],
        "outcomes": outcomes,
        "differences": differences,
    }


def indicators_from_runs(runs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(run ids, bool matrix runs x outcomes) from one chunk's per-run columns (``first_week.<id>`` < 0: no)."""
    ids = np.asarray(runs["run"], dtype=np.int64)
    happened = np.stack([np.asarray(runs["first_week." + oid]) >= 0 for oid in OUTCOME_IDS], axis=1)
    return ids, happened


def indicators_from_table(path: str | Path) -> dict[str, np.ndarray] | None:
    """Per-variant outcome indicators (rows sorted by run) from a results folder's runs.parquet, or None when the
    table is missing or the variants do not hold the same runs."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        return None
    cols = ["run", "variant"] + ["first_week." + oid for oid in OUTCOME_IDS]
    try:
        table = pq.read_table(path, columns=cols)
    except (OSError, KeyError, ValueError):
        return None
    run = table.column("run").to_numpy()
    variant = np.asarray(table.column("variant").to_pylist(), dtype=object)
    happened = np.stack([pc.is_valid(table.column("first_week." + oid)).to_numpy(zero_copy_only=False)
                         for oid in OUTCOME_IDS], axis=1)
    out: dict[str, np.ndarray] = {}
    reference: np.ndarray | None = None
    for v in dict.fromkeys(variant.tolist()):
        sel = variant == v
        order = np.argsort(run[sel], kind="stable")
        ids = run[sel][order]
        if reference is None:
            reference = ids
        elif not np.array_equal(ids, reference):
            return None
        out[str(v)] = happened[sel][order]
    return out


def for_results(folder: str | Path, summary: dict[str, Any]) -> dict[str, Any]:
    """The comparison of a results folder's variants: paired when runs.parquet holds every run, else Newcombe."""
    happened = indicators_from_table(Path(folder) / "runs.parquet")
    base = reference(summary)
    if happened and set(happened) == set(summary["variants"]) and len(happened[base]) == summary["runs"]:
        ordered = {v: happened[v] for v in summary["variants"]}
        return from_indicators(ordered, base, seed=summary.get("seed"), title=summary.get("title", ""))
    return from_summary(summary)


def table_rows(comparison: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per outcome and variant: probability, interval, difference to the baseline and its interval."""
    rows = []
    for oid in OUTCOME_IDS:
        for v in comparison["variants"]:
            o = comparison["outcomes"][oid][v]
            diff = comparison["differences"].get(v, {}).get(oid)
            rows.append({
                "outcome": oid,
                "variant": v,
                "runs": comparison["runs"],
                "count": o["count"],
                "probability": round(o["probability"], 6),
                "ci95_low": round(o["ci95"][0], 6),
                "ci95_high": round(o["ci95"][1], 6),
                "difference_to_baseline": round(diff["difference"], 6) if diff else 0.0,
                "difference_ci95_low": round(diff["ci95"][0], 6) if diff else 0.0,
                "difference_ci95_high": round(diff["ci95"][1], 6) if diff else 0.0,
                "method": comparison["method"] if diff else "",
            })
    return rows


def write(comparison: dict[str, Any], folder: str | Path) -> list[Path]:
    """Write comparison.json and comparison.csv into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    js = folder / "comparison.json"
    js.write_text(json.dumps(comparison, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    rows = table_rows(comparison)
    path = folder / "comparison.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return [js, path]


def check_side_by_side(scenarios: list[Any]) -> None:
    """Scenario files compared side by side must have distinct names and the same horizon."""
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise InputError("scenario files compared side by side need distinct names", key="SCENARIO",
                         expected="distinct 'name' fields", found=", ".join(names))
    horizons = {s.horizon_weeks for s in scenarios}
    if len(horizons) > 1:
        raise InputError("scenario files compared side by side need the same horizon", key="horizon_weeks",
                         expected="one horizon for all",
                         found=", ".join(f"{s.name}: {s.horizon_weeks}" for s in scenarios))
