"""``escalation plot``: redraw a results folder's charts and report from its files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import fail, out, print_json
from sim.errors import SimError

ResultsDir = Annotated[Path, typer.Argument(
    metavar="RESULTS_DIR", help="A results folder written by 'escalation run' or 'escalation compare'.",
    show_default=False)]
Json = Annotated[bool, typer.Option("--json", help="Print the files written as JSON.")]


def plot(results_dir: ResultsDir, as_json: Json = False) -> None:
    """Redraw every chart (and the report) of a results folder from its files, without running the model."""
    from sim.present.publish import redraw

    try:
        files, report = redraw(results_dir)
    except SimError as exc:
        fail(exc)
    if as_json:
        print_json({"charts": [str(f) for f in files], "report": str(report) if report else None})
        return
    out.print(f"{len(files)} chart files redrawn in {results_dir / 'charts'}", highlight=False)
    if report:
        out.print(f"report: {report}", highlight=False)
