"""The committed corpus is valid, split fixedly, and the validator catches mistakes."""
from __future__ import annotations

import json

from conftest import ROOT
from pipeline.records import RELATIONS, Mention, Party
from pipeline.training.corpus import Document, GoldTriple, read_corpus, stats, validate
from pipeline.training.examples import corpus_examples, recognized_non_parties
from pipeline.training.train import HELD_OUT_INDUSTRIES, load_documents, split_of

CORPUS = ROOT / "corpus" / "docs"
PENDING = ROOT / "corpus" / "pending"  # written for the next training run


def test_corpus_is_valid_and_covers_the_schema():
    docs = read_corpus(CORPUS)
    assert validate(docs) == []
    s = stats(docs)
    assert s["documents"] >= 150
    assert set(s["per_relation"]) == set(RELATIONS)
    assert s["documents_without_triples"] >= 20
    assert len(s["per_industry"]) >= 6


def test_pending_documents_are_valid_beside_the_corpus():
    pending = read_corpus(PENDING) if any(PENDING.glob("*.jsonl")) else []  # empty between rounds
    assert validate(read_corpus(CORPUS) + pending) == []  # doc_ids unique across both
    assert all(d.split == "train" for d in pending)
    assert not {d.industry for d in pending} & HELD_OUT_INDUSTRIES


def test_splits_are_fixed_and_hold_out_industries():
    docs = load_documents([CORPUS])
    assert {d.split for d in docs} == {"train", "dev", "test"}
    assert all(d.split == "test" for d in docs if d.industry in HELD_OUT_INDUSTRIES)
    again = load_documents([CORPUS])
    assert [d.split for d in docs] == [d.split for d in again]


def doc(**kw):
    base = dict(doc_id="x", text="Alpha Corp buys Beta. Gamma rivals Alpha.",
                parties={"Alpha": ["Alpha Corp"], "Beta": [], "Gamma": []},
                triples=[GoldTriple("Alpha", "acquires", "Beta", "Alpha Corp buys Beta")])
    base.update(kw)
    return Document(**base)


def test_validator_catches_each_kind_of_mistake():
    assert validate([doc()]) == []
    cases = {
        "not a substring": doc(triples=[GoldTriple("Alpha", "acquires", "Beta", "Alpha buys Beta")]),
        "alphabetical order": doc(triples=[GoldTriple("Gamma", "competes_with", "Alpha", "Gamma rivals Alpha")]),
        "unknown relation": doc(triples=[GoldTriple("Alpha", "sues", "Beta", "Alpha Corp buys Beta")]),
        "does not occur": doc(parties={"Alpha": ["Alpha Corp"], "Beta": [], "Gamma": [], "Delta": []}),
        "listed 2 times": doc(triples=[GoldTriple("Alpha", "acquires", "Beta", "Alpha Corp buys Beta")] * 2),
        "not a key of parties": doc(triples=[GoldTriple("Alpha", "acquires", "Zeta", "Alpha Corp buys Beta")]),
    }
    for needle, bad in cases.items():
        problems = validate([bad])
        assert any(needle in p for p in problems), (needle, problems)
    assert any("used 2 times" in p for p in validate([doc(), doc()]))


def test_the_validator_command_names_a_bad_path_or_line_in_one_line(tmp_path, capsys):
    from pipeline.training.corpus import main

    good = json.dumps({"doc_id": "x", "text": "Alpha Corp buys Beta.", "parties": {"Alpha": ["Alpha Corp"], "Beta": []},
                       "triples": [{"head": "Alpha", "relation": "acquires", "tail": "Beta",
                                    "evidence": "Alpha Corp buys Beta"}]})
    (tmp_path / "ok.jsonl").write_text(good + "\n", encoding="utf-8")
    assert main(["validate", str(tmp_path / "ok.jsonl")]) == 0
    (tmp_path / "latin1.jsonl").write_bytes((good + "\n").encode() + '{"doc_id": "Caf\u00e9"}\n'.encode("latin-1"))
    cases = {tmp_path / "missing": "missing: no such file or directory",
             tmp_path / "latin1.jsonl": "latin1.jsonl:2: not UTF-8 text"}
    for path, message in cases.items():
        capsys.readouterr()
        assert main(["validate", str(path)]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err


def test_training_examples_carry_direction(nlp):
    examples = corpus_examples([doc()], nlp)
    labeled = [e for e in examples if e.labels]
    assert labeled and all(e.labels == ["acquires>"] for e in labeled if e.a == "Alpha")
    assert all(e.labels == ["acquires<"] for e in labeled if e.a == "Beta")


def test_split_rule():
    assert split_of(doc(split="dev")) == "dev"
    assert split_of(doc(industry=sorted(HELD_OUT_INDUSTRIES)[0])) == "test"


def test_recognized_non_parties_become_negative_windows(nlp):
    text = ("Alpha Corp agreed to buy Beta Inc for $2 billion, the companies said on Monday. "
            "Alpha Corp and Harwick Holdings Ltd both make valves in Toledo.")
    labeled = doc(text=text, parties={"Alpha": ["Alpha Corp"], "Beta": ["Beta Inc"]},
                  triples=[GoldTriple("Alpha", "acquires", "Beta", "Alpha Corp agreed to buy Beta Inc")])
    plain = corpus_examples([labeled], nlp)
    with_negatives = corpus_examples([labeled], nlp, recognizers=[nlp])
    extra = [e for e in with_negatives if "Harwick" in (e.a, e.b)]
    assert extra and all(e.labels == [] for e in extra)
    # the labeled windows are the same with or without the recognizer's non-parties
    assert [(e.a, e.b, e.labels) for e in with_negatives if "Harwick" not in (e.a, e.b)] == \
        [(e.a, e.b, e.labels) for e in plain]
    # a labeled party found with a wrong boundary is not a non-party
    start = text.index("Alpha Corp and")
    fused = Party("Alpha Corp and", (Mention(start, start + 14, "Alpha Corp and"),))
    assert recognized_non_parties(labeled, [fused]) == []


def test_coverage_lists_gold_triples_no_training_window_carries(tmp_path, capsys):
    from pipeline.training.corpus import main

    text = ("Alpha Corp agreed to buy Beta Systems on Monday. Alpha Corp and Gamma Labs compete in Europe. "
            "The deal closes in May. Analysts liked it. Shares rose. Trading was light. "
            "Its laptops are leased from Delta Leasing.")
    record = {"doc_id": "cov-1", "text": text,
              "parties": {"Alpha Corp": [], "Beta Systems": [], "Gamma Labs": [], "Delta Leasing": []},
              "triples": [
                  {"head": "Alpha Corp", "relation": "acquires", "tail": "Beta Systems",
                   "evidence": "Alpha Corp agreed to buy Beta Systems"},
                  {"head": "Alpha Corp", "relation": "competes_with", "tail": "Gamma Labs",
                   "evidence": "Alpha Corp and Gamma Labs compete"},
                  # six sentences from the nearest Alpha Corp: no window holds both names
                  {"head": "Delta Leasing", "relation": "supplies", "tail": "Alpha Corp",
                   "evidence": "Its laptops are leased from Delta Leasing"}]}
    path = tmp_path / "cov.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    assert main(["coverage", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == ["cov-1: Delta Leasing supplies Alpha Corp: no training window holds its evidence "
                                "('Its laptops are leased from Delta Leasing')"]
    assert "1 of 3 gold triples carried by no training window" in err
    record["triples"].pop()
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    assert main(["coverage", str(path)]) == 0
