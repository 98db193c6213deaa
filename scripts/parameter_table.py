"""The parameter table of docs/model.md (section 7), printed from configs/model.yaml.

    .venv/bin/python scripts/parameter_table.py

``tests/test_docs.py`` checks that the table in docs/model.md lists every parameter with its default and range.
"""

from __future__ import annotations

from sim.spec.loading import load_doctrine


def main() -> None:
    print("| Parameter | Default | Range | Source | Meaning |")
    print("|---|---|---|---|---|")
    for name, p in load_doctrine().parameters.items():
        print(f"| `{name}` | {p.value:g} | {p.low:g} to {p.high:g} | {p.source} | {p.rationale} |")


if __name__ == "__main__":
    main()
