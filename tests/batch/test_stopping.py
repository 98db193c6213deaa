"""Stop signals: what a stop raises at each layer (the whole command, a batch, the pool's loop), and that one held
while a folder is opened is raised once it is whole. Real signals to real processes are in tests/faults."""

from __future__ import annotations

import contextlib
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
    stopping._StopState.unanswered = False


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


@pytest.mark.parametrize(("in_batch", "sig", "ignored_window"), [
    (False, "SIGTERM", False), (True, "SIGTERM", False), (False, "SIGINT", False), (True, "SIGINT", True)])
def test_a_stop_that_lands_in_a_destructor_is_delivered_again(in_batch: bool, sig: str, ignored_window: bool) -> None:
    """A stop whose handler runs while the main thread is inside a destructor cannot propagate from there (Python
    reports it as unraisable and goes on): it must not be lost. It is delivered again, as the same signal, once the
    destructor is done (and once a window with stops ignored has passed), and the command stops: outside a batch as
    StopRequested naming the signal, inside one as KeyboardInterrupt."""
    import subprocess
    import sys
    import textwrap

    from support import ROOT

    code = textwrap.dedent(f"""
        import os, signal, time
        from sim.batch.stopping import StopRequested, ctrl_c_ignored, process_stops, stop_signals
        def busy(seconds):
            t = time.monotonic()
            while time.monotonic() - t < seconds:
                pass
        class Slow:
            def __del__(self):  # the stop arrives while this runs
                os.kill(os.getpid(), signal.{sig})
                busy(0.2)
        try:
            with process_stops(), (stop_signals() if {in_batch} else open(os.devnull)):
                obj = Slow()
                del obj
                if {ignored_window}:
                    with ctrl_c_ignored():  # as while a manifest is written
                        busy(0.5)
                busy(5.0)  # ordinary work that never looks for a stop
                print("ran on")
        except (StopRequested, KeyboardInterrupt) as exc:
            print("stopped", type(exc).__name__, exc)
        """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    expected = "stopped KeyboardInterrupt" if in_batch else f"stopped StopRequested {sig}"
    assert done.stdout.strip() == expected, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr


def test_a_stop_is_taken_before_each_finished_chunk_is_handed_over(tmp_path) -> None:
    """When several chunks finish together, a stop that comes while the first is being saved is raised before the
    next is handed over: a stop waits for one chunk's saving at most."""
    import time as clock

    from support import make_scenario

    from sim.batch.chunks import Batch
    from sim.batch.executors import execute
    from sim.spec.loading import load_doctrine

    doctrine = load_doctrine()
    scenario = make_scenario(doctrine, horizon_weeks=4, runs=8, chunk_size=1)
    saved: list[int] = []

    def save(chunk, results) -> None:
        saved.append(chunk.index)
        if len(saved) == 1:
            clock.sleep(3.0)  # meanwhile the chunks in flight all finish: the next wait returns them together
        elif len(saved) == 2:
            stopping._StopState.pending = True  # a stop that came while this chunk was being saved

    with deferred_stops(), pytest.raises(KeyboardInterrupt):
        execute(Batch(doctrine, scenario, (scenario.baseline_name,)), executor="process", workers=2,
                on_finished=save)
    assert len(saved) == 2, saved


@pytest.mark.parametrize("in_batch", [False, True])
def test_a_stop_swallowed_on_its_way_is_raised_at_the_next_safe_point(in_batch: bool) -> None:
    """A stop raised from the handler can be swallowed by code that clears errors (an extension that catches
    everything, say) without passing through a destructor: the next safe point raises it again (the pool loop's,
    or the command's after its imports), unless the code that acts on stops has said it does."""
    swallowed = False
    with process_stops(), (stop_signals() if in_batch else contextlib.nullcontext()):
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):
                pass
        except BaseException:  # what such code does
            swallowed = True
        assert swallowed
        if in_batch:
            with pytest.raises(KeyboardInterrupt):
                raise_if_stopped()
        else:
            with pytest.raises(StopRequested, match="SIGTERM"):
                stopping.raise_if_unanswered()
        raise_if_stopped()  # raised once: not again
        stopping.raise_if_unanswered()
        stopping._StopState.unanswered = True
        stopping.answer_stop()  # acted on: no safe point raises it again
        raise_if_stopped()
        stopping.raise_if_unanswered()


def test_a_stop_an_extension_turns_into_its_own_error_ends_as_a_stop() -> None:
    """A stop that lands while an extension module initialises is turned by it into ``ImportError: initialization
    failed`` (found by the soak, in matplotlib's ft2font): the command ends with exit 130 and no traceback."""
    import subprocess
    import sys
    import textwrap

    from support import ROOT

    code = textwrap.dedent("""
        import os, signal, sys
        from sim.batch import stopping
        from sim.batch.stopping import StopRequested
        def fake_app():
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(1000):
                    pass
            except StopRequested as exc:  # what the extension's initialisation does with it
                raise ImportError("initialization failed") from exc
        import sim.cli.app
        sim.cli.app.main = fake_app
        from sim.cli import main
        main()
        """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 130, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and "stopped" in done.stderr, done.stderr


def test_an_exception_is_a_stops_echo_only_when_a_stop_caused_it() -> None:
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise ImportError("initialization failed") from exc
    except ImportError as exc:
        assert stopping.came_from_a_stop(exc)
    assert not stopping.came_from_a_stop(ValueError("a fault of the program"))
    stopping._StopState.unanswered = True  # a stop raised and not yet acted on: whatever comes is its echo
    assert stopping.came_from_a_stop(ValueError("anything"))
