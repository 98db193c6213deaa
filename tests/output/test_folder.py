"""Results folders: safe names, and a new folder beside an existing one rather than over it."""

from __future__ import annotations

import re

import pytest
from support import ROOT

from sim.output.folder import ResultsWriter, safe_name
from sim.spec.loading import load_scenario


@pytest.mark.parametrize("name", ["../evil", "/etc/passwd", "..", "a/../../b", "con\x00x", "", "ä" * 5, "x" * 300])
def test_safe_name(name: str) -> None:
    s = safe_name(name)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", s) and s not in (".", "..")


def test_existing_results_are_never_overwritten(tmp_path, doctrine) -> None:
    spec = load_scenario(ROOT / "scenarios" / "limited_deployment.yaml", doctrine)
    a = ResultsWriter(tmp_path, doctrine, spec, ("baseline",))
    b = ResultsWriter.create(tmp_path, doctrine, spec, ("baseline",))
    assert a.folder != b.folder and a.folder.parent == b.folder.parent
    assert (a.folder / "manifest.json").is_file() and (b.folder / "manifest.json").is_file()
