"""The labeled corpus: reading, validating and splitting it.

A corpus file is JSON Lines, one document a line::

    {"doc_id": "energy-014", "industry": "energy", "published": "2025-06-03",
     "text": "...the article...",
     "parties": {"Orsted": ["Ørsted A/S"], "Equinor": []},
     "triples": [{"head": "Equinor", "relation": "partners_with", "tail": "Orsted",
                  "evidence": "Equinor and Orsted agreed to jointly develop"}],
     "optional": [],
     "negatives": ["lawsuit"]}

``parties`` maps each canonical name to the other surface forms the text uses for it
(every organization named in the text, whether or not it takes part in a triple);
``sources`` lists outlets and analyst firms that are only quoted (not parties);
``optional`` lists triples a system may output without penalty; ``negatives`` names the
kinds of hard negative the document contains. ``split`` is added by :func:`assign_splits`.
The gold format of ``shared/eval/seeds_gold.jsonl`` (``doc_id``, ``triples``, ``optional``,
``aliases``) is read too, when the text comes from a separate file.
"""
from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import InputError
from pipeline.records import RELATIONS, SYMMETRIC, alpha_key

NEGATIVE_KINDS = (
    "hypothetical",
    "negation",
    "withdrawn_offer",
    "rumour",
    "lawsuit",
    "regulator",
    "analyst_source",
    "market_wrap",
    "cooperate_not_compete",
    "benchmark",
    "former_employer",
)
SPLITS = ("train", "dev", "test")


@dataclass
class GoldTriple:
    head: str
    relation: str | list[str]
    tail: str
    evidence: str = ""

    @property
    def relations(self) -> list[str]:
        return self.relation if isinstance(self.relation, list) else [self.relation]


@dataclass
class Document:
    doc_id: str
    text: str
    parties: dict[str, list[str]]
    triples: list[GoldTriple]
    optional: list[GoldTriple] = field(default_factory=list)
    industry: str = ""
    published: str | None = None
    split: str = ""
    negatives: list[str] = field(default_factory=list)
    source: str = ""
    sources: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        rec = {
            "doc_id": self.doc_id,
            "industry": self.industry,
            "published": self.published,
            "split": self.split,
            "text": self.text,
            "parties": self.parties,
            "triples": [t.__dict__ for t in self.triples],
            "optional": [t.__dict__ for t in self.optional],
            "negatives": self.negatives,
            "sources": self.sources,
        }
        return {k: v for k, v in rec.items() if v not in ("", None, [])}


class CorpusError(InputError, ValueError):
    """A corpus record that breaks the format; the message names the file and line.

    An :class:`InputError`, so every command reports it in one line."""


def _triples(raw, where: str) -> list[GoldTriple]:
    out = []
    for t in raw or []:
        try:
            out.append(GoldTriple(t["head"], t["relation"], t["tail"], t.get("evidence", "")))
        except (KeyError, TypeError) as e:
            raise CorpusError(f"{where}: triple {t!r} needs head, relation and tail") from e
    return out


def parse_record(rec: dict, where: str, text: str | None = None, require_text: bool = True) -> Document:
    """One JSON record (corpus or gold format) as a :class:`Document`."""
    if not isinstance(rec, dict) or "doc_id" not in rec:
        raise CorpusError(f"{where}: a record needs a doc_id")
    text = rec.get("text", text)
    if text is None and not require_text:
        text = ""
    if not isinstance(text, str):
        raise CorpusError(f"{where}: record {rec['doc_id']!r} has no text field (a string)")
    parties = rec.get("parties")
    if parties is None:  # gold format: aliases only for parties that have them
        parties = {k: list(v) for k, v in (rec.get("aliases") or {}).items()}
        for t in rec.get("triples", []) + rec.get("optional", []):
            parties.setdefault(t["head"], [])
            parties.setdefault(t["tail"], [])
    return Document(
        doc_id=str(rec["doc_id"]),
        text=text,
        parties={str(k): [str(a) for a in v] for k, v in parties.items()},
        triples=_triples(rec.get("triples"), where),
        optional=_triples(rec.get("optional"), where),
        industry=rec.get("industry", ""),
        published=rec.get("published"),
        split=rec.get("split", ""),
        negatives=list(rec.get("negatives", [])),
        source=rec.get("source", ""),
        sources=[str(x) for x in rec.get("sources", [])],
    )


def read_corpus(path: str | Path, texts: Path | None = None, require_text: bool = True) -> list[Document]:
    """Read a corpus file or every ``*.jsonl`` under a directory.

    For gold files without text, ``texts`` is a directory holding ``<doc_id>.txt``;
    with ``require_text=False`` documents without text are read with ``text == ""``.
    """
    path = Path(path)
    if not path.exists():
        raise CorpusError(f"{path}: no such file or directory")
    files = sorted(path.rglob("*.jsonl")) if path.is_dir() else [path]
    if not files:
        raise CorpusError(f"{path}: no .jsonl files found")
    docs = []
    for file in files:
        with open(file, "rb") as fh:
            for lineno, raw in enumerate(fh, 1):
                where = f"{file}:{lineno}"
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise CorpusError(f"{where}: not UTF-8 text (byte {e.start} of the line)") from e
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as e:
                    raise CorpusError(f"{where}: not valid JSON ({e.msg})") from e
                text = None
                if "text" not in rec and texts is not None:
                    txt = Path(texts) / f"{rec.get('doc_id')}.txt"
                    if txt.exists():
                        text = txt.read_text(encoding="utf-8", errors="replace")
                docs.append(parse_record(rec, where, text, require_text))
    return docs


def validate(docs: list[Document]) -> list[str]:
    """Every problem of the corpus as one line each; an empty list means valid."""
    problems = []
    seen_ids: Counter = Counter(d.doc_id for d in docs)
    for doc in docs:
        where = f"doc {doc.doc_id}"
        if seen_ids[doc.doc_id] > 1:
            problems.append(f"{where}: doc_id used {seen_ids[doc.doc_id]} times")
        if not doc.text.strip():
            problems.append(f"{where}: empty text")
        if doc.split and doc.split not in SPLITS:
            problems.append(f"{where}: split {doc.split!r} is not one of {SPLITS}")
        for kind in doc.negatives:
            if kind not in NEGATIVE_KINDS:
                problems.append(f"{where}: negative kind {kind!r} is not one of {NEGATIVE_KINDS}")
        forms: dict[str, str] = {}
        for name, aliases in doc.parties.items():
            for form in [name, *aliases]:
                if form in forms and forms[form] != name:
                    problems.append(f"{where}: surface form {form!r} given for {forms[form]!r} and {name!r}")
                forms[form] = name
            if not any(form in doc.text for form in [name, *aliases]):
                problems.append(f"{where}: party {name!r} (or an alias) does not occur in the text")
            for alias in aliases:
                if alias not in doc.text:
                    problems.append(f"{where}: alias {alias!r} of {name!r} does not occur in the text")
        keys = Counter()
        for kind, triples in (("triple", doc.triples), ("optional", doc.optional)):
            for t in triples:
                label = f"{where}: {kind} ({t.head}, {t.relation}, {t.tail})"
                for rel in t.relations:
                    if rel not in RELATIONS:
                        problems.append(f"{label}: unknown relation {rel!r}")
                for name in (t.head, t.tail):
                    if name not in doc.parties:
                        problems.append(f"{label}: {name!r} is not a key of parties")
                if t.head == t.tail:
                    problems.append(f"{label}: head and tail are the same party")
                if any(r in SYMMETRIC for r in t.relations) and alpha_key(t.tail) < alpha_key(t.head):
                    problems.append(f"{label}: symmetric triple must have head first in alphabetical order")
                if kind == "triple":
                    if not t.evidence:
                        problems.append(f"{label}: no evidence")
                    elif t.evidence not in doc.text:
                        problems.append(f"{label}: evidence is not a substring of the text")
                for rel in t.relations:
                    keys[(t.head, rel, t.tail)] += 1
        for key, n in keys.items():
            if n > 1:
                problems.append(f"{where}: triple {key} listed {n} times")
    return problems


def stats(docs: list[Document]) -> dict:
    """Counts per relation, industry, negative kind and split, for the datasheet."""
    rel = Counter(r for d in docs for t in d.triples for r in t.relations[:1])
    pairs = 0
    for d in docs:
        n = len(d.parties)
        pairs += n * (n - 1) // 2
    return {
        "documents": len(docs),
        "documents_without_triples": sum(1 for d in docs if not d.triples),
        "triples": sum(len(d.triples) for d in docs),
        "party_pairs": pairs,
        "per_relation": dict(sorted(rel.items())),
        "per_industry": dict(sorted(Counter(d.industry for d in docs).items())),
        "per_negative_kind": dict(sorted(Counter(k for d in docs for k in d.negatives).items())),
        "per_split": dict(sorted(Counter(d.split for d in docs).items())),
    }


def corpus_hash(docs: list[Document]) -> str:
    """A short hash of the corpus content, recorded with every model trained on it."""
    h = hashlib.sha256()
    for doc in sorted(docs, key=lambda d: d.doc_id):
        h.update(json.dumps(doc.to_json(), sort_keys=True).encode())
    return h.hexdigest()[:16]


def coverage(docs: list[Document]) -> list[str]:
    """One line per gold triple that no training window carries (its evidence lies outside
    every candidate window of its pair: too far from either name, or beyond the windows kept).
    Loads spaCy's sentence splitter, the one extraction uses."""
    from pipeline.stages.ner import load_nlp
    from pipeline.training.examples import document_sentences, uncovered_triples

    nlp = load_nlp()
    lines = []
    for doc, sentences in zip(docs, document_sentences(docs, nlp)):
        for t in uncovered_triples(doc, sentences):
            relation = "/".join(t.relations)
            lines.append(f"{doc.doc_id}: {t.head} {relation} {t.tail}: no training window holds its "
                         f"evidence ({t.evidence[:60]!r})")
    return lines


def main(argv: list[str] | None = None) -> int:
    """``python -m pipeline.training.corpus validate|stats|coverage PATH``: check a corpus file.

    ``coverage`` also lists the gold triples no training window carries (slower: it splits
    sentences with spaCy)."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] not in ("validate", "stats", "coverage"):
        print("usage: python -m pipeline.training.corpus validate|stats|coverage PATH", file=sys.stderr)
        return 2
    try:
        docs = read_corpus(argv[1])
    except CorpusError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    problems = validate(docs)
    for p in problems:
        print(p)
    if argv[0] == "stats":
        print(json.dumps(stats(docs), indent=2))
    uncovered = []
    if argv[0] == "coverage" and not problems:
        uncovered = coverage(docs)
        for line in uncovered:
            print(line)
        total = sum(len(d.triples) for d in docs)
        print(f"{len(uncovered)} of {total} gold triples carried by no training window", file=sys.stderr)
    print(f"{len(docs)} documents, {len(problems)} problems", file=sys.stderr)
    return 1 if problems or uncovered else 0


if __name__ == "__main__":
    raise SystemExit(main())
