"""The Dask executor gives the same numbers as the serial and process-pool executors, on a real local cluster.

A cluster of two worker processes is started once for the module; batches go to it through its scheduler address
(the ``--address`` path). A command-line run that starts its own local cluster is in tests/cli/test_app.py.
"""

from __future__ import annotations

import pytest
from support import ROOT

from sim.batch.chunks import Batch
from sim.batch.cluster import local_cluster
from sim.batch.executors import execute
from sim.output.summary import summarise
from sim.spec.loading import load_scenario, with_overrides

distributed = pytest.importorskip("dask.distributed")

SCENARIO = ROOT / "scenarios" / "limited_deployment.yaml"
VARIANTS = ("baseline", "frontline_engineers")


@pytest.fixture(scope="module")
def scheduler():
    """A real local Dask cluster, the one ``--executor dask`` starts: two worker processes, one thread each."""
    with local_cluster(2) as cluster:
        yield cluster.scheduler_address


def _malloc_trim_threshold() -> str | None:
    import os

    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


def test_local_cluster_workers_keep_glibc_adaptive_thresholds(scheduler):
    """Dask would start workers with MALLOC_TRIM_THRESHOLD_ set, which makes the engine three times slower."""
    with distributed.Client(scheduler) as client:
        assert list(client.nthreads().values()) == [1, 1]
        assert set(client.run(_malloc_trim_threshold).values()) == {None}


@pytest.fixture(scope="module")
def batch(doctrine) -> Batch:
    spec = with_overrides(load_scenario(SCENARIO, doctrine), doctrine, runs=1_000, chunk_size=250, seed=11)
    return Batch(doctrine, spec, VARIANTS, record_runs=False, record_events=False)


def summaries(outcome, batch: Batch) -> dict:
    names = [r.name for r in batch.doctrine.ladder]
    return {v: summarise(outcome.aggregates[v], names) for v in batch.variants}


def aggregates(outcome) -> dict:
    return {v: a.to_dict() for v, a in outcome.aggregates.items()}


def test_serial_process_and_dask_give_identical_aggregates(batch, scheduler):
    serial = execute(batch, executor="serial")
    pool = execute(batch, executor="process", workers=2)
    dask = execute(batch, executor="dask", address=scheduler)
    assert aggregates(serial) == aggregates(pool) == aggregates(dask)
    assert summaries(serial, batch) == summaries(dask, batch)
    # the batch is not trivial: outcomes happen, and differ between the variants
    counts = {v: aggregates(dask)[v]["outcome_counts"] for v in VARIANTS}
    assert sum(counts["baseline"]) > 0 and counts["baseline"] != counts["frontline_engineers"]
    assert dask.aggregates["baseline"].runs == batch.runs


def test_dask_hands_every_chunk_on_once_in_chunk_order(batch, scheduler):
    seen: list[int] = []
    outcome = execute(batch, executor="dask", address=scheduler, on_chunk=lambda c, results: seen.append(c.index))
    assert seen == list(range(4)) == outcome.chunks_done
    # results do not depend on how the runs are cut into chunks or tasks
    spec = with_overrides(batch.scenario, batch.doctrine, chunk_size=400)
    coarse = execute(Batch(batch.doctrine, spec, VARIANTS, record_runs=False, record_events=False),
                     executor="dask", address=scheduler)
    assert aggregates(coarse) == aggregates(outcome)


def test_per_run_rows_come_back_from_dask_workers(doctrine, scheduler):
    spec = with_overrides(load_scenario(SCENARIO, doctrine), doctrine, runs=400, chunk_size=100)
    full = Batch(doctrine, spec, ("baseline",), record_runs=True, record_events=True)
    rows: dict[str, list] = {"serial": [], "dask": []}
    for name, kwargs in (("serial", {}), ("dask", {"address": scheduler})):
        execute(full, executor=name, on_chunk=lambda c, res, name=name: rows[name].append(res[0].runs), **kwargs)
    assert len(rows["dask"]) == 4
    for a, b in zip(rows["serial"], rows["dask"], strict=True):
        assert a.keys() == b.keys()
        assert all((a[k] == b[k]).all() for k in a)


