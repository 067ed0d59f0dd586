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
from collections.abc import Iterable, Iterator, Mapping, Sequence
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
#: Invisible format characters scraped text carries inside words (soft hyphen, zero-width
#: space and joiners, word joiner, byte-order mark, direction marks): not part of a name.
_INVISIBLE_RE = re.compile("[\u00ad\u200b-\u200f\u2060\ufeff]")


@lru_cache(maxsize=65536)
def plain_name(surface: str) -> str:
    """The plain name of a surface form: no possessive, leading article or legal suffix.

    Idempotent: ``plain_name(plain_name(x)) == plain_name(x)``. Never returns an empty
    string for a non-empty input: a name that is nothing but a suffix stays as it is.
    """
    name = _SPACE_RE.sub(" ", unicodedata.normalize("NFKC", _INVISIBLE_RE.sub("", surface))).strip(" \t\n,;:\"()")
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


def _letters(name: str) -> str:
    return name.replace("&", "").replace(".", "")


def is_acronym(name: str) -> bool:
    """A short all-capitals name such as "AMD" or "TSMC"."""
    letters = _letters(name)
    return 2 <= len(letters) <= 6 and letters.isalnum() and letters.isupper()


def abbreviates(acronym: str, spelled: str) -> bool:
    """Whether ``acronym`` is an acronym made of the initials ``spelled`` ("AMD", "AMD")."""
    return is_acronym(acronym) and _letters(acronym) == spelled


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
    return abbreviates(pa, initials(pb)) or abbreviates(pb, initials(pa)) or extends(pa, pb) or extends(pb, pa)


def choose_canonical(counts: Mapping[str, int]) -> str:
    """The name the document most often writes in full.

    Full forms are those that are neither an acronym of nor the first words of another
    form of the party ("Advanced Micro Devices" over "AMD", "Korvan Semiconductor" over
    "Korvan"), nor a short all-capitals form (a ticker such as "CRVN") beside a written-out
    one; among them the most frequent wins, then the longer, then alphabetical.
    """
    full = [n for n in counts
            if not any(o != n and (starts_name(n, o) or extends(n, o)
                                   or abbreviates(n, initials(o)))
                       for o in counts)]
    written_out = [n for n in full if not is_acronym(n)]
    return min(written_out or full or counts, key=lambda n: (-counts[n], -len(n), n))


#: A heading line: short, without the final punctuation of a sentence.
_HEADING_WORDS = 12


def in_heading(text: str, start: int) -> bool:
    """Whether ``start`` lies on a heading line (a title, subheading or label, not prose)."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line = text[line_start:line_end if line_end >= 0 else len(text)].strip()
    return len(line.split()) <= _HEADING_WORDS and not re.search(r"[.!?;\"\u201d\u2019']$", line)


def _title_end(text: str) -> int:
    """Where a headline on the article's first line ends (0 if the first line is prose)."""
    end = text.find("\n")
    if end < 0:
        return 0
    return end if not re.search(r"[.!?;:\"\u201d]$", text[:end].strip()) else 0


def ends_name(short: str, long: str) -> bool:
    """True if ``long`` ends with all the words of ``short`` ("Almaz\u00e1n" / "Grupo Almaz\u00e1n",
    "Commission" / "European Commission")."""
    s, l = short.casefold().split(), long.casefold().split()
    return 0 < len(s) < len(l) and l[-len(s):] == s and not is_acronym(short)


def as_written(surface: str) -> str:
    """A surface form without possessive or leading article, legal suffix kept."""
    return _ARTICLE_RE.sub("", _POSSESSIVE_RE.sub("", surface.strip()))


def surface_initials(surface: str) -> str:
    """Initials of a name as written, legal suffix included: "Kafue Copper Holdings" -> "KCH",
    "Bharat Petroleum Corp Ltd" -> "BPCL"."""
    return initials(as_written(surface).replace(",", " "))


# "Orbital Commerce Inc. (NASDAQ: ORBC)", "Kenya Electricity Generating Company (KenGen)",
# "Orbis shares (NASDAQ: ORBS)": a parenthesis right after a name that holds nothing but
# another name (an exchange prefix aside) defines an alias; so does "X, better known as Y"
# and an acronym's apposition that is nothing but a name ("KPPU, the Business Competition
# Supervisory Commission, ...").
_DEFINED_ALIAS_RES = (
    re.compile(r"(?:,?\s+(?:" + "|".join(re.escape(s) for s in LEGAL_SUFFIXES) + r")\.?)*"
               r"(?:\s+(?:shares|stock))?(?:\s*\([^()]{1,40}\))?\s*\(\s*(?:[A-Za-z][\w .-]{0,20}:\s*)?"
               r"[\"\u201c]?(?P<alias>[^()\"\u201c\u201d:]{1,40}?)[\"\u201d]?\s*\)", re.IGNORECASE),
    re.compile(r",\s+(?:(?:also|better|formerly|previously)\s+)?known\s+as\s+(?P<alias>\S)"),
    re.compile(r",\s+the\s+(?P<alias>\S)"),
)


def defined_aliases(text: str, mentions: Sequence[Mention]) -> Iterator[tuple[Mention, Mention]]:
    """Pairs of mentions the text defines as one organization (see ``_DEFINED_ALIAS_RES``)."""
    at = {m.start: m for m in mentions}
    for mention in mentions:
        for pattern in _DEFINED_ALIAS_RES:
            found = pattern.match(text, mention.end)
            other = at.get(found.start("alias")) if found else None
            if other is None:
                continue
            if pattern is _DEFINED_ALIAS_RES[2] and not (
                    re.match(r"\s*[,;.)]", text[other.end:other.end + 2])
                    and (is_acronym(plain_name(mention.text)) or is_acronym(plain_name(other.text)))):
                continue  # a list ("Edinburgh University, the Kerrigan Institute, ...") or a description
            yield mention, other


#: Between a unit's name and its parent's short name in one sentence: "Lumencart Media, the
#: retail-media arm of Dutch online grocer Lumencart", "Nucera, a unit majority-owned by Nucor".
_UNIT_OF_PARENT = re.compile(r"\b(?:(?:subsidiary|unit|division|arm|affiliate)\s+of|owned\s+by)\s+(?:the\s+)?"
                             r"(?:[\w-]+\s+){0,4}$")


def stated_apart(text: str, mentions: Sequence[Mention]) -> set[frozenset[str]]:
    """Keys of names the text itself calls a unit and its parent (:data:`_UNIT_OF_PARENT`
    between two mentions, no sentence end between): they are two parties even where one
    name begins the other."""
    apart = set()
    for i, first in enumerate(mentions):
        for second in mentions[i + 1:]:
            if second.start - first.end > 120:
                break
            gap = text[first.end:second.start]
            if not re.search(r"[.;!?]\s|\n", gap) and _UNIT_OF_PARENT.search(gap):
                a, b = name_key(first.text), name_key(second.text)
                if a and b and a != b:
                    apart.add(frozenset((a, b)))
    return apart


def group_mentions(mentions: Iterable[Mention], known: Mapping[str, str] | None = None,
                   text: str | None = None) -> list[Party]:
    """Group mentions into parties, each with one canonical name.

    ``known`` maps a :func:`name_key` to an identity shared by true aliases (from the
    organization list); it may be ``None``. ``text``, the article, lets the rules see
    parenthesized aliases ("Kenya Electricity Generating Company (KenGen)") and which
    mentions stand in headings. The result does not depend on the order of
    ``mentions``; parties come in order of first mention.

    A short form ("Korvan", "Almaz\u00e1n") is taken for the longer name it abbreviates
    ("Korvan Semiconductor", "Grupo Almaz\u00e1n") only when the article has introduced that
    name before it (headings aside): news names an organization in full first, so a short
    form written earlier is an organization of its own ("Prixa" before "Prixa Ventures").
    Of several such names the earliest wins (the parent introduced before its units);
    a short form the article also writes with a designator or legal suffix ("Brightpath
    Group") is an organization of its own too, and so is one the text calls the longer
    name's parent ("Lumencart Media, the retail-media arm of Dutch online grocer Lumencart").
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
    spelled = {k: {surface_initials(m.text) for m in by_key[k]} - {""} for k in keys}

    def acronym_of(a: str, b: str) -> bool:
        return any(abbreviates(names[a], form) for form in spelled[b])

    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            if find(a) != find(b) and (same_party(names[a], names[b], known)
                                       or acronym_of(a, b) or acronym_of(b, a)):
                union(a, b)
    if text is not None:
        for mention, other in defined_aliases(text, mentions):
            if name_key(mention.text) and name_key(other.text):
                union(name_key(mention.text), name_key(other.text))
    apart = stated_apart(text, mentions) if text is not None else set()
    title_end = _title_end(text) if text is not None else 0
    body = {k: [m.start for m in by_key[k]
                if text is None or not (m.start < title_end or in_heading(text, m.start))] for k in keys}

    def first(root: str, in_body: bool = True) -> float:
        """Where the party of ``root`` is first named (in the body: never if only in headings)."""
        starts = [s for k in keys if find(k) == root for s in (body[k] if in_body else [m.start for m in by_key[k]])]
        return min(starts) if starts else float("inf")

    def written_longer(a: str) -> bool:
        """Whether the document also writes ``a`` with designators or a legal suffix."""
        words = len(_words(names[a]))
        return (any(extends(names[a], names[k]) for k in keys if find(k) == find(a))
                or any(len(_words(as_written(m.text))) > words
                       for m in by_key[a]))

    # A short form joins the longer party it abbreviates unless it is a known
    # organization of its own. Longer names first, so "Siam Orchid" has joined
    # "Siam Orchid Hospitality" before "Siam" looks for the parties it starts.
    for a in sorted(keys, key=lambda k: (-len(names[k]), k)):
        if known and a in known and not any(known.get(b) == known[a] for b in keys if b != a):
            continue
        longer = {find(b) for b in keys if b != a
                  and (starts_name(names[a], names[b]) or ends_name(names[a], names[b]))}
        longer.discard(find(a))
        if not longer or written_longer(a):
            continue
        own = first(find(a))
        earlier = sorted((at, r) for r in longer if (at := first(r, False)) < own
                         and not any(frozenset((a, b)) in apart for b in keys if find(b) == r))
        if earlier:
            union(a, earlier[0][1])
    groups: dict[str, list[Mention]] = defaultdict(list)
    for k in keys:
        groups[find(k)].extend(by_key[k])
    parties = []
    for members in groups.values():
        counts = Counter(plain_name(m.text) for m in members)
        parties.append(Party(choose_canonical(counts), tuple(sorted(members, key=lambda m: (m.start, m.end)))))
    return sorted(parties, key=lambda p: (p.mentions[0].start, p.name))
