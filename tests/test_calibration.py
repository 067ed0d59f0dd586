"""Document-level calibration: the Platt fit, and how the pipeline applies it."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.training.calibration import apply_platt, fit_calibration, fit_platt


def sample(a, b, n=4000, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.02, 0.98, n)
    q = 1 / (1 + np.exp(-(a * np.log(p / (1 - p)) + b)))
    return p.tolist(), (rng.uniform(size=n) < q).tolist()


@pytest.mark.parametrize("a, b", [(0.5, -1.0), (1.0, 0.0), (2.0, 0.5)])
def test_platt_fit_recovers_the_map_that_made_the_labels(a, b):
    p, right = sample(a, b)
    fa, fb = fit_platt(p, right)
    assert fa == pytest.approx(a, abs=0.12) and fb == pytest.approx(b, abs=0.12)


def test_a_map_that_would_invert_the_ranking_falls_back_to_the_identity():
    p, right = sample(1.0, 0.0)
    assert fit_platt(p, [not r for r in right]) == (1.0, 0.0)


def test_calibrated_confidences_are_monotonic_and_in_range():
    cal = fit_calibration([("supplies", p, r) for p, r in zip(*sample(0.7, -1.2))])
    qs = [apply_platt(cal["params"], p) for p in np.linspace(0.0, 1.0, 101)]
    assert all(0.0 <= q <= 1.0 for q in qs)
    assert all(x <= y for x, y in zip(qs, qs[1:]))
    assert cal["points"] == 4000 and cal["method"] == "platt"


def test_shipped_outputs_reach_the_thresholds_on_the_calibrated_scale(shipped_model):
    from pipeline import extract

    text = ("Norrland Capital led a $40 million round in Vexa AI, the startup said on Monday. "
            "Vexa AI competes with Qubitra in industrial vision software.")
    triples = extract(text, shipped_model)
    assert triples
    for t in triples:
        assert 0.0 <= t.confidence <= 1.0
        assert t.confidence >= shipped_model.thresholds[t.relation]
    if shipped_model.meta.get("calibration"):
        raw = shipped_model.meta["thresholds_raw"]
        for relation, threshold in shipped_model.thresholds.items():
            assert threshold == pytest.approx(apply_platt(shipped_model.meta["calibration"]["params"], raw[relation]),
                                              abs=1e-3)
