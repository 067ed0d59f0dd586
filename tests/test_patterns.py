"""Ownership stated in a set phrase between two names (``pipeline.stages.patterns``)."""
from __future__ import annotations

import pytest

from pipeline.records import Mention, Party
from pipeline.stages.patterns import ownership_statements


def parties_of(text, *names):
    out = []
    for name in names:
        start = text.index(name)
        out.append(Party(name, (Mention(start, start + len(name), name),)))
    return out


@pytest.mark.parametrize("text, parent, unit", [
    ("players such as DeepMind (a subsidiary of Alphabet), OpenAI and Colossus", "Alphabet", "DeepMind"),
    ("Grayloch Security, a wholly owned subsidiary of Aldmere Systems, said", "Aldmere Systems", "Grayloch Security"),
    ("Amazon's cloud division AWS signed the deal", "Amazon", "AWS"),
    ("Hallam\u2019s mortgage unit, Hallam Homes, keeps its processor", "Hallam", "Hallam Homes"),
    ("Sony-owned Crunchyroll dominates the market", "Sony", "Crunchyroll"),
    ("Northrop Grumman, whose SpaceLogistics subsidiary builds tugs", "Northrop Grumman", "SpaceLogistics"),
])
def test_set_phrases_state_ownership(text, parent, unit):
    found = ownership_statements(text, parties_of(text, parent, unit))
    assert [(p, u) for p, u, *_ in found] == [(parent, unit)]


@pytest.mark.parametrize("text, names", [
    ("Korvan, a supplier of Ostra Motors, said", ("Korvan", "Ostra Motors")),        # a supplier, not a unit
    ("Lumen's rival Ostra Motors said", ("Lumen", "Ostra Motors")),
    ("Vexa AI, a unit of Prixa and Kornmarkt", ("Vexa AI", "Kornmarkt")),            # not adjacent
    ("Prixa-backed Loyalo raised money", ("Prixa", "Loyalo")),                      # backing is no ownership
])
def test_other_phrases_state_nothing(text, names):
    assert ownership_statements(text, parties_of(text, *names)) == []
