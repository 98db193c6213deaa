"""Text as the charts, the report and the terminal show it: user text made inert and bounded, and shares of runs
written so that rare outcomes stay visible.

A scenario's title, question and descriptions are free text. They are shown as text everywhere: control characters,
ANSI and OSC escape sequences, bidirectional overrides and characters XML cannot hold are removed (:func:`plain`),
chart labels are collapsed to one line and cut with an ellipsis (:func:`label`), and matplotlib's mathtext is turned
off for every chart (:mod:`sim.present.charts`), so ``$`` is a dollar sign.
"""

from __future__ import annotations

import re

import numpy as np

#: Escape sequences first (OSC, DCS/PM/APC/SOS strings, CSI in 7 and 8 bits, other ESC pairs), then lone control
#: characters (C0 but tab and line ends, DEL, C1), bidirectional embeddings, overrides and isolates, surrogates
#: and the two non-characters XML refuses.
_UNSAFE = re.compile(
    r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[P^_X][^\x1b]*(?:\x1b\\)?"
    r"|\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|\x1b[ -/]*[0-~]?"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
    r"|[\u202a-\u202e\u2066-\u2069]"
    r"|[\ud800-\udfff\ufffe\uffff]"
)

#: The longest user text a chart shows, in characters (a title beyond it is cut with an ellipsis).
CHART_TEXT_LIMIT = 110


def plain(text: object) -> str:
    """``text`` without control characters or escape sequences: what a terminal, an SVG file or a page can show as
    text.

    >>> plain("Costs \\x1b[31mred\\x1b[0m \\x1b]8;;http://x\\x07link\\x1b]8;;\\x07 $x$")
    'Costs red link $x$'
    """
    return _UNSAFE.sub("", str(text))


def label(text: object, limit: int = CHART_TEXT_LIMIT) -> str:
    """User text for a chart: :func:`plain`, on one line, at most ``limit`` characters (cut with an ellipsis).

    >>> label("A  very\\nlong title", limit=10)
    'A very lo…'
    """
    one = " ".join(plain(text).split())
    return one if len(one) <= limit else one[: limit - 1].rstrip() + "…"


# ---------------------------------------------------------------------------------------------- numbers
def _digits(x: float, significant: int = 2) -> str:
    """A positive number with ``significant`` digits, never in exponent form.

    >>> _digits(0.000123), _digits(0.5), _digits(1.0)
    ('0.00012', '0.5', '1')
    """
    return str(np.format_float_positional(x, precision=significant, unique=False, fractional=False, trim="-"))


def percent(p: float) -> str:
    """A share as a number of percent: one decimal from 1%, two significant digits below, ``0`` only for none.

    >>> percent(0.7126), percent(0.024), percent(0.0006), percent(0.0)
    ('71.3', '2.4', '0.06', '0')
    """
    x = 100 * p
    if x <= 0:
        return "0"
    if x >= 1:
        return f"{x:.1f}"
    return _digits(x)


#: Below this share a probability is shown as a count of runs (``3 of 20,000``).
RARE = 0.01


def share(count: int, runs: int, ci95: tuple[float, float] | list[float], unit: bool = False) -> str:
    """An outcome's share of runs with its 95% interval; a rare one (under 1%) as a count of runs.

    >>> share(1426, 2000, (0.693, 0.732)), share(1, 20000, (0.0000088, 0.00028)), share(0, 2000, (0.0, 0.0019))
    ('71.3 (69.3-73.2)', '1 of 20,000 (0.00088-0.028%)', '0 of 2,000 (0-0.19%)')
    """
    lo, hi = ci95
    p = count / runs if runs else 0.0
    if p < RARE:
        return f"{count:,} of {runs:,} ({percent(lo)}-{percent(hi)}%)"
    return f"{percent(p)}{'%' if unit else ''} ({percent(lo)}-{percent(hi)})"


def points(d: float) -> str:
    """A difference of two shares in percentage points, signed: one decimal from 1 point, two significant digits
    below, and ``0`` (never ``-0.0``) for none.

    >>> points(0.296), points(-0.0005), points(0.0), points(-1e-18)
    ('+29.6', '-0.05', '0', '0')
    """
    x = 100 * d
    if abs(x) < 1e-9:
        return "0"
    sign = "+" if x > 0 else "-"
    return sign + (f"{abs(x):.1f}" if abs(x) >= 1 else _digits(abs(x)))


def difference(d: float, ci95: tuple[float, float] | list[float]) -> str:
    """A difference in percentage points with its 95% interval.

    >>> difference(-0.0005, (-0.0029, 0.0014))
    '-0.05 (-0.29 to +0.14)'
    """
    return f"{points(d)} ({points(ci95[0])} to {points(ci95[1])})"
