"""Classifier examples from labeled documents: one marked window per candidate pair.

Parties come from the gold labels (not from NER), so the classifier learns relations
independently of recognition errors. Beside them, the things the recognizer takes for
organizations but the labels do not name (a product, a town, a person: see
:func:`recognized_non_parties`) may be added: every window of a pair with one of them is
a negative, so the classifier learns that what extraction will wrongly hand it relates
to nobody. A window is labeled with the gold relations
whose evidence it contains (at least half of the evidence's characters); windows of
a related pair that contain none of its evidence are left out (they may restate the
relation in words the annotator did not mark), and every window of an unrelated pair
is a negative (``no_relation``: all outputs 0).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.records import Mention, Party
from pipeline.stages.ner import form_pattern
from pipeline.stages.pairs import FOLLOW, MAX_WINDOWS, WINDOW, candidate_pairs
from pipeline.stages.relations import label_of
from pipeline.training.corpus import Document


@dataclass
class Example:
    doc_id: str
    a: str
    b: str
    text: str
    e1: int
    e2: int
    labels: list[str]
    window: tuple[int, int]


def gold_parties(doc: Document) -> list[Party]:
    """The labeled parties of a document with every occurrence of each surface form.

    Quoted sources (outlets, analyst firms) are included too: the recognizer finds
    them, so the classifier must learn that they relate to nobody.
    """
    forms = []
    named = dict(doc.parties)
    for source in doc.sources:
        if source not in named and not any(source in (n, *a) for n, a in doc.parties.items()):
            named[source] = []
    for name, aliases in named.items():
        for form in {name, *aliases}:
            forms.append((form, name))
    forms.sort(key=lambda f: (-len(f[0]), f[0]))
    taken = bytearray(len(doc.text) + 1)
    mentions: dict[str, list[Mention]] = {name: [] for name in named}
    for form, name in forms:
        for m in form_pattern(form).finditer(doc.text):
            if any(taken[m.start():m.end()]):
                continue
            taken[m.start():m.end()] = b"\x01" * (m.end() - m.start())
            mentions[name].append(Mention(m.start(), m.end(), form))
    parties = [Party(name, tuple(sorted(ms, key=lambda m: m.start))) for name, ms in mentions.items() if ms]
    return sorted(parties, key=lambda p: p.mentions[0].start)


def recognized_parties(docs: Sequence[Document], nlp) -> list[list[Party]]:
    """The parties extraction finds in each document with the recognizer ``nlp``
    (entities, rules and canonical grouping, as :func:`pipeline.extract.analyse` runs them)."""
    from pipeline.extract import analyse_texts, find_parties
    from pipeline.stages.ner import OrganizationFinder

    finder = OrganizationFinder(nlp)
    return [find_parties(doc.text, candidates, persons, finder)
            for doc, (_, candidates, persons) in zip(docs, analyse_texts(nlp, [d.text for d in docs], finder))]


def recognized_non_parties(doc: Document, recognized: Sequence[Party]) -> list[Party]:
    """The recognized parties that are none of the document's labeled parties or sources:
    no mention overlaps a labeled one and no name is a labeled name. A party recognized
    with a wrong boundary overlaps a labeled one and is left out (it is not a non-party)."""
    gold = gold_parties(doc)
    taken = bytearray(len(doc.text) + 1)
    for party in gold:
        for m in party.mentions:
            taken[m.start:m.end] = b"\x01" * (m.end - m.start)
    names = {p.name.casefold() for p in gold}
    return [p for p in recognized
            if p.name.casefold() not in names and not any(any(taken[m.start:m.end]) for m in p.mentions)]


def _evidence_spans(doc: Document) -> dict[tuple[str, str], list[tuple[str, str, int, int]]]:
    """For each unordered party pair: (relation, head, start, end) of each gold triple's evidence."""
    spans: dict[tuple[str, str], list[tuple[str, str, int, int]]] = {}
    for t in doc.triples:
        start = doc.text.find(t.evidence) if t.evidence else -1
        end = start + len(t.evidence) if start >= 0 else -1
        key = tuple(sorted((t.head, t.tail)))
        for rel in t.relations:
            spans.setdefault(key, []).append((rel, t.head, start, end))
    return spans


def _optional_pairs(doc: Document) -> set[tuple[str, str]]:
    return {tuple(sorted((t.head, t.tail))) for t in doc.optional}


def document_examples(doc: Document, sentences: Sequence[tuple[int, int]], window: int = WINDOW,
                      max_windows: int = MAX_WINDOWS, max_chars: int = 900,
                      other_marker: str | None = None, labeled: bool = True,
                      non_parties: Sequence[Party] = (), follow: int = FOLLOW) -> list[Example]:
    """Every labeled window of one document (``other_marker``: the classifier's marker
    for the window's other parties, if it uses one; ``non_parties``: recognized
    non-parties, whose every window is a negative).

    With ``labeled`` false: every candidate window of the gold parties, as extraction would
    see them, without labels (for scoring a classifier on them). Labeled, a window of a
    pair with a gold or optional triple whose evidence it does not hold is left out.
    """
    from pipeline.extract import mark_pair

    parties = sorted([*gold_parties(doc), *non_parties], key=lambda p: p.mentions[0].start)
    evidence = _evidence_spans(doc) if labeled else {}
    optional = _optional_pairs(doc) if labeled else set()
    examples = []
    for pair in candidate_pairs(parties, sentences, window=window, max_windows=max_windows, text=doc.text,
                                follow=follow):
        key = tuple(sorted((pair.a.name, pair.b.name)))
        gold = evidence.get(key, [])
        labels = set()
        for rel, head, start, end in gold:
            if start < 0:
                continue
            inside = min(end, pair.window_end) - max(start, pair.window_start)
            if inside * 2 >= end - start:
                labels.add(label_of(rel, head == pair.a.name))
        if (gold or key in optional) and not labels:
            continue
        marked = mark_pair(doc.text, pair, max_chars, parties, other_marker)
        examples.append(Example(doc.doc_id, pair.a.name, pair.b.name, marked.text, marked.e1, marked.e2,
                                sorted(labels), (pair.window_start, pair.window_end)))
    return examples


def document_sentences(docs: Sequence[Document], nlp) -> list[list[tuple[int, int]]]:
    """Sentence offsets of each document, from the same splitter as extraction (NER off)."""
    from pipeline.extract import analyse_texts

    with nlp.select_pipes(disable=[p for p in ("ner",) if p in nlp.pipe_names]):
        return [sentences for sentences, _, _ in analyse_texts(nlp, [d.text for d in docs])]


def corpus_examples(docs: Sequence[Document], nlp, window: int = WINDOW, max_windows: int = MAX_WINDOWS,
                    other_marker: str | None = None, labeled: bool = True,
                    recognizers: Sequence = (), follow: int = FOLLOW) -> list[Example]:
    """Examples for many documents: labeled, or every candidate window (``labeled`` false).

    With ``recognizers`` (spaCy pipelines from :func:`pipeline.stages.ner.load_nlp`), the
    non-parties they find add negative windows (:func:`recognized_non_parties`)."""
    found = [recognized_parties(docs, r) for r in recognizers]
    out = []
    for k, (doc, sentences) in enumerate(zip(docs, document_sentences(docs, nlp))):
        non_parties: list[Party] = []
        for parties in found:  # the first recognizer's reading wins where two overlap
            for party in recognized_non_parties(doc, parties[k]):
                if not any(_overlaps(party, other) for other in non_parties):
                    non_parties.append(party)
        out.extend(document_examples(doc, sentences, window, max_windows, other_marker=other_marker,
                                     labeled=labeled, non_parties=non_parties, follow=follow))
    return out


def uncovered_triples(doc: Document, sentences: Sequence[tuple[int, int]], window: int = WINDOW,
                      max_windows: int = MAX_WINDOWS, follow: int = FOLLOW) -> list:
    """The gold triples of ``doc`` that no training window carries: none of the pair's
    candidate windows (the ``max_windows`` closest, at most ``window`` sentences) holds half
    of the evidence, so the classifier never learns the tie from this document."""
    from pipeline.records import SYMMETRIC
    from pipeline.stages.relations import decode_label

    carried = set()
    for ex in document_examples(doc, sentences, window, max_windows, follow=follow):
        for label in ex.labels:
            relation, a_is_head = decode_label(label)
            head, tail = (ex.a, ex.b) if a_is_head else (ex.b, ex.a)
            carried.add((head, relation, tail))
            if relation in SYMMETRIC:
                carried.add((tail, relation, head))
    return [t for t in doc.triples if not any((t.head, r, t.tail) in carried for r in t.relations)]


def _overlaps(a: Party, b: Party) -> bool:
    return a.name.casefold() == b.name.casefold() or any(
        m.start < n.end and n.start < m.end for m in a.mentions for n in b.mentions)
