"""The Dask executor gives the same numbers as the serial and process-pool executors, on a real local cluster.

A cluster of two worker processes is started once for the module; batches go to it through its scheduler address
(the ``--address`` path). A command-line run that starts its own local cluster is in tests/cli/test_app.py.
"""

from __future__ import annotations

import pytest
from support import ROOT

from sim.batch.chunks import Batch
from sim.batch.cluster import QUIET_WORKERS, local_cluster
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


def _background_work() -> dict:
    import dask

    return {"profiler": dask.config.get("distributed.worker.profile.enabled"),
            "memory_monitor": dask.config.get("distributed.worker.memory.monitor-interval")}


def test_local_cluster_workers_do_little_beside_their_tasks(scheduler):
    """The workers' statistical profiler is off and their monitors look rarely (``QUIET_WORKERS``): together they
    took about 4% of a worker's CPU; the memory limit is still watched."""
    with distributed.Client(scheduler) as client:
        seen = list(client.run(_background_work).values())
        limits = {w["memory_limit"] for w in client.scheduler_info()["workers"].values()}
    assert len(seen) == 2
    for worker in seen:
        assert worker["profiler"] is False and worker["memory_monitor"] == QUIET_WORKERS[
            "distributed.worker.memory.monitor-interval"]
    assert all(limit and limit > 0 for limit in limits)


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




# ------------------------------------------------------------------------------------------------ edges
@pytest.mark.parametrize("address", ["tls://127.0.0.1:8786", "ucx://127.0.0.1:8786", "inproc://x", "tcp://"])
def test_an_address_of_another_protocol_is_refused_before_anything_is_written(tmp_path, address):
    from typer.testing import CliRunner

    from sim.cli.app import app

    result = CliRunner().invoke(app, ["run", str(SCENARIO), "--runs", "20", "--executor", "dask", "--address",
                                      address, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: --address: ") and "tcp://" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_a_scheduler_without_workers_is_refused_fast_and_writes_nothing(tmp_path):
    import time

    from typer.testing import CliRunner

    from sim.batch import cluster
    from sim.cli.app import app

    with distributed.LocalCluster(n_workers=0, processes=True, dashboard_address=":0") as empty:
        t0 = time.monotonic()
        result = CliRunner().invoke(app, ["run", str(SCENARIO), "--runs", "20", "--executor", "dask", "--address",
                                          empty.scheduler_address, "--out", str(tmp_path / "out")])
        took = time.monotonic() - t0
    assert result.exit_code == 2, result.output
    assert "the Dask scheduler has no workers" in result.stderr, result.stderr
    assert took < cluster.WORKER_WAIT_SECONDS + 5
    assert not (tmp_path / "out").exists()


def test_a_lost_scheduler_ends_the_batch_with_one_message(tmp_path):
    """The scheduler (in a process of its own) is killed mid-batch: one message, no Dask log or traceback."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import yaml
    from processes import env

    data = yaml.safe_load(SCENARIO.read_text())
    data.update(runs=4000, chunk_size=100, horizon_weeks=26, variants=data["variants"][:1])
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(data, sort_keys=False))
    port = 20000 + os.getpid() % 20000
    address = f"tcp://127.0.0.1:{port}"
    sched = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--port", str(port),
                              "--dashboard-address", ":0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=env(), start_new_session=True)
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env(), start_new_session=True)
    try:
        run = subprocess.Popen([sys.executable, "-m", "sim", "run", str(scenario), "--executor", "dask", "--address",
                                address, "--out", str(tmp_path / "out"), "--no-charts"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, env=env(), cwd=ROOT, start_new_session=True)
        deadline = time.monotonic() + 90
        while not list((tmp_path / "out").glob("*/*/parts/runs-*.arrow")) and time.monotonic() < deadline:
            time.sleep(0.1)
        os.killpg(sched.pid, signal.SIGKILL)
        _, err = run.communicate(timeout=120)
    finally:
        for p in (sched, worker):
            with __import__("contextlib").suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    assert run.returncode == 1, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Resume with:" in lines[0], err
    assert "Traceback" not in err and "distributed." not in err
