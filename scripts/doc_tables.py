"""The doctrine tables of docs/model.md, printed from configs/: parameters (section 7), response options and red
lines (section 8).

    .venv/bin/python scripts/doc_tables.py parameters
    .venv/bin/python scripts/doc_tables.py responses
    .venv/bin/python scripts/doc_tables.py red_lines

``tests/test_docs.py`` checks that docs/model.md lists every parameter (with its default and range), every response
option and every red line.
"""

from __future__ import annotations

import sys

from sim.spec.doctrine import ConditionDeployment, ConditionMove, Doctrine
from sim.spec.loading import load_doctrine


def parameters(doctrine: Doctrine) -> list[str]:
    rows = ["| Parameter | Default | Range | Source | Meaning |", "|---|---|---|---|---|"]
    for name, p in doctrine.parameters.items():
        rows.append(f"| `{name}` | {p.value:g} | {p.low:g} to {p.high:g} | {p.source} | {p.rationale} |")
    return rows


def responses(doctrine: Doctrine) -> list[str]:
    rows = ["| Option | Side / axis | Rung | Cost | Lag (weeks) | Requires | Decided by | Reach "
            "| Campaign (tempo, end) |", "|---|---|---|---|---|---|---|---|---|"]
    for r in doctrine.responses:
        campaign = f"{r.campaign_tempo:g}, {r.campaign_end_rate:g}" if r.campaign_tempo else "-"
        rows.append(f"| `{r.id}` | {r.side} / {r.axis} | {r.rung} | {r.cost:g} | {r.lag_weeks[0]}-{r.lag_weeks[1]} | "
                    f"{', '.join(r.requires) or '-'} | {r.decided_by} | {r.reach or '-'} | {campaign} |")
    return rows


def _condition(cond) -> str:
    if isinstance(cond, ConditionDeployment):
        return "deployment: " + ", ".join(cond.types or ["any type"])
    if isinstance(cond, ConditionMove):
        return "move: " + ", ".join(cond.moves)
    if hasattr(cond, "of"):
        return f"{cond.kind} of (" + "; ".join(_condition(c) for c in cond.of) + ")"
    return cond.kind


def red_lines(doctrine: Doctrine) -> list[str]:
    rows = ["| Red line | Condition | Declared response | Credibility | Persistent |", "|---|---|---|---|---|"]
    for rl in doctrine.red_lines:
        c = rl.credibility
        cred = {"uniform": "uniform {c.low:g}-{c.high:g}", "triangular": "triangular {c.low:g}, {c.mode:g}, {c.high:g}",
                "fixed": "fixed {c.value:g}", "normal": "normal {c.mean:g}, sd {c.sd:g}"}[c.dist].format(c=c)
        rows.append(f"| `{rl.id}` ({rl.said_by}, {rl.date}) | {_condition(rl.condition)} | `{rl.declared_response}` | "
                    f"{cred} | {'yes' if rl.persistent else 'no'} |")
    return rows


def main() -> None:
    tables = {"parameters": parameters, "responses": responses, "red_lines": red_lines}
    if len(sys.argv) != 2 or sys.argv[1] not in tables:
        sys.exit("usage: doc_tables.py " + "|".join(tables))
    print("\n".join(tables[sys.argv[1]](load_doctrine())))


if __name__ == "__main__":
    main()
