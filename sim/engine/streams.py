"""Counter-based random numbers: every draw is a pure function of (batch seed, run index, week, draw site).

Why not one ``Generator`` per chunk: with counter-based draws a run's numbers do not depend on which chunk it sits
in, how large chunks are, how many workers there are, or how many other runs are stepped beside it. So run ``k`` of
a batch replays exactly on its own (R = 1) through the same array code, chunk size and executor cannot change a
result, resume computes only missing chunks, and all variants of a scenario share their random numbers (common
random numbers) because draws are keyed by run index and site, never by variant.

The root key comes from ``numpy.random.SeedSequence(seed)``; each draw hashes ``key(run) + c(site, week, k)``
with the SplitMix64 finaliser (Steele, Lea and Flood 2014), all in vectorised uint64 arithmetic.

>>> s = Streams(seed=7, run_ids=np.arange(5))
>>> u = s.uniform("demo", week=3)
>>> bool(((u > 0) & (u < 1)).all())
True
>>> bool(np.array_equal(Streams(7, np.arange(2, 4)).uniform("demo", 3), u[2:4]))
True

A draw needed only in some runs is computed only there, with the same values (``where``); the other runs get NaN,
so a comparison with it is False:

>>> mask = np.array([False, True, False, False, True])
>>> v = s.uniform("demo", week=3, where=mask)
>>> bool(np.array_equal(v[mask], u[mask])), bool(np.isnan(v[~mask]).all())
(True, True)
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np

from sim.engine import kernels

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1
_S30, _S27, _S31, _S11 = (np.uint64(n) for n in (30, 27, 31, 11))
_INV53 = 1.0 / 9007199254740992.0  # 2**-53
_HALF_INV53 = 0.5 * _INV53


def _mix_scalar(x: int) -> int:
    x &= _MASK
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & _MASK
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & _MASK
    x ^= x >> 31
    return x


def _mix_inplace(x: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    np.right_shift(x, _S30, out=tmp)
    np.bitwise_xor(x, tmp, out=x)
    np.multiply(x, _M1, out=x)
    np.right_shift(x, _S27, out=tmp)
    np.bitwise_xor(x, tmp, out=x)
    np.multiply(x, _M2, out=x)
    np.right_shift(x, _S31, out=tmp)
    np.bitwise_xor(x, tmp, out=x)
    return x


@lru_cache(maxsize=4096)
def site_code(site: str) -> int:
    """A stable 64-bit code for a named draw site."""
    return int.from_bytes(hashlib.blake2b(site.encode(), digest_size=8).digest(), "little")


@lru_cache(maxsize=1 << 16)
def _offset(site: str, week: int, k: int) -> np.uint64:
    """The counter added to every run key for draw ``k`` of ``site`` in ``week`` (cached: sites repeat weekly)."""
    c = _mix_scalar(site_code(site) ^ _mix_scalar((week + 1) * _GOLDEN) ^ _mix_scalar((k + 7) * 0xD1B54A32D192ED03))
    return np.uint64(c)


def _nan_array(size: int) -> np.ndarray:
    """A read-only array of NaN: the answer of a masked draw that selects no run."""
    out = np.full(size, np.nan)
    out.flags.writeable = False
    return out


def _uniform_of(keys: np.ndarray, offset: np.uint64, compiled: bool = False) -> np.ndarray:
    """The uniforms of the given run keys at one counter (the same arithmetic as ``Streams.uniform``), by the
    compiled kernel or by numpy."""
    if compiled:
        out = np.empty(len(keys))
        kernels.kernel("uniforms")(keys, offset, out)
        return out
    x = keys + offset
    _mix_inplace(x, np.empty_like(x))
    np.right_shift(x, _S11, out=x)
    out = np.multiply(x.view(np.int64), _INV53)
    out += _HALF_INV53
    return out


def run_keys(seed: int, run_ids: np.ndarray) -> np.ndarray:
    """The per-run 64-bit keys of a batch seeded with ``seed``."""
    root = np.random.SeedSequence(seed).generate_state(2, dtype=np.uint64)
    ids = np.asarray(run_ids, dtype=np.uint64)
    x = ids * np.uint64(_GOLDEN) + root[0]
    tmp = np.empty_like(x)
    _mix_inplace(x, tmp)
    np.bitwise_xor(x, root[1], out=x)
    return _mix_inplace(x, tmp)


class Streams:
    """Draws for a set of runs: uniforms, normals and choices, each keyed by site, week and an index.

    Args:
        seed: the batch's root seed.
        run_ids: the global indices of the runs stepped together (any subset, any order).
    """

    def __init__(self, seed: int, run_ids: np.ndarray) -> None:
        self.seed = int(seed)
        self.run_ids = np.asarray(run_ids, dtype=np.int64)
        self.keys = run_keys(self.seed, self.run_ids)
        self.size = len(self.keys)
        #: whether draws run through the compiled kernel (sim/engine/kernels.py)
        self.compiled = kernels.engine() == "numba"
        self._x = np.empty(self.size, dtype=np.uint64)
        self._tmp = np.empty(self.size, dtype=np.uint64)
        self._nan = _nan_array(self.size)

    @staticmethod
    def _offset(site: str, week: int, k: int) -> np.uint64:
        return _offset(site, int(week), int(k))

    @staticmethod
    def offset(site: str, week: int = 0, k: int = 0) -> np.uint64:
        """The counter that ``uniform(site, week, k)`` adds to every run key (for a kernel that draws itself)."""
        return _offset(site, int(week), int(k))

    def take(self, rows: np.ndarray) -> Streams:
        """The streams of a subset of these runs (positions ``rows``): the same draws, computed for fewer runs.

        >>> s = Streams(seed=7, run_ids=np.arange(10, 15))
        >>> bool(np.array_equal(s.take(np.array([1, 3])).uniform("demo", 2), s.uniform("demo", 2)[[1, 3]]))
        True
        """
        sub = object.__new__(Streams)
        sub.seed = self.seed
        sub.run_ids = self.run_ids[rows]
        sub.keys = self.keys[rows]
        sub.size = len(sub.keys)
        sub.compiled = self.compiled
        sub._x = np.empty(sub.size, dtype=np.uint64)
        sub._tmp = np.empty(sub.size, dtype=np.uint64)
        sub._nan = _nan_array(sub.size)
        return sub

    def uniform(self, site: str, week: int = 0, k: int = 0, where: np.ndarray | None = None) -> np.ndarray:
        """Uniform draws on the open interval (0, 1), one per run.

        With a boolean mask ``where``, only the runs it selects are drawn (with the values they would have anyway)
        and the others hold NaN: the cost follows the number of runs that need the draw, not the chunk size.
        """
        if where is not None and self.compiled:
            out = np.empty(self.size)
            if not kernels.kernel("uniforms_where")(self.keys, self._offset(site, week, k), where, out):
                return self._nan
            return out
        if where is not None:
            if not np.count_nonzero(where):
                return self._nan
            out = np.full(self.size, np.nan)
            rows = np.flatnonzero(where)
            out[rows] = _uniform_of(self.keys[rows], self._offset(site, week, k), self.compiled)
            return out
        if self.compiled:
            return _uniform_of(self.keys, self._offset(site, week, k), True)
        x = self._x
        np.add(self.keys, self._offset(site, week, k), out=x)
        _mix_inplace(x, self._tmp)
        np.right_shift(x, _S11, out=x)
        # (x + 0.5) * 2**-53 == x * 2**-53 + 2**-54 exactly; int64 converts to float faster than uint64
        out = np.multiply(x.view(np.int64), _INV53)
        out += _HALF_INV53
        return out

    def uniform_at(self, rows: np.ndarray, site: str, week: int = 0, k: int = 0) -> np.ndarray:
        """The uniforms of the runs at positions ``rows`` only (the values ``uniform`` gives them), one per row.

        >>> s = Streams(seed=7, run_ids=np.arange(5))
        >>> bool(np.array_equal(s.uniform_at(np.array([4, 1]), "demo", 3), s.uniform("demo", 3)[[4, 1]]))
        True
        """
        return _uniform_of(self.keys[rows], self._offset(site, week, k), self.compiled)

    def normal(self, site: str, week: int = 0, k: int = 0) -> np.ndarray:
        """Standard normal draws, one per run (Box-Muller on two keyed uniforms)."""
        radius = np.log(self.uniform(site, week, 2 * k))
        radius *= -2.0
        np.sqrt(radius, out=radius)
        angle = self.uniform(site, week, 2 * k + 1)
        angle *= 2.0 * np.pi
        np.cos(angle, out=angle)
        radius *= angle
        return radius

    def integers(self, low: np.ndarray | int, high: np.ndarray | int, site: str, week: int = 0,
                 k: int = 0) -> np.ndarray:
        """Integers uniform on [low, high] inclusive."""
        low = np.asarray(low)
        span = np.asarray(high) - low + 1
        return low + np.minimum((self.uniform(site, week, k) * span).astype(np.int64), span - 1)

    def integers_at(self, rows: np.ndarray, low: np.ndarray | int, high: np.ndarray | int, site: str,
                    week: int = 0, k: int = 0) -> np.ndarray:
        """``integers`` for the runs at positions ``rows`` only (``low`` and ``high`` given per row).

        >>> s = Streams(seed=7, run_ids=np.arange(6))
        >>> rows = np.array([5, 2])
        >>> bool(np.array_equal(s.integers_at(rows, 1, 3, "lag"), s.take(rows).integers(1, 3, "lag")))
        True
        """
        low = np.asarray(low)
        span = np.asarray(high) - low + 1
        return low + np.minimum((self.uniform_at(rows, site, week, k) * span).astype(np.int64), span - 1)

    def categorical(self, probs: np.ndarray, site: str, week: int = 0, k: int = 0) -> np.ndarray:
        """Index drawn from each row of ``probs`` (shape (runs, n), non-negative rows) by inverse CDF.

        Rows need not sum to 1: an index is drawn in proportion to its entry.

        >>> s = Streams(seed=1, run_ids=np.arange(4000))
        >>> draws = s.categorical(np.tile([1.0, 0.0, 3.0], (4000, 1)), "demo")
        >>> sorted(set(draws.tolist())), round(float((draws == 2).mean()), 1)
        ([0, 2], 0.8)
        """
        return inverse_cdf(probs, self.uniform(site, week, k))

    def logit_choice(self, util: np.ndarray, site: str, week: int = 0, k: int = 0) -> np.ndarray:
        """Per run, an option drawn with probability proportional to ``exp(util)``; ``util`` is (options, runs).

        An option whose utility is -inf is never drawn; a run with no finite utility gets -1. Options come first so
        that each option's utilities are one contiguous row.

        >>> s = Streams(seed=1, run_ids=np.arange(3))
        >>> s.logit_choice(np.array([[0.0, -np.inf, -np.inf], [-np.inf, -np.inf, 5.0]]), "demo").tolist()
        [0, -1, 1]
        """
        top = util.max(axis=0)
        none = top == -np.inf
        top[none] = 0.0
        weights = util - top
        np.exp(weights, out=weights)
        choice = inverse_cdf(weights.T, self.uniform(site, week, k))
        choice[none] = -1
        return choice


def inverse_cdf(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Per row of ``weights`` (runs, n), the first index whose running sum exceeds ``u`` times the row's total."""
    runs, n = weights.shape
    cdf = np.empty((n, runs))  # one contiguous row per running sum
    cdf[0] = weights[:, 0]
    for j in range(1, n):
        np.add(cdf[j - 1], weights[:, j], out=cdf[j])
    target = u * cdf[n - 1]
    idx = np.zeros(runs, dtype=np.int64)
    for j in range(n - 1):  # the last index takes whatever is left (and rounding at the very top)
        idx += target >= cdf[j]
    return idx
