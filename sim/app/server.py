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
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.app import session
from sim.app.settings import CONFIGS_ENV, NO_CDN, OUT_ENV, RUNS_ENV, SCENARIO_ENV, SOLARA_ENVIRONMENT
from sim.errors import InputError, SimError
from sim.spec.loading import load_doctrine

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


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
        except socket.gaierror as exc:  # not an address of this computer, nor a name that resolves to one
            raise InputError(f"cannot serve on host {host!r} ({exc.strerror or exc})", key="--host", found=host,
                             hint="Give an address of this computer, such as 127.0.0.1") from None
        except OSError as exc:
            raise InputError(f"cannot listen on {host}:{port} ({exc.strerror or exc})", key="--port", found=port,
                             hint="Choose another port with --port") from None


def environment(scenario: Path | None, runs: int, configs: Path | None, out: Path) -> dict[str, str]:
    """The environment the server and its page read their settings from."""
    env = dict(SOLARA_ENVIRONMENT)
    env[RUNS_ENV] = str(runs)
    env[OUT_ENV] = str(out.resolve())
    if scenario is not None:
        env[SCENARIO_ENV] = str(scenario.resolve())
    if configs is not None:
        env[CONFIGS_ENV] = str(configs.resolve())
    return env


def configure(env: dict[str, str]) -> None:
    """Put ``env`` in the environment, then import Solara and check that it took the settings: telemetry off, no
    content-delivery network, production mode. A Solara imported earlier would have read other settings."""
    os.environ.update(env)
    import solara.server.settings as server_settings
    import solara.settings as ui_settings

    took = (not server_settings.telemetry.mixpanel_enable and ui_settings.assets.cdn == NO_CDN
            and server_settings.main.mode == "production")
    if not took:
        raise SimError("Solara was imported before its settings were made: telemetry or the asset source could not "
                       "be set; start the app with 'escalation app'")


def serve(scenario: Path | None = None, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          runs: int = session.APP_RUNS, configs: Path | None = None, out: Path = Path("results"),
          say: Callable[[str], None] = print, tell: Callable[[dict[str, Any]], None] | None = None) -> None:
    """Check the settings (a scenario that does not validate is refused with the message of ``escalation
    validate``, a doctrine folder likewise), then serve the app until stopped. Once it listens, ``say`` is given a
    sentence saying where; or, given ``tell``, that is given the address as data instead."""
    session.check_runs(runs)
    if scenario is not None:
        session.open_scenario(scenario, configs)
    elif configs is not None:
        load_doctrine(configs)
    check_port(host, port)
    configure(environment(scenario, runs, configs, out))
    # Solara would set its session cookie with SameSite=None for an app embedded in another site's frame; served
    # alone over plain http it falls back to SameSite=Lax, which is what this app wants: no warning for that
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https", category=UserWarning)

    import uvicorn

    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    if is_local(host):
        message = f"escalation app: serving on {url} (this computer only; nothing is sent anywhere). Ctrl-C stops it."
    else:
        message = (f"escalation app: serving on {url} - reachable from other computers on the network, since --host "
                   f"is not a loopback address. Nothing is sent anywhere. Ctrl-C stops it.")

    class Server(uvicorn.Server):
        """uvicorn's server, saying where it serves once it listens."""

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                if tell is not None:
                    tell({"address": url, "host": host, "port": port, "local_only": is_local(host)})
                else:
                    say(message)

    config = uvicorn.Config("solara.server.starlette:app", host=host, port=port, log_level="warning")
    Server(config).run()
