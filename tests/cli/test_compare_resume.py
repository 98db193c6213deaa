"""``escalation compare`` runs through the same guarded, write-once, interruptible and resumable folder logic as
``escalation run``: a stopped comparison leaves a folder marked interrupted, and resuming it gives exactly the
summary and comparison of a comparison never stopped; a batch the resource guard refuses writes nothing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from processes import end_started_processes, env, start  # noqa: F401 (an autouse fixture)
from typer.testing import CliRunner

from sim.batch import guard
from sim.batch.work import FAULT_HANG_CHUNK, FAULT_KILL_CHUNK
from sim.cli.app import app
from sim.output.folder import PARTIAL, PARTS

ROOT = Path(__file__).resolve().parents[2]
RUNS, CHUNK = 2000, 100  # 20 chunks: long enough to interrupt, short enough for a test


def _small(data: dict, **changes) -> dict:
    data = dict(data)
    data.update(horizon_weeks=26, runs=RUNS, chunk_size=CHUNK, **changes)
    return data


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The shipped scenario cut down (its baseline and one variant), and a second file to compare it with side by
    side: the same scenario without the deployment, under another name."""
    data = yaml.safe_load((ROOT / "scenarios" / "limited_deployment.yaml").read_text())
    folder = tmp_path_factory.mktemp("scenarios")
    one, two = folder / "small.yaml", folder / "small_without.yaml"
    one.write_text(yaml.safe_dump(_small(data, name="small", variants=data["variants"][:1]), sort_keys=False))
    two.write_text(yaml.safe_dump(_small(data, name="small_without", deployments=[], variants=[]), sort_keys=False))
    return one, two


def cli(args: list[str], code: int = 0) -> dict:
    """Run the command in this process with --json; its JSON output."""
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == code, result.stderr
    return json.loads(result.stdout) if code == 0 else {}


@pytest.fixture(scope="module")
def reference(scenarios: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The comparison of one file's variants, run in-process without interruption."""
    out = tmp_path_factory.mktemp("reference")
    return Path(cli(["compare", str(scenarios[0]), "--workers", "1", "--out", str(out)])["results"])


@pytest.fixture(scope="module")
def side_by_side_reference(scenarios: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("side_by_side_reference")
    return Path(cli(["compare", *map(str, scenarios), "--workers", "1", "--out", str(out)])["results"])


def wait_for_first_chunk(proc: subprocess.Popen, out: Path, pattern: str, timeout: float = 60) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list(out.glob(f"{pattern}/{PARTIAL}"))
        if found:
            return found[0].parent
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError("no chunk finished in time")


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def read(folder: Path, name: str) -> dict:
    return json.loads((folder / name).read_text())


def assert_same_comparison(a: Path, b: Path) -> None:
    """Identical summaries, aggregates, comparisons and tables; both folders complete, with no leftovers."""
    for name in ("summary.json", "aggregates.json", "comparison.json"):
        assert read(a, name) == read(b, name), name
    for name in ("runs.parquet", "events.parquet"):
        ta, tb = pq.read_table(a / name), pq.read_table(b / name)
        assert ta.num_rows > 0 and ta.equals(tb), name
    assert manifest(a)["status"] == manifest(b)["status"] == "complete"
    assert not (a / PARTS).exists() and not (a / PARTIAL).exists() and not list(a.glob("*.tmp"))
    assert (a / "report.html").is_file() and (a / "charts" / "variant_comparison.png").is_file()


# --------------------------------------------------------------------------------------------- one scenario
def test_interrupted_compare_resumes_to_the_same_comparison(scenarios, reference: Path, tmp_path: Path) -> None:
    # chunk 2 never ends: the comparison cannot finish before Ctrl-C
    proc = start(["compare", str(scenarios[0]), "--workers", "2", "--out", str(tmp_path)], **{FAULT_HANG_CHUNK: "2"})
    folder = wait_for_first_chunk(proc, tmp_path, "*/*")
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal: the whole group, workers included
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.strip().count("\n") == 0, err  # one message
    assert "interrupted after" in err and f"escalation compare --resume {folder}" in err

    m = manifest(folder)
    assert m["status"] == "interrupted" and m["stopped"]["reason"] == "interrupted"
    assert 1 <= len(m["chunks_done"]) < RUNS // CHUNK and 2 not in m["chunks_done"]
    assert m["variants"] == ["baseline", "no_deployment"] and m["scenario_file"] == str(scenarios[0].resolve())
    assert not (folder / "summary.json").exists() and not (folder / "comparison.json").exists()
    assert not (folder / ".lock").exists()

    resumed = cli(["compare", "--resume", str(folder), "--workers", "1"])
    assert Path(resumed["results"]) == folder
    assert {k: v for k, v in resumed.items() if k not in ("results", "reports")} == read(reference, "comparison.json")
    m = manifest(folder)
    assert len(m["resumed"]) == 1 and m["chunks_done"] == list(range(RUNS // CHUNK))
    assert_same_comparison(folder, reference)


def test_compare_stopped_by_a_lost_worker_finishes_with_run_resume(scenarios, reference: Path, tmp_path: Path) -> None:
    proc = start(["compare", str(scenarios[0]), "--workers", "2", "--out", str(tmp_path)], **{FAULT_KILL_CHUNK: "3"})
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert "a worker process died twice while running chunk 3" in err and "Traceback" not in err
    (folder,) = (p.parent for p in tmp_path.glob("*/*/manifest.json"))
    assert manifest(folder)["status"] == "interrupted" and 3 not in manifest(folder)["chunks_done"]
    # the folder is an ordinary results folder: 'escalation run --resume' finishes it as well
    assert Path(cli(["run", "--resume", str(folder), "--workers", "1"])["results"]) == folder
    assert_same_comparison(folder, reference)


def test_compare_resume_keeps_the_settings_it_was_started_with(scenarios, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["compare", "--resume", str(tmp_path), "--runs", "5", "--variants", "x"])
    text = " ".join(result.stderr.split())
    assert result.exit_code == 2
    assert "--variants, --runs: a resumed batch keeps the settings it was started with" in text
    result = CliRunner().invoke(app, ["compare", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "missing the scenario file" in result.stderr


def test_a_complete_comparison_has_nothing_to_resume(reference: Path) -> None:
    result = CliRunner().invoke(app, ["compare", "--resume", str(reference)])
    assert result.exit_code == 2 and "already complete" in result.stderr


# --------------------------------------------------------------------------------------------- side by side
def test_interrupted_side_by_side_resumes_to_the_same_comparison(scenarios, side_by_side_reference: Path,
                                                                 tmp_path: Path) -> None:
    proc = start(["compare", *map(str, scenarios), "--workers", "2", "--out", str(tmp_path)],
                 **{FAULT_HANG_CHUNK: "2"})
    part = wait_for_first_chunk(proc, tmp_path, "comparisons/*/*/*")
    folder = part.parent.parent
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip().count("\n") == 0, err
    assert "small: interrupted after" in err and f"escalation compare --resume {folder}" in err
    m = manifest(folder)
    assert m["kind"] == "comparison" and m["status"] == "interrupted"
    assert list(m["batches"]) == ["small"] and manifest(part)["status"] == "interrupted"
    assert not (folder / "comparison.json").exists()

    # the side-by-side folder is finished by 'escalation compare --resume', and 'escalation run' says so
    result = CliRunner().invoke(app, ["run", "--resume", str(folder)])
    assert result.exit_code == 2 and f"escalation compare --resume {folder}" in " ".join(result.stderr.split())

    resumed = cli(["compare", "--resume", str(folder), "--workers", "1"])
    assert Path(resumed["results"]) == folder
    assert read(folder, "comparison.json") == read(side_by_side_reference, "comparison.json")
    assert (folder / "comparison.csv").read_text() == (side_by_side_reference / "comparison.csv").read_text()
    assert (folder / "charts" / "variant_comparison.png").is_file()
    m, ref = manifest(folder), manifest(side_by_side_reference)
    assert m["status"] == "complete" and len(m["resumed"]) == 1 and set(m["batches"]) == set(ref["batches"])
    for name in m["batches"]:
        a, b = folder / m["batches"][name], side_by_side_reference / ref["batches"][name]
        assert read(a, "summary.json") == read(b, "summary.json"), name
        assert pq.read_table(a / "runs.parquet").equals(pq.read_table(b / "runs.parquet")), name
    # and redrawn from its files like any comparison
    assert CliRunner().invoke(app, ["plot", str(folder)]).exit_code == 0


# --------------------------------------------------------------------------------------------- the guard
@pytest.mark.parametrize("files", [1, 2])
def test_compare_refuses_what_memory_cannot_hold(scenarios, files: int, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guard, "available_memory", lambda: 100 * 2**20)
    t0 = time.monotonic()
    result = CliRunner().invoke(app, ["compare", *map(str, scenarios[:files]), "--runs", "1000000",
                                      "--out", str(tmp_path / "out")])
    text = " ".join(result.stderr.split())
    assert result.exit_code == 2, result.output
    assert "needs about" in text and "of memory" in text and "is available" in text, text
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*")), "a refused batch wrote files"
    assert time.monotonic() - t0 < 5


def test_compare_refuses_what_the_disk_cannot_hold(scenarios, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guard, "free_disk", lambda path: 300 * 2**20)
    result = CliRunner().invoke(app, ["compare", str(scenarios[0]), "--runs", "2000000", "--out", str(tmp_path)])
    text = " ".join(result.stderr.split())
    assert result.exit_code == 2, result.output
    assert "of disk" in text and "is free" in text, text
    assert not any(tmp_path.rglob("*"))


def test_a_side_by_side_comparison_resumes_with_the_chunks_it_started_with(scenarios, tmp_path: Path) -> None:
    """A file that gave its chunk size when the comparison started and leaves it out now (as the shipped scenarios
    do since the size is chosen from the batch) still resumes: the manifest's chunk size is used, so the scenario's
    hash is the one recorded and the finished chunks are reused."""
    one, two = (tmp_path / p.name for p in scenarios)
    for src, dst in zip(scenarios, (one, two), strict=True):
        dst.write_text(src.read_text())
    out = tmp_path / "out"
    folder = Path(cli(["compare", str(one), str(two), "--workers", "1", "--runs", "300", "--out", str(out)])["results"])
    data = manifest(folder)
    assert {s["chunk_size"] for s in data["resolved_scenarios"].values()} == {CHUNK}
    data["status"] = "interrupted"
    (folder / "manifest.json").write_text(json.dumps(data))
    for f in (one, two):  # the chunk size left out now: it would be chosen as 300
        f.write_text("".join(line for line in f.read_text().splitlines(keepends=True)
                             if not line.startswith("chunk_size:")))
    resumed = cli(["compare", "--resume", str(folder)])
    assert Path(resumed["results"]) == folder and manifest(folder)["status"] == "complete"


@pytest.mark.parametrize("damage", [0, "x", True, 10**7])
def test_a_side_by_side_manifest_with_an_impossible_chunk_size_is_refused_naming_it(scenarios, tmp_path: Path,
                                                                                    damage) -> None:
    out = tmp_path / "out"
    args = ["compare", *map(str, scenarios), "--workers", "1", "--runs", "200", "--out", str(out)]
    folder = Path(cli(args)["results"])
    data = manifest(folder)
    data["status"] = "interrupted"
    data["resolved_scenarios"]["small"]["chunk_size"] = damage
    (folder / "manifest.json").write_text(json.dumps(data))
    result = CliRunner().invoke(app, ["compare", "--resume", str(folder)])
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "manifest.json: resolved_scenarios.small.chunk_size: the manifest is damaged" in message
    assert "--chunk-size" not in message
