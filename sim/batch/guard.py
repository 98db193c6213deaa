"""Resource guard: a batch that cannot fit in memory or on disk is refused before it starts, not killed halfway.

The estimates are deliberately simple and on the generous side. They were measured on the shipped doctrine (about 25
actors, 52 weeks): a chunk's model state takes about 45 bytes per run and week while a variant is stepped, and up to
600 more per run and week when events are recorded (a run made about 0.85 acts a week then, 1.05 now, each held as
Python objects until the chunk ends); a finished chunk's result takes about 450 bytes per run and variant, plus
about 55 per act, and is copied once more when it is sent from a worker; a process with the model loaded takes about
150 MB. A batch of 10,000 runs of 5 variants in chunks of 5,000 on 2 workers with events peaked at about 1.5 GB
resident in all its processes, against an estimate of 1.4 GB (the check adds half again); without events, 630 MB
against 710 MB. On disk, while a batch runs each finished chunk is kept as parts (a per-run row about 500 bytes of
uncompressed Arrow IPC, an act about 3 bytes of integer codes in lz4), and when it completes the parts are joined into
the final tables (a per-run row about 410 bytes, an act about 6, Parquet with lz4) before they are removed: measured
on chunks of 10,000 runs of the shipped scenario (131 per-run columns, 1.05 acts a run and week); the estimates
below are those sizes rounded up by about a tenth, and the check adds half again.

>>> e = estimate(runs=10_000, weeks=52, variants=5, chunk_size=5_000, workers=2, record_runs=True, record_events=True)
>>> 0 < e.disk_bytes < 100 * 2**20 and e.memory_bytes > 300 * 2**20
True
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from sim.errors import InputError

#: Resident memory of one process with the model loaded.
PROCESS_BYTES = 150 * 2**20
#: Working memory while one variant of a chunk is stepped, per run and week.
STATE_BYTES_PER_RUN_WEEK = 45
#: Extra working memory per run and week when events are recorded.
EVENT_STATE_BYTES_PER_RUN_WEEK = 600
#: Acts per run and week (events.parquet rows): 546,728 in 10,000 runs of 52 weeks of the shipped scenario.
ACTS_PER_RUN_WEEK = 1.05
#: A finished chunk's result held in memory, per run and variant, and per act.
RESULT_BYTES_PER_RUN = 450
RESULT_BYTES_PER_ACT = 55
#: Disk bytes per per-run row and per event row: in the chunk parts, then in the joined tables (both are on disk
#: while the parts are joined).
PART_BYTES_PER_RUN_ROW = 550
PART_BYTES_PER_EVENT_ROW = 4
DISK_BYTES_PER_RUN_ROW = 450
DISK_BYTES_PER_EVENT_ROW = 7
#: Disk bytes per chunk whatever its size: the footers of its parts and its row groups' metadata in the joined
#: tables (a per-run part of one row takes 29 KB, a row group of the joined table about 13 KB more).
DISK_BYTES_PER_CHUNK = 64 * 2**10
#: Stepping time per run, week and variant on one core, in seconds, with per-run rows and events recorded
#: (measured: 120,000 run-variants of 52 weeks in 16.4 s on one worker); aggregates only take about half.
SECONDS_PER_RUN_WEEK = 3e-6
#: Margins: estimates are multiplied by this before they are compared with what is available.
SAFETY = 1.5
#: Memory and disk always left free.
RESERVE_BYTES = 256 * 2**20
#: Disk for a folder's charts, report and JSON files, needed with or without per-run tables (a folder of the
#: shipped scenario with six variants measured 7.3 MiB of charts; about twice that).
CHART_BYTES = 16 * 2**20


@dataclass(frozen=True)
class Estimate:
    """What a batch is expected to need: peak memory, disk for its tables, and time."""

    memory_bytes: int
    #: the chunk parts and the joined tables, both on disk at the end of the batch
    disk_bytes: int
    seconds: float
    chunk_bytes: int


def estimate(*, runs: int, weeks: int, variants: int, chunk_size: int, workers: int, record_runs: bool,
             record_events: bool, in_process: bool = False) -> Estimate:
    """Estimate the peak memory, the disk and the time of a batch (``runs`` still to do, per variant).

    Memory counts each worker's process and the chunk it steps, plus the finished results the parent holds (at
    most two chunks per worker are in flight). ``in_process`` is a batch run by the parent alone.
    """
    chunk = min(chunk_size, max(runs, 1))
    events = record_runs and record_events
    state = chunk * weeks * (STATE_BYTES_PER_RUN_WEEK + (EVENT_STATE_BYTES_PER_RUN_WEEK if events else 0))
    per_run = RESULT_BYTES_PER_RUN + (weeks * ACTS_PER_RUN_WEEK * RESULT_BYTES_PER_ACT if events else 0)
    result = chunk * variants * per_run
    chunk_bytes = int(state + result)
    n_chunks = math.ceil(runs / chunk) if runs else 0
    if in_process or workers <= 1 or n_chunks <= 1:
        memory = PROCESS_BYTES + chunk_bytes
        parallel = 1
    else:
        # each worker: its process, the chunk, and the pickled copy of its result on the way out; the parent and
        # the fork server: their processes, and up to two results per worker in flight
        parallel = min(workers, n_chunks)
        memory = 2 * PROCESS_BYTES + parallel * (PROCESS_BYTES + chunk_bytes + int(result)) + 2 * parallel * int(result)
    rows = runs * variants if record_runs else 0
    event_rows = int(rows * weeks * ACTS_PER_RUN_WEEK) if events else 0
    disk = (rows * (PART_BYTES_PER_RUN_ROW + DISK_BYTES_PER_RUN_ROW)
            + event_rows * (PART_BYTES_PER_EVENT_ROW + DISK_BYTES_PER_EVENT_ROW)
            + (n_chunks * DISK_BYTES_PER_CHUNK if record_runs else 0))
    seconds = runs * variants * weeks * SECONDS_PER_RUN_WEEK / parallel
    return Estimate(memory_bytes=int(memory), disk_bytes=int(disk), seconds=seconds, chunk_bytes=chunk_bytes)


def available_memory() -> int | None:
    """Bytes of memory this process may still use: the system's available memory, capped by a cgroup limit."""
    found: list[int] = []
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
                    break
    except (OSError, ValueError, IndexError):
        with contextlib.suppress(ValueError, OSError, AttributeError):
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = Path("/sys/fs/cgroup/memory.current").read_text().strip()
        if limit != "max":
            found.append(int(limit) - int(used))
    except (OSError, ValueError):
        pass
    return min(found) if found else None


def free_disk(path: str | Path) -> int | None:
    """Free bytes on the file system that holds ``path`` (or its nearest existing parent)."""
    p = Path(path).absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        return shutil.disk_usage(p).free
    except OSError:
        return None


def _mib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:,.0f} MiB"


def check(*, runs: int, weeks: int, variants: int, chunk_size: int, workers: int, record_runs: bool,
          record_events: bool, out: str | Path, in_process: bool = False, check_memory: bool = True,
          disk_extra_bytes: int = 0) -> Estimate:
    """Refuse (:class:`InputError`, exit status 2) a batch that would not fit; return its estimate otherwise.

    Args:
        runs: runs still to compute, per variant.
        disk_extra_bytes: disk needed beyond the new rows (a resumed batch joins the rows it already has).
        check_memory: False when the work runs on other machines (a Dask scheduler).
    """
    est = estimate(runs=runs, weeks=weeks, variants=variants, chunk_size=chunk_size, workers=workers,
                   record_runs=record_runs, record_events=record_events, in_process=in_process)
    if check_memory:
        avail = available_memory()
        need = est.memory_bytes * SAFETY + RESERVE_BYTES
        if avail is not None and need > avail:
            parallel = 1 if in_process else max(1, min(workers, math.ceil(runs / max(chunk_size, 1))))
            per_run = est.chunk_bytes / max(min(chunk_size, runs), 1)
            room = (avail - RESERVE_BYTES) / SAFETY - PROCESS_BYTES * (1 + (0 if parallel == 1 else parallel))
            fits = int(room / (per_run * parallel * 3)) if room > 0 else 0
            tips = []
            if fits >= 1:
                tips.append(f"a smaller --chunk-size (about {min(fits, chunk_size - 1):,} fits)")
            if parallel > 1:
                tips.append("fewer --workers")
            if record_runs and record_events:
                tips.append("--no-events")
            raise InputError(
                f"this batch needs about {_mib(need)} of memory, and {_mib(max(avail, 0))} is available",
                key="--chunk-size",
                hint="Try " + (", ".join(tips) if tips else "a machine with more memory"),
            )
    free = free_disk(out)
    tables = (est.disk_bytes + disk_extra_bytes) * SAFETY if record_runs else 0  # chunk parts and joined tables
    need_disk = tables + CHART_BYTES
    if free is not None and need_disk + RESERVE_BYTES > free:
        what = ("the per-run tables and charts need" if record_runs else "the charts and report need")
        tips = ["--no-events"] if record_runs and record_events else []
        tips += ["--no-runs (aggregates only)", "fewer --runs"] if record_runs else []
        tips += ["an --out folder on a larger disk"]
        raise InputError(
            f"{what} about {_mib(need_disk)} of disk, plus {_mib(RESERVE_BYTES)} always left free, and "
            f"{_mib(free)} is free",
            key="--out",
            found=str(out),
            hint="Try " + ", ".join(tips),
        )
    return est
