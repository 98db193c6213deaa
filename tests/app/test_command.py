"""``escalation app`` refuses what it cannot serve before it starts: exit status 2, one message, no traceback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest
from support import ROOT
from typer.testing import CliRunner

pytest.importorskip("solara", reason="the app's optional dependencies are not installed (pip install -e '.[app]')")

from sim.app.server import is_local  # noqa: E402
from sim.app.settings import NO_CDN  # noqa: E402
from sim.cli.app import app  # noqa: E402

SHIPPED = ROOT / "scenarios" / "limited_deployment.yaml"


def invoke(*args: str):
    return CliRunner().invoke(app, ["app", *args])


def test_a_scenario_that_does_not_validate_is_refused(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SHIPPED.read_text(encoding="utf-8").replace("location: western", "location: moon", 1),
                   encoding="utf-8")
    result = invoke(str(bad), "--port", "1")
    assert result.exit_code == 2
    assert "moon" in result.output and "Traceback" not in result.output


def test_a_port_in_use_is_refused():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        result = invoke(str(SHIPPED), "--port", str(port))
    assert result.exit_code == 2
    assert "cannot listen on 127.0.0.1" in result.output


def test_runs_out_of_bounds_are_refused():
    result = invoke(str(SHIPPED), "--runs", "5")
    assert result.exit_code == 2


def test_solara_takes_the_settings_that_keep_everything_here():
    code = ("from pathlib import Path; from sim.app.server import configure, environment; "
            "configure(environment(None, 4000, None, Path('results'))); "
            "import solara.settings as u, solara.server.settings as s; "
            "print(s.telemetry.mixpanel_enable, u.assets.cdn, u.assets.proxy, s.main.mode)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", NO_CDN, "True", "production"]


def test_only_loopback_addresses_are_local():
    assert is_local("127.0.0.1") and is_local("::1") and is_local("localhost")
    assert not is_local("0.0.0.0") and not is_local("192.168.1.10") and not is_local("example.org")


def test_an_unknown_host_is_refused_under_its_own_option():
    result = invoke(str(SHIPPED), "--host", "nosuchhost.invalid", "--port", "8799")
    assert result.exit_code == 2
    assert "--host" in result.output and "nosuchhost.invalid" in result.output and "port" not in result.output


def test_a_doctrine_folder_that_does_not_load_is_refused_before_serving(tmp_path):
    result = invoke("--configs", str(tmp_path / "nowhere"), "--port", "8799")
    assert result.exit_code == 2
    assert "nowhere" in result.output and "Traceback" not in result.output


def test_json_gives_the_address_once_it_listens():
    from processes import start

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = start(["app", str(SHIPPED), "--port", str(port), "--json"])
    try:
        assert proc.stdout is not None
        text = ""
        while not text.rstrip().endswith("}"):
            line = proc.stdout.readline()
            assert line, f"the app ended: {proc.stderr.read() if proc.poll() is not None else ''}"
            text += line
        assert json.loads(text) == {"address": f"http://127.0.0.1:{port}/", "host": "127.0.0.1", "port": port,
                                    "local_only": True}
    finally:
        proc.terminate()
        proc.wait(timeout=20)
