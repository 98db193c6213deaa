"""Keyed random streams: a draw depends only on seed, run index, week and site; masked draws, subsets of runs and
the logit choice compute what their plain definitions compute; and nothing in sim/ draws from global random state.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import ROOT

from sim.engine.streams import Streams


def test_uniforms_are_in_the_open_unit_interval_and_look_uniform():
    u = Streams(11, np.arange(200_000)).uniform("site", 5)
    assert u.min() > 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.003
    hist = np.histogram(u, bins=20, range=(0, 1))[0]
    assert hist.min() > 0.95 * 10_000 and hist.max() < 1.05 * 10_000


def test_normals_have_unit_variance():
    z = Streams(11, np.arange(200_000)).normal("n", 2)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**63 - 1), ids=st.lists(st.integers(0, 10**9), min_size=1, max_size=30, unique=True),
       week=st.integers(-1, 600), k=st.integers(0, 50))
def test_a_draw_depends_only_on_its_run(seed, ids, week, k):
    together = Streams(seed, np.array(ids)).uniform("x", week, k)
    alone = np.array([Streams(seed, np.array([i])).uniform("x", week, k)[0] for i in ids])
    assert np.array_equal(together, alone)


def test_sites_weeks_seeds_and_indices_give_different_draws():
    s = Streams(1, np.arange(1000))
    base = s.uniform("a", 1)
    others = (s.uniform("b", 1), s.uniform("a", 2), s.uniform("a", 1, k=1), Streams(2, np.arange(1000)).uniform("a", 1))
    for other in others:
        assert not np.allclose(base, other)
        assert abs(np.corrcoef(base, other)[0, 1]) < 0.1


@pytest.mark.parametrize("weights", [[0.2, 0.0, 0.5, 0.3], [2.0, 0.0, 6.0, 2.0]], ids=["probabilities", "weights"])
def test_categorical_draws_in_proportion_to_its_weights(weights):
    """Rows need not sum to one: an index is drawn in proportion to its entry, never where the entry is 0."""
    n = 100_000
    draws = Streams(5, np.arange(n)).categorical(np.tile(weights, (n, 1)), "c", 0)
    freq = np.bincount(draws, minlength=4) / n
    assert freq[1] == 0
    assert np.allclose(freq, np.asarray(weights) / sum(weights), atol=0.005)


def test_integers_cover_their_inclusive_range():
    s = Streams(5, np.arange(50_000))
    v = s.integers(np.full(50_000, 2), np.full(50_000, 5), "i", 0)
    assert set(np.unique(v)) == {2, 3, 4, 5}


def test_masked_draws_equal_full_draws_where_selected():
    s = Streams(seed=99, run_ids=np.arange(1000, 3000))
    full = s.uniform("site", week=5, k=2)
    mask = s.uniform("mask", week=0) < 0.1
    part = s.uniform("site", week=5, k=2, where=mask)
    assert np.array_equal(part[mask], full[mask])
    assert np.isnan(part[~mask]).all()
    none = s.uniform("site", week=5, k=2, where=np.zeros(2000, dtype=bool))
    assert np.isnan(none).all() and not none.flags.writeable


def test_a_subset_of_runs_draws_what_the_whole_draws():
    s = Streams(seed=4, run_ids=np.arange(500))
    rows = np.array([3, 17, 250, 499])
    sub = s.take(rows)
    assert np.array_equal(sub.uniform("x", 7), s.uniform("x", 7)[rows])
    assert np.array_equal(sub.normal("y", 2), s.normal("y", 2)[rows])
    assert np.array_equal(sub.integers(1, 3, "z", 1), s.integers(1, 3, "z", 1)[rows])
    assert np.array_equal(Streams(4, rows).uniform("x", 7), sub.uniform("x", 7))


def _logit_reference(util_rk: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The textbook computation, run by run: softmax over the finite utilities, then inverse CDF."""
    out = np.full(len(u), -1)
    for r in range(len(u)):
        row = util_rk[r]
        if not np.isfinite(row).any():
            continue
        w = np.exp(row - row[np.isfinite(row)].max())
        cdf = np.cumsum(w / w.sum())
        out[r] = min(int((u[r] * cdf[-1] >= cdf).sum()), len(row) - 1)
    return out


def test_logit_choice_matches_the_run_by_run_definition():
    s = Streams(seed=8, run_ids=np.arange(3000))
    util = np.stack([s.normal("util", 0, k) * 3.0 for k in range(6)])
    util[1, s.uniform("off1") < 0.5] = -np.inf
    util[:, s.uniform("alloff") < 0.05] = -np.inf
    fast = s.logit_choice(util, "choice", week=3)
    reference = _logit_reference(util.T, s.uniform("choice", 3))
    assert np.array_equal(fast, reference)
    assert (fast[~np.isfinite(util).any(axis=0)] == -1).all()
    assert not ((fast == 1) & (util[1] == -np.inf)).any()


def test_logit_choice_frequencies_follow_the_softmax():
    n = 200_000
    s = Streams(seed=2, run_ids=np.arange(n))
    util = np.array([0.0, 1.0, -np.inf, 2.0])[:, None] * np.ones(n)
    freq = np.bincount(s.logit_choice(util, "f"), minlength=4) / n
    expected = np.exp([0.0, 1.0, -np.inf, 2.0])
    expected /= expected.sum()
    assert np.allclose(freq, expected, atol=0.004)
    assert freq[2] == 0.0


# ------------------------------------------------------------------------------------------------ no other randomness
GLOBAL_RANDOM = re.compile(
    r"np\.random\.(seed|rand|randn|randint|random|choice|shuffle|permutation|normal|uniform|binomial|poisson)\s*\("
    r"|numpy\.random\.(seed|rand)\s*\("
    r"|default_rng\(\s*\)"
    r"|\brandom\.(seed|random|randint|choice|shuffle|uniform|gauss|sample|randrange)\s*\("
    r"|^\s*import random\b|^\s*from random import"
    r"|RandomState\(",
    re.MULTILINE,
)


def test_no_global_random_state() -> None:
    offenders = []
    for path in sorted((ROOT / "sim").glob("**/*.py")):
        for m in GLOBAL_RANDOM.finditer(path.read_text(encoding="utf-8")):
            line = path.read_text(encoding="utf-8")[: m.start()].count("\n") + 1
            offenders.append(f"{path.relative_to(ROOT)}:{line}: {m.group(0).strip()}")
    assert offenders == []


def test_the_audit_catches_global_random_state() -> None:
    for bad in ("np.random.seed(1)", "x = np.random.rand(3)", "import random", "rng = np.random.default_rng()",
                "random.random()", "np.random.RandomState(3)"):
        assert GLOBAL_RANDOM.search(bad), bad
    for good in ("np.random.SeedSequence(seed)", "rng = np.random.default_rng(seed)", "s.uniform('x', 3)"):
        assert not GLOBAL_RANDOM.search(good), good
