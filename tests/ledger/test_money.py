"""Money: integer øre inside, "1250.50" at the API edge, "1.250,50 kr." for people."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from hypothesis import given
from hypothesis import strategies as st

from danish.money import (
    MoneyFormatError,
    format_danish,
    format_danish_whole,
    format_kroner,
    parse_kroner,
)


@pytest.mark.parametrize(
    ("text", "ore"),
    [("0", 0), ("1", 100), ("1250.50", 125050), ("1250.5", 125050), ("1250.05", 125005),
     ("42766", 4276600), ("42766.00", 4276600), (" 12.30 ", 1230), ("0.01", 1)],
)
def test_parse_kroner(text: str, ore: int) -> None:
    assert parse_kroner(text) == ore


@pytest.mark.parametrize(
    "text",
    ["1,5", "-1", "1.234", "1e3", "", " ", "1.", ".5", "+1", "1 000", "1.000,00", "12kr",
     "NaN", "inf", "0x10", "1_000", "１２", "١٢٣"],
)
def test_parse_kroner_refuses_ambiguous_text(text: str) -> None:
    with pytest.raises(MoneyFormatError):
        parse_kroner(text)


@given(st.integers(min_value=0, max_value=10**14 - 1))
def test_round_trip(ore: int) -> None:
    text = format_kroner(ore)
    assert parse_kroner(text) == ore
    kroner, decimals = text.split(".")
    assert len(decimals) == 2 and kroner.isdigit()


@given(st.from_regex(r"\A[0-9]{1,12}(\.[0-9]{1,2})?\Z"))
def test_every_valid_string_parses_to_its_value(text: str) -> None:
    kr, _, ore = text.partition(".")
    assert parse_kroner(text) == int(kr) * 100 + int(ore.ljust(2, "0") or "0")


@pytest.mark.parametrize(
    ("ore", "text"),
    [(0, "0.00"), (1, "0.01"), (125050, "1250.50"), (4276600, "42766.00"), (-1, "-0.01"),
     (-125050, "-1250.50")],
)
def test_format_kroner(ore: int, text: str) -> None:
    assert format_kroner(ore) == text


@pytest.mark.parametrize(
    ("ore", "text"),
    [(125050, "1.250,50 kr."), (0, "0,00 kr."), (5, "0,05 kr."), (4276600, "42.766,00 kr."),
     (123456789, "1.234.567,89 kr.")],
)
def test_format_danish(ore: int, text: str) -> None:
    assert format_danish(ore) == text


@pytest.mark.parametrize(
    ("ore", "text"), [(4276600, "42.766 kr."), (4128000, "41.280 kr."), (125050, "1.250,50 kr.")]
)
def test_format_danish_whole(ore: int, text: str) -> None:
    assert format_danish_whole(ore) == text


@given(st.integers(min_value=0, max_value=10**12))
def test_format_danish_reads_back(ore: int) -> None:
    text = format_danish(ore)
    assert text.endswith(" kr.")
    number = text.removesuffix(" kr.").replace(".", "").replace(",", ".")
    assert parse_kroner(number) == ore


@given(st.integers(min_value=-10**14, max_value=10**14))
def test_danish_formatting_is_babels_da_dk(ore: int) -> None:
    """Written out by hand for speed; Babel's da_DK patterns are the reference."""
    babel = format_decimal(Decimal(ore) / 100, format="#,##0.00", locale="da_DK")
    assert format_danish(ore) == f"{babel} kr."
    if ore % 100 == 0:
        whole = format_decimal(ore // 100, format="#,##0", locale="da_DK")
        assert format_danish_whole(ore) == f"{whole} kr."
    else:
        assert format_danish_whole(ore) == format_danish(ore)
