"""Where a model's errors on a corpus split come from: each wrong or missed triple, sorted by kind.

    .venv/bin/python benchmarks/errors.py --split dev
    .venv/bin/python benchmarks/errors.py --split dev --model /work/runs/m1 -o /tmp/dev_errors.jsonl

Extraction runs on the split's own text, as ``alliances evaluate`` does, and every output
is matched against the gold and optional triples of its document (aliases resolved,
symmetric relations in either order). The figures of ``alliances evaluate`` count the same
triples; this script only sorts them:

- wrong outputs: ``non-party`` (a name that is no labeled party of the document: a place,
  product, person, outlet or a name cut wrongly), ``no tie`` (two labeled parties the labels
  give no relation at all), ``other tie`` (the pair has a labeled tie, but not this relation
  in this direction: a wrong type or a reversed ``supplies``);
- misses: ``pair silent`` (no output for the pair at all), ``pair mistyped`` (the pair got
  an output, of another relation or direction).

It prints counts per kind and relation; ``-o`` writes one JSON line per error (doc_id,
kind, head, relation, tail) for reading them.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def classify_errors(gold, predicted):
    """``(kind, head, relation, tail)`` for each wrong output and each miss of one document.

    ``gold`` is a :class:`pipeline.training.evaluate.GoldDocument`; ``predicted`` are
    ``(head, relation, tail)`` triples."""
    from pipeline.training.evaluate import match_document

    parties = set(gold.alias.values())
    labeled_pairs = {frozenset((h, t)) for opts in gold.gold + gold.optional for h, _, t in opts}
    _, wrong, missed, keys = match_document(gold, predicted)
    out = []
    for h, r, t in wrong:
        if h not in parties or t not in parties:
            kind = "wrong: non-party"
        elif frozenset((h, t)) not in labeled_pairs:
            kind = "wrong: no tie"
        else:
            kind = "wrong: other tie"
        out.append((kind, h, r, t))
    output_pairs = {frozenset((h, t)) for h, _, t in keys}
    for h, r, t in missed:
        kind = "missed: pair mistyped" if frozenset((h, t)) in output_pairs else "missed: pair silent"
        out.append((kind, h, r, t))
    return out


def main(argv: list[str] | None = None) -> int:
    from pipeline.errors import AlliancesError
    from pipeline.extract import extract_articles
    from pipeline.models import load_model
    from pipeline.records import Article
    from pipeline.training.evaluate import GoldDocument
    from pipeline.training.train import load_documents

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="*", default=[str(ROOT / "corpus" / "docs")])
    parser.add_argument("--split", default="dev")
    parser.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    parser.add_argument("-o", "--output", help="write each error as a JSON line here")
    args = parser.parse_args(argv)
    try:
        docs = [d for d in load_documents(args.corpus) if d.split == args.split]  # split set on loading
    except AlliancesError as e:  # names the file or record
        parser.error(str(e))
    if not docs:
        parser.error(f"no documents in split {args.split!r}")
    model = load_model(args.model)
    predicted: dict[str, list] = defaultdict(list)
    for triples in extract_articles((Article(d.doc_id, d.text) for d in docs), model):
        for t in triples:
            predicted[t.doc_id].append((t.head, t.relation, t.tail))
    counts: Counter = Counter()
    rows = []
    for doc in docs:
        for kind, h, r, t in classify_errors(GoldDocument(doc), predicted[doc.doc_id]):
            counts[kind, r] += 1
            rows.append({"doc_id": doc.doc_id, "kind": kind, "head": h, "relation": r, "tail": t})
    print(f"{model.version}, split {args.split}, {len(docs)} documents")
    for kind in sorted({k for k, _ in counts}):
        per = {r: n for (k, r), n in counts.items() if k == kind}
        detail = ", ".join(f"{r} {n}" for r, n in sorted(per.items(), key=lambda x: -x[1]))
        print(f"{kind:22s} {sum(per.values()):5d}   {detail}")
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
