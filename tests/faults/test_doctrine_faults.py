"""A doctrine folder that validates but would break the model, and uncertainties that leave their range, are refused
before any run, naming the right file, line and key.

Hypothesis mutates the shipped doctrine folder (a parameter, an actor, an attribute or a role removed, a
distribution pushed out of its range) and requires each result either to load and run a short batch, or to be
refused with an InputError that names the file the mutation touched.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import ROOT, make_scenario, run_model
from typer.testing import CliRunner

from sim.cli.app import app
from sim.errors import InputError
from sim.spec.doctrine import BATCH_CONSTANTS, CORE_ACTORS, REQUIRED_PARAMETERS
from sim.spec.loading import load_doctrine

CONFIGS = ROOT / "configs"


def _read(name: str) -> dict:
    return yaml.safe_load((CONFIGS / name).read_text(encoding="utf-8"))


ACTORS = _read("actors.yaml")["actors"]
PARAMETERS = sorted(_read("model.yaml")["parameters"])
RED_LINES = _read("red_lines.yaml")["red_lines"]


def test_the_engine_reads_exactly_the_required_parameters() -> None:
    """The registry of parameters the doctrine must give is complete: the engine reads those and no others."""
    source = "\n".join(p.read_text() for p in (ROOT / "sim" / "engine").rglob("*.py"))
    indexed = re.findall(r"\b(?:p|params|self\.p|self\.params)\[\"([a-z_0-9]+)\"\]", source)
    called = re.findall(r"\bpar\(\"([a-z_0-9]+)\"\)", source)  # a member's parameter, per run or shared
    read = set(indexed) | set(called)
    assert read == set(REQUIRED_PARAMETERS)
    assert set(PARAMETERS) >= read


# ---------------------------------------------------------------------------------------------- mutations
def _mutation(kind: str, pick: int) -> tuple[str, str, object]:
    """(file, description, how) for one mutation of the shipped doctrine."""
    if kind == "parameter":
        return "model.yaml", PARAMETERS[pick % len(PARAMETERS)], None
    if kind == "actor":
        return "actors.yaml", ACTORS[pick % len(ACTORS)]["id"], None
    actor = ACTORS[pick % len(ACTORS)]
    if kind == "attribute":
        names = sorted(actor["attributes"])
        return "actors.yaml", actor["id"], names[(pick // len(ACTORS)) % len(names)]
    if kind == "role":
        roles = actor.get("roles") or ["none"]
        return "actors.yaml", actor["id"], roles[(pick // len(ACTORS)) % len(roles)]
    if kind == "attribute_range":
        names = sorted(actor["attributes"])
        return "actors.yaml", actor["id"], names[(pick // len(ACTORS)) % len(names)]
    return "red_lines.yaml", RED_LINES[pick % len(RED_LINES)]["id"], None


def _apply(folder: Path, kind: str, target: str, detail: object, value: float) -> None:
    name, _, _ = _mutation(kind, 0)
    path = folder / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if kind == "parameter":
        del data["parameters"][target]
    elif kind == "actor":
        data["actors"] = [a for a in data["actors"] if a["id"] != target]
    elif kind in ("attribute", "role", "attribute_range"):
        actor = next(a for a in data["actors"] if a["id"] == target)
        if kind == "attribute":
            del actor["attributes"][detail]
        elif kind == "role":
            actor["roles"] = [r for r in actor.get("roles") or [] if r != detail]
        else:
            actor["attributes"][detail] = {"dist": "fixed", "value": value, "source": "[design]"}
    else:
        rl = next(r for r in data["red_lines"] if r["id"] == target)
        rl["credibility"] = {"dist": "uniform", "low": 0.1, "high": value, "source": "[design]"}
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


KINDS = ("parameter", "actor", "attribute", "role", "attribute_range", "credibility")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(KINDS), pick=st.integers(0, 10_000),
       value=st.one_of(st.floats(-1e300, 1e300, allow_nan=False), st.sampled_from([1.5, -0.1, 1e300, 0.5])))
def test_a_mutated_doctrine_runs_or_is_refused_naming_its_file(tmp_path_factory: pytest.TempPathFactory, kind: str,
                                                                pick: int, value: float) -> None:
    folder = tmp_path_factory.mktemp("configs")
    shutil.copytree(CONFIGS, folder, dirs_exist_ok=True)
    name, target, detail = _mutation(kind, pick)
    if kind == "credibility" and value < 0.1:
        value = 1.0 + abs(value)  # below its own low end is a different refusal (low > high): keep it about range
    _apply(folder, kind, target, detail, value)
    try:
        doctrine = load_doctrine(folder)
    except InputError as exc:
        assert exc.file is not None and Path(exc.file).name in (name, "calibration.yaml", "geography.yaml",
                                                                "red_lines.yaml", "moves.yaml"), str(exc)
        assert str(folder) in exc.file
        if kind == "parameter":  # the model, or the calibration that names the parameter, lacks it
            assert Path(exc.file).name in (name, "calibration.yaml"), str(exc)
        if kind in ("attribute_range", "credibility"):
            assert Path(exc.file).name == name and "range" in str(exc), str(exc)
        return
    if kind == "parameter":
        pytest.fail("a doctrine without the parameter " + target + " was accepted")
    if kind == "actor":
        assert target not in CORE_ACTORS
    scenario = make_scenario(doctrine, horizon_weeks=6, runs=2)  # what loads must run
    run_model(doctrine, scenario, [0, 1])


@pytest.mark.parametrize(("kind", "target", "detail", "says", "name"), [
    ("parameter", "hub_target_weight", None, "missing model parameter 'hub_target_weight'", "model.yaml"),
    ("actor", "ukraine", None, "missing core actor 'ukraine'", "actors.yaml"),
    ("role", "nato", "alliance", "places no entry for members: nato", "geography.yaml"),  # it becomes a member
    ("attribute", "china", "leverage", "actor 'china' lacks the attribute 'leverage' (needed by its mediator role)",
     "actors.yaml"),
    ("attribute", "turkey", "mediation_propensity", "needed by its mediator role", "actors.yaml"),
    ("role", "india", "dialogue", "no agent plays actor 'india'", "actors.yaml"),
])
def test_each_model_breaking_doctrine_is_refused_by_validate_and_run(tmp_path: Path, kind: str, target: str,
                                                                     detail: str | None, says: str,
                                                                     name: str) -> None:
    folder = tmp_path / "configs"
    shutil.copytree(CONFIGS, folder)
    _apply(folder, kind, target, detail, 0.0)
    file = folder / name
    scenario = ROOT / "scenarios" / "limited_deployment.yaml"
    for args in (["validate", str(scenario)], ["run", str(scenario), "--runs", "20", "--out", str(tmp_path / "out")]):
        result = CliRunner().invoke(app, [*args, "--configs", str(folder)])
        assert result.exit_code == 2, result.output
        assert says in result.stderr and str(file) in result.stderr, result.stderr
        assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", sorted(BATCH_CONSTANTS))
def test_a_calibration_of_a_batch_constant_is_refused(tmp_path: Path, name: str) -> None:
    """A parameter the model takes as one value for the whole batch cannot be calibrated per run: validate and run
    refuse the calibration that names it (exit 2, calibration.yaml named), instead of failing mid-batch."""
    folder = tmp_path / "configs"
    shutil.copytree(CONFIGS, folder)
    data = yaml.safe_load((folder / "calibration.yaml").read_text())
    cal = data["calibration"]
    cal["parameters"].append(name)
    value = yaml.safe_load((folder / "model.yaml").read_text())["parameters"][name]["value"]
    cal["sets"] = [[*row, value] for row in cal["sets"]]
    (folder / "calibration.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    scenario = ROOT / "scenarios" / "limited_deployment.yaml"
    for args in (["validate", str(scenario)], ["run", str(scenario), "--runs", "20", "--out", str(tmp_path / "out")]):
        result = CliRunner().invoke(app, [*args, "--configs", str(folder)])
        assert result.exit_code == 2, result.output
        assert f"'{name}', which holds for a whole batch" in result.stderr, result.stderr
        assert str(folder / "calibration.yaml") in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_cross_file_checks_name_the_file_they_are_about(tmp_path: Path) -> None:
    folder = tmp_path / "configs"
    shutil.copytree(CONFIGS, folder)
    data = yaml.safe_load((folder / "geography.yaml").read_text())
    data["geography"] = data["geography"][1:]
    (folder / "geography.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(InputError) as info:
        load_doctrine(folder)
    assert info.value.file == str(folder / "geography.yaml"), str(info.value)


# ------------------------------------------------------------------------------------------------ ranges
@pytest.mark.parametrize("dist", [
    "{dist: fixed, value: 1e300}",
    "{dist: uniform, low: 0.2, high: 1.5}",
    "{dist: triangular, low: -0.5, mode: 0.5, high: 0.9}",
    "{dist: normal, mean: 0.5, sd: 0.1}",
])
def test_an_uncertainty_outside_its_attribute_range_is_refused(tmp_path: Path, dist: str) -> None:
    data = (ROOT / "scenarios" / "limited_deployment.yaml").read_text()
    scenario = tmp_path / "s.yaml"
    scenario.write_text(re.sub(r"^  russia\.resolve: .*$", "  russia.resolve: " + dist, data, count=1, flags=re.M))
    line = scenario.read_text().splitlines().index("  russia.resolve: " + dist) + 1
    for args in (["validate", str(scenario)], ["run", str(scenario), "--runs", "20", "--out", str(tmp_path / "out")]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, result.output
        text = " ".join(result.stderr.split())
        assert f"{scenario}:{line}:" in text and "uncertainties.russia.resolve" in text, text
        assert "[0, 1]" in text
    assert not (tmp_path / "out").exists()


def test_the_shipped_scenarios_keep_their_uncertainties_in_range() -> None:
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        result = CliRunner().invoke(app, ["validate", str(path)])
        assert result.exit_code == 0, (path, result.output)
        assert result.stdout.startswith("ok:")


def test_a_valid_uncertainty_is_kept() -> None:
    doctrine = load_doctrine()
    spec = make_scenario(doctrine, uncertainties={"russia.resolve": {"dist": "uniform", "low": 0.2, "high": 0.3}})
    res = run_model(doctrine, spec, range(50))
    assert res.runs is not None
