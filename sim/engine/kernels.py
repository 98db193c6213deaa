"""Compiled kernels of the engine's hot paths, and the choice between them and the plain numpy reference.

The engine has two paths that give the same numbers to the last bit:

- ``numpy``: the reference, plain array code (each rule reads as in docs/model.md);
- ``numba``: the same arithmetic in the same order compiled by numba into one loop over runs per kernel, so that
  the dozens of temporary arrays and numpy calls a rule costs per week become one pass over memory.

Each kernel below is a small named function that does exactly what the numpy code beside it does (same operations,
same order, no fast-math, so rounding is the same). ``tests/engine/test_kernels.py`` checks that both paths give
identical aggregates, per-run rows and events on several scenarios and seeds.

The path is chosen by the environment variable ``ESCALATION_ENGINE`` (``numba``, the default, or ``numpy``), read
when a model is built, or within a block by :func:`use_engine`. Compiled code is cached on disk (``cache=True``):
the first use on a machine compiles (a few seconds, reported by ``escalation bench``), later processes load it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import InputError

#: The environment variable that selects the engine path.
ENGINE_ENV = "ESCALATION_ENGINE"
#: The engine paths, the default first.
ENGINES = ("numba", "numpy")

_override: str | None = None


def engine() -> str:
    """The engine path in force: the :func:`use_engine` block's, else ``$ESCALATION_ENGINE``, else ``numba``.

    >>> with use_engine("numpy"):
    ...     engine()
    'numpy'
    """
    if _override is not None:
        return _override
    name = os.environ.get(ENGINE_ENV, "").strip().lower() or ENGINES[0]
    if name not in ENGINES:
        raise InputError(f"unknown engine in ${ENGINE_ENV}", expected=" or ".join(ENGINES), found=name)
    return name


@contextmanager
def use_engine(name: str) -> Iterator[None]:
    """Run the block with engine path ``name`` (models built inside it use that path)."""
    global _override
    if name not in ENGINES:
        raise InputError("unknown engine", expected=" or ".join(ENGINES), found=name)
    before, _override = _override, name
    try:
        yield
    finally:
        _override = before


# --------------------------------------------------------------------------------------------- the kernels
# Written as plain Python over arrays; compiled by numba on first use (``_compiled``). Every loop body repeats the
# numpy reference's arithmetic term by term, in its order.

#: Below this, numpy's exp gives exactly 0 (it underflows below -745.1332; tests/engine/test_kernels.py checks it).
DEAD_BELOW = -746.0

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53
_HALF_INV53 = 0.5 * _INV53


def _keyed(key: np.uint64, offset: np.uint64) -> float:
    """The keyed uniform on (0, 1) of one run key at one counter: the SplitMix64 finaliser of ``key + offset``, its
    top 53 bits, plus half a step. Integer arithmetic modulo 2**64, then exact float steps. Reference:
    ``streams.Streams.uniform``. (Compiled before the kernels that call it, see :func:`kernel`.)"""
    x = key + offset
    x = x ^ (x >> _S30)
    x = x * _M1
    x = x ^ (x >> _S27)
    x = x * _M2
    x = x ^ (x >> _S31)
    return np.int64(x >> _S11) * _INV53 + _HALF_INV53


def _uniforms(keys: np.ndarray, offset: np.uint64, out: np.ndarray) -> None:
    """Keyed uniforms of every run at one counter. Reference: ``streams.Streams.uniform``."""
    for i in range(keys.size):
        out[i] = _keyed(keys[i], offset)


def _uniforms_where(keys: np.ndarray, offset: np.uint64, where: np.ndarray, out: np.ndarray) -> int:
    """``_uniforms`` in the runs ``where`` selects, NaN in the others; returns how many were drawn. Reference: the
    masked branch of ``streams.Streams.uniform``."""
    drawn = 0
    for i in range(keys.size):
        if not where[i]:
            out[i] = np.nan
            continue
        drawn += 1
        out[i] = _keyed(keys[i], offset)
    return drawn


def _inverse_cdf(weights: np.ndarray, u: np.ndarray, out: np.ndarray) -> None:
    """Per run r, the first index whose running sum of ``weights[r]`` exceeds ``u[r]`` times the row's total; the
    last index takes whatever is left. ``weights`` is (runs, n). Reference: ``streams._inverse_cdf``."""
    runs, n = weights.shape
    cdf = np.empty(n)
    for r in range(runs):
        acc = weights[r, 0]
        cdf[0] = acc
        for j in range(1, n):
            acc = acc + weights[r, j]
            cdf[j] = acc
        target = u[r] * cdf[n - 1]
        idx = 0
        for j in range(n - 1):
            if target >= cdf[j]:
                idx += 1
        out[r] = idx


def _russia_weights(severity: np.ndarray, desired: np.ndarray, denom: np.ndarray, cost: np.ndarray, mod: np.ndarray,
                    risk_tolerance: np.ndarray, det: np.ndarray, nuclear: np.ndarray, norm_lev: np.ndarray,
                    available: np.ndarray, by_red_line: np.ndarray, rationality: np.ndarray, plain: np.ndarray,
                    out: np.ndarray, dead: np.ndarray, none: np.ndarray) -> None:
    """Russia's scaled utilities less their largest per run, (options, runs), ready for ``exp``:
    U = -(S_k - D)^2 / (2 w^2) - c_k m_k (1 - risk_tolerance) d_k - n_k, times the rationality lambda where the
    option is available and not decided by red lines (``by_red_line``), -inf elsewhere. ``denom`` is 2 w^2 and
    ``rationality`` lambda, per run; ``norm_lev`` is China's norm times its leverage per run, taken from the options
    flagged in ``nuclear``; ``none`` marks the runs with no allowed option. Reference: ``Russia._choose`` and the
    first half of ``Streams.logit_choice``. (``exp`` itself stays numpy's: numpy's vectorised exp and the C
    library's differ in the last bit for some arguments.)

    ``plain`` flags the options whose rows of ``mod`` and ``det`` are all exactly 1 and that China's norm leaves
    alone: their cost term is c_k (1 - risk_tolerance), the same number (a product with 1 is exact), without
    reading two rows of the runs' width. The largest utility per run is kept as the rows are made, as numpy's max
    would find it (a NaN wins). Each pass runs over contiguous rows, one option at a time, so that it compiles to
    vector instructions.

    An entry whose weight ``exp`` would round to exactly 0 (below ``DEAD_BELOW``, -inf included: half of them) is
    marked ``dead`` and set to 0 instead, for numpy's exp is slow on such arguments (-inf costs it 5 times an
    ordinary one, an underflow 17 times: benchmarks/choice_parts.py) and the draw reads a dead entry as the weight
    0 it would have had."""
    n, runs = out.shape
    top = np.full(runs, -np.inf)  # folding from -inf gives the first row's value, as numpy's max starts from it
    for k in range(n):
        row, avail, s, c = out[k], available[k], severity[k], cost[k]
        if by_red_line[k]:
            row[:] = -np.inf  # -inf never raises the largest
        elif plain[k]:
            for r in range(runs):
                diff = s - desired[r]
                util = -(diff * diff) / denom[r]
                util = util - c * (1.0 - risk_tolerance[r])
                util = util * rationality[r]
                v = util if avail[r] else -np.inf
                row[r] = v
                top[r] = v if v > top[r] or v != v else top[r]
        else:
            mk, dk, nk = mod[k], det[k], nuclear[k]
            for r in range(runs):
                diff = s - desired[r]
                util = -(diff * diff) / denom[r]
                util = util - c * mk[r] * (1.0 - risk_tolerance[r]) * dk[r]
                if nk:
                    util = util - norm_lev[r]
                util = util * rationality[r]
                v = util if avail[r] else -np.inf
                row[r] = v
                top[r] = v if v > top[r] or v != v else top[r]
    for r in range(runs):
        none[r] = top[r] == -np.inf
        top[r] = 0.0 if none[r] else top[r]
    for k in range(n):
        row, gone = out[k], dead[k]
        for r in range(runs):
            v = row[r] - top[r]
            gone[r] = v < DEAD_BELOW
            row[r] = 0.0 if gone[r] else v


def _draw_columns(weights: np.ndarray, dead: np.ndarray, u: np.ndarray, none: np.ndarray, out: np.ndarray) -> None:
    """Per run r, the first option whose running sum of ``weights[:, r]`` exceeds ``u[r]`` times the column's
    total (the last option takes what is left), -1 where ``none``; ``weights`` is (options, runs), read as 0 where
    ``dead`` (``_russia_weights``). Reference: the second half of ``Streams.logit_choice``."""
    n, runs = weights.shape
    # option by option over contiguous rows: first the totals, then the running sums again (weights are never
    # negative, so a sum started at 0 has the reference's values: 0 + w is w)
    acc = np.zeros(runs)
    for k in range(n):
        row, gone = weights[k], dead[k]
        for r in range(runs):
            acc[r] = acc[r] + (0.0 if gone[r] else row[r])
    target = u * acc
    acc[:] = 0.0
    out[:] = 0
    for k in range(n - 1):
        row, gone = weights[k], dead[k]
        for r in range(runs):
            acc[r] = acc[r] + (0.0 if gone[r] else row[r])
            out[r] += target[r] >= acc[r]
    for r in range(runs):
        if none[r]:
            out[r] = -1


def _enforce_red_line(crossed: np.ndarray, ever: np.ndarray, keys: np.ndarray, offset: np.uint64,
                      repeatable: bool, first_draw: np.ndarray, credibility: np.ndarray, exposed: np.ndarray,
                      deterrence: np.ndarray, persistent: bool, share: np.ndarray, available: np.ndarray,
                      rungs: np.ndarray, k: int, choice: np.ndarray, new_out: np.ndarray,
                      enforced_out: np.ndarray) -> None:
    """One red line's week, run by run: where its condition holds (``crossed``), a new crossing is enforced when its
    draw (the keyed draw of the week for a repeatable line, the run's first draw for a state line) falls below
    credibility x restraint, the restraint being min(1, exposed / deterrence); a persistent line still crossed is
    pressed when the week's draw falls below that chance times ``share``. Where it is enforced and its answer ``k``
    is available, ``k`` replaces the choice if it stands higher on the ladder. ``ever`` records every crossing;
    ``new_out`` and ``enforced_out`` give the new crossings and the enforcements (for the event log). Reference:
    ``RedLineRule.enforced`` and the numpy branch of ``RedLineRule.impose``."""
    for r in range(crossed.size):
        new_out[r] = False
        enforced_out[r] = False
        if not crossed[r]:
            continue
        new = repeatable or not ever[r]
        ever[r] = True
        u = _keyed(keys[r], offset)
        restraint = exposed[r] / deterrence[r]
        restraint = 1.0 if restraint >= 1.0 else restraint  # as np.minimum(1.0, ...): a NaN passes through
        chance = credibility[r] * restraint
        draw = u if repeatable else first_draw[r]
        enforced = draw < chance if new else persistent and u < chance * share[r]  # a new crossing, or pressed
        new_out[r] = new
        enforced_out[r] = enforced
        if enforced and available[r]:
            current = rungs[choice[r]] if choice[r] >= 0 else -1
            if rungs[k] > current:
                choice[r] = k


def _mediate(keys: np.ndarray, attempt_at: np.uint64, deal_at: np.uint64, ceasefire_at: np.uint64,
             fighting: np.ndarray, propensity: np.ndarray, danger_gain: np.ndarray, proposal_on: bool,
             boost: np.ndarray, dialogue_lift: np.ndarray, leverage: np.ndarray, ceasefire_rate: np.ndarray,
             fatigue: np.ndarray, cost_gain: np.ndarray, danger: np.ndarray, fresh: np.ndarray,
             deal_rate: np.ndarray, deal: np.ndarray, ceasefire: np.ndarray) -> None:
    """One mediator's week, run by run (docs/model.md 4.12): while fighting goes on it attempts mediation with
    chance propensity x (1 + gain x danger) x proposal, the proposal being 1 + boost when one is on the table
    (``proposal_on``); an attempt yields a partial deal with chance deal_rate x lift and a ceasefire with the hazard
    ceasefire_rate x lift x fatigue x (1 + cost_gain x danger) x proposal x fresh, lift being the dialogue lift
    times the mediator's leverage. Each draw is the keyed uniform of its site (``*_at``), taken only where it is
    read. Reference: the numpy branch of ``Mediation.decide``, whose products are formed in the same order."""
    for r in range(keys.size):
        deal[r] = False
        ceasefire[r] = False
        if not fighting[r]:
            continue
        proposal = 1.0 + boost[r] * (1.0 if proposal_on else 0.0)
        if not _keyed(keys[r], attempt_at) < propensity[r] * danger_gain[r] * proposal:
            continue
        lift = dialogue_lift[r] * leverage[r]
        hazard = ceasefire_rate[r] * lift * fatigue[r] * (1.0 + cost_gain[r] * danger[r]) * proposal * fresh[r]
        deal[r] = _keyed(keys[r], deal_at) < deal_rate[r] * lift
        ceasefire[r] = _keyed(keys[r], ceasefire_at) < hazard


def _discharge(nato: np.ndarray, nato_severity: np.ndarray, nato_baseline: int, ukraine: np.ndarray,
               ukraine_severity: np.ndarray, ukraine_baseline: int, desired: np.ndarray, share: np.ndarray,
               tension: np.ndarray) -> None:
    """The tension the week's answers meet, discharged run by run: the severity both axes' answers carry above
    their baseline options, as a share (at most 1) of the desired severity, times ``share``. Reference: the
    discharge in ``Russia.decide``."""
    for r in range(tension.size):
        answered = 0.0
        c = nato[r]
        answered = answered + (nato_severity[c] - nato_severity[nato_baseline] if c >= 0 and c != nato_baseline
                               else 0.0)
        c = ukraine[r]
        answered = answered + (ukraine_severity[c] - ukraine_severity[ukraine_baseline]
                               if c >= 0 and c != ukraine_baseline else 0.0)
        d = 1e-9 if desired[r] < 1e-9 else desired[r]  # as np.maximum and np.minimum, NaN would pass through
        met = answered / d
        met = 1.0 if met > 1.0 else met
        tension[r] = tension[r] * (1.0 - share[r] * met)


def _schedule(choice: np.ndarray, baseline: int, lag_lo: np.ndarray, lag_hi: np.ndarray, rungs: np.ndarray,
              keys: np.ndarray, offset: np.uint64, week: int, pending: np.ndarray) -> None:
    """Each run's answer (not the baseline, -1 for none) scheduled after a lag drawn uniformly on its option's
    [lo, hi] by the run's keyed uniform; ``pending`` is (week slots, runs), a ring over the longest lag, and of two
    answers due in one slot the higher rung stands. Reference: the numpy branch of ``Russia._schedule`` with
    ``Streams.integers_at``."""
    slots = pending.shape[0]
    for r in range(choice.size):
        c = choice[r]
        if c < 0 or c == baseline:
            continue
        span = lag_hi[c] - lag_lo[c] + 1
        lag = lag_lo[c] + min(np.int64(_keyed(keys[r], offset) * span), span - 1)
        slot = (week + lag) % slots
        current = pending[slot, r]
        if rungs[c] > (rungs[current] if current >= 0 else -1):
            pending[slot, r] = c


def _act(mask: np.ndarray, rows: np.ndarray, rung: int, lift_headline: bool, headline: np.ndarray,
         lift_ukraine: bool, ukraine: np.ndarray, first: np.ndarray, matching: np.ndarray, week: int) -> None:
    """An act's effects in the runs ``mask`` selects (``rows``: their positions): each axis it lifts (``headline``,
    ``ukraine``: int8 per run) raised to its ``rung`` where it stands lower, and each outcome it realises
    (``matching``: rows of ``first``, (outcomes, runs), -1 where not yet) given the ``week`` where it had none.
    An act in few runs is written at its rows; one in many, over every run under the mask, without branches (a
    branch on a mask that holds in a third of the runs is mispredicted often). Reference: the numpy branch of
    ``World.act`` with ``OutcomeTracker.mark_act``."""
    r8, w16 = np.int8(rung), np.int16(week)
    if 4 * rows.size < mask.size:
        if lift_headline:
            for r in rows:
                h = headline[r]
                headline[r] = r8 if h < r8 else h
        if lift_ukraine:
            for r in rows:
                h = ukraine[r]
                ukraine[r] = r8 if h < r8 else h
        for i in matching:
            col = first[i]
            for r in rows:
                c = col[r]
                col[r] = w16 if c < 0 else c
        return
    if lift_headline:
        for r in range(mask.size):
            h = headline[r]
            headline[r] = r8 if mask[r] and h < r8 else h
    if lift_ukraine:
        for r in range(mask.size):
            h = ukraine[r]
            ukraine[r] = r8 if mask[r] and h < r8 else h
    for i in matching:
        col = first[i]
        for r in range(mask.size):
            c = col[r]
            col[r] = w16 if mask[r] and c < 0 else c


def _histograms(first: np.ndarray, headline: np.ndarray, ukraine: np.ndarray, outcome_counts: np.ndarray,
                first_week_hist: np.ndarray, headline_hist: np.ndarray, ukraine_hist: np.ndarray,
                max_rung_hist: np.ndarray, max_ukraine_hist: np.ndarray, transitions: np.ndarray) -> None:
    """A chunk's sums, counted into the zeroed arrays in one pass over its paths: runs per outcome and per first
    week (``first`` is (outcomes, runs), -1 where an outcome did not happen), runs per week and rung on both axes
    (``headline`` and ``ukraine`` are (weeks, runs)), runs per highest rung on each axis, and the headline's
    week-to-week transitions. Integer counts, so equal to the reference's whatever the order. Reference:
    ``Aggregates.from_tracker``."""
    weeks, runs = headline.shape
    for i in range(first.shape[0]):
        for r in range(runs):
            f = first[i, r]
            if f >= 0:
                outcome_counts[i] += 1
                if f < weeks:
                    first_week_hist[i, f] += 1
    top = headline[0].copy()  # each run's highest rung so far, on each axis (week by week: rows are contiguous)
    top_ukraine = ukraine[0].copy()
    for w in range(weeks):
        for r in range(runs):
            h = headline[w, r]
            u = ukraine[w, r]
            headline_hist[w, h] += 1
            ukraine_hist[w, u] += 1
            if w > 0:
                transitions[headline[w - 1, r], h] += 1
                top[r] = h if h > top[r] else top[r]
                top_ukraine[r] = u if u > top_ukraine[r] else top_ukraine[r]
    for r in range(runs):
        max_rung_hist[top[r]] += 1
        max_ukraine_hist[top_ukraine[r]] += 1


def per_run(value: float | np.ndarray, size: int) -> np.ndarray:
    """A parameter as a contiguous float array over ``size`` runs (a point value repeated, or its per-run draws):
    kernels take one signature whether a parameter is fixed or calibrated per run."""
    out = np.empty(size)
    out[...] = value
    return out


#: The helpers the kernels call, compiled first (a kernel reads them as module globals when it is compiled).
_HELPERS = ("_keyed",)
_KERNELS: dict[str, Callable[..., Any]] = {
    "uniforms": _uniforms,
    "uniforms_where": _uniforms_where,
    "inverse_cdf": _inverse_cdf,
    "russia_weights": _russia_weights,
    "draw_columns": _draw_columns,
    "enforce_red_line": _enforce_red_line,
    "discharge": _discharge,
    "mediate": _mediate,
    "schedule": _schedule,
    "histograms": _histograms,
    "act": _act,
}
_compiled: dict[str, Callable[..., Any]] = {}
_compiling = threading.Lock()
#: numba's options: compiled once per machine and cached; floating-point errors as numpy has them (a division by
#: zero gives inf or NaN, without a check that would keep the loops from being vectorised); no fast-math
_OPTIONS: dict[str, Any] = {"cache": True, "nogil": True, "error_model": "numpy"}


def kernel(name: str) -> Callable[..., Any]:
    """The compiled kernel ``name`` (compiled, or loaded from numba's cache, on first use in this process)."""
    fn = _compiled.get(name)
    if fn is None:
        with _compiling:  # threads of one worker may ask for their first kernel at once
            fn = _compiled.get(name)
            if fn is None:
                import numba  # only the compiled path pays numba's import

                module = globals()
                for helper in _HELPERS:
                    if not isinstance(module[helper], numba.core.registry.CPUDispatcher):
                        module[helper] = numba.njit(**_OPTIONS)(module[helper])
                fn = _compiled[name] = numba.njit(**_OPTIONS)(_KERNELS[name])
    return fn


def compiled_on_disk() -> bool | None:
    """Whether numba's cache next to this file holds every kernel (True), lacks some, so that the first chunk of a
    batch would compile them (False), or cannot be told (None: the cache lives elsewhere, ``$NUMBA_CACHE_DIR`` or a
    read-only install). Looks only at file names, without importing numba (a stale entry, after the source
    changed, is recompiled by numba when it is loaded)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    here = Path(__file__)
    cache = here.parent / "__pycache__"
    version = f"py{sys.version_info.major}{sys.version_info.minor}"
    functions: list[Any] = [getattr(f, "py_func", f) for f in [globals()[h] for h in _HELPERS]]
    functions += list(_KERNELS.values())
    names = [f"{here.stem}.{fn.__qualname__}-{fn.__code__.co_firstlineno}.{version}.nbi" for fn in functions]
    if all((cache / name).is_file() for name in names):
        return True
    return False if os.access(cache if cache.is_dir() else here.parent, os.W_OK) else None


def warm_up() -> float:
    """Compile (or load from the cache) every kernel now, on small arguments; returns the seconds it took."""
    t0 = time.perf_counter()
    i64 = np.zeros(2, dtype=np.int64)
    kernel("uniforms")(np.arange(2, dtype=np.uint64), np.uint64(1), np.empty(2))
    kernel("uniforms_where")(np.arange(2, dtype=np.uint64), np.uint64(1), np.ones(2, dtype=np.bool_), np.empty(2))
    kernel("inverse_cdf")(np.ones((2, 3)), np.full(2, 0.5), i64)
    ones, yes = np.ones((3, 2)), np.zeros(2, dtype=np.bool_)
    dead = np.zeros((3, 2), dtype=np.bool_)
    kernel("russia_weights")(np.ones(3), np.ones(2), np.ones(2), np.ones(3), ones, np.zeros(2), ones,
                             np.zeros(3, dtype=np.bool_), np.zeros(2), np.ones((3, 2), dtype=np.bool_),
                             np.zeros(3, dtype=np.bool_), np.ones(2), np.array([True, False, False]),
                             np.empty((3, 2)), dead, yes)
    kernel("draw_columns")(ones, dead, np.full(2, 0.5), yes, i64)
    no, rungs, exposed = np.zeros(2, dtype=np.bool_), np.arange(3, dtype=np.int64), np.ones(2)
    exposed.flags.writeable = False  # as the world's exposure is
    kernel("enforce_red_line")(yes.copy(), no.copy(), np.arange(2, dtype=np.uint64), np.uint64(1), True, np.ones(2),
                               np.ones(2), exposed, np.ones(2), False, np.ones(2), yes, rungs, 1, i64.copy(),
                               no.copy(), no.copy())
    kernel("discharge")(i64, np.ones(3), 0, i64, np.ones(3), 0, np.ones(2), np.ones(2), np.ones(2))
    f = np.ones(2)
    kernel("mediate")(np.arange(2, dtype=np.uint64), np.uint64(1), np.uint64(2), np.uint64(3), yes, f, f, False, f, f,
                      f, f, f, f, f, f, f, no.copy(), no.copy())
    kernel("schedule")(i64, 0, rungs, rungs, rungs, np.arange(2, dtype=np.uint64), np.uint64(1), 0,
                       np.full((3, 2), -1, dtype=np.int16))
    paths, counts = np.zeros((2, 2), dtype=np.int8), np.zeros((2, 2), dtype=np.int64)
    kernel("histograms")(np.full((2, 2), -1, dtype=np.int16), paths, paths, np.zeros(2, dtype=np.int64), counts,
                         counts.copy(), counts.copy(), np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64),
                         counts.copy())
    axis, matching = np.zeros(2, dtype=np.int8), np.zeros(1, dtype=np.int64)
    matching.flags.writeable = False  # as the outcome tracker's are
    kernel("act")(np.ones(2, dtype=np.bool_), np.arange(2, dtype=np.int64), 1, True, axis, False, axis.copy(),
                  np.full((2, 2), -1, dtype=np.int16), matching, 0)
    return time.perf_counter() - t0
