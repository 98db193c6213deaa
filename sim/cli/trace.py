"""``escalation trace``: replay one run of a batch and tell it week by week."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import Configs, fail, out, print_json
from sim.errors import SimError

Scenario = Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)]
RunIndex = Annotated[int | None, typer.Option("--run", min=0, help="Index of the run to replay (0 to runs - 1).",
                                              show_default=False)]
Worst = Annotated[bool, typer.Option("--worst", help="Replay the most escalated run of the batch (highest rung, "
                                     "soonest), found by running the batch of the variant first.")]
Seed = Annotated[int | None, typer.Option("--seed", min=0, help="Root seed of the batch (default: the file's).")]
Runs = Annotated[int | None, typer.Option("--runs", min=1, help="Runs of the batch (default: the file's).")]
Variant = Annotated[str | None, typer.Option("--variant", help="Variant name (default: the baseline).")]
Out = Annotated[Path, typer.Option("--out", help="Folder under which the trace folder is made.")]
AllWeeks = Annotated[bool, typer.Option("--all-weeks", help="Print quiet weeks too.")]
Json = Annotated[bool, typer.Option("--json", help="Print the story as JSON on stdout.")]


def trace(scenario: Scenario, run_index: RunIndex = None, seed: Seed = None, runs: Runs = None,
          variant: Variant = None, out_dir: Out = Path("results"), all_weeks: AllWeeks = False, as_json: Json = False,
          configs: Configs = None, worst: Worst = False) -> None:
    """Replay run K of a batch (or, with --worst, its most escalated run) and tell it week by week: who did what
    to whom, and which red lines were crossed."""
    from sim.errors import InputError
    from sim.output.story import story_lines, worst_run, write_trace
    from sim.present.charts import timeline_chart
    from sim.spec.loading import load_doctrine, load_scenario, with_overrides

    try:
        doctrine = load_doctrine(configs)
        spec = with_overrides(load_scenario(scenario, doctrine), doctrine, seed=seed, runs=runs)
        if (run_index is None) == (not worst):
            raise InputError("give the run to replay", key="--run",
                             expected="--run K or --worst (one of them)", found="both" if worst else "neither")
        if run_index is None:
            run_index = worst_run(doctrine, spec, variant)
        story, folder = write_trace(doctrine, spec, run_index, variant, out_dir)
    except SimError as exc:
        fail(exc)
    charts = timeline_chart(story, folder, formats=("png", "svg"))
    if as_json:
        print_json(dict(story, results=str(folder)))
        return
    for line in story_lines(story, quiet_weeks=not all_weeks):
        out.print(line, highlight=False, markup=False)
    out.print(f"timeline: {charts[0]}", highlight=False)
