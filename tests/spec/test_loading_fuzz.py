"""Fuzzing the scenario loader: whatever a file holds, loading it either succeeds or raises an InputError whose
message names the file; never another exception.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from strategies import SCENARIOS, mutated_bytes, mutated_scenarios, mutated_texts, yaml_like_text
from typer.testing import CliRunner

from sim.cli.app import app
from sim.errors import InputError
from sim.spec.loading import load_scenario

FUZZ = settings(max_examples=120, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "fuzzed scenario.yaml"


def load_or_input_error(path: Path, doctrine) -> None:
    """Load ``path``: success, or an InputError naming the file; any other exception fails the test."""
    try:
        load_scenario(path, doctrine)
    except InputError as exc:
        message = str(exc)
        assert message.startswith(str(path)), message
        assert "\n" not in message and "Traceback" not in message, message
        assert len(message) < 2000, message


@FUZZ
@given(data=mutated_scenarios())
def test_mutated_scenarios(data, target: Path, doctrine) -> None:
    target.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    load_or_input_error(target, doctrine)


@FUZZ
@given(text=mutated_texts())
def test_mutated_text(text: str, target: Path, doctrine) -> None:
    target.write_text(text, encoding="utf-8")
    load_or_input_error(target, doctrine)


@FUZZ
@given(raw=mutated_bytes())
def test_mutated_bytes(raw: bytes, target: Path, doctrine) -> None:
    target.write_bytes(raw)
    load_or_input_error(target, doctrine)


@FUZZ
@given(text=yaml_like_text)
def test_random_yaml_text(text: str, target: Path, doctrine) -> None:
    target.write_text(text, encoding="utf-8")
    load_or_input_error(target, doctrine)


def test_mutations_do_find_errors(doctrine, target: Path) -> None:
    """The strategies are not toothless: dropping a required key is reported."""
    data = dict(SCENARIOS[0])
    del data["name"]
    target.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(InputError, match="missing required key 'name'"):
        load_scenario(target, doctrine)


@settings(max_examples=15, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated_scenarios(max_mutations=2))
def test_validate_command_never_shows_a_traceback(data, target: Path) -> None:
    target.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(target)])
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == 2:
        assert result.stderr.startswith(f"invalid: {target}"), result.stderr
