"""The app's user interface (Solara): pick or open a scenario, edit its levers, read the answer.

Every control offers only the schema's choices (:func:`sim.app.session.choices`) and every edit goes through the
edit functions of :mod:`sim.app.session`, so a value the schema refuses cannot be entered. Each change starts a
batch in a background thread (a newer change cancels an older batch); the numbers come first, then the charts.
What the page needs from the command line comes in environment variables set by :mod:`sim.app.server`.
"""

from __future__ import annotations

import html
import json
import os
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Any

import solara
import solara.lab

from sim.app import figures, session, variants
from sim.app.settings import CONFIGS_ENV, OUT_ENV, RUNS_ENV, SCENARIO_ENV
from sim.errors import SimError

#: The scenario opened when none is named.
DEFAULT_SCENARIO = "limited_deployment.yaml"

CSS = """
table.answer { border-collapse: collapse; font-size: 13px; }
table.answer th, table.answer td { padding: 2px 8px; border-bottom: 1px solid #ddd; text-align: right; }
table.answer td.outcome, table.answer th.outcome { text-align: left; font-family: monospace; }
table.answer td.up { color: #b2182b; } table.answer td.down { color: #2166ac; }
.stale { opacity: 0.55; }
"""


def _settings() -> tuple[str, int, str | None, str]:
    default = str(Path(session.shipped_scenarios()[0].parent) / DEFAULT_SCENARIO)
    scenario = os.environ.get(SCENARIO_ENV) or default
    runs = int(os.environ.get(RUNS_ENV) or session.APP_RUNS)
    return scenario, runs, os.environ.get(CONFIGS_ENV) or None, os.environ.get(OUT_ENV) or "results"


def shown(path: str) -> str:
    """A path as the page shows it: relative to the folder the app was started in when it lies inside.

    >>> shown(str(Path.cwd() / "scenarios" / "a.yaml")) == str(Path("scenarios") / "a.yaml")
    True
    """
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path


def _pct(p: float) -> str:
    return f"{100 * p:.1f}%"


def answer_table(rows: list[dict[str, Any]], baseline: str) -> str:
    """The answer as an HTML table (every cell escaped): one row per outcome, ``data-outcome`` its id."""
    head = (f"<tr><th class='outcome'>outcome</th><th>{html.escape(baseline)} (95% CI)</th>"
            f"<th>option (95% CI)</th><th>difference, paired (95% CI)</th></tr>")
    body = []
    for r in rows:
        lo, hi = r["difference_ci"]
        trend = "up" if lo > 0 else "down" if hi < 0 else ""
        body.append(
            f"<tr data-outcome='{html.escape(r['outcome'])}'><td class='outcome'>{html.escape(r['outcome'])}</td>"
            f"<td class='baseline'>{_pct(r['baseline'])} ({_pct(r['baseline_ci'][0])}-{_pct(r['baseline_ci'][1])})"
            f"</td><td class='option'>{_pct(r['option'])} ({_pct(r['option_ci'][0])}-{_pct(r['option_ci'][1])})</td>"
            f"<td class='difference {trend}'>{100 * r['difference']:+.1f} pts ({100 * lo:+.1f} to {100 * hi:+.1f})"
            f"</td></tr>")
    return f"<table class='answer'>{head}{''.join(body)}</table>"


def Heading(text: str, tag: str = "h4") -> Any:
    """A heading in plain, escaped HTML (Solara's markdown component would load a maths renderer from a CDN)."""
    return solara.HTML(tag=tag, unsafe_innerHTML=html.escape(text), style="margin: 8px 0 4px 0")


# ------------------------------------------------------------------------------------------------ controls
@solara.component
def DeploymentControls(index: int, d: dict[str, Any], ch: session.Choices, change: Callable[..., None],
                       remove: Callable[[int], None]) -> None:
    end = d.get("end_week")
    last = (end - 1) if end is not None else ch.horizon - 1
    with solara.Card(f"deployment {d['id']}", margin=0, classes=[f"dep-{index}"]):
        solara.Select("type", values=list(ch.types), value=d["type"],
                      on_value=lambda v: change(index, type=v), classes=[f"dep-{index}-type"])
        solara.Select("location", values=list(ch.locations[d["type"]]), value=d["location"],
                      on_value=lambda v: change(index, location=v), classes=[f"dep-{index}-location"])
        solara.SelectMultiple("contributors", values=list(d["contributors"]), all_values=list(ch.members),
                              on_value=lambda v: change(index, contributors=v), classes=[f"dep-{index}-contributors"])
        solara.InputInt(f"size ({ch.min_size:,} to {ch.max_size:,})", value=d["size"],
                        on_value=lambda v: change(index, size=v if v is not None else d["size"]),
                        classes=[f"dep-{index}-size"])
        solara.SliderInt("start week", value=d["start_week"], min=0, max=max(last, 0),
                         on_value=lambda v: change(index, start_week=v))
        solara.Select("condition", values=list(session.CONDITIONS), value=d.get("condition", "always"),
                      on_value=lambda v: change(index, condition=v), classes=[f"dep-{index}-condition"])
        solara.Button("remove", text=True, on_click=lambda: remove(index), classes=[f"dep-{index}-remove"])


@solara.component
def LeverControls(option: session.Option, ch: session.Choices, set_option: Callable[[session.Option], None]) -> None:
    def change(index: int, **changes: Any) -> None:
        set_option(session.set_deployment(option, ch, index, **changes))

    def remove(index: int) -> None:
        set_option(session.remove_deployment(option, index))

    Heading("Deployments")
    for i, d in enumerate(option["deployments"]):
        DeploymentControls(i, d, ch, change, remove).key(f"dep-{d['id']}")
    solara.Button("add a deployment", outlined=True,
                  on_click=lambda: set_option(session.add_deployment(option, ch)), classes=["add-deployment"])

    ds = option["policies"]["deep_strike"]
    Heading("Deep strikes with Western weapons")
    solara.Checkbox(label="authorised", value=ds["authorised"],
                    on_value=lambda v: set_option(session.set_deep_strike(option, ch, authorised=v)))
    solara.SliderInt("from week", value=ds["from_week"], min=0, max=ch.horizon - 1,
                     on_value=lambda v: set_option(session.set_deep_strike(option, ch, from_week=v)))
    solara.SelectMultiple("suppliers", values=list(ds["suppliers"]), all_values=list(ch.members),
                          on_value=lambda v: set_option(session.set_deep_strike(option, ch, suppliers=v)))

    Heading("Mediators")
    # not named (None): every actor with the mediator role may mediate, shown as all of them chosen
    chosen = list(ch.mediators) if option["mediators"] is None else list(option["mediators"])
    solara.SelectMultiple("mediators", values=chosen, all_values=list(ch.mediators),
                          on_value=lambda v: set_option(session.set_mediators(option, ch, v)), classes=["mediators"])

    Heading("Timeline (scripted moves)")
    for i, m in enumerate(option["timeline"]):
        MoveControls(i, m, ch, lambda index, **changes: set_option(session.set_move(option, ch, index, **changes)))


@solara.component
def MoveControls(index: int, m: dict[str, Any], ch: session.Choices, change: Callable[..., None]) -> None:
    def week(v: int) -> None:
        change(index, week=v)

    def actor(v: str) -> None:
        change(index, actor=v)

    def move(v: str) -> None:
        change(index, move=v)

    with solara.Card(margin=0):
        solara.SliderInt(f"week of move {index + 1}", value=m["week"], min=0, max=ch.horizon - 1, on_value=week)
        with solara.Row():
            solara.Select("actor", values=list(ch.move_actors), value=m["actor"], on_value=actor)
            solara.Select("move", values=list(ch.moves), value=m["move"], on_value=move)


# ------------------------------------------------------------------------------------------------ answers
@solara.component
def Charts(result: session.Answer, opened: session.Opened) -> None:
    def draw() -> tuple[bytes, bytes]:
        names = [r.name for r in opened.doctrine.ladder]
        overlay = figures.overlay_png(session.cumulative(result.baseline.aggregates),
                                      session.cumulative(result.option.aggregates),
                                      baseline_name=result.baseline.name, option_name=session.OPTION,
                                      runs=result.runs, title=result.scenario.title)
        fan = figures.fan_png(result.baseline.aggregates, result.option.aggregates, names,
                              baseline_name=result.baseline.name, option_name=session.OPTION)
        return overlay, fan

    drawn = solara.lab.use_task(draw, dependencies=[id(result)], raise_error=False)
    if drawn.error:
        solara.Error(f"the charts could not be drawn: {drawn.exception}", classes=["chart-error"])
        return
    if drawn.latest is None:
        solara.Text("drawing the charts ...")
        return
    overlay, fan = drawn.latest
    with solara.Column(classes=["stale"] if drawn.pending else []):
        solara.Image(overlay, format="png", classes=["overlay-chart"])
        solara.Image(fan, format="png", classes=["fan-chart"])


@solara.component
def Story(result: session.Answer, opened: session.Opened) -> None:
    lines, set_lines = solara.use_state("")
    solara.use_effect(lambda: set_lines(""), [id(result)])

    def tell() -> None:
        from sim.output.story import story_lines

        set_lines("\n".join(story_lines(session.most_escalated_story(opened, result), quiet_weeks=True)))

    solara.Button("read the most escalated run as a story", outlined=True, on_click=tell, classes=["read-story"])
    if lines:
        solara.Preformatted(lines, class_="story", style_="max-height: 420px; overflow: auto; font-size: 12px;")


@solara.component
def SaveVariant(opened: session.Opened, option: session.Option, runs: int) -> None:
    name, set_name = solara.use_state("")
    description, set_description = solara.use_state("")
    message, set_message = solara.use_state(("", ""))

    def save() -> None:
        try:
            variants.save_variant(opened.path, opened.doctrine, name.strip(), description.strip(),
                                  session.differing_levers(opened, option))
        except SimError as exc:
            set_message(("error", str(exc)))
            return
        set_message(("ok", f"saved variant '{name.strip()}' into {opened.path}. Reproduce: escalation compare "
                           f"{opened.path} --variants {name.strip()} --runs {runs}"))

    Heading("Save as variant")
    with solara.Row():
        solara.InputText("variant name", value=name, on_value=set_name, continuous_update=True,
                         classes=["variant-name"])
        solara.InputText("description", value=description, on_value=set_description, continuous_update=True,
                         classes=["variant-description"])
        solara.Button("save as variant", color="primary", on_click=save, disabled=not name.strip(),
                      classes=["save-variant"])
    kind, text = message
    if kind == "ok":
        solara.Success(text, classes=["saved"])
    elif kind == "error":
        solara.Error(text, classes=["save-error"])


@solara.component
def FullBatch(opened: session.Opened, configs: str | None, out: str) -> None:
    progress = solara.use_reactive(0.0)

    def run() -> Path:
        progress.value = 0.0

        def advance(share: float) -> None:
            progress.value = share

        return session.full_batch(opened, configs=Path(configs) if configs else None, out=Path(out),
                                  on_progress=advance)

    task = solara.lab.use_task(run, dependencies=None, raise_error=False)
    Heading(f"Full batch ({opened.scenario.runs:,} runs per variant, {len(opened.scenario.variants) + 1} "
            "variants, as escalation run writes it)")
    solara.Button("run the full batch", on_click=lambda: task(), disabled=task.pending, classes=["full-batch"])
    if task.pending:
        solara.ProgressLinear(100 * progress.value if progress.value else True, classes=["full-batch-progress"])
        solara.Text(f"{progress.value:.0%} of the runs done")
    elif task.error:
        solara.Error(str(task.exception), classes=["full-batch-error"])
    elif task.finished and task.value is not None:
        report = task.value
        solara.Success(f"report: {report}", classes=["report-path"])
        with solara.Row():
            solara.Button("open the report", text=True,
                          on_click=lambda: threading.Thread(target=webbrowser.open, args=(report.as_uri(),),
                                                            daemon=True).start())
            solara.FileDownload(lambda: report.read_bytes(), filename="report.html", label="download report.html",
                                mime_type="text/html")


@solara.component
def ScenarioView(opened: session.Opened, runs: int, configs: str | None, out: str) -> None:
    ch = solara.use_memo(lambda: session.choices(opened.doctrine, opened.scenario), dependencies=[opened.key])
    option, set_option = solara.use_state(session.option_from(opened.scenario))
    start, set_start = solara.use_state(opened.scenario.baseline_name)
    key = json.dumps(option, sort_keys=True)

    def compute() -> session.Answer:
        return session.answer(opened, option, runs)

    result = solara.lab.use_task(compute, dependencies=[key], raise_error=False)

    def start_from(name: str) -> None:
        set_start(name)
        set_option(session.option_from(opened.scenario, name))

    with solara.Columns([1, 2]):
        with solara.Column():
            solara.Select("start from", values=session.starting_points(opened.scenario), value=start,
                          on_value=start_from, classes=["start-from"])
            LeverControls(option, ch, set_option)
        with solara.Column():
            Heading(opened.scenario.title, tag="h3")
            if result.error:
                solara.Error(str(result.exception), classes=["option-error"])
            latest = result.latest
            if latest is None:
                solara.Text("running the first batch ...")
            else:
                status = (f"{latest.runs:,} runs per arm, seed {latest.scenario.seed}, answered in "
                          f"{latest.seconds:.2f} s" + (" (running the new option ...)" if result.pending else ""))
                solara.Text(status, classes=["status", "running" if result.pending else "answered"])
                solara.HTML(tag="div", unsafe_innerHTML=answer_table(session.rows(latest), latest.baseline.name),
                            classes=["stale" if result.pending else "fresh", "answer"])
                Story(latest, opened)
                Charts(latest, opened)
            SaveVariant(opened, option, session.app_runs(opened.scenario, runs))
            FullBatch(opened, configs, out)


@solara.component
def Page() -> None:
    initial, runs, configs, out = _settings()
    path, set_path = solara.use_state(initial)
    typed, set_typed = solara.use_state(shown(initial))
    version, set_version = solara.use_state(0)  # "open" reads the file again, even under the same path

    def load() -> tuple[session.Opened | None, str]:
        try:
            return session.open_scenario(path, configs), ""
        except SimError as exc:
            return None, f"invalid: {exc}"

    opened, error = solara.use_memo(load, dependencies=[path, version])
    shipped = {p.name: str(p) for p in session.shipped_scenarios()}
    solara.Title("Escalation simulator")
    solara.Style(CSS)
    def pick(v: str | None) -> None:
        if v:
            set_path(shipped[v])
            set_typed(shown(shipped[v]))

    def open_typed() -> None:
        set_path(typed.strip())
        set_version(version + 1)

    current = next((name for name, p in shipped.items() if p == path), None)
    with solara.Column(style={"padding": "12px"}):
        Heading("Escalation simulator: try an option", tag="h2")
        solara.Text("Exploratory, not a forecast. Served on this computer only; nothing is sent anywhere.")
        with solara.Row():
            solara.Select("shipped scenario", values=list(shipped), value=current, on_value=pick,
                          classes=["pick-scenario"])
            solara.InputText("or open a file", value=typed, on_value=set_typed, continuous_update=True,
                             classes=["open-path"])
            solara.Button("open", on_click=open_typed, classes=["open-file"])
        if error or opened is None:
            solara.Error(error, classes=["validation-error"])
            return
        ScenarioView(opened, runs, configs, out).key(f"{opened.path}:{opened.key}")

