"""The pipeline, written once, in order::

    articles ──ingest──▶ Article           (stages/ingest.py)
             ──ner──────▶ Mention           (stages/ner.py)
             ──canonical▶ Party             (stages/canonical.py)
             ──pairs────▶ Pair              (stages/pairs.py)
             ──relations▶ label probabilities (stages/relations.py)
             ──write────▶ Triple -> Parquet (stages/write.py)

:func:`extract` runs it in memory on texts or records; :func:`run` streams files to a
Parquet file. Both are silent and return data; the CLI prints.
"""
from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import RecordError
from pipeline.models import Model, load_model
from pipeline.records import SYMMETRIC, Article, Counters, Mention, Pair, Party, Triple, alpha_key
from pipeline.stages.canonical import group_mentions
from pipeline.stages.ingest import (Fields, Reject, blank_html, blank_markdown, blank_wire_slugs, decode_char_refs,
                                    parse_date, replace_surrogates, unwrap_lines, valid_unicode)
from pipeline.stages.pairs import MAX_WINDOWS, WINDOW, candidate_pairs
from pipeline.stages.patterns import ownership_statements
from pipeline.stages.relations import Marked, decode_label, mark
from pipeline.stages.write import ParquetSink

#: Directed relations that cannot hold both ways between two parties in one report.
ANTISYMMETRIC = frozenset({"acquires", "owns", "invests_in"})
#: Supply runs both ways only now and then; the less likely direction of a pair read both
#: ways is kept only at this confidence or above (on the test split the weaker reading was
#: wrong 20 times out of 23; see ``benchmarks/README.md``).
MUTUAL_SUPPLY = 0.5
#: A stake is either a holding (``invests_in``) or control (``owns``), and the schema
#: accepts either for joint control: of the two read for one head and tail, only the
#: likelier is kept (dev split: 36 fewer wrong outputs for 4 right ones lost).
ONE_OF = frozenset({"invests_in", "owns"})
#: Raw probability given to ownership stated in a set phrase (``stages/patterns.py``; right
#: 123 times in 127 on the corpus), before calibration like any other reading.
STATED_OWNERSHIP = 0.99
CROSS_LICENSE = re.compile(r"\bcross[- ]?licen[cs]", re.IGNORECASE)
#: Longest piece of text handed to spaCy at once; longer articles are split at line breaks.
SEGMENT_CHARS = 100_000


@dataclass
class Analysis:
    """What the pipeline found in one article before classification.

    Offsets (sentences, mentions, windows) are into ``text``, the article as the pipeline
    reads it: HTML tags blanked, character references decoded, Markdown read as words,
    wrapped lines joined (see :func:`reading`).
    ``origin`` maps them back to the article as written (``None``: the same text).
    """

    article: Article
    sentences: list[tuple[int, int]]
    parties: list[Party]
    pairs: list[Pair]
    text: str | None = None
    origin: object = None

    def __post_init__(self):
        if self.text is None:
            self.text = self.article.text

    def written(self, start: int, end: int) -> tuple[int, int]:
        """The ``(start, end)`` in the article as written of a span of ``text``."""
        if self.origin is None or start >= end:
            return start, end
        return int(self.origin[start][0]), int(self.origin[end - 1][1])


def reading(text: str):
    """``(text as read, origin)``: HTML tags left in the text blanked (block elements end a
    line), character references decoded ("AT&amp;T" is "AT&T"), Markdown links and emphasis
    read as their words, a wire headline's slug set apart ("EXCLUSIVE-Mirova Bank"),
    hard-wrapped lines joined; with the map back to ``text`` (``None`` if no character
    changed position)."""
    decoded, origin = decode_char_refs(blank_html(text))
    return unwrap_lines(blank_wire_slugs(blank_markdown(decoded))), origin


def split_segments(text: str, limit: int = SEGMENT_CHARS) -> list[tuple[int, int]]:
    """Cut ``text`` into ``(start, end)`` pieces of at most ``limit`` characters.

    Cuts fall on a line break where there is one, else after a sentence end, else
    at a space, so no word is split.
    """
    pieces, start = [], 0
    while len(text) - start > limit:
        window = text[start:start + limit]
        cut = max(window.rfind("\n"), window.rfind(". "), window.rfind(" "))
        cut = start + (cut + 1 if cut > limit // 2 else limit)
        pieces.append((start, cut))
        start = cut
    pieces.append((start, len(text)))
    return pieces


def analyse_texts(nlp, texts: Sequence[str], finder=None, batch_size: int = 16
                  ) -> list[tuple[list[tuple[int, int]], list[tuple[int, int, str]], list[str]]]:
    """Sentences, candidate entity spans and person names of each text (character offsets).

    Long texts are processed in segments and the offsets shifted back.
    """
    jobs = [(text[s:e], (i, s)) for i, text in enumerate(texts) for s, e in split_segments(text)]
    out = [([], [], []) for _ in texts]
    for doc, (i, offset) in nlp.pipe(jobs, as_tuples=True, batch_size=batch_size):
        sentences, candidates, persons = out[i]
        sentences.extend((offset + sent.start_char, offset + sent.end_char) for sent in doc.sents
                         if sent.text.strip())
        if finder is not None:
            candidates.extend((offset + s, offset + e, label) for s, e, label in finder.candidates(doc))
            persons.extend(ent.text for ent in doc.ents if ent.label_ == "PERSON")
    return out


def find_parties(text: str, candidates: Sequence[tuple[int, int, str]], persons: Sequence[str],
                 finder) -> list[Party]:
    """A text's parties from its candidate spans (:func:`analyse_texts`): the recognizer's
    rules decide the mentions, canonical grouping joins them into parties."""
    from pipeline.stages.ner import decide_mentions

    return group_mentions(decide_mentions(text, candidates, finder.known, finder.stop, persons), finder.known, text)


def analyse(model: Model, articles: Sequence[Article]) -> list[Analysis]:
    """NER, canonical parties and candidate pairs for a batch of articles."""
    settings = model.settings
    results = []
    # Entities decoded and wrapped lines joined; evidence and spans are cut from the article
    # as written (``Analysis.written``).
    read = [reading(a.text) for a in articles]
    texts = [text for text, _ in read]
    for article, (text, origin), (sentences, candidates, persons) in zip(
            articles, read, analyse_texts(model.nlp, texts, model.finder)):
        parties = find_parties(text, candidates, persons, model.finder)
        pairs = candidate_pairs(parties, sentences, window=settings.get("window", WINDOW),
                                max_windows=settings.get("max_windows", MAX_WINDOWS), text=text,
                                follow=settings.get("follow", 0))
        results.append(Analysis(article, sentences, parties, pairs, text, origin))
    return results


def mark_pair(text: str, pair: Pair, max_chars: int = 900, parties: Sequence[Party] = (),
              other_marker: str | None = None) -> Marked:
    """The pair's window with E1/E2 markers around every mention of either party in it,
    and ``other_marker`` around the mentions of the other ``parties`` (when given)."""
    def inside(m: Mention) -> bool:
        return pair.window_start <= m.start and m.end <= pair.window_end

    def spans(party: Party, first: Mention) -> list[tuple[int, int]]:
        return [(m.start, m.end) for m in [first, *(m for m in party.mentions if m != first and inside(m))]]

    rest = []
    if other_marker:
        rest = [(m.start, m.end) for p in parties if p.name not in (pair.a.name, pair.b.name)
                for m in p.mentions if inside(m)]
    return mark(text, pair.window_start, pair.window_end, spans(pair.a, pair.a_mention),
                spans(pair.b, pair.b_mention), max_chars, rest, other_marker)


def gate_applies(analysis: Analysis) -> bool:
    """Whether the document gate may silence this article: it has more than one pair of parties."""
    return len({frozenset((pair.a.name, pair.b.name)) for pair in analysis.pairs}) > 1


def pair_triples(analysis: Analysis, probs, labels: Sequence[str], thresholds: dict[str, float],
                 model_version: str, calibrate: Callable[[str, float], float] | None = None,
                 document_gate: float = 0.0) -> list[Triple]:
    """Turn window probabilities into document-level triples.

    For each party pair and relation the best window's probability, mapped through
    ``calibrate`` (the model's document-level calibration) when given, is the
    confidence; a triple is kept when it reaches the relation's threshold. Symmetric
    triples are ordered alphabetically; directed ones follow the winning output's direction.
    Of a pair read both ways, or read as both ``owns`` and ``invests_in``, the likelier
    reading stays (:data:`ANTISYMMETRIC`, :data:`ONE_OF`).

    When even the most confident triple stays below ``document_gate``, a document with
    more than one pair of parties (:func:`gate_applies`) gives none: weak readings spread over
    an article that states no tie are the classic false positive (companies compared or
    listed together). A text with one pair of parties (a headline, a one-line brief) is
    left to the thresholds: the gate was chosen on articles, and the corpus has almost no
    such texts to choose it on (one of 273 dev documents).
    """
    article = analysis.article
    best: dict[tuple[str, str, str], tuple[float, Pair, bool]] = {}
    for pair, row in zip(analysis.pairs, probs):
        for label, p in zip(labels, row):
            relation, head_is_a = decode_label(label)
            head, tail = (pair.a, pair.b) if head_is_a else (pair.b, pair.a)
            if head.name == tail.name:
                continue
            if relation in SYMMETRIC and alpha_key(tail.name) < alpha_key(head.name):
                head, tail, head_is_a = tail, head, not head_is_a
            key = (head.name, relation, tail.name)
            if key not in best or p > best[key][0]:
                best[key] = (float(p), pair, head_is_a)
    # A parent and its unit named in a set phrase ("X, a subsidiary of Y"): at least
    # STATED_OWNERSHIP, read in the narrowest window that holds both names.
    for parent, unit, *mentions in ownership_statements(analysis.text, analysis.parties):
        key = (parent, "owns", unit)
        pair = next((p for p in analysis.pairs if {p.a.name, p.b.name} == {parent, unit}
                     and p.window_start <= min(m.start for m in mentions)
                     and max(m.end for m in mentions) <= p.window_end), None)
        if pair is not None and best.get(key, (0.0,))[0] < STATED_OWNERSHIP:
            best[key] = (STATED_OWNERSHIP, pair, pair.a.name == parent)
    # Cross-licensing licenses both ways (schema.md): the reverse direction of a licence
    # stated as cross-licensing takes the same confidence.
    for (head, relation, tail), (p, pair, head_is_a) in list(best.items()):
        if relation == "licenses_to" and CROSS_LICENSE.search(analysis.text[pair.window_start:pair.window_end]):
            reverse = (tail, relation, head)
            if best.get(reverse, (0.0,))[0] < p:
                best[reverse] = (p, pair, not head_is_a)
    triples = []
    for (head, relation, tail), (raw, pair, head_is_a) in best.items():
        reverse = best.get((tail, relation, head), (0.0,))[0]
        if relation in ANTISYMMETRIC and reverse > raw:
            continue  # X acquires/owns/invests in Y and the reverse: keep the likelier direction
        if relation in ONE_OF and any(best.get((head, other, tail), (0.0,))[0] > raw for other in ONE_OF - {relation}):
            continue  # X owns Y and X invests in Y: keep the likelier reading of the stake
        p = calibrate(relation, raw) if calibrate else raw
        if relation == "supplies" and reverse > raw and p < MUTUAL_SUPPLY:
            continue  # a weak reading of the reverse of a likelier supply: the direction is wrong
        if p < thresholds.get(relation, 0.5):
            continue
        hm, tm = (pair.a_mention, pair.b_mention) if head_is_a else (pair.b_mention, pair.a_mention)
        window_start, window_end = analysis.written(pair.window_start, pair.window_end)
        triples.append(Triple(
            doc_id=article.doc_id, head=head, relation=relation, tail=tail, confidence=round(p, 6),
            evidence=article.text[window_start:window_end],
            head_span=analysis.written(hm.start, hm.end), tail_span=analysis.written(tm.start, tm.end),
            published=article.published, source=article.source, model_version=model_version,
        ))
    if triples and gate_applies(analysis) and max(t.confidence for t in triples) < document_gate:
        return []
    return sorted(triples, key=lambda t: (t.head_span[0], t.head, t.relation, t.tail))


def classify_probs(model: Model, analyses: Sequence[Analysis]) -> list:
    """Label probabilities of every candidate pair of a batch, in one batched call; an
    array per article, a row per pair."""
    classifier = model.classifier
    marked = [mark_pair(a.text, pair, classifier.max_chars, a.parties, classifier.other_marker)
              for a in analyses for pair in a.pairs]
    probs = classifier.predict_proba(marked, batch_size=model.settings.get("batch_size", 32))
    out, k = [], 0
    for analysis in analyses:
        out.append(probs[k:k + len(analysis.pairs)])
        k += len(analysis.pairs)
    return out


def classify(model: Model, analyses: Sequence[Analysis]) -> list[list[Triple]]:
    """Triples per article of a batch, with calibrated confidences."""
    return [pair_triples(analysis, probs, model.classifier.labels, model.thresholds, model.version,
                         model.calibrate, model.document_gate)
            for analysis, probs in zip(analyses, classify_probs(model, analyses))]


def to_article(item, index: int, fields: Fields = Fields()) -> Article:
    """An :class:`Article` from a string, an Article, or a mapping with a text field.

    Unpaired surrogates (not valid Unicode) in the text become U+FFFD, one character
    for one, so offsets hold; anything else that is not text raises :class:`RecordError`.
    """
    if isinstance(item, Article):
        if not isinstance(item.text, str):
            raise RecordError(f"record {index}: Article.text is {type(item.text).__name__}, not a string")
        for name in ("doc_id", "source"):
            if not isinstance(getattr(item, name), str):
                raise RecordError(f"record {index}: Article.{name} is {type(getattr(item, name)).__name__}, "
                                  "not a string")
        if item.published is not None and not isinstance(item.published, dt.date):
            raise RecordError(f"record {index}: Article.published is {type(item.published).__name__}, "
                              "not a date or None")
        return valid_unicode(item)
    if isinstance(item, str):
        return Article(doc_id=str(index), text=replace_surrogates(item))
    if isinstance(item, (bytes, bytearray, memoryview)):
        raise RecordError(f"record {index}: got bytes; decode them first, e.g. data.decode('utf-8', 'replace')")
    if isinstance(item, dict):
        text = item.get(fields.text)
        if not isinstance(text, str):
            raise RecordError(f"record {index}: no {fields.text!r} field holding a string")
        doc_id = item.get(fields.id, item.get("doc_id"))
        return Article(
            doc_id=replace_surrogates(str(doc_id)) if doc_id not in (None, "") else str(index),
            text=replace_surrogates(text),
            published=parse_date(item.get(fields.date, item.get("published"))),
            source=replace_surrogates(str(item.get(fields.url) or item.get("source") or "")),
            url=item.get(fields.url),
        )
    raise RecordError(f"record {index}: expected a text, a dict with {fields.text!r} or an Article, "
                      f"got {type(item).__name__}")


def extract_articles(articles: Iterable[Article], model: Model, batch_size: int = 16) -> Iterator[list[Triple]]:
    """Triples for each article of a stream, in order, processed ``batch_size`` at a time."""
    batch: list[Article] = []
    for article in articles:
        batch.append(article)
        if len(batch) >= batch_size:
            yield from classify(model, analyse(model, batch))
            batch = []
    if batch:
        yield from classify(model, analyse(model, batch))


def extract(texts, model: Model | str | Path | None = None) -> list[Triple]:
    """Alliance triples from one article or many.

    ``texts`` is a string (one article), or a list of strings, dicts with a ``text``
    field (and optionally ``id``, ``date``, ``url``) or :class:`Article` records.
    Strings get doc_ids ``"0"``, ``"1"``, ... in order. Returns :class:`Triple`
    records; the model is loaded once and reused across calls.

    >>> triples = extract("Vexa AI said on Monday it had raised $40 million in a round led by Norrland Capital.")
    """
    if not isinstance(model, Model):
        model = load_model(model)
    if texts is None:
        raise RecordError("extract() needs a text, a record or a list of them, got None")
    if isinstance(texts, (bytes, bytearray, memoryview)):
        raise RecordError("extract() got bytes; decode them first, e.g. data.decode('utf-8', 'replace')")
    if isinstance(texts, (str, dict, Article)):
        items = [texts]
    else:
        try:
            items = list(texts)
        except TypeError:
            raise RecordError(f"extract() needs a text, a record or a list of them, got {type(texts).__name__}") from None
    articles = [to_article(item, i) for i, item in enumerate(items)]
    return [t for triples in extract_articles((a for a in articles if a.text.strip()), model) for t in triples]


def extract_df(texts, model: Model | str | Path | None = None):
    """Like :func:`extract`, as a pandas DataFrame with the Parquet schema's columns and types."""
    from pipeline.stages.write import to_table

    return to_table(extract(texts, model)).to_pandas()


@dataclass
class RunSummary:
    """What a :func:`run` did."""

    output: str
    articles: int = 0
    words: int = 0
    triples: int = 0
    rejects: list[Reject] = field(default_factory=list)
    counters: Counters = field(default_factory=Counters)
    seconds: float = 0.0
    per_relation: dict[str, int] = field(default_factory=dict)
    model_version: str = ""

    @property
    def words_per_second(self) -> float:
        return self.words / self.seconds if self.seconds else 0.0


def run(inputs: Sequence[str | Path], output: str | Path, model: Model | str | Path | None = None,
        fmt: str = "auto", fields: Fields = Fields(), limit: int | None = None,
        batch_size: int = 16, progress: Callable[[RunSummary], None] | None = None, *,
        english_only: bool = True, dedupe: bool = True, max_chars=None) -> RunSummary:
    """Read articles from files (or ``-``), extract triples, write one Parquet file.

    Inputs are checked before anything is written; the output appears only when the
    run completes (written to a temporary file and renamed). Records that cannot be
    processed are listed in ``summary.rejects`` with a reason.

    ``english_only`` (default) skips confidently non-English articles, ``dedupe``
    (default) exact and near duplicates of earlier articles. Their rejects are
    :class:`pipeline.batch.Screened` records (a duplicate names its own doc_id and the
    original's) and are counted in ``summary.counters.extra`` (``not_english``,
    ``duplicates``). Articles longer than ``max_chars`` characters are capped, with a
    :class:`pipeline.stages.ingest.TextCappedWarning` (default
    :data:`pipeline.stages.ingest.MAX_ARTICLE_CHARS`; ``0`` for no cap).
    """
    from pipeline.batch import DEFAULT_MAX_CHARS, read_screened
    from pipeline.stages.ingest import list_inputs

    list_inputs(inputs, fmt)  # whole-run problems raise here, before any output
    if not isinstance(model, Model):
        model = load_model(model)
    summary = RunSummary(output=str(output), model_version=model.version)
    started = time.perf_counter()

    def articles() -> Iterator[Article]:
        for item in read_screened(inputs, fmt, fields, summary.counters, english_only=english_only, dedupe=dedupe,
                                  max_chars=DEFAULT_MAX_CHARS if max_chars is None else max_chars):
            if isinstance(item, Reject):
                summary.rejects.append(item)
                continue
            if limit is not None and summary.articles >= limit:
                return
            summary.articles += 1
            summary.words += len(item.text.split())
            yield item

    with ParquetSink(output) as sink:
        for triples in extract_articles(articles(), model, batch_size):
            sink.write(triples)
            summary.triples += len(triples)
            for t in triples:
                summary.per_relation[t.relation] = summary.per_relation.get(t.relation, 0) + 1
            if progress is not None:
                summary.seconds = time.perf_counter() - started
                progress(summary)
    summary.seconds = time.perf_counter() - started
    return summary
