"""Stop signals (Ctrl-C, SIGTERM) held while the pool is driven and raised at one safe point.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# ------------------------------------------------------------------------------------------------ stopping
#: How often the process-pool loop looks for a stop signal it deferred, in seconds.
STOP_POLL_SECONDS = 0.25


class _StopState:
    """Stop signals (Ctrl-C, SIGTERM) that arrived while the pool was being driven, to raise at a safe point."""

    depth = 0
    pending = False


def stop_signal_handler(signum: int, frame: object) -> None:
    """Raise KeyboardInterrupt, or defer it while inside :func:`deferred_stops`.

    An exception raised asynchronously inside ``concurrent.futures`` (in ``submit`` or ``wait``, holding their locks)
    can leave the pool's management thread blocked, and the process then hangs at exit instead of stopping.
    """
    if _StopState.depth > 0:
        _StopState.pending = True
        return
    raise KeyboardInterrupt


def raise_if_stopped() -> None:
    """Raise the stop signal that :func:`stop_signal_handler` deferred, if one came."""
    if _StopState.pending:
        _StopState.pending = False
        raise KeyboardInterrupt


@contextmanager
def deferred_stops() -> Iterator[None]:
    """Hold stop signals (when :func:`stop_signal_handler` is installed) until the block ends, then raise."""
    _StopState.depth += 1
    try:
        yield
    finally:
        _StopState.depth -= 1
        if _StopState.depth == 0 and _StopState.pending:
            _StopState.pending = False
            raise KeyboardInterrupt


@contextmanager
def stop_signals() -> Iterator[None]:
    """While the block runs, Ctrl-C and SIGTERM raise KeyboardInterrupt through :func:`stop_signal_handler` (held
    inside :func:`deferred_stops`); the previous handlers come back after it. Only in the main thread."""
    in_main = threading.current_thread() is threading.main_thread()
    signals = (signal.SIGINT, signal.SIGTERM) if in_main else ()
    previous = {sig: signal.signal(sig, stop_signal_handler) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def ctrl_c_ignored() -> Iterator[None]:
    """Ignore Ctrl-C while the block runs (in the main thread): a second Ctrl-C must not cut a manifest short."""
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main else None
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
