"""Candidate pairs: two parties mentioned within a window of consecutive sentences.

Relations in news are often stated across sentences ("... said on Tuesday. The two
companies will ..."), so a pair is a candidate when mentions of both parties fall
within ``window`` sentences of each other. Each candidate keeps the window's character
offsets and the two mentions, so evidence and spans can be written exactly.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Container, Sequence

from pipeline.records import Pair, Party

#: Sentences a window spans at most (a pair is a candidate when its mentions are at
#: most ``WINDOW - 1`` sentences apart).
WINDOW = 3
#: Windows kept per pair. Training labels up to this many windows of a pair and
#: extraction scores as many: a long article often names a pair several times before
#: the sentence that states their relation.
MAX_WINDOWS = 6
#: Sentences after a window that may join it when they refer back to the pair without
#: naming anyone ("The two companies will ...", "Under the deal, ..."): models trained
#: with this setting read such windows; models without it in their settings use 0.
FOLLOW = 1

#: Words by which a sentence that names no party goes on about the one before: the pair
#: as a group, a pronoun, or the deal itself.
REFERENCE = re.compile(
    r"\b(?:the (?:two|three|pair|duo|trio|partners|companies|firms|groups|sides|parties|rivals|"
    r"carmakers|banks|lenders|makers|suppliers|operators|developers|studios|brands)|both|"
    r"they|their|them|each other|one another|jointly|together|"
    r"the (?:deal|agreement|accord|pact|partnership|alliance|venture|joint venture|contract|"
    r"arrangement|tie-up|transaction|collaboration|order|stake|investment|acquisition|takeover|"
    r"purchase|merger|licen[cs]e|licensing deal|supply deal|memorandum|mou|programme|program))\b",
    re.IGNORECASE)


def sentence_index(starts: Sequence[int], offset: int) -> int:
    """Index of the sentence that contains ``offset``, given sorted sentence starts."""
    return max(0, bisect_right(starts, offset) - 1)


def candidate_pairs(parties: Sequence[Party], sentences: Sequence[tuple[int, int]],
                    window: int = WINDOW, max_windows: int = MAX_WINDOWS, text: str = "",
                    follow: int = 0) -> list[Pair]:
    """Every pair of parties with mentions at most ``window - 1`` sentences apart.

    For each pair, up to ``max_windows`` distinct windows are kept, closest first
    (same sentence before neighbouring ones, then earlier before later). Within a
    window, ``a`` is the party mentioned first and ``a_mention``/``b_mention`` are
    each party's first mention in it.

    With ``follow`` and the ``text`` the offsets index, each kept window also comes
    extended by up to ``follow`` next sentences that name no party and refer back
    (:data:`REFERENCE`), as an extra window after the pair's others: "Arden and Kobe
    Steel met on Monday. The two companies will share a plant." is read whole.
    """
    if not sentences:
        return []
    starts = [s for s, _ in sentences]
    located = [[(sentence_index(starts, m.start), m) for m in party.mentions] for party in parties]
    by_sentence: dict[int, set[int]] = defaultdict(set)
    for index, mentions in enumerate(located):
        for si, _ in mentions:
            by_sentence[si].add(index)
    # Windows per pair, found by walking sentences (not all pairs of parties), so a long
    # article with thousands of organizations stays linear in its length.
    found: dict[tuple[int, int], set[tuple[int, int]]] = defaultdict(set)
    ordered = sorted(by_sentence)
    for k, si in enumerate(ordered):
        for sj in ordered[k:]:
            if sj - si >= window:
                break
            for i in by_sentence[si]:
                for j in by_sentence[sj]:
                    if i != j:
                        found[(min(i, j), max(i, j))].add((si, sj))
    pairs: list[Pair] = []
    for (i, j) in sorted(found):
        best = sorted(found[(i, j)], key=lambda w: (w[1] - w[0], w[0]))[:max_windows]
        for lo, hi in best:
            start, end = sentences[lo][0], sentences[hi][1]
            mi = next(m for si, m in located[i] if lo <= si <= hi)
            mj = next(m for sj, m in located[j] if lo <= sj <= hi)
            a, b, ma, mb = (parties[i], parties[j], mi, mj)
            if mj.start < mi.start:
                a, b, ma, mb = b, a, mj, mi
            # A sentence split inside a mention ("0Solvang Cells") must not cut it out of
            # the window: the window always spans both mentions whole.
            start, end = min(start, ma.start), max(end, ma.end, mb.end)
            pairs.append(Pair(a, b, ma, mb, start, end))
        if follow and text:
            for pair in pairs[-len(best):]:
                pairs.extend(_followed(pair, sentences, starts, by_sentence, text, follow))
    return pairs


def _followed(pair: Pair, sentences: Sequence[tuple[int, int]], starts: Sequence[int],
              named: Container[int], text: str, follow: int) -> list[Pair]:
    """``pair``'s window extended by each of the next ``follow`` sentences in turn, while
    they name no party and refer back to what came before."""
    out = []
    last = sentence_index(starts, pair.window_end - 1)
    for k in range(last + 1, min(last + 1 + follow, len(sentences))):
        start, end = sentences[k]
        if k in named or not REFERENCE.search(text, start, end):
            break
        out.append(Pair(pair.a, pair.b, pair.a_mention, pair.b_mention, pair.window_start, end))
    return out
