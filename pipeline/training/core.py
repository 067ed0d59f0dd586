"""CORE (Borchert et al., EMNLP 2023; CC BY 4.0) as extra classifier examples.

CORE is read from a path given by the user (``--core DIR`` holding ``train.json``); it
is never copied into this repository. Its labels map onto ``schema.md`` as follows
(the relation is described for ``(e1, e2)`` in order of occurrence; ``invert_relation``
1 means it holds for ``(e2, e1)``):

=====================  =========================================================
CORE                   schema
=====================  =========================================================
collaboration          ``partners_with``
competitor_of          ``competes_with``
acquired_by(a, b)      b ``acquires`` a
subsidiary_of(a, b)    b ``owns`` a
shareholder_of(a, b)   a ``invests_in`` b
client_of(a, b)        b ``supplies`` a
traded_on, regulated_by  ``no_relation`` (an exchange or regulator is not a partner)
merged_with, undefined, product_or_service_of, brand_of   left out (no clean mapping)
=====================  =========================================================
"""
from __future__ import annotations

import json
from pathlib import Path

from pipeline.errors import InputError
from pipeline.stages.relations import label_of, mark
from pipeline.training.examples import Example

# CORE label -> (schema relation, whether the CORE subject is the schema head)
MAPPING: dict[str, tuple[str, bool] | None] = {
    "collaboration": ("partners_with", True),
    "competitor_of": ("competes_with", True),
    "acquired_by": ("acquires", False),
    "subsidiary_of": ("owns", False),
    "shareholder_of": ("invests_in", True),
    "client_of": ("supplies", False),
    "traded_on": None,
    "regulated_by": None,
}


def core_example(rec: dict) -> Example | None:
    """One CORE record as a classifier example, or None when its label has no mapping."""
    label = rec["relation"]
    if label not in MAPPING:
        return None
    tokens = rec["context"]
    starts, pos = [], 0
    for token in tokens:
        starts.append(pos)
        pos += len(token) + 1
    text = " ".join(tokens)

    def span(first: int, last: int) -> tuple[int, int]:
        return starts[first], starts[last] + len(tokens[last])

    e1, e2 = span(rec["e1_start"], rec["e1_end"]), span(rec["e2_start"], rec["e2_end"])
    if e2[0] < e1[0]:  # keep E1 the first mention in the text
        e1, e2 = e2, e1
        inverted = not rec.get("invert_relation", 0)
    else:
        inverted = bool(rec.get("invert_relation", 0))
    marked = mark(text, 0, len(text), [e1], [e2], max_chars=len(text) + 1)
    labels = []
    if MAPPING[label] is not None:
        relation, subject_is_head = MAPPING[label]
        subject_is_e1 = not inverted
        labels = [label_of(relation, subject_is_e1 == subject_is_head)]
    return Example(f"core:{rec['id']}", text[e1[0]:e1[1]], text[e2[0]:e2[1]], marked.text, marked.e1,
                   marked.e2, labels, (0, len(text)))


def read_core(directory: str | Path, split: str = "train") -> list[Example]:
    """Mapped examples from ``DIR/<split>.json``."""
    path = Path(directory) / f"{split}.json"
    if not path.exists():
        raise InputError(f"{path}: no such file; --core takes the CORE directory holding train.json")
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not valid JSON ({e.msg})") from e
    return [ex for ex in (core_example(r) for r in records) if ex is not None]
