"""Text as charts, pages and terminals show it: user text made inert and bounded, and rare outcomes kept visible
in the summary tables (never ``0.0 (0.0-0.0)`` for one run, never ``-0.0``)."""

from __future__ import annotations

import re

import pytest
from rich.console import Console

from sim.cli.tables import difference_table, summary_table
from sim.output import comparison as compare
from sim.output.statistics import wilson_interval
from sim.present.text import difference, label, plain, points, share
from sim.spec.vocabulary import OUTCOME_IDS

ESCAPES = [
    "\x1b[31mred\x1b[0m", "\x1b]0;window title\x07", "\x1b]8;;http://example.invalid\x1b\\link\x1b]8;;\x1b\\",
    "\x1bPq#0;2;0;0;0\x1b\\", "\x9b2J", "\x1b(B", "\x1bc", "bell\x07", "nul\x00", "del\x7f", "\u202eevil", "\ud800",
]


@pytest.mark.parametrize("bad", ESCAPES)
def test_plain_removes_escape_sequences_and_control_characters(bad):
    cleaned = plain(f"a {bad} b")
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]", cleaned)
    assert cleaned.startswith("a ") and cleaned.endswith(" b")
    cleaned.encode("utf-8")  # writable


def test_plain_keeps_ordinary_text_and_line_breaks():
    text = "Costs $\\foo{x}$ & <b>bold</b>\n\tüñí 中文 — 100%"
    assert plain(text) == text


def test_label_is_one_bounded_line():
    assert label("x" * 100_000) == "x" * 109 + "…"
    assert label("two\nlines\x1b[1m") == "two lines"


def _summary(counts: dict[str, dict[str, int]], runs: int) -> dict:
    variants = {}
    for v, c in counts.items():
        variants[v] = {"runs": runs, "outcomes": {}}
        for oid in OUTCOME_IDS:
            k = c.get(oid, 0)
            variants[v]["outcomes"][oid] = {"count": k, "probability": k / runs,
                                            "ci95": list(wilson_interval(k, runs)), "description": ""}
    return {"title": "T \x1b[31mred", "baseline": "baseline", "runs": runs, "seed": 1, "horizon_weeks": 52,
            "note": "note.", "variants": variants}


def _printed(table) -> str:
    console = Console(width=400, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(table)
    return console.export_text()


def test_summary_table_counts_rare_runs():
    summary = _summary({"baseline": {"nuclear_use": 1, "nuclear_signalling": 14_260}, "b": {}}, 20_000)
    text = _printed(summary_table(summary))
    assert "1 of 20,000 (0.00088-0.028%)" in text
    assert "0 of 20,000 (0-0.019%)" in text
    assert "71.3 (70.7-71.9)" in text
    assert "0.0 (0.0-0.0)" not in text
    assert "\x1b" not in text and "T red" in text


def test_difference_table_has_no_negative_zero():
    summary = _summary({"baseline": {"nuclear_use": 2, "ceasefire": 100}, "b": {"nuclear_use": 1, "ceasefire": 100}},
                       2000)
    text = _printed(difference_table(compare.from_summary(summary)))
    assert not re.search(r"[-+]0\.0(?![0-9])", text)  # no signed zero
    assert re.search(r"-0\.05 \(-0\.\d+ to \+0\.\d+\)", text)
    assert " 0 (" in text  # no difference at all


@pytest.mark.parametrize("d, expected", [(0.0, "0"), (-0.0, "0"), (1e-17, "0"), (-0.0004, "-0.04"),
                                         (0.0123, "+1.2"), (-0.2961, "-29.6")])
def test_points_never_print_negative_zero(d, expected):
    assert points(d) == expected


def test_share_switches_to_counts_below_one_percent():
    assert share(19, 2000, wilson_interval(19, 2000)).startswith("19 of 2,000 (")
    assert share(20, 2000, wilson_interval(20, 2000)).startswith("1.0 (")
    assert difference(0.0, (-0.001, 0.001)) == "0 (-0.1 to +0.1)"
