"""Keyed random streams: a draw depends only on seed, run index, week and site."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

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
    for other in (s.uniform("b", 1), s.uniform("a", 2), s.uniform("a", 1, k=1), Streams(2, np.arange(1000)).uniform("a", 1)):
        assert not np.allclose(base, other)
        assert abs(np.corrcoef(base, other)[0, 1]) < 0.1


def test_categorical_follows_its_probabilities():
    s = Streams(5, np.arange(100_000))
    probs = np.tile([0.2, 0.0, 0.5, 0.3], (100_000, 1))
    idx = s.categorical(probs, "c", 0)
    freq = np.bincount(idx, minlength=4) / 100_000
    assert freq[1] == 0
    assert np.allclose(freq, [0.2, 0.0, 0.5, 0.3], atol=0.01)


def test_integers_cover_their_inclusive_range():
    s = Streams(5, np.arange(50_000))
    v = s.integers(np.full(50_000, 2), np.full(50_000, 5), "i", 0)
    assert set(np.unique(v)) == {2, 3, 4, 5}
