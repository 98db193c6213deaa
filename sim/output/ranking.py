"""Runs worth reading: the runs of a batch ranked by how high and how soon they climbed.

A run ranks above another when the headline axis (Russia with its allies against NATO with its members) reached a
higher rung, and among runs with the same peak, when it reached it sooner; ties go to the lower run index. The
ranking reads ``runs.parquet`` (``max_rung`` and ``week_of_max_rung``), and each run comes with the outcomes it
reached, its sampled parameters and the few of them furthest from the batch's median (in interquartile ranges), so a
reader sees what was unusual about it and can replay it (``escalation trace --run K --variant V``).

>>> order = escalation_order(np.array([5, 9, 9, 2]), np.array([3, 20, 7, 0]), np.array([0, 1, 2, 3]))
>>> order.tolist()
[2, 1, 0, 3]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc

from sim.errors import InputError
from sim.output.folder import read_runs_table
from sim.spec.vocabulary import OUTCOME_IDS

#: The columns of runs.parquet a ranking needs besides the sampled parameters.
_NEEDED = ("run", "variant", "max_rung", "week_of_max_rung")


def escalation_order(peak: np.ndarray, week: np.ndarray, run: np.ndarray) -> np.ndarray:
    """Indices that sort runs by peak rung (highest first), then the week it was first reached (soonest first),
    then run index."""
    return np.lexsort((np.asarray(run), np.asarray(week), -np.asarray(peak, dtype=np.int64)))


def _table(folder: Path, columns: list[str] | None = None):
    path = folder / "runs.parquet"
    table = read_runs_table(folder, columns)
    missing = [c for c in _NEEDED if c not in table.column_names]
    if missing:
        raise InputError("runs.parquet lacks the columns of a ranking", file=path, expected=", ".join(_NEEDED),
                         found=", ".join(missing), hint="Run the batch again with this version")
    return table


def rank_runs(folder: str | Path, *, where: str | None = None, worst: int = 10, variant: str | None = None,
              rung_names: list[str] | None = None) -> list[dict[str, Any]]:
    """The ``worst`` most escalated runs of a results folder (of one variant, or of all), optionally only those
    where outcome ``where`` happened; each with its peak rung, the week it was reached, its outcomes (first week of
    each) and its sampled parameters."""
    folder = Path(folder)
    if where is not None and where not in OUTCOME_IDS:
        raise InputError(f"unknown outcome '{where}'", key="--where", expected="one of: " + ", ".join(OUTCOME_IDS),
                         found=where)
    if worst < 1:
        raise InputError("--worst counts runs", key="--worst", expected="a number of runs of at least 1", found=worst)
    table = _table(folder)
    spread = _spread(table)
    variants = table.column("variant").cast("string")
    if variant is not None:
        known = list(dict.fromkeys(variants.to_pylist()))
        if variant not in known:
            raise InputError(f"unknown variant '{variant}'", key="--variant", expected="one of: " + ", ".join(known),
                             found=variant)
        table = table.filter(pc.equal(variants, variant))
    if where is not None:
        table = table.filter(pc.is_valid(table.column("first_week." + where)))
    if table.num_rows == 0:
        return []
    peak = table.column("max_rung").to_numpy()
    week = table.column("week_of_max_rung").to_numpy()
    order = escalation_order(peak, week, table.column("run").to_numpy())[:worst]
    rows = table.take(order).to_pylist()
    out = []
    for r in rows:
        top = int(r["max_rung"])
        out.append({
            "run": int(r["run"]),
            "variant": str(r["variant"]),
            "max_rung": top,
            "max_rung_name": rung_names[top] if rung_names else None,
            "week_of_max_rung": int(r["week_of_max_rung"]),
            "max_ukraine_rung": int(r["max_ukraine_rung"]) if r.get("max_ukraine_rung") is not None else None,
            "outcomes": {oid: int(r["first_week." + oid]) for oid in OUTCOME_IDS
                         if r.get("first_week." + oid) is not None},
            "levers": {k.removeprefix("lever."): v for k, v in r.items() if k.startswith("lever.")},
            "parameters": {k.removeprefix("param."): float(v) for k, v in r.items() if k.startswith("param.")},
            "notable": _notable(r, spread),
        })
    return out


#: How many sampled parameters a listed run names as its most unusual.
NOTABLE = 4


def _spread(table: Any) -> dict[str, tuple[float, float]]:
    """Median and interquartile range of every sampled parameter over the whole batch (those that vary)."""
    out = {}
    for name in table.column_names:
        if name.startswith("param.") and name != "param.design.set":
            x = table.column(name).to_numpy().astype(np.float64)
            q1, med, q3 = np.quantile(x, [0.25, 0.5, 0.75])
            if q3 > q1:
                out[name] = (float(med), float(q3 - q1))
    return out


def _notable(row: dict[str, Any], spread: dict[str, tuple[float, float]]) -> dict[str, float]:
    """The run's parameters furthest from the batch's median, in interquartile ranges (signed)."""
    z = {k.removeprefix("param."): (float(row[k]) - med) / iqr for k, (med, iqr) in spread.items()}
    top = sorted(z, key=lambda k: -abs(z[k]))[:NOTABLE]
    return {k: round(z[k], 2) for k in top}


def most_escalated_run(folder: str | Path, variant: str) -> int | None:
    """The most escalated run of one variant of a results folder (as ``rank_runs`` ranks them), or None without a
    per-run table. Reads only the columns of the ranking: memory stays small whatever the number of runs."""
    try:
        table = _table(Path(folder), list(_NEEDED))
    except InputError:
        return None
    table = table.filter(pc.equal(table.column("variant").cast("string"), variant))
    if table.num_rows == 0:
        return None
    order = escalation_order(table.column("max_rung").to_numpy(), table.column("week_of_max_rung").to_numpy(),
                             table.column("run").to_numpy())
    return int(table.column("run")[int(order[0])].as_py())
