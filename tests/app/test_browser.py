"""The app end to end in a real headless browser (Debian's chromium through playwright; no browser is downloaded):
start it on a free port, change a deployment's location and see the probabilities change, save the option as a
variant and validate the file, open a file that does not validate; no request leaves this computer."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from processes import end_started_processes, start  # noqa: F401
from support import ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SHIPPED = ROOT / "scenarios" / "limited_deployment.yaml"
CELL = "tr[data-outcome='strike_on_nato_forces_in_ukraine'] td.option"

if not CHROMIUM.exists():
    pytest.skip(f"no chromium at {CHROMIUM} (Debian's package 'chromium' drives this test)", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[app]')")
pytest.importorskip("solara", reason="solara is not installed (pip install -e '.[app]')")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_address(proc: subprocess.Popen, lines: list[str], timeout: float = 30) -> str:
    """The address the app prints when it starts (it must say it serves this computer only); what it writes on
    standard error goes on into ``lines``."""
    assert proc.stderr is not None
    threading.Thread(target=lambda: lines.extend(iter(proc.stderr.readline, "")), daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"serving on (http://127\.0\.0\.1:\d+/) \(this computer only", "".join(lines))
        if found:
            return found.group(1)
        assert proc.poll() is None, f"the app ended: {''.join(lines)}"
        time.sleep(0.1)
    raise AssertionError(f"the app did not print its address: {''.join(lines)}")


def pick(page, control: str, item: str) -> None:
    """Choose ``item`` in the select with class ``control``."""
    page.click(control)
    menu = ".v-overlay-container .v-list-item, .v-menu__content.menuable__content__active .v-list-item"  # Vue 3 or 2
    page.locator(menu, has_text=item).first.click()


def test_the_app_in_a_browser(tmp_path):
    scenario = tmp_path / "limited.yaml"
    scenario.write_text(SHIPPED.read_text(encoding="utf-8").replace("runs: 20000", "runs: 2000"), encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(SHIPPED.read_text(encoding="utf-8").replace("size: 2000", "size: -3", 1), encoding="utf-8")
    port = free_port()
    proc = start(["app", str(scenario), "--port", str(port), "--out", str(tmp_path / "results")])
    server_log: list[str] = []
    url = wait_for_address(proc, server_log)
    assert url == f"http://127.0.0.1:{port}/"

    outside: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            local = (url, "blob:" + url.rstrip("/"), "data:")
            page.on("request", lambda r: None if r.url.startswith(local) else outside.append(r.url))
            page.goto(url)
            page.wait_for_selector(".status.answered", timeout=40_000)
            assert "2,000 runs per arm" in page.inner_text(".status")
            before = page.inner_text(CELL)
            page.wait_for_selector(".fan-chart", timeout=30_000)  # the first answer is drawn: the user looks at it

            # the same units at the front: the probability that Russia strikes them changes
            t0 = time.perf_counter()
            pick(page, ".dep-0-location", "frontline")
            page.wait_for_function(
                "([sel, before]) => document.querySelector(sel).innerText !== before"
                " && document.querySelector('.status.answered') !== null", arg=[CELL, before], timeout=20_000)
            latency = time.perf_counter() - t0
            after = page.inner_text(CELL)
            print(f"change to updated numbers: {latency:.2f} s ({before} -> {after})")
            assert float(after.split("%")[0]) > float(before.split("%")[0])
            diff = page.inner_text("tr[data-outcome='strike_on_nato_forces_in_ukraine'] td.difference")
            assert diff.startswith("+") and not diff.startswith("+0.0")

            # the charts and the story of the most escalated run
            page.wait_for_function("document.querySelectorAll('.overlay-chart, .fan-chart').length === 2",
                                   timeout=30_000)
            page.click(".read-story")
            page.wait_for_selector(".story", timeout=20_000)
            assert "run " in page.inner_text(".story") and "'option'" in page.inner_text(".story")

            # save the option as a variant: the file validates and holds it
            page.fill(".variant-name input", "frontline_from_app")
            page.fill(".variant-description input", "saved in the app")
            page.click(".save-variant")
            page.wait_for_selector(".saved", timeout=20_000)
            text = scenario.read_text(encoding="utf-8")
            assert text.startswith("# yaml-language-server")  # comments kept
            assert "name: frontline_from_app" in text
            done = subprocess.run([sys.executable, "-m", "sim", "validate", str(scenario)], capture_output=True,
                                  text=True, cwd=ROOT)
            assert done.returncode == 0, done.stderr
            assert "7 variant(s)" in done.stdout
            # the same name again is refused with the validator's message, the file untouched
            page.click(".save-variant")
            page.wait_for_selector(".save-error", timeout=20_000)
            assert "variant names must be unique" in page.inner_text(".save-error")
            assert scenario.read_text(encoding="utf-8") == text

            # a file that does not validate shows the message of escalation validate
            page.fill(".open-path input", str(bad))
            page.click(".open-file")
            page.wait_for_selector(".validation-error", timeout=20_000)
            shown = page.inner_text(".validation-error")
            refused = subprocess.run([sys.executable, "-m", "sim", "validate", str(bad)], capture_output=True,
                                     text=True, cwd=ROOT)
            assert refused.returncode == 2
            assert " ".join(refused.stderr.split()) in " ".join(shown.split())
        finally:
            browser.close()
    assert outside == [], f"requests left this computer: {outside[:5]}"
    assert "Could not load URL" not in "".join(server_log), "the server tried to fetch an asset from elsewhere"
    shutil.rmtree(tmp_path / "results", ignore_errors=True)
