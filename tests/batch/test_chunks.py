"""Chunk plans and variant selection: every run in exactly one chunk, variants named as the scenario names them."""

from __future__ import annotations

import numpy as np
import pytest
from support import make_scenario

from sim.batch.chunks import plan_chunks, select_variants
from sim.errors import InputError


@pytest.mark.parametrize("runs, size", [(1003, 250), (1000, 250), (7, 250), (1, 1)])
def test_plan_covers_every_run_once_in_order(runs, size):
    chunks = plan_chunks(runs, size)
    covered = np.concatenate([np.arange(c.start, c.stop) for c in chunks])
    assert np.array_equal(covered, np.arange(runs))
    assert [c.index for c in chunks] == list(range(-(-runs // size)))
    assert all(0 < c.stop - c.start <= size for c in chunks)


def test_variants_are_selected_by_name_baseline_first(doctrine):
    spec = make_scenario(doctrine, variants=[{"name": "none", "deployments": []}, {"name": "other", "deployments": []}])
    assert tuple(select_variants(spec, None)) == ("baseline", "none", "other")
    assert tuple(select_variants(spec, ["other", "baseline"])) in (("baseline", "other"), ("other", "baseline"))
    with pytest.raises(InputError, match="unknown variant 'nope'; expected one of: baseline, none, other"):
        select_variants(spec, ["nope"])
