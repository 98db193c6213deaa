"""The story of one run: replay run ``k`` of a batch and tell it week by week.

Every draw is keyed by (seed, run index, week, site) (sim/engine/streams.py), so stepping the model over the single run
``k`` (R = 1) walks exactly the path that run took inside its batch, whatever chunk it sat in. The replay records
every act and every red-line event: a line is *crossed* the week its condition first holds (every time, for lines
on scripted moves), *enforced* when the crossing also passes the line's credibility draw (its declared response
then gains the commitment bonus), and *pressed* each later week a standing, persistent line stays crossed and
enforced.

A story is a plain dict (JSON-ready): the run's paths on both axes, the first week of each outcome, and per week
the acts (who did what to whom, at which rung) and the red-line events with their statements and sources. It can
also be rebuilt from a results folder's event table and sample paths, without red-line events (those are recorded
only by a replay).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from sim import NOT_A_FORECAST
from sim.batch.chunks import plan_chunks
from sim.engine.model import EscalationModel, simulate
from sim.engine.world import Context
from sim.errors import InputError
from sim.output.folder import safe_name
from sim.output.ranking import escalation_order, most_escalated_run
from sim.spec.doctrine import Doctrine
from sim.spec.scenario import ScenarioSpec
from sim.spec.vocabulary import OUTCOME_IDS


def _levers(scenario: ScenarioSpec, variant: str | None):
    levers = {lv.name: lv for lv in scenario.levers()}
    name = variant or scenario.baseline_name
    if name not in levers:
        raise InputError(f"unknown variant '{name}'", key="--variant", expected="one of: " + ", ".join(levers),
                         found=name)
    return levers[name]


def _base(doctrine: Doctrine, scenario: ScenarioSpec, variant: str, run: int) -> dict[str, Any]:
    return {
        "scenario": scenario.name,
        "title": scenario.title,
        "question": scenario.question.strip(),
        "seed": scenario.seed,
        "variant": variant,
        "run": int(run),
        "horizon_weeks": scenario.horizon_weeks,
        "rung_names": [r.name for r in doctrine.ladder],
        "blocs": {a.id: a.bloc.value for a in doctrine.actors},
        "note": NOT_A_FORECAST,
    }


def replay(doctrine: Doctrine, scenario: ScenarioSpec, run: int, variant: str | None = None) -> dict[str, Any]:
    """Replay run ``run`` of the scenario's batch (variant ``variant``, default the baseline) and return its story.

    Raises:
        InputError: for an unknown variant or a run index outside the batch.
    """
    if not 0 <= run < scenario.runs:
        raise InputError(f"run {run} is not in the batch", key="--run",
                         expected=f"a run index from 0 to {scenario.runs - 1}", found=run)
    lv = _levers(scenario, variant)
    ctx = Context.build(doctrine, scenario, lv)
    model = EscalationModel(ctx, np.array([run], dtype=np.int64), record_events=True)
    model.run_model()
    world = model.world
    tracker = world.outcomes
    ev = world.events()
    acts = [
        {"week": int(ev["week"][i]), "actor": ev["actor"][i], "target": ev["target"][i],
         "action": ev["action"][i], "rung": int(ev["rung"][i])}
        for i in range(len(ev["run"]))
    ]
    story = _base(doctrine, scenario, lv.name, run)
    story.update(
        replayed=True,
        red_lines_known=True,
        headline=tracker.headline[0].astype(int).tolist(),
        ukraine_axis=tracker.ukraine[0].astype(int).tolist(),
        first_weeks={oid: (int(w) if w >= 0 else None) for oid, w in zip(OUTCOME_IDS, tracker.first[0], strict=True)},
        sampled={k: float(v[0]) for k, v in sorted(model.sampled.items())},
    )
    return _assemble(story, doctrine, acts, world.red_line_log())


def write_trace(doctrine: Doctrine, scenario: ScenarioSpec, run: int, variant: str | None,
                out: str | Path) -> tuple[dict[str, Any], Path]:
    """Replay run ``run`` and save its story as ``<out>/<scenario>/traces/<variant>-run<K>-seed<S>/story.json``;
    returns (story, that folder)."""
    story = replay(doctrine, scenario, run, variant)
    folder = Path(out) / safe_name(scenario.name) / "traces" / f"{story['variant']}-run{run}-seed{scenario.seed}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the trace folder ({exc.strerror})", key="--out", found=str(folder)) from None
    (folder / "story.json").write_text(json.dumps(story, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    return story, folder


def from_events(doctrine: Doctrine, scenario: ScenarioSpec, run: int, variant: str, events: Iterable[dict[str, Any]],
                headline: list[int], first_weeks: dict[str, int | None] | None = None) -> dict[str, Any]:
    """Rebuild a run's story from its rows of an event table and its headline path (no red-line events)."""
    story = _base(doctrine, scenario, variant, run)
    story.update(replayed=False, red_lines_known=False, headline=[int(h) for h in headline],
                 ukraine_axis=None, first_weeks=first_weeks or {}, sampled={})
    acts = [{"week": int(e["week"]), "actor": str(e["actor"]), "target": str(e["target"]),
             "action": str(e["action"]), "rung": int(e["rung"])} for e in events]
    return _assemble(story, doctrine, acts, [])


def _assemble(story: dict[str, Any], doctrine: Doctrine, acts: list[dict[str, Any]],
              red_line_rows: list[dict[str, Any]]) -> dict[str, Any]:
    names = story["rung_names"]
    lines = {rl.id: rl for rl in doctrine.red_lines}
    weeks = []
    for w in range(story["horizon_weeks"]):
        week_acts = [dict(a, rung_name=names[a["rung"]]) for a in acts if a["week"] == w]
        for a in week_acts:
            del a["week"]
        week_lines = []
        for row in red_line_rows:
            if row["week"] != w:
                continue
            rl = lines[row["red_line"]]
            week_lines.append({"id": rl.id, "event": row["event"], "actor": rl.actor, "statement": rl.statement,
                               "said_by": rl.said_by, "declared_response": rl.declared_response, "source": rl.source})
        entry: dict[str, Any] = {"week": w, "headline": story["headline"][w], "acts": week_acts,
                                 "red_lines": week_lines}
        if story.get("ukraine_axis") is not None:
            entry["ukraine_axis"] = story["ukraine_axis"][w]
        weeks.append(entry)
    story["max_rung"] = int(max(story["headline"])) if story["headline"] else 0
    story["weeks"] = weeks
    story["red_lines_crossed"] = sorted({r["red_line"] for r in red_line_rows if r["event"] == "crossed"})
    story["red_lines_enforced"] = sorted({r["red_line"] for r in red_line_rows if r["event"] == "enforced"})
    return story


def most_escalated(sample_paths: dict[int, list[int]]) -> int:
    """Among runs with a stored path, the one that climbs highest, soonest (ties: the lowest index).

    >>> most_escalated({0: [1, 2, 2], 1: [1, 5, 1], 2: [5, 1, 1]})
    2
    """
    if not sample_paths:
        return 0
    def key(item: tuple[int, list[int]]) -> tuple[int, int, int]:
        run, path = item
        top = max(path)
        return (-top, path.index(top), run)
    return min(sample_paths.items(), key=key)[0]


def story_run(folder: str | Path, variant: str, sample_paths: dict[int, list[int]]) -> int:
    """The run a results folder's story tells: the most escalated run of ``variant`` in the whole batch (highest
    peak, soonest), from its per-run table; without one, the most escalated of the runs whose paths were kept."""
    run = most_escalated_run(folder, variant)
    return run if run is not None else most_escalated(sample_paths)


def worst_run(doctrine: Doctrine, scenario: ScenarioSpec, variant: str | None = None) -> int:
    """The most escalated run of the scenario's batch (one variant, default the baseline), found by stepping the
    batch chunk by chunk in this process, without writing anything: the run ``trace --worst`` replays."""
    lv = _levers(scenario, variant)
    ctx = Context.build(doctrine, scenario, lv)
    best: tuple[int, int, int] | None = None
    for chunk in plan_chunks(scenario.runs, scenario.chunk_size):
        res = simulate(ctx, np.arange(chunk.start, chunk.stop, dtype=np.int64), lv.name)
        peak, week, run = res.runs["max_rung"], res.runs["week_of_max_rung"], res.runs["run"]
        i = int(escalation_order(peak, week, run)[0])
        cand = (-int(peak[i]), int(week[i]), int(run[i]))
        best = cand if best is None or cand < best else best
    return best[2] if best is not None else 0


def story_lines(story: dict[str, Any], quiet_weeks: bool = False) -> list[str]:
    """The story as plain text lines, week by week: axes, acts ('who did what to whom') and red-line events."""
    names = story["rung_names"]
    out = [
        f"{story['title']}",
        f"run {story['run']} of variant '{story['variant']}', seed {story['seed']}, {story['horizon_weeks']} weeks"
        + (" (replayed)" if story.get("replayed") else " (from the event table)"),
        f"highest rung: {story['max_rung']} {names[story['max_rung']]}",
    ]
    happened = [f"{oid} (week {w})" for oid, w in story.get("first_weeks", {}).items() if w is not None]
    out.append("outcomes: " + (", ".join(happened) if happened else "none"))
    for entry in story["weeks"]:
        if quiet_weeks and not entry["acts"] and not entry["red_lines"]:
            continue
        axes = f"NATO axis {entry['headline']:>2}"
        if "ukraine_axis" in entry:
            axes += f", Ukraine axis {entry['ukraine_axis']:>2}"
        out.append(f"week {entry['week']:>3}  [{axes}]")
        enforced = {r["id"] for r in entry["red_lines"] if r["event"] == "enforced"}
        for r in entry["red_lines"]:
            if r["event"] == "pressed":
                out.append(f"    red line pressed: {r['id']} still crossed; "
                           f"commitment to {r['declared_response']} holds")
                continue
            crossed_too = any(x["id"] == r["id"] and x["event"] == "crossed" for x in entry["red_lines"])
            if r["event"] == "enforced" and crossed_too:
                continue  # told with its crossing
            verb = "CROSSED and ENFORCED" if r["id"] in enforced else "CROSSED (not enforced)"
            if r["event"] == "enforced":
                verb = "ENFORCED"
            out.append(f"    red line {verb}: {r['id']} - \"{r['statement']}\" ({r['said_by']}); declared response: "
                       f"{r['declared_response']}; source: {r['source']}")
        for a in entry["acts"]:
            out.append(f"    {a['actor']} -> {a['target']}: {a['action']} (rung {a['rung']} {a['rung_name']})")
    out.append(story["note"])
    return out
