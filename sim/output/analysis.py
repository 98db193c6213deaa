"""Which sampled assumptions and levers drive an outcome: global sensitivity and scenario discovery over the
per-run table of a results folder.

The inputs are the sampled parameters of every run (``param.*`` columns of ``runs.parquet``: actor attributes,
red-line credibilities, the calibrated design parameters) and, for a sweep, its levers (``lever.*``; a text lever
is coded by the order of its values); an input that does not vary is left out. The output is whether the outcome
happened in the run.

* **Sensitivity**: the first-order index S1 of each input, estimated from the sample as it is by RBD-FAST
  (Tarantola et al. 2006; Plischke 2010's reordering, so no special design is needed; Tissot and Prieur 2012's bias
  correction), with a bootstrap 95% interval, from SALib (``SALib.analyze.rbd_fast``). S1 is the share of the
  outcome's variance that the input explains alone; a do-nothing input scores about 0.
* **Scenario discovery**: PRIM (Friedman and Fisher 1999) from the ``prim`` package (the EMA Workbench's
  implementation, standalone), on the inputs that rank highest by S1 (PRIM's cost grows with the number of inputs).
  It peels the input space toward the runs where the outcome happened; every step is a box with its *coverage*
  (share of the outcome's runs inside) and *density* (share of runs inside that have the outcome). The box reported
  is the densest of the peeling trajectory that still covers half of the outcome's runs, with each restriction's
  quasi-p value (a restriction with one above 0.05 may be chance).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sim.errors import InputError
from sim.output.folder import read_runs_table
from sim.spec.vocabulary import OUTCOME_IDS

#: The outcomes analysed when none is named: the tails of the Russia-NATO axis.
DEFAULT_OUTCOMES = ("strike_on_nato_forces_in_ukraine", "strike_on_nato_territory", "nato_russia_war", "nuclear_use")
#: Fewest runs with (and without) the outcome for it to be analysed.
MIN_CASES = 10
#: Inputs given to PRIM: those ranking highest by S1 (and every lever of a sweep).
PRIM_INPUTS = 12
#: Bootstrap resamples of each index's interval.
RESAMPLES = 50
#: The box reported is the densest of the peeling trajectory that keeps at least this share of the outcome's runs.
MIN_COVERAGE = 0.5
#: A restriction of a PRIM box counts as found when its quasi-p value is below this (else it may be chance).
QP_LEVEL = 0.05
#: RBD-FAST harmonics.
HARMONICS = 10


def read_inputs(folder: str | Path) -> tuple[np.ndarray, list[str], dict[str, list[Any]], dict[str, np.ndarray]]:
    """The per-run inputs and outcomes of a results folder: (X runs x inputs, input names, the values of each
    coded text input in code order, {outcome: bool per run})."""
    table = read_runs_table(folder)
    columns, names, coded = [], [], {}
    levers = [c for c in table.column_names if c.startswith("lever.")]
    candidates = [c for c in table.column_names if c.startswith("param.") and c != "param.design.set"] + levers
    if not levers and len(table.column("variant").unique()) > 1:
        candidates.append("variant")  # variants pooled without lever columns: the variant is an input
    for name in candidates:
        col = table.column(name)
        if pa.types.is_string(col.type) or pa.types.is_boolean(col.type) or pa.types.is_dictionary(col.type):
            values = col.to_pylist() if pa.types.is_boolean(col.type) else col.cast(pa.string()).to_pylist()
            order = list(dict.fromkeys(values))
            if len(order) > 50:
                continue
            index = {v: i for i, v in enumerate(order)}
            x = np.array([index[v] for v in values], dtype=np.float64)
            coded[_label(name)] = order
        else:
            x = col.to_numpy(zero_copy_only=False).astype(np.float64)
        if np.all(x == x[0]):
            continue
        columns.append(x)
        names.append(_label(name))
    if not columns:
        raise InputError("no sampled input varies over the runs of this folder", file=folder)
    outcomes = {oid: pc.is_valid(table.column("first_week." + oid)).to_numpy(zero_copy_only=False)
                for oid in OUTCOME_IDS}
    return np.column_stack(columns), names, {k: v for k, v in coded.items() if k in names}, outcomes


def _label(column: str) -> str:
    """An input's name: a parameter without ``param.``, a lever as ``lever.<path>``."""
    return column.removeprefix("param.")


def sensitivity(x: np.ndarray, y: np.ndarray, names: list[str], seed: int = 0) -> list[dict[str, Any]]:
    """Each input's first-order index S1 for output ``y`` with its bootstrap 95% interval (SALib's RBD-FAST on
    the given sample), highest first."""
    from SALib.analyze import rbd_fast

    # rows in a random order: RBD-FAST sorts by each input, and the ties of a discrete input (a lever, a
    # calibrated set) must not keep the table's order (runs grouped by variant), which would leak the other inputs
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    x, y = x[order], np.asarray(y)[order]
    problem = {"num_vars": len(names), "names": list(names),
               "bounds": [[float(x[:, j].min()), float(x[:, j].max())] for j in range(len(names))]}
    result = rbd_fast.analyze(problem, x, np.asarray(y, dtype=np.float64), M=HARMONICS, num_resamples=RESAMPLES,
                              conf_level=0.95, seed=rng)
    rows = [{"input": n, "S1": _finite(s), "ci95": [_finite(s - c), _finite(s + c)]}
            for n, s, c in zip(names, result["S1"], result["S1_conf"], strict=True)]
    # an index SALib could not estimate (NaN: an outcome or input without variance) is None, ranked last
    return sorted(rows, key=lambda r: (r["S1"] is None, -(r["S1"] or 0.0)))


def _finite(value: Any) -> float | None:
    """A float, or None for NaN or an infinity (strict JSON has neither)."""
    v = float(value)
    return v if np.isfinite(v) else None


def prim_box(x: np.ndarray, y: np.ndarray, names: list[str], coded: dict[str, list[Any]] | None = None
             ) -> dict[str, Any]:
    """The PRIM box where ``y`` concentrates: its coverage, density, mass and restrictions (each input's limits
    and quasi-p value), and the peeling trajectory it was chosen from (the densest box covering at least
    :data:`MIN_COVERAGE`)."""
    import pandas as pd
    from prim import Prim

    frame = pd.DataFrame(x, columns=names)
    with warnings.catch_warnings():  # the package warns on pandas idioms it uses
        warnings.simplefilter("ignore")
        finder = Prim(frame, np.asarray(y, dtype=bool))
        box = finder.find_box()
        trajectory = box.peeling_trajectory
        coverage = trajectory["coverage"].to_numpy(dtype=np.float64)
        density = trajectory["density"].to_numpy(dtype=np.float64)
        chosen = int(np.argmax(np.where(coverage >= MIN_COVERAGE, density, -1.0)))
        box.select(chosen)
        limits = box.limits
    point = trajectory.iloc[chosen]
    restrictions = []
    for name, row in limits.iterrows():
        lo, hi = float(row["min"]), float(row["max"])
        entry: dict[str, Any] = {"input": str(name), "min": lo, "max": hi, "qp": float(row["qp values"])}
        if coded and name in coded:
            entry["values"] = [v for i, v in enumerate(coded[str(name)]) if lo <= i <= hi]
        elif str(name).startswith("lever."):  # a swept lever: the grid values inside the box
            grid = np.unique(frame[str(name)].to_numpy())
            entry["values"] = [float(v) if v != int(v) else int(v) for v in grid if lo <= v <= hi]
        entry["significant"] = entry["qp"] < QP_LEVEL
        restrictions.append(entry)
    return {
        "coverage": float(point["coverage"]), "density": float(point["density"]), "mass": float(point["mass"]),
        "restricted": int(point["res dim"]), "step": chosen,
        "base_density": float(np.mean(y)),
        "restrictions": restrictions,
        "trajectory": [{"coverage": float(r["coverage"]), "density": float(r["density"]),
                        "restricted": int(r["res dim"])} for _, r in trajectory.iterrows()],
    }


def analyse(folder: str | Path, outcomes: list[str] | None = None, seed: int = 0) -> dict[str, Any]:
    """Sensitivity and a PRIM box for each outcome (default: :data:`DEFAULT_OUTCOMES` that happen in at least
    :data:`MIN_CASES` runs and fail to in as many) over a results folder's runs."""
    for oid in outcomes or []:
        if oid not in OUTCOME_IDS:
            raise InputError(f"unknown outcome '{oid}'", key="--outcome", expected="one of: " + ", ".join(OUTCOME_IDS),
                             found=oid)
    x, names, coded, happened = read_inputs(folder)
    chosen = list(dict.fromkeys(outcomes)) if outcomes else list(DEFAULT_OUTCOMES)
    results: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for oid in chosen:
        y = happened[oid]
        k = int(y.sum())
        if min(k, len(y) - k) < MIN_CASES:
            skipped[oid] = f"happens in {k} of {len(y)} runs (needs at least {MIN_CASES} with and without)"
            continue
        ranked = sensitivity(x, y, names, seed)
        top = [r["input"] for r in ranked[:PRIM_INPUTS]]
        top += [n for n in names if n.startswith("lever.") and n not in top]
        cols = [names.index(n) for n in top]
        results[oid] = {"runs": len(y), "count": k, "probability": k / len(y), "sensitivity": ranked,
                        "prim": prim_box(x[:, cols], y, top, coded)}
    if outcomes and not results:
        raise InputError("no outcome named can be analysed here", key="--outcome",
                         found="; ".join(f"{o}: {why}" for o, why in skipped.items()))
    return {"results": str(folder), "inputs": names, "runs": int(x.shape[0]), "outcomes": results,
            "skipped": skipped,
            "method": {"sensitivity": "first-order index S1 by RBD-FAST on the given sample (SALib), bootstrap 95% "
                                      f"interval over {RESAMPLES} resamples",
                       "discovery": f"PRIM (prim package) on the {PRIM_INPUTS} inputs of highest S1 and every "
                                    "lever; the densest box of the peeling trajectory that covers at least "
                                    f"{MIN_COVERAGE:.0%} of the outcome's runs"}}
