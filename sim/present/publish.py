"""A results folder's charts and story: every chart redrawn from what the batch wrote, so ``escalation plot`` needs no
model run.

The story is ``story.json``: written once, by replaying the most escalated of the runs whose paths the aggregates
keep (a single run, R = 1), when the doctrine in ``configs/`` still matches the batch's doctrine hash; otherwise it
is rebuilt from the event table without red-line events.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sim.errors import InputError, SimError
from sim.output.folder import load_results, read_events

STORY_FILE = "story.json"
COMPARISON_FILE = "comparison.json"


def _reference(summary: dict[str, Any]) -> str:
    from sim.output.comparison import reference

    return reference(summary)


def check_results_folder(folder: str | Path) -> Path:
    """The folder, if it is a complete results folder; else an :class:`InputError` that says what is missing, or,
    for a batch that was stopped, how to finish it."""
    from sim.output.folder import RESUMABLE

    f = Path(folder)
    written_by = "a folder written by 'escalation run', 'escalation compare' or 'escalation sweep'"
    if not f.is_dir():
        raise InputError("not a results folder: no such folder", key="RESULTS_DIR", found=str(f),
                         expected=written_by)
    if (f / "manifest.json").is_file() and not (f / "summary.json").is_file():
        try:
            manifest = json.loads((f / "manifest.json").read_text(encoding="utf-8"))
            status = manifest.get("status")
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            manifest, status = {}, None
        if status in RESUMABLE:
            command = next((c for c in manifest.get("command") or [] if c in ("run", "compare", "sweep")),
                           "sweep" if manifest.get("sweep") else "run")
            raise InputError(f"this batch is not complete (status '{status}')", file=f,
                             hint=f"Finish it with: escalation {command} --resume {f}")
    missing = [n for n in ("manifest.json", "summary.json", "aggregates.json") if not (f / n).is_file()]
    if missing:
        raise InputError(f"not a results folder: {', '.join(missing)} missing", key="RESULTS_DIR", found=str(f),
                         expected=written_by)
    return f


def _doctrine_and_scenario(manifest: dict[str, Any]):
    """The doctrine in configs/ and the batch's resolved scenario, if the doctrine still matches the batch."""
    from sim.spec.loading import canonical_hash, load_doctrine
    from sim.spec.scenario import ScenarioSpec

    try:
        doctrine = load_doctrine()
    except SimError:
        return None, None, False
    try:
        scenario = ScenarioSpec.model_validate(manifest["resolved_scenario"], context={"doctrine": doctrine})
    except (KeyError, ValueError):
        return doctrine, None, False
    return doctrine, scenario, canonical_hash(doctrine) == manifest.get("doctrine_hash")


def _story_from_events(folder: Path, doctrine: Any, scenario: Any, summary: dict[str, Any], aggs: dict[str, Any],
                       run: int) -> dict[str, Any] | None:
    from sim.output import story as trace

    base = _reference(summary)
    if not (folder / "events.parquet").is_file() or run not in aggs[base].sample_paths:
        return None
    rows = read_events(folder, run, base)
    return trace.from_events(doctrine, scenario, run, base, rows, aggs[base].sample_paths[run])


def story(folder: str | Path, replay: bool = True) -> dict[str, Any] | None:
    """The story of one run of the folder: ``story.json`` if present; else (and written to ``story.json``) a
    replay when ``replay`` and the doctrine matches, else rebuilt from the event table; None if none can be told."""
    from sim.output import story as trace

    folder = Path(folder)
    saved = folder / STORY_FILE
    if saved.is_file():
        try:
            return json.loads(saved.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            pass
    manifest, summary, aggs = load_results(folder)
    doctrine, scenario, same = _doctrine_and_scenario(manifest)
    if doctrine is None or scenario is None:
        return None
    base = _reference(summary)
    paths = aggs[base].sample_paths
    run = trace.story_run(folder, base, paths)  # the most escalated run of the whole batch
    if replay and same:
        told = trace.replay(doctrine, scenario, run, base)
        saved.write_text(json.dumps(told, indent=1) + "\n", encoding="utf-8")
        return told
    # rebuilt from the event table, which needs the run's path: the most escalated run whose path was kept
    return _story_from_events(folder, doctrine, scenario, summary, aggs,
                              run if run in paths else trace.most_escalated(paths))


def comparison_of(folder: Path, summary: dict[str, Any]) -> dict[str, Any]:
    """The comparison of a results folder's variants (``comparison.json`` written when it holds more than one), or of
    its one variant with nothing (from the summary alone, not written)."""
    from sim.output import comparison as compare

    if len(summary["variants"]) > 1:
        comparison = compare.for_results(folder, summary)
        compare.write(comparison, folder)
        return comparison
    return compare.from_summary(summary)


#: What a long step tells as it goes: (steps done, steps in all, what is being done).
Progress = Callable[[int, int, str], None]


def draw_results(folder: str | Path, replay: bool = True, formats: Sequence[str] = ("png",),
                 on_chart: Progress | None = None, workers: int | None = None) -> list[Path]:
    """Draw the report's charts of a results folder into its ``charts/`` (in each of ``formats``, in ``workers``
    processes) and write ``comparison.json``/``.csv`` when it holds more than one variant; returns the chart files.
    ``on_chart(done, total, name)`` is told after each chart."""
    from sim.present.charts import draw_all

    folder = check_results_folder(folder)
    manifest, summary, aggs = load_results(folder)
    comparison = comparison_of(folder, summary)
    told = story(folder, replay=replay)
    return draw_all(summary, aggs, folder / "charts", comparison=comparison, stories=[told] if told else [],
                    formats=formats, on_chart=on_chart, workers=workers)


# ------------------------------------------------------------------------------------------ after a batch
def publish(folder: str | Path, charts: bool = True, formats: Sequence[str] = ("png",),
            on_progress: Progress | None = None, workers: int | None = None) -> tuple[list[Path], Path]:
    """What a finished batch's results folder shows: its charts (unless ``charts`` is False; in each of
    ``formats``) and report.html, and the data files either way (comparison.json and .csv with several variants,
    story.json). Returns (chart files, report). ``on_progress`` is told of each chart and of the report."""
    if charts:
        drawn = draw_results(folder, formats=formats, on_chart=_then_report(on_progress), workers=workers)
    else:
        drawn = []
        _, summary, _ = load_results(check_results_folder(folder))
        comparison_of(Path(folder), summary)
        story(folder)
    return drawn, _report(folder, on_progress)


def _then_report(on_progress: Progress | None) -> Progress | None:
    """Chart progress counted with one step more: the report written after the charts."""
    if on_progress is None:
        return None
    return lambda done, total, name: on_progress(done, total + 1, name)


def _report(folder: str | Path, on_progress: Progress | None) -> Path:
    from sim.present.report import write_report

    if on_progress is not None:
        on_progress(0, 0, "report.html")
    return write_report(folder)


def publish_comparison(folder: str | Path, on_progress: Progress | None = None) -> dict[str, Any]:
    """Draw a finished comparison: a side-by-side folder's chart, or a results folder's charts and report (its
    comparison.json written on the way). Returns the comparison."""
    from sim.present.charts import comparison_chart

    folder = Path(folder)
    if _is_side_by_side(folder):
        comparison = json.loads((folder / COMPARISON_FILE).read_text(encoding="utf-8"))
        comparison_chart(comparison, comparison["title"], folder / "charts")
        return comparison
    draw_results(folder, on_chart=_then_report(on_progress))
    _report(folder, on_progress)
    return json.loads((folder / COMPARISON_FILE).read_text(encoding="utf-8"))


def _is_side_by_side(folder: Path) -> bool:
    """A comparison folder of several scenario files: a manifest and comparison.json, no summary.json."""
    return ((folder / COMPARISON_FILE).is_file() and (folder / "manifest.json").is_file()
            and not (folder / "summary.json").exists())


def redraw(folder: str | Path, formats: Sequence[str] = ("png",), on_progress: Progress | None = None,
           workers: int | None = None) -> tuple[list[Path], Path | None]:
    """Redraw every chart of a results or comparison folder (and a results folder's report) from its files,
    without running the model. Returns (chart files, report); a damaged folder is an :class:`InputError`."""
    from sim.output.folder import TableError
    from sim.present.charts import comparison_chart

    folder = Path(folder)
    if _is_side_by_side(folder):
        try:
            comparison = json.loads((folder / COMPARISON_FILE).read_text(encoding="utf-8"))
            return comparison_chart(comparison, comparison["title"], folder / "charts", formats=formats), None
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"comparison.json cannot be read ({exc})", key="RESULTS_DIR", found=str(folder)) from None
    try:
        drawn = draw_results(folder, replay=False, formats=formats, on_chart=_then_report(on_progress),
                             workers=workers)
        return drawn, _report(folder, on_progress)
    except (ValueError, KeyError, TypeError, IndexError, StopIteration, OSError, TableError) as exc:
        # a damaged folder: files present but not what 'escalation run' writes
        raise InputError(f"the results folder is damaged and cannot be drawn ({type(exc).__name__}: {exc})",
                         key="RESULTS_DIR", found=str(folder),
                         hint="Run the scenario again, or resume it if it was interrupted") from None
