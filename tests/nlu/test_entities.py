"""Every extractor on Danish cases; the reference day is Monday 23 November 2026."""

from __future__ import annotations

import datetime as dt

import pytest

from nlu import extract_entities, join_spelled_card_numbers, redact_cpr
from nlu.entities.dates import resolve_day_month
from nlu.entities.ids import is_cpr_like
from tests.nlu.conftest import MONDAY


def values(text: str, entity: str, today: dt.date = MONDAY) -> list[str]:
    return [e["value"] for e in extract_entities(text, today) if e["entity"] == entity]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("600 kr", "600.00"),
        ("1.250,50 kr.", "1250.50"),
        ("kr 600", "600.00"),
        ("kr. 1.250,50", "1250.50"),
        ("600,-", "600.00"),
        ("600kr", "600.00"),
        ("600 kroner", "600.00"),
        ("600 DKK", "600.00"),
        ("1250.50 kr", "1250.50"),
        ("20 000 kr", "20000.00"),
        ("seks hundrede kroner", "600.00"),
        ("tusind kr", "1000.00"),
        ("to tusind kroner", "2000.00"),
        ("femogtyve kr", "25.00"),
        ("20 tusind", "20000.00"),
        ("må jeg tjene mere end 20.000", "20000.00"),
        ("har tjent 3000 i år", "3000.00"),
        ("fik 450 for det", "450.00"),
        ("lønnen var 650,50 kr", "650.50"),
    ],
)
def test_amount(text: str, expected: str) -> None:
    assert values(text, "amount") == [expected]


@pytest.mark.parametrize(
    "text", ["tusind tak", "hvor meget må jeg tjene", "i 2026", "frikort 48213", "kl 14.30"]
)
def test_no_amount(text: str) -> None:
    assert values(text, "amount") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4 timer", "4"),
        ("2,5 t", "2.5"),
        ("2.5 timer", "2.5"),
        ("4t", "4"),
        ("1 time", "1"),
        ("halvanden time", "1.5"),
        ("en halv time", "0.5"),
        ("1/2 time", "0.5"),
        ("1½ time", "1.5"),
        ("to og en halv time", "2.5"),
        ("8 og en halv time", "8.5"),  # was 0.5: only "en halv time" was read
        ("han arbejdede 3 og en halv time i går", "3.5"),
        ("fire timer", "4"),
        ("30 min", "0.5"),
        ("4 timer og 30 min", "4.5"),
        ("tre kvarter", "0.75"),
        ("maa jeg arbejde 10 timer om ugen", "10"),
    ],
)
def test_hours(text: str, expected: str) -> None:
    assert values(text, "hours") == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "hvad er 225 timers reglen",
        "225-timers-reglen",
        "the 225-hour rule",
        "hvor mange timer må jeg",
        "4 til 5",
    ],
)
def test_no_hours(text: str) -> None:
    assert values(text, "hours") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("i dag", "2026-11-23"),
        ("idag", "2026-11-23"),
        ("i går", "2026-11-22"),
        ("igaar", "2026-11-22"),
        ("i forgårs", "2026-11-21"),
        ("mandag", "2026-11-23"),  # a plain weekday is on or before today
        ("fredag", "2026-11-20"),
        ("i mandags", "2026-11-16"),  # "i mandags" is strictly before today
        ("sidste tirsdag", "2026-11-17"),
        ("på fredag", "2026-11-27"),
        ("lørdag", "2026-11-21"),
        ("soendag", "2026-11-22"),
        ("20/11", "2026-11-20"),
        ("20/11-2026", "2026-11-20"),
        ("20.11.26", "2026-11-20"),
        ("20. november", "2026-11-20"),
        ("20 nov", "2026-11-20"),
        ("d. 3.12", "2026-12-03"),  # 10 days ahead: within the window
        ("d.3/12", "2026-12-03"),
        ("den 1. oktober", "2026-10-01"),
        ("2026-11-20", "2026-11-20"),
        ("mandag d. 16/11", "2026-11-16"),
    ],
)
def test_date(text: str, expected: str) -> None:
    assert values(text, "date") == [expected]


@pytest.mark.parametrize(
    ("day", "month", "today", "expected"),
    [
        (20, 12, dt.date(2027, 1, 5), dt.date(2026, 12, 20)),  # last December, not next
        (2, 1, dt.date(2026, 12, 28), dt.date(2027, 1, 2)),  # five days ahead
        (31, 2, MONDAY, None),
        (29, 2, dt.date(2028, 3, 1), dt.date(2028, 2, 29)),
        (29, 2, dt.date(2027, 3, 1), None),  # no 29 February within reach
    ],
)
def test_resolve_day_month(day: int, month: int, today: dt.date, expected: dt.date | None) -> None:
    assert resolve_day_month(day, month, today) == expected


@pytest.mark.parametrize("text", ["kl. 14.30", "2,5 t", "31/2", "4 timer"])
def test_no_date(text: str) -> None:
    assert values(text, "date") == []


@pytest.mark.parametrize(
    ("text", "entity", "expected"),
    [
        ("frikort 48213", "card_number", "48213"),
        ("kort nr. 51234", "card_number", "51234"),
        ("48213", "card_number", "48213"),
        ("cvr 13585628", "cvr", "13585628"),
        ("13585628", "cvr", "13585628"),  # mod-11 valid and no phone cue
        ("+45 12 34 56 78", "phone", "+4512345678"),
        ("+4520304050", "phone", "+4520304050"),
        ("0045 20304050", "phone", "+4520304050"),
        ("12345678", "phone", "+4512345678"),  # fails mod 11, so it is a phone number
        ("tlf 13585628", "phone", "+4513585628"),  # the cue beats the checksum
        ("1234 5678", "phone", "+4512345678"),
        ("010190-1234", "cpr", "0101901234"),
        ("0101901234", "cpr", "0101901234"),
        ("010190 1234", "cpr", "0101901234"),
        ("311299-0000", "cpr", "3112990000"),  # fails mod 11, still a CPR
    ],
)
def test_ids(text: str, entity: str, expected: str) -> None:
    found = extract_entities(text, MONDAY)
    assert [(e["entity"], e["value"]) for e in found] == [(entity, expected)]


@pytest.mark.parametrize(
    "text", ["cvr 12345678", "12500 kr", "991399-1234", "+46 70 123 45 67", "1234"]
)
def test_no_id(text: str) -> None:
    ids = {"card_number", "cvr", "phone", "cpr"}
    assert [e for e in extract_entities(text, MONDAY) if e["entity"] in ids] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tjek 4 8 2 1 3", "tjek 48213"),
        ("kan du tjekke fem et syv tre seks", "kan du tjekke 51736"),
        ("FIRE OTTE TO EN TRE er hun aktiv", "48213 er hun aktiv"),
        # Not a card number: fewer or more than five digits, or digits of other numbers.
        ("4 8 2 1", "4 8 2 1"),
        ("4 8 2 1 3 6", "4 8 2 1 3 6"),
        ("2,5 8 2 1 3", "2,5 8 2 1 3"),
        ("en to tre fire", "en to tre fire"),
        ("han arbejdede to timer", "han arbejdede to timer"),
    ],
)
def test_card_numbers_read_out_digit_by_digit_are_joined(text: str, expected: str) -> None:
    assert join_spelled_card_numbers(text) == expected


def test_employer_report_gets_all_three() -> None:
    found = extract_entities("indberet 4 timer 600 kr frikort 48213", MONDAY)
    assert [(e["entity"], e["value"], e["start"], e["end"]) for e in found] == [
        ("hours", "4", 9, 16),
        ("amount", "600.00", 17, 23),
        ("card_number", "48213", 32, 37),
    ]
    assert {e["extractor"] for e in found} == {"rule_based"}


def test_terse_report() -> None:
    found = extract_entities("48213 2,5t 375,- igaar", MONDAY)
    assert [(e["entity"], e["value"]) for e in found] == [
        ("card_number", "48213"),
        ("hours", "2.5"),
        ("amount", "375.00"),
        ("date", "2026-11-22"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mit cpr er 010190-1234", "mit cpr er [CPR]"),
        ("cpr 0101901234.", "cpr [CPR]."),
        ("010190 1234 og 311299-0000", "[CPR] og [CPR]"),
        ("ring 12345678", "ring 12345678"),
        ("991399-1234", "991399-1234"),
        ("+4501019012", "+4501019012"),
    ],
)
def test_redact_cpr(text: str, expected: str) -> None:
    assert redact_cpr(text) == expected


def test_cpr_like() -> None:
    assert is_cpr_like("0101901234")
    assert is_cpr_like("290200-1234")  # 29 Feb 2000 exists
    assert not is_cpr_like("3002001234")
    assert not is_cpr_like("01019012345")
