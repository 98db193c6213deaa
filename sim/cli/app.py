"""The ``escalation`` command line: parse, load, call one library function, print.

Each command lives in a module of its own (``run``, ``compare``, ``trace``, ``plot``, ``inspect`` for validate,
schema, list and explain, ``bench``); this one makes the Typer app and registers them. Every error caused by the
user's input is printed as one message on standard error with exit status 2.
"""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from sim.cli import analyse, bench, calibrate, compare, inspect, plot, run, runs, serve, sweep, trace
from sim.cli.common import err
from sim.engine.kernels import engine
from sim.errors import SimError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Escalation scenario simulator: Monte Carlo batches of an agent-based model of Russia, NATO members, "
    "Ukraine and third countries. Exploratory, not a forecast.",
)
app.command()(run.run)
app.command()(inspect.validate)
app.command()(inspect.schema)
app.command("list")(inspect.list_)
app.command()(compare.compare)
app.command()(trace.trace)
app.command()(plot.plot)
app.command()(bench.bench)
app.command()(calibrate.calibrate)
app.command()(inspect.explain)
app.command("app")(serve.app)
app.command()(sweep.sweep)
app.command()(runs.runs)
app.command()(analyse.analyse)


def main() -> None:
    """Entry point of the ``escalation`` script and of ``python -m sim``."""
    try:
        engine()  # a bad $ESCALATION_ENGINE is refused before any command starts (sim/engine/kernels.py)
        app()
    except SimError as exc:  # a user error that escaped a command: still no traceback
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
