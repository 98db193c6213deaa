"""Commands that read the doctrine and scenario files without running anything: validate, schema, list, explain."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from sim.cli.common import Configs, err, fail, out, print_json
from sim.cli.tables import catalogue_tables, item_table
from sim.errors import EXIT_INPUT, InputError, SimError
from sim.spec.loading import load_doctrine, load_scenario

ScenarioFiles = Annotated[list[Path], typer.Argument(help="Scenario YAML files.", show_default=False)]
SchemaOut = Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")]
Json = Annotated[bool, typer.Option("--json", help="Print as JSON.")]
ItemId = Annotated[str, typer.Argument(
    metavar="ID", show_default=False,
    help="A rung, actor, actor.attribute, red line, response, deployment type, location, move, model parameter or "
    "outcome id; KIND:ID picks one kind where an id names several (e.g. response:hybrid_attack).")]


ValidateJson = Annotated[bool, typer.Option(
    "--json", help="Print one object per file on stdout: ok with the scenario's name, variants, runs and weeks, "
    "or the error's message, file, line and key.")]


def _error_object(exc: SimError) -> dict[str, Any]:
    """A user error as JSON: its one-line text and, for an input error, each of its parts."""
    if not isinstance(exc, InputError):
        return {"text": str(exc)}
    found = exc.found if exc.found is None or isinstance(exc.found, (str, int, float, bool)) else repr(exc.found)
    return {"text": str(exc), "message": exc.message, "file": exc.file, "line": exc.line, "key": exc.key,
            "expected": exc.expected, "found": found, "hint": exc.hint}


def validate(scenarios: ScenarioFiles, as_json: ValidateJson = False, configs: Configs = None) -> None:
    """Check scenario files against the schema and the doctrine; exit 2 if any is invalid."""
    try:
        doctrine = load_doctrine(configs)
    except SimError as exc:
        if as_json:  # no file can be checked: the doctrine's error, as data
            print_json({"ok": False, "error": _error_object(exc), "files": []})
            raise typer.Exit(exc.exit_code) from None
        fail(exc)
    results: list[dict[str, Any]] = []
    for path in scenarios:
        try:
            spec = load_scenario(path, doctrine)
        except SimError as exc:
            results.append({"file": str(path), "ok": False, "error": _error_object(exc)})
            if not as_json:
                err.print(f"[bold red]invalid:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            continue
        results.append({"file": str(path), "ok": True, "scenario": spec.name, "variants": len(spec.variants) + 1,
                        "runs": spec.runs, "horizon_weeks": spec.horizon_weeks})
        if not as_json:
            out.print(f"ok: {path} ({spec.name}: {len(spec.variants) + 1} variant(s), {spec.runs:,} runs, "
                      f"{spec.horizon_weeks} weeks)", highlight=False)
    if as_json:
        print_json({"ok": all(r["ok"] for r in results), "files": results})
    if not all(r["ok"] for r in results):
        raise typer.Exit(EXIT_INPUT)


SchemaJson = Annotated[bool, typer.Option(
    "--json", help="With --out, print what was written as JSON (without it, the schema is the JSON printed).")]


def schema(out_file: SchemaOut = None, as_json: SchemaJson = False, configs: Configs = None) -> None:
    """Print the JSON Schema of scenario files (vocabularies from the doctrine)."""
    from sim.spec.json_schema import schema_text

    try:
        text = schema_text(load_doctrine(configs))
    except SimError as exc:
        fail(exc)
    if out_file is None:
        sys.stdout.write(text)
        return
    try:
        out_file.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(InputError(f"cannot write the schema ({exc.strerror or exc})", key="--out", found=str(out_file)))
    if as_json:
        print_json({"schema": str(out_file)})
        return
    err.print(f"schema written to {escape(str(out_file))}", highlight=False)


def list_(as_json: Json = False, configs: Configs = None) -> None:
    """List actors, rungs, deployment types, red lines, outcomes and shipped scenarios."""
    from sim.present.explain import catalogue

    try:
        data = catalogue(load_doctrine(configs))
    except SimError as exc:
        fail(exc)
    if as_json:
        print_json(data)
        return
    for table in catalogue_tables(data):
        out.print(table)
    out.print("Shipped scenarios: " + ", ".join(data["scenarios"]))


def explain(item_id: ItemId, as_json: Json = False, configs: Configs = None) -> None:
    """Explain one doctrine item: its parameters, its source and the entries of docs/sources.md it cites, its
    rationale, and the scenarios that use it."""
    from sim.present.explain import explain as explain_item

    try:
        info = explain_item(item_id, load_doctrine(configs))
    except SimError as exc:
        fail(exc)
    if as_json:
        print_json(info)
        return
    out.print(item_table(info))
