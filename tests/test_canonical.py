"""Canonical party names: rules from schema.md and invariants (hypothesis)."""
from __future__ import annotations


import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.records import Mention
from pipeline.stages.canonical import choose_canonical, group_mentions, name_key, plain_name
from pipeline.stages.ner import known_organizations


@pytest.mark.parametrize("surface, plain", [
    ("Meta\u2019s", "Meta"),
    ("Meta's", "Meta"),
    ("the Pentagon", "Pentagon"),
    ("The Pentagon's", "Pentagon"),
    ("Anduril Industries", "Anduril Industries"),
    ("Apple Inc.", "Apple"),
    ("OpenAI Group PBC", "OpenAI"),
    ("Siemens Energy AG", "Siemens Energy"),
    ("Lumen & Pike Co.", "Lumen & Pike"),
    ("Reuters'", "Reuters"),
    ("U.S.", "U.S."),
    ("Inc.", "Inc"),
])
def test_plain_name(surface, plain):
    assert plain_name(surface) == plain


def mentions_of(*names: str) -> list[Mention]:
    out, pos = [], 0
    for name in names:
        out.append(Mention(pos, pos + len(name), name))
        pos += len(name) + 10
    return out


def groups(*names: str, known=None) -> dict[str, set[str]]:
    return {p.name: set(p.aliases) for p in group_mentions(mentions_of(*names), known)}


def test_acronym_and_full_name_are_one_party():
    assert groups("AMD", "Advanced Micro Devices", "AMD\u2019s") == {
        "Advanced Micro Devices": {"AMD", "Advanced Micro Devices", "AMD\u2019s"}}


def test_designator_extension_is_one_party():
    assert len(groups("Meta", "Meta Platforms", "Meta")) == 1
    assert len(groups("Anduril", "Anduril Industries")) == 1


def test_short_form_joins_its_one_longer_name():
    result = groups("Korvan Semiconductor Corp.", "Korvan", "Korvan-Aster Packaging", "KAP")
    assert result["Korvan Semiconductor"] == {"Korvan Semiconductor Corp.", "Korvan"}
    assert result["Korvan-Aster Packaging"] == {"Korvan-Aster Packaging", "KAP"}


def test_named_units_stay_separate_when_parent_is_known():
    result = groups("Google", "Google Cloud", "Google", known=known_organizations())
    assert set(result) == {"Google", "Google Cloud"}
    result = groups("Siemens", "Siemens Energy", known=known_organizations())
    assert set(result) == {"Siemens", "Siemens Energy"}


def test_known_aliases_merge():
    known = known_organizations()
    assert name_key("Nvidia") in known
    assert len(groups("Facebook", "Meta", known=known)) == 1


def test_canonical_prefers_full_form_then_frequency():
    assert choose_canonical({"AMD": 5, "Advanced Micro Devices": 1}) == "Advanced Micro Devices"
    assert choose_canonical({"Vexa": 3, "Vexa AI": 1}) == "Vexa AI"
    assert choose_canonical({"Orsted": 2, "Ørsted A/S": 1}) == "Orsted"


names = st.from_regex(r"(the )?[A-Z][a-z]{1,8}( [A-Z][a-z]{1,8}){0,2}( (Inc\.|Corp|AG|plc|Holdings))?('s)?",
                      fullmatch=True)


@given(names)
def test_plain_name_is_idempotent(name):
    once = plain_name(name)
    assert plain_name(once) == once
    assert once
    assert not once.endswith("'s") or len(once) <= 3


@settings(max_examples=60, deadline=None)
@given(st.lists(names, min_size=1, max_size=8), st.randoms())
def test_grouping_does_not_depend_on_mention_order(surfaces, rnd):
    mentions = mentions_of(*surfaces)
    shuffled = mentions[:]
    rnd.shuffle(shuffled)
    a = {(p.name, p.mentions) for p in group_mentions(mentions)}
    b = {(p.name, p.mentions) for p in group_mentions(shuffled)}
    assert a == b


@settings(max_examples=60, deadline=None)
@given(st.lists(names, min_size=1, max_size=8))
def test_every_mention_lands_in_exactly_one_party(surfaces):
    mentions = mentions_of(*surfaces)
    parties = group_mentions(mentions)
    grouped = [m for p in parties for m in p.mentions]
    assert sorted(grouped, key=lambda m: m.start) == sorted(set(mentions), key=lambda m: m.start)
    for party in parties:
        assert party.name == plain_name(party.name)
