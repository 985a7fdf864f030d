"""The message composer: GSM-7 safety, SMS segments, Danish figures, and every reply text."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bot import texts
from bot.engine import Dialogue
from bot.messages import Reply
from danish.wording import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    danish_date,
    gsm7_safe,
    hours_text,
    kroner,
    kroner_whole,
    segments,
    septets,
    tidy,
)


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


@pytest.mark.parametrize(("raw", "safe"), [
    ("\u201cHej\u201d", '"Hej"'),
    ("Det\u2019s fint", "Det's fint"),
    ("\u201eanførsel\u201c", '"anførsel"'),
    ("9\u201317 \u2014 hverdage", "9-17 - hverdage"),
    ("Vent\u2026", "Vent..."),
    ("600\u00a0kr.", "600 kr."),
    ("\u00abcitat\u00bb", '"citat"'),
    ("Tak \U0001F600!", "Tak !"),
    ("Tak\U0001F44D", "Tak"),
    ("Æble, øl og å: ÆØÅ æøå é É ü", "Æble, øl og å: ÆØÅ æøå é É ü"),
    ("Pris: 5 € [ca.]", "Pris: 5 € [ca.]"),
    ("linje 1\nlinje 2", "linje 1 linje 2"),
    ("  mange   mellemrum ", "mange mellemrum"),
    ("\u200bskjult\u200d", "skjult"),
    ("tab\there", "tab here"),
])
def test_gsm7_safe(raw: str, safe: str) -> None:
    assert gsm7_safe(raw) == safe
    assert is_gsm7(gsm7_safe(raw))


def test_gsm7_safe_keeps_every_gsm7_character() -> None:
    printable = "".join(sorted((GSM7_BASIC | GSM7_EXTENSION) - set("\n\r ")))
    assert gsm7_safe(printable) == printable


def test_gsm7_safe_drops_every_non_gsm7_character() -> None:
    weird = "ĀčŁ€ñ中文ß\u2022\u00b0\u00bd"
    assert is_gsm7(gsm7_safe(weird))
    assert "€" in gsm7_safe(weird) and "ñ" in gsm7_safe(weird) and "ß" in gsm7_safe(weird)


@pytest.mark.parametrize(("length", "expected"), [
    (0, 1), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4),
])
def test_segments_plain(length: int, expected: int) -> None:
    assert segments("a" * length) == expected


def test_extension_characters_count_double() -> None:
    assert septets("€") == 2
    assert septets("[x]") == 5
    assert segments("€" * 80) == 1
    assert segments("€" * 81) == 2
    assert segments("æøå" * 53 + "a") == 1  # æøå are single septets in GSM-7


@pytest.mark.parametrize(("raw", "tidied"), [
    ("Du har tjent 600,00 kr..", "Du har tjent 600,00 kr."),
    ("Der er 1.703,50 kr.. tilbage.", "Der er 1.703,50 kr. tilbage."),
    ("600,00 kr. er indberettet.", "600,00 kr. er indberettet."),
    ("kr. kr..", "kr. kr."),
    ("Ingen beløb her.", "Ingen beløb her."),
])
def test_tidy_double_full_stop_after_kr(raw: str, tidied: str) -> None:
    assert tidy(raw) == tidied


def test_engine_finish_tidies_and_strips_buttons_on_sms() -> None:
    reply = Reply("Du indberetter 600,00 kr.. \u201cJA\u201d \U0001F44D", ("JA", "NEJ"))
    sms = Dialogue._finish(reply, "sms")
    assert sms.text == 'Du indberetter 600,00 kr. "JA"'
    assert sms.buttons == ()
    assert Dialogue._finish(reply, "telegram").buttons == ("JA", "NEJ")


@pytest.mark.parametrize(("ore", "shown", "whole"), [
    (0, "0,00 kr.", "0 kr."),
    (60000, "600,00 kr.", "600 kr."),
    (101250, "1.012,50 kr.", None),
    (4276600, "42.766,00 kr.", "42.766 kr."),
    (1, "0,01 kr.", None),
])
def test_danish_amounts(ore: int, shown: str, whole: str | None) -> None:
    assert kroner(ore) == shown
    if whole is not None:
        assert kroner_whole(ore) == whole
    assert is_gsm7(kroner(ore))


def test_danish_date_and_hours() -> None:
    assert danish_date(dt.date(2026, 11, 23)) == "23.11.2026"
    assert danish_date(dt.date(2026, 1, 5)) == "05.01.2026"
    assert hours_text(Decimal(1), "1 time", "{hours} timer") == "1 time"
    assert hours_text(Decimal("4"), "1 time", "{hours} timer") == "4 timer"
    assert hours_text(Decimal("4.00"), "1 time", "{hours} timer") == "4 timer"
    assert hours_text(Decimal("2.5"), "1 time", "{hours} timer") == "2,5 timer"
    assert hours_text(Decimal("0"), "1 time", "{hours} timer") == "0 timer"


# Every reply text in bot/texts/da.yml --------------------------------------------------------

SAMPLE = {"amount": "42.766,00 kr.", "pending": "42.766,00 kr.", "posted": "42.766,00 kr.",
          "remaining": "42.766,00 kr.", "cap": "42.766,00 kr.", "counted": "42.766,00 kr.",
          "over": "42.766,00 kr.", "earned": "42.766,00 kr.", "card": "48213", "year": "2026",
          "employer": "Havefirmaet Grøn Hånd ApS", "name": "Bageriet Krumme", "hours": "16 timer",
          "paid_on": "23.11.2026", "start": "23.11.2026", "date": "07.12.2026", "left": 4,
          "response_hours": 24,
          "demo": ", demo-tal", "pending_line": "", "question": "Hvad er frikortnummeret?",
          "reason": "Frikort 60417 er ikke aktivt.", "postcode": "9999", "id": 12345,
          "municipality": "Lolland Kommune", "days": 14, "cvr": "31425360",
          "names": "Frederiksberg, København", "rate": "1.000,00 kr.", "count": 3,
          "period": " Arbejdet er fra 01.11.2026 til 30.11.2026.", "cards": "48213 og 51736",
          "day": "23.11.2026", "end": "30.11.2026", "reported": "42.766,00 kr.",
          "url": "elov.dk/lov-om-socialt-frikort-ny/paragraf/6", "cpr": "modtaget",
          "benefit": "kontanthjælp", "contact": "gennem min hjælper",
          "helper": "Lise fra værestedet 20 20 20 20",
          "what": "frikort 48213, 42.766,00 kr., 16 timer",
          # small jobs (the jobs: section)
          "n": 3, "hours_short": "2,5", "title": "Bære varer ind fra lageret og feje gården",
          "town": "Kongens Lyngby", "where": "Bagindgangen, Café Solsikken, 8200 Aarhus N",
          "status": "Arbejdsgiveren har ikke bekræftet endnu. Du får besked her.",
          "when": "fre 27/11 til søn 29/11", "pay": "1.000 kr.", "number": 12345,
          "example": 12345, "task": 12345, "first_name": "Christian", "places": "20 personer,",
          "audience": "kun for jeres egen liste",
          # the phone line (voice:)
          "office": "Borgerservice i Lolland Kommune",
          "lines": "nr. 12345: Opvask i caféen ons 25/11. nr. 12346: Dele flyers ud på Nørrebro "
                   "tir 24/11 til man 30/11. nr. 12347: Feje gården og rydde op tor 26/11.",
          "people": "Christian (48213, Bære varer ind fra lageret), Mette (51736, Opvask i "
                    "caféen), Ali (60417, Dele flyers ud på Nørrebro)"}


@pytest.mark.parametrize("key", sorted(texts.keys()))
def test_every_reply_text_is_gsm7_and_fits_two_segments(key: str) -> None:
    raw = texts.template(key)
    assert is_gsm7(raw), f"{key}: {[c for c in raw if not is_gsm7(c)]}"
    filled = texts.text(key, **{k: SAMPLE[k] for k in texts.placeholders(key)})
    assert segments(filled) <= 2, f"{key} needs {segments(filled)} segments: {filled}"
    assert "{" not in filled and "}" not in filled, filled


@pytest.mark.parametrize("key", sorted(texts.keys()))
def test_reply_texts_have_no_stray_spacing(key: str) -> None:
    raw = texts.template(key)
    assert raw == raw.strip()
    for placeholder in texts.placeholders(key):
        assert placeholder in SAMPLE, f"add a sample value for {{{placeholder}}} ({key})"
