"""No run is lost: Ctrl-C, SIGTERM and dead workers leave a folder marked interrupted with its finished chunks, and
``escalation run --resume`` completes it with exactly the results of a batch never stopped. Results depend only on
the seed: the same batch twice, serially or on a process pool, gives the same summary and tables.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import processes
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from processes import end_started_processes, env  # noqa: F401 (an autouse fixture)
from typer.testing import CliRunner

from sim.batch.chunks import Batch, plan_chunks
from sim.batch.work import FAULT_HANG_CHUNK, FAULT_KILL_CHUNK, FAULT_MARKER, run_chunk
from sim.cli.app import app
from sim.output import folder as results
from sim.output.folder import PARTIAL, PARTS, ResultsWriter
from sim.spec.loading import load_doctrine, load_scenario

ROOT = Path(__file__).resolve().parents[2]
RUNS, CHUNK = 2000, 100  # 20 chunks: long enough to interrupt, short enough for a test
TIMES = ("started", "finished", "wall_seconds", "resumed", "command", "stopped", "executor", "workers")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped scenario cut down: two variants, 26 weeks, small chunks."""
    data = yaml.safe_load((ROOT / "scenarios" / "limited_deployment.yaml").read_text())
    data.update(horizon_weeks=26, runs=RUNS, chunk_size=CHUNK, variants=data["variants"][:1])
    path = tmp_path_factory.mktemp("scenario") / "small.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def reference(scenario: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The batch run serially, in-process, without interruption."""
    return cli_run(["run", str(scenario), "--workers", "1"], tmp_path_factory.mktemp("reference"))


def cli_run(args: list[str], out: Path | None) -> Path:
    extra = ["--out", str(out)] if out is not None else []
    result = CliRunner().invoke(app, [*args, *extra, "--no-charts", "--json"])
    assert result.exit_code == 0, result.stderr
    return Path(json.loads(result.stdout)["results"])


def start(args: list[str], **extra: str) -> subprocess.Popen:
    """The batch command in a process group of its own, without charts."""
    return processes.start([*args, "--no-charts"], **extra)


def folder_in(out: Path) -> Path:
    found = list(out.glob("*/*/manifest.json"))
    assert len(found) == 1, found
    return found[0].parent


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def assert_same_results(a: Path, b: Path) -> None:
    """Identical summaries, aggregates and tables; manifests equal apart from times and how it was run."""
    for name in ("summary.json", "aggregates.json"):
        assert json.loads((a / name).read_text()) == json.loads((b / name).read_text()), name
    for name in ("runs.parquet", "events.parquet"):
        ta, tb = pq.read_table(a / name), pq.read_table(b / name)
        assert ta.num_rows > 0 and ta.equals(tb), name
    ma, mb = manifest(a), manifest(b)
    assert ma["status"] == mb["status"] == "complete"
    assert {k: v for k, v in ma.items() if k not in TIMES} == {k: v for k, v in mb.items() if k not in TIMES}
    assert not (a / PARTS).exists() and not (a / PARTIAL).exists() and not list(a.glob("*.tmp"))


def descendants(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            kids = Path(f"/proc/{pid}/task/{tid}/children").read_text().split()
        except OSError:
            continue
        for k in map(int, kids):
            out += [k, *descendants(k)]
    return out


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_for_first_chunk(proc: subprocess.Popen, out: Path, timeout: float = 60) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list(out.glob(f"*/*/{PARTIAL}"))
        if found:
            return found[0].parent
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("no chunk finished in time")


# --------------------------------------------------------------------------------------------- interruption
def test_ctrl_c_stops_within_two_seconds_and_resume_matches(scenario: Path, reference: Path, tmp_path: Path) -> None:
    # chunk 2 never ends: the batch cannot finish before Ctrl-C, and stopping means ending a busy worker
    proc = start(["run", str(scenario), "--workers", "2", "--out", str(tmp_path)], **{FAULT_HANG_CHUNK: "2"})
    folder = wait_for_first_chunk(proc, tmp_path)
    workers = descendants(proc.pid)
    assert workers, "the batch should run on worker processes"
    t0 = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal: the whole group, workers included
    _, err = proc.communicate(timeout=10)
    assert time.monotonic() - t0 < 2.0, f"took {time.monotonic() - t0:.2f} s to stop"
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.strip().count("\n") == 0, err  # one message
    assert "interrupted after" in err and f"escalation run --resume {folder}" in err
    deadline = time.monotonic() + 2
    while any(running(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(running(p) for p in workers), "worker processes outlived the batch"

    m = manifest(folder)
    assert m["status"] == "interrupted" and m["stopped"]["reason"] == "interrupted"
    done = m["chunks_done"]
    assert 1 <= len(done) < RUNS // CHUNK and 2 not in done
    partial = json.loads((folder / PARTIAL).read_text())
    assert sorted(partial["chunks_done"]) == done
    assert all(a["runs"] == len(done) * CHUNK for a in partial["aggregates"].values())
    for i in done:  # each finished chunk's rows are kept
        with pa.OSFile(str(folder / PARTS / f"runs-{i:06d}.arrow"), "rb") as source:
            rows = pa.ipc.open_file(source).read_all()
        assert sorted(set(rows.column("run").to_pylist())) == list(range(i * CHUNK, (i + 1) * CHUNK))
    assert not (folder / "summary.json").exists() and not (folder / "runs.parquet").exists()
    assert not (folder / ".lock").exists()

    resumed = start(["run", "--resume", str(folder), "--workers", "2"])
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    m = manifest(folder)
    assert m["status"] == "complete" and len(m["resumed"]) == 1
    assert m["chunks_done"] == list(range(RUNS // CHUNK))
    assert_same_results(folder, reference)


def test_sigterm_marks_the_folder_interrupted(scenario: Path, tmp_path: Path) -> None:
    proc = start(["run", str(scenario), "--workers", "1", "--out", str(tmp_path)])
    folder = wait_for_first_chunk(proc, tmp_path)
    t0 = time.monotonic()
    proc.terminate()
    _, err = proc.communicate(timeout=10)
    assert time.monotonic() - t0 < 2.0
    assert proc.returncode == 130 and "Traceback" not in err
    assert manifest(folder)["status"] == "interrupted"


# --------------------------------------------------------------------------------------------- dead workers
def test_worker_killed_once_is_retried(scenario: Path, reference: Path, tmp_path: Path) -> None:
    marker = tmp_path / "killed-once"
    proc = start(["run", str(scenario), "--workers", "2", "--out", str(tmp_path / "out")],
                 **{FAULT_KILL_CHUNK: "3", FAULT_MARKER: str(marker)})
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert marker.exists(), "the worker running chunk 3 should have been killed"
    assert_same_results(folder_in(tmp_path / "out"), reference)  # process pool == serial, retry included


def test_worker_killed_twice_stops_and_resumes(scenario: Path, reference: Path, tmp_path: Path) -> None:
    proc = start(["run", str(scenario), "--workers", "2", "--out", str(tmp_path)], **{FAULT_KILL_CHUNK: "3"})
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert "a worker process died twice while running chunk 3" in err and "Traceback" not in err
    folder = folder_in(tmp_path)
    m = manifest(folder)
    assert m["status"] == "interrupted" and 3 not in m["chunks_done"]
    assert cli_run(["run", "--resume", str(folder), "--workers", "1"], None) == folder  # serial this time
    assert_same_results(folder, reference)


# --------------------------------------------------------------------------------------------- resume checks
def interrupted_folder(scenario_file: Path, out: Path, chunks: list[int]) -> Path:
    """A folder as a stopped batch leaves it, with ``chunks`` finished (made in-process, quickly)."""
    doctrine = load_doctrine(ROOT / "configs")
    spec = load_scenario(scenario_file, doctrine)
    names = tuple(lv.name for lv in spec.levers())
    batch = Batch(doctrine, spec, names)
    writer = ResultsWriter(out, doctrine, spec, names, scenario_file=scenario_file)
    from sim.engine.aggregates import Aggregates

    state = {v: Aggregates(horizon=spec.horizon_weeks) for v in names}
    contexts = batch.contexts()
    plan = plan_chunks(spec.runs, spec.chunk_size)
    for i in chunks:
        chunk, results = run_chunk(batch, plan[i], contexts)
        for r in results:
            state[r.variant].merge(r.aggregates)
        writer.add_chunk(results, state)
    writer.finish(state, 1.0, status="interrupted", reason="test")
    return writer.folder


def resume_refused(args: list[str], *fragments: str) -> str:
    result = CliRunner().invoke(app, ["run", *args, "--no-charts"])
    text = result.stderr + result.stdout
    assert result.exit_code == 2, text
    assert "Traceback" not in text
    for f in fragments:
        assert f in text, text
    return text


@pytest.fixture()
def tiny(tmp_path: Path, scenario: Path) -> Path:
    data = yaml.safe_load(scenario.read_text())
    data.update(runs=300, chunk_size=100)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_resume_in_process_gives_the_same_results(tiny: Path, tmp_path: Path) -> None:
    whole = cli_run(["run", str(tiny), "--workers", "1"], tmp_path / "whole")
    folder = interrupted_folder(tiny, tmp_path / "cut", [2, 0])  # out of order, as a pool may finish them
    (folder / "manifest.json.tmp").write_text("{")  # a write cut short by the interruption
    (folder / PARTS / "runs-000001.arrow.tmp").write_bytes(b"ARROW1")
    assert cli_run(["run", "--resume", str(folder), "--workers", "1"], None) == folder
    assert_same_results(folder, whole)


def test_reading_an_unfinished_folder_says_how_to_finish_it(tiny: Path, tmp_path: Path) -> None:
    from sim.errors import InputError
    from sim.output.folder import load_results

    folder = interrupted_folder(tiny, tmp_path, [0])
    with pytest.raises(InputError, match=r"status 'interrupted'.*escalation run --resume"):
        load_results(folder)
    with pytest.raises(InputError, match="results folder not found"):
        load_results(tmp_path / "nothing")


def test_resume_refuses_a_changed_scenario(tiny: Path, tmp_path: Path) -> None:
    folder = interrupted_folder(tiny, tmp_path, [0])
    tiny.write_text(tiny.read_text().replace("size: 2000", "size: 2500", 1))
    resume_refused(["--resume", str(folder)], "the scenario has changed since this batch started", str(tiny))
    assert manifest(folder)["status"] == "interrupted"
    assert not (folder / "summary.json").exists()


def test_resume_accepts_a_comment_only_change(tiny: Path, tmp_path: Path) -> None:
    folder = interrupted_folder(tiny, tmp_path, [1])
    tiny.write_text("# a note\n" + tiny.read_text())
    assert cli_run(["run", "--resume", str(folder), "--workers", "1"], None) == folder


def test_resume_refuses_settings_of_its_own(tiny: Path, tmp_path: Path) -> None:
    folder = interrupted_folder(tiny, tmp_path, [0])
    resume_refused(["--resume", str(folder), "--runs", "5", "--seed", "1"], "--runs, --seed",
                   "keeps the settings it was started with")


def test_resume_refuses_what_cannot_be_resumed(tiny: Path, tmp_path: Path) -> None:
    resume_refused(["--resume", str(tmp_path / "none")], "results folder not found")
    resume_refused(["--resume", str(tiny)], "expected a results folder, found a file")
    resume_refused(["--resume", str(tmp_path)], "manifest.json is missing")
    complete = cli_run(["run", str(tiny), "--workers", "1"], tmp_path / "done")
    resume_refused(["--resume", str(complete)], "already complete")

    broken = interrupted_folder(tiny, tmp_path / "broken", [0])
    (broken / "manifest.json").write_text("{not json")
    resume_refused(["--resume", str(broken)], "manifest.json cannot be read")

    missing = interrupted_folder(tiny, tmp_path / "missing", [0, 1])
    (missing / PARTS / "runs-000001.arrow").unlink()  # a lost part: its chunk's rows are computed again
    cli_run(["run", "--resume", str(missing)], None)
    assert manifest(missing)["status"] == "complete" and manifest(missing)["repaired"][0]["chunks"] == [1]

    renamed = interrupted_folder(tiny, tmp_path / "renamed", [0])
    m = manifest(renamed)
    m["variants"] = ["baseline", "nope"]
    (renamed / "manifest.json").write_text(json.dumps(m))
    resume_refused(["--resume", str(renamed)], "unknown variant 'nope'")

    tampered = interrupted_folder(tiny, tmp_path / "tampered", [0])
    state = json.loads((tampered / PARTIAL).read_text())
    state["chunks_done"] = [0, 1]
    (tampered / PARTIAL).write_text(json.dumps(state))
    resume_refused(["--resume", str(tampered)], "does not match the chunks of this batch")


def test_resume_refuses_a_folder_another_process_writes(tiny: Path, tmp_path: Path) -> None:
    folder = interrupted_folder(tiny, tmp_path, [0])
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (folder / ".lock").write_text(str(sleeper.pid))
        resume_refused(["--resume", str(folder)], f"another process (id {sleeper.pid}) is writing")
    finally:
        sleeper.kill()
        sleeper.wait()
    # a lock left by a process that no longer runs is taken over
    assert cli_run(["run", "--resume", str(folder), "--workers", "1"], None) == folder


# --------------------------------------------------------------------------------------------- determinism
def test_same_batch_twice_is_identical(tiny: Path, tmp_path: Path) -> None:
    a = cli_run(["run", str(tiny), "--workers", "1"], tmp_path / "a")
    b = cli_run(["run", str(tiny), "--workers", "1", "--executor", "serial"], tmp_path / "b")
    assert_same_results(a, b)


# --------------------------------------------------------------------------------------------- other stops
def test_main_process_killed_hard_is_resumable(scenario: Path, reference: Path, tmp_path: Path) -> None:
    """SIGKILL leaves the manifest at 'running' and a stale lock; resume takes the folder over."""
    proc = start(["run", str(scenario), "--workers", "1", "--out", str(tmp_path)])
    folder = wait_for_first_chunk(proc, tmp_path)
    proc.kill()
    proc.communicate(timeout=10)
    assert manifest(folder)["status"] == "running" and (folder / ".lock").exists()
    assert cli_run(["run", "--resume", str(folder), "--workers", "1"], None) == folder
    assert_same_results(folder, reference)


def test_full_disk_stops_the_batch_resumably(tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno


    real, calls = results._write_table, []

    def write_table(table, path, kind):
        calls.append(path)
        if len(calls) > 2:  # the runs and events of chunk 0 fit; then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(table, path, kind)

    monkeypatch.setattr(results, "_write_table", write_table)
    result = CliRunner().invoke(app, ["run", str(tiny), "--workers", "1", "--out", str(tmp_path / "out"),
                                      "--no-charts"])
    assert result.exit_code == 1, result.stderr
    assert "cannot write the results (No space left on device) after 1 of 3 chunks" in result.stderr
    folder = folder_in(tmp_path / "out")
    assert manifest(folder)["status"] == "interrupted" and manifest(folder)["chunks_done"] == [0]
    monkeypatch.setattr(results, "_write_table", real)
    whole = cli_run(["run", str(tiny), "--workers", "1"], tmp_path / "whole")
    assert cli_run(["run", "--resume", str(folder), "--workers", "1"], None) == folder
    assert_same_results(folder, whole)


def test_resume_with_every_chunk_done_only_finishes(tiny: Path, tmp_path: Path) -> None:
    """Stopped while the tables were being joined: nothing is left to compute."""
    whole = cli_run(["run", str(tiny), "--workers", "1"], tmp_path / "whole")
    folder = interrupted_folder(tiny, tmp_path / "cut", [0, 1, 2])
    assert cli_run(["run", "--resume", str(folder), "--workers", "2"], None) == folder
    assert manifest(folder)["resumed"][0]["workers"] == 2
    assert_same_results(folder, whole)


