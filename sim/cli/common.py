"""What every command shares: the two consoles, user errors, JSON output, the progress bar of a batch."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from sim.errors import SimError

if TYPE_CHECKING:  # the batch modules load the model: only the commands that run one import them
    from sim.batch.chunks import Chunk
    from sim.output.running import BatchStart

err = Console(stderr=True)
out = Console(width=None if sys.stdout.isatty() else 160, markup=False)  # user text and paths print as they are

#: ``--configs``, taken by every command that reads the doctrine.
Configs = Annotated[Path | None, typer.Option("--configs", help="Doctrine folder (default: the shipped configs/).")]

T = TypeVar("T")


def fail(exc: SimError) -> NoReturn:
    """Print a user error and exit with its status (2 for input errors)."""
    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(exc.exit_code)


def print_json(data: Any) -> None:
    """``data`` as indented JSON on standard output."""
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def names(text: str | None) -> list[str] | None:
    """A comma-separated list of names (``--variants``), or None when not given.

    >>> names(" a, b,,"), names(None)
    (['a', 'b'], None)
    """
    return [v.strip() for v in text.split(",") if v.strip()] if text else None


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs  {task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )


class BatchProgress:
    """The progress bar of a batch on standard error, from when it starts (past the guard) to when it ends.

    ``start`` and ``chunk`` are the ``on_start`` and ``on_chunk`` of :func:`sim.output.running.run_to_folder`;
    several batches in a row get a bar each.
    """

    def __init__(self) -> None:
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._t0 = 0.0
        self._computed = 0
        self._variants = 1

    def start(self, start: BatchStart) -> None:
        """A batch starts: its folder is made and the guard let it through."""
        self.stop()
        if start.estimate.seconds > 120:
            err.print(f"estimated time: about {start.estimate.seconds / 60:,.0f} min; Ctrl-C stops it and keeps "
                      f"finished chunks (resume with --resume {start.resume_folder})", highlight=False, soft_wrap=True)
        self._bar = _progress()
        self._bar.start()
        self._task = self._bar.add_task(start.name, total=start.runs, completed=start.runs_done, rate="")
        self._t0, self._computed, self._variants = time.perf_counter(), 0, start.variants

    def chunk(self, chunk: Chunk) -> None:
        """A chunk of the batch is finished and saved."""
        if self._bar is None or self._task is None:
            return
        self._computed += chunk.size
        elapsed = max(time.perf_counter() - self._t0, 1e-9)
        self._bar.update(self._task, advance=chunk.size, rate=f"{self._computed * self._variants / elapsed:,.0f}/s")

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def with_progress(work: Callable[[BatchProgress], T]) -> T:
    """``work(progress)`` under a batch's progress bar; a user error or a stopped batch ends the command with its
    message and exit status (130 after Ctrl-C)."""
    progress = BatchProgress()
    try:
        return work(progress)
    except SimError as exc:
        progress.stop()
        fail(exc)
    finally:
        progress.stop()
