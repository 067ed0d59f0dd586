"""Relation classifier: markers, label directions, and overfit-and-roundtrip on a tiny encoder."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import TINY_ENCODER, Interrupted, minilm_tokenizer_path, stop_at
from pipeline.errors import ModelError
from pipeline.stages.relations import (Marked, RelationClassifier, decode_label, inference_dtype, label_of,
                                       mark, native_bfloat16, output_labels)
from pipeline.training.examples import Example


def test_output_labels_cover_both_directions():
    labels = output_labels()
    assert "partners_with" in labels and "competes_with" in labels
    assert {"invests_in>", "invests_in<", "owns>", "owns<"} <= set(labels)
    assert len(labels) == 12
    for label in labels:
        rel, head_is_e1 = decode_label(label)
        assert label_of(rel, head_is_e1) == label


def test_mark_wraps_every_mention_and_points_at_first_markers():
    text = "Intro. Vexa AI buys Qubitra; Vexa AI said Qubitra's staff stay. End."
    s, e = 7, text.index(" End.")
    m = mark(text, s, e, [(7, 14), (29, 36)], [(20, 27), (42, 49)])
    assert m.text == "@ Vexa AI @ buys # Qubitra #; @ Vexa AI @ said # Qubitra #'s staff stay."
    assert m.text[m.e1] == "@" and m.text[m.e2] == "#"
    assert m.text[m.e2:].startswith("# Qubitra")


def test_mark_puts_the_other_marker_round_other_parties_only_when_asked():
    text = "Everholt licensed its patents to Pradera, Mossgiel and Quay Street."
    e1, e2, others = [(33, 40)], [(42, 50)], [(0, 8), (55, 66)]
    plain = mark(text, 0, len(text), e1, e2, other_spans=others)
    assert plain.text == "Everholt licensed its patents to @ Pradera @, # Mossgiel # and Quay Street."
    m = mark(text, 0, len(text), e1, e2, other_spans=others, other_marker="~")
    assert m.text == "~ Everholt ~ licensed its patents to @ Pradera @, # Mossgiel # and ~ Quay Street ~."
    assert m.text[m.e1:].startswith("@ Pradera") and m.text[m.e2:].startswith("# Mossgiel")


def test_mark_crops_long_windows_around_the_pair():
    text = "x " * 1000 + "Alpha met Beta" + " y" * 1000
    start = text.index("Alpha")
    m = mark(text, 0, len(text), [(start, start + 5)], [(start + 10, start + 14)], max_chars=200)
    assert "@ Alpha @ met # Beta #" in m.text and len(m.text) < 260


EXAMPLES = [
    ("@ Norrland Capital @ led a $40 million round in # Vexa AI #.", ["invests_in>"]),
    ("@ Vexa AI @ raised $40 million in a round led by # Norrland Capital #.", ["invests_in<"]),
    ("@ Solberg Cells @ will supply batteries to # Ostra Motors #.", ["supplies>"]),
    ("@ Halvern @ and # Pellucid # are rivals, and they also partner on trials.", ["competes_with", "partners_with"]),
    ("@ Carrow @ has no plans to buy # Meridian #.", []),
    ("@ Tarkon @ and # Qubitra # both reported results on Tuesday.", []),
]


def tiny_classifier(seed=0):
    return RelationClassifier.create(None, encoder_config=TINY_ENCODER, tokenizer_path=minilm_tokenizer_path(),
                                     seed=seed, max_length=64)


def as_examples():
    out = []
    for text, labels in EXAMPLES:
        out.append(Example("d", "A", "B", text, text.index("@"), text.index("#"), labels, (0, len(text))))
    return out


@pytest.fixture(scope="module")
def overfit():
    from pipeline.training.train_relations import fit

    classifier = tiny_classifier()
    history = fit(classifier, as_examples(), epochs=120, lr=3e-3, head_lr=3e-3, batch_size=6, seed=1)
    return classifier, history


def test_overfit_learns_direction_and_multiple_labels(overfit):
    classifier, history = overfit
    assert history[-1] < 0.05 < history[0]
    probs = classifier.predict_proba([Marked(ex.text, ex.e1, ex.e2) for ex in as_examples()])
    for row, (_, labels) in zip(probs, EXAMPLES):
        predicted = {classifier.labels[i] for i in np.flatnonzero(row >= 0.5)}
        assert predicted == set(labels)


# float32 reproduces the trained network up to the float16 storage of its weights;
# bfloat16 (7-bit mantissa) moves probabilities a little more, never a decision here.
@pytest.mark.parametrize("precision, atol", [("float32", 2e-2), ("bfloat16", 6e-2)])
def test_save_load_roundtrip_and_batching(overfit, tmp_path, precision, atol):
    if precision == "bfloat16" and not native_bfloat16():
        pytest.skip("this CPU has no native bfloat16")
    classifier, _ = overfit
    classifier.save(tmp_path / "relations")
    loaded = RelationClassifier.load(tmp_path / "relations", precision=precision)
    assert next(loaded.network.parameters()).dtype == inference_dtype(precision)
    marked = [Marked(ex.text, ex.e1, ex.e2) for ex in as_examples()]
    batched = loaded.predict_proba(marked, batch_size=4)
    single = np.vstack([loaded.predict_proba([m]) for m in marked])
    reordered = loaded.predict_proba(marked[::-1], batch_size=3)[::-1]
    original = classifier.predict_proba(marked)
    # A window's scores do not depend on the batch it is in (length buckets), in any precision.
    assert np.allclose(batched, single, atol=1e-6) and np.allclose(batched, reordered, atol=1e-6)
    assert np.allclose(batched, original, atol=atol)
    assert ((batched >= 0.5) == (original >= 0.5)).all()


def test_other_party_marker_is_a_saved_setting_that_extraction_follows(tmp_path):
    from pipeline.extract import mark_pair
    from pipeline.records import Mention, Pair, Party

    assert tiny_classifier().other_marker is None  # the default reads E1/E2 markers only
    classifier = RelationClassifier.create(None, encoder_config=TINY_ENCODER, tokenizer_path=minilm_tokenizer_path(),
                                           max_length=64, mark_others=True)
    classifier.save(tmp_path / "relations")
    loaded = RelationClassifier.load(tmp_path / "relations", precision="float32")
    assert loaded.other_marker == "~"
    text = "Everholt licensed its patents to Pradera and Mossgiel."
    parties = [Party(n, (Mention(text.index(n), text.index(n) + len(n), n),)) for n in ("Everholt", "Pradera", "Mossgiel")]
    pair = Pair(parties[1], parties[2], parties[1].mentions[0], parties[2].mentions[0], 0, len(text))
    marked = mark_pair(text, pair, loaded.max_chars, parties, loaded.other_marker)
    assert marked.text == "~ Everholt ~ licensed its patents to @ Pradera @ and # Mossgiel #."
    assert mark_pair(text, pair, 900, parties, None).text == "Everholt licensed its patents to @ Pradera @ and # Mossgiel #."


def test_precision_is_checked(monkeypatch):
    monkeypatch.setenv("ALLIANCES_PRECISION", "float32")
    assert str(inference_dtype()) == "torch.float32"
    monkeypatch.setenv("ALLIANCES_PRECISION", "int4")
    with pytest.raises(ModelError, match="ALLIANCES_PRECISION"):
        inference_dtype()


def test_loading_a_broken_directory_fails_clearly(overfit, tmp_path):
    with pytest.raises(ModelError, match="missing config.json"):
        RelationClassifier.load(tmp_path)
    classifier, _ = overfit
    classifier.save(tmp_path / "r")
    import json

    config = json.loads((tmp_path / "r" / "config.json").read_text())
    config["labels"][0] = "sues"
    (tmp_path / "r" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="not the schema's relations"):
        RelationClassifier.load(tmp_path / "r")
    config["format_version"] = 99
    (tmp_path / "r" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="format 99"):
        RelationClassifier.load(tmp_path / "r")


def test_interrupted_fit_resumed_from_its_checkpoint_ends_as_an_uninterrupted_one(tmp_path):
    import torch

    from pipeline.training.train_relations import fit

    settings = dict(epochs=3, lr=3e-3, head_lr=3e-3, batch_size=2, seed=4)  # 3 steps an epoch, 9 in all
    whole = tiny_classifier(seed=2)
    history = fit(whole, as_examples(), **settings)
    checkpoint = tmp_path / "checkpoint.pt"
    first = tiny_classifier(seed=2)
    with pytest.raises(Interrupted):  # killed at step 5, mid-epoch; last checkpoint at step 4
        fit(first, as_examples(), checkpoint=checkpoint, checkpoint_every=2, progress=stop_at(5), **settings)
    assert torch.load(checkpoint, weights_only=False)["step"] == 4
    resumed = tiny_classifier(seed=9)  # other initial weights: everything comes from the checkpoint
    steps = []
    assert fit(resumed, as_examples(), checkpoint=checkpoint, checkpoint_every=2,
               progress=lambda step, total, loss: steps.append(step), **settings) == pytest.approx(history)
    assert steps == list(range(5, 10))
    for (name, a), (_, b) in zip(whole.network.state_dict().items(), resumed.network.state_dict().items()):
        assert torch.allclose(a, b, atol=1e-6), name
    with pytest.raises(ValueError, match="checkpoint.pt: saved by a run of 9 steps"):
        fit(tiny_classifier(), as_examples()[:4], checkpoint=checkpoint, **settings)
