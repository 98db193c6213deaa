"""Shared fixtures: the shipped doctrine, small scenarios built in code, a helper to run the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.spec.doctrine import Doctrine
from sim.spec.loading import load_doctrine

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def doctrine() -> Doctrine:
    return load_doctrine(ROOT / "configs")
