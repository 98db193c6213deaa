"""The executors: identical results whatever the executor, worker count, chunk size or split of the chunks, and
every chunk handed on once, in chunk order."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import make_scenario

from sim.batch.chunks import Batch, plan_chunks, select_variants
from sim.batch.executors import execute
from sim.errors import InputError
from sim.output.summary import summarise

DEPLOY = [{"id": "d", "contributors": ["uk"], "type": "air_defence", "size": 1500, "location": "central",
           "start_week": 1}]


@pytest.fixture(scope="module")
def spec(doctrine):
    return make_scenario(doctrine, runs=900, chunk_size=250, horizon_weeks=20, deployments=DEPLOY,
                         variants=[{"name": "none", "deployments": []}])


def _summaries(doctrine, batch, outcome):
    names = [r.name for r in doctrine.ladder]
    return {v: summarise(outcome.aggregates[v], names) for v in batch.variants}


def _sums(outcome) -> dict:
    return {v: a.to_dict() for v, a in outcome.aggregates.items()}


def test_serial_equals_two_worker_process_pool(doctrine, spec):
    batch = Batch(doctrine, spec, select_variants(spec, None), record_runs=False, record_events=False)
    serial = execute(batch, executor="serial")
    pool = execute(batch, executor="process", workers=2)
    one = execute(batch, executor="process", workers=1)
    assert _summaries(doctrine, batch, serial) == _summaries(doctrine, batch, pool) == _summaries(doctrine, batch, one)
    assert _sums(serial) == _sums(pool) == _sums(one)
    assert all(serial.aggregates[v].runs == 900 for v in batch.variants)


def test_chunk_size_does_not_change_results(doctrine, spec):
    a = execute(Batch(doctrine, spec, ("baseline",), False, False), executor="serial")
    b = execute(Batch(doctrine, spec.model_copy(update={"chunk_size": 77}), ("baseline",), False, False),
                executor="serial")
    assert _sums(a) == _sums(b)
    assert a.aggregates["baseline"].outcome_counts.sum() > 0


def test_a_pool_hands_chunks_on_as_finished_and_in_order(doctrine, spec):
    """``on_finished`` hears of each chunk when a worker finishes it, ``on_chunk`` in chunk order, each once."""
    batch = Batch(doctrine, spec.model_copy(update={"chunk_size": 75}), ("baseline",), True, False)
    in_order: list[tuple[int, int]] = []
    finished: list[int] = []
    outcome = execute(batch, executor="process", workers=2,
                      on_chunk=lambda c, r: in_order.append((c.index, int(r[0].runs["run"][0]))),
                      on_finished=lambda c, r: finished.append(c.index))
    assert in_order == [(i, i * 75) for i in range(12)]
    assert outcome.chunks_done == list(range(12)) and sorted(finished) == outcome.chunks_done
    assert _sums(outcome) == _sums(execute(batch, executor="serial"))


def test_unknown_executor_is_an_input_error(doctrine, spec):
    with pytest.raises(InputError, match="unknown executor"):
        execute(Batch(doctrine, spec, ("baseline",)), executor="threads")


@pytest.fixture(scope="module")
def short_batch(doctrine) -> Batch:
    spec = make_scenario(doctrine, runs=160, chunk_size=20, horizon_weeks=10, deployments=DEPLOY,
                         timeline=[{"week": 1, "actor": "us", "move": "new_weapon_class"}],
                         variants=[{"name": "none", "deployments": []}])
    return Batch(doctrine, spec, ("baseline", "none"), record_runs=False, record_events=False)


@pytest.fixture(scope="module")
def short_whole(short_batch: Batch) -> dict:
    return _sums(execute(short_batch, executor="serial"))


@settings(max_examples=8, deadline=None, database=None)
@given(first=st.sets(st.integers(0, 7)))
def test_any_split_of_the_chunks_merges_to_the_whole(short_batch: Batch, short_whole: dict, first: set[int]) -> None:
    """Whatever set of chunks a stopped batch had finished, finishing the rest gives the whole batch's sums."""
    plan = plan_chunks(short_batch.runs, short_batch.scenario.chunk_size)
    part = execute(short_batch, executor="serial", chunks=[c for c in plan if c.index in first])
    rest = execute(short_batch, executor="serial", chunks=[c for c in plan if c.index not in first],
                   aggregates=part.aggregates)
    assert _sums(rest) == short_whole


def test_stopping_a_pool_with_half_a_result_in_its_pipe_lets_the_process_exit(tmp_path):
    """A worker ended while it sent a chunk's result leaves half a message in the result pipe: the pool's management
    thread waits for the rest, and the interpreter, which joins that thread at exit, never ended. ``_terminate``
    must let it finish, so that a stopped batch always exits."""
    import os
    import subprocess
    import sys

    from support import ROOT

    script = tmp_path / "half_message.py"
    script.write_text(
        "import multiprocessing, os, struct, sys, time\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "from sim.batch.executors import _terminate\n"
        "def slow(x):\n"
        "    time.sleep(60)\n"
        "if __name__ == '__main__':\n"
        "    pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context('forkserver'))\n"
        "    pool.submit(slow, 1)\n"
        "    time.sleep(1.0)\n"
        "    os.write(pool._result_queue._writer.fileno(), struct.pack('!i', 1_000_000))  # a header, no payload\n"
        "    time.sleep(0.3)\n"
        "    manager = pool._executor_manager_thread\n"
        "    _terminate(pool)\n"
        "    manager.join(timeout=5)\n"
        "    sys.exit(3 if manager.is_alive() else 0)\n")
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=30,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
