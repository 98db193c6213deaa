"""Escalation scenario simulator: agent-based Monte Carlo of Russia, NATO members, Ukraine and third countries.

An exploratory tool for thinking about escalation paths, not a forecast. See README.md and docs/model.md.
"""

__version__ = "0.1.0"
