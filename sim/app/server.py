"""Start the app: a Solara server on localhost, its page :mod:`sim.app.page`, nothing sent anywhere.

Solara reads its settings from the environment when it is first imported, so they are set here before that:
telemetry off; the front-end assets served from the local ``solara-assets`` copy (Solara's asset proxy, with the
content-delivery network it would fall back to pointed at an address on this machine that answers nothing, so a
missing asset fails instead of being fetched from the internet); production mode (no version check). The server is
uvicorn, as Solara's own ``solara run`` uses, bound to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable
from pathlib import Path

from sim.app import session
from sim.errors import InputError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
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


def is_local(host: str) -> bool:
    """Whether ``host`` is only reachable from this computer (a loopback address or ``localhost``).

    >>> is_local("127.0.0.1"), is_local("localhost"), is_local("0.0.0.0")
    (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_port(host: str, port: int) -> None:
    """Refuse a port outside 1-65535 or one already in use on ``host`` (:class:`InputError`)."""
    if not 1 <= port <= 65535:
        raise InputError("port out of range", key="--port", expected="1 to 65535", found=port)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise InputError(f"cannot listen on {host}:{port} ({exc.strerror or exc})", key="--port", found=port,
                             hint="Choose another port with --port") from None


def environment(scenario: Path | None, runs: int, configs: Path | None, out: Path) -> dict[str, str]:
    """The environment the server and its page read their settings from."""
    from sim.app import page

    env = dict(SOLARA_ENVIRONMENT)
    env[page.RUNS_ENV] = str(runs)
    env[page.OUT_ENV] = str(out)
    if scenario is not None:
        env[page.SCENARIO_ENV] = str(scenario.resolve())
    if configs is not None:
        env[page.CONFIGS_ENV] = str(configs.resolve())
    return env


def serve(scenario: Path | None = None, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          runs: int = session.APP_RUNS, configs: Path | None = None, out: Path = Path("results"),
          say: Callable[[str], None] = print) -> None:
    """Check the settings (a scenario that does not validate is refused with the message of ``escalation
    validate``), then serve the app until stopped."""
    session.check_runs(runs)
    if scenario is not None:
        session.open_scenario(scenario, configs)
    check_port(host, port)
    os.environ.update(environment(scenario, runs, configs, out))

    import uvicorn

    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    if is_local(host):
        say(f"escalation app: serving on {url} (this computer only; nothing is sent anywhere). Ctrl-C stops it.")
    else:
        say(f"escalation app: serving on {url} - reachable from other computers on the network, since --host is "
            f"not a loopback address. Nothing is sent anywhere. Ctrl-C stops it.")
    config = uvicorn.Config("solara.server.starlette:app", host=host, port=port, log_level="warning")
    uvicorn.Server(config).run()
