"""``alliances evaluate``: run extraction on gold documents (or read predictions) and score.

Besides the relation scores of :func:`pipeline.training.evaluate.score`, a run on
documents with text reports organization recognition (mention-span P/R/F1 against the
labeled parties), a trivial co-occurrence baseline (every pair of parties in one
sentence ``partners_with``) and the calibration of the output confidences.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Sequence

from pipeline.errors import InputError
from pipeline.records import Article, alpha_key
from pipeline.training.corpus import Document


def read_predictions(path: Path) -> dict[str, list[tuple[str, str, str]]]:
    """``doc_id -> [(head, relation, tail)]`` from a Parquet file or directory."""
    import pyarrow.dataset as ds

    table = ds.dataset(str(path), format="parquet").to_table(columns=["doc_id", "head", "relation", "tail"])
    out: dict[str, list] = defaultdict(list)
    for row in table.to_pylist():
        out[str(row["doc_id"])].append((row["head"], row["relation"], row["tail"]))
    return out


def organization_scores(docs: Sequence[Document], analyses) -> dict:
    """Span P/R/F1 of recognized organization mentions against the labeled parties.

    Gold spans are every occurrence of a labeled party's names; a recognized span on a
    quoted source (outlet, analyst firm) counts neither way, since the schema leaves
    those out of the parties but they are organizations.
    """
    from pipeline.training.evaluate import prf
    from pipeline.training.examples import gold_parties

    tp = fp = fn = 0
    for doc, analysis in zip(docs, analyses):
        parties = gold_parties(doc)
        sources = {p.name for p in parties if p.name not in doc.parties}
        gold = {(m.start, m.end) for p in parties if p.name not in sources for m in p.mentions}
        ignore = {(m.start, m.end) for p in parties if p.name in sources for m in p.mentions}
        found = {analysis.written(m.start, m.end) for p in analysis.parties for m in p.mentions} - ignore
        tp += len(gold & found)
        fp += len(found - gold)
        fn += len(gold - found)
    return prf(tp, fp, fn)


def cooccurrence_baseline(analyses) -> dict[str, list[tuple[str, str, str]]]:
    """Every pair of recognized parties in one sentence, as ``partners_with``."""
    from pipeline.stages.pairs import sentence_index

    preds: dict[str, list] = defaultdict(list)
    for analysis in analyses:
        starts = [s for s, _ in analysis.sentences]
        for pair in analysis.pairs:
            if sentence_index(starts, pair.a_mention.start) == sentence_index(starts, pair.b_mention.start):
                head, tail = sorted((pair.a.name, pair.b.name), key=alpha_key)
                preds[analysis.article.doc_id].append((head, "partners_with", tail))
    return preds


HELD_OUT = "held-out"  # an industry name for evaluate(): the industries no model trains on


def evaluate(gold: str | Path, inputs: Sequence[str | Path] = (), model=None, split: str | None = None,
             save: bool = False, industries: Sequence[str] = ()) -> dict:
    """Score extraction against ``gold``.

    ``inputs`` are articles to extract from (matched to gold by doc_id), or one
    Parquet file/directory of predictions; empty means the gold documents' own text.
    ``split`` and ``industries`` keep only the gold documents of that split and of those
    industries; ``"held-out"`` among them stands for those of
    :data:`~pipeline.training.train.HELD_OUT_INDUSTRIES` that the gold file has.
    With ``save`` the result is stored in the model's ``meta.json`` under ``metrics``.
    """
    from pipeline.extract import analyse, classify
    from pipeline.models import load_model, read_meta, write_meta
    from pipeline.stages.ingest import read_articles
    from pipeline.training.corpus import read_corpus
    from pipeline.training.evaluate import expected_calibration_error, judge, score, GoldDocument
    from pipeline.training.train import HELD_OUT_INDUSTRIES, split_of

    gold = Path(gold)
    docs = read_corpus(gold, require_text=False)  # names a missing path
    if split:
        docs = [d for d in docs if split_of(d) == split]
        if not docs:
            raise InputError(f"{gold}: no documents in split {split!r}")
    if industries:
        present = {d.industry for d in docs}
        wanted_industries = set(industries) - {HELD_OUT}
        if HELD_OUT in industries:
            if not HELD_OUT_INDUSTRIES & present:
                raise InputError(f"{gold}: no documents of the held-out industries "
                                 f"({', '.join(sorted(HELD_OUT_INDUSTRIES))})" + (f" in split {split!r}" if split else ""))
            wanted_industries |= HELD_OUT_INDUSTRIES & present
        unknown = sorted(wanted_industries - present)
        if unknown:  # a misspelt name would otherwise just shrink the sample
            raise InputError(f"{gold}: no documents of industry {unknown[0]!r}" + (f" in split {split!r}" if split else "")
                             + f"; industries here: {', '.join(sorted(i for i in present if i))}")
        docs = [d for d in docs if d.industry in wanted_industries]
        industries = sorted(set(industries))
    wanted = {d.doc_id for d in docs}
    predictions: dict[str, list] = defaultdict(list)
    parquet = len(inputs) == 1 and (Path(inputs[0]).suffix == ".parquet" or
                                    (Path(inputs[0]).is_dir() and any(Path(inputs[0]).glob("*.parquet"))))
    if parquet:
        predictions.update(read_predictions(Path(inputs[0])))
        return score(docs, predictions)
    loaded = load_model(model)
    own_text = not inputs
    if own_text:
        missing = [d.doc_id for d in docs if not d.text.strip()]
        if missing:
            raise InputError(f"{gold}: document {missing[0]} has no text; give the articles as INPUT")
        articles = [Article(d.doc_id, d.text) for d in docs]
    else:
        articles = [a for a in read_articles(inputs) if isinstance(a, Article) and a.doc_id in wanted]
    analyses, outputs = [], []
    for k in range(0, len(articles), 16):
        batch = analyse(loaded, articles[k:k + 16])
        analyses.extend(batch)
        outputs.extend(classify(loaded, batch))
    confidences, correct = [], []
    golds = {d.doc_id: GoldDocument(d) for d in docs}
    for triples in outputs:
        for t in triples:
            predictions[t.doc_id].append((t.head, t.relation, t.tail))
        if triples:
            for t, right in judge(golds[triples[0].doc_id], triples):
                confidences.append(t.confidence)
                correct.append(right)
    result = score(docs, predictions)
    result["ece"] = expected_calibration_error(confidences, correct)
    result["baseline_cooccurrence"] = score(docs, cooccurrence_baseline(analyses))
    if own_text:
        by_id = {a.article.doc_id: a for a in analyses}
        result["organizations"] = organization_scores(docs, [by_id[d.doc_id] for d in docs])
    result["model_version"] = loaded.version
    if save:
        meta = read_meta(loaded.directory)
        name = f"{gold.stem}" + (f":{split}" if split else "") + (f":{'+'.join(sorted(industries))}" if industries else "")
        meta.setdefault("metrics", {})[name] = result
        meta.pop("format_version", None)
        write_meta(loaded.directory, meta)
    return result
