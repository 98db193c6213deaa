"""Stop signals: what a stop raises at each layer (the whole command, a batch, the pool's loop), and that one held
while a folder is opened is raised once it is whole. Real signals to real processes are in tests/faults."""

from __future__ import annotations

import os
import signal

import pytest

from sim.batch import stopping
from sim.batch.stopping import (
    StopRequested,
    deferred_stops,
    holding_stops,
    process_stops,
    raise_if_stopped,
    stop_signals,
)


@pytest.fixture(autouse=True)
def handlers():
    """Whatever a test installs, the handlers and the stop state come back after it."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)
    stopping._StopState.pending = False
    stopping._StopState.ending = False


def test_outside_a_batch_a_stop_is_a_stop_requested() -> None:
    with pytest.raises(StopRequested, match="SIGTERM"), process_stops():
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):  # the handler runs between bytecodes
            pass


def test_inside_a_batch_a_stop_is_a_keyboard_interrupt() -> None:
    with pytest.raises(KeyboardInterrupt), stop_signals():
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):
            pass


def test_a_stop_is_held_in_the_pools_loop_and_raised_at_its_safe_point() -> None:
    with stop_signals():
        with pytest.raises(KeyboardInterrupt), deferred_stops():
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):
                pass
            reached = True  # held: the block runs to its end
        assert reached


def test_a_stop_while_a_folder_is_opened_waits_for_the_next_check() -> None:
    with stop_signals():
        with holding_stops():
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):
                pass
        with pytest.raises(KeyboardInterrupt):
            raise_if_stopped()
        raise_if_stopped()  # raised once only


def test_ctrl_c_inherited_as_ignored_still_stops_a_command() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with pytest.raises(StopRequested), process_stops():
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):
            pass


def test_a_stop_after_the_command_has_ended_is_dropped() -> None:
    with process_stops():
        pass
    os.kill(os.getpid(), signal.SIGTERM)  # the process is exiting: neither killed by it nor raised
    for _ in range(1000):
        pass
    # still this process's handler (a default one would have killed it), and it knows the command has ended
    assert signal.getsignal(signal.SIGTERM) is stopping.stop_signal_handler
    assert stopping._StopState.ending


def test_a_destructor_cut_short_by_a_stop_prints_no_traceback() -> None:
    """A stop that lands while a library object is being made (numba's compiler handles, say) leaves it half made,
    and its destructor complains when it is collected: after a stop that is not shown; before one, it still is."""
    import subprocess
    import sys

    from support import ROOT

    code = """
import os, signal
from sim.batch.stopping import StopRequested, process_stops
class HalfMade:
    def __del__(self):
        raise AttributeError("no handle")
before = HalfMade()
del before  # no stop yet: Python reports it as usual
try:
    with process_stops():
        during = HalfMade()
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(10**7):
            pass
except StopRequested:
    del during
    print("stopped")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.stdout.strip() == "stopped", done.stderr
    assert done.stderr.count("Traceback") == 1, done.stderr  # the complaint before the stop only


@pytest.mark.parametrize("in_batch", [False, True])
def test_a_stop_that_lands_in_a_destructor_is_delivered_again(in_batch: bool) -> None:
    """A stop whose handler runs while the main thread is inside a destructor cannot propagate from there (Python
    reports it as unraisable and goes on): it must not be lost. It is delivered again once the destructor is done,
    and the command stops (outside a batch as StopRequested, inside one as KeyboardInterrupt)."""
    import subprocess
    import sys
    import textwrap

    from support import ROOT

    code = textwrap.dedent(f"""
        import os, signal, time
        from sim.batch.stopping import StopRequested, process_stops, stop_signals
        class Slow:
            def __del__(self):  # the stop arrives while this runs
                os.kill(os.getpid(), signal.SIGTERM)
                t = time.monotonic()
                while time.monotonic() - t < 0.2:
                    pass
        try:
            with process_stops(), (stop_signals() if {in_batch} else open(os.devnull)):
                obj = Slow()
                del obj
                t = time.monotonic()
                while time.monotonic() - t < 5.0:  # ordinary work that never looks for a stop
                    pass
                print("ran on")
        except (StopRequested, KeyboardInterrupt) as exc:
            print("stopped", type(exc).__name__)
        """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    expected = "KeyboardInterrupt" if in_batch else "StopRequested"
    assert done.stdout.strip() == f"stopped {expected}", (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
