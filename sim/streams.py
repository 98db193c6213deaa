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
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1
_S30, _S27, _S31, _S11 = (np.uint64(n) for n in (30, 27, 31, 11))
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


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
        self._x = np.empty(self.size, dtype=np.uint64)
        self._tmp = np.empty(self.size, dtype=np.uint64)

    @staticmethod
    def _offset(site: str, week: int, k: int) -> np.uint64:
        c = _mix_scalar(site_code(site) ^ _mix_scalar((week + 1) * _GOLDEN) ^ _mix_scalar((k + 7) * 0xD1B54A32D192ED03))
        return np.uint64(c)

    def uniform(self, site: str, week: int = 0, k: int = 0) -> np.ndarray:
        """Uniform draws on the open interval (0, 1), one per run."""
        x = self._x
        np.add(self.keys, self._offset(site, week, k), out=x)
        _mix_inplace(x, self._tmp)
        np.right_shift(x, _S11, out=x)
        out = x.astype(np.float64)
        out += 0.5
        out *= _INV53
        return out

    def uniforms(self, site: str, week: int, n: int) -> np.ndarray:
        """``n`` independent uniforms per run, shape (runs, n)."""
        out = np.empty((self.size, n), dtype=np.float64)
        for k in range(n):
            out[:, k] = self.uniform(site, week, k)
        return out

    def normal(self, site: str, week: int = 0, k: int = 0) -> np.ndarray:
        """Standard normal draws, one per run (Box-Muller on two keyed uniforms)."""
        u1 = self.uniform(site, week, 2 * k)
        u2 = self.uniform(site, week, 2 * k + 1)
        return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)

    def bernoulli(self, p: np.ndarray | float, site: str, week: int = 0, k: int = 0) -> np.ndarray:
        """True with probability ``p`` (per run or scalar)."""
        return self.uniform(site, week, k) < p

    def integers(self, low: np.ndarray | int, high: np.ndarray | int, site: str, week: int = 0, k: int = 0) -> np.ndarray:
        """Integers uniform on [low, high] inclusive."""
        low = np.asarray(low)
        span = np.asarray(high) - low + 1
        return low + np.minimum((self.uniform(site, week, k) * span).astype(np.int64), span - 1)

    def categorical(self, probs: np.ndarray, site: str, week: int = 0, k: int = 0) -> np.ndarray:
        """Index drawn from each row of ``probs`` (shape (runs, n), rows summing to 1) by inverse CDF."""
        cdf = np.cumsum(probs, axis=1)
        u = self.uniform(site, week, k) * cdf[:, -1]
        idx = (u[:, None] >= cdf).sum(axis=1)
        return np.minimum(idx, probs.shape[1] - 1)
