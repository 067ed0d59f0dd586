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
