"""Crisis detection from the Danish phrase lists (bot/data/crisis.da.yml).

Decisions, written down so they can be argued with:
- Err on the side of matching. A false alarm costs a caring reply and a caseworker's look; a
  miss can cost a life. So "jeg vil dø" matches even when it might be a figure of speech.
- Ordinary Danish idioms that only look alarming do not match: "jeg dør af grin",
  "det slår mig at ...", "dræbende kedeligt", "jeg vil gerne lave mere". Short words (up to four
  letters, like "dø"/"do") must match exactly, so "jeg gider ikke" never becomes "dø".
- Typos: one wrong, missing, extra or swapped letter in a word of five letters or more, and
  æ/ø/å typed as ae/oe/aa or a/o/a.
- The phrase patterns never depend on the intent classifier; a dedicated crisis classifier may
  add to them, never take away. A crisis message is answered the same in any state (tested end
  to end in the crisis_* scenarios). tests/bot/test_crisis_corpus.py holds the big corpus.
"""

from __future__ import annotations

import pytest

from bot.crisis import crisis_kind, is_frustrated
from bot.textmatch import contains_phrase, fold
from tests.bot.conftest import crisis_classifier

CRISES = [
    # suicide
    ("jeg vil ikke leve mere", "suicide"),
    ("Jeg vil ikke leve længere.", "suicide"),
    ("jeg tænker på selvmord", "suicide"),
    ("jeg tanker paa selvmord", "suicide"),
    ("jeg tænker på selvmrod", "suicide"),        # swapped letters
    ("jeg tænker på selvmor", "suicide"),         # a letter missing
    ("SELVMORD", "suicide"),
    ("jeg vil tage mit eget liv", "suicide"),
    ("jeg vil slå mig selv ihjel", "suicide"),
    ("jeg vil slaa mig selv ihjl", "suicide"),
    ("jeg vil sla mig selv ihjel", "suicide"),
    ("jeg har tænkt på at tage livet af mig", "suicide"),
    ("jeg orker ikke at leve mere", "suicide"),
    ("jeg har ikke lyst til at leve", "suicide"),
    ("jeg har det så dårligt at jeg vil dø", "suicide"),
    ("jeg vil gøre en ende på det hele", "suicide"),
    ("jeg vil hænge mig", "suicide"),
    ("I want to kill myself", "suicide"),
    ("jeg vil dræbe mig selv 😢", "suicide"),
    # self-harm
    ("jeg skærer i mig selv igen", "self_harm"),
    ("jeg skaerer i mig selv", "self_harm"),
    ("jeg cutter mig", "self_harm"),
    ("jeg har lyst til at skade mig selv", "self_harm"),
    # overdose
    ("jeg har taget en overdosis", "overdose"),
    ("jeg har taget for mange piller", "overdose"),
    ("jeg har taget for mange piler", "overdose"),
    ("jeg har slugt alle pillerne", "overdose"),
    # violence
    ("han slår mig", "violence"),
    ("han slaar mig og jeg tør ikke gå hjem", "violence"),
    ("jeg bliver slået derhjemme", "violence"),
    ("han har en kniv", "violence"),
    ("min far truer med at slå mig ihjel", "violence"),
    ("jeg er blevet voldtaget", "violence"),
    ("jeg er bange for at han dræber mig", "violence"),
]

# Realistic crisis messages the phrase list does not catch yet (bot/data/crisis.da.yml is not
# ours to edit; reported). Strict: when a phrase is added, the test says so.
# Phrases once missing from the list (found by review); kept so they stay covered.
ADDED_AFTER_REVIEW = [
    ("min kæreste slår mig", "violence"),
    ("min mand slår mig", "violence"),
    ("jeg har lyst til at dø", "suicide"),
    ("jeg vil bare dø", "suicide"),
    ("jeg vil ikke være her mere", "suicide"),
    ("jeg har skåret mig", "self_harm"),
    ("jeg bliver truet med en kniv", "violence"),
]

ORDINARY = [
    "jeg vil gerne lave mere",
    "jeg vil gerne arbejde mere",
    "jeg dør af grin",
    "jeg døde næsten af grin",
    "det slår mig at det er svært",
    "han slår græsset hver uge",
    "dræbende kedeligt job",
    "kan jeg skære brød i køkkenet",
    "mine piller er på apoteket",
    "jeg har taget mange timer",
    "jeg vil afslutte mit job",
    "slå op i telefonbogen",
    "jeg gider ikke",
    "hvor meget må jeg tjene",
    "skal jeg betale skat",
    "indberet 4 timer 600 kr frikort 48213",
    "Det var så lidt",
    "jeg er træt af at vente",
    "min chef slår altid på tromme for frikortet",
    # "vagter" (shifts) is one letter from "vågner", and "tage en masse vagter op" then read
    # as "vågner op" (an employer asking about the cap before Christmas).
    "jens vil gerne tage en masse vagter op til jul",
    "kan i ikke bare slå mig op, mit navn er Ali Hassan",  # look me up, not hit me
    "",
]


@pytest.mark.parametrize(("message", "kind"), CRISES)
def test_crisis_phrases(message: str, kind: str) -> None:
    assert crisis_kind(message) == kind


@pytest.mark.parametrize(("message", "kind"), ADDED_AFTER_REVIEW)
def test_phrases_added_after_review(message: str, kind: str) -> None:
    assert crisis_kind(message) == kind


@pytest.mark.parametrize("message", ORDINARY)
def test_no_false_alarm_on_ordinary_messages(message: str) -> None:
    assert crisis_kind(message) is None


def test_every_kind_has_patterns_and_a_reply() -> None:
    from bot import crisis
    from bot.texts import keys

    for kind in crisis.KINDS:
        assert crisis_kind(CRISES_BY_KIND[kind]) == kind, kind
        assert f"crisis.{kind}" in keys() and f"crisis.{kind}_other" in keys()


CRISES_BY_KIND = {"suicide": "jeg vil ikke leve mere", "self_harm": "jeg skærer i mig selv",
                  "overdose": "jeg har taget en overdosis", "violence": "han slår mig",
                  "cold": "sover ude i nat og der er minus 8",
                  "medical": "jeg er faldet og kan ikke komme op, det gør ondt i brystet",
                  "hunger": "har ikke spist i fire dage og jeg giver op"}


@pytest.mark.parametrize(("text", "phrase", "expected"), [
    ("jeg taenker paa selvmord", "selvmord", True),
    ("selvmorrd", "selvmord", True),      # an extra letter
    ("selvmrod", "selvmord", True),       # swapped neighbours
    ("slevmrod", "selvmord", False),      # two swaps: too far
    ("jeg dør af grin", "vil dø", False),  # short words must match exactly: dør is not dø
    ("vil ikke leve", "vil ikke leve mere", False),  # the whole phrase, in order
    ("leve mere ikke vil", "vil ikke leve mere", False),
])
def test_contains_phrase(text: str, phrase: str, expected: bool) -> None:
    assert contains_phrase(fold(text), fold(phrase)) is expected


@pytest.mark.parametrize(("text", "folded"), [
    ("Jeg TÆNKER på selvmord!!", "jeg tanker pa selvmord"),
    ("jeg taenker paa", "jeg tanker pa"),
    ("Slå mig selv ihjel 😢", "sla mig selv ihjel"),
    ("  ø  ", "o"),
])
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


@pytest.mark.parametrize(("message", "frustrated"), [
    ("det virker ikke", True),
    ("dumme robot", True),
    ("du forstår ikke hvad jeg skriver", True),
    ("fuck det her", True),
    ("hvor meget må jeg tjene", False),
    ("tak for hjælpen", False),
    ("det virker fint", False),
])
def test_frustration(message: str, frustrated: bool) -> None:
    assert is_frustrated(message) is frustrated


@pytest.mark.parametrize("message", ["og ali", "og mette?", "ali"])
def test_the_classifier_does_not_judge_two_words(message: str) -> None:
    """A follow-up naming someone ("og ali") was scored as sleeping out in frost; messages of
    fewer than three words are left to the phrase patterns."""
    assert crisis_kind(message, crisis_classifier()) is None


@pytest.mark.parametrize("message,kind", [("vil dø", "suicide"), ("hjælp overdosis", "overdose")])
def test_short_crises_are_still_seen_by_the_phrases(message: str, kind: str) -> None:
    assert crisis_kind(message, crisis_classifier()) == kind


def test_pattern_escapes_keep_their_case() -> None:
    """Folding a pattern lowercases its letters, not its escapes: \\W is not \\w."""
    from bot.crisis import _fold_letters

    assert _fold_letters(r"Farvel\W.*\bKommer \S Ø") == r"farvel\W.*\bkommer \S o"
