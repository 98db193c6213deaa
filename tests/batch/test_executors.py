"""The runner: chunk plans, and identical results whatever the executor, worker count or chunk size."""

from __future__ import annotations

import numpy as np
import pytest
from support import make_scenario

from sim.batch.chunks import Batch, plan_chunks, select_variants
from sim.batch.executors import execute
from sim.errors import InputError
from sim.output.summary import summarise

DEPLOY = [{"id": "d", "contributors": ["uk"], "type": "air_defence", "size": 1500, "location": "central", "start_week": 1}]


@pytest.fixture(scope="module")
def spec(doctrine):
    return make_scenario(doctrine, runs=900, chunk_size=250, horizon_weeks=20, deployments=DEPLOY,
                         variants=[{"name": "none", "deployments": []}])


def _summaries(doctrine, batch, outcome):
    names = [r.name for r in doctrine.ladder]
    return {v: summarise(outcome.aggregates[v], names) for v in batch.variants}


def test_plan_covers_every_run_once():
    chunks = plan_chunks(1003, 250)
    covered = np.concatenate([np.arange(c.start, c.stop) for c in chunks])
    assert np.array_equal(covered, np.arange(1003))
    assert [c.index for c in chunks] == list(range(5))


def test_serial_equals_two_worker_process_pool(doctrine, spec):
    batch = Batch(doctrine, spec, select_variants(spec, None), record_runs=False, record_events=False)
    serial = execute(batch, executor="serial")
    pool = execute(batch, executor="process", workers=2)
    one = execute(batch, executor="process", workers=1)
    s, p, o = (_summaries(doctrine, batch, x) for x in (serial, pool, one))
    assert s == p == o
    for v in batch.variants:
        assert np.array_equal(serial.aggregates[v].headline_hist, pool.aggregates[v].headline_hist)
        assert serial.aggregates[v].runs == 900


def test_chunk_size_does_not_change_results(doctrine, spec):
    a = execute(Batch(doctrine, spec, ("baseline",), False, False), executor="serial")
    b = execute(Batch(doctrine, spec.model_copy(update={"chunk_size": 77}), ("baseline",), False, False), executor="serial")
    assert np.array_equal(a.aggregates["baseline"].outcome_counts, b.aggregates["baseline"].outcome_counts)
    assert np.array_equal(a.aggregates["baseline"].transitions, b.aggregates["baseline"].transitions)


def test_chunks_reach_the_callback_in_order(doctrine, spec):
    seen = []
    execute(Batch(doctrine, spec, ("baseline",), True, False), executor="process", workers=2,
            on_chunk=lambda c, r: seen.append((c.index, int(r[0].runs["run"][0]))))
    assert seen == [(i, i * 250) for i in range(4)]


def test_unknown_variant_and_executor_are_input_errors(doctrine, spec):
    with pytest.raises(InputError, match="unknown variant 'nope'; expected one of: baseline, none"):
        select_variants(spec, ["nope"])
    with pytest.raises(InputError, match="unknown executor"):
        execute(Batch(doctrine, spec, ("baseline",)), executor="threads")
