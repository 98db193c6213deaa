"""The fork server that starts a batch's worker processes, with the model preloaded.

A worker of the process pool is forked by ``multiprocessing``'s fork server. Started bare, the server forks at once
and every worker then imports the model (Mesa, with its pandas and scipy) and loads the compiled kernels itself:
about 0.9 s on each core before its first chunk. Started with :mod:`sim.batch.preload`, the server does that once,
and its workers start with it done. Started as soon as a command knows that it will run a pool (:func:`start`), it
does it while the command is still loading its own modules.

The server answers a request for a worker only once its preloading is over, and the process asking waits,
signals held, until it does. So the pool never asks before the server says it is ready (the file that
``$ESCALATION_FORKSERVER_READY`` names, see :mod:`sim.batch.preload`); until then :func:`wait_ready` looks for a
stop every few milliseconds, and a stop, or the end of the command, ends a server still loading (:func:`end_loading`):
nothing waits for it and nothing is left behind. The stop guarantees of docs/robustness.md hold as they did with a
bare server.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

#: The environment variable that names the file the fork server creates when its preloading is done.
READY_ENV = "ESCALATION_FORKSERVER_READY"
#: The environment variable that gives the fork server the process id of the process that started it.
PARENT_ENV = "ESCALATION_FORKSERVER_PARENT"
#: The environment variable that lists, comma-separated, the modules the fork server imports besides the model.
EXTRA_ENV = "ESCALATION_FORKSERVER_EXTRA"
#: The module the fork server imports before it forks any worker: it imports the model and what else it is told.
PRELOAD = "sim.batch.preload"
#: What the fork server preloads besides the model for a local Dask cluster (Dask's own choice of preload when it
#: forks its workers, ``distributed.utils.get_mp_context``, is only ``distributed`` and its dependencies).
DASK_PRELOAD = ("distributed",)
#: How often :func:`wait_ready` looks for the server's signal and for a stop, in seconds.
READY_POLL_SECONDS = 0.01


@dataclass
class _Server:
    """The fork server this process started with the preload: its process id and the file it creates when ready."""

    pid: int
    marker: str
    ready: bool = False


_server: list[_Server] = []  # at most one: the last server this process started
_hooked: list[bool] = []


def _running_pid() -> int | None:
    """The process id of ``multiprocessing``'s fork server in this process, if one was started (None otherwise)."""
    from multiprocessing import forkserver

    pid = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)
    return pid if isinstance(pid, int) else None


def _exited(pid: int) -> bool:
    """Whether the child ``pid`` has ended, without reaping it (``multiprocessing`` reaps its fork server itself).
    Where ``os.waitid`` is missing (macOS before Python 3.13), an ended child is reaped here, and ``multiprocessing``
    told so."""
    try:
        if hasattr(os, "waitid"):
            return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        with _forkserver_lock():
            if os.waitpid(pid, os.WNOHANG)[0] == 0:
                return False
            _forget_server(pid)
        return True
    except ChildProcessError:
        return True


def start(preload: tuple[str, ...] = (), environ: dict[str, str] | None = None) -> None:
    """Make sure the fork server runs, started with the model preloaded if it was not running; returns at once.

    ``preload`` adds modules to import after the model (Dask's, for a local cluster whose workers are forked), and
    ``environ`` variables the server is started with (and its workers inherit), beside this process's own.

    A server that was already running is kept as it is: one this process started with the preload, or one that
    other code started bare (its workers import the model themselves, as before).

    Ctrl-C is held while the server starts, as ``multiprocessing`` does for its resource tracker. A Ctrl-C reaches
    the whole process group, and one that came while the server imports would end it with a traceback on the
    terminal. The server inherits the hold: the signal stays pending there until it sets Ctrl-C to be ignored,
    after its preloading, which drops it; and in this process until the server is launched a few milliseconds
    later, when the stop handler gets it. It is neither lost nor a traceback.
    """
    from multiprocessing import forkserver, resource_tracker, util

    resource_tracker.ensure_running()  # first: starting it unblocks Ctrl-C, which would undo the hold below
    before = _running_pid()
    if before is not None and not _exited(before):
        return
    marker = os.path.join(util.get_temp_dir(), "preloaded")  # removed with multiprocessing's own files at exit
    if os.path.exists(marker):
        os.unlink(marker)
    forkserver.set_forkserver_preload([PRELOAD])  # the rest is imported by it, once it watches this process
    held = {signal.SIGINT}
    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    added = {**(environ or {}), READY_ENV: marker, PARENT_ENV: str(os.getpid()), EXTRA_ENV: ",".join(preload)}
    previous_env = {name: os.environ.get(name) for name in added}
    os.environ.update(added)  # the server inherits this process's environment when it is started
    try:
        forkserver.ensure_running()
    finally:
        for name, value in previous_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
    pid = _running_pid()
    if pid is None or pid == before:  # pragma: no cover - ensure_running always starts a server here
        return
    _server[:] = [_Server(pid, marker)]
    if not _hooked:
        atexit.register(end_loading)
        _hooked.append(True)


def start_early(executor: str, workers: int | None, chunks: int, address: str | None = None) -> None:
    """Start the fork server now if a batch of ``chunks`` on ``executor`` with ``workers`` (None: all cores) will
    run on a process pool or a local Dask cluster, so that it preloads the model while the command loads its own
    modules. Cheap, and light to import: a command calls it before it imports the engine."""
    import multiprocessing

    if chunks <= 1 or "forkserver" not in multiprocessing.get_all_start_methods():
        return
    if executor == "dask" and address is None:  # a local cluster forks its workers from the same server
        start(DASK_PRELOAD, dask_environ())
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if executor == "process" and (workers or cores) > 1:
        start()


def dask_environ() -> dict[str, str]:
    """The variables Dask sets before it starts a worker process (thread counts of numerical libraries, read when a
    process starts), which a worker forked from the server has from it; less the allocator setting that the local
    cluster leaves out (``sim.batch.cluster.local_cluster``). Empty without Dask."""
    try:
        import dask
    except ImportError:
        return {}
    variables = dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {}
    return {name: str(value) for name, value in variables.items()
            if value is not None and name != "MALLOC_TRIM_THRESHOLD_"}


def ready() -> bool:
    """Whether the fork server can be asked for a worker without waiting for its preloading."""
    if not _server:
        return True
    server = _server[0]
    if not server.ready:
        server.ready = os.path.exists(server.marker) or _exited(server.pid) or _running_pid() != server.pid
    return server.ready


def wait_ready(check: Callable[[], None]) -> None:
    """Wait until the fork server is ready, calling ``check`` (which raises on a stop) every few milliseconds."""
    while not ready():
        check()
        time.sleep(READY_POLL_SECONDS)


def end_loading() -> None:
    """End the fork server if it is still preloading (a stop, or a command that ends before its pool starts), and
    reap it. ``multiprocessing`` is told it has no server, so that the next pool starts a new one (by :func:`start`,
    preloaded, with the stop-aware wait) rather than ask one that is gone."""
    if not _server or ready():
        return
    pid = _server[0].pid
    # under multiprocessing's own lock: a thread starting a process (Dask starts its workers from its own) must not
    # see the server reaped and still recorded, nor send the pipe closed here
    with _forkserver_lock():
        with contextlib.suppress(ProcessLookupError):  # ended on its own since the look above
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)  # at once: nothing outlives SIGKILL
        _forget_server(pid)
    _server.clear()


def _forkserver_lock() -> contextlib.AbstractContextManager[object]:
    """The lock ``multiprocessing`` holds while it checks, starts or records its fork server."""
    from multiprocessing import forkserver

    lock = getattr(getattr(forkserver, "_forkserver", None), "_lock", None)
    return lock if lock is not None else contextlib.nullcontext()


def _forget_server(pid: int) -> None:
    """Clear ``multiprocessing``'s record of the fork server ``pid``, now reaped, as it does itself when it finds
    its server dead (``ForkServer.ensure_running``): its process id, its socket's address and the pipe that
    tells it this process lives. The caller holds :func:`_forkserver_lock`."""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    if server is None or getattr(server, "_forkserver_pid", None) != pid:  # pragma: no cover - replaced meanwhile
        return
    with contextlib.suppress(OSError, TypeError):
        os.close(server._forkserver_alive_fd)
    server._forkserver_alive_fd = None
    server._forkserver_address = None
    server._forkserver_pid = None
