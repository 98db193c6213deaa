"""What a batch writes, read as others will read it: every JSON file is strict JSON (a browser's ``JSON.parse`` and
editors accept it), ``manifest.json`` and ``summary.json`` validate against the versioned JSON Schemas shipped in
``schema/``, every Parquet file says in its metadata what made it, and events carry a date when the scenario has a
start date. Data files are written with or without charts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from support import ROOT
from typer.testing import CliRunner

from sim.cli.app import app

jsonschema = pytest.importorskip("jsonschema")
runner = CliRunner()

SCENARIO = """\
# yaml-language-server: $schema=../schema/scenario.schema.json
name: files_test
title: "Files test: $\\\\foo{x}$ [bold]title[/bold]"
question: "What does a batch write?"
start_date: 2025-03-03
horizon_weeks: 12
runs: 40
seed: 11
chunk_size: 20
deployments:
  - {id: eng, contributors: [france, poland], type: non_combat, size: 3000, location: western, start_week: 1}
timeline:
  - {week: 0, actor: us, move: arms_delivery}
  - {week: 2, actor: uk, move: new_weapon_class}
uncertainties:
  us.resolve: {dist: normal, mean: 0.7, sd: 0.1, low: 0, high: 1}
variants:
  - name: frontline
    deployments:
      - {id: eng, contributors: [france, poland], type: non_combat, size: 3000, location: frontline, start_week: 1}
"""


def _strict(text: str, where: Path) -> object:
    def refuse(constant: str) -> None:
        raise AssertionError(f"{where} holds {constant}: strict JSON parsers refuse it")

    return json.loads(text, parse_constant=refuse)


def _schema(name: str) -> dict:
    return json.loads((ROOT / "schema" / f"{name}.schema.json").read_text(encoding="utf-8"))


def _validate(document: object, name: str) -> None:
    schema = _schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(document)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("files") / "files_test.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def batch(scenario, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    res = runner.invoke(app, ["run", str(scenario), "--workers", "1", "--out", str(out), "--no-charts"])
    assert res.exit_code == 0, res.output
    (folder,) = (out / "files_test").iterdir()
    return res, folder


@pytest.fixture(scope="module")
def side_by_side(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare")
    files = [str(ROOT / "scenarios" / n) for n in ("limited_deployment.yaml", "reassurance_force.yaml")]
    res = runner.invoke(app, ["compare", *files, "--runs", "30", "--workers", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    (folder,) = (out / "comparisons").iterdir()
    return res, folder


def test_every_json_file_a_batch_writes_is_strict(batch, side_by_side):
    """An uncertainty with an unbounded normal (infinite default bounds) is in the resolved scenario, and yet no
    file holds NaN or Infinity."""
    seen = []
    for folder in (batch[1], side_by_side[1]):
        for path in sorted(folder.rglob("*.json")):
            _strict(path.read_text(encoding="utf-8"), path)
            seen.append(path.name)
    assert {"manifest.json", "summary.json", "aggregates.json", "comparison.json", "story.json"} <= set(seen)
    manifest = json.loads((batch[1] / "manifest.json").read_text())
    assert manifest["resolved_scenario"]["uncertainties"]["us.resolve"] == {
        "dist": "normal", "mean": 0.7, "sd": 0.1, "low": 0.0, "high": 1.0, "source": None, "rationale": None}


def test_manifest_and_summary_follow_their_versioned_schemas(batch, side_by_side):
    folder = batch[1]
    manifest = json.loads((folder / "manifest.json").read_text())
    summary = json.loads((folder / "summary.json").read_text())
    assert manifest["schema"] == "escalation-manifest/1" and summary["schema"] == "escalation-summary/1"
    _validate(manifest, "manifest")
    _validate(summary, "summary")
    side = side_by_side[1]
    side_manifest = json.loads((side / "manifest.json").read_text())
    assert side_manifest["kind"] == "comparison"
    _validate(side_manifest, "manifest")
    for part in side_manifest["batches"].values():
        _validate(json.loads((side / part / "manifest.json").read_text()), "manifest")
        _validate(json.loads((side / part / "summary.json").read_text()), "summary")


def test_the_schemas_refuse_what_they_do_not_describe(batch):
    folder = batch[1]
    summary = json.loads((folder / "summary.json").read_text())
    broken = json.loads(json.dumps(summary))
    broken["variants"]["baseline"]["outcomes"]["nuclear_use"]["probability"] = 1.5
    with pytest.raises(jsonschema.ValidationError):
        _validate(broken, "summary")
    del broken["variants"]["baseline"]["outcomes"]["nuclear_use"]
    with pytest.raises(jsonschema.ValidationError):
        _validate(broken, "summary")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["status"] = "finished"
    with pytest.raises(jsonschema.ValidationError):
        _validate(manifest, "manifest")
    manifest["status"], manifest["schema"] = "complete", "escalation-manifest/2"
    with pytest.raises(jsonschema.ValidationError):
        _validate(manifest, "manifest")


def test_the_summary_schema_lists_every_outcome():
    from sim.spec.vocabulary import OUTCOME_IDS

    outcomes = _schema("summary")["$defs"]["variant"]["properties"]["outcomes"]
    assert outcomes["required"] == list(OUTCOME_IDS) == outcomes["propertyNames"]["enum"]


def test_every_parquet_file_says_what_made_it(batch):
    folder = batch[1]
    manifest = json.loads((folder / "manifest.json").read_text())
    for name in ("runs", "events"):
        meta = {k.decode(): v.decode() for k, v in pq.read_metadata(folder / f"{name}.parquet").metadata.items()}
        assert meta["escalation.table"] == name
        assert meta["escalation.seed"] == "11" and meta["escalation.runs"] == "40"
        for key in ("scenario_hash", "doctrine_hash", "event_coding_hash"):
            assert meta[f"escalation.{key}"] == manifest[key]
        assert json.loads(meta["escalation.versions"]) == manifest["versions"]
        assert meta["escalation.start_date"] == "2025-03-03"


def test_events_have_a_date_when_the_scenario_has_a_start_date(batch):
    rows = pq.read_table(batch[1] / "events.parquet", columns=["week", "date", "action", "actor1_code",
                                                               "actor2_code", "event_code"]).to_pylist()
    assert rows
    for row in rows:
        assert row["date"] == dt.date(2025, 3, 3) + dt.timedelta(weeks=row["week"])
    delivered = {(r["actor1_code"], r["actor2_code"], r["event_code"]) for r in rows if r["action"] == "move:"
                 "new_weapon_class"}
    assert delivered == {("GBR", "UKR", "072")}


def test_no_charts_still_writes_every_data_file(batch):
    res, folder = batch
    for name in ("comparison.json", "comparison.csv", "story.json", "report.html"):
        assert (folder / name).is_file(), name
    assert not list((folder / "charts").glob("*.png")) if (folder / "charts").exists() else True


def test_user_text_reaches_the_terminal_as_text(batch):
    """The title holds TeX and rich markup: the terminal shows both as the characters they are."""
    res, _ = batch
    assert "[bold]title[/bold]" in res.stdout and "$\\foo{x}$" in res.stdout


def test_compare_of_several_files_writes_a_report_per_file(side_by_side):
    res, folder = side_by_side
    manifest = json.loads((folder / "manifest.json").read_text())
    reports = [folder / part / "report.html" for part in manifest["batches"].values()]
    assert len(reports) == 2 and all(r.is_file() for r in reports)
    for r in reports:
        assert f"report:  {r}\n" in res.stdout, "a path is printed whole, on one line"
