"""Digest of every shipped scenario's summary.json, to show that a change which should move no number moves none.

Runs each file in ``scenarios/`` through ``escalation run`` (aggregates only, no charts) into a temporary folder
and prints one line per scenario: its name and the SHA-256 of its ``summary.json``. Save the output before a
change and compare after it::

    .venv/bin/python scripts/summary_digests.py --runs 4000 > /tmp/before.txt
    # ... the change ...
    .venv/bin/python scripts/summary_digests.py --runs 4000 | diff /tmp/before.txt - && echo identical

``--runs`` keeps it quick; the full runs of each file are used when it is left out.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def digest(scenario: Path, runs: int | None, out: Path) -> str:
    """Run one scenario into ``out`` and return the SHA-256 of the summary.json it wrote."""
    cmd = [sys.executable, "-m", "sim", "run", str(scenario), "--out", str(out), "--no-runs", "--no-charts",
           "--workers", "2"]
    if runs is not None:
        cmd += ["--runs", str(runs)]
    done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"{scenario.name}: escalation run failed with status {done.returncode}\n{done.stderr}")
    (summary,) = out.glob("*/*/summary.json")
    return hashlib.sha256(summary.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=None, help="runs per variant (default: each file's own)")
    args = parser.parse_args()
    for scenario in sorted((ROOT / "scenarios").glob("*.yaml")):
        with tempfile.TemporaryDirectory() as tmp:
            print(f"{scenario.stem} {digest(scenario, args.runs, Path(tmp))}", flush=True)


if __name__ == "__main__":
    main()
