"""A full or read-only disk mid-batch: no traceback, and the error path's own writes fail safely (no manifest left
'running' where it can be written, no stale lock, no half-written temporary file); the folder stays resumable.

A real small file system (a tmpfs, which needs the right to mount: skipped where it cannot be made) fills up
mid-batch; a folder becomes read-only mid-batch through the writer's two write functions, which fail from then on
as on a read-only file system (root ignores permissions, so a chmod cannot show it to a test run as root).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from support import ROOT
from typer.testing import CliRunner

from sim.batch import guard
from sim.cli.app import app
from sim.output import folder as results


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = yaml.safe_load((ROOT / "scenarios" / "limited_deployment.yaml").read_text())
    data.update(horizon_weeks=26, runs=1500, chunk_size=150, variants=data["variants"][:1])
    path = tmp_path_factory.mktemp("disk") / "small.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def the_folder(out: Path) -> Path:
    (manifest,) = out.glob("*/*/manifest.json")
    return manifest.parent


def leftovers(folder: Path) -> list[str]:
    """Temporary files and locks left in a folder."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.name.endswith(".tmp") or p.name == ".lock")


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs (skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_disk_that_fills_up_mid_batch_leaves_a_resumable_folder(small: Path, tiny_disk: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guard, "free_disk", lambda path: None)  # let it start: the disk is to fill up mid-batch
    ballast = tiny_disk / "ballast"
    ballast.write_bytes(b"\0" * (8 * 2**20 - 16 * 1024))  # 16 KiB left: a few of the parts fit
    result = CliRunner().invoke(app, ["run", str(small), "--workers", "1", "--out", str(tiny_disk), "--no-charts"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output, result.output
    assert result.stderr.lstrip("\n").startswith("error: "), result.stderr
    assert "No space left on device" in result.stderr and "Resume with: escalation run --resume" in result.stderr
    folder = the_folder(tiny_disk)
    assert leftovers(folder) == [], leftovers(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] in ("interrupted", "running")  # marked, or left as the last chunk left it
    ballast.unlink()  # room again: the same folder finishes, exactly as one never stopped
    whole = CliRunner().invoke(app, ["run", str(small), "--workers", "1", "--out", str(tmp_path / "whole"),
                                     "--no-charts", "--json"])
    assert whole.exit_code == 0
    resumed = CliRunner().invoke(app, ["run", "--resume", str(folder), "--workers", "1", "--no-charts", "--json"])
    assert resumed.exit_code == 0, resumed.output
    reference = Path(json.loads(whole.stdout)["results"])
    for name in ("summary.json", "aggregates.json"):
        assert json.loads((folder / name).read_text()) == json.loads((reference / name).read_text())


@pytest.mark.parametrize("after", [2, 5, 9])
def test_a_folder_made_read_only_mid_batch_fails_safely(small: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch, after: int) -> None:
    """After ``after`` writes every write fails as on a read-only file system, the error path's own included:
    one message, no traceback, no temporary file and no lock left, and a resume finishes the folder."""
    real_json, real_table, calls = results._write_json, results._write_table, [0]

    def failing(real):
        def write(*args):
            calls[0] += 1
            if calls[0] > after:  # from now on the folder is read-only: the error path's writes fail too
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(args[1] if real is real_table else args[0]))
            return real(*args)
        return write

    out = tmp_path / "results"
    monkeypatch.setattr(results, "_write_json", failing(real_json))
    monkeypatch.setattr(results, "_write_table", failing(real_table))
    result = CliRunner().invoke(app, ["run", str(small), "--workers", "1", "--out", str(out), "--no-charts"])
    monkeypatch.undo()
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (1, 2), result.output
    assert "Read-only file system" in result.stderr, result.stderr
    found = list(out.glob("*/*/manifest.json"))
    if not found:  # refused before any folder was made
        assert result.exit_code == 2
        return
    folder = found[0].parent
    assert [p for p in leftovers(folder) if p.endswith(".tmp")] == []
    resumed = CliRunner().invoke(app, ["run", "--resume", str(folder), "--workers", "1", "--no-charts"])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads((folder / "manifest.json").read_text())["status"] == "complete"
    assert leftovers(folder) == []


def test_the_writers_temporary_files_are_removed_when_a_write_fails(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError):
        results._write_json(tmp_path / "manifest.json", {"status": "running"})
    assert list(tmp_path.iterdir()) == []
