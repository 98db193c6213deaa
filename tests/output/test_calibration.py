"""History matching on the record: implausibility as the distance beyond the record's interval, reproducible from
its seed, and a calibration file the doctrine reads back."""

from __future__ import annotations

import numpy as np
import yaml

from sim.output import calibration
from sim.spec.doctrine import Calibration
from sim.spec.targets import Target, load_targets


def _target(low: float, high: float) -> Target:
    return Target(id="t", statistic="probability", outcome="ceasefire", low=low, high=high, source="test source")


def test_implausibility_is_the_distance_beyond_the_interval_in_standard_errors():
    targets = [_target(0.1, 0.2)] * 3
    imp = calibration.implausibility(np.array([0.15, 0.05, 0.5]), np.array([0.01, 0.01, 0.1]), targets)
    assert np.allclose(imp, [0.0, 5.0, 3.0])


def test_the_shipped_targets_all_name_what_they_measure_and_a_source():
    targets = load_targets()
    assert len({t.id for t in targets}) == len(targets)
    assert {"strike_on_nato_territory", "nato_russia_war", "nuclear_use", "row_26"} <= {t.id for t in targets}
    assert all(t.low <= t.high and len(t.source) > 10 for t in targets)


def test_calibration_reproduces_from_its_seed_and_writes_a_file_the_doctrine_reads(tmp_path):
    a = calibration.calibrate(candidates=4, runs=60, seed=5, workers=1)
    b = calibration.calibrate(candidates=4, runs=60, seed=5, workers=1)
    c = calibration.calibrate(candidates=4, runs=60, seed=6, workers=1)
    assert np.array_equal(a.candidates, b.candidates) and np.array_equal(a.statistics, b.statistics)
    assert not np.array_equal(a.candidates, c.candidates)
    waves = calibration.WAVES
    assert a.candidates.shape == (4 * waves, len(calibration.DESIGN))
    assert set(a.wave.tolist()) == set(range(1, waves + 1))
    if a.kept.any():
        data = yaml.safe_load(calibration.calibration_yaml(a))["calibration"]
        cal = Calibration.model_validate(data)
        assert cal.parameters == list(calibration.DESIGN) and 1 <= len(cal.sets) <= int(a.kept.sum())
    report = calibration.report(a)
    assert [row["id"] for row in report["targets"]] == [t.id for t in load_targets()]


def test_the_committed_calibration_reproduces_from_its_seed():
    """`escalation calibrate` with the committed settings writes configs/calibration.yaml again, byte for byte (about
    two minutes on two cores)."""
    from sim.spec.loading import default_configs_dir, load_doctrine

    committed = load_doctrine().calibration
    settings = committed.summary
    fit = calibration.calibrate(candidates=int(settings["candidates_per_wave"]), runs=int(settings["runs"]),
                                seed=committed.seed)
    assert calibration.calibration_yaml(fit) == (default_configs_dir() / "calibration.yaml").read_text()
