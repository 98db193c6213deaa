"""``report.html``: one self-contained page (PNG embedded as base64, so it opens offline) with the scenario's question,
the summary table, every chart, the story of one run, the assumptions and their sources (levers, uncertainties, red
lines, deployment types, parameters overridden, and the entries of docs/sources.md they cite) and the manifest,
under the statement that it is exploratory, not a forecast.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

from sim import NOT_A_FORECAST
from sim.errors import InputError
from sim.output.folder import load_results
from sim.present.publish import (
    COMPARISON_FILE,
    _doctrine_and_scenario,
    _reference,
    check_results_folder,
    story,
)
from sim.spec.sources import CITATION, SourceEntry, cited_keys, load_sources
from sim.spec.vocabulary import OUTCOME_IDS

# ------------------------------------------------------------------------------------------------- HTML
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1180px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
.note{background:#fff4d6;border-left:5px solid #e69f00;padding:.7em 1em;font-weight:600}
table{border-collapse:collapse;font-size:.86em;margin:.6em 0}th,td{border:1px solid #ccc;padding:.25em .5em;
vertical-align:top;text-align:left}th{background:#f2f2f2}td.num{text-align:right;white-space:nowrap}
figure{margin:1.2em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}figcaption{font-size:.85em;color:#555}
pre{background:#f7f7f7;padding:.8em;overflow:auto;font-size:.8em}.small{font-size:.85em;color:#555}
details summary{cursor:pointer;font-weight:600}.wide{overflow-x:auto}
"""


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _table(header: list[str], rows: list[list[Any]], num_cols: AbstractSet[int] = frozenset(),
           raw_cols: AbstractSet[int] = frozenset()) -> str:
    """An HTML table; cells are escaped except in ``raw_cols`` (HTML built here from escaped parts)."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)

    def cell(i: int, c: Any) -> str:
        text = str(c) if i in raw_cols else _e(c)
        return f"<td class=\"num\">{text}</td>" if i in num_cols else f"<td>{text}</td>"

    body = "".join("<tr>" + "".join(cell(i, c) for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<div class=\"wide\"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def _dist_text(d: dict[str, Any]) -> str:
    """A distribution in words.

    >>> _dist_text({"dist": "triangular", "low": 0.5, "mode": 0.75, "high": 0.95})
    'triangular 0.5 to 0.95, mode 0.75'
    """
    kind = d.get("dist")
    if kind == "fixed":
        return f"fixed at {d['value']:g}"
    if kind == "uniform":
        return f"uniform {d['low']:g} to {d['high']:g}"
    if kind == "triangular":
        return f"triangular {d['low']:g} to {d['high']:g}, mode {d['mode']:g}"
    if kind == "normal":
        text = f"normal, mean {d['mean']:g}, sd {d['sd']:g}"
        lo, hi = (b if isinstance(b, (int, float)) and math.isfinite(b) else None
                  for b in (d.get("low"), d.get("high")))
        if lo is None and hi is None:
            return text
        return text + f", clipped to [{'-inf' if lo is None else f'{lo:g}'}, {'inf' if hi is None else f'{hi:g}'}]"
    return json.dumps(d)


def _pct(p: float) -> str:
    return f"{100 * p:.1f}%"


def _summary_section(summary: dict[str, Any]) -> str:
    variants = list(summary["variants"])
    rows = []
    for oid in OUTCOME_IDS:
        first = summary["variants"][variants[0]]["outcomes"][oid]
        row: list[Any] = [f"<b>{_e(oid)}</b><br><span class=\"small\">{_e(first['description'])}</span>"]
        for v in variants:
            o = summary["variants"][v]["outcomes"][oid]
            row.append(f"{_pct(o['probability'])}<br><span class=\"small\">{100 * o['ci95'][0]:.1f}-"
                       f"{100 * o['ci95'][1]:.1f}</span>")
        rows.append(row)
    table = _table(["outcome"] + variants, rows, set(range(1, 1 + len(variants))), set(range(1 + len(variants))))
    return (f"<h2 id=\"summary\">Summary</h2><p>Share of runs in which each outcome happens within "
            f"{summary['horizon_weeks']} weeks, with its 95% Wilson interval; {summary['runs']:,} runs per variant, "
            f"seed {summary['seed']}; baseline: <b>{_e(_reference(summary))}</b>. Parameter uncertainty: "
            f"{_e(summary.get('parameter_uncertainty', 'not recorded'))}.</p>{table}")


def _comparison_section(folder: Path) -> str:
    path = folder / COMPARISON_FILE
    if not path.is_file():
        return ""
    c = json.loads(path.read_text(encoding="utf-8"))
    others = [v for v in c["variants"] if v != c["baseline"]]
    rows = []
    for oid in OUTCOME_IDS:
        row: list[Any] = [oid]
        for v in others:
            d = c["differences"][v][oid]
            row.append(f"{100 * d['difference']:+.1f} ({100 * d['ci95'][0]:+.1f} to {100 * d['ci95'][1]:+.1f})")
        rows.append(row)
    return (f"<h2 id=\"comparison\">Variants against the baseline</h2><p>Difference in percentage points to "
            f"<b>{_e(c['baseline'])}</b> with 95% intervals: {_e(c['method_text'])}.</p>"
            + _table(["outcome"] + [f"{v} - {c['baseline']}" for v in others], rows, set(range(1, 1 + len(others)))))


_CHART_ORDER = ("variant_comparison", "escalation_fan", "rung_occupancy", "outcome_probabilities", "max_rung",
                "time_to_threshold", "rung_transitions", "timeline")


def _chart_key(p: Path) -> tuple[int, str]:
    stem = p.stem
    base = stem.split("__")[0]
    rank = _CHART_ORDER.index(base) if base in _CHART_ORDER else len(_CHART_ORDER)
    return (rank, stem)


def _charts_section(folder: Path) -> str:
    charts = sorted((folder / "charts").glob("*.png"), key=_chart_key) if (folder / "charts").is_dir() else []
    if not charts:
        return ("<h2 id=\"charts\">Charts</h2>"
                "<p>No charts were drawn for this batch (run <code>escalation plot</code>).</p>")
    parts = ["<h2 id=\"charts\">Charts</h2>"]
    for p in charts:
        data = base64.b64encode(p.read_bytes()).decode("ascii")
        parts.append(f"<figure><img alt=\"{_e(p.stem)}\" src=\"data:image/png;base64,{data}\">"
                     f"<figcaption>{_e(p.stem)} (also as charts/{_e(p.stem)}.svg)</figcaption></figure>")
    return "".join(parts)


def _story_section(told: dict[str, Any] | None) -> str:
    if not told:
        return ""
    rows = []
    for w in told["weeks"]:
        acts = "; ".join(f"{a['actor']} -> {a['target']}: {a['action']} ({a['rung']})" for a in w["acts"])
        lines = "; ".join(f"{r['id']} {r['event']}" for r in w["red_lines"] if r["event"] != "pressed")
        if acts or lines:
            rows.append([w["week"], w["headline"], w.get("ukraine_axis", ""), acts, lines])
    how = ("replayed from the batch's seed and the run index" if told.get("replayed")
           else "rebuilt from the event table (red-line events are recorded only by a replay)")
    return (f"<h2 id=\"story\">The story of one run</h2><p>Run {told['run']} of <b>{_e(told['variant'])}</b>, the "
            f"run that climbs highest soonest among those whose paths are kept, {how}; highest rung "
            f"{told['max_rung']} ({_e(told['rung_names'][told['max_rung']])}). Replay any run with "
            f"<code>escalation trace SCENARIO --run K</code>.</p>"
            + _table(["week", "NATO axis", "Ukraine axis", "acts (actor -> target: action (rung))", "red lines"], rows,
                     {0, 1, 2}))


def _assumptions_section(manifest: dict[str, Any]) -> str:
    doctrine, scenario, same = _doctrine_and_scenario(manifest)
    spec = manifest.get("resolved_scenario", {})
    try:
        entries, unread = load_sources(), ""
    except InputError as exc:
        entries, unread = {}, str(exc)
    cited: dict[str, None] = {}  # the keys cited in this section, in order

    def src(source: str | None) -> str:
        return _cited(source or "", entries, cited)

    parts = ["<h2 id=\"assumptions\">Assumptions and their sources</h2>"]
    if spec.get("sources"):
        parts.append("<p>Scenario sources:</p><ul>" + "".join(f"<li>{src(s)}</li>" for s in spec["sources"]) + "</ul>")
    if spec.get("description"):
        parts.append(f"<p>{_e(spec['description'])}</p>")
    if scenario is not None:
        rows = []
        for lv in scenario.levers():
            deps = "; ".join(f"{d.id}: {d.type}, {d.size:,} at {d.location.value} from week {d.start_week} "
                             f"({', '.join(d.contributors)})" for d in lv.deployments) or "none"
            moves = "; ".join(f"week {m.week}: {m.actor} {m.move}" for m in lv.timeline) or "none"
            ds = lv.policies.deep_strike
            policy = "deep strikes " + (f"authorised from week {ds.from_week}" if ds.authorised else "not authorised")
            rows.append([lv.name, lv.description, deps, moves, policy])
        parts.append("<h3>Levers per variant</h3>" + _table(["variant", "description", "deployments", "scripted moves",
                                                              "policies"], rows))
    unc = spec.get("uncertainties") or {}
    if unc:
        rows = [[k, _dist_text(v), src(v.get("source")), v.get("rationale") or ""] for k, v in unc.items()]
        parts.append("<h3>Uncertainties set by the scenario</h3>"
                     + _table(["parameter", "distribution", "source", "why"], rows, raw_cols={2}))
    if spec.get("overrides"):
        params = doctrine.parameters if doctrine is not None else {}
        overridden = [[k, v, src(params[k].source) if k in params else ""] for k, v in spec["overrides"].items()]
        parts.append("<h3>Doctrine parameters overridden</h3>"
                     + _table(["parameter", "value", "source of its default"], overridden, raw_cols={2}))
    if doctrine is None:
        parts.append("<p>The doctrine (configs/) could not be read; its red lines and deployment types are not "
                     "shown.</p>")
        return "".join(parts) + _works_cited(cited, entries, unread)
    if not same:
        parts.append("<p class=\"note\">The doctrine in configs/ has changed since this batch ran (its hash differs "
                     "from the manifest's): the red lines and deployment types below are today's.</p>")
    rows = [[rl.id, rl.statement, f"{rl.said_by}, {rl.date}", rl.declared_response,
             _dist_text(rl.credibility.model_dump(mode="json")),
             "yes" if rl.persistent else "no", src(rl.source)] for rl in doctrine.red_lines]
    parts.append("<h3>Red lines</h3>" + _table(["id", "statement", "said by, when", "declared response", "credibility",
                                                "persistent", "source"], rows, raw_cols={6}))
    rows = [[t.id, t.name, t.provocation, t.exposure, ", ".join(loc.value for loc in t.locations), src(t.source)]
            for t in doctrine.deployment_types]
    parts.append("<h3>Deployment types</h3>" + _table(["id", "name", "provocation", "exposure", "locations", "source"],
                                                     rows, {2, 3}, raw_cols={5}))
    rows = [[r.rung, r.name, r.cameo, r.goldstein, r.mid_hostility, r.severity, src(r.source)] for r in doctrine.ladder]
    parts.append("<h3>The ladder</h3>" + _table(["rung", "name", "CAMEO", "Goldstein", "MID hostility", "severity",
                                                 "source"], rows, {0, 3, 4, 5}, raw_cols={6}))
    parts.append("<p class=\"small\">Equations, parameters and limits: docs/model.md. Every doctrine item in configs/ "
                 "names its source; the keys in square brackets are entries of docs/sources.md, listed below.</p>")
    return "".join(parts) + _works_cited(cited, entries, unread)


def _cited(source: str, entries: dict[str, SourceEntry], cited: dict[str, None]) -> str:
    """A source string as HTML, each key it cites linked to its entry under "Works cited" (and noted as cited)."""
    for key in cited_keys(source):
        cited.setdefault(key, None)

    def link(m: re.Match[str]) -> str:
        key = m.group(1)
        return f"<a href=\"#source-{key}\">[{key}]</a>" if key in entries else m.group(0)

    return CITATION.sub(link, _e(source))


def _works_cited(cited: dict[str, None], entries: dict[str, SourceEntry], unread: str) -> str:
    """The bibliography entries cited in the assumptions section, in the order first cited."""
    if not cited:
        return ""
    items = []
    for key in cited:
        e = entries.get(key)
        if e is None:
            items.append(f"<li>[{_e(key)}]: no entry in docs/sources.md</li>")
            continue
        url = f" <span class=\"small\">{_e(e.url)}</span>" if e.url else ""
        items.append(f"<li id=\"source-{_e(key)}\"><b>[{_e(key)}]</b> {_e(e.by)}, <i>{_e(e.title)}</i>, "
                     f"{_e(e.date)}: {_e(e.gives)}.{url}</li>")
    note = (f"<p class=\"note\">The bibliography could not be read ({_e(unread)}); its keys are not resolved.</p>"
            if unread else "")
    return ("<h3 id=\"works-cited\">Works cited</h3><p class=\"small\">The entries of docs/sources.md cited in this "
            "section; docs/sources.md says more of each.</p>" + note + "<ul>" + "".join(items) + "</ul>")


def render(folder: str | Path) -> str:
    """The HTML text of a results folder's report."""
    folder = check_results_folder(folder)
    manifest, summary, _ = load_results(folder)
    told = story(folder, replay=False)
    status = manifest.get("status", "?")
    head = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(summary['title'])}</title><style>{_CSS}</style></head><body>")
    intro = (f"<h1>{_e(summary['title'])}</h1><p class=\"note\" id=\"not-a-forecast\">{_e(NOT_A_FORECAST)}</p>"
             f"<h2 id=\"question\">The question</h2><p>{_e(summary['question'])}</p>"
             f"<p class=\"small\">Scenario <code>{_e(summary['scenario'])}</code>, "
             f"{summary['runs']:,} runs per variant, {summary['horizon_weeks']} weeks, seed {summary['seed']}, "
             f"status {_e(status)}, finished {_e(manifest.get('finished'))}. "
             "Every run replays from the seed and its index.</p>")
    body = [
        intro,
        _summary_section(summary),
        _comparison_section(folder),
        _charts_section(folder),
        _story_section(told),
        _assumptions_section(manifest),
        "<h2 id=\"manifest\">Manifest</h2><details><summary>manifest.json</summary><pre>"
        + _e(json.dumps(manifest, indent=2)) + "</pre></details>",
        f"<p class=\"note\">{_e(NOT_A_FORECAST)}</p></body></html>",
    ]
    return head + "".join(body) + "\n"


def write_report(folder: str | Path) -> Path:
    """Write ``report.html`` into a results folder and return its path."""
    folder = check_results_folder(folder)
    path = folder / "report.html"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render(folder), encoding="utf-8")
    tmp.replace(path)
    return path
