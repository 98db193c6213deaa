"""Stop signals (Ctrl-C, SIGTERM) held while the pool is driven and raised at one safe point.
"""

from __future__ import annotations

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
