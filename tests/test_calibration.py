"""Document-level calibration: the Platt fit, and how the pipeline applies it."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.training.calibration import apply_platt, choose_document_gate, fit_calibration, fit_platt


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
    cal = fit_calibration([("doc", "supplies", p, r) for p, r in zip(*sample(0.7, -1.2))])
    qs = [apply_platt(cal["params"], p) for p in np.linspace(0.0, 1.0, 101)]
    assert all(0.0 <= q <= 1.0 for q in qs)
    assert all(x <= y for x, y in zip(qs, qs[1:]))
    assert cal["points"] == 4000 and cal["method"] == "platt"


def test_document_gate_is_the_one_of_the_best_dev_f1():
    thresholds = {"supplies": 0.2, "competes_with": 0.2}
    candidates = [
        ("a", "supplies", 0.9, True), ("a", "competes_with", 0.3, False),   # best 0.9
        ("b", "competes_with", 0.33, False),                                 # all wrong: may go
        ("c", "supplies", 0.42, True), ("c", "competes_with", 0.25, False),  # best 0.42, right
        ("d", "supplies", 0.1, True),                                        # below threshold: not output
    ]
    # 4 gold triples; kept: 2 right, 3 wrong. F1 = 4/9 up to 0.3, 4/8 from 0.35 (b goes),
    # 2/6 from 0.45 (c goes too, one right for one wrong).
    gate = choose_document_gate(candidates, thresholds, gold=4)
    assert gate["value"] == 0.35
    assert gate["sweep"]["0.35"] == {"documents_silenced": 1, "right_dropped": 0, "wrong_dropped": 1,
                                     "micro_f1": 0.5}
    assert gate["sweep"]["0.45"]["right_dropped"] == 1
    assert gate["sweep"]["0.45"]["micro_f1"] < gate["sweep"]["0.4"]["micro_f1"]


def test_document_gate_may_drop_a_right_output_for_many_wrong_ones():
    thresholds = {"supplies": 0.2}
    candidates = [("e", "supplies", 0.32, True), ("i", "supplies", 0.8, True)]
    candidates += [(doc, "supplies", q, False) for doc, q in [("f", 0.31), ("g", 0.33), ("h", 0.34), ("j", 0.345)]]
    gate = choose_document_gate(candidates, thresholds, gold=3)
    # up to 0.3: 2 right, 4 wrong, F1 4/9; 0.35-0.5: 1 right, 0 wrong, F1 2/4; middle 0.4
    assert gate["value"] == 0.4
    assert gate["sweep"]["0.35"]["right_dropped"] == 1 and gate["sweep"]["0.35"]["wrong_dropped"] == 4
    # no right output anywhere: gates 0.35-0.5 all silence the one wrong output; the
    # middle of that run (the lower of two middles) is taken
    assert choose_document_gate([("b", "supplies", 0.3, False)], thresholds)["value"] == 0.4
    # a run of three equal gates (0.4, 0.45, 0.5: nothing scores between 0.36 and 0.6)
    # gives its middle one
    plateau = [("k", "supplies", 0.36, False), ("m", "supplies", 0.6, True)]
    gate = choose_document_gate(plateau, thresholds, gold=1)
    assert [g for g, e in gate["sweep"].items() if e["micro_f1"] == 1.0] == ["0.4", "0.45", "0.5"]
    assert gate["value"] == 0.45
    assert choose_document_gate([], thresholds)["value"] == 0.0


def test_the_gate_silences_a_document_whose_best_triple_is_weak(shipped_model):
    from pipeline.extract import analyse, classify_probs, pair_triples
    from pipeline.records import Article

    text = ("Norrland Capital led a $40 million round in Vexa AI, the startup said on Monday. "
            "Vexa AI competes with Qubitra in industrial vision software.")
    analysis = analyse(shipped_model, [Article("g", text)])[0]
    probs = classify_probs(shipped_model, [analysis])[0]
    args = (analysis, probs, shipped_model.classifier.labels, shipped_model.thresholds, "v", shipped_model.calibrate)
    triples = pair_triples(*args)
    best = max(t.confidence for t in triples)
    assert pair_triples(*args, document_gate=best) == triples
    assert pair_triples(*args, document_gate=best + 1e-3) == []


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


def test_exempt_documents_are_not_silenced_by_the_gate():
    thresholds = {"supplies": 0.2}
    candidates = [("one", "supplies", 0.3, False), ("many", "supplies", 0.3, False)]
    gate = choose_document_gate(candidates, thresholds, gold=1, exempt={"one"})
    assert gate["sweep"]["0.35"]["documents_silenced"] == 1 and gate["sweep"]["0.35"]["wrong_dropped"] == 1


def test_a_headline_naming_two_parties_is_left_to_the_thresholds(shipped_model):
    """The gate is for articles that name many companies; a two-party headline with a
    reading above its threshold but below the gate still gives it."""
    from pipeline.extract import analyse, classify_probs, gate_applies, pair_triples
    from pipeline.records import Article

    analysis = analyse(shipped_model, [Article("h", "Toyota studies battery pact with Panasonic")])[0]
    assert not gate_applies(analysis)
    probs = classify_probs(shipped_model, [analysis])[0]
    args = (analysis, probs, shipped_model.classifier.labels, shipped_model.thresholds, "v", shipped_model.calibrate)
    triples = pair_triples(*args)
    assert [(t.head, t.relation, t.tail) for t in triples] == [("Panasonic", "partners_with", "Toyota")]
    # the case the rule is for: a gate above the triple's confidence does not silence a two-party text
    above = (triples[0].confidence + 1.0) / 2
    assert above > triples[0].confidence
    for gate in (shipped_model.document_gate, above, 1.0):
        assert pair_triples(*args, document_gate=gate) == triples
