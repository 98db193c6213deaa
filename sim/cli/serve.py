"""``escalation app``: the local interactive app over the same engine (sim/app), started on localhost."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import Configs, err, fail, print_json
from sim.errors import SimError

Scenario = Annotated[Path | None, typer.Argument(
    help="Scenario YAML file to open (default: scenarios/limited_deployment.yaml; others can be picked in the app).")]
Port = Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to serve on.")]
Host = Annotated[str, typer.Option(
    "--host", help="Address to serve on (default: 127.0.0.1, this computer only).")]
Runs = Annotated[int, typer.Option("--runs", min=100, max=100_000,
                                   help="Runs per arm of the batch that answers each change.")]
Out = Annotated[Path, typer.Option("--out", help="Folder under which 'run the full batch' makes its results folder.")]
Json = Annotated[bool, typer.Option("--json", help="Once serving, print the address as JSON on stdout.")]


def app(scenario: Scenario = None, port: Port = 8765, host: Host = "127.0.0.1", runs: Runs = 4000,
        out_dir: Out = Path("results"), configs: Configs = None, as_json: Json = False) -> None:
    """Start the local web app: a scenario's levers as form controls, each change answered by a batch."""
    try:
        from sim.app.server import serve
    except ImportError as exc:
        fail(SimError(f"the app needs its optional dependencies ({exc.name} is missing); install them with: "
                      "pip install -e '.[app]'"))
    try:
        serve(scenario, host=host, port=port, runs=runs, configs=configs, out=out_dir,
              say=lambda text: err.print(text, highlight=False, markup=False, soft_wrap=True),
              tell=print_json if as_json else None)
    except SimError as exc:
        fail(exc)
