"""The environment through which the server passes its settings to Solara and to the page, set before Solara is
first imported (Solara reads its settings once, at import). This module imports nothing of Solara."""

from __future__ import annotations

#: Environment variables the page reads (see :mod:`sim.app.page`).
SCENARIO_ENV = "ESCALATION_APP_SCENARIO"
RUNS_ENV = "ESCALATION_APP_RUNS"
CONFIGS_ENV = "ESCALATION_APP_CONFIGS"
OUT_ENV = "ESCALATION_APP_OUT"

PAGE_MODULE = "sim.app.page"
#: Where Solara would fetch a front-end asset it lacks: a port of this machine that nothing serves.
NO_CDN = "http://127.0.0.1:9/"

SOLARA_ENVIRONMENT = {
    "SOLARA_APP": PAGE_MODULE,
    "SOLARA_MODE": "production",
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
    "SOLARA_ASSETS_PROXY": "true",
    "SOLARA_ASSETS_CDN": NO_CDN,
    "SOLARA_THEME_TITLE": "Escalation simulator",
    "SOLARA_THEME_SHOW_BANNER": "false",
}
