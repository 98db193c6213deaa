"""The performance harness behind ``escalation bench``: how fast the lockstep engine is, and how it scales.

It measures, on one scenario's baseline (by default ``scenarios/limited_deployment.yaml``, full roster, its horizon):

- the engine with all the runs of a chunk stepped in lockstep (``simulate`` over ``np.arange`` of a chunk), in this
  process, with its peak traced allocation;
- the same engine driven one run at a time (R = 1 per model), as a per-run agent-based loop would be, and a check
  that those runs equal the matching rows of the lockstep chunk;
- a full batch through the real runner on the process pool with aggregates only (as ``--no-runs``), its runs per
  second and the peak resident memory of the main process plus its workers;
- a scaling table: runs (through the runner), weeks (26, 52, 104) and actors (the roster, and a doubled roster in
  which every NATO member has a twin under a new id);
- both engine paths side by side (``engines``): the plain numpy reference and the compiled kernels
  (sim/engine/kernels.py), in this process, chunk for chunk in alternation, as runs per CPU-second (robust to a
  loaded machine), their ratio, and what compiling the kernels costs (cold, on an empty cache, and loaded from it);
- the memory floor (``floor``): the bytes of per-run state the engine holds, times weeks, at this machine's copy
  bandwidth: how fast a run could go if each week only read and wrote its state once; and the engine's distance
  from it;
- tables (``tables``): the same ``escalation run`` with aggregates only and with per-run tables and events, each
  in a fresh process: peak memory of its processes, CPU-seconds, and what the tables add.

Numbers depend on the machine; ``benchmarks/RESULTS.md`` records them with the commands that produced them.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.batch.chunks import Batch
from sim.batch.executors import default_workers, execute
from sim.engine import kernels
from sim.engine.model import EscalationModel, simulate
from sim.engine.world import Context
from sim.spec.doctrine import ActorSpec, Doctrine
from sim.spec.loading import editable_data, with_overrides
from sim.spec.scenario import AUTO_CHUNK_MIN, ScenarioSpec, auto_chunk_size

MIB = 1024 * 1024


@dataclass(frozen=True)
class Plan:
    """How much each part of the harness runs."""

    lockstep_runs: int
    lockstep_chunk: int
    loop_runs: int
    batch_runs: int
    runs_scale: tuple[int, ...]
    weeks_scale: tuple[int, ...]
    scale_runs: int
    engine_rounds: int = 3
    tables_runs: int = 200_000
    #: how many times the tables are measured, each time with aggregates only and then with tables, one after the
    #: other: what they cost moved from +37% to +70% between such pairs minutes apart (benchmarks/RESULTS.md, tenth
    #: round), so one pair says little
    tables_pairs: int = 3

    @classmethod
    def full(cls) -> Plan:
        """The recorded measurements: a million-run batch, scaling up to 100,000 runs (about two minutes)."""
        return cls(lockstep_runs=40_000, lockstep_chunk=20_000, loop_runs=100, batch_runs=1_000_000,
                   runs_scale=(1_000, 10_000, 100_000), weeks_scale=(26, 52, 104), scale_runs=100_000)

    @classmethod
    def quick(cls) -> Plan:
        """Every part, small (seconds): for tests and a first look."""
        return cls(lockstep_runs=5_000, lockstep_chunk=5_000, loop_runs=10, batch_runs=10_000,
                   runs_scale=(1_000,), weeks_scale=(26, 52, 104), scale_runs=2_000, engine_rounds=2,
                   tables_runs=4_000, tables_pairs=1)


# ------------------------------------------------------------------------------------------------ memory
def _tree(root: int) -> tuple[int, dict[int, int]]:
    """Resident bytes of process ``root`` and all its descendants, and the CPU clock ticks each has used (Linux
    /proc; a process that cannot be read counts as nothing)."""
    tree = _descendants(root)
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    ticks: dict[int, int] = {}
    for pid in tree:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
            with open(f"/proc/{pid}/statm", "rb") as f:
                resident = int(f.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
        fields = stat[stat.rfind(b")") + 2:].split()  # fields[0] is the state, the 3rd field of the line
        ticks[pid] = int(fields[11]) + int(fields[12])  # utime + stime
        total += resident
    return total, ticks


def _descendants(root: int) -> set[int]:
    """Process ``root`` and its descendants: from each process's list of children (``/proc/PID/task/TID/children``),
    which reads a few files however many processes the machine runs, or, where the kernel has no such list, from
    the parent of every process."""
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                    children = [int(c) for c in f.read().split()]
            except FileNotFoundError:
                return _descendants_by_parent(root)
            except OSError:
                continue
            for child in children:
                if child not in tree:
                    tree.add(child)
                    frontier.append(child)
    return tree


def _descendants_by_parent(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        parents[int(entry)] = int(stat[stat.rfind(b")") + 2:].split()[1])
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    return tree


def _proportional(pids: Iterable[int]) -> int:
    """The proportional set size of these processes in bytes (Linux ``smaps_rollup``): each page shared by n
    processes counts 1/n to each, so workers forked from one server are not counted again for what they share."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
                for line in f:
                    if line.startswith(b"Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, ValueError):
            continue
    return total


#: Seconds between two samples of the proportional set size while the resident size stays below its peak: reading
#: ``smaps_rollup`` walks each process's page tables, which every 0.1 s slowed the batch being measured by 6.7%
#: (benchmarks/sampler_cost.py, benchmarks/RESULTS.md). It is read at every new peak of the resident size as well,
#: which is read every ``interval``.
PSS_INTERVAL = 1.0


class TreeMemory:
    """Samples the resident memory of this process and its descendants in a background thread; keeps the peak of
    their sum, and the CPU time they used meanwhile (to within one sampling interval per process).

    Where /proc is missing it falls back to ``getrusage`` (this process and its largest finished child) and
    reports no CPU time.
    """

    def __init__(self, interval: float = 0.1, root: int | None = None, pss_interval: float = PSS_INTERVAL) -> None:
        self.interval = interval
        self.pss_interval = pss_interval
        self.root = root  # the process whose tree is sampled (default: this one)
        self.peak = 0
        self.peak_pss = 0  # the same tree's peak proportional set size (shared pages split between sharers)
        self.cpu_seconds = 0.0
        #: each process's CPU-seconds, by process id in ascending order (about the order the processes started)
        self.cpu_by_process: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._proc = os.path.isdir("/proc/self")
        self._ticks: dict[int, int] = {}
        self._start: dict[int, int] = {}

    def _sample(self) -> None:
        pid = self.root if self.root is not None else os.getpid()
        pss_at = -math.inf
        while True:
            last = self._stop.is_set()  # the sample after the block ended: every size is read once more
            rss, ticks = _tree(pid)
            now = time.monotonic()
            if rss > self.peak or last or now - pss_at >= self.pss_interval:
                # at a new peak of the resident size (where the proportional size most likely peaks too: a short
                # peak is not missed), once a period, and at the end. Read a moment after the resident sizes, while
                # memory may still grow: at one moment a tree's proportional size never exceeds its resident size,
                # so that sample bounds it
                self.peak_pss = max(self.peak_pss, min(_proportional(ticks), rss))
                pss_at = now
            self.peak = max(self.peak, rss)
            for p, t in ticks.items():
                self._start.setdefault(p, t if p == pid else 0)
                self._ticks[p] = max(self._ticks.get(p, 0), t)
            if last:
                break
            self._stop.wait(self.interval)
        hz = os.sysconf("SC_CLK_TCK")
        self.cpu_by_process = {p: (t - self._start[p]) / hz for p, t in sorted(self._ticks.items())}
        self.cpu_seconds = sum(t - self._start[p] for p, t in self._ticks.items()) / hz

    def __enter__(self) -> TreeMemory:
        if self._proc:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc:
            self._stop.set()
            self._thread.join()
        else:  # pragma: no cover - not on Linux
            scale = 1 if sys.platform == "darwin" else 1024
            own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
            kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale
            self.peak = own + kids


def max_rss_mib() -> float:
    """Peak resident memory of this process so far (getrusage), in MiB."""
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / MIB


# ------------------------------------------------------------------------------------------------ scenarios
def doubled_roster(doctrine: Doctrine) -> Doctrine:
    """The doctrine with a twin of every NATO member (id ``<id>_twin``), same attributes, roles and geography."""
    members = set(doctrine.members())
    actors: list[ActorSpec] = []
    for a in doctrine.actors:
        actors.append(a)
        if a.id in members:
            actors.append(a.model_copy(update={"id": f"{a.id}_twin", "name": f"{a.name} (twin)"}))
    geography = [g for e in doctrine.geography for g in (e, e.model_copy(update={"member": f"{e.member}_twin"}))]
    return doctrine.model_copy(update={"actors": actors, "geography": geography})


def with_horizon(scenario: ScenarioSpec, doctrine: Doctrine, weeks: int) -> ScenarioSpec:
    """The scenario's baseline with another horizon, validated again: timeline moves and deployments past it are
    dropped, and a deep-strike authorisation beyond it starts in its last week."""
    data = editable_data(scenario)
    data["timeline"] = [m for m in data.get("timeline", []) if m["week"] < weeks]
    data["deployments"] = [d for d in data.get("deployments", []) if d["start_week"] < weeks]
    ds = data["policies"]["deep_strike"]
    ds["from_week"] = min(ds["from_week"], weeks - 1)
    return with_overrides(ScenarioSpec.model_validate(data, context={"doctrine": doctrine}), doctrine,
                          horizon_weeks=weeks, variants=[])  # the harness runs the baseline only


def _with(scenario: ScenarioSpec, doctrine: Doctrine, **changes: Any) -> ScenarioSpec:
    """The scenario with some fields changed, validated again."""
    return with_overrides(scenario, doctrine, **changes)


def baseline_context(doctrine: Doctrine, scenario: ScenarioSpec) -> Context:
    """The batch context of the scenario's baseline."""
    levers = {lv.name: lv for lv in scenario.levers()}
    return Context.build(doctrine, scenario, levers[scenario.baseline_name])


# ------------------------------------------------------------------------------------------------ measurements
def measure_lockstep(ctx: Context, runs: int, chunk: int) -> dict[str, Any]:
    """Runs per second of the engine stepping ``chunk`` runs at once, in this process, and its peak allocation."""
    simulate(ctx, np.arange(min(chunk, 100)), "bench")  # warm caches and imports
    t0, c0 = time.perf_counter(), time.process_time()
    for start in range(0, runs, chunk):
        simulate(ctx, np.arange(start, min(start + chunk, runs)), "bench")
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    tracemalloc.start()
    simulate(ctx, np.arange(chunk), "bench")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"runs": runs, "chunk": chunk, "seconds": wall, "cpu_seconds": cpu, "runs_per_second": runs / wall,
            "runs_per_cpu_second": runs / cpu, "peak_traced_mib": peak / MIB}


def measure_loop(ctx: Context, runs: int, check_against: int) -> dict[str, Any]:
    """Runs per second of the same engine driven one run at a time, and whether each run equals its row of a
    lockstep chunk of ``check_against`` runs."""
    t0, c0 = time.perf_counter(), time.process_time()
    singles = [simulate(ctx, np.array([k]), "bench") for k in range(runs)]
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    chunk = simulate(ctx, np.arange(max(check_against, runs)), "bench")
    headline, ukraine = chunk.paths()
    same = all(np.array_equal(s.paths()[0][0], headline[k]) and np.array_equal(s.paths()[1][0], ukraine[k])
               and all(np.array_equal(s.runs[c], chunk.runs[c][k:k + 1]) for c in s.runs)
               for k, s in enumerate(singles))
    return {"runs": runs, "seconds": wall, "cpu_seconds": cpu, "runs_per_second": runs / wall,
            "runs_per_cpu_second": runs / cpu, "rows_equal_lockstep": same}


def measure_batch(doctrine: Doctrine, scenario: ScenarioSpec, runs: int, workers: int,
                  executor: str = "process") -> dict[str, Any]:
    """A baseline batch through the runner, aggregates only (as ``escalation run --no-runs``)."""
    spec = _with(scenario, doctrine, runs=runs)
    if spec.chunk_size_chosen:  # as `escalation run --no-runs` chooses it
        spec = _with(spec, doctrine, chunk_size=auto_chunk_size(runs, tables=False))
    batch = Batch(doctrine, spec, (spec.baseline_name,), record_runs=False, record_events=False)
    with TreeMemory() as mem:
        outcome = execute(batch, executor=executor, workers=workers)
    agg = outcome.aggregates[spec.baseline_name]
    cpu = mem.cpu_seconds or None
    return {"runs": runs, "weeks": spec.horizon_weeks, "actors": len(doctrine.actors), "chunk_size": spec.chunk_size,
            "workers": workers, "seconds": outcome.wall_seconds, "runs_per_second": runs / outcome.wall_seconds,
            "cpu_seconds": cpu, "runs_per_cpu_second": runs / cpu if cpu else None,
            "us_per_run_week": 1e6 * (cpu or workers * outcome.wall_seconds) / (runs * spec.horizon_weeks),
            "peak_rss_mib": mem.peak / MIB, "peak_pss_mib": mem.peak_pss / MIB, "merged_runs": agg.runs}


def measure_engines(ctx: Context, runs: int, chunk: int, rounds: int) -> dict[str, Any]:
    """Both engine paths over the same chunks in this process, alternating chunk by chunk so that a change in the
    machine's load falls on both alike: runs per CPU-second of each, and their ratio (numba over numpy)."""
    cpu = {name: 0.0 for name in kernels.ENGINES}
    wall = {name: 0.0 for name in kernels.ENGINES}
    for name in kernels.ENGINES:  # warm: imports, caches, the kernels loaded
        with kernels.use_engine(name):
            simulate(ctx, np.arange(min(chunk, 100)), "bench")
    for _ in range(rounds):
        for start in range(0, runs, chunk):
            ids = np.arange(start, min(start + chunk, runs))
            for name in kernels.ENGINES:
                with kernels.use_engine(name):
                    t0, c0 = time.perf_counter(), time.process_time()
                    simulate(ctx, ids, "bench")
                    wall[name] += time.perf_counter() - t0
                    cpu[name] += time.process_time() - c0
    total = runs * rounds
    out: dict[str, Any] = {"runs": total, "chunk": chunk, "rounds": rounds}
    for name in kernels.ENGINES:
        out[name] = {"cpu_seconds": cpu[name], "seconds": wall[name], "runs_per_cpu_second": total / cpu[name],
                     "runs_per_second": total / wall[name]}
    out["ratio"] = out["numba"]["runs_per_cpu_second"] / out["numpy"]["runs_per_cpu_second"]
    return out


_COMPILE = "from sim.engine import kernels; print(kernels.warm_up())"
#: The folder that holds this ``sim`` package: fresh processes import the same code whatever the working directory.
_ROOT = Path(kernels.__file__).resolve().parents[2]


def _fresh_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join([str(_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def measure_compile() -> dict[str, Any]:
    """Seconds to make the kernels ready in a fresh process: compiled on an empty numba cache (a machine's first
    use), then loaded from that cache (every later process; workers forked from a process that has them pay
    nothing), and in this process (what its first chunk paid)."""
    here = kernels.warm_up()
    with tempfile.TemporaryDirectory(prefix="escalation-numba-") as cache:
        env = _fresh_env(NUMBA_CACHE_DIR=cache)
        runs = []
        for _ in range(2):
            done = subprocess.run([sys.executable, "-c", _COMPILE], env=env, cwd=_ROOT, capture_output=True,
                                  text=True, check=True)
            runs.append(float(done.stdout.split()[-1]))
    return {"cold_seconds": runs[0], "cached_seconds": runs[1], "this_process_seconds": here}


def _per_run_bytes(value: Any, size: int, weeks: int, seen: set[int]) -> float:
    """Bytes per run of the per-run arrays reachable from ``value`` (an array over the weeks counts one week)."""
    if id(value) in seen:
        return 0.0
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        if size not in value.shape:
            return 0.0
        per_run = value.nbytes / size
        return per_run / weeks if weeks in value.shape and value.ndim > 1 and weeks != size else per_run
    if isinstance(value, (list, tuple)):
        return sum(_per_run_bytes(v, size, weeks, seen) for v in value)
    if isinstance(value, dict):
        return sum(_per_run_bytes(v, size, weeks, seen) for v in value.values())
    if type(value).__module__.startswith("sim.engine") and hasattr(value, "__dict__"):
        return sum(_per_run_bytes(v, size, weeks, seen) for k, v in vars(value).items()
                   if k not in ("streams", "ctx", "model", "world"))
    return 0.0


def state_bytes_per_run(ctx: Context, chunk: int = 1000) -> float:
    """The per-run state of the engine in bytes: every array over runs that the world and its agents hold after a
    week (signals, deployments, Russia's pending answers and campaigns, sampled attributes, the week's row of the
    outcome paths), each counted once; the random streams' keys count, their scratch space does not."""
    model = EscalationModel(ctx, np.arange(chunk, dtype=np.int64))
    model.step()
    seen: set[int] = set()
    weeks = ctx.scenario.horizon_weeks
    total = _per_run_bytes(model.world, chunk, weeks, seen) + model.world.streams.keys.nbytes / chunk
    for agent in list(model.agents):
        total += _per_run_bytes(agent, chunk, weeks, seen)
    return total


def copy_bandwidth(nbytes: int, repeats: int = 20) -> float:
    """Bytes per second one core copies from one array of ``nbytes`` to another (best of ``repeats``; each byte is
    read once and written once)."""
    src = np.ones(max(nbytes, MIB) // 8)
    dst = np.empty_like(src)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - t0)
    return src.nbytes / best


def memory_floor(ctx: Context, engine_runs_per_cpu_second: float, chunk: int) -> dict[str, Any]:
    """The memory floor: each week every run's state is read and written once, at the rate one core copies the
    state of a chunk of ``chunk`` runs (the engine's working set); and how many times that floor the engine takes
    (its CPU-seconds per run over the floor's)."""
    state = state_bytes_per_run(ctx)
    bandwidth = copy_bandwidth(int(state * chunk))
    weeks = ctx.scenario.horizon_weeks
    floor_rate = bandwidth / (state * weeks)
    return {"state_bytes_per_run": state, "bytes_per_actor_run_week": state / len(ctx.actor_ids), "chunk": chunk,
            "copy_bytes_per_second": bandwidth, "runs_per_cpu_second": floor_rate,
            "seconds_per_million_runs": 1e6 / floor_rate,
            "times_the_floor": floor_rate / engine_runs_per_cpu_second}


def measure_command(args: list[str]) -> dict[str, Any]:
    """One ``escalation`` command in a fresh process: its wall time, the CPU-seconds and peak resident memory of it
    and all its descendants (workers, fork server), and the CPU-seconds of each of those processes."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "sim", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env=_fresh_env(), cwd=_ROOT)
    with TreeMemory(root=proc.pid) as mem:
        _, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"escalation {' '.join(args)} failed with status {proc.returncode}: {err.strip()}")
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": mem.cpu_seconds, "peak_rss_mib": mem.peak / MIB,
            "peak_pss_mib": mem.peak_pss / MIB, "cpu_seconds_by_process": list(mem.cpu_by_process.values())}


def measure_tables(scenario_path: Path, runs: int, workers: int, chunk_size: int,
                   configs: Path | None = None, pairs: int = 1) -> dict[str, Any]:
    """``escalation run`` of the scenario's baseline with aggregates only and then with per-run tables and events
    (written to a temporary folder), ``pairs`` times: what the tables add in CPU-seconds, as a share of the
    aggregates-only command and in seconds, each the median of the pairs with its range (the two commands of a pair
    run one after the other, so that both meet the machine's speed of the same minute).

    ``aggregates_only`` and ``with_tables`` hold each command's median wall and CPU time and its highest peak
    memory over the pairs (a bound is what a memory limit asks for); ``cpu_seconds_by_process`` is that of the
    pair whose cost is the median. ``pairs`` lists every pair's CPU-seconds."""
    if pairs < 1:
        raise ValueError(f"pairs must be at least 1, got {pairs}")
    base = ["run", str(Path(scenario_path).resolve()), "--runs", str(runs), "--variants", "baseline", "--no-charts",
            "--workers", str(workers), "--chunk-size", str(chunk_size)]
    if configs is not None:
        base += ["--configs", str(Path(configs).resolve())]
    measured: list[tuple[dict[str, Any], dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="escalation-bench-") as out:
        for _ in range(pairs):
            measured.append((measure_command([*base, "--no-runs", "--out", out]),
                             measure_command([*base, "--events", "--out", out])))
    added = [w["cpu_seconds"] - a["cpu_seconds"] for a, w in measured]
    costs = [w["cpu_seconds"] / a["cpu_seconds"] - 1.0 for a, w in measured if a["cpu_seconds"]]
    # the pair whose cost is the median (the lower of the middle two when there are as many above as below)
    middle = sorted(range(len(measured)), key=lambda i: added[i])[(len(measured) - 1) // 2]

    def kind(j: int) -> dict[str, Any]:
        rows = [pair[j] for pair in measured]
        return {"seconds": statistics.median(r["seconds"] for r in rows),
                "cpu_seconds": statistics.median(r["cpu_seconds"] for r in rows),
                "peak_rss_mib": max(r["peak_rss_mib"] for r in rows),
                "peak_pss_mib": max(r["peak_pss_mib"] for r in rows),
                "cpu_seconds_by_process": measured[middle][j]["cpu_seconds_by_process"]}

    return {"runs": runs, "aggregates_only": kind(0), "with_tables": kind(1),
            "tables_cpu_cost": statistics.median(costs) if costs else None,
            "tables_cpu_cost_range": [min(costs), max(costs)] if costs else None,
            "tables_cpu_seconds": statistics.median(added), "tables_cpu_seconds_range": [min(added), max(added)],
            "pairs": [{"aggregates_only_cpu_seconds": a["cpu_seconds"], "with_tables_cpu_seconds": w["cpu_seconds"]}
                      for a, w in measured]}


def run_bench(scenario_path: Path, *, quick: bool = False, workers: int | None = None,
              chunk_size: int | None = None, configs: Path | None = None,
              progress: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """Run every part of the harness and return its results as plain data (what ``--json`` prints)."""
    from sim.spec.loading import load_doctrine, load_scenario

    plan = Plan.quick() if quick else Plan.full()
    workers = workers or default_workers()
    doctrine = load_doctrine(configs)
    scenario = load_scenario(scenario_path, doctrine)
    if chunk_size is None and quick:  # small batches: small chunks, so that the pool still gets work
        chunk_size = min(scenario.chunk_size, plan.batch_runs // (2 * workers))
    if chunk_size is not None:
        scenario = _with(scenario, doctrine, chunk_size=chunk_size)
    ctx = baseline_context(doctrine, scenario)
    # the chunks the engine paths, the floor and the tables are measured in: the scenario's own, or the size a batch
    # with tables takes (the aggregates-only batches choose theirs from their runs, as `escalation run` does)
    chunk = AUTO_CHUNK_MIN if scenario.chunk_size_chosen else scenario.chunk_size
    t_start = time.perf_counter()

    progress(f"lockstep engine: {plan.lockstep_runs:,} runs in chunks of {plan.lockstep_chunk:,}, one process")
    lockstep = measure_lockstep(ctx, plan.lockstep_runs, plan.lockstep_chunk)
    progress(f"per-run loop: {plan.loop_runs} runs, one model each")
    loop = measure_loop(ctx, plan.loop_runs, plan.lockstep_chunk if quick else 1000)
    progress(f"full batch: {plan.batch_runs:,} runs through the runner, {workers} worker(s)")
    batch = measure_batch(doctrine, scenario, plan.batch_runs, workers)

    scaling: dict[str, list[dict[str, Any]]] = {"runs": [], "weeks": [], "actors": []}
    for n in plan.runs_scale:
        progress(f"scaling in runs: {n:,}")
        scaling["runs"].append(measure_batch(doctrine, scenario, n, workers))
    scaling["runs"].append(batch)
    for weeks in plan.weeks_scale:
        progress(f"scaling in weeks: {weeks}")
        shorter = with_horizon(scenario, doctrine, weeks)
        scaling["weeks"].append(measure_batch(doctrine, shorter, plan.scale_runs, workers))
    twins = doubled_roster(doctrine)
    for label, d in (("roster", doctrine), ("doubled roster", twins)):
        progress(f"scaling in actors: {label} ({len(d.actors)} actors)")
        row = measure_batch(d, scenario, plan.scale_runs, workers)
        row["roster"] = label
        scaling["actors"].append(row)

    progress("compiling the kernels: on an empty cache, then from it")
    compile_cost = measure_compile()
    progress(f"engine paths side by side: numpy and numba over {plan.lockstep_runs:,} runs, {plan.engine_rounds} "
             "rounds")
    engines = measure_engines(ctx, plan.lockstep_runs, chunk, plan.engine_rounds)
    engines["compile"] = compile_cost
    floor = memory_floor(ctx, engines[kernels.engine()]["runs_per_cpu_second"], chunk)
    progress(f"tables: {plan.tables_runs:,} runs with aggregates only, then with per-run tables and events, "
             f"{plan.tables_pairs} time(s)")
    tables = measure_tables(scenario_path, plan.tables_runs, workers, chunk, configs, plan.tables_pairs)

    return {
        "scenario": str(scenario_path),
        "variant": scenario.baseline_name,
        "mode": "quick" if quick else "full",
        "weeks": scenario.horizon_weeks,
        "actors": len(doctrine.actors),
        "chunk_size": chunk,
        "batch_chunk_size": batch["chunk_size"],
        "workers": workers,
        "runs": plan.batch_runs,
        "runs_per_second": batch["runs_per_second"],
        "batch_seconds": batch["seconds"],
        "batch_runs_per_cpu_second": batch["runs_per_cpu_second"],
        "peak_rss_mib": batch["peak_rss_mib"],
        "lockstep_runs_per_second": lockstep["runs_per_second"],
        "lockstep_runs_per_cpu_second": lockstep["runs_per_cpu_second"],
        "lockstep_peak_traced_mib": lockstep["peak_traced_mib"],
        "per_run_loop_runs_per_second": loop["runs_per_second"],
        "speedup": lockstep["runs_per_second"] / loop["runs_per_second"],
        "batch_speedup": batch["runs_per_second"] / loop["runs_per_second"],
        "loop_rows_equal_lockstep": loop["rows_equal_lockstep"],
        "engine": kernels.engine(),
        "numpy_runs_per_cpu_second": engines["numpy"]["runs_per_cpu_second"],
        "numba_runs_per_cpu_second": engines["numba"]["runs_per_cpu_second"],
        "numba_over_numpy": engines["ratio"],
        "compile_seconds": compile_cost["cold_seconds"],
        "floor_runs_per_cpu_second": floor["runs_per_cpu_second"],
        "times_the_floor": floor["times_the_floor"],
        "peak_pss_mib": batch["peak_pss_mib"],
        "peak_rss_mib_aggregates_only": tables["aggregates_only"]["peak_rss_mib"],
        "peak_rss_mib_with_tables": tables["with_tables"]["peak_rss_mib"],
        "peak_pss_mib_aggregates_only": tables["aggregates_only"]["peak_pss_mib"],
        "peak_pss_mib_with_tables": tables["with_tables"]["peak_pss_mib"],
        "tables_cpu_cost": tables["tables_cpu_cost"],
        "tables_cpu_cost_range": tables["tables_cpu_cost_range"],
        "process_max_rss_mib": max_rss_mib(),
        "engines": engines,
        "floor": floor,
        "tables": tables,
        "lockstep": lockstep,
        "per_run_loop": loop,
        "batch": batch,
        "scaling": scaling,
        "machine": machine(),
        "bench_seconds": time.perf_counter() - t_start,
    }


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        if names:
            cpu = names[0]
    except OSError:
        pass
    mem = None
    with contextlib.suppress(ValueError, OSError, AttributeError):
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / MIB / 1024
    return {"cpu": cpu, "cores": default_workers(), "memory_gib": round(mem, 1) if mem else None,
            "python": sys.version.split()[0], "numpy": np.__version__, "platform": platform.platform(),
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}
