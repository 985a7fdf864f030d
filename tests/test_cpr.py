"""CPR numbers in every spelling: one parser (`cpr`), used by the NLU, the ledger, the
application flow and the log filter, checked on a corpus of spellings that must be redacted
and look-alikes that must stay.

Before, "07 07 61 42 85" was accepted as a CPR number by the application flow but stored
verbatim, and en dashes, Unicode hyphens, the minus sign, full-width digits and dotted dates
were not redacted anywhere (issue 14, finding 2).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cpr
from api.logging_setup import Redactor
from db.errors import InvalidCpr
from db.vault import normalise_cpr
from nlu import extract_entities
from nlu import redact_cpr as nlu_redact
from staff.redaction import redact_cpr as console_redact

SPELLINGS = [
    # (text, the CPR number in it)
    ("0707614285", "0707614285"),
    ("070761-4285", "0707614285"),
    ("070761 4285", "0707614285"),
    ("070761 - 4285", "0707614285"),
    ("070761 / 4285", "0707614285"),
    ("070761.4285", "0707614285"),
    ("070761/4285", "0707614285"),
    ("070761\t4285", "0707614285"),
    ("070761-42 85", "0707614285"),
    ("07 07 61 42 85", "0707614285"),
    ("07 07 61 4285", "0707614285"),
    ("07 07 61-4285", "0707614285"),
    ("07-07-61-4285", "0707614285"),
    ("07-07-61-42-85", "0707614285"),
    ("07.07.61-4285", "0707614285"),
    ("07.07.61.4285", "0707614285"),
    ("07.07.61 4285", "0707614285"),
    ("07/07/61-4285", "0707614285"),
    ("070761\u20134285", "0707614285"),  # en dash
    ("070761\u20144285", "0707614285"),  # em dash
    ("070761\u20104285", "0707614285"),  # hyphen
    ("070761\u20114285", "0707614285"),  # non-breaking hyphen
    ("070761\u20124285", "0707614285"),  # figure dash
    ("070761\u22124285", "0707614285"),  # minus sign
    ("070761\ufe634285", "0707614285"),  # small hyphen-minus
    ("070761\uff0d4285", "0707614285"),  # full-width hyphen-minus
    ("\uff10\uff17\uff10\uff17\uff16\uff11\uff0d\uff14\uff12\uff18\uff15", "0707614285"),
    ("\uff10\uff17\uff10\uff17\uff16\uff11\uff14\uff12\uff18\uff15", "0707614285"),
    ("\u0660\u0667\u0660\u0667\u0666\u0661-\u0664\u0662\u0668\u0665", "0707614285"),
    ("070761\u00a04285", "0707614285"),  # no-break space
    ("070761\u202f4285", "0707614285"),  # narrow no-break space
    ("07\u200b0761-4285", "0707614285"),  # a zero-width space inside
    ("070761\u00ad-4285", "0707614285"),  # a soft hyphen
    ("mit cpr er 070761-4285", "0707614285"),
    ("CPR: 070761-4285.", "0707614285"),
    ("cpr nr. 0707614285, tak", "0707614285"),
    ("(07 07 61 42 85)", "0707614285"),
    ("cpr:0707614285", "0707614285"),
    ("ref0707614285", "0707614285"),
    ("070761-4285 12 timer", "0707614285"),
    ("mit cpr-nummer er 07.07.61-4285 ok", "0707614285"),
    ("290200-1234", "2902001234"),  # 29 February 2000
    ("311299-0000", "3112990000"),  # fails mod 11, still a CPR number
    ("01 01 90 12 34", "0101901234"),
]
LOOK_ALIKES = [
    "20 30 40 50", "+45 20 30 40 50", "+4520304050", "004520304050", "0045 20 30 40 50",
    "45 20 30 40 50", "4521436587", "+46 70 123 45 67", "+4501019012", "+45 01 01 90 12",
    "tlf. 31 42 53 64", "12345678", "CVR 31425360", "CVR-nr. 29183740", "frikort 48213",
    "48213 51736", "4 timer 600 kr frikort 48213", "600 kr", "1.250,50 kr", "42.766 kr.",
    "1.234.567,89 kr", "12.345.678.901", "2,5 t 375,-", "23.11.2026", "2026-11-23",
    "23-11-2026 kl 10.30", "01.02.2026 10.30", "07/07/1961", "kl. 14.30-16.45",
    "reg 1234 konto 1234567890", "1234 0101901234", "1234-0101901234", "konto 3213901234",
    "991399-1234", "300200-1234", "290201-1234", "0101901234567", "01019012345",
    "101901234", "010190-123", "010190-12345", "1 2 3 4 5 6 7 8 9 0",
    "uge 47 48 49 50 51", "ordre 2026112312", "postnr. 8000 Aarhus C", "EAN 5790000123456",
    "1234 5678 9012", "bot 7123456789:AAE-x",
]


def test_the_corpus_is_big_enough() -> None:
    assert len(SPELLINGS) >= 40 and len(LOOK_ALIKES) >= 40


@pytest.mark.parametrize(("text", "digits"), SPELLINGS, ids=[s for s, _ in SPELLINGS])
def test_every_spelling_is_redacted_everywhere(text: str, digits: str) -> None:
    redacted = cpr.redact_cpr(text)
    assert cpr.CPR_MASK in redacted
    folded, _ = cpr.fold(redacted)
    assert digits[:6] not in folded.replace(" ", "") and digits[6:] not in folded
    # The same function everywhere: the bot, the console and the log filter.
    assert nlu_redact(text) == console_redact(text) == redacted
    assert cpr.CPR_MASK in Redactor()(text)
    [entity] = [e for e in extract_entities(text) if e["entity"] == "cpr"]
    assert entity["value"] == digits


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_stay(text: str) -> None:
    assert cpr.redact_cpr(text) == text
    assert nlu_redact(text) == console_redact(text) == text
    assert cpr.CPR_MASK not in Redactor()(text)
    assert not [e for e in extract_entities(text) if e["entity"] == "cpr"]
    with pytest.raises(InvalidCpr):
        normalise_cpr(text)


@pytest.mark.parametrize(("text", "digits"), [(t, d) for t, d in SPELLINGS
                                              if cpr.parse_cpr(t) is not None])
def test_what_the_application_accepts_is_what_is_redacted(text: str, digits: str) -> None:
    """`normalise_cpr` is what the application flow uses to accept the answer."""
    assert normalise_cpr(text) == digits
    assert cpr.redact_cpr(text).strip() == cpr.CPR_MASK


def test_the_flow_accepts_the_issues_spellings() -> None:
    for text in ("07 07 61 42 85", "070761\u20134285", "07.07.61-4285",
                 "\uff10\uff17\uff10\uff17\uff16\uff11\uff0d\uff14\uff12\uff18\uff15"):
        assert normalise_cpr(text) == "0707614285"


_SEPARATORS = st.sampled_from(["", " ", "-", ".", "/", " - ", "\u2013", "\u2212", "\u00a0",
                               "\uff0d", "  ", "\t", "\u2011"])


@given(day=st.integers(1, 31), month=st.integers(1, 12), year=st.integers(0, 99),
       serial=st.integers(0, 9999), before=_SEPARATORS, between=_SEPARATORS,
       pairs=st.booleans(), padding=st.sampled_from(["", " ", "\u3000"]))
def test_whatever_is_accepted_is_redacted(day: int, month: int, year: int, serial: int,
                                          before: str, between: str, pairs: bool,
                                          padding: str) -> None:
    date = f"{day:02d}{between}{month:02d}{between}{year:02d}" if pairs \
        else f"{day:02d}{month:02d}{year:02d}"
    text = f"{padding}{date}{before}{serial:04d}{padding}"
    accepted = cpr.parse_cpr(text)
    if accepted is not None:
        assert cpr.redact_cpr(text).strip() == cpr.CPR_MASK
        assert accepted.endswith(f"{serial:04d}")


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_any_text_parsed_as_a_cpr_is_redacted_whole(text: str) -> None:
    if cpr.parse_cpr(text) is not None:
        assert cpr.redact_cpr(text).strip() == cpr.CPR_MASK
    assert cpr.redact_cpr(cpr.redact_cpr(text)) == cpr.redact_cpr(text)


def _found_without_shortcut(text: str) -> list[cpr.CprMatch]:
    """What `find_cprs` finds when every text is folded, as it was before the shortcut."""
    folded, origin = cpr.fold(text)
    return [cpr.CprMatch(*(m.span() if origin is None else
                           (origin[m.start()], origin[m.end() - 1] + 1)), digits)
            for m in cpr._CPR.finditer(folded) if (digits := cpr._digits(m)) is not None]


@pytest.mark.parametrize("text", [
    "mit cpr er 070761–4285, hvad så nu?",  # en dash, Danish letters
    "§ 3: født 07.07.61 – 4285 står der på kortet",
    "jeg hedder Søren og mit nr er ０７０７６１-４２８５",  # full-width digits: folded
    "ring på 12 34 56 78 9, så svarer Åse",  # nine digits: nothing
])
def test_the_digit_shortcut_finds_what_folding_finds(text: str) -> None:
    assert cpr.find_cprs(text) == _found_without_shortcut(text)


@given(st.text(alphabet=st.sampled_from(list("0123456789 -./æøå§–—…’€\t") + ["１", "٣", "㉑", "⑴"]),
               max_size=30))
def test_the_digit_shortcut_never_hides_a_number(text: str) -> None:
    assert cpr.find_cprs(text) == _found_without_shortcut(text)
