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
from sim.present.text import plain as safe_text

T = TypeVar("T")

if TYPE_CHECKING:  # the batch modules load the model: only the commands that run one import them
    from sim.batch.chunks import Chunk
    from sim.output.running import BatchStart


def plain(text: str) -> str:
    """Text as a terminal may show it: ANSI and OSC escape sequences and every other control character removed
    (newlines and tabs kept), so a title cannot move the cursor, retitle the window or hide what follows.

    >>> plain("Costs \x1b[31mred\x1b[0m\x1b]0;owned\x07!\x07")
    'Costs red!'
    """
    return safe_text(text)


def plain_data(data: T) -> T:
    """``data`` (JSON-like: dicts, lists, text, numbers) with every text passed through :func:`plain`."""
    if isinstance(data, str):
        return plain(data)  # type: ignore[return-value]
    if isinstance(data, dict):
        return {plain_data(k): plain_data(v) for k, v in data.items()}  # type: ignore[return-value]
    if isinstance(data, list):
        return [plain_data(v) for v in data]  # type: ignore[return-value]
    return data


class _TextConsole(Console):
    """A console that prints no control character it was given (a path or a name may hold an escape sequence),
    and never breaks a line of text (paths above all) at the console's width."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        if all(isinstance(o, str) for o in objects):
            kwargs.setdefault("soft_wrap", True)
        super().print(*(plain(o) if isinstance(o, str) else o for o in objects), **kwargs)


class _PlainConsole(_TextConsole):
    """A text console without markup: what it prints is shown as the characters it holds."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        kwargs["markup"] = False
        super().print(*objects, **kwargs)


#: Standard error: messages, their own markup (``[bold red]error:[/]``) and the user's text escaped by the caller.
err = _TextConsole(stderr=True)
#: Standard output: user text (titles, names, notes) and paths print as text, whatever they hold.
out = _PlainConsole(width=None if sys.stdout.isatty() else 160, markup=False)

#: ``--configs``, taken by every command that reads the doctrine.
Configs = Annotated[Path | None, typer.Option("--configs", help="Doctrine folder (default: the shipped configs/).")]


def fail(exc: SimError) -> NoReturn:
    """Print a user error and exit with its status (2 for input errors)."""
    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(exc.exit_code)


def print_json(data: Any) -> None:
    """``data`` as indented, strict JSON (no NaN or Infinity) on standard output."""
    sys.stdout.write(json.dumps(data, indent=2, allow_nan=False) + "\n")
    sys.stdout.flush()  # a command that goes on (the app) is read while it runs


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
        TextColumn("runs x variants  {task.fields[rate]}"),
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
        # total, done and rate all count runs times variants: a chunk computes its runs in every variant
        self._task = self._bar.add_task(start.name, total=start.runs * start.variants,
                                        completed=start.runs_done * start.variants, rate="")
        self._t0, self._computed, self._variants = time.perf_counter(), 0, start.variants

    def chunk(self, chunk: Chunk) -> None:
        """A chunk of the batch is finished and saved."""
        if self._bar is None or self._task is None:
            return
        self._computed += chunk.size * self._variants
        elapsed = max(time.perf_counter() - self._t0, 1e-9)
        self._bar.update(self._task, advance=chunk.size * self._variants, rate=f"{self._computed / elapsed:,.0f}/s")

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def prepare_engine() -> None:
    """On a machine's first batch, compile the engine's kernels here, saying so, rather than unannounced in every
    worker at its first chunk; later batches load them from numba's cache and print nothing."""
    from sim.engine import kernels

    if kernels.engine() == "numba" and kernels.compiled_on_disk() is False:
        err.print("compiling the engine's kernels (once on this machine) ...", highlight=False)
        err.print(f"compiled in {kernels.warm_up():.1f} s; later batches load them from the cache", highlight=False)


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
