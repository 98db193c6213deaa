"""Calibration of the design parameters on the 2022-2024 record by history matching.

History matching (Craig, Goldstein et al. 1997; Vernon, Goldstein and Bower 2010; Andrianakis et al. 2015 for
agent-based models) keeps the parameter sets that are not implausible: a Latin hypercube of candidate sets over the
stated ranges of ``configs/model.yaml`` (scipy's ``qmc.LatinHypercube``), each run through the back-test
(``scenarios/backtest_2022_2024.yaml``, the same seed and runs for every candidate); for each target of
``calibration/targets.yaml`` the statistic's implausibility

    I_j = max(0, low_j - s_j, s_j - high_j) / se_j

(its distance beyond the interval the record allows, in Monte Carlo standard errors), and a set is kept when
``max_j I_j <= 3`` (Pukelsheim's three-sigma rule). Each later wave draws new candidates within the box of the sets
kept so far (or of the least implausible, while few are kept): refocusing, as in iterated history matching. The
kept sets are written to ``configs/calibration.yaml``; every run then draws one.

Reproducible from the seed: the same seed, runs and candidates give the same sets.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import qmc

from sim.engine.model import ChunkResult, simulate
from sim.engine.world import Context
from sim.spec.doctrine import Doctrine
from sim.spec.loading import default_scenarios_dir, load_doctrine, load_scenario, with_overrides
from sim.spec.scenario import ScenarioSpec
from sim.spec.targets import Target, load_priors, load_targets

CUTOFF = 3.0
#: waves of candidates; each after the first searches the box of the best of those before
WAVES = 3
FOCUS = 12
#: the design parameters history matching fits: those that no source fixes ([D]) and that the engine reads run by
#: run, with misperception and discharge (docs/model.md section 6)
DESIGN = ("memory_decay", "misperception_sigma", "rationality", "proportionality_width", "response_gain",
          "discharge_share", "nato_act_provocation_share", "national_retaliation_rate", "persistent_enforcement_share",
          "withdrawal_rate", "article5_threshold", "ceasefire_rate", "ceasefire_break_rate", "deal_relief")
BACKTEST = "backtest_2022_2024.yaml"
#: weeks after a Western step in which its answer is looked for (DOMAIN.md 3: responses within about 30 days)
WINDOW = 5


# ------------------------------------------------------------------------------------------------ statistics
def statistics(result: ChunkResult, targets: list[Target], doctrine: Doctrine) -> tuple[np.ndarray, np.ndarray]:
    """Each target's statistic in a batch (recorded with events) and its Monte Carlo standard error."""
    ev = result.events or {}
    run = np.asarray(ev.get("run", []), dtype=np.int64)
    week = np.asarray(ev.get("week", []), dtype=np.int64)
    actor = np.asarray(ev.get("actor", []))
    action = np.asarray(ev.get("action", []))
    rung = np.asarray(ev.get("rung", []), dtype=np.int64)
    row = np.searchsorted(result.run_ids, run)
    n, horizon = len(result.run_ids), result.headline.shape[1] if result.headline is not None else 0
    russian = actor == "russia"
    axis_of = {r.id: r.axis for r in doctrine.responses if r.side == "russia"}
    floor = {"nato": min(r.rung for r in doctrine.responses if r.side == "russia" and r.axis == "nato"),
             "ukraine": min(r.rung for r in doctrine.responses if r.side == "russia" and r.axis == "ukraine")}
    on_axis = {a: russian & np.isin(action, [k for k, v in axis_of.items() if v == a]) for a in floor}
    values, errors = [], []
    for t in targets:
        if t.statistic in ("probability", "median_first_week"):
            assert t.outcome is not None
            first = result.runs["first_week." + t.outcome]
            hit = first >= 0
            if t.statistic == "probability":
                p = hit.mean()
                values.append(p)
                errors.append(max(np.sqrt(p * (1 - p) / n), 0.5 / n))
            else:
                weeks = first[hit] if hit.any() else np.array([horizon])
                values.append(float(np.median(weeks)))
                errors.append(max(1.2533 * weeks.std() / np.sqrt(len(weeks)), 0.5))
            continue
        if t.statistic == "response_share":
            assert t.axis is not None and t.week is not None and t.rungs is not None
            sel = on_axis[t.axis] & (week >= t.week) & (week < t.week + WINDOW)
            top = np.full(n, floor[t.axis], dtype=np.int64)
            np.maximum.at(top, row[sel], rung[sel])
            share = float(((top >= t.rungs[0]) & (top <= t.rungs[1])).mean())
            values.append(share)
            errors.append(max(np.sqrt(share * (1 - share) / n), 0.5 / n))
            continue
        end = t.to_week if t.to_week is not None else horizon
        sel = russian & (action == t.action) & (week >= t.from_week) & (week < end)
        if t.statistic == "week_share":  # distinct (run, week) pairs with the act, per run
            pairs = np.unique(row[sel] * (horizon + 1) + week[sel])
            per_run = np.bincount(pairs // (horizon + 1), minlength=n) / max(end - t.from_week, 1)
        else:
            per_run = np.bincount(row[sel], minlength=n).astype(np.float64)
            if t.statistic == "acts_per_year":
                per_run *= 52.0 / max(end - t.from_week, 1)
        values.append(float(per_run.mean()))
        errors.append(max(per_run.std() / np.sqrt(n), 1e-3))
    return np.asarray(values), np.asarray(errors)


def implausibility(values: np.ndarray, errors: np.ndarray, targets: list[Target]) -> np.ndarray:
    """Per target, how many standard errors the statistic lies beyond the interval the record allows (0 inside)."""
    low = np.array([t.low for t in targets])
    high = np.array([t.high for t in targets])
    return np.maximum(0.0, np.maximum(low - values, values - high)) / errors


# ------------------------------------------------------------------------------------------------ the fit
@dataclass
class Fit:
    """The outcome of a calibration: every candidate with its statistics, and the kept sets."""

    parameters: tuple[str, ...]
    candidates: np.ndarray          # (n, P)
    statistics: np.ndarray          # (n, T)
    errors: np.ndarray              # (n, T)
    implausibility: np.ndarray      # (n, T)
    wave: np.ndarray                # (n,) 1 or 2
    targets: list[Target]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def kept(self) -> np.ndarray:
        return self.implausibility.max(axis=1) <= CUTOFF


def _evaluate(args: tuple[str | None, dict[str, float], int, int]) -> tuple[np.ndarray, np.ndarray]:
    configs, overrides, runs, seed = args
    doctrine = load_doctrine(configs)
    spec = backtest(doctrine, overrides, seed)
    levers = spec.levers()[0]
    result = simulate(Context.build(doctrine, spec, levers), np.arange(runs), levers.name, record_events=True)
    return statistics(result, load_targets(), doctrine)


def backtest(doctrine: Doctrine, overrides: dict[str, float], seed: int | None = None) -> ScenarioSpec:
    """The back-test's baseline with the given parameters fixed (no calibrated draws: one candidate per batch)."""
    spec = load_scenario(default_scenarios_dir() / BACKTEST, doctrine)
    changes: dict[str, Any] = {"overrides": {**spec.overrides, **overrides}, "variants": [],
                               "design_parameters": "fixed"}
    if seed is not None:
        changes["seed"] = seed
    return with_overrides(spec, doctrine, **changes)


def _design(doctrine: Doctrine, n: int, seed: int, box: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    priors = load_priors()
    lo = np.array([priors[p].low if p in priors else doctrine.parameters[p].low for p in DESIGN])
    hi = np.array([priors[p].high if p in priors else doctrine.parameters[p].high for p in DESIGN])
    if box is not None:
        lo, hi = box
    unit = qmc.LatinHypercube(d=len(DESIGN), seed=seed).random(n)
    return qmc.scale(unit, lo, hi) if np.all(hi > lo) else np.tile(lo, (n, 1))


def _refocus(rows: np.ndarray, worst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The box the next wave searches: that of the sets kept so far, or, while fewer than ``FOCUS`` are kept, of the
    ``FOCUS`` least implausible (refocusing, as in iterated history matching)."""
    order = np.argsort(worst, kind="stable")
    chosen = rows[worst <= CUTOFF] if (worst <= CUTOFF).sum() >= FOCUS else rows[order[:FOCUS]]
    return chosen.min(axis=0), chosen.max(axis=0)


def calibrate(*, candidates: int = 160, runs: int = 1000, seed: int = 20220224, workers: int | None = None,
              configs: str | None = None, progress: Callable[[int, int], None] | None = None) -> Fit:
    """``WAVES`` waves of history matching on the back-test: ``candidates`` sets a wave, ``runs`` runs each."""
    doctrine = load_doctrine(configs)
    targets = load_targets()
    workers = workers or max(1, len(os.sched_getaffinity(0)))
    total, done = WAVES * candidates, 0
    rows: list[np.ndarray] = []
    stats: list[np.ndarray] = []
    errs: list[np.ndarray] = []
    waves: list[int] = []
    box = None
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
        for wave in range(1, WAVES + 1):
            design = _design(doctrine, candidates, seed + wave, box)
            jobs = [(configs, dict(zip(DESIGN, map(float, theta), strict=True)), runs, seed) for theta in design]
            for theta, (v, e) in zip(design, pool.map(_evaluate, jobs), strict=True):
                rows.append(theta)
                stats.append(v)
                errs.append(e)
                waves.append(wave)
                done += 1
                if progress:
                    progress(done, total)
            imp = np.array([implausibility(v, e, targets) for v, e in zip(stats, errs, strict=True)])
            box = _refocus(np.array(rows), imp.max(axis=1))
    candidates_arr, stats_arr, errs_arr = np.array(rows), np.array(stats), np.array(errs)
    imp = np.array([implausibility(v, e, targets) for v, e in zip(stats_arr, errs_arr, strict=True)])
    return Fit(DESIGN, candidates_arr, stats_arr, errs_arr, imp, np.array(waves), targets,
               {"candidates_per_wave": candidates, "runs": runs, "seed": seed, "cutoff": CUTOFF})


# ------------------------------------------------------------------------------------------------ writing
def targets_hash(targets: list[Target]) -> str:
    text = json.dumps([t.model_dump(mode="json") for t in targets], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def calibration_yaml(fit: Fit, most: int = 64) -> str:
    """configs/calibration.yaml for the kept sets (at most ``most``, the least implausible first)."""
    kept = np.flatnonzero(fit.kept)
    if not len(kept):
        raise ValueError("no parameter set is consistent with the record: widen the ranges or the targets")
    order = kept[np.argsort(fit.implausibility[kept].max(axis=1), kind="stable")][:most]
    order = np.sort(order)
    sets = fit.candidates[order]
    s = fit.settings
    lines = [
        "# The calibrated design parameters: the parameter sets that history matching on the 2022-2024 record kept",
        "# (escalation calibrate; method, targets and fit in docs/model.md section 6). Each run draws one set by its",
        "# index, so outcome intervals carry what the record leaves open; `design_parameters: fixed` in a scenario",
        "# (or --fixed-parameters) uses the point values of model.yaml instead. Written by `escalation calibrate`;",
        "# do not edit by hand.",
        "calibration:",
        f"  method: \"history matching, {WAVES} waves of {s['candidates_per_wave']} Latin-hypercube candidates, "
        f"{s['runs']} back-test runs each, implausibility cut-off {s['cutoff']:g}\"",
        f"  seed: {s['seed']}",
        "  source: \"[record-2022-2024] rows 1-27 and the summary, as targets in calibration/targets.yaml; "
        "[design] (history matching)\"",
        f"  rationale: \"{int(fit.kept.sum())} of {len(fit.candidates)} candidates kept; the {len(sets)} least "
        "implausible are the calibrated sets.\"",
        f"  summary: {{targets_hash: \"{targets_hash(fit.targets)}\", kept: {int(fit.kept.sum())}, "
        f"candidates: {len(fit.candidates)}, candidates_per_wave: {s['candidates_per_wave']}, runs: {s['runs']}}}",
        f"  parameters: [{', '.join(fit.parameters)}]",
        "  sets:",
    ]
    lines += ["    - [" + ", ".join(f"{v:.6g}" for v in row) + "]" for row in sets]
    return "\n".join(lines) + "\n"


def report(fit: Fit) -> dict[str, Any]:
    """The fit against every target, over the kept sets: the range of each statistic and whether it is inside."""
    kept = fit.kept
    rows = []
    for j, t in enumerate(fit.targets):
        col = fit.statistics[kept, j] if kept.any() else fit.statistics[:, j]
        rows.append({"id": t.id, "low": t.low, "high": t.high, "kept_min": float(col.min()),
                     "kept_median": float(np.median(col)), "kept_max": float(col.max()),
                     "within": bool(kept.any() and (fit.implausibility[kept, j] <= CUTOFF).all()),
                     "source": t.source})
    marginals = {p: {"low": float(fit.candidates[kept, i].min()), "median": float(np.median(fit.candidates[kept, i])),
                     "high": float(fit.candidates[kept, i].max())} if kept.any() else {}
                 for i, p in enumerate(fit.parameters)}
    return {"settings": fit.settings, "kept": int(kept.sum()), "candidates": len(fit.candidates),
            "targets": rows, "marginals": marginals}


def write(fit: Fit, configs_dir: Path, out: Path) -> dict[str, Path]:
    """Write configs/calibration.yaml and, in ``out``, the fit report (JSON) and every candidate (CSV)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"calibration": configs_dir / "calibration.yaml", "report": out / "calibration_report.json",
             "candidates": out / "candidates.csv"}
    paths["report"].write_text(json.dumps(report(fit), indent=2) + "\n", encoding="utf-8")
    header = ",".join([*fit.parameters, "wave", "max_implausibility", *(t.id for t in fit.targets)])
    body = [",".join([*(f"{v:.6g}" for v in theta), str(w), f"{i.max():.3f}", *(f"{s:.4g}" for s in st)])
            for theta, w, i, st in zip(fit.candidates, fit.wave, fit.implausibility, fit.statistics, strict=True)]
    paths["candidates"].write_text(header + "\n" + "\n".join(body) + "\n", encoding="utf-8")
    tmp = paths["calibration"].with_suffix(".yaml.tmp")
    tmp.write_text(calibration_yaml(fit), encoding="utf-8")  # refuses a fit that kept nothing
    os.replace(tmp, paths["calibration"])
    return paths


# ------------------------------------------------------------------------------------------------ the tornado
#: the tail outcomes, and the reference scenarios their sensitivity is measured on
TAILS = ("strike_on_nato_territory", "nato_russia_war", "nuclear_use")
REFERENCE = ("limited_deployment", "full_military_involvement", "backtest_2022_2024")


def tail_counts(args: tuple[str | None, str, str | None, float | None, int, int]) -> tuple[str, list[int]]:
    """Runs of one reference scenario's baseline in which each tail outcome happens, with every design parameter
    at its point value and ``parameter`` (if given) at ``value``."""
    configs, scenario, parameter, value, runs, seed = args
    doctrine = load_doctrine(configs)
    spec = load_scenario(default_scenarios_dir() / f"{scenario}.yaml", doctrine)
    overrides = dict(spec.overrides)
    if parameter is not None:
        assert value is not None
        overrides[parameter] = float(value)
    spec = with_overrides(spec, doctrine, overrides=overrides, seed=seed, variants=[], design_parameters="fixed")
    levers = spec.levers()[0]
    res = simulate(Context.build(doctrine, spec, levers), np.arange(runs), levers.name)
    return scenario, [int((res.runs["first_week." + t] >= 0).sum()) for t in TAILS]


def tornado(ends: dict[str, tuple[float, float]], *, runs: int = 1000, seed: int = 7, workers: int | None = None,
            configs: str | None = None) -> dict[str, Any]:
    """One parameter at a time at each of its two ``ends``, the others at their point values, on the same seed and
    runs (common random numbers): the pooled probability of each tail outcome over the reference scenarios at each
    end, and the largest factor between the ends in one scenario where the outcome happened 10 times or more."""
    workers = workers or max(1, len(os.sched_getaffinity(0)))
    jobs: list[tuple[str | None, str, str | None, float | None, int, int]] = [
        (configs, s, None, None, runs, seed) for s in REFERENCE]
    jobs += [(configs, s, name, end, runs, seed) for name, pair in ends.items() for end in pair for s in REFERENCE]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
        counts = list(pool.map(tail_counts, jobs, chunksize=4))
    n = runs * len(REFERENCE)
    default = counts[:len(REFERENCE)]
    it = iter(counts[len(REFERENCE):])
    rows = []
    for name, (low, high) in ends.items():
        at = {end: dict(next(it) for _ in REFERENCE) for end in (low, high)}
        pooled = {end: [sum(at[end][s][i] for s in REFERENCE) / n for i in range(len(TAILS))] for end in (low, high)}
        factor = 1.0
        for i in range(len(TAILS)):
            for s in REFERENCE:
                a, b = at[low][s][i], at[high][s][i]
                if max(a, b) >= 10:
                    factor = max(factor, (max(a, b) + 0.5) / (min(a, b) + 0.5))
        rows.append({"parameter": name, "low": low, "high": high, "at_low": dict(zip(TAILS, pooled[low], strict=True)),
                     "at_high": dict(zip(TAILS, pooled[high], strict=True)), "factor": factor})
    base = [sum(c[i] for _, c in default) / n for i in range(len(TAILS))]
    return {"runs": runs, "seed": seed, "scenarios": list(REFERENCE), "tails": list(TAILS),
            "at_point_values": dict(zip(TAILS, base, strict=True)), "rows": rows}


def calibrated_ends(doctrine: Doctrine) -> dict[str, tuple[float, float]]:
    """Each calibrated parameter's 5th and 95th percentile over the calibrated sets."""
    sets = np.asarray(doctrine.calibration.sets)
    return {name: (float(np.percentile(sets[:, j], 5)), float(np.percentile(sets[:, j], 95)))
            for j, name in enumerate(doctrine.calibration.parameters)}
