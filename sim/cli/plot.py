"""``escalation plot``: redraw a results folder's charts and report from its files; the progress of drawing, shared
with ``escalation run``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sim.cli.common import err, fail, out, print_json
from sim.errors import SimError

ResultsDir = Annotated[Path, typer.Argument(
    metavar="RESULTS_DIR", help="A results folder written by 'escalation run' or 'escalation compare'.",
    show_default=False)]
Json = Annotated[bool, typer.Option("--json", help="Print the files written as JSON.")]
Svg = Annotated[bool, typer.Option("--svg", help="Save every chart as SVG as well as PNG (the report embeds PNG).")]
ChartWorkers = Annotated[int | None, typer.Option(
    "--chart-workers", min=1, help="Processes drawing the charts (default: one per core, at most 4).")]


def formats(svg: bool) -> tuple[str, ...]:
    """The chart formats: PNG, and SVG when asked.

    >>> formats(False), formats(True)
    (('png',), ('png', 'svg'))
    """
    return ("png", "svg") if svg else ("png",)


@contextmanager
def drawing_progress() -> Iterator[Callable[[int, int, str], None]]:
    """A progress bar on standard error for drawing charts and writing the report; yields its ``on_progress``."""
    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[what]}"), TimeElapsedColumn(), console=err, transient=True)
    task = bar.add_task("drawing charts", total=None, what="")

    def tell(done: int, total: int, what: str) -> None:
        if what == "report.html":
            bar.update(task, description="writing the report", what=what,
                       completed=bar.tasks[0].total or 0)
        else:
            bar.update(task, total=total, completed=done, what=what)

    with bar:
        yield tell


def plot(results_dir: ResultsDir, svg: Svg = False, chart_workers: ChartWorkers = None, as_json: Json = False) -> None:
    """Redraw the report's charts (and the report) of a results folder from its files, without running the model."""
    from sim.present.publish import redraw

    try:
        with drawing_progress() as tell:
            files, report = redraw(results_dir, formats=formats(svg), on_progress=tell, workers=chart_workers)
    except SimError as exc:
        fail(exc)
    if as_json:
        print_json({"charts": [str(f) for f in files], "report": str(report) if report else None})
        return
    out.print(f"{len(files)} chart files redrawn in {results_dir / 'charts'}", highlight=False)
    if report:
        out.print(f"report: {report}", highlight=False)
