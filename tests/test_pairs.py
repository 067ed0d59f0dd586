"""Candidate pairs within sentence windows."""
from __future__ import annotations

from pipeline.records import Mention, Party
from pipeline.stages.pairs import candidate_pairs

SENTENCES = [(0, 10), (10, 20), (20, 30), (30, 40), (40, 50)]


def party(name, *starts):
    return Party(name, tuple(Mention(s, s + 2, name[:2]) for s in starts))


def test_pairs_within_window_only():
    a, b, c = party("Aa", 1), party("Bb", 21), party("Cc", 41)
    pairs = candidate_pairs([a, b, c], SENTENCES, window=3)
    assert {(p.a.name, p.b.name) for p in pairs} == {("Aa", "Bb"), ("Bb", "Cc")}
    ab = next(p for p in pairs if p.b.name == "Bb" and p.a.name == "Aa")
    assert (ab.window_start, ab.window_end) == (0, 30)


def test_first_party_in_window_is_a_and_windows_are_capped():
    a, b = party("Aa", 12, 22, 42), party("Bb", 2, 32)
    pairs = candidate_pairs([a, b], SENTENCES, window=2, max_windows=2)
    assert len(pairs) == 2
    for p in pairs:
        assert p.a_mention.start < p.b_mention.start
        assert p.window_start <= p.a_mention.start and p.b_mention.end <= p.window_end
    # neighbouring-sentence windows, earliest first
    assert [(p.window_start, p.window_end) for p in pairs] == [(0, 20), (20, 40)]


def test_no_sentences_no_pairs():
    assert candidate_pairs([party("Aa", 1), party("Bb", 3)], []) == []


def test_a_mention_cut_by_a_sentence_end_stays_whole_in_the_window():
    a = Party("Aa", (Mention(2, 4, "Aa"),))
    b = Party("Bb Cc", (Mention(18, 23, "Bb Cc"),))  # the sentence (10, 20) ends inside it
    (pair,) = candidate_pairs([a, b], [(0, 10), (10, 20), (20, 30)], window=2)
    assert (pair.window_start, pair.window_end) == (0, 23)


def _text_parties(text, *names):
    return [Party(n, (Mention(text.index(n), text.index(n) + len(n), n),)) for n in names]


def _sentences(text):
    out, start = [], 0
    for end in [i + 2 for i, ch in enumerate(text) if ch == "." and text[i + 1:i + 2] == " "] + [len(text)]:
        out.append((start, end))
        start = end
    return out


FOLLOW_TEXT = ("Arden Foods and Kobe Mills met in Osaka on Monday. The two companies will share a flour "
               "plant. Prices rose in May. Analysts expect more.")


def test_a_window_is_also_read_with_the_next_sentence_that_refers_back():
    parties = _text_parties(FOLLOW_TEXT, "Arden Foods", "Kobe Mills")
    sentences = _sentences(FOLLOW_TEXT)
    plain = candidate_pairs(parties, sentences)
    followed = candidate_pairs(parties, sentences, text=FOLLOW_TEXT, follow=2)
    assert [(p.window_start, p.window_end) for p in plain] == [sentences[0]]
    # the extended window comes after the pair's own; "Prices rose" names no party but does
    # not refer back, so the extension stops there
    assert [FOLLOW_TEXT[p.window_start:p.window_end].strip() for p in followed] == [
        "Arden Foods and Kobe Mills met in Osaka on Monday.",
        "Arden Foods and Kobe Mills met in Osaka on Monday. The two companies will share a flour plant."]
    assert candidate_pairs(parties, sentences, follow=1) == plain  # no text, no extension


def test_a_next_sentence_that_names_a_party_is_not_a_follow_on():
    text = "Arden Foods and Kobe Mills met on Monday. They said Lusa Grain will join the plant."
    parties = _text_parties(text, "Arden Foods", "Kobe Mills", "Lusa Grain")
    pairs = candidate_pairs(parties, _sentences(text), text=text, follow=1)
    ab = [p for p in pairs if {p.a.name, p.b.name} == {"Arden Foods", "Kobe Mills"}]
    # "They" refers back, but the sentence is about Lusa Grain: it is not read with the pair
    assert [(p.window_start, p.window_end) for p in ab] == [(0, 42)]
    assert any(p.window_end == len(text) for p in pairs if "Lusa Grain" in (p.a.name, p.b.name))
