"""extract() end to end on the shipped model: behaviour, invariants, edge inputs."""
from __future__ import annotations

import json

import pytest

from conftest import EXAMPLES
from pipeline import extract, extract_df
from pipeline.errors import RecordError
from pipeline.records import RELATIONS, SYMMETRIC, Article, alpha_key

ARTICLE = (
    "Vexa AI raises $40 million from Norrland Capital\n"
    "STOCKHOLM, March 4 (Wire) - Swedish AI startup Vexa AI said on Tuesday it had raised $40 million "
    "in a funding round led by Norrland Capital, which also took a seat on its board. "
    "The startup will use the money to buy chips from Tarkon Semiconductor Corp., under a supply deal "
    "the two companies signed last year."
)


def check_invariants(text, triples):
    for t in triples:
        assert t.relation in RELATIONS
        assert t.head != t.tail
        assert 0.0 <= t.confidence <= 1.0
        for (start, end) in (t.head_span, t.tail_span):
            assert text[start:end] and text[start:end] in t.evidence
        assert t.evidence in text
        if t.relation in SYMMETRIC:
            assert alpha_key(t.head) <= alpha_key(t.tail)


def test_finds_investment_in_a_news_story(shipped_model):
    triples = extract(ARTICLE, model=shipped_model)
    check_invariants(ARTICLE, triples)
    found = {(t.head, t.relation, t.tail) for t in triples}
    assert ("Norrland Capital", "invests_in", "Vexa AI") in found
    assert all(t.model_version == shipped_model.version for t in triples)
    assert all(t.doc_id == "0" for t in triples)


def test_spans_point_at_mentions_of_the_parties(shipped_model):
    for t in extract(ARTICLE, model=shipped_model):
        assert ARTICLE[t.head_span[0]:t.head_span[1]].startswith(t.head.split()[0])
        assert ARTICLE[t.tail_span[0]:t.tail_span[1]].startswith(t.tail.split()[0])


def test_many_records_keep_ids_dates_and_sources(shipped_model):
    records = [{"id": "a1", "text": ARTICLE, "date": "2025-03-04", "url": "https://news.example/a1"},
               Article("a2", ARTICLE, source="feed"), "No companies here at all."]
    triples = extract(records, model=shipped_model)
    by_doc = {t.doc_id for t in triples}
    assert by_doc == {"a1", "a2"}
    a1 = [t for t in triples if t.doc_id == "a1"]
    assert str(a1[0].published) == "2025-03-04" and a1[0].source == "https://news.example/a1"
    assert {(t.head, t.relation, t.tail) for t in a1} == {
        (t.head, t.relation, t.tail) for t in triples if t.doc_id == "a2"}


def test_dataframe_has_the_schema_columns(shipped_model):
    df = extract_df([ARTICLE], model=shipped_model)
    assert list(df.columns) == ["doc_id", "head", "relation", "tail", "confidence", "evidence", "head_span",
                                "tail_span", "published", "source", "model_version"]
    assert len(df) >= 1


@pytest.mark.parametrize("text", [
    "",
    "   \n\t  ",
    "The weather in the north was mild and the markets were quiet on Monday.",
    "Norrland Capital said on Monday that it had hired two partners.",
    "Norrland Capital and Norrland Capital's fund were mentioned twice.",
    "Société Générale et Crédit Agricole n'ont fait aucune annonce aujourd'hui.",
])
def test_edge_inputs_give_no_relation(shipped_model, text):
    triples = extract(text, model=shipped_model)
    check_invariants(text, triples)
    assert triples == [] or all(t.head != t.tail for t in triples)


def test_one_megabyte_article(shipped_model):
    text = (ARTICLE + "\n\n") * (1_000_000 // (len(ARTICLE) + 2) + 1)
    assert len(text) > 1_000_000
    triples = extract(text, model=shipped_model)
    check_invariants(text, triples)
    assert ("Norrland Capital", "invests_in", "Vexa AI") in {(t.head, t.relation, t.tail) for t in triples}
    assert len({(t.head, t.relation, t.tail) for t in triples}) == len(triples)


@pytest.mark.parametrize("bad", [None, b"bytes", {"body": "no text field"}, 42])
def test_bad_arguments_raise_a_clear_error(shipped_model, bad):
    with pytest.raises(RecordError):
        extract(bad if bad is None else [bad], model=shipped_model)


def test_examples_score_well_against_their_gold(shipped_model):
    """The bundled example articles (written by the team, not used in training)."""
    from pipeline.stages.ingest import read_articles
    from pipeline.training.corpus import read_corpus
    from pipeline.training.evaluate import score

    articles = [a for a in read_articles([EXAMPLES / "articles"]) if isinstance(a, Article)]
    preds = {}
    for t in extract(articles, model=shipped_model):
        preds.setdefault(t.doc_id, []).append((t.head, t.relation, t.tail))
    result = score(read_corpus(EXAMPLES / "examples_gold.jsonl", require_text=False), preds)
    assert result["pairs"]["f1"] >= 0.5, json.dumps(result)


def one_pair(text, first, second):
    """The analysis of a one-sentence ``text`` naming two parties once each."""
    from pipeline.extract import Analysis
    from pipeline.records import Mention, Pair, Party

    a, b = (Party(name, (Mention(text.index(name), text.index(name) + len(name), name),)) for name in (first, second))
    pair = Pair(a, b, a.mentions[0], b.mentions[0], 0, len(text))
    return Analysis(Article("d", text), [(0, len(text))], [a, b], [pair])


def test_the_weaker_direction_of_a_supply_read_both_ways_is_dropped():
    from pipeline.extract import MUTUAL_SUPPLY, pair_triples

    analysis = one_pair("Norrland Cells will supply Ostra Motors with battery packs.", "Norrland Cells", "Ostra Motors")

    def heads(probs):
        triples = pair_triples(analysis, [probs], ["supplies>", "supplies<"], {"supplies": 0.2}, "v")
        return sorted(t.head for t in triples)

    assert heads([0.9, 0.3]) == ["Norrland Cells"]
    assert heads([0.3, 0.9]) == ["Ostra Motors"]
    # Both directions stay when the weaker one is itself confident (mutual supply).
    assert heads([0.9, MUTUAL_SUPPLY]) == ["Norrland Cells", "Ostra Motors"]


def test_a_stake_read_as_both_owns_and_invests_in_keeps_the_likelier():
    from pipeline.extract import pair_triples

    analysis = one_pair("Halden Group holds 50% of Vesper Freight, its venture with Ostra Motors.",
                        "Halden Group", "Vesper Freight")
    labels = ["owns>", "owns<", "invests_in>", "invests_in<", "supplies>", "supplies<"]

    def read(probs):
        triples = pair_triples(analysis, [probs], labels, dict.fromkeys(("owns", "invests_in", "supplies"), 0.2), "v")
        return sorted((t.head, t.relation, t.tail) for t in triples)

    assert read([0.7, 0.0, 0.6, 0.0, 0.0, 0.0]) == [("Halden Group", "owns", "Vesper Freight")]
    assert read([0.6, 0.0, 0.7, 0.0, 0.0, 0.0]) == [("Halden Group", "invests_in", "Vesper Freight")]
    # other relations of the pair are untouched
    assert read([0.6, 0.0, 0.7, 0.0, 0.5, 0.0]) == [("Halden Group", "invests_in", "Vesper Freight"),
                                                  ("Halden Group", "supplies", "Vesper Freight")]
    # opposite directions are not one stake read twice: X owns Y and Y invests in X both stay
    # when each is the likelier direction of its own relation
    assert read([0.7, 0.0, 0.0, 0.6, 0.0, 0.0]) == [("Halden Group", "owns", "Vesper Freight"),
                                                  ("Vesper Freight", "invests_in", "Halden Group")]


def test_hard_wrapped_text_reads_like_the_same_text_unwrapped(shipped_model):
    import textwrap

    first = ("Halvorsen Biologics said on Tuesday it had agreed to license its antibody platform to Kestrel "
             "Pharmaceuticals for up to $400 million, in a deal that gives the U.S. drugmaker rights to develop "
             "three cancer drugs. Kestrel Pharmaceuticals will pay $40 million upfront, the companies said.")
    second = ("Separately, Nordvik Energy agreed to buy turbines from Aldmere Wind Systems for its offshore farm, "
              "and Aldmere Wind Systems will also maintain them for ten years.")
    head = "Halvorsen licenses antibodies to Kestrel\n\n"
    flat = head + first + "\n\n" + second
    wrapped = head + textwrap.fill(first, 70) + "\n\n" + textwrap.fill(second, 70)

    def read(text):
        return sorted((t.head, t.relation, t.tail) for t in extract(text, model=shipped_model))

    assert ("Halvorsen Biologics", "licenses_to", "Kestrel Pharmaceuticals") in read(flat)
    assert read(wrapped) == read(flat)
    # evidence and spans are the article as written, line breaks and all
    for t in extract(wrapped, model=shipped_model):
        assert t.evidence in wrapped
        for start, end in (t.head_span, t.tail_span):
            assert " ".join(wrapped[start:end].split()) in flat  # a name, even one broken over two lines


def test_character_references_are_read_decoded_and_spans_point_at_the_text_as_written(shipped_model):
    text = ("Halvorsen Biologics said on Tuesday it had agreed to license its antibody platform to "
            "Kestrel &amp; Lowe Pharmaceuticals. Kestrel &amp; Lowe Pharmaceuticals will pay $40 million "
            "upfront, the companies&#39; statement said.")
    triples = extract(text, model=shipped_model)
    assert ("Halvorsen Biologics", "licenses_to", "Kestrel & Lowe Pharmaceuticals") in [
        (t.head, t.relation, t.tail) for t in triples]
    for t in triples:
        assert t.evidence in text
        assert text[t.tail_span[0]:t.tail_span[1]] in ("Kestrel &amp; Lowe Pharmaceuticals", "Halvorsen Biologics")


def test_markdown_links_and_emphasis_read_as_their_words(shipped_model):
    text = ("# Deals of the week\n\n* [Vexa AI](https://vexa.ai) raised $40 million in a round led by "
            "Norrland Capital.\n* **Halvorsen Biologics** licensed its antibody platform to Kestrel Pharmaceuticals.")
    triples = {(t.head, t.relation, t.tail): t for t in extract(text, model=shipped_model)}
    assert ("Norrland Capital", "invests_in", "Vexa AI") in triples
    vexa = triples[("Norrland Capital", "invests_in", "Vexa AI")]
    assert text[vexa.tail_span[0]:vexa.tail_span[1]] == "Vexa AI"


def test_a_name_after_a_wire_slug_is_a_party(shipped_model):
    text = ("EXCLUSIVE-Mirova Bank licenses speech model from Talkspire AI\n"
            "The Lisbon lender will pay per minute of audio, two people familiar with the deal said.")
    triples = {(t.head, t.relation, t.tail): t for t in extract(text, model=shipped_model)}
    assert ("Talkspire AI", "licenses_to", "Mirova Bank") in triples
    bank = triples[("Talkspire AI", "licenses_to", "Mirova Bank")]
    assert text[bank.tail_span[0]:bank.tail_span[1]] == "Mirova Bank"
    assert bank.evidence.startswith("EXCLUSIVE-Mirova Bank")


def test_html_left_in_a_text_field_is_read_as_text(shipped_model):
    text = ('<h1>Halvorsen licenses antibodies to Kestrel</h1><p>Halvorsen Biologics said on Tuesday it had agreed '
            'to license its antibody platform to <a href="https://kestrel.example/?a=1&amp;b=2">Kestrel '
            'Pharmaceuticals</a> for up to $400 million.</p><p><strong>Kestrel Pharmaceuticals</strong> will pay '
            '$40 million upfront.</p>')
    triples = {(t.head, t.relation, t.tail): t for t in extract(text, model=shipped_model)}
    licence = triples[("Halvorsen Biologics", "licenses_to", "Kestrel Pharmaceuticals")]
    # Spans index the raw HTML: they land on a mention (the headline's short form or the
    # full name, whichever window scored best), never on markup.
    assert text[licence.head_span[0]:licence.head_span[1]] in {"Halvorsen", "Halvorsen Biologics"}
    assert text[licence.tail_span[0]:licence.tail_span[1]] in {"Kestrel", "Kestrel Pharmaceuticals"}
    assert licence.evidence in text
    assert not any("href" in name or "<" in name for key in triples for name in (key[0], key[2]))


def test_follow_on_sentences_are_read_as_the_model_was_trained(shipped_model):
    from dataclasses import replace

    from pipeline.extract import analyse

    text = ("Arden Foods and Kobe Mills met in Osaka on Monday. The two companies will share a flour plant "
            "from 2027.\nPrices rose in May.")
    article = Article("f1", text)
    for setting, extended in ((0, False), (1, True)):
        model = replace(shipped_model, meta={**shipped_model.meta,
                                             "settings": {**shipped_model.settings, "follow": setting}})
        (analysis,) = analyse(model, [article])
        ends = {text[p.window_start:p.window_end].rstrip()[-5:] for p in analysis.pairs}
        assert ("2027." in ends) is extended, (setting, ends)
