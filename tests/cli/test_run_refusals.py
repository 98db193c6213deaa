"""Every bad input to ``escalation run`` gets exit status 2 and one clear message naming the file (and line and key
where known), fast, with no traceback and nothing written; results never land outside --out. The checks behind
them are tested on their own in tests/spec (reader, loading), tests/batch/test_guard.py and tests/output/test_folder.py.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
import yaml
from support import laughs
from typer.testing import CliRunner

from sim.batch import guard
from sim.cli.app import app
from sim.spec import yaml_reader
from sim.spec.loading import load_doctrine

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "scenarios" / "limited_deployment.yaml"


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    """Load the doctrine once, so the timings below measure the checks, not the first import."""
    load_doctrine(ROOT / "configs")


def shipped() -> dict:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def write(tmp_path: Path, content: str | bytes, name: str = "scenario.yaml") -> Path:
    p = tmp_path / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content, encoding="utf-8")
    return p


def dump(tmp_path: Path, data: dict, name: str = "scenario.yaml") -> Path:
    return write(tmp_path, yaml.safe_dump(data, sort_keys=False), name)


def refused(tmp_path: Path, args: list[str], *fragments: str, seconds: float = 2.0) -> str:
    """Run the CLI; assert exit 2, each fragment in the message, no traceback, --out left empty, and speed."""
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    extra = [] if "--workers" in args else ["--workers", "1"]
    result = CliRunner().invoke(app, ["run", *args, "--out", str(out), *extra, "--no-charts"])
    elapsed = time.perf_counter() - t0
    text = result.stderr + result.stdout
    assert result.exit_code == 2, text
    assert "Traceback" not in text
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    for f in fragments:
        assert f in text, f"{f!r} not in {text!r}"
    assert list(out.iterdir()) == [], "a refused batch must write nothing"
    assert elapsed < seconds, f"took {elapsed:.2f} s"
    return text


# ------------------------------------------------------------------------------------------ the file itself
def test_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "nope.yaml"
    text = refused(tmp_path, [str(p)], f"error: {p}: file not found. Check the path")
    assert len(text.strip().splitlines()) == 1, text


def test_directory_given_as_file(tmp_path: Path) -> None:
    d = tmp_path / "folder.yaml"
    d.mkdir()
    refused(tmp_path, [str(d)], str(d), "expected a YAML file, found a directory")


def test_pipe_given_as_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # opening it for reading would block forever: it must be refused without being opened
    refused(tmp_path, [str(fifo)], str(fifo), "found a device, pipe or socket")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    p = write(tmp_path, SHIPPED.read_text())
    p.chmod(0)
    refused(tmp_path, [str(p)], str(p), "cannot read the file")


@pytest.mark.parametrize("content", ["", "\n\n   \n", "# only a comment\n", "---\n"])
def test_empty_file(tmp_path: Path, content: str) -> None:
    p = write(tmp_path, content)
    refused(tmp_path, [str(p)], str(p), "the file is empty")


def test_binary_file(tmp_path: Path) -> None:
    p = write(tmp_path, b"name: x\n\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    refused(tmp_path, [str(p)], f"{p}:4:", "found binary data")


def test_non_utf8_text(tmp_path: Path) -> None:
    p = write(tmp_path, "name: test\ntitle: caf\xe9\n".encode("latin-1"))
    refused(tmp_path, [str(p)], f"{p}:2:", "not UTF-8", "0xe9")


def test_control_character(tmp_path: Path) -> None:
    p = write(tmp_path, "name: test\ntitle: a\x07b\n")
    refused(tmp_path, [str(p)], f"{p}:2:", "not allowed in YAML text")


def test_file_of_many_megabytes(tmp_path: Path) -> None:
    p = tmp_path / "big.yaml"
    with p.open("w") as fh:
        fh.write("name: big\nsources:\n")
        line = '  - "' + "x" * 70 + '"\n'
        fh.write(line * (6 * 2**20 // len(line)))
    refused(tmp_path, [str(p)], str(p), "file too large", "at most 1,024 KiB")


def test_many_nodes_under_the_size_limit(tmp_path: Path) -> None:
    p = write(tmp_path, "name: many\nsources: [" + ", ".join(["1"] * 150_000) + "]\n")
    assert p.stat().st_size < yaml_reader.MAX_FILE_BYTES
    refused(tmp_path, [str(p)], f"{p}:2:", "more than 100,000 YAML nodes")


# ------------------------------------------------------------------------------------------ YAML structure
def test_billion_laughs(tmp_path: Path) -> None:
    p = write(tmp_path, laughs(9))
    text = refused(tmp_path, [str(p)], f"{p}:9:", "i:", "YAML nodes with its aliases followed", "alias bomb",
                   seconds=1.0)
    assert int(re.search(r"expands to ([\d,]+)", text).group(1).replace(",", "")) > 9**9


def test_recursive_alias(tmp_path: Path) -> None:
    p = write(tmp_path, "name: loop\nsources: &s [a, *s]\n")
    refused(tmp_path, [str(p)], f"{p}:2:", "refers to the collection that contains it")


@pytest.mark.parametrize("opener", [" [", " {"])
def test_very_deep_flow_nesting(tmp_path: Path, opener: str) -> None:
    p = write(tmp_path, "name: deep\nsources:" + opener + opener.strip() * 200_000 + " x\n")
    # Either the project's depth check or libyaml's own limit may speak first: what a user must get is one line that
    # names the file and the line and says the nesting is too deep, with exit 2 and no traceback.
    text = refused(tmp_path, [str(p)], f"{p}:2:")
    assert "nesting" in text.lower(), text
    assert len(text.strip().splitlines()) == 1, text


def test_very_deep_block_nesting(tmp_path: Path) -> None:
    p = write(tmp_path, "name: deep\n" + "".join("  " * i + f"k{i}:\n" for i in range(300)))
    refused(tmp_path, [str(p)], str(p), "nesting deeper than 40 levels")


def test_deep_through_aliases(tmp_path: Path) -> None:
    deep = "[" * 30 + "1" + "]" * 30
    p = write(tmp_path, f"name: deep\nx: &x {deep}\nsources: {'[' * 15}*x{']' * 15}\n")
    refused(tmp_path, [str(p)], f"{p}:3:", "sources:", "nests 46 levels deep")


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system [\"echo owned\"]", "!!python/name:os.system",
                                 "!!python/object:builtins.dict {}", "!include other.yaml", "!!binaryx x"])
def test_object_tags_refused(tmp_path: Path, tag: str) -> None:
    p = write(tmp_path, f"name: test\ntitle: t\nquestion: q\nsources:\n  - {tag}\n")
    text = refused(tmp_path, [str(p)], f"{p}:5:", "sources[0]:", "a YAML tag that is not plain data is refused",
                   f"found <the tag {tag.split()[0]}>")
    assert "owned" not in text


def test_duplicate_top_level_key(tmp_path: Path) -> None:
    p = write(tmp_path, SHIPPED.read_text() + "runs: 10\n")
    n = len(SHIPPED.read_text().splitlines()) + 1
    refused(tmp_path, [str(p)], f"{p}:{n}:", "runs: duplicate key 'runs' (first at line")


def test_duplicate_nested_key(tmp_path: Path) -> None:
    text = SHIPPED.read_text().replace("    size: 2000\n", "    size: 2000\n    size: 3000\n", 1)
    p = write(tmp_path, text)
    line = text.splitlines().index("    size: 3000") + 1
    refused(tmp_path, [str(p)], f"{p}:{line}:", "deployments[0].size: duplicate key 'size'")


def test_complex_key(tmp_path: Path) -> None:
    p = write(tmp_path, "name: test\n? [a, b]\n: 1\n")
    refused(tmp_path, [str(p)], f"{p}:2:", "a key must be a plain name")


def test_invalid_yaml_syntax(tmp_path: Path) -> None:
    p = write(tmp_path, "name: test\nsources: [a, b\nruns: 3\n")
    refused(tmp_path, [str(p)], str(p), "invalid YAML")


def test_tab_indentation(tmp_path: Path) -> None:
    p = write(tmp_path, "name: test\npolicies:\n\tdeep_strike: {}\n")
    refused(tmp_path, [str(p)], f"{p}:3:", "invalid YAML")


def test_two_documents(tmp_path: Path) -> None:
    p = write(tmp_path, SHIPPED.read_text() + "---\nname: other\n")
    refused(tmp_path, [str(p)], str(p), "invalid YAML", "another document")


@pytest.mark.parametrize("content, found", [("- a\n- b\n", "found <a list>"), ("just text\n", "found <text>"),
                                            ("42\n", "found <a number>"), ("null\n", "found <nothing (null)>")])
def test_top_level_not_a_mapping(tmp_path: Path, content: str, found: str) -> None:
    p = write(tmp_path, content)
    refused(tmp_path, [str(p)], f"{p}:1:", "expected a mapping of scenario keys", found)


# ------------------------------------------------------------------------------------------ values
@pytest.mark.parametrize("value", [".nan", ".NaN", ".inf", "-.inf", ".Inf"])
def test_nan_and_infinite_numbers(tmp_path: Path, value: str) -> None:
    text = SHIPPED.read_text().replace("low: 0.5, mode: 0.75", f"low: {value}, mode: 0.75")
    p = write(tmp_path, text)
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "russia.resolve" in s)
    refused(tmp_path, [str(p)], f"{p}:{line}:", "uncertainties.russia.resolve.low", "finite")


def test_nan_as_text_in_a_number(tmp_path: Path) -> None:
    data = shipped()
    data["overrides"] = {"mediation_base": "nan"}
    refused(tmp_path, [str(dump(tmp_path, data))], "overrides")


def test_huge_integer(tmp_path: Path) -> None:
    p = write(tmp_path, SHIPPED.read_text().replace("runs: 20000", "runs: " + "9" * 5000))
    refused(tmp_path, [str(p)], str(p), "runs: a value cannot be read (an integer too long to read)")


def test_utf16_text(tmp_path: Path) -> None:
    p = write(tmp_path, SHIPPED.read_text().encode("utf-16"))
    refused(tmp_path, [str(p)], f"{p}:1:", "found binary data", "save it as UTF-8")


def test_long_integer_is_shown_short(tmp_path: Path) -> None:
    p = write(tmp_path, SHIPPED.read_text().replace("runs: 20000", "runs: " + "9" * 4000))
    text = refused(tmp_path, [str(p)], f"{p}:", "runs:", "less than or equal to 100000000", "a number of 4000 digits")
    assert len(text) < 300


def test_impossible_date(tmp_path: Path) -> None:
    p = write(tmp_path, SHIPPED.read_text().replace("horizon_weeks: 52", "start_date: 2025-13-45\nhorizon_weeks: 52"))
    refused(tmp_path, [str(p)], str(p), "start_date: a value cannot be read", "month must be in 1..12")


@pytest.mark.parametrize("key, value, fragment", [
    ("size", -5, "greater than or equal to 1"),
    ("size", 0, "greater than or equal to 1"),
    ("size", 10**9, "less than or equal to 500000"),
    ("size", "many", "expected a whole number; found 'many'"),
    ("start_week", -1, "greater than or equal to 0"),
    ("start_week", 52, "beyond the horizon of 52 weeks"),
    ("start_week", 10**6, "less than or equal to 10000"),
    ("type", "submarines", "unknown deployment type 'submarines'"),
    ("contributors", ["atlantis"], "atlantis"),
    ("location", "moon", "invalid choice"),
])
def test_deployment_values_out_of_range(tmp_path: Path, key: str, value, fragment: str) -> None:
    data = shipped()
    data["deployments"][0][key] = value
    text = refused(tmp_path, [str(dump(tmp_path, data))], "scenario.yaml:", fragment)
    assert "deployments[0]" in text or "deployment 'eu_engineers'" in text


@pytest.mark.parametrize("key, value, fragment", [
    ("runs", 0, "greater than or equal to 1"),
    ("runs", -100, "greater than or equal to 1"),
    ("runs", 10**12, "less than or equal to 100000000"),
    ("chunk_size", 0, "greater than or equal to 1"),
    ("horizon_weeks", 0, "greater than or equal to 1"),
    ("horizon_weeks", 100_000, "less than or equal to 520"),
    ("seed", -1, "greater than or equal to 0"),
    ("horizon_weeks", 10, "beyond the horizon of 10 weeks"),
    ("runs", [1, 2], "expected a whole number; found <a list>"),
])
def test_batch_settings_out_of_range(tmp_path: Path, key: str, value, fragment: str) -> None:
    data = shipped()
    data[key] = value
    refused(tmp_path, [str(dump(tmp_path, data))], "scenario.yaml:", fragment)


def test_timeline_week_beyond_horizon(tmp_path: Path) -> None:
    data = shipped()
    data["timeline"].append({"week": 60, "actor": "us", "move": "arms_delivery"})
    refused(tmp_path, [str(dump(tmp_path, data))], "timeline", "week 60 is beyond the horizon of 52 weeks")


def test_unknown_key_names_allowed_ones(tmp_path: Path) -> None:
    text = SHIPPED.read_text().replace("    size: 2000\n", "    sise: 2000\n", 1)
    p = write(tmp_path, text)
    line = text.splitlines().index("    sise: 2000") + 1
    refused(tmp_path, [str(p)], f"{p}:{line}:", "deployments[0].sise: unknown key 'sise'", "expected one of:", "size")


def test_missing_required_key(tmp_path: Path) -> None:
    data = shipped()
    del data["title"]
    refused(tmp_path, [str(dump(tmp_path, data))], "missing required key 'title'")


def test_override_out_of_its_range(tmp_path: Path) -> None:
    doctrine = load_doctrine(ROOT / "configs")
    name, p = next(iter(doctrine.parameters.items()))
    data = shipped()
    data["overrides"] = {name: p.high + 1000}
    refused(tmp_path, [str(dump(tmp_path, data))], "overrides", "outside its range")


# ------------------------------------------------------------------------------------------ options
def test_options_out_of_range(tmp_path: Path) -> None:
    for args, fragment in ((["--runs", "0"], "--runs"), (["--chunk-size", "0"], "--chunk-size"),
                           (["--workers", "0"], "--workers"), (["--seed", "-3"], "--seed")):
        refused(tmp_path, [str(SHIPPED), *args], fragment)


def test_unknown_variant_and_executor(tmp_path: Path) -> None:
    refused(tmp_path, [str(SHIPPED), "--variants", "baseline,nonsense"], "unknown variant 'nonsense'", "no_deployment")
    refused(tmp_path, [str(SHIPPED), "--executor", "threads"], "unknown executor", "process, serial, dask")


def test_runs_option_beyond_limit(tmp_path: Path) -> None:
    refused(tmp_path, [str(SHIPPED), "--runs", str(10**10)], "--runs", "less than or equal to 100000000")


def test_out_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "a_file"
    target.write_text("keep me")
    result = CliRunner().invoke(app, ["run", str(SHIPPED), "--runs", "10", "--out", str(target), "--workers", "1"])
    assert result.exit_code == 2
    assert "the output path exists and is not a folder" in result.stderr
    assert target.read_text() == "keep me"


def test_no_scenario_given(tmp_path: Path) -> None:
    refused(tmp_path, [], "missing the scenario file", "escalation run SCENARIO (or --resume FOLDER)")


@pytest.mark.parametrize("where", ["/proc/no/such/place", "/dev/null"])
def test_out_cannot_be_made(tmp_path: Path, where: str) -> None:
    result = CliRunner().invoke(app, ["run", str(SHIPPED), "--runs", "10", "--out", where, "--workers", "1"])
    assert result.exit_code == 2, result.stderr
    assert "--out:" in result.stderr and where in result.stderr and "Traceback" not in result.stderr


def test_bad_configs_folder(tmp_path: Path) -> None:
    refused(tmp_path, [str(SHIPPED), "--configs", str(tmp_path / "none")], "doctrine folder not found")


def test_validate_reports_every_bad_file(tmp_path: Path) -> None:
    a = write(tmp_path, "", "a.yaml")
    b = write(tmp_path, laughs(), "b.yaml")
    result = CliRunner().invoke(app, ["validate", str(a), str(b), str(SHIPPED)])
    assert result.exit_code == 2
    assert f"{a}: the file is empty" in result.stderr and f"{b}:9:" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


# ------------------------------------------------------------------------------------------ resource guard
def test_guard_refuses_when_memory_is_short(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guard, "available_memory", lambda: 600 * 2**20)
    text = refused(tmp_path, [str(SHIPPED), "--runs", "1000000", "--chunk-size", "1000000", "--events"],
                   "needs about", "of memory", "is available", "--chunk-size", "--no-events")
    m = re.search(r"about ([\d,]+) fits", text)
    assert m, text
    # the suggested chunk size passes the guard
    est = guard.estimate(runs=1_000_000, weeks=52, variants=5, chunk_size=int(m.group(1).replace(",", "")),
                         workers=1, record_runs=True, record_events=True, in_process=True)
    assert est.memory_bytes * guard.SAFETY + guard.RESERVE_BYTES < 600 * 2**20


def test_guard_refuses_when_disk_is_short(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guard, "free_disk", lambda path: 300 * 2**20)
    refused(tmp_path, [str(SHIPPED), "--runs", "2000000", "--no-events"], "of disk", "is free", "--no-runs",
            "fewer --runs")


# ------------------------------------------------------------------------------------------ output safety
def test_results_never_leave_the_out_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "limited_deployment").symlink_to(elsewhere)
    result = CliRunner().invoke(app, ["run", str(SHIPPED), "--runs", "10", "--out", str(out), "--workers", "1",
                                      "--no-charts"])
    assert result.exit_code == 2, result.stderr
    assert "outside the output folder" in result.stderr
    assert list(elsewhere.iterdir()) == []


def test_a_real_process_refuses_fast(tmp_path: Path) -> None:
    """Through the installed entry point, not the test runner: exit 2, one line, nothing written."""
    import subprocess
    import sys

    p = write(tmp_path, laughs(12))
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "sim", "run", str(p), "--out", str(out)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: {p}:12: l: the document expands to") and proc.stderr.count("\n") == 1
    assert proc.stdout == "" and not out.exists()
    assert time.perf_counter() - t0 < 5.0  # interpreter start and imports included
