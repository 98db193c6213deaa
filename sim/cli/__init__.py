"""The ``escalation`` command line.

:func:`main` catches stop signals before anything else is imported: a Ctrl-C or SIGTERM at any moment of a command
ends it with exit status 130 (see :mod:`sim.batch.stopping`), never with a traceback or a lost signal.
"""

from __future__ import annotations

import sys
from typing import Any


def main() -> None:
    """Entry point of the ``escalation`` script and of ``python -m sim``."""
    from sim.batch.stopping import EXIT_STOPPED, StopRequested, process_stops

    try:
        with process_stops():
            from sim.cli.app import main as run_command

            run_command()
    except StopRequested as exc:
        sys.stderr.write(f"error: stopped ({exc})\n")
        sys.exit(EXIT_STOPPED)


def __getattr__(name: str) -> Any:
    if name == "app":  # the Typer app, imported only when asked for
        from sim.cli.app import app

        return app
    raise AttributeError(name)


__all__ = ["app", "main"]
