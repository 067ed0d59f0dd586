"""Training stages on real (small) data: the recognizer adapts, the classifier learns new phrasing."""
from __future__ import annotations

import json

import pytest

from pipeline.training.corpus import Document, GoldTriple

NAMES = [("Zorbex", "Quillan"), ("Vantrel", "Obrecht"), ("Melkor", "Sundqvist"), ("Traxon", "Belliard"),
         ("Korrin", "Haldane"), ("Pexa", "Ulmer"), ("Drovik", "Asselin"), ("Ixtar", "Morrow")]


def ner_doc(i, company, person):
    text = (f"{company} said on Monday that it would open a plant in Ohio. "
            f"{person}, who joined {company} last year, said demand was strong. "
            f"Shares of {company} rose 3%.")
    return Document(doc_id=f"n{i}", text=text, parties={company: []}, triples=[])


def test_finetuned_recognizer_learns_domain_names(tmp_path, nlp):
    from pipeline.stages.ner import OrganizationFinder, load_nlp
    from pipeline.training.train_ner import train_ner

    probe = "Kelvora said on Monday that it would open a plant in Ohio. Shares of Kelvora rose 3%."
    before = {m.text for m in OrganizationFinder(nlp)(nlp(probe))}
    docs = [ner_doc(i, c, p) for i, (c, p) in enumerate(NAMES)]
    info = train_ner(docs, tmp_path / "ner", epochs=12)
    assert info["loss_per_epoch"][-1] < info["loss_per_epoch"][0]
    tuned = load_nlp(tmp_path / "ner")
    after = {m.text for m in OrganizationFinder(tuned)(tuned(probe))}
    assert "Kelvora" not in before  # the small model calls it a PERSON
    assert "Kelvora" in after


INVESTORS = ["Oxbrook Partners", "Calloway Ventures", "Brisa Capital", "Tamberg Equity", "Hollins Fund",
             "Redwater Capital", "Aldous Ventures", "Kesh Capital"]
STARTUPS = ["Zentara", "Pylon Robotics", "Mirela Health", "Quorra", "Ventisk", "Lumio Grid", "Saffra", "Durin Labs"]


#: A phrasing of invests_in the shipped model misses (the test below checks that it does).
PHRASE = "{startup} carries {investor} on its books as a preferred holder"


def holder_doc(i: int, investor: str, startup: str, split: str) -> Document:
    evidence = PHRASE.format(startup=startup, investor=investor)
    text = f"{evidence}, the company said in a filing on Thursday. The filing listed no revenue figures."
    return Document(doc_id=f"holder{i}", text=text, parties={investor: [], startup: []}, split=split,
                    triples=[GoldTriple(investor, "invests_in", startup, evidence)])


@pytest.mark.slow
def test_retraining_on_users_labels_teaches_a_new_phrasing(tmp_path, shipped_model):
    """A phrasing the shipped model misses is learned from a few labeled examples (issue 3)."""
    from pipeline import extract
    from pipeline.models import load_model, read_meta
    from pipeline.training.train import train

    probe = PHRASE.format(startup="Brightline Agro", investor="Westmarch Capital") + \
        ", the company said in a filing on Thursday."
    wanted = ("Westmarch Capital", "invests_in", "Brightline Agro")
    before = {(t.head, t.relation, t.tail) for t in extract(probe, model=shipped_model)}
    assert wanted not in before, "the shipped model already knows this phrasing; pick another"
    path = tmp_path / "labels.jsonl"
    with path.open("w") as fh:
        for i, (inv, st) in enumerate(zip(INVESTORS, STARTUPS)):
            fh.write(json.dumps(holder_doc(i, inv, st, "dev" if i >= 6 else "train").to_json()) + "\n")
    meta = train([path], tmp_path / "model", init=shipped_model.directory, epochs=6, seed=3, version="user-1")
    assert meta["version"] == "user-1" and "dev_before" in meta["metrics"] and "dev" in meta["metrics"]
    assert meta["metrics"]["dev"]["micro"]["f1"] >= meta["metrics"]["dev_before"]["micro"]["f1"]
    kept = read_meta(shipped_model.directory)  # the recognizer is kept, and its description with it
    assert (meta["base_models"]["ner"], meta["ner_training"]) == (kept["base_models"]["ner"], kept["ner_training"])
    ner_files = sorted(p.relative_to(shipped_model.directory / "ner")
                       for p in (shipped_model.directory / "ner").rglob("*") if p.is_file())
    assert ner_files and all((tmp_path / "model" / "ner" / f).read_bytes()
                             == (shipped_model.directory / "ner" / f).read_bytes() for f in ner_files)
    retrained = load_model(tmp_path / "model")
    after = {(t.head, t.relation, t.tail) for t in extract(probe, model=retrained)}
    assert wanted in after


def test_interrupted_training_resumes_where_it_stopped(tmp_path, tiny_model_dir):
    """``train(resume=True)`` after a run killed at step 7 (last checkpoint: the end of step 6) writes the model the fixture's
    uninterrupted run wrote (same corpus and settings), without retraining the recognizer."""
    import torch
    from safetensors.torch import load_file

    from pipeline.errors import InputError
    from pipeline.models import read_meta
    from pipeline.training.train import train
    from conftest import DATA, TINY_ENCODER, Interrupted, minilm_tokenizer_path, stop_at

    out = tmp_path / "tiny"
    settings = dict(encoder_config=TINY_ENCODER, tokenizer_path=minilm_tokenizer_path(), epochs=30, lr=3e-3,
                    batch_size=4, version="tiny-test", checkpoint_every=5)
    with pytest.raises(Interrupted):
        train([DATA / "mini_corpus.jsonl"], out, progress=stop_at(7), **settings)
    partial = tmp_path / ".tiny.partial"
    assert not out.exists() and (partial / "checkpoint.pt").exists() and (partial / "ner_training.json").exists()
    recognizer = (partial / "ner" / "model").stat().st_mtime_ns
    with pytest.raises(InputError, match=r"\.tiny\.partial: .*other settings \(seed\)"):
        train([DATA / "mini_corpus.jsonl"], out, resume=True, seed=14, **settings)
    steps, stages = [], []
    meta = train([DATA / "mini_corpus.jsonl"], out, resume=True, progress=lambda s, t, loss: steps.append(s),
                 stage=stages.append, **settings)
    assert stages[0].endswith("(resuming the interrupted run)") and stages[1:3] == [
        "entity recognizer: kept from the interrupted run", "classifier windows: kept from the interrupted run"]
    assert stages[3].startswith("classifier: 30 epochs over") and stages[4].startswith("thresholds, calibration")
    assert steps[0] == 7 and (out / "ner" / "model").stat().st_mtime_ns == recognizer
    assert meta["training"]["resumed"] is True and not partial.exists()
    # the test split is counted, not scored: models are chosen on dev
    assert meta["corpus"]["test"] == 1 and "test_gold_parties" not in meta["metrics"]
    assert not {"checkpoint.pt", "examples.json", "run.json"} & {p.name for p in out.iterdir()}
    whole = read_meta(tiny_model_dir)
    assert meta["training"]["loss_per_epoch"] == pytest.approx(whole["training"]["loss_per_epoch"], abs=1e-5)
    assert meta["thresholds"] == whole["thresholds"]
    a, b = load_file(out / "relations" / "model.safetensors"), load_file(tiny_model_dir / "relations" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.allclose(a[k].float(), b[k].float(), atol=1e-3) for k in a)
