"""Scoring predicted triples against gold documents, by the rules of ``schema.md``.

Names are compared after normalization (case, possessive, leading article, legal
suffix) and through the gold's aliases; symmetric relations compare as unordered
pairs; a gold triple whose relation is a list matches any relation in it; predictions
matching an ``optional`` gold triple are neither right nor wrong.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence

from pipeline.records import ALLIANCE, RELATIONS, SYMMETRIC
from pipeline.stages.canonical import name_key
from pipeline.training.corpus import Document

Key = tuple[str, str, str]


def prf(tp: int, fp: int, fn: int) -> dict:
    """Precision, recall and F1 with their counts."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": round(p, 4), "r": round(r, 4), "f1": round(f, 4), "tp": tp, "fp": fp, "fn": fn}


class GoldDocument:
    """One gold document prepared for matching."""

    def __init__(self, doc: Document):
        self.doc_id = doc.doc_id
        self.alias: dict[str, str] = {}
        for canonical, aliases in doc.parties.items():
            for name in (canonical, *aliases):
                self.alias[name_key(name)] = name_key(canonical)
        self.gold = [self.options(t.head, t.relations, t.tail) for t in doc.triples]
        self.optional = [self.options(t.head, t.relations, t.tail) for t in doc.optional]

    def canon(self, name: str) -> str:
        key = name_key(name)
        return self.alias.get(key, key)

    def key(self, head: str, relation: str, tail: str) -> Key:
        h, t = self.canon(head), self.canon(tail)
        if relation in SYMMETRIC and t < h:
            h, t = t, h
        return (h, relation, t)

    def options(self, head: str, relations: Sequence[str], tail: str) -> set[Key]:
        return {self.key(head, r, tail) for r in relations}


def match_document(gold: GoldDocument, predicted: Iterable[tuple[str, str, str]]):
    """``(true positives, false positives, missed gold)`` keys for one document."""
    keys = sorted({gold.key(h, r, t) for h, r, t in predicted if r in RELATIONS})
    matched: set[int] = set()
    tp, fp = [], []
    for k in keys:
        hit = next((i for i, opts in enumerate(gold.gold) if k in opts and i not in matched), None)
        if hit is not None:
            matched.add(hit)
            tp.append(k)
        elif not any(k in opts for opts in gold.optional):
            fp.append(k)
    fn = [sorted(opts)[0] for i, opts in enumerate(gold.gold) if i not in matched]
    return tp, fp, fn, keys


def judge(gold: GoldDocument, triples: Iterable) -> Iterator[tuple[object, bool]]:
    """``(triple, right?)`` for each output triple (anything with head, relation, tail) of
    one document, judged alone; matches of optional gold are neither right nor wrong and
    are left out. For calibration: a confidence is the chance of being right."""
    for t in triples:
        tp, fp, _, _ = match_document(gold, [(t.head, t.relation, t.tail)])
        if tp or fp:
            yield t, bool(tp)


def score(docs: Sequence[Document], predictions: Mapping[str, Iterable[tuple[str, str, str]]]) -> dict:
    """Per-relation, micro, alliance and untyped-pair P/R/F1, and the negative-document FP rate.

    ``predictions`` maps doc_id to ``(head, relation, tail)`` tuples; documents missing
    from it predicted nothing. Only documents in ``docs`` are scored.
    """
    counts: dict[str, Counter] = defaultdict(Counter)
    pairs = Counter()
    negatives = negatives_with_output = 0
    for doc in docs:
        gold = GoldDocument(doc)
        tp, fp, fn, keys = match_document(gold, predictions.get(doc.doc_id, ()))
        for k in tp:
            counts[k[1]]["tp"] += 1
        for k in fp:
            counts[k[1]]["fp"] += 1
        for k in fn:
            counts[k[1]]["fn"] += 1
        gold_pairs = {frozenset((k[0], k[2])) for opts in gold.gold for k in opts}
        optional_pairs = {frozenset((k[0], k[2])) for opts in gold.optional for k in opts} - gold_pairs
        predicted_pairs = {frozenset((k[0], k[2])) for k in keys} - optional_pairs
        pairs["tp"] += len(gold_pairs & predicted_pairs)
        pairs["fp"] += len(predicted_pairs - gold_pairs)
        pairs["fn"] += len(gold_pairs - predicted_pairs)
        if not gold.gold:
            negatives += 1
            negatives_with_output += bool(fp)
    per_relation = {r: prf(counts[r]["tp"], counts[r]["fp"], counts[r]["fn"]) for r in RELATIONS if counts[r]}
    total, alliance = Counter(), Counter()
    for r, c in counts.items():
        total.update(c)
        if r in ALLIANCE:
            alliance.update(c)
    return {
        "docs": len(docs),
        "micro": prf(total["tp"], total["fp"], total["fn"]),
        "alliance": prf(alliance["tp"], alliance["fp"], alliance["fn"]),
        "pairs": prf(pairs["tp"], pairs["fp"], pairs["fn"]),
        "macro_f1": round(sum(v["f1"] for v in per_relation.values()) / len(per_relation), 4) if per_relation else 0.0,
        "per_relation": per_relation,
        "negative_docs": negatives,
        "negative_doc_fp_rate": round(negatives_with_output / negatives, 4) if negatives else 0.0,
    }


def format_table(result: dict) -> str:
    """The result as a plain-text table, one row per relation and the summaries."""
    lines = [f"{'relation':<16}{'P':>7}{'R':>7}{'F1':>7}{'tp':>6}{'fp':>6}{'fn':>6}"]
    rows = [*result["per_relation"].items(), ("ALL (micro)", result["micro"]),
            ("alliance", result["alliance"]), ("pairs", result["pairs"])]
    for name, v in rows:
        lines.append(f"{name:<16}{v['p']:>7.3f}{v['r']:>7.3f}{v['f1']:>7.3f}{v['tp']:>6}{v['fp']:>6}{v['fn']:>6}")
    lines.append(f"documents: {result['docs']}; macro F1 {result['macro_f1']:.3f}; "
                 f"false-positive rate on {result['negative_docs']} documents without gold triples: "
                 f"{result['negative_doc_fp_rate']:.3f}")
    if "organizations" in result:
        o = result["organizations"]
        lines.append(f"organization mentions: P {o['p']:.3f} R {o['r']:.3f} F1 {o['f1']:.3f}")
    if "ece" in result:
        lines.append(f"expected calibration error of output confidences: {result['ece']:.3f}")
    if "baseline_cooccurrence" in result:
        b = result["baseline_cooccurrence"]
        lines.append(f"co-occurrence baseline (same sentence -> partners_with): micro F1 {b['micro']['f1']:.3f}, "
                     f"alliance F1 {b['alliance']['f1']:.3f}, pairs F1 {b['pairs']['f1']:.3f}, "
                     f"negative-document FP rate {b['negative_doc_fp_rate']:.3f}")
    return "\n".join(lines)


def best_thresholds(scored: Sequence[tuple[str, Key, float]], docs: Sequence[Document],
                    grid: Sequence[float] | None = None, default: float = 0.5,
                    tolerance: float = 0.03, keep: Mapping[str, float] | None = None
                    ) -> tuple[dict[str, float], dict]:
    """Per-relation thresholds that maximize that relation's F1 over ``docs``.

    ``scored`` holds ``(doc_id, (head, relation, tail), confidence)`` for every
    candidate triple. A relation that ``docs`` give no evidence on (F1 0 everywhere)
    keeps its threshold from ``keep`` (e.g. the model being fine-tuned), else ``default``.
    Returns the thresholds and the sweep (F1 per threshold).
    """
    # Below 0.3 a "decision" would rest on the model saying it is probably wrong; a small
    # dev split can still make such thresholds look best, so the grid starts there.
    grid = list(grid or [round(0.05 * i, 2) for i in range(6, 19)])
    golds = {d.doc_id: GoldDocument(d) for d in docs}
    sweep: dict[str, dict[float, float]] = {}
    thresholds = {}
    for relation in RELATIONS:
        f1s = {}
        for th in grid:
            preds = defaultdict(list)
            for doc_id, (h, r, t), p in scored:
                if r == relation and p >= th:
                    preds[doc_id].append((h, r, t))
            c = Counter()
            for doc_id, gold in golds.items():
                tp, fp, fn, _ = match_document(gold, preds.get(doc_id, ()))
                c["tp"] += len(tp)
                c["fp"] += len(fp)
                c["fn"] += sum(1 for k in fn if k[1] == relation)
            f1s[th] = prf(c["tp"], c["fp"], c["fn"])["f1"]
        sweep[relation] = f1s
        best = max(f1s.values()) if f1s else 0.0
        # Among thresholds within `tolerance` of the best F1 (about one triple on a dev
        # split of this size), take the one closest to the default, so that noise in a
        # small dev split does not pull thresholds to extremes.
        near = [th for th, f in f1s.items() if f >= best - tolerance]
        fallback = (keep or {}).get(relation, default)
        thresholds[relation] = min(near, key=lambda th: (abs(th - default), th)) if best > 0 else fallback
    return thresholds, sweep


def expected_calibration_error(confidences: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    """Expected calibration error over equal-width confidence bins (Guo et al., 2017)."""
    if not confidences:
        return 0.0
    total = len(confidences)
    ece = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, c in enumerate(confidences) if (lo < c <= hi) or (b == 0 and c == 0)]
        if idx:
            acc = sum(correct[i] for i in idx) / len(idx)
            conf = sum(confidences[i] for i in idx) / len(idx)
            ece += len(idx) / total * abs(acc - conf)
    return round(ece, 4)
