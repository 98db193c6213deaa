"""The performance harness (``escalation bench``): its doubled roster, shortened scenarios and memory readings.

The engine's fast paths it measures are pinned to their plain definitions in tests/engine (test_streams.py,
test_model.py); the command's JSON contract is checked in tests/cli/test_app.py.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from support import ROOT

from sim.batch.bench import (
    TreeMemory,
    doubled_roster,
    measure_batch,
    measure_compile,
    measure_engines,
    measure_tables,
    memory_floor,
    state_bytes_per_run,
    with_horizon,
)
from sim.engine.model import simulate
from sim.engine.world import Context
from sim.spec.loading import load_scenario

SCENARIO = ROOT / "scenarios" / "limited_deployment.yaml"


def test_doubled_roster_twins_every_member_and_the_twins_take_part(doctrine):
    twins = doubled_roster(doctrine)
    assert len(twins.members()) == 2 * len(doctrine.members())
    assert len(twins.actors) == len(doctrine.actors) + len(doctrine.members())
    assert all(twins.actor(m + "_twin").roles == doctrine.actor(m).roles for m in doctrine.members())
    spec = load_scenario(SCENARIO, doctrine)
    res = simulate(Context.build(twins, spec, spec.levers()[0]), np.arange(200), "baseline", record_events=True)
    twin_targets = {t for t in res.events["target"] if t.endswith("_twin")}
    assert twin_targets, "Russia's acts against NATO members never reach a twin: the twins would only add weight"


@pytest.mark.parametrize("stem, weeks", [("limited_deployment", 10), ("limited_deployment", 104),
                                         ("backtest_2022_2024", 26)])
def test_with_horizon_gives_a_valid_baseline_without_later_levers(doctrine, stem, weeks):
    """Moves and deployments past the new horizon are dropped, a later deep-strike authorisation moves into its
    last week (the back-test's lies in week 142), and the variants go."""
    spec = load_scenario(ROOT / "scenarios" / f"{stem}.yaml", doctrine)
    short = with_horizon(spec, doctrine, weeks)
    assert short.horizon_weeks == weeks and short.variants == []
    assert all(m.week < weeks for m in short.timeline)
    assert all(d.start_week < weeks for d in short.deployments)
    assert short.policies.deep_strike.from_week <= weeks - 1
    kept = [m for m in spec.timeline if m.week < weeks]
    assert short.timeline == kept, "moves inside the horizon are kept as they were"


def test_measure_batch_merges_every_run_and_sees_its_memory(doctrine):
    spec = load_scenario(SCENARIO, doctrine)
    row = measure_batch(doctrine, spec, 1_200, workers=1, executor="serial")
    assert row["merged_runs"] == 1_200 and row["runs_per_second"] > 0
    assert 20 < row["peak_rss_mib"] < 4096


def test_tree_memory_counts_this_process():
    with TreeMemory(interval=0.01) as mem:
        block = np.ones(40 * 1024 * 1024 // 8)  # 40 MiB, touched
        block.sum()
    assert mem.peak > 40 * 1024 * 1024
    assert 40 * 1024 * 1024 < mem.peak_pss <= mem.peak  # proportional: shared pages split, never above resident


def test_tree_memory_reads_the_costly_proportional_size_at_new_peaks_and_once_a_period(monkeypatch):
    """Reading smaps_rollup walks page tables: sampled every 0.01 s it would slow the batch being measured. The
    resident size is read every interval; the proportional size at each new peak of it (a short peak is not
    missed), once a period while it stays below, and once more at the end."""
    import time

    import sim.batch.bench as bench

    sizes = iter([100, 300, 200] + [250] * 1000)  # a short peak, then flat below it
    reads: list[tuple[float, int]] = []
    monkeypatch.setattr(bench, "_tree", lambda pid: (next(sizes) * 2**20, {pid: 0}))
    monkeypatch.setattr(bench, "_proportional", lambda pids: reads.append((time.monotonic(), 0)) or 90 * 2**20)
    with TreeMemory(interval=0.01, pss_interval=0.2) as mem:
        time.sleep(0.5)
    assert mem.peak == 300 * 2**20 and mem.peak_pss == 90 * 2**20
    times = [t for t, _ in reads]
    # the first sample, the peak of 300, then at 0.2 and 0.4 s, and at the end
    assert 4 <= len(times) <= 6, len(times)
    assert all(b - a >= 0.2 for a, b in zip(times[1:-2], times[2:-1], strict=True))


def test_tree_memory_sees_the_proportional_size_of_a_child_that_lives_for_a_moment():
    """A worker that holds 200 MB for 0.3 s, well within one period of the proportional size."""
    import subprocess
    import sys

    code = "import numpy as np, time; a = np.ones(200 * 2**20 // 8); time.sleep(0.3)"
    with TreeMemory(interval=0.02) as mem:
        subprocess.run([sys.executable, "-c", code], check=True)
    assert mem.peak > 200 * 2**20 and mem.peak_pss > 200 * 2**20


def test_engine_paths_side_by_side(doctrine):
    spec = load_scenario(SCENARIO, doctrine)
    ctx = Context.build(doctrine, spec, spec.levers()[0])
    row = measure_engines(ctx, runs=600, chunk=300, rounds=1)
    assert row["runs"] == 600
    for name in ("numpy", "numba"):
        assert row[name]["runs_per_cpu_second"] > 0 and row[name]["cpu_seconds"] > 0
    assert row["ratio"] == row["numba"]["runs_per_cpu_second"] / row["numpy"]["runs_per_cpu_second"]


def test_state_bytes_grow_with_the_roster_and_the_floor_follows(doctrine):
    """The per-run state is about a kilobyte and a half and grows with the members; the floor's rate is the copy
    bandwidth over state times weeks."""
    spec = load_scenario(SCENARIO, doctrine)
    state = state_bytes_per_run(Context.build(doctrine, spec, spec.levers()[0]), chunk=200)
    twins = doubled_roster(doctrine)
    doubled = state_bytes_per_run(Context.build(twins, spec, spec.levers()[0]), chunk=200)
    assert 500 < state < 5000 and doubled > state + 12 * 8
    floor = memory_floor(Context.build(doctrine, spec, spec.levers()[0]), 10_000.0, chunk=1000)
    assert floor["runs_per_cpu_second"] == pytest.approx(
        floor["copy_bytes_per_second"] / (floor["state_bytes_per_run"] * spec.horizon_weeks))
    assert floor["times_the_floor"] == pytest.approx(floor["runs_per_cpu_second"] / 10_000.0)


def test_compile_cost_is_measured_cold_and_cached():
    cost = measure_compile()
    assert cost["cold_seconds"] > 0 and cost["cached_seconds"] > 0 and cost["this_process_seconds"] >= 0


def test_tables_measured_in_fresh_processes(tmp_path):
    row = measure_tables(SCENARIO, runs=1_000, workers=1, chunk_size=500)
    for kind in ("aggregates_only", "with_tables"):
        assert 20 < row[kind]["peak_rss_mib"] < 4096 and row[kind]["cpu_seconds"] > 0
        by_process = row[kind]["cpu_seconds_by_process"]  # the command itself, then what it started
        assert by_process and min(by_process) >= 0 and sum(by_process) == pytest.approx(row[kind]["cpu_seconds"])
    assert row["tables_cpu_cost"] == pytest.approx(
        row["with_tables"]["cpu_seconds"] / row["aggregates_only"]["cpu_seconds"] - 1.0)
    assert row["tables_cpu_cost_range"] == [row["tables_cpu_cost"]] * 2
    assert row["tables_cpu_seconds"] == pytest.approx(
        row["with_tables"]["cpu_seconds"] - row["aggregates_only"]["cpu_seconds"])
    with pytest.raises(RuntimeError, match="failed with status 2"):
        measure_tables(tmp_path / "missing.yaml", runs=10, workers=1, chunk_size=10)
    with pytest.raises(ValueError, match="pairs must be at least 1, got 0"):
        measure_tables(SCENARIO, runs=10, workers=1, chunk_size=10, pairs=0)


def test_tables_cost_is_the_median_of_pairs_with_its_range_and_memory_its_highest(monkeypatch):
    """Three pairs measured: the cost is that of the middle pair, the range spans the others, each command's CPU
    time is its median and its peak memory the highest of the three."""
    import sim.batch.bench as bench

    # aggregates only then with tables, three times: the tables add 5, 2 and 3 CPU-seconds
    cpu = iter([10.0, 15.0, 8.0, 10.0, 12.0, 15.0])
    peaks = iter([100.0, 400.0, 300.0, 200.0, 150.0, 250.0])
    seen = []

    def fake(args):
        seen.append("--events" in args)
        c, p = next(cpu), next(peaks)
        return {"seconds": c / 2, "cpu_seconds": c, "peak_rss_mib": p, "peak_pss_mib": p / 2,
                "cpu_seconds_by_process": [c - 1.0, 1.0]}

    monkeypatch.setattr(bench, "measure_command", fake)
    row = bench.measure_tables(SCENARIO, runs=100, workers=1, chunk_size=50, pairs=3)
    assert seen == [False, True] * 3  # each pair: aggregates only, then tables, in the same minutes
    assert row["tables_cpu_seconds"] == 3.0 and row["tables_cpu_seconds_range"] == [2.0, 5.0]
    assert row["tables_cpu_cost"] == pytest.approx(0.25)  # 15 / 12 - 1, the pair that adds the median 3 s
    assert row["tables_cpu_cost_range"] == pytest.approx([0.25, 0.5])
    assert row["aggregates_only"]["cpu_seconds"] == 10.0 and row["with_tables"]["cpu_seconds"] == 15.0
    assert row["aggregates_only"]["peak_rss_mib"] == 300.0 and row["with_tables"]["peak_rss_mib"] == 400.0
    assert row["with_tables"]["peak_pss_mib"] == 200.0
    assert row["with_tables"]["cpu_seconds_by_process"] == [14.0, 1.0]  # the middle pair's
    assert [p["with_tables_cpu_seconds"] for p in row["pairs"]] == [15.0, 10.0, 15.0]


def test_the_process_tree_is_found_from_children_lists_and_from_parents_alike():
    """Both ways of finding a process's descendants give the same tree (a child and a grandchild here)."""
    import signal
    import subprocess
    import sys
    import time

    import sim.batch.bench as bench

    code = ("import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(5)']); "
            "time.sleep(5)")
    child = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    try:
        deadline = time.monotonic() + 5
        while len(bench._descendants_by_parent(os.getpid())) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        tree = bench._descendants(os.getpid())
        assert child.pid in tree and len(tree) >= 3
        assert tree == bench._descendants_by_parent(os.getpid())
        rss, ticks = bench._tree(os.getpid())
        assert set(ticks) == tree and rss > 0
    finally:
        os.killpg(child.pid, signal.SIGKILL)  # the grandchild too
        child.wait()


def test_a_shortened_scenario_still_chooses_its_chunk_size_from_its_runs(doctrine, tmp_path):
    """The harness changes a scenario's horizon and its runs: a chunk size the file leaves out is chosen again from
    the runs each measurement has, as `escalation run` would; one the file gives is kept."""
    from sim.spec.loading import with_overrides
    from sim.spec.scenario import auto_chunk_size

    text = SCENARIO.read_text(encoding="utf-8").replace("runs: 20000", "runs: 2000")
    (tmp_path / "small.yaml").write_text(text, encoding="utf-8")
    spec = load_scenario(tmp_path / "small.yaml", doctrine)
    assert spec.chunk_size == 2000 and spec.chunk_size_chosen
    short = with_horizon(spec, doctrine, 10)
    assert short.chunk_size_chosen and with_overrides(short, doctrine, runs=100_000).chunk_size == 10_000
    assert auto_chunk_size(1_000_000, tables=False) == 25_000
    (tmp_path / "given.yaml").write_text(text + "chunk_size: 700\n", encoding="utf-8")
    given = with_horizon(load_scenario(tmp_path / "given.yaml", doctrine), doctrine, 10)
    assert not given.chunk_size_chosen and with_overrides(given, doctrine, runs=100_000).chunk_size == 700
