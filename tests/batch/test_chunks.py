"""Chunk plans and variant selection: every run in exactly one chunk, variants named as the scenario names them."""

from __future__ import annotations

import numpy as np
import pytest
from support import make_scenario

from sim.batch.chunks import plan_chunks, select_variants
from sim.errors import InputError


@pytest.mark.parametrize("runs, size", [(1003, 250), (1000, 250), (7, 250), (1, 1)])
def test_plan_covers_every_run_once_in_order(runs, size):
    chunks = plan_chunks(runs, size)
    covered = np.concatenate([np.arange(c.start, c.stop) for c in chunks])
    assert np.array_equal(covered, np.arange(runs))
    assert [c.index for c in chunks] == list(range(-(-runs // size)))
    assert all(0 < c.stop - c.start <= size for c in chunks)


def test_variants_are_selected_by_name_baseline_first(doctrine):
    spec = make_scenario(doctrine, variants=[{"name": "none", "deployments": []}, {"name": "other", "deployments": []}])
    assert tuple(select_variants(spec, None)) == ("baseline", "none", "other")
    assert tuple(select_variants(spec, ["other", "baseline"])) in (("baseline", "other"), ("other", "baseline"))
    with pytest.raises(InputError, match="unknown variant 'nope'; expected one of: baseline, none, other"):
        select_variants(spec, ["nope"])


def test_a_batch_without_per_run_tables_takes_larger_chunks_unless_the_chunk_size_is_given(tmp_path):
    """A chunk size left out is 10,000 with per-run tables (memory) and, aggregates only, a fortieth of a large
    batch up to 25,000 (speed); one given in the file or on the command line is kept as given."""
    from support import ROOT

    from sim.output.plans import plan_run

    shipped = ROOT / "scenarios" / "limited_deployment.yaml"
    assert "chunk_size" not in shipped.read_text(encoding="utf-8")  # the shipped scenarios leave it to the batch
    sizes = {(runs, tables): plan_run(shipped, runs=runs, record_runs=tables).scenario.chunk_size
             for runs in (20_000, 600_000, 1_000_000) for tables in (True, False)}
    assert sizes == {(20_000, True): 10_000, (20_000, False): 10_000, (600_000, True): 10_000,
                     (600_000, False): 15_000, (1_000_000, True): 10_000, (1_000_000, False): 25_000}
    assert plan_run(shipped, runs=1_000_000, chunk_size=7_000, record_runs=False).scenario.chunk_size == 7_000
    given = tmp_path / "given.yaml"
    given.write_text(shipped.read_text(encoding="utf-8") + "chunk_size: 3000\n", encoding="utf-8")
    assert plan_run(given, runs=1_000_000, record_runs=False).scenario.chunk_size == 3_000
