"""One batch into one write-once results folder: the resource guard, the folder, stop signals and resume.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.batch.chunks import Batch, Chunk, plan_chunks
from sim.batch.executors import BatchOutcome, WorkerLost, execute
from sim.batch.stopping import stop_signal_handler
from sim.engine.aggregates import Aggregates
from sim.engine.model import ChunkResult
from sim.errors import SimError
from sim.output.folder import ResultsWriter


class BatchStopped(SimError):
    """A batch stopped before it was complete; its folder is marked interrupted and can be resumed."""

    def __init__(self, message: str, folder: Path, exit_code: int = 1) -> None:
        self.folder = folder
        self.exit_code = exit_code
        super().__init__(f"{message}; finished chunks are kept in {folder}. "
                         f"Resume with: escalation run --resume {folder}")


def run_batch(
    batch: Batch,
    writer: ResultsWriter,
    *,
    executor: str = "process",
    workers: int = 1,
    address: str | None = None,
    aggregates: dict[str, Aggregates] | None = None,
    on_chunk: Callable[[Chunk], None] | None = None,
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

    in_main = threading.current_thread() is threading.main_thread()
    stops = (signal.SIGINT, signal.SIGTERM) if in_main else ()
    previous = {sig: signal.signal(sig, stop_signal_handler) for sig in stops}
    reason, code = None, 1
    try:
        outcome = execute(batch, executor=executor, workers=workers, address=address, chunks=todo,
                          aggregates=state, on_finished=save)
        outcome.wall_seconds = time.perf_counter() - t0
        summary = writer.finish(state, outcome.wall_seconds)
        return summary, outcome
    except KeyboardInterrupt:
        reason, code = "interrupted", 130
    except WorkerLost as exc:
        reason = str(exc)
    except OSError as exc:
        reason = f"cannot write the results ({exc.strerror or exc})"
    except Exception as exc:  # a failure of the model itself: still keep what is finished
        reason = f"the batch failed ({type(exc).__name__}: {exc})"
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if writer.manifest["status"] == "complete":  # stopped while tidying up: the results are whole
        raise BatchStopped(f"{reason} while removing the chunk parts", writer.folder, code)
    previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main else None
    try:  # a second Ctrl-C must not cut the manifest short
        writer.finish(state, time.perf_counter() - t0, status="interrupted", reason=reason)
    finally:
        if previous_int is not None:
            signal.signal(signal.SIGINT, previous_int)
    total = len(plan_chunks(batch.runs, batch.scenario.chunk_size))
    raise BatchStopped(f"{reason} after {len(writer.done)} of {total} chunks", writer.folder, code)
