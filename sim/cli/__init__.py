"""The ``escalation`` command line.

:func:`main` catches stop signals before anything else is imported: a Ctrl-C or SIGTERM at any moment of a command
ends it with exit status 130 (see :mod:`sim.batch.stopping`), never with a traceback or a lost signal.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from typing import Any


def main() -> None:
    """Entry point of the ``escalation`` script and of ``python -m sim``.

    The process ends here, with ``os._exit`` once its output is flushed: the interpreter's own teardown would put
    the default action back on Ctrl-C and SIGTERM, and a stop in that last instant would then kill the process by
    the signal instead of ending it with status 130. Everything a command writes is closed before it returns.
    """
    from sim.batch.stopping import EXIT_STOPPED, StopRequested, came_from_a_stop, process_stops, raise_if_unanswered

    code: int = 1
    try:
        with process_stops():
            from sim.cli.app import main as run_command

            raise_if_unanswered()  # a stop swallowed while the command was being imported
            run_command()
            code = 0
    except StopRequested as exc:
        sys.stderr.write(f"error: stopped ({exc})\n")
        code = EXIT_STOPPED
    except SystemExit as exc:
        if isinstance(exc.code, str):
            sys.stderr.write(exc.code + "\n")
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException as exc:
        if came_from_a_stop(exc):  # a stop that an extension turned into its own error (an import cut short)
            sys.stderr.write("error: stopped\n")
            code = EXIT_STOPPED
        else:  # a fault of the program itself: its traceback, as the interpreter prints it
            traceback.print_exc()
            code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def __getattr__(name: str) -> Any:
    if name == "app":  # the Typer app, imported only when asked for
        from sim.cli.app import app

        return app
    raise AttributeError(name)


__all__ = ["app", "main"]
