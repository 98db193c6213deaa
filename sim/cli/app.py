"""The ``escalation`` command line: parse, load, call one library function, print.

Each command lives in a module of its own (``run``, ``compare``, ``trace``, ``plot``, ``inspect`` for validate,
schema, list and explain, ``bench``); this one makes the Typer app and registers them. Every error caused by the
user's input is printed as one message on standard error with exit status 2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup
from typer.models import CommandFunctionType

from sim import __version__
from sim.cli import analyse, bench, calibrate, compare, inspect, plot, run, runs, serve, sweep, trace
from sim.cli.common import err, out
from sim.engine.kernels import engine
from sim.errors import SimError


def _no_flag_types(params: list[Any]) -> list[Any]:
    """The parameters, with flags shown without a type in the help: a flag takes no value, so ``<bool>`` misleads."""
    for p in params:
        if getattr(p, "is_flag", False) and getattr(p, "metavar", None) is None:
            p.metavar = ""
    return params


class _Command(TyperCommand):
    """A command whose help shows no type after a flag."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _no_flag_types(super().get_params(ctx))


class _Group(TyperGroup):
    """The command group, whose help shows no type after a flag either."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _no_flag_types(super().get_params(ctx))


class _App(typer.Typer):
    """The Typer app, each of whose commands gets the help of :class:`_Command`."""

    def command(self, name: str | None = None, *, cls: type[TyperCommand] | None = None,
                **kwargs: Any) -> Callable[[CommandFunctionType], CommandFunctionType]:
        return super().command(name, cls=cls or _Command, **kwargs)


app = _App(
    cls=_Group,
    no_args_is_help=True,
    rich_markup_mode="markdown",  # paragraphs reflow to the terminal's width instead of keeping the source's breaks
)


def _version(value: bool) -> None:
    if value:
        out.print(f"escalation {__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False) -> None:
    """Escalation scenario simulator: Monte Carlo batches of an agent-based model of Russia, NATO members, Ukraine
    and third countries. Exploratory, not a forecast.

    Every command prints JSON with `--json`. Shell completion: `escalation --install-completion`.
    """
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
