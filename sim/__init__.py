"""Escalation scenario simulator: agent-based Monte Carlo of Russia, NATO members, Ukraine and third countries.

An exploratory tool for thinking about escalation paths, not a forecast. See README.md and docs/model.md.
"""

__version__ = "0.1.0"

#: The statement every report and summary carries.
NOT_A_FORECAST = (
    "Exploratory simulation: it shows the consequences of stated assumptions and sources, not a forecast of what "
    "will happen."
)
