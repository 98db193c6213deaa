"""The per-run and event tables as the writer lays them out: chunk parts kept as the engine's integer codes, joined
once into ``runs.parquet`` and ``events.parquet``; the events built from codes equal the acts coded row by row;
the joined files are the same bytes whatever order the chunks finished in; the disk guard covers what is written;
one run's acts are read back alone; the process that wrote a folder checks it without reading its tables again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from support import ROOT

from sim.batch import guard
from sim.batch.chunks import Batch, plan_chunks
from sim.batch.work import run_chunk
from sim.engine.aggregates import Aggregates
from sim.engine.model import ChunkResult
from sim.errors import InputError
from sim.output import folder as folder_module
from sim.output.folder import PART_LABELS, PARTS, ResultsWriter, load_results, read_events
from sim.spec.event_coding import EventCoder, load_event_coding, text
from sim.spec.loading import load_scenario

VARIANTS = ("baseline", "larger_force", "no_deployment")


@pytest.fixture(scope="module")
def spec(doctrine):
    """Three chunks of 40 runs of 30 weeks, with a calendar start (the events get a date)."""
    shipped = load_scenario(ROOT / "scenarios" / "limited_deployment.yaml", doctrine)
    data = shipped.model_dump(mode="json", exclude_none=True)
    data.update(runs=120, chunk_size=40, horizon_weeks=30, start_date="2025-03-03")
    return type(shipped).model_validate(data, context={"doctrine": doctrine})


@pytest.fixture(scope="module")
def chunks(doctrine, spec) -> list[list[ChunkResult]]:
    batch = Batch(doctrine, spec, VARIANTS, record_events=True)
    return [run_chunk(batch, c)[1] for c in plan_chunks(spec.runs, spec.chunk_size)]


def write_folder(out: Path, doctrine, spec, chunks: list[list[ChunkResult]], order: list[int]) -> Path:
    writer = ResultsWriter(out, doctrine, spec, VARIANTS)
    state = {v: Aggregates(horizon=spec.horizon_weeks) for v in VARIANTS}
    for i in order:
        for r in chunks[i]:
            state[r.variant].merge(r.aggregates)
        writer.add_chunk(chunks[i], state)
    writer.finish(state, 1.0)
    return writer.folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory, doctrine, spec, chunks) -> Path:
    return write_folder(tmp_path_factory.mktemp("tables"), doctrine, spec, chunks, [0, 1, 2])


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_events_built_from_codes_are_the_acts_coded_row_by_row(folder, doctrine, chunks) -> None:
    coder = EventCoder(load_event_coding(None, doctrine),
                       {a.id: a.codes.cameo for a in doctrine.actors if a.codes is not None})
    expected: dict[str, list] = {}
    for results in chunks:
        for r in results:
            e = r.events
            coded = coder.code(e["action"], e["actor"], e["target"])
            rows = {"run": e["run"].tolist(), "variant": [r.variant] * len(e["run"]), "week": e["week"].tolist(),
                    "date": [dt.date(2025, 3, 3) + dt.timedelta(weeks=int(w)) for w in e["week"]],
                    "actor": e["actor"], "target": e["target"], "action": e["action"], "rung": e["rung"].tolist(),
                    **{c: text(coded[c]) for c in ("actor1", "actor1_code", "actor2", "actor2_code", "event_code",
                                                   "event_root_code")},
                    "quad_class": coded["quad_class"].tolist(),
                    "goldstein": coded["goldstein"].astype(np.float32).tolist()}
            for k, v in rows.items():
                expected.setdefault(k, []).extend(v)
    table = pq.read_table(folder / "events.parquet")
    assert table.num_rows == len(expected["run"]) > 1000
    assert table.column_names == list(expected)
    for name in table.column_names:
        assert table.column(name).to_pylist() == expected[name], name
    types = {f.name: str(f.type) for f in table.schema}
    assert types["run"] == "int64" and types["week"] == "int16" and types["rung"] == "int8"
    assert types["date"] == "date32[day]" and types["goldstein"] == "float" and types["quad_class"] == "int8"
    assert all(types[c] == "dictionary<values=string, indices=int32, ordered=0>"
               for c in ("variant", "actor", "target", "action", "actor1", "actor1_code", "event_code"))


def test_runs_table_holds_every_run_of_every_variant_in_chunk_order(folder, chunks) -> None:
    table = pq.read_table(folder / "runs.parquet")
    expected = [(v, run) for results in chunks for r in results for v, run in
                zip([r.variant] * len(r.runs["run"]), r.runs["run"].tolist(), strict=True)]
    assert list(zip(table.column("variant").to_pylist(), table.column("run").to_pylist(), strict=True)) == expected
    first = chunks[0][0].runs
    name = next(k for k in first if k.startswith("max_"))
    assert table.column(name).to_pylist()[:40] == first[name].tolist()


def test_parts_keep_the_acts_as_integer_codes(tmp_path, doctrine, spec, chunks) -> None:
    writer = ResultsWriter(tmp_path, doctrine, spec, VARIANTS)
    writer.add_chunk(chunks[1])
    parts = writer.folder / PARTS
    assert sorted(p.name for p in parts.iterdir()) == ["events-000001.arrow", "runs-000001.arrow"]
    with pa.OSFile(str(parts / "events-000001.arrow"), "rb") as source:
        part = pa.ipc.open_file(source).read_all()
    assert part.column_names == ["run", "variant", "week", "actor", "target", "action", "rung"]
    assert {str(part.schema.field(c).type) for c in ("variant", "actor", "target", "action")} == {"int8"}
    assert PART_LABELS in part.schema.metadata
    assert part.num_rows == sum(len(r.events["run"]) for r in chunks[1])
    with pa.OSFile(str(parts / "runs-000001.arrow"), "rb") as source:  # every variant, one dictionary of names
        runs = pa.ipc.open_file(source).read_all()
    assert sorted(set(runs.column("run").to_pylist())) == list(range(40, 80))
    assert sorted(set(runs.column("variant").to_pylist())) == sorted(VARIANTS)
    assert runs.column("variant").num_chunks == 1  # one record batch: its headers are not repeated per variant
    assert set(writer.part_sums) == {"events-000001.arrow", "runs-000001.arrow"}


def test_joined_tables_are_the_same_bytes_whatever_order_the_chunks_finished_in(folder, tmp_path, doctrine, spec,
                                                                               chunks) -> None:
    shuffled = write_folder(tmp_path, doctrine, spec, chunks, [2, 0, 1])
    for name in ("runs.parquet", "events.parquet"):
        assert sha(shuffled / name) == sha(folder / name), name
    assert not (shuffled / PARTS).exists()


def test_joined_tables_are_written_for_their_readers(folder) -> None:
    """One row group per chunk, statistics on the run (a filter on it skips row groups), dictionaries for text."""
    meta = pq.ParquetFile(folder / "events.parquet").metadata
    assert meta.num_row_groups == 3
    names = [meta.schema.column(i).name for i in range(meta.num_columns)]
    runs = [meta.row_group(g).column(names.index("run")).statistics for g in range(3)]
    assert [(s.min, s.max) for s in runs] == [(0, 39), (40, 79), (80, 119)]
    action = meta.row_group(0).column(names.index("action"))
    assert "RLE_DICTIONARY" in action.encodings and action.compression == "LZ4"
    filtered = pq.read_table(folder / "events.parquet", filters=[("run", "=", 45)])
    assert set(filtered.column("run").to_pylist()) == {45}
    # the acts' columns hold no null by construction and are written as required: no null flags to encode
    assert all(not field.nullable for field in pq.read_schema(folder / "events.parquet"))
    assert all(meta.schema.column(i).max_definition_level == 0 for i in range(meta.num_columns))


def test_the_disk_guard_covers_the_parts_and_the_joined_tables(tmp_path, doctrine, spec, chunks) -> None:
    writer = ResultsWriter(tmp_path, doctrine, spec, VARIANTS)
    for results in chunks:
        writer.add_chunk(results)
    parts = sum(p.stat().st_size for p in (writer.folder / PARTS).iterdir())
    writer.finish({v: Aggregates(horizon=spec.horizon_weeks) for v in VARIANTS}, 1.0, status="interrupted")
    acts = sum(len(r.events["run"]) for results in chunks for r in results)
    est = guard.estimate(runs=spec.runs, weeks=spec.horizon_weeks, variants=len(VARIANTS),
                         chunk_size=spec.chunk_size, workers=1, record_runs=True, record_events=True)
    assert acts <= spec.runs * len(VARIANTS) * spec.horizon_weeks * guard.ACTS_PER_RUN_WEEK * 1.5
    final = write_folder(tmp_path / "whole", doctrine, spec, chunks, [0, 1, 2])
    joined = sum((final / n).stat().st_size for n in ("runs.parquet", "events.parquet"))
    assert parts + joined <= est.disk_bytes <= 4 * (parts + joined)


@pytest.mark.parametrize("kind", ["events", "runs"])
def test_a_folder_stopped_with_parts_of_a_former_layout_computes_their_rows_again(tmp_path, doctrine, spec, chunks,
                                                                                  kind) -> None:
    """Parts written as Parquet (events, before the acts were kept as codes; per-run rows, before parts were Arrow
    IPC) are not read: resume counts them missing and computes those chunks' rows again."""
    import json

    from sim.output.folder import PARTIAL

    writer = ResultsWriter(tmp_path, doctrine, spec, VARIANTS)
    state = {v: Aggregates(horizon=spec.horizon_weeks) for v in VARIANTS}
    for i in (0, 1):
        for r in chunks[i]:
            state[r.variant].merge(r.aggregates)
        writer.add_chunk(chunks[i], state)
    writer.finish(state, 1.0, status="interrupted", reason="test")
    parts = writer.folder / PARTS
    (parts / f"{kind}-000001.arrow").rename(parts / f"{kind}-000001.parquet")
    partial = json.loads((writer.folder / PARTIAL).read_text())
    partial["parts"][f"{kind}-000001.parquet"] = partial["parts"].pop(f"{kind}-000001.arrow")
    (writer.folder / PARTIAL).write_text(json.dumps(partial))
    reopened, _ = ResultsWriter.reopen(writer.folder, doctrine, spec)
    assert reopened.redo == [1]
    assert not (parts / "runs-000001.arrow").exists() and (parts / "runs-000000.arrow").exists()
    reopened.release()


def test_one_runs_acts_of_one_variant_are_read_back_in_the_order_written(folder) -> None:
    table = pq.read_table(folder / "events.parquet")
    runs, variants = np.array(table.column("run").to_pylist()), np.array(table.column("variant").to_pylist())
    columns = ["week", "actor", "target", "action", "rung"]
    for run in (0, 39, 40, 119):  # the first and last runs of chunks: the first, second and last row groups
        for variant in VARIANTS:
            expected = table.filter(pa.array((runs == run) & (variants == variant))).select(columns).to_pylist()
            assert expected and read_events(folder, run, variant) == expected, (run, variant)
    assert read_events(folder, 10**6, "baseline") == []
    assert read_events(folder, 0, "not_a_variant") == []


def test_the_process_that_hashed_a_folder_checks_it_without_reading_it_unless_it_changed(
        tmp_path, doctrine, spec, chunks, monkeypatch) -> None:
    out = write_folder(tmp_path, doctrine, spec, chunks, [0, 1, 2])
    read: list[str] = []
    real = folder_module.file_checksum
    monkeypatch.setattr(folder_module, "file_checksum", lambda path: (read.append(path.name), real(path))[1])
    for _ in range(3):  # a command checks its folder for its charts, its story and its report
        load_results(out)
    assert read == [], "the writer hashed these files: unchanged, they are not read again"
    path = out / "runs.parquet"  # then changed, its size kept, at a later time
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF
    path.write_bytes(bytes(data))
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    with pytest.raises(InputError, match="runs.parquet is damaged"):
        load_results(out)
    assert read == ["runs.parquet"]
