"""A stop always exits: stop signals sent at random moments of real batches, in a loop of tries.

Each try starts ``escalation run`` (or resumes the folder the try before left), waits a random time, sends one of
the stops a user or a script sends (Ctrl-C to the process group, SIGTERM to the process, SIGINT to a process that
inherited it as ignored, as a script's background job does) and requires the process to end within two seconds
with exit status 130 and a resumable folder, or with 0 and a complete one if it had finished. When a chain of
stops and resumes completes a folder, its results must equal those of a batch never stopped.

The normal suite runs a few dozen tries; ``make soak`` runs 1,000 (``ESCALATION_SOAK_TRIES``).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from processes import end_started_processes, env  # noqa: F401 (an autouse fixture)
from support import ROOT

#: Tries of the random-stop loop: a few dozen in the normal suite, 1,000 in ``make soak``.
TRIES = int(os.environ.get("ESCALATION_SOAK_TRIES", "24"))
#: A stopped command must have ended this long after its signal.
DEADLINE = 2.0
SEED = int(os.environ.get("ESCALATION_SOAK_SEED", "15"))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped scenario cut down to 20 small chunks of two variants."""
    data = yaml.safe_load((ROOT / "scenarios" / "limited_deployment.yaml").read_text())
    data.update(horizon_weeks=26, runs=200, chunk_size=10, variants=data["variants"][:1])
    path = tmp_path_factory.mktemp("soak") / "soak.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def popen(args: list[str], ignore_ctrl_c: bool, **extra: str) -> subprocess.Popen:
    """``python -m sim ARGS`` in a session of its own, optionally with SIGINT ignored from its start, with ``extra``
    in its environment."""
    from processes import STARTED

    def setup() -> None:
        if ignore_ctrl_c:
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    proc = subprocess.Popen([sys.executable, "-m", "sim", *args], env=env(**extra), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True, preexec_fn=setup)
    STARTED.append(proc)
    return proc


def stack_of(pid: int) -> str:
    """What a hung process is doing, for the failure message (py-spy, if installed)."""
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        return "(py-spy is not installed)"
    done = subprocess.run([str(spy), "dump", "--pid", str(pid)], capture_output=True, text=True, timeout=30)
    return done.stdout + done.stderr


def session_parents(sid: int) -> dict[int, int]:
    """The live processes of session ``sid`` (every process a command started stays in its session), each with
    the id of its parent."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[3]) == sid:
            found[int(entry.name)] = int(fields[1])
    return found


def session_processes(sid: int) -> list[int]:
    """Ids of the live processes of session ``sid``."""
    return sorted(session_parents(sid))


def what_runs(proc: subprocess.Popen) -> str:
    """For a failure message: the command's exit status (or what each process of its session is doing: its
    command, state and kernel wait channel), then what it wrote on stderr. Ends the command."""
    lines = [f"exit status {proc.poll()}"]
    for pid, parent in sorted(session_parents(proc.pid).items()):
        with contextlib.suppress(OSError):
            cmd = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:100]
            state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
            wchan = (Path("/proc") / str(pid) / "wchan").read_text()
            lines.append(f"{pid} (parent {parent}) {state} {wchan}: {cmd}")
    lines.append(stack_of(proc.pid))
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=10)
    return "\n".join([*lines, "stderr:", (err or "")[-3000:]])


def the_folder(out: Path) -> Path | None:
    found = list(out.glob("*/*/manifest.json"))
    assert len(found) <= 1, found
    return found[0].parent if found else None


def check_left(folder: Path | None, code: int, stderr: str) -> str:
    """The state a stopped or finished command left: 'complete', 'interrupted' or 'none' (no folder yet)."""
    if folder is None:
        assert code == 130 and "stopped" in stderr, stderr
        return "none"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert not (folder / ".lock").exists(), "a stale lock was left"
    if code == 0:
        assert manifest["status"] == "complete"
        return "complete"
    assert code == 130, stderr
    if manifest["status"] == "complete":  # stopped while the parts were being removed: whole all the same
        return "complete"
    assert manifest["status"] == "interrupted", manifest["status"]
    # stopped in its batch, or (a resume) while still loading, before it touched the folder
    assert "Resume with: escalation run --resume" in stderr or stderr.startswith("error: stopped ("), stderr
    return "interrupted"


def same_tables(a: Path, b: Path) -> None:
    for name in ("summary.json", "aggregates.json"):
        assert json.loads((a / name).read_text()) == json.loads((b / name).read_text()), name
    for name in ("runs.parquet", "events.parquet"):
        assert pq.read_table(a / name).equals(pq.read_table(b / name)), name


def test_random_stops_always_end_within_two_seconds(scenario: Path, tmp_path: Path) -> None:
    """Every stop ends its command within two seconds, resumably; chains of stops complete with exact results."""
    rng = random.Random(SEED)
    ref_out = tmp_path / "reference"
    t0 = time.monotonic()
    proc = popen(["run", str(scenario), "--workers", "2", "--no-charts", "--out", str(ref_out)], False)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    span = time.monotonic() - t0  # start-up, batch and tidying: stops land anywhere in it
    reference = the_folder(ref_out)
    assert reference is not None
    kinds = {"ctrl_c_group": 0, "sigterm": 0, "sigint_inherited_ignored": 0}
    outcomes = {"none": 0, "interrupted": 0, "complete": 0}
    out, resume, completed = tmp_path / "out-0", None, 0
    for i in range(TRIES):
        kind = rng.choice(sorted(kinds))
        kinds[kind] += 1
        args = ["run", "--resume", str(resume)] if resume else ["run", str(scenario), "--out", str(out)]
        proc = popen([*args, "--workers", "2", "--no-charts"], ignore_ctrl_c=kind == "sigint_inherited_ignored")
        time.sleep(rng.uniform(0.1, span))  # from once the interpreter runs the entry point
        if proc.poll() is None:
            if kind == "ctrl_c_group":
                os.killpg(proc.pid, signal.SIGINT)
            else:
                os.kill(proc.pid, signal.SIGTERM if kind == "sigterm" else signal.SIGINT)
            sent = time.monotonic()
            try:
                proc.wait(timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                stack = stack_of(proc.pid)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=30)
                took = f"ended after {time.monotonic() - sent:.1f} s" if proc.returncode is not None else "hung"
                err = proc.stderr.read() if proc.stderr and proc.returncode is not None else ""
                pytest.fail(f"try {i} ({kind}) still running {DEADLINE} s after its stop ({took}):\n{stack}\n{err}")
        err = proc.stderr.read() if proc.stderr else ""
        assert "Traceback" not in err, err
        state = check_left(the_folder(out), proc.returncode, err)
        outcomes[state] += 1
        gone_by = time.monotonic() + 5.0
        while session_processes(proc.pid) and time.monotonic() < gone_by:
            time.sleep(0.05)
        assert not session_processes(proc.pid), f"try {i} ({kind}) left processes behind"
        if state == "interrupted":
            resume = the_folder(out)
        elif state == "complete":
            same_tables(the_folder(out), reference)  # type: ignore[arg-type]
            completed += 1
            out, resume = tmp_path / f"out-{i + 1}", None
    if resume is not None:  # finish the last chain without a stop: its results must be exact too
        proc = popen(["run", "--resume", str(resume), "--workers", "2", "--no-charts"], False)
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        same_tables(resume, reference)
    print(f"{TRIES} stops: {kinds}; left {outcomes}; {completed} chains completed mid-loop")


def test_main_process_killed_outright_leaves_no_process_behind(scenario: Path, tmp_path: Path) -> None:
    """After a SIGKILL of the main process its workers, the fork server and the resource tracker end too.

    One chunk hangs, so the batch cannot finish and the pool is certainly running, both workers with it (one busy
    with that chunk, one idle once it has run the others), when the main process is killed: unhung, a batch this
    small can be over in well under a second, its workers gone before they are seen."""
    from sim.batch.work import FAULT_HANG_CHUNK

    proc = popen(["run", str(scenario), "--workers", "2", "--no-charts", "--out", str(tmp_path)], False,
                 **{FAULT_HANG_CHUNK: "3"})
    assert wait_for(lambda: len(workers_of(proc.pid)) == 2 or proc.poll() is not None, 60) and proc.poll() is None, \
        f"the pool never started: {what_runs(proc)}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=5)
    gone_by = time.monotonic() + 5.0
    while session_processes(proc.pid) and time.monotonic() < gone_by:
        time.sleep(0.05)
    assert session_processes(proc.pid) == [], "processes outlived the main process"


@pytest.mark.parametrize("kind", ["ctrl_c_group", "sigterm"])
def test_an_interrupted_compare_exits_130_with_a_message_and_resumes(scenario: Path, tmp_path: Path,
                                                                     kind: str) -> None:
    """``escalation compare`` stopped mid-batch: exit 130 within two seconds, a message saying how to resume, and
    the resume command it prints finishes the comparison."""
    out = tmp_path / "out"
    proc = popen(["compare", str(scenario), "--workers", "2", "--out", str(out)], False)
    deadline = time.monotonic() + 120
    while not list(out.glob("**/parts/runs-*.arrow")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the comparison ended before it could be stopped"
    if kind == "ctrl_c_group":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        os.kill(proc.pid, signal.SIGTERM)
    proc.wait(timeout=DEADLINE)
    err = proc.stderr.read() if proc.stderr else ""
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err, err
    command = " ".join(err.split()).split("Resume with: ", 1)[1].split()
    assert command[:2] in (["escalation", "compare"], ["escalation", "run"]) and command[2] == "--resume", command
    resumed = popen([*command[1:], "--workers", "2"], False)
    _, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    (manifest,) = [m for m in out.glob("**/manifest.json") if json.loads(m.read_text()).get("status")]
    assert json.loads(manifest.read_text())["status"] == "complete"


def fork_server_of(main: int) -> int | None:
    """The fork server that the command ``main`` (its process id, also its session's) runs, if one is running.

    The server is the child of the main process whose command is ``multiprocessing.forkserver``'s. A pool's workers
    have that command too (the server forks them), but the server is their parent: told apart by their parent,
    workers left by a server that was killed are not taken for a new server."""
    for pid, parent in sorted(session_parents(main).items()):
        if parent == main:
            with contextlib.suppress(OSError):
                if b"multiprocessing.forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    return pid
    return None


def workers_of(main: int) -> list[int]:
    """The worker processes of the command ``main``'s pool: the children of its fork server."""
    server = fork_server_of(main)
    return [] if server is None else [pid for pid, parent in session_parents(main).items() if parent == server]


def wait_for(condition, seconds: float) -> bool:  # noqa: ANN001
    """Whether ``condition()`` held within ``seconds``. Its last answer is the one returned, never asked again: a
    state that held for a moment (a process seen, then gone) counts as seen."""
    deadline = time.monotonic() + seconds
    while not (held := bool(condition())) and time.monotonic() < deadline:
        time.sleep(0.02)
    return held


def stop_and_time(proc: subprocess.Popen) -> float:
    """Ctrl-C to the group; the seconds until the command ended with exit 130, no traceback, no process left."""
    os.killpg(proc.pid, signal.SIGINT)
    sent = time.monotonic()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running 10 s after its stop:\n{stack_of(proc.pid)}")
    took = time.monotonic() - sent
    err = proc.stderr.read() if proc.stderr else ""
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert wait_for(lambda: not session_processes(proc.pid), 5.0), "processes outlived the command"
    return took


def test_a_stop_while_the_fork_server_preloads_ends_the_command_within_two_seconds(scenario: Path,
                                                                                  tmp_path: Path) -> None:
    """The fork server still importing the model (made to take 30 s): the batch waits for it where a stop ends
    the wait, and the server, which cannot yet see its parent go, is killed with the command."""
    from processes import STARTED

    from sim.batch.preload import FAULT_SLOW_PRELOAD

    proc = subprocess.Popen([sys.executable, "-m", "sim", "run", str(scenario), "--workers", "2", "--no-charts",
                             "--out", str(tmp_path)], env=env(**{FAULT_SLOW_PRELOAD: "30"}),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            start_new_session=True)
    STARTED.append(proc)
    assert wait_for(lambda: fork_server_of(proc.pid) is not None, 60), "no fork server was started"
    time.sleep(1.0)  # the command is now waiting for the server
    assert proc.poll() is None
    assert stop_and_time(proc) < DEADLINE


def test_a_pool_made_again_after_its_fork_server_died_still_stops_within_two_seconds(scenario: Path,
                                                                                      tmp_path: Path) -> None:
    """The fork server killed mid-batch breaks the pool; the pool made again starts a new server, whose
    preloading (made to take 3 s) a stop must not wait for."""
    from processes import STARTED

    from sim.batch.preload import FAULT_SLOW_PRELOAD
    from sim.batch.work import FAULT_HANG_CHUNK

    proc = subprocess.Popen([sys.executable, "-m", "sim", "run", str(scenario), "--workers", "2", "--no-charts",
                             "--out", str(tmp_path)], env=env(**{FAULT_SLOW_PRELOAD: "3", FAULT_HANG_CHUNK: "3"}),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            start_new_session=True)
    STARTED.append(proc)
    assert wait_for(lambda: list(tmp_path.glob("*/*/parts/runs-*.arrow")), 60), \
        f"the batch never started: {what_runs(proc)}"
    first = fork_server_of(proc.pid)
    assert first is not None, f"no fork server: {what_runs(proc)}"
    os.kill(first, signal.SIGKILL)
    assert wait_for(lambda: fork_server_of(proc.pid) not in (None, first), 10), \
        f"no new fork server (the first was {first}): {what_runs(proc)}"
    time.sleep(0.5)  # the new server is preloading, the batch waiting for it
    assert proc.poll() is None, what_runs(proc)
    assert stop_and_time(proc) < DEADLINE
