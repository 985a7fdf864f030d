"""Plain Danish, measured: LIX, SMS segments and jargon of every rule answer, in every voice.

Targets (issue 12): a card holder's answer LIX <= 30, an employer's <= 38; a main answer fits in
two SMS, a MERE text in three; a jargon word (bot/data/jargon.da.yml) is replaced or explained in
the same sentence. Each failure names the answer, the variant and the figure, all at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from statistics import median

import pytest

from bot.knowledge import Answer, KnowledgeBase, load_knowledge, render
from bot.readability import jargon, lix, sentences, unexplained_jargon, words
from danish.wording import segments

CITIZEN_LIX = 30
EMPLOYER_LIX = 38
MAIN_SEGMENTS = 2
MORE_SEGMENTS = 3
# The longest values the bot sends (a demo cap carries its label).
VALUES = {
    "year": "2026", "cap": "142.766 kr. (demo-tal)", "cap_year": "2026",
    "latest_cap": "142.766 kr.", "latest_cap_year": "2025", "earned": "142.766,50 kr.",
    "remaining": "142.766,50 kr.", "municipality": "Ringkøbing-Skjern", "card_number": "48213",
}
NO_CAP = {k: v for k, v in VALUES.items() if k not in {"cap", "cap_year", "remaining"}}


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge()


def variants(answer: Answer) -> Iterator[tuple[str, bool, bool, str]]:
    """(label, for an employer, is a MERE text, message) for every text the answer can send."""
    askers = ["citizen", "employer"] if answer.employer is not None else ["citizen"]
    for asker in askers:
        employer_voice = asker == "employer" or answer.audience == "employer"
        personals = [None] if asker == "employer" else [None, *answer.personal]
        for personal in personals:
            for values, cap in ((VALUES, "cap"), (NO_CAP, "nocap")):
                for more in (False, True):
                    text = render(answer, values, more=more, personal=personal, asker=asker)
                    label = f"{answer.key} [{asker} {personal or 'general'} {cap}{' MERE' if more else ''}]"
                    yield label, employer_voice, more, text


def test_lix_of_every_answer(kb: KnowledgeBase) -> None:
    too_hard = []
    citizen_scores = []
    for answer in kb.answers():
        for label, employer, _more, text in variants(answer):
            score = lix(text)
            limit = EMPLOYER_LIX if employer else CITIZEN_LIX
            if not employer:
                citizen_scores.append(score)
            if score > limit:
                too_hard.append(f"{label}: LIX {score:.0f} > {limit}: {text}")
    assert not too_hard, "\n".join(too_hard)
    assert median(citizen_scores) <= CITIZEN_LIX


def test_sms_segments_of_every_answer(kb: KnowledgeBase) -> None:
    too_long = []
    for answer in kb.answers():
        for label, _employer, more, text in variants(answer):
            budget = MORE_SEGMENTS if more else MAIN_SEGMENTS
            if segments(text) > budget:
                too_long.append(f"{label}: {segments(text)} SMS > {budget}: {text}")
    assert not too_long, "\n".join(too_long)


def test_jargon_is_replaced_or_explained(kb: KnowledgeBase) -> None:
    unexplained = []
    for answer in kb.answers():
        for label, employer, _more, text in variants(answer):
            found = unexplained_jargon(text, for_employers=employer)
            if found:
                unexplained.append(f"{label}: {found}: {text}")
    assert not unexplained, "\n".join(unexplained)


# --------------------------------------------------------------------------- the measures


def test_lix_counts_words_sentences_and_long_words() -> None:
    # 2 sentences, 9 words, 2 long ("frikortet", "skattefri"): 9/2 + 100*2/9 = 26.7.
    assert lix("Lønnen på frikortet er skattefri. Du får den selv.") == pytest.approx(26.72, 0.01)
    # "kr." and numbers do not end sentences; a number is never a long word.
    assert len(sentences("Du kan tjene 42.766 kr. i 2026. Det er fint.")) == 2
    assert words("42.766 kr.") == ["42766", "kr"]
    assert lix("") == 0


def test_official_language_scores_far_above_plain_language() -> None:
    official = ("Indtægten fradrages ikke i forsørgelsesydelser eller andre indkomstafhængige "
                "offentlige ydelser, jf. lovens bestemmelser herom.")
    plain = "Du mister ikke din kontanthjælp. Lønnen bliver ikke trukket fra."
    assert lix(official) > 50 > CITIZEN_LIX > lix(plain)


def test_jargon_check_needs_the_explanation_in_the_same_sentence() -> None:
    assert unexplained_jargon("Lønnen trækkes ikke i din ydelse.") == ["ydelse"]
    assert unexplained_jargon("Lønnen trækkes ikke i din ydelse, fx kontanthjælp.") == []
    assert unexplained_jargon("Din ydelse er kontanthjælp? Nej.") == []
    assert unexplained_jargon("Kontanthjælp er fint. Din ydelse falder ikke.") == ["ydelse"]
    assert unexplained_jargon("Send det ikke til eIndkomst.", for_employers=True) == []
    assert unexplained_jargon("Send det ikke til eIndkomst.") == ["eindkomst"]


def test_jargon_list_covers_the_words_people_did_not_understand() -> None:
    listed = {entry.word for entry in jargon()}
    for word in ("forsørgelsesydelse", "fratrække", "skattepligtig", "eindkomst", "overenskomst",
                 "målgruppe", "satsregul", "handlekommune", "deaktiver", "ydelse"):
        assert word in listed
