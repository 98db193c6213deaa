"""``report.html``: one self-contained page (PNG embedded as base64, so it opens offline) built around the
scenario's question: the question, key findings computed from the results, a table of the rare outcomes as counts of
runs, one overlay chart per headline outcome across variants, every outcome per variant with the differences to the
baseline, each variant's charts side by side (in the scenario's order), the story of the most escalated run, the
assumptions and their sources (levers, uncertainties, red lines, deployment types, parameters overridden, and the
entries of docs/sources.md they cite) and the manifest, under the statement that it is exploratory, not a forecast.
Every chart has a caption that says how to read it; user text is shown as text (:mod:`sim.present.text`).
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
from sim.output.statistics import wilson_interval
from sim.present.charts import HEADLINE_OUTCOMES, SECTIONS, Chart, plan
from sim.present.publish import (
    COMPARISON_FILE,
    _doctrine_and_scenario,
    _reference,
    check_results_folder,
    story,
)
from sim.present.text import difference, percent, plain, share
from sim.spec.sources import CITATION, SourceEntry, cited_keys, load_sources
from sim.spec.vocabulary import OUTCOME_IDS

# ------------------------------------------------------------------------------------------------- HTML
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1240px;margin:1.5em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
.note{background:#fff4d6;border-left:5px solid #e69f00;padding:.6em 1em;font-weight:600}
.question{font-size:1.12em;background:#eef4fa;border-left:5px solid #0072b2;padding:.6em 1em}
table{border-collapse:collapse;font-size:.86em;margin:.6em 0}th,td{border:1px solid #ccc;padding:.25em .5em;
vertical-align:top;text-align:left}th{background:#f2f2f2}td.num{text-align:right;white-space:nowrap}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.84em;color:#444;max-width:70em}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:0 1.2em}
pre{background:#f7f7f7;padding:.8em;overflow:auto;font-size:.8em}.small{font-size:.85em;color:#555}
details summary{cursor:pointer;font-weight:600}details.ref summary h3{display:inline}.wide{overflow-x:auto}
nav ol{margin:.3em 0;padding:0;font-size:.92em}nav li{display:inline;margin-right:1.1em}.findings li{margin:.35em 0}
"""


def _e(x: Any) -> str:
    """User or file text as HTML text: control characters and escape sequences removed, markup escaped."""
    return html.escape(plain(x), quote=True)


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


def _cell(o: dict[str, Any], runs: int) -> str:
    """A table cell of an outcome's share (HTML): the share and its interval, or the count of runs when rare."""
    text = share(o["count"], runs, o["ci95"])
    main, _, rest = text.partition(" (")
    return f"{_e(main)}<br><span class=\"small\">({_e(rest)}</span>"


#: Outcomes of the tail-risk table: the rarest and gravest (strikes on NATO territory and beyond).
TAIL_OUTCOMES: tuple[str, ...] = ("strike_on_nato_territory", "article5_invoked", "nato_russia_war", "nuclear_use",
                                  "strategic_nuclear_war")


def _variants(summary: dict[str, Any]) -> list[str]:
    """The variants in the scenario's order (the summary keeps it), baseline first."""
    return list(summary["variants"])


def _summary_section(summary: dict[str, Any]) -> str:
    variants = _variants(summary)
    n = summary["runs"]
    rows = []
    for oid in OUTCOME_IDS:
        first = summary["variants"][variants[0]]["outcomes"][oid]
        row: list[Any] = [f"<b>{_e(oid)}</b><br><span class=\"small\">{_e(first['description'])}</span>"]
        row += [_cell(summary["variants"][v]["outcomes"][oid], n) for v in variants]
        rows.append(row)
    table = _table(["outcome"] + variants, rows, set(range(1, 1 + len(variants))), set(range(1 + len(variants))))
    return (f"<h3 id=\"summary\">Every outcome</h3><p>Percent of runs in which each outcome happens within "
            f"{summary['horizon_weeks']} weeks, with its 95% Wilson interval below; under 1% as a count of runs; "
            f"{n:,} runs per variant, seed {summary['seed']}; baseline: <b>{_e(_reference(summary))}</b>. Parameter "
            f"uncertainty: {_e(summary.get('parameter_uncertainty', 'not recorded'))}.</p>{table}")


def _tail_section(summary: dict[str, Any]) -> str:
    variants = _variants(summary)
    n = summary["runs"]
    rows = []
    for oid in TAIL_OUTCOMES:
        first = summary["variants"][variants[0]]["outcomes"][oid]
        row: list[Any] = [f"<b>{_e(oid)}</b><br><span class=\"small\">{_e(first['description'])}</span>"]
        for v in variants:
            o = summary["variants"][v]["outcomes"][oid]
            lo, hi = o["ci95"]
            row.append(f"<b>{o['count']:,}</b> of {n:,}<br><span class=\"small\">{percent(lo)}-{percent(hi)}%</span>")
        rows.append(row)
    zero_hi = wilson_interval(0, n)[1]
    return (f"<h2 id=\"tail-risk\">Rare outcomes, run by run</h2><p>How many of the {n:,} runs of each variant reach "
            f"the gravest outcomes, with the 95% Wilson interval of the share. With {n:,} runs, an outcome seen in no "
            f"run may still happen in up to {percent(zero_hi)}% of runs: a count of 0 is not a probability of 0.</p>"
            + _table(["outcome"] + variants, rows, set(range(1, 1 + len(variants))), set(range(1 + len(variants)))))


def _comparison(folder: Path, summary: dict[str, Any]) -> dict[str, Any]:
    """comparison.json when the folder holds one, else a comparison from the summary alone."""
    from sim.output import comparison as compare

    path = folder / COMPARISON_FILE
    if path.is_file() and len(summary["variants"]) > 1:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data
    return compare.from_summary(summary)


def _of_runs(o: dict[str, Any], runs: int) -> str:
    """An outcome's share in words.

    >>> _of_runs({"count": 3, "ci95": [0.0005, 0.004]}, 2000), _of_runs({"count": 240, "ci95": [0.107, 0.135]}, 2000)
    ('3 of 2,000 runs (0.05-0.4%)', '12.0% of runs (10.7-13.5)')
    """
    text = share(o["count"], runs, o["ci95"], unit=True)
    if " of " in text:
        count, _, rest = text.partition(" (")
        return f"{count} runs ({rest}"
    value, _, rest = text.partition(" (")
    return f"{value} of runs ({rest}"


def findings(summary: dict[str, Any], comparison: dict[str, Any]) -> list[str]:
    """The key findings in plain sentences (HTML), computed from the results: per headline outcome its share in the
    baseline and the variants that raise or lower it beyond the 95% interval of the difference, then which variant
    raises the most headline risks."""
    base = comparison["baseline"]
    n = summary["runs"]
    others = [v for v in comparison["variants"] if v != base]
    out: list[str] = []
    raised: dict[str, int] = {v: 0 for v in others}
    lowered: dict[str, int] = {v: 0 for v in others}
    for oid in HEADLINE_OUTCOMES:
        o = summary["variants"][base]["outcomes"][oid]
        text = (f"<b>{_e(oid)}</b> ({_e(o['description'].rstrip('.'))}): {_e(_of_runs(o, n))} in "
                f"<b>{_e(base)}</b>.")
        ups, downs = [], []
        for v in others:
            d = comparison["differences"][v][oid]
            if d["ci95"][0] > 0:
                ups.append((d["difference"], v, d))
                raised[v] += 1
            elif d["ci95"][1] < 0:
                downs.append((d["difference"], v, d))
                lowered[v] += 1

        def told(items: list[tuple[float, str, dict[str, Any]]], oid: str = oid) -> str:
            parts = []
            for _, v, d in items:
                ov = summary["variants"][v]["outcomes"][oid]
                parts.append(f"<b>{_e(v)}</b> to {_e(share(ov['count'], n, ov['ci95'], True))}, "
                             f"{_e(difference(d['difference'], d['ci95']))} points")
            return "; ".join(parts)

        if ups:
            text += " Raised by " + told(sorted(ups, reverse=True)) + "."
        if downs:
            text += " Lowered by " + told(sorted(downs)) + "."
        if others and not ups and not downs:
            text += f" No variant differs from it beyond the 95% interval of the difference ({n:,} runs each)."
        out.append(text)
    if others:
        worst = max(others, key=lambda v: (raised[v], -others.index(v)))
        best = max(others, key=lambda v: (lowered[v], -others.index(v)))
        lead = []
        if raised[worst]:
            lead.append(f"<b>{_e(worst)}</b> raises the most headline risks ({raised[worst]} of "
                        f"{len(HEADLINE_OUTCOMES)}) against <b>{_e(base)}</b>")
        if lowered[best]:
            lead.append(f"<b>{_e(best)}</b> lowers the most ({lowered[best]} of {len(HEADLINE_OUTCOMES)})")
        if lead:
            out.insert(0, "; ".join(lead) + ". Differences are in percentage points with their 95% intervals ("
                       + _e(comparison["method_text"]) + ").")
    return out


def _findings_section(summary: dict[str, Any], comparison: dict[str, Any]) -> str:
    items = "".join(f"<li>{t}</li>" for t in findings(summary, comparison))
    return (f"<h2 id=\"findings\">Key findings</h2><ul class=\"findings\">{items}</ul><p class=\"small\">Shares of the "
            f"{summary['runs']:,} runs per variant within {summary['horizon_weeks']} weeks; under 1% as a count of "
            "runs. Each finding is read off the charts and tables below.</p>")


def _variants_section(manifest: dict[str, Any], summary: dict[str, Any]) -> str:
    spec = manifest.get("resolved_scenario", {})
    described = {v.get("name"): v.get("description") or "" for v in spec.get("variants", []) if isinstance(v, dict)}
    base = summary["baseline"]
    items = []
    for v in _variants(summary):
        what = "the scenario's own levers" if v == base else described.get(v, "")
        items.append(f"<li><b>{_e(v)}</b>{': ' + _e(what) if what else ''}</li>")
    return f"<h2 id=\"variants\">The options compared</h2><ol>{''.join(items)}</ol>"


def _figure(folder: Path, chart: Chart) -> str:
    png = folder / "charts" / f"{chart.name}.png"
    if not png.is_file():
        return ""
    data = base64.b64encode(png.read_bytes()).decode("ascii")
    svg = (folder / "charts" / f"{chart.name}.svg").is_file()
    also = f" <span class=\"small\">(charts/{_e(chart.name)}.png{', .svg' if svg else ''})</span>"
    return (f"<figure id=\"chart-{_e(chart.name)}\"><img alt=\"{_e(chart.name)}\" "
            f"src=\"data:image/png;base64,{data}\"><figcaption>{_e(chart.caption)}{also}</figcaption></figure>")


def _chart_sections(folder: Path, planned: list[Chart], extra: dict[str, str]) -> dict[str, str]:
    """Per section of :data:`SECTIONS`, its heading, its figures and what ``extra`` adds (HTML)."""
    drawn = any((folder / "charts" / f"{c.name}.png").is_file() for c in planned)
    out = {}
    for sid, heading in SECTIONS:
        figures = "".join(_figure(folder, c) for c in planned if c.section == sid)
        if figures and sid == "overlays":
            figures = f"<div class=\"grid\">{figures}</div>"
        if not drawn and sid != "story":
            figures = ("<p>No charts were drawn for this batch (draw them with <code>escalation plot "
                       "RESULTS_DIR</code>).</p>") if sid == "overlays" else ""
        out[sid] = f"<h2 id=\"{sid}\">{_e(heading)}</h2>{figures}{extra.get(sid, '')}"
    return out


def _comparison_table(c: dict[str, Any]) -> str:
    others = [v for v in c["variants"] if v != c["baseline"]]
    if not others:
        return ""
    rows = []
    for oid in OUTCOME_IDS:
        row: list[Any] = [oid]
        for v in others:
            d = c["differences"][v][oid]
            row.append(difference(d["difference"], d["ci95"]))
        rows.append(row)
    return (f"<h3 id=\"differences\">Variants against the baseline</h3><p>Difference in percentage points to "
            f"<b>{_e(c['baseline'])}</b> with 95% intervals: {_e(c['method_text'])}.</p>"
            + _table(["outcome"] + [f"{v} - {c['baseline']}" for v in others], rows, set(range(1, 1 + len(others)))))


def _story_text(told: dict[str, Any] | None) -> str:
    if not told:
        return "<p>No run's story could be told for this folder.</p>"
    rows = []
    for w in told["weeks"]:
        acts = "; ".join(f"{a['actor']} -> {a['target']}: {a['action']} ({a['rung']})" for a in w["acts"])
        lines = "; ".join(f"{r['id']} {r['event']}" for r in w["red_lines"] if r["event"] != "pressed")
        if acts or lines:
            rows.append([w["week"], w["headline"], w.get("ukraine_axis", ""), acts, lines])
    how = ("replayed from the batch's seed and the run index" if told.get("replayed")
           else "rebuilt from the event table (red-line events are recorded only by a replay)")
    top = told["max_rung"]
    week = told["headline"].index(top) if top in told["headline"] else 0
    happened = [f"{oid} (week {w})" for oid, w in (told.get("first_weeks") or {}).items() if w is not None]
    crossed = told.get("red_lines_crossed") or []
    return (f"<p>Run {told['run']} of <b>{_e(told['variant'])}</b>, {how}: it reaches rung {top} "
            f"({_e(told['rung_names'][top])}) in week {week}. Outcomes: {_e(', '.join(happened) or 'none')}. "
            f"Red lines crossed: {_e(', '.join(crossed) or 'none')}. Replay any run with "
            f"<code>escalation trace SCENARIO --run K</code>.</p>"
            "<details><summary>Week by week</summary>"
            + _table(["week", "NATO axis", "Ukraine axis", "acts (actor -> target: action (rung))", "red lines"], rows,
                     {0, 1, 2}) + "</details>")
def _folded(heading: str, body: str) -> str:
    """A reference table under a heading, folded until opened (it is in the page, searchable and printable)."""
    return f"<details class=\"ref\"><summary><h3>{_e(heading)}</h3></summary>{body}</details>"


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
    parts.append(_folded("Red lines", _table(["id", "statement", "said by, when", "declared response", "credibility",
                                              "persistent", "source"], rows, raw_cols={6})))
    rows = [[t.id, t.name, t.provocation, t.exposure, ", ".join(loc.value for loc in t.locations), src(t.source)]
            for t in doctrine.deployment_types]
    parts.append(_folded("Deployment types", _table(["id", "name", "provocation", "exposure", "locations", "source"],
                                                   rows, {2, 3}, raw_cols={5})))
    rows = [[r.rung, r.name, r.cameo, r.goldstein, r.mid_hostility, r.severity, src(r.source)] for r in doctrine.ladder]
    parts.append(_folded("The ladder", _table(["rung", "name", "CAMEO", "Goldstein", "MID hostility", "severity",
                                               "source"], rows, {0, 3, 4, 5}, raw_cols={6})))
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


def _contents(entries: list[tuple[str, str]]) -> str:
    items = "".join(f"<li><a href=\"#{sid}\">{_e(text)}</a></li>" for sid, text in entries)
    return f"<nav id=\"contents\"><b>Contents:</b> <ol>{items}</ol></nav>"


def render(folder: str | Path) -> str:
    """The HTML text of a results folder's report."""
    folder = check_results_folder(folder)
    manifest, summary, aggs = load_results(folder)
    told = story(folder, replay=False)
    comparison = _comparison(folder, summary)
    planned = plan(summary, aggs, comparison, [told] if told else [])
    status = manifest.get("status", "?")
    head = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(summary['title'])}</title><style>{_CSS}</style></head><body>")
    charts = _chart_sections(folder, planned, {
        "comparison": _comparison_table(comparison) + _summary_section(summary),
        "story": _story_text(told),
    })
    contents = [("question", "The question"), ("findings", "Key findings"), ("tail-risk", "Rare outcomes, run by run"),
                ("variants", "The options compared")] + list(SECTIONS) + [
                ("assumptions", "Assumptions and their sources"), ("manifest", "Manifest")]
    intro = (f"<h1>{_e(summary['title'])}</h1><p class=\"note\" id=\"not-a-forecast\">{_e(NOT_A_FORECAST)}</p>"
             + _contents(contents)
             + f"<h2 id=\"question\">The question</h2><p class=\"question\">{_e(summary['question'])}</p>"
             f"<p class=\"small\">Scenario <code>{_e(summary['scenario'])}</code>, "
             f"{summary['runs']:,} runs per variant, {len(summary['variants'])} variant(s), "
             f"{summary['horizon_weeks']} weeks, seed {summary['seed']}, status {_e(status)}, finished "
             f"{_e(manifest.get('finished'))}. Every run replays from the seed and its index.</p>")
    body = [
        intro,
        _findings_section(summary, comparison),
        _tail_section(summary),
        _variants_section(manifest, summary),
        *(charts[sid] for sid, _ in SECTIONS),
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
