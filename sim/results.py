"""Write-once results folders: manifest, summary, per-run and event tables (Parquet), written chunk by chunk.

Layout of ``<out>/<scenario>/<UTC time>-<hash>/``::

    manifest.json    versions, scenario and doctrine hashes, resolved scenario, seed, runs, chunk size,
                     executor, wall time, status (running, complete or interrupted), chunks done
    summary.json     per variant: outcome probabilities with 95% Wilson CIs and first-week statistics, the
                     probability of reaching each rung, per week the share of runs at or above each rung
    aggregates.json  the merged sums the summary and the charts are drawn from
    runs.parquet     one row per run and variant: sampled parameters, highest rungs, first week of each outcome
    events.parquet   one row per act: run, variant, week, actor, target, action, rung, CAMEO code, Goldstein value
    charts/          PNG and SVG charts; report.html

A folder is never overwritten. Tables are written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import re
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim import __version__
from sim.config import Doctrine, ScenarioSpec
from sim.errors import InputError
from sim.loading import canonical_hash
from sim.model import ChunkResult
from sim.outcomes import Aggregates, summarise

NOT_A_FORECAST = (
    "Exploratory simulation: it shows the consequences of stated assumptions and sources, not a forecast of what "
    "will happen."
)


def safe_name(name: str) -> str:
    """A folder-safe form of a scenario name.

    >>> safe_name("../evil name")
    'evil_name'
    """
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("._-")
    return cleaned[:64] or "scenario"


def versions() -> dict[str, str]:
    """The versions of Python, this package and its main dependencies."""
    out = {"python": sys.version.split()[0], "escalation-sim": __version__, "platform": platform.platform()}
    for dist in ("numpy", "mesa", "pydantic", "pyarrow", "matplotlib", "pyyaml", "typer", "rich"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


class ResultsWriter:
    """Creates a new results folder and fills it as chunks arrive."""

    def __init__(
        self,
        out: str | Path,
        doctrine: Doctrine,
        scenario: ScenarioSpec,
        variants: tuple[str, ...],
        *,
        record_runs: bool = True,
        record_events: bool = True,
        executor: str = "process",
        workers: int = 1,
        command: list[str] | None = None,
    ) -> None:
        self.doctrine = doctrine
        self.scenario = scenario
        self.variants = variants
        self.record_runs = record_runs
        self.record_events = record_events and record_runs
        scenario_hash = canonical_hash(scenario)
        doctrine_hash = canonical_hash(doctrine)
        root = Path(out)
        if root.exists() and not root.is_dir():
            raise InputError("the output path exists and is not a folder", key="--out", found=str(root))
        base = root / safe_name(scenario.name)
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
        folder = base / f"{stamp}-{scenario_hash[:8]}"
        n = 1
        while folder.exists():
            n += 1
            folder = base / f"{stamp}-{scenario_hash[:8]}-{n}"
        try:
            folder.mkdir(parents=True)
        except OSError as exc:
            raise InputError(f"cannot create the results folder ({exc.strerror})", key="--out", found=str(folder)) from None
        self.folder = folder
        self.started = _dt.datetime.now(_dt.timezone.utc)
        self.manifest: dict[str, Any] = {
            "status": "running",
            "scenario": scenario.name,
            "title": scenario.title,
            "scenario_hash": scenario_hash,
            "doctrine_hash": doctrine_hash,
            "seed": scenario.seed,
            "runs": scenario.runs,
            "chunk_size": scenario.chunk_size,
            "horizon_weeks": scenario.horizon_weeks,
            "variants": list(variants),
            "executor": executor,
            "workers": workers,
            "record_runs": self.record_runs,
            "record_events": self.record_events,
            "started": self.started.isoformat(timespec="seconds"),
            "finished": None,
            "wall_seconds": None,
            "chunks_done": [],
            "command": command or [],
            "versions": versions(),
            "resolved_scenario": scenario.model_dump(mode="json"),
            "note": NOT_A_FORECAST,
        }
        _write_json(folder / "manifest.json", self.manifest)
        self._runs_writer: pq.ParquetWriter | None = None
        self._events_writer: pq.ParquetWriter | None = None
        self._runs_tmp = folder / "runs.parquet.tmp"
        self._events_tmp = folder / "events.parquet.tmp"
        self._ladder = {r.rung: r for r in doctrine.ladder}

    # ---------------------------------------------------------------- chunks
    def add_chunk(self, results: list[ChunkResult]) -> None:
        """Append one chunk's per-run rows and events (all variants) to the tables."""
        if not self.record_runs:
            return
        tables = [self._runs_table(r) for r in results if r.runs]
        if tables:
            table = pa.concat_tables(tables)
            if self._runs_writer is None:
                self._runs_writer = pq.ParquetWriter(self._runs_tmp, table.schema, compression="zstd")
            self._runs_writer.write_table(table)
        if self.record_events:
            ev = [self._events_table(r) for r in results if r.events is not None]
            if ev:
                table = pa.concat_tables(ev)
                if self._events_writer is None:
                    self._events_writer = pq.ParquetWriter(self._events_tmp, table.schema, compression="zstd")
                self._events_writer.write_table(table)

    def _runs_table(self, res: ChunkResult) -> pa.Table:
        cols: dict[str, Any] = {"run": pa.array(res.runs["run"], pa.int64()),
                                "variant": pa.array([res.variant] * len(res.runs["run"])).dictionary_encode()}
        for k, v in res.runs.items():
            if k == "run":
                continue
            if k.startswith("first_week."):
                cols[k] = pa.array(v, pa.int16(), mask=v < 0)
            elif k.startswith("max_"):
                cols[k] = pa.array(v, pa.int8())
            else:
                cols[k] = pa.array(v, pa.float32())
        return pa.table(cols)

    def _events_table(self, res: ChunkResult) -> pa.Table:
        e = res.events
        assert e is not None
        rung = np.asarray(e["rung"], dtype=np.int8)
        cameo = np.array([self._ladder[r].cameo for r in range(16)])
        gold = np.array([self._ladder[r].goldstein for r in range(16)], dtype=np.float32)
        return pa.table({
            "run": pa.array(e["run"], pa.int64()),
            "variant": pa.array([res.variant] * len(rung)).dictionary_encode(),
            "week": pa.array(e["week"], pa.int16()),
            "actor": pa.array(e["actor"]).dictionary_encode(),
            "target": pa.array(e["target"]).dictionary_encode(),
            "action": pa.array(e["action"]).dictionary_encode(),
            "rung": pa.array(rung, pa.int8()),
            "cameo": pa.array(cameo[rung] if len(rung) else [], pa.string()).dictionary_encode(),
            "goldstein": pa.array(gold[rung] if len(rung) else [], pa.float32()),
        })

    def progress(self, chunks_done: list[int]) -> None:
        """Record which chunks are finished in the manifest."""
        self.manifest["chunks_done"] = sorted(chunks_done)
        _write_json(self.folder / "manifest.json", self.manifest)

    # ---------------------------------------------------------------- finish
    def _close_tables(self, complete: bool) -> None:
        for writer, tmp, final in ((self._runs_writer, self._runs_tmp, "runs.parquet"),
                                   (self._events_writer, self._events_tmp, "events.parquet")):
            if writer is not None:
                writer.close()
                os.replace(tmp, self.folder / (final if complete else final.replace(".parquet", ".partial.parquet")))

    def summary(self, aggregates: dict[str, Aggregates]) -> dict[str, Any]:
        """The summary.json content."""
        names = [r.name for r in self.doctrine.ladder]
        return {
            "scenario": self.scenario.name,
            "title": self.scenario.title,
            "question": self.scenario.question.strip(),
            "seed": self.scenario.seed,
            "runs": self.scenario.runs,
            "horizon_weeks": self.scenario.horizon_weeks,
            "baseline": self.scenario.baseline_name,
            "rung_names": names,
            "note": NOT_A_FORECAST,
            "variants": {v: summarise(aggregates[v], names) for v in self.variants},
        }

    def finish(self, aggregates: dict[str, Aggregates], wall_seconds: float, status: str = "complete") -> dict[str, Any]:
        """Close the tables, write summary.json and aggregates.json, mark the manifest with ``status``."""
        complete = status == "complete"
        self._close_tables(complete)
        summary = self.summary(aggregates)
        if complete:
            _write_json(self.folder / "summary.json", summary)
            _write_json(self.folder / "aggregates.json", {v: aggregates[v].to_dict() for v in self.variants})
        self.manifest.update(
            status=status,
            finished=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            wall_seconds=round(wall_seconds, 3),
        )
        _write_json(self.folder / "manifest.json", self.manifest)
        return summary


def load_results(folder: str | Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Aggregates]]:
    """Read a results folder: (manifest, summary, aggregates per variant)."""
    f = Path(folder)
    for name in ("manifest.json", "summary.json", "aggregates.json"):
        if not (f / name).is_file():
            raise InputError(f"not a complete results folder: {name} is missing", file=f,
                             hint="Give a folder written by 'escalation run'")
    try:
        manifest = json.loads((f / "manifest.json").read_text(encoding="utf-8"))
        summary = json.loads((f / "summary.json").read_text(encoding="utf-8"))
        aggs = {k: Aggregates.from_dict(v) for k, v in json.loads((f / "aggregates.json").read_text(encoding="utf-8")).items()}
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InputError(f"a results file cannot be read ({exc})", file=f) from None
    return manifest, summary, aggs
