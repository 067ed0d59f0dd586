"""Canonical party names: surface forms of one organization grouped per document.

Pure functions over :class:`~pipeline.records.Mention` records (no spaCy, no torch), so
they can be property-tested. The rules follow ``schema.md`` ("Canonical names"):
the canonical name is the plain name the document uses most, without possessive,
legal suffix or leading article; acronyms, designator-extended names ("Meta" /
"Meta Platforms") and known aliases map to one party, but named units ("Google Cloud")
stay parties of their own.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from functools import lru_cache

from pipeline.records import Mention, Party

LEGAL_SUFFIXES = (
    "inc", "incorporated", "corp", "corporation", "co", "company", "ltd", "limited", "llc",
    "llp", "lp", "plc", "ag", "sa", "s.a", "se", "nv", "n.v", "bv", "b.v", "gmbh", "kgaa",
    "asa", "ab", "oyj", "spa", "s.p.a", "pbc", "pte", "pty", "holdings", "holding", "group",
)
# Words that extend a name without naming a different organization:
# "Meta" / "Meta Platforms", "Anduril" / "Anduril Industries", "Vexa" / "Vexa AI".
DESIGNATORS = frozenset({
    "platforms", "industries", "technologies", "technology", "tech", "labs", "laboratories",
    "ai", "inc", "corp", "corporation", "company", "co", "holdings", "holding", "group",
    "international", "enterprises", "incorporated", "worldwide", "global", "systems",
    "pharmaceuticals", "pharma", "therapeutics", "biosciences", "bio", "motors", "brands",
    "ltd", "limited", "llc", "plc", "ag", "se", "sa", "nv", "gmbh",
})
_CONNECTORS = frozenset({"of", "and", "&", "the", "for", "de", "du", "la"})
_SUFFIX_RE = re.compile(
    r"(?:,?\s+(?:" + "|".join(re.escape(s) for s in LEGAL_SUFFIXES) + r")\.?)+$", re.IGNORECASE
)
_POSSESSIVE_RE = re.compile(r"['\u2019]s?$")
_ARTICLE_RE = re.compile(r"^the\s+", re.IGNORECASE)
_SPACE_RE = re.compile(r"\s+")


@lru_cache(maxsize=65536)
def plain_name(surface: str) -> str:
    """The plain name of a surface form: no possessive, leading article or legal suffix.

    Idempotent: ``plain_name(plain_name(x)) == plain_name(x)``. Never returns an empty
    string for a non-empty input: a name that is nothing but a suffix stays as it is.
    """
    name = _SPACE_RE.sub(" ", unicodedata.normalize("NFKC", surface)).strip(" \t\n,;:\"()")
    previous = None
    while previous != name:
        previous = name
        stripped = _POSSESSIVE_RE.sub("", name) if len(name) > 3 else name
        stripped = _ARTICLE_RE.sub("", stripped)
        stripped = _SUFFIX_RE.sub("", stripped).strip(" ,;:\"()")
        if stripped and stripped[-1] == "." and not re.search(r"\b[A-Z]\.$", stripped):
            stripped = stripped[:-1]
        if stripped:
            name = stripped
    return name


def name_key(name: str) -> str:
    """The key two names must share to be the same party: case-folded plain name."""
    return re.sub(r"[\s.\-]+", " ", plain_name(name).casefold()).strip()


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[\s\-]+", name) if w]


def initials(name: str) -> str:
    """Initials of a multi-word name: "Advanced Micro Devices" -> "AMD"."""
    words = [w for w in _words(name) if w.casefold() not in _CONNECTORS]
    return "".join(w[0] for w in words if w[0].isalnum()).upper() if len(words) > 1 else ""


def is_acronym(name: str) -> bool:
    """A short all-capitals name such as "AMD" or "TSMC"."""
    letters = name.replace("&", "").replace(".", "")
    return 2 <= len(letters) <= 6 and letters.isalnum() and letters.isupper()


def extends(short: str, long: str) -> bool:
    """True if ``long`` is ``short`` plus designator words only ("Meta" -> "Meta Platforms")."""
    s, l = _words(short.casefold()), _words(long.casefold())
    if len(l) <= len(s) or l[: len(s)] != s:
        return False
    return all(w.strip(".,") in DESIGNATORS for w in l[len(s):])


def starts_name(short: str, long: str) -> bool:
    """True if ``long`` begins with all the words of ``short`` ("Korvan" / "Korvan Semiconductor")."""
    s, l = short.casefold().split(), long.casefold().split()
    return 0 < len(s) < len(l) and l[: len(s)] == s and not is_acronym(short)


def same_party(a: str, b: str, known: Mapping[str, str] | None = None) -> bool:
    """Whether two plain names denote one party in one document."""
    ka, kb = name_key(a), name_key(b)
    if ka == kb:
        return True
    if known and known.get(ka) is not None and known.get(ka) == known.get(kb):
        return True
    pa, pb = plain_name(a), plain_name(b)
    if is_acronym(pa) and initials(pb) == pa.replace("&", "").replace(".", ""):
        return True
    if is_acronym(pb) and initials(pa) == pb.replace("&", "").replace(".", ""):
        return True
    return extends(pa, pb) or extends(pb, pa)


def choose_canonical(counts: Mapping[str, int]) -> str:
    """The name the document most often writes in full.

    Full forms are those that are neither an acronym of nor the first words of another
    form of the party ("Advanced Micro Devices" over "AMD", "Korvan Semiconductor" over
    "Korvan"); among them the most frequent wins, then the longer, then alphabetical.
    """
    full = [n for n in counts
            if not any(o != n and (starts_name(n, o) or extends(n, o)
                                   or (is_acronym(n) and initials(o) == n.replace("&", "").replace(".", "")))
                       for o in counts)]
    return min(full or counts, key=lambda n: (-counts[n], -len(n), n))


def group_mentions(mentions: Iterable[Mention], known: Mapping[str, str] | None = None) -> list[Party]:
    """Group mentions into parties, each with one canonical name.

    ``known`` maps a :func:`name_key` to an identity shared by true aliases (from the
    organization list); it may be ``None``. The result does not depend on the order of
    ``mentions``; parties come in order of first mention.
    """
    mentions = sorted(set(mentions), key=lambda m: (m.start, m.end, m.text))
    by_key: dict[str, list[Mention]] = defaultdict(list)
    for mention in mentions:
        key = name_key(mention.text)
        if key:
            by_key[key].append(mention)
    # Union-find over the distinct keys, most frequent first so merges are stable.
    keys = sorted(by_key, key=lambda k: (-len(by_key[k]), k))
    parent = {k: k for k in keys}

    def find(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    def union(a: str, b: str) -> None:
        ra, rb = sorted((find(a), find(b)))
        parent[rb] = ra

    names = {k: plain_name(by_key[k][0].text) for k in keys}
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            if find(a) != find(b) and same_party(names[a], names[b], known):
                union(a, b)
    # A short form ("Korvan") joins the one longer party it starts ("Korvan Semiconductor")
    # unless it is a known organization of its own or several parties start with it.
    # Longer names first, so "Siam Orchid" has joined "Siam Orchid Hospitality" before
    # "Siam" looks for the parties it starts.
    for a in sorted(keys, key=lambda k: (-len(names[k]), k)):
        if known and a in known and not any(known.get(b) == known[a] for b in keys if b != a):
            continue
        longer = {find(b) for b in keys if b != a and starts_name(names[a], names[b])}
        longer.discard(find(a))
        if len(longer) == 1:
            union(a, longer.pop())
    groups: dict[str, list[Mention]] = defaultdict(list)
    for k in keys:
        groups[find(k)].extend(by_key[k])
    parties = []
    for members in groups.values():
        counts = Counter(plain_name(m.text) for m in members)
        parties.append(Party(choose_canonical(counts), tuple(sorted(members, key=lambda m: (m.start, m.end)))))
    return sorted(parties, key=lambda p: (p.mentions[0].start, p.name))
