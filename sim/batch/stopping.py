"""Stop signals (Ctrl-C, SIGTERM): from the first moment of a command to its last, a stop ends it.

Three layers: :func:`process_stops` (the whole command: a stop raises :class:`StopRequested`, which the command line
turns into exit status 130), :func:`stop_signals` (a batch: a stop raises KeyboardInterrupt, which marks its folder
interrupted) and :func:`deferred_stops` (while the pool is driven: a stop is held and raised at one safe point).
Ctrl-C counts even when the process started with it ignored (as a script's background job does): a stop signal
must always stop.
"""

from __future__ import annotations

import _thread
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# ------------------------------------------------------------------------------------------------ stopping
#: Exit status of a command ended by a stop signal (128 + SIGINT, as a shell reports Ctrl-C).
EXIT_STOPPED = 130
#: How often the process-pool loop looks for a stop signal it deferred, in seconds.
STOP_POLL_SECONDS = 0.25


class StopRequested(BaseException):
    """A stop signal arrived outside a batch (while loading, or while drawing charts).

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` on the way swallows it; unlike
    KeyboardInterrupt, the command-line framework does not turn it into "Aborted!" and exit status 1.
    """


class _StopState:
    """Stop signals (Ctrl-C, SIGTERM) that arrived while the pool was being driven, to raise at a safe point."""

    depth = 0
    pending = False
    #: True while :func:`stop_signals` is in force: a stop then raises KeyboardInterrupt, not StopRequested.
    in_batch = 0
    #: Set when the command has ended and the process is exiting: a stop then is dropped.
    ending = False
    #: The last stop signal raised (a stop delivered again is delivered as the same signal).
    signum: int = signal.SIGTERM
    #: True while a thread delivers a swallowed stop again (:func:`_deliver_again`).
    delivering = False
    #: A stop was raised and no code has said it acts on it (:func:`answer_stop`): the next safe point raises it.
    unanswered = False


def stop_signal_handler(signum: int, frame: object) -> None:
    """Raise KeyboardInterrupt inside a batch (:func:`stop_signals`), :class:`StopRequested` outside one, or hold
    it while inside :func:`deferred_stops` or :func:`holding_stops`.

    An exception raised asynchronously inside ``concurrent.futures`` (in ``submit`` or ``wait``, holding their locks)
    can leave the pool's management thread blocked, and the process then hangs at exit instead of stopping.
    """
    if _StopState.ending:
        return
    if _StopState.depth > 0:
        _StopState.pending = True
        return
    _StopState.pending = False  # raised now (a stop swallowed on the way is delivered again: _quiet_unraisable)
    _StopState.unanswered = True  # until the code that acts on a stop says so (answer_stop)
    _StopState.signum = signum
    sys.unraisablehook = _quiet_unraisable
    if _StopState.in_batch == 0:
        raise StopRequested(signal.Signals(signum).name)
    raise KeyboardInterrupt


def _quiet_unraisable(unraisable: Any) -> None:
    """Once a stop has been raised: an exception that cannot propagate (raised in a destructor, a weak reference's
    callback, a garbage collection) is not shown. If it is the stop itself, raised while the main thread happened
    to be running such code, it would be lost and the command would run on: it is delivered again, from a thread,
    so that the handler raises it once the main thread is back in ordinary code. Anything else is the stop's echo
    (an object the stop cut short while it was being made, a compiler's handle say, complaining as it goes) and
    prints nothing."""
    if isinstance(unraisable.exc_value, (KeyboardInterrupt, StopRequested)):
        _StopState.pending = True  # for the next raise_if_stopped, if the pool loop gets there first
        if not _StopState.delivering:
            _StopState.delivering = True
            threading.Thread(target=_deliver_again, name="stop-again", daemon=True).start()


#: How long a stop swallowed by a destructor waits before it is delivered again (the destructor finishes first).
REDELIVER_SECONDS = 0.02


def _deliver_again() -> None:
    """Deliver the swallowed stop again until it is raised (the handler clears ``pending`` as it raises it) or the
    command ends: as if its signal came again, the handler runs in the main thread. While a manifest is written
    with stops ignored, a delivery does nothing, and the next one comes once that is done."""
    try:
        while True:
            time.sleep(REDELIVER_SECONDS)
            if not _StopState.pending or _StopState.ending:
                return
            _thread.interrupt_main(signal.Signals(_StopState.signum))
    finally:
        _StopState.delivering = False


def raise_if_stopped() -> None:
    """Raise the stop signal that :func:`stop_signal_handler` deferred, if one came; or one it raised that no code
    acted on (:func:`answer_stop`): an exception raised from a signal handler can be swallowed on its way (by C
    code that clears errors, say), and the command must still stop at its next safe point."""
    if _StopState.pending or _StopState.unanswered:
        _StopState.pending = False
        _StopState.unanswered = False
        raise KeyboardInterrupt


def raise_if_unanswered() -> None:
    """Outside a batch: raise :class:`StopRequested` for a stop that was raised but swallowed on its way."""
    if _StopState.unanswered:
        _StopState.unanswered = False
        raise StopRequested(signal.Signals(_StopState.signum).name)


def came_from_a_stop(exc: BaseException) -> bool:
    """Whether an exception is a stop's echo: the stop itself, an exception it caused or interrupted (an extension
    module whose initialisation it cut short turns it into ``ImportError: initialization failed``), or any exception
    while a stop raised has not been acted on. Such an exception ends the command as a stop (exit status 130)."""
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        if isinstance(link, (StopRequested, KeyboardInterrupt)):
            return True
        seen.add(id(link))
        link = link.__cause__ or link.__context__
    return _StopState.unanswered


def answer_stop() -> None:
    """Say that a stop is being acted on (its folder marked interrupted, the command ending): safe points no longer
    raise it again."""
    _StopState.unanswered = False


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
def holding_stops() -> Iterator[None]:
    """Hold stop signals while the block runs and leave one that came pending, for the next
    :func:`raise_if_stopped` (a results folder being made is made whole first)."""
    _StopState.depth += 1
    try:
        yield
    finally:
        _StopState.depth -= 1


def _install(handler: object) -> dict[int, object]:
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}  # type: ignore[arg-type]


def _restore(previous: dict[int, object]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)  # type: ignore[arg-type]


@contextmanager
def process_stops() -> Iterator[None]:
    """For a whole command, in the process's entry point: Ctrl-C and SIGTERM raise :class:`StopRequested`
    (KeyboardInterrupt inside a batch) until the block ends, and are dropped after it, while the process exits.

    Installed first thing, so that a stop while the model is being imported or a scenario loaded is not lost (nor
    ignored, when Ctrl-C was inherited as ignored) and ends the command at once; never restored, so that a stop in
    the last instant, as the command returns, neither kills the process by the signal nor raises where nothing
    catches it. A caller wraps the block in ``try``/``except StopRequested``: a stop that comes as the block ends is
    raised inside it."""
    _install(stop_signal_handler)
    try:
        yield
    finally:
        _StopState.ending = True


@contextmanager
def stop_signals() -> Iterator[None]:
    """While the block runs, Ctrl-C and SIGTERM raise KeyboardInterrupt through :func:`stop_signal_handler` (held
    inside :func:`deferred_stops`); the previous handlers come back after it. Only in the main thread."""
    previous = _install(stop_signal_handler)
    _StopState.in_batch += 1
    try:
        yield
    finally:
        _StopState.in_batch -= 1
        _restore(previous)


@contextmanager
def ctrl_c_ignored() -> Iterator[None]:
    """Ignore Ctrl-C and SIGTERM while the block runs (in the main thread): a second stop must not cut a manifest
    short. One that comes meanwhile is dropped: the first one is already being acted on."""
    previous = _install(signal.SIG_IGN)
    try:
        yield
    finally:
        _restore(previous)
