"""Candidate pairs: two parties mentioned within a window of consecutive sentences.

Relations in news are often stated across sentences ("... said on Tuesday. The two
companies will ..."), so a pair is a candidate when mentions of both parties fall
within ``window`` sentences of each other. Each candidate keeps the window's character
offsets and the two mentions, so evidence and spans can be written exactly.
"""
from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence

from pipeline.records import Pair, Party

#: Sentences a window spans at most (a pair is a candidate when its mentions are at
#: most ``WINDOW - 1`` sentences apart).
WINDOW = 3
#: Windows kept per pair. Training labels up to this many windows of a pair and
#: extraction scores as many: a long article often names a pair several times before
#: the sentence that states their relation.
MAX_WINDOWS = 6


def sentence_index(starts: Sequence[int], offset: int) -> int:
    """Index of the sentence that contains ``offset``, given sorted sentence starts."""
    return max(0, bisect_right(starts, offset) - 1)


def candidate_pairs(parties: Sequence[Party], sentences: Sequence[tuple[int, int]],
                    window: int = WINDOW, max_windows: int = MAX_WINDOWS) -> list[Pair]:
    """Every pair of parties with mentions at most ``window - 1`` sentences apart.

    For each pair, up to ``max_windows`` distinct windows are kept, closest first
    (same sentence before neighbouring ones, then earlier before later). Within a
    window, ``a`` is the party mentioned first and ``a_mention``/``b_mention`` are
    each party's first mention in it.
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
    return pairs
