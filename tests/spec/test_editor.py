"""The editor's view of a scenario: a real yaml-language-server (the engine of the YAML support of VS Code, Neovim,
Emacs and others) reads a shipped scenario over the Language Server Protocol on stdio, finds the schema through the
file's first line, completes actor ids and move kinds, and flags a misspelled contributor.

The server is installed from the npm registry into ``.tools/editor`` (git-ignored) by ``make editor-tools``, which
``make test`` runs first; the test is skipped, with the reason, where node or the server is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import pytest
from support import ROOT

TOOLS = ROOT / ".tools" / "editor"
SERVER = TOOLS / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
SCENARIO = ROOT / "scenarios" / "limited_deployment.yaml"
TIMEOUT = 60.0


def _server() -> Path:
    """The server's script (``make editor-tools`` installs it, and ``make test`` runs that first); the test is
    skipped, with the reason, where node or the server is missing."""
    if shutil.which("node") is None:
        pytest.skip("node is needed to run yaml-language-server")
    if not SERVER.is_file():
        pytest.skip(f"yaml-language-server is not installed in {TOOLS.relative_to(ROOT)}: `make editor-tools` "
                    "installs it from the npm registry")
    return SERVER


class LanguageClient:
    """A minimal Language Server Protocol client over a server's stdin and stdout (JSON-RPC with Content-Length
    framing): requests wait for their answer, the server's own requests are answered, notifications are queued."""

    def __init__(self, command: list[str], settings: dict[str, Any]) -> None:
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.settings = settings
        self.next_id = 0
        self.answers: dict[int, Queue[dict[str, Any]]] = {}
        self.notifications: Queue[dict[str, Any]] = Queue()
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.proc.stdin is not None
        with self.lock:
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.proc.stdin.flush()

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            length = 0
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            message = json.loads(stream.read(length))
            if "method" in message and "id" in message:  # the server asks: configuration, registrations
                self._answer(message)
            elif "method" in message:
                self.notifications.put(message)
            else:
                self.answers.setdefault(message["id"], Queue()).put(message)

    def _answer(self, request: dict[str, Any]) -> None:
        result: Any = None
        if request["method"] == "workspace/configuration":
            result = [self.settings.get(item.get("section", ""), None) for item in request["params"]["items"]]
        self._send({"id": request["id"], "result": result})

    def request(self, method: str, params: dict[str, Any]) -> Any:
        self.next_id += 1
        rid = self.next_id
        self.answers.setdefault(rid, Queue())
        self._send({"id": rid, "method": method, "params": params})
        answer = self.answers[rid].get(timeout=TIMEOUT)
        assert "error" not in answer, answer
        return answer["result"]

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self._send({"method": method, "params": params})

    def diagnostics(self, uri: str, want: Any) -> list[dict[str, Any]]:
        """The diagnostics the server publishes for ``uri`` once ``want(diagnostics)`` holds (or the last ones)."""
        deadline = time.monotonic() + TIMEOUT
        last: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            try:
                note = self.notifications.get(timeout=max(deadline - time.monotonic(), 0.01))
            except Empty:
                break
            if note["method"] == "textDocument/publishDiagnostics" and note["params"]["uri"] == uri:
                last = note["params"]["diagnostics"]
                if want(last):
                    break
        return last

    def close(self) -> None:
        try:
            self.request("shutdown", {})
            self.notify("exit", {})
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001 - a server that does not stop cleanly is stopped
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def client():
    server = _server()
    settings = {"yaml": {"validate": True, "completion": True, "hover": True, "schemaStore": {"enable": False}}}
    lsp = LanguageClient(["node", str(server), "--stdio"], settings)
    try:
        lsp.request("initialize", {
            "processId": os.getpid(), "rootUri": ROOT.as_uri(),
            "capabilities": {"textDocument": {"completion": {"completionItem": {"snippetSupport": False}},
                                              "publishDiagnostics": {}},
                             "workspace": {"configuration": True}},
        })
        lsp.notify("initialized", {})
        lsp.notify("workspace/didChangeConfiguration", {"settings": settings})
        yield lsp
    finally:
        lsp.close()


def _open(client: LanguageClient, text: str, version: int) -> str:
    """Open ``text`` as the shipped scenario's document (its first line points at the schema)."""
    uri = SCENARIO.as_uri()
    if version > 1:
        client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": version,
                                                            "text": text}})
    return uri


def _labels(client: LanguageClient, uri: str, line: int, character: int) -> set[str]:
    result = client.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                        "position": {"line": line, "character": character}})
    items = result["items"] if isinstance(result, dict) else result or []
    return {item["label"] for item in items}


def test_a_misspelled_contributor_gets_a_diagnostic_on_its_line(client):
    text = SCENARIO.read_text(encoding="utf-8")
    assert "contributors: [france, poland, estonia]" in text
    clean = _open(client, text, 1)
    assert client.diagnostics(clean, lambda d: True) == [], "the shipped scenario is clean in the editor"
    typo = text.replace("contributors: [france, poland, estonia]", "contributors: [frnce, poland, estonia]", 1)
    uri = _open(client, typo, 2)
    found = client.diagnostics(uri, lambda d: bool(d))
    line = typo.splitlines().index("    contributors: [frnce, poland, estonia]")
    assert [d["range"]["start"]["line"] for d in found] == [line], found
    assert "france" in found[0]["message"], "the message lists the allowed members"


def test_completions_offer_actor_ids_and_move_kinds(client):
    text = SCENARIO.read_text(encoding="utf-8")
    lines = text.splitlines()
    at = lines.index("timeline:") + 1
    lines[at:at] = ["  - week: 3", "    actor: ", "    move: "]
    uri = _open(client, "\n".join(lines) + "\n", 3)
    actors = _labels(client, uri, at + 1, len("    actor: "))
    assert {"us", "france", "ukraine", "nato"} <= actors, actors
    assert "russia" not in actors, "Russia makes no scripted move"
    moves = _labels(client, uri, at + 2, len("    move: "))
    assert {"arms_delivery", "new_weapon_class", "strike_permission"} <= moves, moves
