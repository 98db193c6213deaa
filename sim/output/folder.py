"""Write-once results folders: manifest, summary, per-run and event tables (Parquet), written chunk by chunk.

Layout of ``<out>/<scenario>/<UTC time>-<hash>/``::

    manifest.json    versions, scenario and doctrine hashes, resolved scenario, seed, runs, chunk size,
                     executor, wall time, status (running, complete or interrupted), chunks done
    summary.json     per variant: outcome probabilities with 95% Wilson CIs and first-week statistics, the
                     probability of reaching each rung, per week the share of runs at or above each rung
    aggregates.json  the merged sums the summary and the charts are drawn from
    runs.parquet     one row per run and variant: sampled parameters, highest rungs, first week of each outcome
    events.parquet   one row per act: run, variant, week (and date), actor, target, action, rung, and the act as
                     GDELT and ICEWS code it: CAMEO source and target with their actor codes, event code, root
                     code, QuadClass and Goldstein value (docs/events.md)
    charts/          PNG and SVG charts; report.html

``manifest.json`` and ``summary.json`` follow the versioned JSON Schemas of ``schema/`` (their ``schema`` key names
the one they follow); every Parquet file carries the seed, the scenario, doctrine and event-coding hashes and the
versions in its key-value metadata.

A folder is never overwritten. Every file is written under a temporary name and renamed when complete; while a
batch runs, finished chunks are kept in ``parts/`` and ``aggregates.partial.json`` so that a stopped batch
(status ``interrupted``) resumes where it stopped.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import re
import shutil
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim import NOT_A_FORECAST, __version__
from sim.batch.chunks import Chunk, plan_chunks
from sim.engine.aggregates import Aggregates
from sim.engine.model import ChunkResult
from sim.errors import InputError
from sim.output.summary import summarise
from sim.spec.doctrine import Doctrine
from sim.spec.event_coding import EventCoder, EventCoding, load_event_coding
from sim.spec.json_schema import json_data
from sim.spec.loading import canonical_hash
from sim.spec.scenario import ScenarioSpec


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


#: The JSON Schemas (``schema/``) that manifest.json and summary.json follow; a new version of a file's layout gets a
#: new number, and readers check it.
MANIFEST_SCHEMA = "escalation-manifest/1"
SUMMARY_SCHEMA = "escalation-summary/1"
#: The layout version of the Parquet tables, in their key-value metadata.
TABLES_VERSION = "1"


def _write_json(path: Path, data: Any) -> None:
    """Write JSON under a temporary name, flush it to disk, then rename it into place."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n")  # strict JSON
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path.name} is missing", file=path.parent,
                         hint="Give a results folder written by 'escalation run'") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path.name} cannot be read ({exc})", file=path) from None


#: Sub-folder of a results folder holding each finished chunk's table rows until the batch is complete.
PARTS = "parts"
#: The merged aggregates of every finished chunk, with their indices, rewritten after each chunk.
PARTIAL = "aggregates.partial.json"
#: Present while a process is writing the folder; holds that process's id.
LOCK = ".lock"
#: Statuses a folder may be resumed from.
RESUMABLE = ("running", "interrupted")


def parameter_uncertainty(scenario: ScenarioSpec, doctrine: Doctrine) -> str:
    """What a batch's intervals hold: Monte Carlo noise only, or also the spread of the calibrated parameter sets."""
    cal = doctrine.calibration
    if scenario.design_parameters == "fixed" or len(cal.sets) < 2:
        return "Monte Carlo only: every run uses the point values of the design parameters"
    return (f"included: each run draws one of {len(cal.sets)} calibrated parameter sets ({cal.method}), so the "
            "intervals hold what the 2022-2024 record leaves open as well as Monte Carlo noise")


class ResultsWriter:
    """Creates a new results folder (or reopens an unfinished one) and fills it as chunks finish.

    While a batch runs, each finished chunk's per-run rows and events are saved as ``parts/runs-NNNNNN.parquet``
    and ``parts/events-NNNNNN.parquet``, and the merged aggregates of all finished chunks as
    ``aggregates.partial.json``, each written under a temporary name and renamed. When the batch completes, the
    parts are joined in chunk order into ``runs.parquet`` and ``events.parquet`` (the same bytes whatever order the
    chunks finished in) and removed. A stopped batch leaves the manifest status ``interrupted``; ``escalation run
    --resume`` computes the missing chunks only.

    Calling the class makes a new folder; :meth:`reopen` reopens one to resume it.
    """

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
        scenario_file: str | Path | None = None,
        configs: str | Path | None = None,
    ) -> None:
        """Make a new folder ``<out>/<scenario>/<UTC time>-<hash>/`` (never an existing one) and its manifest."""
        scenario_hash = canonical_hash(scenario)
        root = Path(out)
        if root.exists() and not root.is_dir():
            raise InputError("the output path exists and is not a folder", key="--out", found=str(root))
        base = root / safe_name(scenario.name)
        stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%d-%H%M%S")
        folder = _new_folder(base, f"{stamp}-{scenario_hash[:8]}", root)
        record_events = record_events and record_runs
        coding = load_event_coding(configs, doctrine)
        manifest: dict[str, Any] = {
            "schema": MANIFEST_SCHEMA,
            "status": "running",
            "scenario": scenario.name,
            "title": scenario.title,
            "scenario_file": str(Path(scenario_file).resolve()) if scenario_file is not None else None,
            "configs": str(Path(configs).resolve()) if configs is not None else None,
            "scenario_hash": scenario_hash,
            "doctrine_hash": canonical_hash(doctrine),
            "event_coding_hash": canonical_hash(coding),
            "seed": scenario.seed,
            "runs": scenario.runs,
            "chunk_size": scenario.chunk_size,
            "chunks_total": len(_plan(scenario)),
            "horizon_weeks": scenario.horizon_weeks,
            "variants": list(variants),
            "executor": executor,
            "workers": workers,
            "record_runs": record_runs,
            "record_events": record_events,
            "started": _now(),
            "finished": None,
            "wall_seconds": None,
            "chunks_done": [],
            "resumed": [],
            "command": command or [],
            "versions": versions(),
            "resolved_scenario": json_data(scenario),
            "note": NOT_A_FORECAST,
        }
        try:
            _write_json(folder / "manifest.json", manifest)
        except OSError as exc:
            raise InputError(f"cannot write in the results folder ({exc.strerror or exc})", key="--out",
                             found=str(folder)) from None
        self._attach(folder, doctrine, scenario, variants, manifest, set(), coding)

    def _attach(self, folder: Path, doctrine: Doctrine, scenario: ScenarioSpec, variants: tuple[str, ...],
                manifest: dict[str, Any], done: set[int], coding: EventCoding) -> None:
        self.folder = folder
        self.doctrine = doctrine
        self.scenario = scenario
        self.variants = variants
        self.manifest = manifest
        self.record_runs = bool(manifest["record_runs"])
        self.record_events = bool(manifest["record_events"])
        self.done = done
        self._coder = EventCoder(coding, {a.id: a.codes.cameo for a in doctrine.actors if a.codes is not None})
        self._lock()

    # ---------------------------------------------------------------- opening
    @classmethod
    def create(cls, out: str | Path, doctrine: Doctrine, scenario: ScenarioSpec, variants: tuple[str, ...],
               **options: Any) -> ResultsWriter:
        """A writer on a new folder (the same as calling the class)."""
        return cls(out, doctrine, scenario, variants, **options)

    @classmethod
    def reopen(cls, folder: str | Path, doctrine: Doctrine, scenario: ScenarioSpec, *, executor: str = "process",
               workers: int = 1, command: list[str] | None = None) -> tuple[ResultsWriter, dict[str, Aggregates]]:
        """Reopen an unfinished folder to resume it: (writer, merged aggregates of the chunks already done).

        The scenario must be the one the folder was started with (same canonical hash, with the manifest's runs,
        seed and chunk size applied); the doctrine too.
        """
        f = Path(folder)
        manifest = read_manifest(f)
        if canonical_hash(scenario) != manifest["scenario_hash"]:
            raise InputError(
                "the scenario has changed since this batch started, so its finished chunks cannot be reused",
                file=manifest.get("scenario_file") or f, expected=f"scenario hash {manifest['scenario_hash']}",
                found=canonical_hash(scenario), hint="Run it as a new batch instead of resuming",
            )
        if canonical_hash(doctrine) != manifest["doctrine_hash"]:
            raise InputError("the doctrine (configs/) has changed since this batch started", file=f,
                             expected=f"doctrine hash {manifest['doctrine_hash']}", found=canonical_hash(doctrine),
                             hint="Run it as a new batch instead of resuming")
        coding = load_event_coding(manifest.get("configs"), doctrine)
        if manifest.get("event_coding_hash", canonical_hash(coding)) != canonical_hash(coding):
            raise InputError("the event coding (configs/events.yaml) has changed since this batch started", file=f,
                             expected=f"event coding hash {manifest['event_coding_hash']}",
                             found=canonical_hash(coding), hint="Run it as a new batch instead of resuming")
        variants = tuple(manifest["variants"])
        horizon = scenario.horizon_weeks
        aggregates = {v: Aggregates(horizon=horizon) for v in variants}
        done: set[int] = set()
        if (f / PARTIAL).exists():
            state = _read_json(f / PARTIAL)
            try:
                done = {int(i) for i in state["chunks_done"]}
                aggregates = {v: Aggregates.from_dict(state["aggregates"][v]) for v in variants}
            except (KeyError, TypeError, ValueError) as exc:
                raise InputError(f"{PARTIAL} cannot be read ({exc!r})", file=f / PARTIAL) from None
        plan = {c.index: c for c in _plan(scenario)}
        if not done <= set(plan) or any(a.runs != sum(plan[i].size for i in done) for a in aggregates.values()):
            raise InputError(f"{PARTIAL} does not match the chunks of this batch", file=f / PARTIAL,
                             hint="Run it as a new batch instead of resuming")
        if manifest["record_runs"]:
            kinds = ("runs", "events") if manifest["record_events"] else ("runs",)
            for i in sorted(done):
                for kind in kinds:
                    if not _part(f, kind, i).is_file():
                        raise InputError(f"the saved rows of finished chunk {i} are missing", file=_part(f, kind, i),
                                         hint="Run it as a new batch instead of resuming")
        manifest["resumed"] = list(manifest.get("resumed") or []) + [
            {"at": _now(), "executor": executor, "workers": workers, "command": command or []}]
        manifest["status"] = "running"
        writer = cls.__new__(cls)
        writer._attach(f, doctrine, scenario, variants, manifest, done, coding)
        _write_json(f / "manifest.json", manifest)
        return writer, aggregates

    def _lock(self) -> None:
        """Claim the folder for this process, refusing one another live process is writing."""
        path = self.folder / LOCK
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    pid = int(path.read_text().strip() or "0")
                except (OSError, ValueError):
                    pid = 0
                if pid and _alive(pid):
                    raise InputError(f"another process (id {pid}) is writing this results folder", file=self.folder,
                                     hint="Wait for it to finish, or stop it first") from None
                path.unlink(missing_ok=True)  # left by a process that no longer runs
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(str(os.getpid()))
            return

    def _unlock(self) -> None:
        (self.folder / LOCK).unlink(missing_ok=True)

    # ---------------------------------------------------------------- chunks
    def add_chunk(self, results: list[ChunkResult], aggregates: dict[str, Aggregates] | None = None) -> None:
        """Save one finished chunk (all its variants): its per-run rows and events.

        With ``aggregates``, the merged sums of every chunk saved so far, this one included, the chunk is also
        recorded as done in ``aggregates.partial.json``, which is what lets a stopped batch resume without it.
        """
        if not results:
            return
        index = int(results[0].run_ids[0]) // self.scenario.chunk_size
        if self.record_runs:
            (self.folder / PARTS).mkdir(exist_ok=True)
            tables = [self._runs_table(r) for r in results if r.runs]
            if tables:
                _write_table(pa.concat_tables(tables).replace_schema_metadata(self.metadata("runs")),
                             _part(self.folder, "runs", index))
            if self.record_events:
                ev = [self._events_table(r) for r in results if r.events is not None]
                if ev:
                    _write_table(pa.concat_tables(ev).replace_schema_metadata(self.metadata("events")),
                                 _part(self.folder, "events", index))
        self.done.add(index)
        if aggregates is not None:
            _write_json(self.folder / PARTIAL, {
                "chunks_done": sorted(self.done),
                "aggregates": {v: aggregates[v].to_dict() for v in self.variants},
            })
        self.progress(sorted(self.done))

    def progress(self, chunks_done: list[int]) -> None:
        """Record which chunks are finished in the manifest."""
        self.manifest["chunks_done"] = sorted(chunks_done)
        _write_json(self.folder / "manifest.json", self.manifest)

    def _runs_table(self, res: ChunkResult) -> pa.Table:
        variant = pa.array([res.variant] * len(res.runs["run"]), pa.string()).dictionary_encode()
        cols: dict[str, Any] = {"run": pa.array(res.runs["run"], pa.int64()), "variant": variant}
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
        """One chunk's acts of one variant: the model's columns, then the act as CAMEO codes it."""
        e = res.events
        if e is None:  # pragma: no cover - callers filter these out
            raise ValueError("no events recorded")
        rung = np.asarray(e["rung"], dtype=np.int8)
        week = np.asarray(e["week"], dtype=np.int16)
        coded = self._coder.code(e["action"], e["actor"], e["target"])
        text = lambda values: pa.array(values, pa.string()).dictionary_encode()  # noqa: E731
        cols: dict[str, Any] = {
            "run": pa.array(e["run"], pa.int64()),
            "variant": text([res.variant] * len(rung)),
            "week": pa.array(week, pa.int16()),
        }
        start = self.scenario.start_date
        if start is not None:  # the calendar date of the week's first day
            days = np.datetime64(start, "D") + 7 * week.astype(np.int64)
            cols["date"] = pa.array(days.astype("datetime64[D]"), pa.date32())
        coded_text = lambda column: pa.DictionaryArray.from_arrays(  # noqa: E731
            pa.array(column[0], pa.int32()), pa.array(column[1], pa.string()))
        cols.update({
            "actor": text(e["actor"]),
            "target": text(e["target"]),
            "action": text(e["action"]),
            "rung": pa.array(rung, pa.int8()),
            **{name: coded_text(coded[name]) for name in ("actor1", "actor1_code", "actor2", "actor2_code",
                                                          "event_code", "event_root_code")},
            "quad_class": pa.array(coded["quad_class"], pa.int8()),
            "goldstein": pa.array(coded["goldstein"], pa.float32()),
        })
        return pa.table(cols)

    def metadata(self, table: str) -> dict[bytes, bytes]:
        """The key-value metadata of a Parquet table of this folder: what made it, so a file read alone says so."""
        m = self.manifest
        values = {
            "table": table,
            "tables_version": TABLES_VERSION,
            "scenario": m["scenario"],
            "scenario_hash": m["scenario_hash"],
            "doctrine_hash": m["doctrine_hash"],
            "event_coding_hash": m.get("event_coding_hash") or "",
            "seed": str(m["seed"]),
            "runs": str(m["runs"]),
            "start_date": str(self.scenario.start_date or ""),
            "version": __version__,
            "versions": json.dumps(m["versions"], sort_keys=True),
            "note": NOT_A_FORECAST,
        }
        return {f"escalation.{k}".encode(): v.encode() for k, v in values.items()}

    # ---------------------------------------------------------------- finish
    def summary(self, aggregates: dict[str, Aggregates]) -> dict[str, Any]:
        """The summary.json content."""
        names = [r.name for r in self.doctrine.ladder]
        return {
            "schema": SUMMARY_SCHEMA,
            "scenario": self.scenario.name,
            "title": self.scenario.title,
            "question": self.scenario.question.strip(),
            "seed": self.scenario.seed,
            "runs": self.scenario.runs,
            "horizon_weeks": self.scenario.horizon_weeks,
            "baseline": self.scenario.baseline_name,
            "rung_names": names,
            "note": NOT_A_FORECAST,
            "parameter_uncertainty": parameter_uncertainty(self.scenario, self.doctrine),
            "variants": {v: summarise(aggregates[v], names) for v in self.variants},
        }

    def _join_parts(self, kind: str) -> None:
        """Join the chunk parts of one table, in chunk order, into ``<kind>.parquet``."""
        parts = [_part(self.folder, kind, c.index) for c in _plan(self.scenario)]
        parts = [p for p in parts if p.is_file()]
        if not parts:
            return
        tmp = self.folder / f"{kind}.parquet.tmp"
        writer: pq.ParquetWriter | None = None
        try:
            for p in parts:
                table = pq.read_table(p)
                if writer is None:
                    schema = table.schema.with_metadata(self.metadata(kind))
                    writer = pq.ParquetWriter(tmp, schema, compression="zstd")
                writer.write_table(table.cast(writer.schema))
        finally:
            if writer is not None:
                writer.close()
        os.replace(tmp, self.folder / f"{kind}.parquet")

    def finish(self, aggregates: dict[str, Aggregates], wall_seconds: float, status: str = "complete",
               reason: str | None = None) -> dict[str, Any]:
        """End the batch: complete (tables joined, summary.json and aggregates.json written) or ``interrupted``.

        An interrupted folder keeps its finished chunks (``parts/`` and ``aggregates.partial.json``) and can be
        resumed. Returns the summary (of the chunks merged so far, if interrupted).
        """
        complete = status == "complete"
        summary = self.summary(aggregates) if all(v in aggregates for v in self.variants) else {}
        self.manifest["wall_seconds"] = round(float(self.manifest.get("wall_seconds") or 0.0) + wall_seconds, 3)
        if complete:
            if self.record_runs:
                self._join_parts("runs")
                if self.record_events:
                    self._join_parts("events")
            _write_json(self.folder / "summary.json", summary)
            _write_json(self.folder / "aggregates.json", {v: aggregates[v].to_dict() for v in self.variants})
            self.manifest.update(status="complete", finished=_now(), chunks_done=sorted(self.done))
            self.manifest.pop("stopped", None)
            _write_json(self.folder / "manifest.json", self.manifest)
            shutil.rmtree(self.folder / PARTS, ignore_errors=True)
            (self.folder / PARTIAL).unlink(missing_ok=True)
            for stale in self.folder.glob("*.tmp"):  # left by a write cut short before a resume
                stale.unlink(missing_ok=True)
        else:
            self.manifest.update(status="interrupted", finished=None, chunks_done=sorted(self.done),
                                 stopped={"at": _now(), "reason": reason or status})
            _write_json(self.folder / "manifest.json", self.manifest)
        self._unlock()
        return summary


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to someone else
        return True
    return True


def _new_folder(base: Path, name: str, root: Path) -> Path:
    """Create and return ``base/name`` (or ``name-2``, ``name-3``...): never a folder that already exists, and
    never one outside ``root`` (``base`` may be a symbolic link pointing elsewhere)."""
    try:
        base.mkdir(parents=True, exist_ok=True)
        inside = base.resolve().is_relative_to(root.resolve())
    except OSError as exc:
        raise InputError(f"cannot create the results folder ({exc.strerror or exc})", key="--out",
                         found=str(base)) from None
    if not inside:
        raise InputError("the results folder would lie outside the output folder (a symbolic link?)",
                         key="--out", found=f"{base} -> {base.resolve()}")
    for n in range(1, 1000):
        folder = base / (name if n == 1 else f"{name}-{n}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise InputError(f"cannot create the results folder ({exc.strerror or exc})", key="--out",
                             found=str(folder)) from None
        return folder
    raise InputError("too many results folders with the same name and time", key="--out", found=str(base))


def _plan(scenario: ScenarioSpec) -> list[Chunk]:
    return plan_chunks(scenario.runs, scenario.chunk_size)


def _part(folder: Path, kind: str, index: int) -> Path:
    return folder / PARTS / f"{kind}-{index:06d}.parquet"


def _write_table(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


_MANIFEST_KEYS = {"status": str, "scenario_hash": str, "doctrine_hash": str, "seed": int, "runs": int,
                  "chunk_size": int, "variants": list, "record_runs": bool, "record_events": bool}


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The manifest of a results folder that can be resumed, checked; an :class:`InputError` otherwise."""
    f = Path(folder)
    if not f.exists():
        raise InputError("results folder not found", file=f, hint="Give the folder printed by 'escalation run'")
    if not f.is_dir():
        raise InputError("expected a results folder, found a file", file=f)
    manifest = _read_json(f / "manifest.json")
    if not isinstance(manifest, dict):
        raise InputError("manifest.json is not a mapping", file=f / "manifest.json")
    if manifest.get("kind") == "comparison":
        raise InputError("this folder holds a side-by-side comparison of several scenario files", file=f,
                         hint=f"Finish it with: escalation compare --resume {f}")
    for key, kind in _MANIFEST_KEYS.items():
        if not isinstance(manifest.get(key), kind):
            raise InputError(f"manifest.json lacks a valid '{key}'", file=f / "manifest.json", key=key,
                             expected=kind.__name__, found=manifest.get(key))
    if manifest["status"] == "complete":
        raise InputError("this batch is already complete; there is nothing to resume", file=f)
    if manifest["status"] not in RESUMABLE:
        raise InputError(f"a batch with status '{manifest['status']}' cannot be resumed", file=f,
                         expected="one of: " + ", ".join(RESUMABLE))
    return manifest


def load_results(folder: str | Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Aggregates]]:
    """Read a results folder: (manifest, summary, aggregates per variant)."""
    f = Path(folder)
    if not f.is_dir():
        raise InputError("results folder not found" if not f.exists() else "expected a results folder, found a file",
                         file=f, hint="Give a folder written by 'escalation run'")
    if (f / "manifest.json").is_file() and not (f / "summary.json").is_file():
        try:
            status = json.loads((f / "manifest.json").read_text(encoding="utf-8")).get("status")
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            status = None
        if status in RESUMABLE:
            raise InputError(f"this batch is not complete (status '{status}')", file=f,
                             hint=f"Finish it with: escalation run --resume {f}")
    for name in ("manifest.json", "summary.json", "aggregates.json"):
        if not (f / name).is_file():
            raise InputError(f"not a complete results folder: {name} is missing", file=f,
                             hint="Give a folder written by 'escalation run'")
    try:
        manifest = json.loads((f / "manifest.json").read_text(encoding="utf-8"))
        summary = json.loads((f / "summary.json").read_text(encoding="utf-8"))
        merged = json.loads((f / "aggregates.json").read_text(encoding="utf-8"))
        aggs = {k: Aggregates.from_dict(v) for k, v in merged.items()}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"a results file cannot be read ({exc})", file=f) from None
    return manifest, summary, aggs


#: What pyarrow raises on a damaged table: the stages above this one catch it by this name and never import pyarrow.
TableError = pa.ArrowException


def read_events(folder: str | Path, run: int, variant: str) -> list[dict[str, Any]]:
    """The acts of one run of one variant, from a results folder's ``events.parquet``, as rows of week, actor,
    target, action and rung in the order written."""
    import pyarrow.compute as pc

    table = pq.read_table(Path(folder) / "events.parquet", filters=[("run", "=", run)])
    table = table.filter(pc.equal(table.column("variant").cast("string"), variant))
    return table.select(["week", "actor", "target", "action", "rung"]).to_pylist()
