"""One batch into one write-once results folder: the resource guard, the folder, stop signals and resume.

:func:`run_to_folder` is the one way a batch reaches a results folder (``escalation run`` and ``escalation compare``
both use it): the batch's memory and disk needs are checked before anything is written, a new folder is made (or
an unfinished one reopened), and the chunks it lacks are computed and saved as they finish. Ctrl-C or SIGTERM
leaves the folder marked ``interrupted``, resumable with the same results as a batch never stopped.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.batch import guard
from sim.batch.chunks import Batch, Chunk, plan_chunks
from sim.batch.cluster import SchedulerLost
from sim.batch.executors import BatchOutcome, Execution, WorkerLost, execute
from sim.batch.stopping import (
    answer_stop,
    came_from_a_stop,
    ctrl_c_ignored,
    holding_stops,
    raise_if_stopped,
    stop_signals,
)
from sim.engine.aggregates import Aggregates
from sim.engine.model import ChunkResult
from sim.errors import InputError, SimError
from sim.output.folder import ResultsWriter
from sim.output.plans import RESUME_RUN, BatchPlan


class BatchStopped(SimError):
    """A batch stopped before it was complete; its folder is marked interrupted and can be resumed."""

    def __init__(self, message: str, folder: Path, exit_code: int = 1, resume_command: str = RESUME_RUN, *,
                 complete: bool = False) -> None:
        self.reason = message
        self.folder = folder
        self.exit_code = exit_code
        if complete:  # stopped after the results were whole: nothing to resume
            super().__init__(f"{message}; the results are complete in {folder} (draw its charts with: escalation "
                             f"plot {folder})")
            return
        super().__init__(f"{message}; finished chunks are kept in {folder}. Resume with: {resume_command} {folder}")


def run_batch(
    batch: Batch,
    writer: ResultsWriter,
    *,
    executor: str = "process",
    workers: int = 1,
    address: str | None = None,
    aggregates: dict[str, Aggregates] | None = None,
    on_chunk: Callable[[Chunk], None] | None = None,
    resume_command: str = RESUME_RUN,
) -> tuple[dict[str, Any], BatchOutcome]:
    """Run the chunks the writer's folder lacks, saving each as it finishes; finish the folder.

    Ctrl-C or a termination signal stops the batch at once (its worker processes are ended) and marks the folder
    interrupted, as does a worker lost twice, a full disk or any other error: every chunk finished by then is kept
    and ``escalation run --resume`` computes the others. Raises :class:`BatchStopped` in all those cases.
    """
    todo = [c for c in plan_chunks(batch.runs, batch.scenario.chunk_size) if c.index not in writer.done]
    t0 = time.perf_counter()
    state = aggregates if aggregates is not None else {v: Aggregates(horizon=batch.scenario.horizon_weeks)
                                                      for v in batch.variants}

    def save(chunk: Chunk, results: list[ChunkResult]) -> None:
        writer.add_chunk(results, state)
        if on_chunk is not None:
            on_chunk(chunk)

    reason, code = None, 1
    with stop_signals():
        try:
            raise_if_stopped()  # one that came while the folder was being opened
            if writer.redo:  # finished chunks whose saved rows were damaged: their rows again, their sums kept
                by_index = {c.index: c for c in plan_chunks(batch.runs, batch.scenario.chunk_size)}
                execute(batch, executor=executor, workers=workers, address=address,
                        chunks=[by_index[i] for i in writer.redo],
                        on_finished=lambda chunk, results: writer.add_chunk(results, state))
                writer.redo = []
            outcome = execute(batch, executor=executor, workers=workers, address=address, chunks=todo,
                              aggregates=state, on_finished=save)
            outcome.wall_seconds = time.perf_counter() - t0
            summary = writer.finish(state, outcome.wall_seconds)
            return summary, outcome
        except KeyboardInterrupt:
            answer_stop()
            reason, code = "interrupted", 130
        except (WorkerLost, SchedulerLost) as exc:
            reason = str(exc)
        except OSError as exc:
            reason = f"cannot write the results ({exc.strerror or exc})"
        except Exception as exc:  # a failure of the model itself: still keep what is finished
            if came_from_a_stop(exc):  # a stop an extension turned into its own error: a stop all the same
                answer_stop()
                reason, code = "interrupted", 130
            else:
                reason = " ".join(f"the batch failed ({type(exc).__name__}: {exc})".split())  # one line
    if writer.manifest["status"] == "complete":  # stopped while tidying up: the results are whole
        with ctrl_c_ignored(), contextlib.suppress(OSError):
            writer.tidy()
        writer.release()
        raise BatchStopped(f"{reason} while removing the chunk parts", writer.folder, code, complete=True)
    total = len(plan_chunks(batch.runs, batch.scenario.chunk_size))
    stopped = f"{reason} after {len(writer.done)} of {total} chunks"
    with ctrl_c_ignored():  # a second Ctrl-C must not cut the manifest short
        try:
            writer.finish(state, time.perf_counter() - t0, status="interrupted", reason=reason)
        except OSError as exc:  # the disk is full or read-only: the folder stays as the last chunk left it
            writer.release()
            stopped += (f" (the folder could not be marked interrupted either: {exc.strerror or exc}; it is "
                        "resumable all the same once the disk can be written)")
    raise BatchStopped(stopped, writer.folder, code, resume_command)


@dataclass(frozen=True)
class BatchStart:
    """A batch about to compute its chunks (its folder made, the guard passed): what a progress bar shows."""

    name: str
    folder: Path
    #: Runs per variant in all, and those already done (a resumed batch).
    runs: int
    runs_done: int
    variants: int
    estimate: guard.Estimate
    #: The folder that ``--resume`` finishes if the batch is stopped.
    resume_folder: Path


@dataclass(frozen=True)
class FolderRun:
    """A batch run into its results folder: the summary, the executor's outcome, the runs computed now."""

    folder: Path
    summary: dict[str, Any]
    outcome: BatchOutcome
    #: Runs per variant computed by this call (fewer than the batch's when it was resumed).
    runs_computed: int
    variants: int
    execution: Execution


def check_resources(plan: BatchPlan, execution: Execution) -> guard.Estimate:
    """The guard's estimate of what the runs still to do need; :class:`InputError` if they cannot fit."""
    spec = plan.scenario
    done = plan.runs_done(plan.chunks_done) if plan.resume is not None else 0
    extra = 0
    if done:  # a resumed batch joins the rows it already has: the manifest's record of them is enough here
        extra = guard.estimate(runs=done, weeks=spec.horizon_weeks, variants=len(plan.variants),
                               chunk_size=spec.chunk_size, workers=1, record_runs=plan.record_runs,
                               record_events=plan.record_events).disk_bytes
    return guard.check(runs=spec.runs - done, weeks=spec.horizon_weeks, variants=len(plan.variants),
                       chunk_size=spec.chunk_size, workers=execution.workers, record_runs=plan.record_runs,
                       record_events=plan.record_events, out=plan.resume or plan.out,
                       in_process=execution.in_process, check_memory=not execution.address,
                       disk_extra_bytes=extra)


def open_folder(plan: BatchPlan, execution: Execution,
                command: list[str] | None = None) -> tuple[ResultsWriter, dict[str, Aggregates] | None]:
    """A writer on a new results folder, or on the unfinished one reopened with its merged aggregates."""
    try:
        return _open_folder(plan, execution, command)
    except OSError as exc:  # a folder that cannot be written (read-only, full): one message, nothing half-made
        raise InputError(f"cannot write in the results folder ({exc.strerror or exc})", key="--out",
                         found=str(plan.resume or plan.out)) from None


def _open_folder(plan: BatchPlan, execution: Execution,
                 command: list[str] | None = None) -> tuple[ResultsWriter, dict[str, Aggregates] | None]:
    if plan.resume is not None:
        return ResultsWriter.reopen(plan.resume, plan.doctrine, plan.scenario, executor=execution.executor,
                                    workers=execution.workers, command=command)
    writer = ResultsWriter(plan.out, plan.doctrine, plan.scenario, plan.variants, record_runs=plan.record_runs,
                           record_events=plan.record_events, executor=execution.executor, workers=execution.workers,
                           command=command, scenario_file=plan.scenario_file, configs=plan.configs)
    return writer, None


def run_to_folder(
    plan: BatchPlan,
    execution: Execution | None = None,
    *,
    command: list[str] | None = None,
    on_start: Callable[[BatchStart], None] | None = None,
    on_chunk: Callable[[Chunk], None] | None = None,
    resume_folder: Path | None = None,
) -> FolderRun:
    """Run a batch into a write-once results folder: guarded, interruptible and resumable.

    The guard refuses (:class:`sim.errors.InputError`, nothing written) a batch that would not fit in memory or on
    disk. Then a new folder is made under ``plan.out`` (or ``plan.resume`` is reopened: only its missing chunks
    are computed), ``on_start`` is told, and each chunk is saved as it finishes (``on_chunk`` sees it). A stop
    signal, a worker lost twice or a full disk marks the folder interrupted and raises :class:`BatchStopped`,
    whose message says how to resume (``plan.resume_command`` and ``resume_folder``, by default the folder).

    Args:
        command: the command line, recorded in the manifest.
    """
    execution = execution or Execution()
    est = check_resources(plan, execution)
    computed = [0]

    def chunk_done(chunk: Chunk) -> None:
        computed[0] += chunk.size
        if on_chunk is not None:
            on_chunk(chunk)

    with stop_signals():
        with holding_stops():  # a stop while the folder is being made waits until it is whole, then stops the batch
            writer, aggregates = open_folder(plan, execution, command)
            done = plan.runs_done(writer.done)
            if on_start is not None:
                on_start(BatchStart(plan.scenario.name, writer.folder, plan.scenario.runs, done, len(plan.variants),
                                    est, resume_folder or writer.folder))
        try:
            summary, outcome = run_batch(plan.batch(), writer, executor=execution.executor,
                                         workers=execution.workers, address=execution.address,
                                         aggregates=aggregates, on_chunk=chunk_done,
                                         resume_command=plan.resume_command)
        except KeyboardInterrupt:  # a stop in the instant before the batch's own handling began, or a second one
            answer_stop()
            if writer.manifest["status"] != "complete":
                with ctrl_c_ignored(), contextlib.suppress(OSError):
                    writer.finish({}, 0.0, status="interrupted", reason="interrupted")
                writer.release()
            raise BatchStopped("interrupted", writer.folder, 130, plan.resume_command) from None
    return FolderRun(writer.folder, summary, outcome, computed[0], len(plan.variants), execution)
