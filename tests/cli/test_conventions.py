"""The command line as people expect it: ``--version``, shell completion, ``--json`` on every command, help that
reads cleanly (no type after a flag, paragraphs not broken where the source breaks them), a progress bar whose
total, count and rate all count runs times variants, and user text shown as text."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
import typer
from support import ROOT
from typer.testing import CliRunner

from sim import __version__
from sim.cli.app import app
from sim.cli.common import BatchProgress, plain

runner = CliRunner()
COMMANDS = typer.main.get_command(app).commands  # type: ignore[attr-defined]


def test_version():
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.stdout == f"escalation {__version__}\n"


def _escalation(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command line run as the ``escalation`` script is, in a process of its own."""
    code = "from sim.cli.app import app; app(prog_name='escalation')"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})}, cwd=ROOT)


def test_shell_completion_is_on_and_completes_commands_and_options():
    # Typer detects the shell from the process's parents unless told to take it as the option's value (its own
    # switch for tests): the test then does not depend on the shell it is started from
    script = _escalation("--show-completion", "bash", env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert script.returncode == 0, script.stderr
    assert "_ESCALATION_COMPLETE=complete_bash" in script.stdout
    env = {"_ESCALATION_COMPLETE": "complete_bash", "COMP_WORDS": "escalation val", "COMP_CWORD": "1"}
    assert _escalation(env=env).stdout.split() == ["validate"]
    env.update(COMP_WORDS="escalation run --no-c", COMP_CWORD="2")
    assert _escalation(env=env).stdout.split() == ["--no-charts"]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_json_output(name):
    assert "--json" in {o for p in COMMANDS[name].params for o in getattr(p, "opts", [])}, name


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_shows_no_type_after_a_flag_and_keeps_paragraphs_whole(name):
    res = runner.invoke(app, [name, "--help"], env={"COLUMNS": "1000"}, terminal_width=1000)
    assert res.exit_code == 0
    assert "<bool>" not in res.stdout
    lines = [" ".join(line.split()) for line in res.stdout.splitlines()]
    doc = inspect.cleandoc(COMMANDS[name].help or "")
    for paragraph in doc.split("\n\n"):
        whole = " ".join(paragraph.replace("`", "").split())
        assert whole in lines, f"{name}: a paragraph of the help is broken across lines: {whole!r}"


def test_the_top_level_help_is_clean():
    res = runner.invoke(app, ["--help"], env={"COLUMNS": "200"}, terminal_width=200)
    assert res.exit_code == 0 and "<bool>" not in res.stdout
    for option in ("--version", "--install-completion", "--show-completion"):
        assert option in res.stdout


def test_the_progress_bar_counts_runs_times_variants():
    start = SimpleNamespace(name="b", runs=1000, runs_done=200, variants=3, resume_folder="f",
                            estimate=SimpleNamespace(seconds=1.0))
    bar = BatchProgress()
    bar.start(start)  # type: ignore[arg-type]
    try:
        assert bar._bar is not None
        task = bar._bar.tasks[0]
        assert (task.total, task.completed) == (3000, 600)
        bar.chunk(SimpleNamespace(size=100))  # type: ignore[arg-type]
        assert task.completed == 900
        rate = float(task.fields["rate"].removesuffix("/s").replace(",", ""))
        elapsed = task.elapsed or 1e-9
        assert rate > 300 / max(elapsed, 1e-3) / 10, "the rate counts the 300 run-variants of the chunk"
    finally:
        bar.stop()


def test_validate_json_lists_each_file_with_ok_or_its_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntitle: t\nquestion: q\nseed: \"7\"\n", encoding="utf-8")
    good = ROOT / "scenarios" / "limited_deployment.yaml"
    res = runner.invoke(app, ["validate", "--json", str(good), str(bad)])
    assert res.exit_code == 2
    data = json.loads(res.stdout)
    assert data["ok"] is False
    first, second = data["files"]
    assert first == {"file": str(good), "ok": True, "scenario": "limited_deployment", "variants": 6,
                     "runs": 20000, "horizon_weeks": 52}
    assert second["ok"] is False and second["file"] == str(bad)
    err = second["error"]
    assert (err["line"], err["key"], err["expected"], err["found"]) == (4, "seed", "a whole number", "7")
    assert err["text"] == f"{bad}:4: seed: invalid value; expected a whole number; found '7'"
    ok = runner.invoke(app, ["validate", "--json", str(good)])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["ok"] is True


def test_validate_json_gives_a_doctrine_error_as_data(tmp_path):
    res = runner.invoke(app, ["validate", "--json", "--configs", str(tmp_path / "nowhere"),
                              str(ROOT / "scenarios" / "limited_deployment.yaml")])
    assert res.exit_code == 2
    data = json.loads(res.stdout)
    assert data["ok"] is False and data["files"] == [] and "nowhere" in data["error"]["text"]


def test_schema_json_names_the_file_written(tmp_path):
    target = tmp_path / "s.json"
    res = runner.invoke(app, ["schema", "--out", str(target), "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout) == {"schema": str(target)}
    assert json.loads(target.read_text()) == json.loads(runner.invoke(app, ["schema"]).stdout)


@pytest.mark.parametrize(("text", "shown"), [
    ("Costs \x1b[31mred\x1b[0m", "Costs red"),
    ("a\x1b]8;;https://x.invalid\x1b\\link\x1b]8;;\x1b\\b", "alinkb"),
    ("bell\x07 back\x08 cr\r csi\x9b2J del\x7f", "bell back cr csi del"),  # a whole 8-bit CSI sequence goes
    ("keeps\nlines\tand tabs", "keeps\nlines\tand tabs"),
    ("[bold]markup[/bold] $\\foo{x}$", "[bold]markup[/bold] $\\foo{x}$"),
])
def test_plain_text_holds_no_control_characters(text, shown):
    assert plain(text) == shown


def test_escape_sequences_in_a_path_never_reach_the_terminal(tmp_path):
    """Scenario text cannot hold control characters (validation refuses them), but a file name can: the messages
    that name it print it without them."""
    bad = tmp_path / "evil\x1b]0;owned\x07\x1b[2J.yaml"
    bad.write_text("name: x\n", encoding="utf-8")
    res = runner.invoke(app, ["validate", str(bad)])
    assert res.exit_code == 2 and "missing required key 'title'" in res.stderr
    assert "\x1b" not in res.stderr and "\x07" not in res.stderr and "evil" in res.stderr
    res = runner.invoke(app, ["run", str(tmp_path / "missing\x1b[2J.yaml"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "\x1b" not in res.output


def test_control_characters_in_scenario_text_are_refused(tmp_path):
    scenario = tmp_path / "t.yaml"
    scenario.write_text('name: t\ntitle: "T \\e[2J"\nquestion: Q\n', encoding="utf-8")
    res = runner.invoke(app, ["validate", str(scenario)])
    assert res.exit_code == 2
    assert ("t.yaml:2: title: text must not hold control characters such as terminal escapes; found '\\x1b' at "
            "character 3") in " ".join(res.stderr.split())


@pytest.mark.parametrize("on_disk", [False, True, None])
def test_the_kernels_compile_cost_is_shown_once(monkeypatch, tmp_path, on_disk):
    """On a machine's first batch the kernels are compiled before it starts, and the command says so and how long
    it took; once they are in numba's cache (or where it cannot be told) nothing is said."""
    from sim.engine import kernels

    calls: list[int] = []
    monkeypatch.setattr(kernels, "compiled_on_disk", lambda: on_disk)
    monkeypatch.setattr(kernels, "warm_up", lambda: calls.append(1) or 1.25)
    scenario = ROOT / "scenarios" / "limited_deployment.yaml"
    res = runner.invoke(app, ["run", str(scenario), "--runs", "20", "--variants", "baseline", "--no-charts",
                              "--workers", "1", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    said = "compiling the engine's kernels (once on this machine)" in res.stderr
    assert said == (on_disk is False) and len(calls) == (on_disk is False)
    assert ("compiled in 1.2 s" in res.stderr) == (on_disk is False)
