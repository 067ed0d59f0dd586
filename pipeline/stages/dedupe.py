"""Exact and near-duplicate articles (syndicated wire copy) with MinHash + LSH.

:class:`Deduplicator` remembers every article it has seen as a fixed-size MinHash
signature (128 x 32-bit values, 512 bytes), its 16 LSH band keys and one hash of the
normalized text, never the text itself: about 2 KB an article, so 100k articles cost
roughly 200 MB, and checking one takes ~0.3 ms (plus ~1 ms per 10k words). ``check`` says whether a new
article is an exact duplicate (same normalized text) or a near duplicate (estimated
Jaccard similarity >= ``threshold`` over 5-word shingles) of an earlier one.

Everything is deterministic: word hashes are keyed BLAKE2b and the permutations come
from a fixed seed, so the same input gives the same answer on every run.
"""
from __future__ import annotations

import hashlib
import re

import numpy as np

from pipeline.records import Article

#: Words per shingle.
SHINGLE_WORDS = 5
#: Only this many characters of the normalized text are shingled (a 50 MB article
#: would otherwise cost seconds); the exact-duplicate hash covers the whole text.
SHINGLE_CHAR_LIMIT = 500_000
_NONWORD = re.compile(r"[\W_]+")
_MASK64 = (1 << 64) - 1


def normalize(text: str) -> str:
    """Case-folded words separated by single spaces: punctuation and spacing do not count."""
    return _NONWORD.sub(" ", text.casefold()).strip()


def _word_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=8,
                                          key=b"alliances-dedupe").digest(), "little")


def shingle_hashes(normalized: str, k: int = SHINGLE_WORDS) -> np.ndarray:
    """Distinct 64-bit hashes of the k-word shingles of normalized text (one shingle if shorter)."""
    words = normalized[:SHINGLE_CHAR_LIMIT].split()
    if not words:
        return np.zeros(0, dtype=np.uint64)
    cache: dict[str, int] = {}
    w = np.fromiter((cache[x] if x in cache else cache.setdefault(x, _word_hash(x)) for x in words),
                    dtype=np.uint64, count=len(words))
    if len(w) < k:
        k = len(w)
    n = len(w) - k + 1
    s = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):
            # position-dependent odd multipliers make "a b" and "b a" differ
            s = s * np.uint64(0x9E3779B97F4A7C15) + w[j:j + n]
        s ^= s >> np.uint64(31)
        s *= np.uint64(0xBF58476D1CE4E5B9)
        s ^= s >> np.uint64(29)
    return np.unique(s)


class Deduplicator:
    """Finds exact and near duplicates among the articles passed to :meth:`check`, in order.

    ``check(article)`` returns the ``doc_id`` of the first earlier article that this one
    duplicates, or ``None`` (and then remembers the article). ``last_kind`` tells
    ``"exact"`` or ``"near"`` for the last duplicate found.
    """

    def __init__(self, threshold: float = 0.8, num_perm: int = 128, bands: int = 16, seed: int = 1):
        if num_perm % bands:
            raise ValueError("num_perm must be a multiple of bands")
        self.threshold = threshold
        self.num_perm = num_perm
        self.bands = bands
        self.rows = num_perm // bands
        rng = np.random.default_rng(seed)
        self._a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) | np.uint64(1)
        self._b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
        self._sigs = np.zeros((64, num_perm), dtype=np.uint32)
        self._ids: list[str] = []
        self._exact: dict[bytes, int] = {}
        self._buckets: dict[int, int | list[int]] = {}
        self.last_kind: str | None = None

    def __len__(self) -> int:
        return len(self._ids)

    def signature(self, text: str) -> np.ndarray:
        """The MinHash signature of a text (all 0xFFFFFFFF for a text without words)."""
        sig = np.full(self.num_perm, np.iinfo(np.uint64).max, dtype=np.uint64)
        shingles = shingle_hashes(normalize(text))
        with np.errstate(over="ignore"):
            for i in range(0, len(shingles), 4096):
                chunk = shingles[i:i + 4096, None]
                h = (chunk * self._a + self._b) >> np.uint64(32)
                np.minimum(sig, h.min(axis=0), out=sig)
        return np.minimum(sig, np.uint64(0xFFFFFFFF)).astype(np.uint32)

    def _band_keys(self, sig: np.ndarray) -> list[int]:
        keys = []
        for band in range(self.bands):
            part = sig[band * self.rows:(band + 1) * self.rows].tobytes()
            keys.append(int.from_bytes(hashlib.blake2b(part, digest_size=8, salt=band.to_bytes(2, "little"))
                                       .digest(), "little"))
        return keys

    def check_detail(self, article: Article) -> tuple[str, str] | None:
        """``("exact" | "near", doc_id of the earlier article)``, or ``None`` for a new article."""
        norm = normalize(article.text)
        digest = hashlib.blake2b(norm.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        hit = self._exact.get(digest)
        if hit is not None:
            return "exact", self._ids[hit]
        sig = self.signature(article.text)
        keys = self._band_keys(sig)
        has_words = bool(norm)
        if has_words:
            candidates: set[int] = set()
            for key in keys:
                found = self._buckets.get(key)
                if found is None:
                    continue
                candidates.update(found if isinstance(found, list) else (found,))
            for idx in sorted(candidates):
                if float(np.mean(self._sigs[idx] == sig)) >= self.threshold:
                    return "near", self._ids[idx]
        idx = len(self._ids)
        if idx == len(self._sigs):
            self._sigs = np.concatenate([self._sigs, np.zeros_like(self._sigs)])
        self._sigs[idx] = sig
        self._ids.append(article.doc_id)
        self._exact[digest] = idx
        if has_words:
            for key in keys:
                found = self._buckets.get(key)
                if found is None:
                    self._buckets[key] = idx
                elif isinstance(found, list):
                    found.append(idx)
                else:
                    self._buckets[key] = [found, idx]
        return None

    def check(self, article: Article) -> str | None:
        """The doc_id of the earlier article this one duplicates (exactly or nearly), else ``None``."""
        found = self.check_detail(article)
        self.last_kind = found[0] if found else None
        return found[1] if found else None
