"""Reading an employer's task message (bot/flows/job_parse.py) with the real NLU entities."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.flows.job_parse import forward_date, number, read
from nlu import Parser

MONDAY = dt.date(2026, 11, 23)


@pytest.mark.parametrize(("message", "expected"), [
    ("opslå job: havearbejde 3 timer fredag, 8000 Aarhus, 150 kr/time",
     {"title": "havearbejde", "hours": "3", "start": "2026-11-27", "end": "2026-11-27",
      "postcode": "8000", "pay": "150.00"}),
    ("opslå job: opvask 4 timer lørdag, 8200, 140 kr i timen, 2 personer",
     {"title": "opvask", "hours": "4", "start": "2026-11-28", "end": "2026-11-28",
      "postcode": "8200", "pay": "140.00", "places": "2"}),
    ("opslå job: male plankeværk, kun for vores egne folk, timeløn 160 kr, 6 timer fredag til "
     "søndag, 8210",
     {"title": "male plankeværk", "hours": "6", "start": "2026-11-27", "end": "2026-11-29",
      "postcode": "8210", "pay": "160.00", "audience": "own_list"}),
    # An amount without "i timen" is not taken as the hourly pay: the flow asks.
    ("jobopslag: havearbejde lørdag 4 timer 800 kr",
     {"title": "havearbejde", "hours": "4", "start": "2026-11-28", "end": "2026-11-28"}),
    # No "opslå job:" form: no title is guessed from a sentence.
    ("vi har et job til en med frikort", {}),
    # A decimal amount is no postcode.
    ("opslå job: lager 2 timer fredag 8000,50 kr",
     {"title": "lager", "hours": "2", "start": "2026-11-27", "end": "2026-11-27"}),
])
def test_reads_what_is_clearly_there(parser: Parser, message: str,
                                     expected: dict[str, str]) -> None:
    parsed = parser.parse(message, MONDAY)
    assert read(message, parsed["entities"], MONDAY) == expected


def test_a_weekday_means_the_next_one_but_yesterday_is_yesterday() -> None:
    assert forward_date("2026-11-20", "fredag", MONDAY) == dt.date(2026, 11, 27)
    assert forward_date("2026-11-22", "i går", MONDAY) == dt.date(2026, 11, 22)
    assert forward_date("2026-11-01", "1.11", MONDAY) == dt.date(2026, 11, 1)


@pytest.mark.parametrize(("raw", "value"), [
    ("3", "3"), ("2,5", "2.5"), ("150 kr", "150"), ("150,-", "150"), ("4 timer", "4"), ("ca. 3", "3"),
    ("0", None), ("-3", None), ("NaN", None), ("tre", None),
])
def test_bare_numbers(raw: str, value: str | None) -> None:
    found = number(raw)
    assert (str(found) if found is not None else None) == value
