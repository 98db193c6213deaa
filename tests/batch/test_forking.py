"""The fork server that starts the pool's workers: it preloads the model once, a pool asks it for a worker only when
it is ready, and a stop or the end of the command ends a server still preloading. Each case runs in a fresh
interpreter, since a process has one fork server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from support import ROOT

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the fork server's process checks read Linux's /proc")

_COMMON = (
    "import json, multiprocessing, os, sys, time\n"
    "from sim.batch import forking\n"
    "def alive(pid):\n"
    "    try:\n"
    "        with open(f'/proc/{pid}/stat') as f:\n"
    "            return f.read().rsplit(')', 1)[1].split()[0] not in ('Z', 'X')\n"
    "    except FileNotFoundError:\n"
    "        return False\n"
    "def loaded(_):\n"  # in a worker: what it holds before it is given any work
    "    from sim.engine import kernels\n"
    "    return 'sim.engine.model' in sys.modules and len(kernels._compiled) == len(kernels._KERNELS)\n"
)


def _python(tmp_path, body: str, timeout: float = 60) -> dict:
    script = tmp_path / "case.py"
    script.write_text(_COMMON + "if __name__ == '__main__':\n" + "".join("    " + line + "\n" for line in
                                                                         body.strip().splitlines()))
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_workers_start_with_the_model_and_the_kernels_loaded(tmp_path):
    """A worker forked by the preloaded server has the model imported and every kernel loaded before it is given
    any work (a bare server's worker imports them at its first chunk)."""
    out = _python(tmp_path, """
from concurrent.futures import ProcessPoolExecutor
from sim.engine import kernels
kernels.warm_up()  # the cache exists, as after a machine's first batch
forking.start()
forking.wait_ready(lambda: None)
with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context('forkserver')) as pool:
    results = list(pool.map(loaded, range(2)))
print(json.dumps({"loaded": results, "ready": forking.ready()}))
""")
    assert out == {"loaded": [True, True], "ready": True}


def test_a_stop_while_the_server_preloads_ends_it_at_once(tmp_path):
    """``wait_ready`` looks for a stop every few milliseconds; the stop raised there, ``end_loading`` ends the
    server still importing, and nothing of it is left."""
    out = _python(tmp_path, """
class Stop(Exception):
    pass
def check():
    raise Stop
forking.start()
pid = forking._server[0].pid
t0 = time.perf_counter()
try:
    forking.wait_ready(check)
except Stop:
    stopped = time.perf_counter() - t0
    ready_then = forking.ready()
    forking.end_loading()
deadline = time.monotonic() + 2
while alive(pid) and time.monotonic() < deadline:
    time.sleep(0.01)
print(json.dumps({"stopped": stopped, "ready_then": ready_then, "alive": alive(pid), "ready": forking.ready()}))
""")
    assert out["stopped"] < 0.5
    assert out["ready_then"] is False  # the stop came while the server was still preloading
    assert out["alive"] is False
    assert out["ready"] is True  # a later pool starts a new server


def test_importing_the_module_loads_nothing_of_the_model(tmp_path):
    """A command imports it before the engine, to start the server early: it must not import the engine itself
    (the preload module does nothing outside a server started for it)."""
    out = _python(tmp_path, """
import sim.batch.preload
print(json.dumps({"model": "sim.engine.model" in sys.modules, "numpy": "numpy" in sys.modules}))
""")
    assert out == {"model": False, "numpy": False}


def test_a_server_ended_while_it_preloads_is_reaped_and_a_new_one_starts_at_once(tmp_path):
    """After ``end_loading``, nothing is left of the old server, not even a zombie, and ``multiprocessing`` no
    longer knows it: the next ``start`` starts a new, preloading server rather than find the old one alive."""
    out = _python(tmp_path, """
from multiprocessing import forkserver
forking.start()
old = forking._server[0].pid
forking.end_loading()
gone = not os.path.exists(f"/proc/{old}")
forking.start()
new = forking._server[0].pid if forking._server else None
forking.wait_ready(lambda: None)
print(json.dumps({"gone": gone, "new": new not in (None, old), "known": forkserver._forkserver._forkserver_pid == new,
                  "ready": forking.ready()}))
""")
    assert out == {"gone": True, "new": True, "known": True, "ready": True}


def test_dask_runs_on_a_server_started_for_the_pool_alone(tmp_path):
    """A local Dask cluster forks its workers from whatever server runs, here one that preloaded the model but not
    Dask: its workers import Dask themselves, and the batch gives the serial executor's sums."""
    pytest.importorskip("distributed")
    out = _python(tmp_path, """
from sim.batch.chunks import Batch
from sim.batch.executors import execute
from sim.spec.loading import default_scenarios_dir, load_doctrine, load_scenario, with_overrides
forking.start()
forking.wait_ready(lambda: None)
d = load_doctrine()
s = with_overrides(load_scenario(default_scenarios_dir() / "limited_deployment.yaml", d), d, runs=400,
                   chunk_size=100)
b = Batch(d, s, (s.baseline_name,), record_runs=False, record_events=False)
dask_sums = execute(b, executor="dask", workers=2).aggregates[s.baseline_name].to_dict()
serial = execute(b, executor="serial").aggregates[s.baseline_name].to_dict()
print(json.dumps({"same": dask_sums == serial, "runs": dask_sums["runs"]}))
""", timeout=120)
    assert out == {"same": True, "runs": 400}


def test_a_command_that_ends_before_its_pool_leaves_no_server_behind(tmp_path):
    """A command that started the server early and then ended (a refused batch, a stop while loading) ends the
    server with it, though the server was still importing and so could not yet see this process go."""
    out = _python(tmp_path, """
forking.start()
print(json.dumps({"pid": forking._server[0].pid, "ready": forking.ready()}))
""")
    assert out["ready"] is False
    assert not os.path.exists(f"/proc/{out['pid']}")  # ended, and reaped: not even a zombie is left


@pytest.mark.parametrize("extra", ["", "distributed"])
def test_a_server_whose_parent_is_killed_while_it_preloads_ends_at_once(tmp_path, extra):
    """Killed outright (no exit handler runs) at once after it started its server, the command cannot end it; the
    server, still importing (slowed to 30 s; with Dask to import too, for a local cluster), cannot yet see its
    parent go either, and may not even have begun to watch: its watching thread ends it all the same."""
    from sim.batch.preload import FAULT_SLOW_PRELOAD

    os.environ[FAULT_SLOW_PRELOAD] = "30"
    t0 = time.monotonic()
    try:
        out = _python(tmp_path, f"""
forking.start(({extra!r},) if {extra!r} else ())
print(json.dumps({{"pid": forking._server[0].pid}}), flush=True)
os._exit(0)  # as after SIGKILL: no exit handler, and before the server has started to watch
""")
    finally:
        del os.environ[FAULT_SLOW_PRELOAD]
    # the server holds the command's output open: the command's output ends only when the server has ended too
    assert time.monotonic() - t0 < 15.0, "the server outlived its parent until its preloading was over"
    assert not _running(out["pid"])


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def test_a_server_started_bare_by_other_code_is_used_as_it_is(tmp_path):
    """A fork server another library started without the preload is kept: ``start`` does not wait for a signal that
    would never come, and its workers import the model themselves."""
    out = _python(tmp_path, """
from concurrent.futures import ProcessPoolExecutor
multiprocessing.set_forkserver_preload([])
with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context('forkserver')) as pool:
    pool.submit(os.getpid).result()
from multiprocessing import forkserver
bare = forkserver._forkserver._forkserver_pid
forking.start()
print(json.dumps({"same": forkserver._forkserver._forkserver_pid == bare, "ready": forking.ready()}))
""")
    assert out == {"same": True, "ready": True}


@pytest.mark.parametrize(("executor", "workers", "chunks", "address", "started"), [
    ("process", 2, 4, None, True), ("process", 1, 4, None, False), ("process", 2, 1, None, False),
    ("serial", 2, 4, None, False), ("dask", 2, 4, None, True), ("dask", 2, 4, "tcp://127.0.0.1:8786", False)])
def test_a_command_starts_the_server_early_only_for_its_own_workers(tmp_path, executor, workers, chunks, address,
                                                                    started):
    """A pool of several workers, or a local Dask cluster, with more than one chunk to run: a batch run in the
    command's own process, or on a scheduler elsewhere, needs no server."""
    out = _python(tmp_path, f"""
forking.start_early({executor!r}, {workers}, {chunks}, {address!r})
print(json.dumps({{"started": bool(forking._server)}}))
""")
    assert out == {"started": started}


@pytest.mark.parametrize(("module", "call", "chunks"), [
    ("sim.output.plans", "plan_run(Path('scenarios/limited_deployment.yaml'), runs=300, chunk_size=100)", 3),
    ("sim.output.compare_plans", "plan_compare([Path('scenarios/limited_deployment.yaml'), "
                                 "Path('scenarios/long_range_strikes.yaml')], runs=300)", 2)])
def test_a_command_plans_its_batch_without_the_model(tmp_path, module, call, chunks):
    """``escalation run`` and ``escalation compare`` make their plan before they start the server early: planning
    must not import the engine (or the server would have nothing to preload ahead of the command), and the plan
    says how many chunks are to come (side by side: each file's batch, here one chunk each)."""
    out = _python(tmp_path, f"""
from pathlib import Path
from {module} import {call.split("(")[0]}
plan = {call}
print(json.dumps({{"model": "sim.engine.model" in sys.modules, "mesa": "mesa" in sys.modules,
                  "chunks": plan.chunks_left()}}))
""")
    assert out == {"model": False, "mesa": False, "chunks": chunks}
