"""Write-once results folders: manifest, summary, per-run and event tables (Parquet), written chunk by chunk.

Layout of ``<out>/<scenario>/<UTC time>-<hash>/``::

    manifest.json    versions, scenario and doctrine hashes, resolved scenario, seed, runs, chunk size,
                     executor, wall time, status (running, complete or interrupted), chunks done
    summary.json     per variant: outcome probabilities with 95% Wilson CIs and first-week statistics, the
                     probability of reaching each rung, per week the share of runs at or above each rung
    aggregates.json  the merged sums the summary and the charts are drawn from
    runs.parquet     one row per run and variant: sampled parameters, highest rungs (and the week the headline
                     first reached its highest), first week of each outcome; a sweep's lever values (lever.<path>)
    events.parquet   one row per act: run, variant, week (and date), actor, target, action, rung, and the act as
                     GDELT and ICEWS code it: CAMEO source and target with their actor codes, event code, root
                     code, QuadClass and Goldstein value (docs/events.md)
    charts/          the report's charts (PNG; SVG too on request); report.html

``manifest.json`` and ``summary.json`` follow the versioned JSON Schemas of ``schema/`` (their ``schema`` key names
the one they follow); every Parquet file carries the seed, the scenario, doctrine and event-coding hashes and the
versions in its key-value metadata.

A folder is never overwritten. Every file is written under a temporary name and renamed when complete; while a
batch runs, finished chunks are kept in ``parts/`` and ``aggregates.partial.json`` so that a stopped batch
(status ``interrupted``) resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import math
import os
import platform
import re
import shutil
import sys
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim import NOT_A_FORECAST, __version__
from sim.batch.chunks import Chunk, plan_chunks
from sim.engine.aggregates import Aggregates
from sim.errors import InputError
from sim.output.summary import summarise
from sim.spec.doctrine import Doctrine
from sim.spec.event_coding import EventCoder, EventCoding, load_event_coding
from sim.spec.json_schema import json_data
from sim.spec.levers import sweep_points
from sim.spec.loading import canonical_hash
from sim.spec.scenario import ScenarioSpec

if TYPE_CHECKING:
    from sim.engine.model import ChunkResult


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
    text = json.dumps(data, indent=2, sort_keys=False, allow_nan=False)  # strict JSON + "\n"
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:  # a full or read-only disk, or a stop: no half-written temporary file is left
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a results file holds")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant)
    except FileNotFoundError:
        raise InputError(f"{path.name} is missing", file=path.parent,
                         hint="Give a results folder written by 'escalation run'") from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
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

    While a batch runs, each finished chunk's per-run rows are saved as ``parts/runs-NNNNNN.arrow`` (Arrow IPC,
    uncompressed) and its acts as the engine's integer codes in ``parts/events-NNNNNN.arrow`` (Arrow IPC, lz4),
    and the merged aggregates of all finished chunks as ``aggregates.partial.json``, each written under a temporary
    name and renamed. When the batch completes, the parts are joined in chunk order into ``runs.parquet`` and
    ``events.parquet`` (the same bytes whatever order the chunks finished in), each encoded once there (the events
    table is built from the codes at that moment), and removed. A stopped batch leaves the manifest status
    ``interrupted``; ``escalation run --resume`` computes the missing chunks only.

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
        points = sweep_points(scenario, doctrine)
        if points:  # a sweep: each point's lever values, also columns of runs.parquet
            manifest["sweep"] = {"levers": list(next(iter(points.values()))), "points": points}
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
        #: sha256 and size of each chunk part written, by file name (in ``parts/``)
        self.part_sums: dict[str, dict[str, Any]] = {}
        #: chunks whose saved rows were found damaged or missing on resume: their rows are computed again
        self.redo: list[int] = []
        self._points = sweep_points(scenario, doctrine)
        self._lever_types = {path: _lever_type([p[path] for p in self._points.values()])
                             for path in next(iter(self._points.values()), {})}
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
        sums: dict[str, Any] = {}
        if (f / PARTIAL).exists():
            state = _read_json(f / PARTIAL)
            try:
                done = {int(i) for i in state["chunks_done"]}
                aggregates = {v: Aggregates.from_dict(state["aggregates"][v]) for v in variants}
                sums = dict(state.get("parts") or {})
                _check_finite(state["aggregates"])
            except Exception as exc:  # any damage to the file: never a traceback
                raise InputError(f"{PARTIAL} is damaged ({type(exc).__name__}: {exc})", file=f / PARTIAL,
                                 hint="Its finished chunks cannot be trusted: run the batch as a new one") from None
        plan = {c.index: c for c in _plan(scenario)}
        if not done <= set(plan) or any(a.runs != sum(plan[i].size for i in done) for a in aggregates.values()):
            raise InputError(f"{PARTIAL} does not match the chunks of this batch", file=f / PARTIAL,
                             hint="Run it as a new batch instead of resuming")
        redo = _damaged_parts(f, done, sums, manifest) if manifest["record_runs"] else []
        manifest["resumed"] = list(manifest.get("resumed") or []) + [
            {"at": _now(), "executor": executor, "workers": workers, "command": command or []}]
        manifest["status"] = "running"
        if redo:
            manifest["repaired"] = list(manifest.get("repaired") or []) + [{"at": _now(), "chunks": redo}]
        writer = cls.__new__(cls)
        writer._attach(f, doctrine, scenario, variants, manifest, done, coding)
        writer.part_sums = {k: v for k, v in sums.items() if isinstance(v, dict)}
        writer.redo = redo
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
                try:
                    path.unlink(missing_ok=True)  # left by a process that no longer runs
                except OSError as exc:
                    raise InputError(f"the lock file cannot be removed ({exc.strerror or exc})", file=path,
                                     hint="Remove it by hand if no process is writing this folder") from None
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(str(os.getpid()))
            return

    def _unlock(self) -> None:
        (self.folder / LOCK).unlink(missing_ok=True)

    def release(self) -> None:
        """Give the folder up after a failure, as far as the disk allows: remove the lock if it can be removed
        (if not, it names this process, and a resume takes it over once this process has ended)."""
        with contextlib.suppress(OSError):
            self._unlock()

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
                # one record batch with one dictionary of variants (an IPC file holds no replacement of a dictionary,
                # and each batch repeats its headers: 7 KB for 131 columns)
                part = pa.concat_tables(tables).unify_dictionaries().combine_chunks()
                _write_table(part.replace_schema_metadata(self.metadata("runs")),
                             _part(self.folder, "runs", index), "runs")
                self._record_part(_part(self.folder, "runs", index))
            if self.record_events:
                coded = _coded_events([r for r in results if r.events is not None])
                if coded is not None:
                    _write_table(coded.replace_schema_metadata({**self.metadata("events"),
                                                                **(coded.schema.metadata or {})}),
                                 _part(self.folder, "events", index), "events")
                    self._record_part(_part(self.folder, "events", index))
        self.done.add(index)
        if aggregates is not None:
            _write_json(self.folder / PARTIAL, {
                "chunks_done": sorted(self.done),
                "aggregates": {v: aggregates[v].to_dict() for v in self.variants},
                "parts": {name: self.part_sums[name] for name in sorted(self.part_sums)},
            })
        self.progress(sorted(self.done))

    # ---------------------------------------------------------------- checksums
    def _record_part(self, path: Path) -> None:
        """Keep a part's checksum, saved with the chunks done in ``aggregates.partial.json``."""
        self.part_sums[path.name] = file_checksum(path)

    def _record_files(self) -> None:
        """Record the checksum of every table and JSON file of a complete folder in the manifest."""
        self.manifest["files"] = {name: file_checksum(self.folder / name) for name in RESULT_FILES
                                  if (self.folder / name).is_file()}

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
            elif k.startswith("week_of_"):
                cols[k] = pa.array(v, pa.int16())
            else:
                cols[k] = pa.array(v, pa.float32())
        for path, value in self._points.get(res.variant, {}).items():  # a sweep point's levers, one column each
            cols["lever." + path] = pa.array([value] * len(res.runs["run"]), self._lever_types[path])
        return pa.table(cols)

    def _events_table(self, part: pa.Table) -> pa.Table:
        """The acts of a chunk part written as integer codes (:func:`_coded_events`): the model's columns, then the
        act as CAMEO codes it, every column computed on whole arrays."""
        labels = json.loads((part.schema.metadata or {})[PART_LABELS])
        run, week, rung = (part.column(c).to_numpy() for c in ("run", "week", "rung"))
        actor, target, action, variant = (part.column(c).to_numpy() for c in ("actor", "target", "action", "variant"))

        def text(codes: np.ndarray, values: list[str] | tuple[str, ...]) -> pa.DictionaryArray:
            # every code indexes its labels by construction: no check over the rows
            return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32, copy=False)),
                                                  pa.array(values, pa.string()), safe=False)

        cols: dict[str, Any] = {
            "run": pa.array(run, pa.int64()),
            "variant": text(variant, labels["variant"]),
            "week": pa.array(week, pa.int16()),
        }
        start = self.scenario.start_date
        if start is not None:  # the calendar date of the week's first day
            days = np.datetime64(start, "D") + 7 * week.astype(np.int64)
            cols["date"] = pa.array(days.astype("datetime64[D]"), pa.date32())
        coded = self._code(action, actor, target, labels["action"], labels["actor"])
        cols.update({
            "actor": text(actor, labels["actor"]),
            "target": text(target, labels["actor"]),
            "action": text(action, labels["action"]),
            "rung": pa.array(rung, pa.int8()),
            **{name: text(*coded[name]) for name in ("actor1", "actor1_code", "actor2", "actor2_code", "event_code",
                                                     "event_root_code")},
            "quad_class": pa.array(coded["quad_class"], pa.int8()),
            "goldstein": pa.array(coded["goldstein"], pa.float32()),
        })
        # every column is made of whole arrays, none with a null: declared required, so the Parquet writer keeps no
        # null flags (a fifth of the table's encoding; benchmarks/RESULTS.md, "Sixth round")
        schema = pa.schema([pa.field(name, col.type, nullable=False) for name, col in cols.items()])
        return pa.Table.from_arrays(list(cols.values()), schema=schema)

    def _code(self, action: np.ndarray, actor: np.ndarray, target: np.ndarray, actions: list[str],
              actors: list[str]) -> dict[str, Any]:
        """The CAMEO coding of rows of acts given as codes: each distinct (action, actor, target) is coded once and
        every row takes its combination's codes."""
        n_actors = max(len(actors), 1)
        key = (action.astype(np.int64) * n_actors + actor) * n_actors + target
        if len(actions) * n_actors * n_actors <= _GRID_LIMIT:  # few labels: the combinations by counting
            grid = np.bincount(key, minlength=len(actions) * n_actors * n_actors)
            present = np.flatnonzero(grid)
            slot = np.zeros(len(grid), np.intp)
            slot[present] = np.arange(len(present))
            row = slot[key]
        else:
            present, row = np.unique(key, return_inverse=True)
        acts, pairs = np.divmod(present, n_actors * n_actors)
        by, at = np.divmod(pairs, n_actors)
        combos = self._coder.code([actions[i] for i in acts.tolist()], [actors[i] for i in by.tolist()],
                                  [actors[i] for i in at.tolist()])
        return {name: (value[0][row], value[1]) if isinstance(value, tuple) else value[row]
                for name, value in combos.items()}

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
        """Join the chunk parts of one table, in chunk order, into ``<kind>.parquet``: each part is read back and
        encoded once, with the final file's codecs (:func:`_final_options`)."""
        parts = [_part(self.folder, kind, c.index) for c in _plan(self.scenario)]
        parts = [p for p in parts if p.is_file()]
        if not parts:
            return
        tmp = self.folder / f"{kind}.parquet.tmp"
        writer: pq.ParquetWriter | None = None
        try:
            try:
                for p in parts:
                    table = _read_part(p)
                    if PART_LABELS in (table.schema.metadata or {}):  # acts as integer codes
                        table = self._events_table(table)
                    if writer is None:
                        schema = table.schema.with_metadata(self.metadata(kind))
                        writer = pq.ParquetWriter(tmp, schema, **_final_options(schema))
                    writer.write_table(table.cast(writer.schema))
            finally:
                if writer is not None:
                    writer.close()
            os.replace(tmp, self.folder / f"{kind}.parquet")
        except BaseException:  # no half-joined table is left
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise

    def tidy(self) -> None:
        """Remove what a complete folder no longer needs: the chunk parts, the partial aggregates, temporary files
        left by a write cut short, and the lock. Safe to call again after a stop cut it short."""
        shutil.rmtree(self.folder / PARTS, ignore_errors=True)
        (self.folder / PARTIAL).unlink(missing_ok=True)
        for stale in self.folder.glob("*.tmp"):  # left by a write cut short before a resume
            stale.unlink(missing_ok=True)
        self._unlock()

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
            self._record_files()
            whole = dict(self.manifest, status="complete", finished=_now(), chunks_done=sorted(self.done))
            whole.pop("stopped", None)
            # complete here only once it is complete on disk: a stop that cuts this write short leaves the folder
            # (and this writer) running, so it is marked interrupted and resumed, never tidied as complete
            _write_json(self.folder / "manifest.json", whole)
            self.manifest = whole
            self.tidy()
        else:
            self.manifest.update(status="interrupted", finished=None, chunks_done=sorted(self.done),
                                 stopped={"at": _now(), "reason": reason or status})
            _write_json(self.folder / "manifest.json", self.manifest)
        self._unlock()
        return summary


def _lever_type(values: list[Any]) -> pa.DataType:
    """The column type of a lever from its values at every point: integer, float, bool or text."""
    given = [v for v in values if v is not None]
    if given and all(isinstance(v, bool) for v in given):
        return pa.bool_()
    if given and all(isinstance(v, int) and not isinstance(v, bool) for v in given):
        return pa.int64()
    if given and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in given):
        return pa.float64()
    return pa.string()


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
    """A chunk part, an Arrow IPC file: the per-run rows, or the acts as integer codes."""
    return folder / PARTS / f"{kind}-{index:06d}.arrow"


#: Key of a chunk part's metadata under which the labels of its integer codes are kept (an events part).
PART_LABELS = b"escalation.part_labels"
#: Above this many (action, actor, target) combinations, a chunk's distinct acts are found by sorting.
_GRID_LIMIT = 1 << 22


def _coded_events(results: list[ChunkResult]) -> pa.Table | None:
    """One chunk's acts of every variant as the engine's integer codes (variant, actor, target, action), with
    their labels in the table's metadata: what a chunk part keeps. :meth:`ResultsWriter._events_table` makes the
    events table of them once, when the parts are joined."""
    if not results:
        return None
    actors: dict[str, int] = {}
    actions: dict[str, int] = {}
    columns: dict[str, list[np.ndarray]] = {c: [] for c in ("run", "variant", "week", "actor", "target", "action",
                                                             "rung")}
    for i, res in enumerate(results):
        e = res.events
        if e is None:  # pragma: no cover - callers filter these out
            raise ValueError("no events recorded")
        for name, into in (("actor", actors), ("target", actors), ("action", actions)):
            codes, names = _codes_of(e, name)
            remap = np.array([into.setdefault(label, len(into)) for label in names] or [0], np.int32)
            columns[name].append(remap[codes])
        columns["run"].append(np.asarray(e["run"], np.int64))
        columns["week"].append(np.asarray(e["week"], np.int16))
        columns["rung"].append(np.asarray(e["rung"], np.int8))
        columns["variant"].append(np.full(len(columns["run"][-1]), i, np.int32))
    labels = {"variant": [r.variant for r in results], "actor": list(actors), "action": list(actions)}
    sizes = {"variant": len(results), "actor": len(actors), "target": len(actors), "action": len(actions)}
    table = pa.table({name: _narrow(np.concatenate(parts), sizes.get(name)) for name, parts in columns.items()})
    return table.replace_schema_metadata({PART_LABELS: json.dumps(labels).encode()})


def _narrow(values: np.ndarray, labels: int | None) -> np.ndarray:
    """Codes into ``labels`` labels in one byte each when they fit (two otherwise); other columns as they are."""
    if labels is None:
        return values
    return values.astype(np.int8 if labels <= 127 else np.int16 if labels <= 32767 else np.int32)


def _codes_of(events: Any, column: str) -> tuple[np.ndarray, list[str]]:
    """A text column of a chunk's events as (codes, labels): the engine's own, or those of its text."""
    if hasattr(events, "coded"):
        codes, labels = events.coded(column)
        return np.asarray(codes), list(labels)
    encoded = pa.array(list(events[column]), pa.string()).dictionary_encode()
    return encoded.indices.to_numpy(zero_copy_only=False), encoded.dictionary.to_pylist()


#: How a chunk part is written (Arrow IPC: written and read back at about memory speed, where a Parquet part took
#: ten times as long each way): the acts compressed with lz4 (about 4 bytes an act, against 15 uncompressed), the
#: per-run rows as they are (lz4 saves a fifth of their size at five times the cost; benchmarks/RESULTS.md, "Sixth
#: round").
_IPC_OPTIONS = {"events": pa.ipc.IpcWriteOptions(compression="lz4"), "runs": pa.ipc.IpcWriteOptions()}


def _read_part(path: Path) -> pa.Table:
    """A chunk part as it was written."""
    with pa.OSFile(str(path), "rb") as source:  # read into memory: the table outlives the open file
        return pa.ipc.open_file(source).read_all()


#: The codec of ``runs.parquet`` and ``events.parquet``: lz4 encodes a chunk's tables in about 70% of the time zstd
#: takes, for files about a third larger (benchmarks/RESULTS.md, "Tables, third round").
FINAL_COMPRESSION = "lz4"


def _final_options(schema: pa.Schema) -> dict[str, Any]:
    """How ``runs.parquet`` and ``events.parquet`` are written: :data:`FINAL_COMPRESSION`; dictionary encoding for
    text and for the events' columns of few values (week, date, rung, QuadClass, Goldstein), plain for the rest
    (the per-run parameters take about as many values as there are runs); statistics for the run and the week (a
    reader's filter on them skips row groups)."""
    few = {"week", "rung", "quad_class", "goldstein", "date"} if "goldstein" in schema.names else set()
    return {"compression": FINAL_COMPRESSION, "write_statistics": [n for n in ("run", "week") if n in schema.names],
            "use_dictionary": [f.name for f in schema if pa.types.is_dictionary(f.type) or f.name in few]}


def _write_table(table: pa.Table, path: Path, kind: str) -> None:
    """Write a chunk part of ``kind`` (:data:`_IPC_OPTIONS`) under a temporary name, then rename it."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema, options=_IPC_OPTIONS[kind]) as out:
            out.write_table(table)
        os.replace(tmp, path)
    except BaseException:  # no half-written temporary file is left
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise


#: The files of a complete folder whose checksums the manifest records (``files``) and ``load_results`` checks.
RESULT_FILES = ("summary.json", "aggregates.json", "runs.parquet", "events.parquet")


def read_runs_table(folder: str | Path, columns: list[str] | None = None) -> pa.Table:
    """A results folder's per-run table (only ``columns``, if given), or :class:`InputError` saying why it cannot
    be read."""
    path = Path(folder) / "runs.parquet"
    if not path.is_file():
        raise InputError("the results folder has no per-run table (runs.parquet)", file=folder,
                         hint="Run the batch again without --no-runs")
    try:
        if columns is not None:  # the columns the file has, of those asked for: a missing one is the caller's to name
            have = set(pq.read_schema(path).names)
            columns = [c for c in columns if c in have]
        return pq.read_table(path, columns=columns)
    except (OSError, ValueError) as exc:
        raise InputError(f"runs.parquet cannot be read ({exc})", file=path) from None


#: The checksums this process has computed, by file as it was then (its path, device, inode, size and times of
#: change): a results folder that one command checks several times (for its charts, its story and its report), just
#: after it wrote and hashed its tables, is read once. Only ever used to confirm a recorded checksum
#: (:func:`_damage`): a file that seems to differ is always read again.
_HASHED: dict[tuple[str, int, int, int, int, int], dict[str, Any]] = {}
#: Past this many entries, :data:`_HASHED` starts again (a long-lived process checks many folders).
_HASHED_LIMIT = 4096


def _identity(path: Path, st: os.stat_result) -> tuple[str, int, int, int, int, int]:
    return (str(path.absolute()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def file_checksum(path: Path) -> dict[str, Any]:
    """The sha256 and the size in bytes of a file, as recorded in a results folder (remembered, with what the file
    was, when it did not change while it was read)."""
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        before = os.fstat(fh.fileno())
        while block := fh.read(1 << 20):
            h.update(block)
            size += len(block)
        after = os.fstat(fh.fileno())
    found = {"sha256": h.hexdigest(), "bytes": size}
    if _identity(path, before) == _identity(path, after):
        if len(_HASHED) >= _HASHED_LIMIT:
            _HASHED.clear()
        _HASHED[_identity(path, after)] = found
    return found


def _hashed_before(path: Path) -> dict[str, Any] | None:
    """The checksum this process computed of ``path`` if the file is still what it was then (None otherwise)."""
    try:
        return _HASHED.get(_identity(path, path.stat()))
    except OSError:
        return None


def _damage(path: Path, recorded: Any) -> str | None:
    """What is wrong with a file against its recorded checksum (None: whole). Without a record (a folder written
    before checksums were kept), a Parquet file must at least have a readable footer."""
    if not path.is_file():
        return "missing"
    if isinstance(recorded, dict) and "sha256" in recorded:
        expected = {"sha256": recorded.get("sha256"), "bytes": recorded.get("bytes")}
        if _hashed_before(path) == expected:  # hashed by this process and unchanged since
            return None
        try:
            found = file_checksum(path)
        except OSError as exc:
            return f"unreadable ({exc.strerror or exc})"
        if found != expected:
            return (f"damaged: {found['bytes']:,} bytes whose sha256 differs from the one recorded when it was "
                    f"written ({recorded.get('bytes', '?')} bytes)")
        return None
    try:
        if path.suffix == ".parquet":
            pq.read_metadata(path)
        elif path.suffix == ".arrow":
            with pa.OSFile(str(path), "rb") as source:
                pa.ipc.open_file(source)
    except (OSError, pa.ArrowException) as exc:
        return f"damaged ({exc})"
    return None


def _damaged_parts(folder: Path, done: set[int], sums: dict[str, Any], manifest: dict[str, Any]) -> list[int]:
    """The finished chunks whose saved rows are missing or damaged: a resume computes their rows again."""
    kinds = ("runs", "events") if manifest["record_events"] else ("runs",)
    redo = []
    for i in sorted(done):
        for kind in kinds:
            part = _part(folder, kind, i)
            if _damage(part, sums.get(part.name)) is not None:
                redo.append(i)
                break
    for i in redo:  # what is left of their parts is removed: they are written again
        for kind in kinds:
            part = _part(folder, kind, i)
            if part.is_dir() and not part.is_symlink():
                shutil.rmtree(part, ignore_errors=True)
            else:
                part.unlink(missing_ok=True)
    return redo


def _check_finite(data: Any) -> None:
    """Raise ValueError if a number in nested JSON data is not finite (NaN or infinity written into a file)."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, float) and not math.isfinite(node):
            raise ValueError(f"a number that is not finite ({node})")


def verify_results(folder: Path, manifest: dict[str, Any]) -> None:
    """Refuse (:class:`InputError`) a complete folder whose files differ from the checksums its manifest recorded,
    naming the damaged file and how to recover."""
    files = manifest.get("files")
    if files is None:
        return  # written before checksums were kept
    if not isinstance(files, dict):
        raise InputError("manifest.json is damaged: 'files' is not a mapping", file=folder / "manifest.json")
    for name in RESULT_FILES:
        if name not in files and (folder / name).is_file() and name.endswith(".json"):
            raise InputError(f"manifest.json records no checksum of {name}", file=folder / "manifest.json",
                             hint="The folder was edited: run the batch again")
    for name, recorded in files.items():
        if name not in RESULT_FILES:
            raise InputError(f"manifest.json names an unknown file '{name}'", file=folder / "manifest.json")
        problem = _damage(folder / name, recorded)
        if problem is not None:
            scenario = manifest.get("scenario_file") or "SCENARIO"
            raise InputError(f"{name} is {problem}", file=folder / name,
                             hint=f"The results cannot be trusted; run the batch again: escalation run {scenario} "
                             f"--seed {manifest.get('seed')} --runs {manifest.get('runs')}")


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
    manifest = _read_json(f / "manifest.json")
    if not isinstance(manifest, dict):
        raise InputError("manifest.json is not a mapping", file=f / "manifest.json")
    verify_results(f, manifest)
    summary, merged = _read_json(f / "summary.json"), _read_json(f / "aggregates.json")
    for name, data in (("summary.json", summary), ("aggregates.json", merged)):
        if not isinstance(data, dict):
            raise InputError(f"{name} is not a mapping", file=f / name)
    try:
        aggs = {k: Aggregates.from_dict(v) for k, v in merged.items()}
    except Exception as exc:  # any damage to the file: never a traceback
        raise InputError(f"aggregates.json is damaged ({type(exc).__name__}: {exc})", file=f / "aggregates.json",
                         hint="Run the batch again") from None
    return manifest, summary, aggs


#: What pyarrow raises on a damaged table: the stages above this one catch it by this name and never import pyarrow.
TableError = pa.ArrowException


def read_events(folder: str | Path, run: int, variant: str) -> list[dict[str, Any]]:
    """The acts of one run of one variant, from a results folder's ``events.parquet``, as rows of week, actor,
    target, action and rung in the order written.

    Only the row groups whose statistics of ``run`` admit the run are read (the file is sorted by run within each
    chunk), and of them only these columns and the run's and variant's."""
    wanted = ["week", "actor", "target", "action", "rung"]
    with pq.ParquetFile(Path(folder) / "events.parquet") as file:
        meta = file.metadata
        at = file.schema_arrow.get_field_index("run")
        groups = []
        for g in range(meta.num_row_groups):
            stats = meta.row_group(g).column(at).statistics
            if stats is None or not stats.has_min_max or stats.min <= run <= stats.max:
                groups.append(g)
        if not groups:
            return []
        table = file.read_row_groups(groups, columns=["run", "variant", *wanted])
    rows = np.flatnonzero(table.column("run").combine_chunks().to_numpy() == run)
    picked = table.take(pa.array(rows, pa.int64())).to_pylist()
    return [{name: row[name] for name in wanted} for row in picked if row["variant"] == variant]
