"""The results folder is trusted state: every file of a folder, damaged in turn, gives a clear refusal naming it or a
correct recovery, never a traceback and never exit 0 with wrong results.

A corruptor damages one file of a folder in each case (truncated, emptied, bytes flipped, replaced with other
JSON, a number turned to NaN, a folder in its place); then ``escalation run --resume`` (an interrupted folder) or
``escalation plot`` (a complete one) must either exit 2 with one message naming a damaged file, or exit 0 with
results equal to those of a batch never damaged.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import ROOT
from typer.testing import CliRunner

from sim.batch.chunks import Batch, plan_chunks
from sim.batch.work import run_chunk
from sim.cli.app import app
from sim.engine.aggregates import Aggregates
from sim.output.folder import PARTIAL, ResultsWriter
from sim.spec.loading import load_doctrine, load_scenario


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three chunks of 50 runs, two variants, 26 weeks."""
    data = yaml.safe_load((ROOT / "scenarios" / "limited_deployment.yaml").read_text())
    data.update(horizon_weeks=26, runs=150, chunk_size=50, variants=data["variants"][:1])
    path = tmp_path_factory.mktemp("tiny") / "tiny.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def invoke(args: list[str]):
    return CliRunner().invoke(app, args)


@pytest.fixture(scope="module")
def reference(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reference")
    result = invoke(["run", str(tiny), "--workers", "1", "--out", str(out), "--no-charts", "--json"])
    assert result.exit_code == 0, result.output
    return Path(json.loads(result.stdout)["results"])


def interrupted(tiny: Path, out: Path, chunks: list[int]) -> Path:
    doctrine = load_doctrine()
    spec = load_scenario(tiny, doctrine)
    names = tuple(lv.name for lv in spec.levers())
    batch = Batch(doctrine, spec, names)
    writer = ResultsWriter(out, doctrine, spec, names, scenario_file=tiny)
    state = {v: Aggregates(horizon=spec.horizon_weeks) for v in names}
    plan = plan_chunks(spec.runs, spec.chunk_size)
    for i in chunks:
        _, results = run_chunk(batch, plan[i])
        for r in results:
            state[r.variant].merge(r.aggregates)
        writer.add_chunk(results, state)
    writer.finish(state, 1.0, status="interrupted", reason="test")
    return writer.folder


@pytest.fixture(scope="module")
def stopped(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An interrupted folder with chunks 0 and 2 done."""
    return interrupted(tiny, tmp_path_factory.mktemp("stopped"), [0, 2])


# ------------------------------------------------------------------------------------------------ damage
def truncate(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: max(1, p.stat().st_size // 2)])


def empty(p: Path) -> None:
    p.write_bytes(b"")


def flip(p: Path) -> None:
    data = bytearray(p.read_bytes())
    i = len(data) // 3
    data[i] ^= 0xFF
    p.write_bytes(bytes(data))


def other_json(p: Path) -> None:
    p.write_text('{"chunks_done": [0, 1, 2], "status": "complete", "aggregates": {}}')


def nan(p: Path) -> None:
    """The first JSON number (a value, not part of a string) becomes NaN."""
    text = p.read_text(errors="replace")
    found = re.search(r"(?<=[:\[,] )-?\d+(\.\d+)?(?=[,\]\n}])", text)
    p.write_text(text[: found.start()] + "NaN" + text[found.end():] if found else "NaN")


def folder_instead(p: Path) -> None:
    p.unlink()
    p.mkdir()


DAMAGES: dict[str, Callable[[Path], None]] = {"truncate": truncate, "empty": empty, "flip": flip,
                                              "other_json": other_json, "nan": nan, "folder": folder_instead}


def files_of(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def same_results(a: Path, b: Path) -> None:
    for name in ("summary.json", "aggregates.json"):
        assert json.loads((a / name).read_text()) == json.loads((b / name).read_text()), name
    for name in ("runs.parquet", "events.parquet"):
        assert pq.read_table(a / name).equals(pq.read_table(b / name)), name


def judge(result, folder: Path, reference: Path, damaged: str) -> str:
    """'refused' (exit 2, one message naming a file of the folder) or 'recovered' (exit 0, exact results)."""
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == 0:
        same_results(folder, reference)
        return "recovered"
    assert result.exit_code == 2, (damaged, result.exit_code, result.output)
    message = result.stderr.strip()
    assert message.startswith("error: ") and "\n" not in message, (damaged, message)
    return "refused"


def test_every_file_of_an_interrupted_folder_damaged_in_turn(stopped: Path, reference: Path,
                                                             tmp_path: Path) -> None:
    outcomes: dict[str, str] = {}
    for name in files_of(stopped):
        if name == ".lock":
            continue
        for kind, damage in DAMAGES.items():
            if kind in ("other_json", "nan") and not name.endswith(".json"):
                continue
            copy = tmp_path / f"{name.replace('/', '_')}-{kind}"
            shutil.copytree(stopped, copy)
            damage(copy / name)
            result = invoke(["run", "--resume", str(copy), "--workers", "1", "--no-charts"])
            outcomes[f"{name}:{kind}"] = judge(result, copy, reference, f"{name}:{kind}")
            if result.exit_code == 2 and name != "manifest.json":  # the message names the damaged file
                assert (name.split("/")[-1] in result.stderr) or PARTIAL in result.stderr, result.stderr
    for kind, lock in (("garbage", lambda p: p.write_bytes(b"\xff\x00 not a pid")), ("folder", Path.mkdir),
                       ("dead process", lambda p: p.write_text("999999999"))):
        copy = tmp_path / f"lock-{kind}"
        shutil.copytree(stopped, copy)
        lock(copy / ".lock")
        result = invoke(["run", "--resume", str(copy), "--workers", "1", "--no-charts"])
        outcomes[f".lock:{kind}"] = judge(result, copy, reference, f".lock:{kind}")
    assert outcomes[".lock:garbage"] == outcomes[".lock:dead process"] == "recovered"
    # a damaged part is recovered (its chunk's rows computed again); the partial aggregates are refused
    assert outcomes["parts/runs-000000.arrow:flip"] == "recovered"
    assert outcomes["parts/events-000002.arrow:truncate"] == "recovered"
    assert outcomes[f"{PARTIAL}:nan"] == "refused"


def test_every_file_of_a_complete_folder_damaged_in_turn(reference: Path, tmp_path: Path) -> None:
    outcomes: dict[str, str] = {}
    for name in files_of(reference):
        for kind, damage in DAMAGES.items():
            if kind in ("other_json", "nan") and not name.endswith(".json"):
                continue
            copy = tmp_path / f"{name.replace('/', '_')}-{kind}"
            shutil.copytree(reference, copy)
            damage(copy / name)
            result = invoke(["plot", str(copy)])
            assert "Traceback" not in result.output, result.output
            if result.exit_code == 0:  # a file plot does not read, or one it writes again
                outcomes[f"{name}:{kind}"] = "redrawn"
                assert name not in ("summary.json", "aggregates.json"), (name, kind)
                continue
            assert result.exit_code == 2, (name, kind, result.output)
            assert str(copy) in result.stderr, result.stderr
            outcomes[f"{name}:{kind}"] = "refused"
    for name in ("summary.json", "aggregates.json", "runs.parquet"):
        assert outcomes[f"{name}:flip"] == "refused", outcomes


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(done=st.sets(st.integers(0, 2), min_size=1, max_size=2), victim=st.integers(0, 10),
       kind=st.sampled_from(sorted(DAMAGES)), data=st.data())
def test_resume_of_a_randomly_damaged_folder(tiny: Path, reference: Path, tmp_path_factory: pytest.TempPathFactory,
                                             done: set[int], victim: int, kind: str, data) -> None:
    """Hypothesis over results folders: any chunks done, any one file damaged any way."""
    folder = interrupted(tiny, tmp_path_factory.mktemp("random"), sorted(done))
    names = [n for n in files_of(folder) if n != ".lock"]
    name = names[victim % len(names)]
    if kind in ("other_json", "nan") and not name.endswith(".json"):
        kind = "flip"
    DAMAGES[kind](folder / name)
    result = invoke(["run", "--resume", str(folder), "--workers", "1", "--no-charts"])
    judge(result, folder, reference, f"{name}:{kind}")
