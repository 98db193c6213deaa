"""The resource guard: its estimates grow with the batch, and a batch that writes nothing passes a full disk.
Its refusals through ``escalation run`` are in tests/cli/test_run_refusals.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.batch import guard
from sim.errors import InputError


def test_guard_lets_an_aggregates_only_batch_through_a_full_disk(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    monkeypatch.setattr(guard, "free_disk", lambda path: 300 * 2**20)
    est = guard.check(runs=2_000_000, weeks=52, variants=5, chunk_size=10_000, workers=2, record_runs=False,
                      record_events=False, out=tmp_path, check_memory=False)
    assert est.disk_bytes == 0


def test_guard_estimates_grow_with_the_batch() -> None:
    base = dict(runs=10_000, weeks=52, variants=2, chunk_size=1_000, workers=2, record_runs=True, record_events=True)
    e = guard.estimate(**base)
    assert guard.estimate(**{**base, "chunk_size": 5_000}).memory_bytes > e.memory_bytes
    assert guard.estimate(**{**base, "record_events": False}).memory_bytes < e.memory_bytes
    assert guard.estimate(**{**base, "runs": 20_000}).disk_bytes == 2 * e.disk_bytes
    assert guard.estimate(**{**base, "weeks": 104}).seconds > e.seconds
    assert guard.estimate(**{**base, "record_runs": False}).disk_bytes == 0


def test_available_memory_and_disk_are_known_here(tmp_path: Path) -> None:
    assert (guard.available_memory() or 0) > 0
    assert (guard.free_disk(tmp_path / "not" / "yet") or 0) > 0


def test_a_disk_refusal_names_the_reserve_it_keeps(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(guard, "free_disk", lambda path: 300 * 2**20)
    with pytest.raises(InputError) as info:
        guard.check(runs=2_000_000, weeks=52, variants=5, chunk_size=10_000, workers=2, record_runs=True,
                    record_events=False, out=tmp_path, check_memory=False)
    assert f"plus {guard.RESERVE_BYTES // 2**20} MiB always left free" in str(info.value)


def test_an_aggregates_only_batch_still_needs_room_for_its_charts(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    monkeypatch.setattr(guard, "free_disk", lambda path: guard.RESERVE_BYTES + guard.CHART_BYTES // 2)
    with pytest.raises(InputError) as info:
        guard.check(runs=1_000, weeks=52, variants=2, chunk_size=500, workers=1, record_runs=False,
                    record_events=False, out=tmp_path, check_memory=False)
    assert "the charts and report need" in str(info.value) and "--no-runs" not in str(info.value)
