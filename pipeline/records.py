"""Typed records passed between the stages, mirroring ``schema.md`` word for word.

Offsets are always character offsets into the article text, never token indices.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

#: The relations of the schema, in the schema's order.
RELATIONS: tuple[str, ...] = (
    "partners_with",
    "invests_in",
    "supplies",
    "licenses_to",
    "acquires",
    "owns",
    "competes_with",
)
#: Relations stored once, with ``head`` first in alphabetical order.
SYMMETRIC: frozenset[str] = frozenset({"partners_with", "competes_with"})
#: Directed relations: head -> tail.
DIRECTED: tuple[str, ...] = tuple(r for r in RELATIONS if r not in SYMMETRIC)
#: The relations scored together as "alliance".
ALLIANCE: frozenset[str] = frozenset({"partners_with", "invests_in", "supplies", "licenses_to"})
#: Label of a classifier negative.
NO_RELATION = "no_relation"


def alpha_key(name: str) -> str:
    """The key that orders symmetric triples: case-insensitive alphabetical order."""
    return name.casefold()


@dataclass(frozen=True)
class Article:
    """One input article. ``doc_id`` is stable across runs; ``source`` says where it came from."""

    doc_id: str
    text: str
    published: dt.date | None = None
    source: str = ""
    url: str | None = None


@dataclass(frozen=True)
class Mention:
    """A span of the article text that names an organization."""

    start: int
    end: int
    text: str
    label: str = "ORG"


@dataclass(frozen=True)
class Party:
    """One organization of one document: a canonical name and every mention of it."""

    name: str
    mentions: tuple[Mention, ...]

    @property
    def aliases(self) -> tuple[str, ...]:
        """The distinct surface forms, in order of first occurrence."""
        seen: dict[str, None] = {}
        for mention in self.mentions:
            seen.setdefault(mention.text, None)
        return tuple(seen)


@dataclass(frozen=True)
class Pair:
    """A candidate pair: two parties seen together in one window of sentences.

    ``a`` is the party whose mention comes first in the window; the model
    reads the window with ``a`` marked as E1 and ``b`` as E2.
    """

    a: Party
    b: Party
    a_mention: Mention
    b_mention: Mention
    window_start: int
    window_end: int


@dataclass(frozen=True)
class Triple:
    """One output row: a typed, sourced relation between two parties of one document."""

    doc_id: str
    head: str
    relation: str
    tail: str
    confidence: float
    evidence: str
    head_span: tuple[int, int]
    tail_span: tuple[int, int]
    published: dt.date | None = None
    source: str = ""
    model_version: str = ""

    def to_row(self) -> dict:
        """The record as a Parquet row (spans as ``{"start", "end"}`` structs)."""
        row = asdict(self)
        row["head_span"] = {"start": self.head_span[0], "end": self.head_span[1]}
        row["tail_span"] = {"start": self.tail_span[0], "end": self.tail_span[1]}
        return row


@dataclass
class Counters:
    """Counts that a run reports once instead of warning per record."""

    articles: int = 0
    empty: int = 0
    replaced_bytes: int = 0
    truncated: int = 0
    extra: dict[str, int] = field(default_factory=dict)
