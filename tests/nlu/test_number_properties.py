"""Property tests: any amount or duration written the Danish way parses back to the same value."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from nlu import extract_entities
from nlu.entities.numbers import format_hours, format_kroner, parse_digits
from tests.nlu.conftest import MONDAY


def danish_kroner(ore: int, *, thousands: bool) -> str:
    """600,00 / 1.250,50 / 1250,5 style, as Babel's da_DK would print it (and without grouping)."""
    kroner, rest = divmod(ore, 100)
    whole = f"{kroner:,}".replace(",", ".") if thousands else str(kroner)
    return f"{whole},{rest:02d}" if rest else whole


@given(
    ore=st.integers(min_value=1, max_value=99_999_999),
    thousands=st.booleans(),
    suffix=st.sampled_from([" kr", " kr.", "kr", " kroner", ",- kr", " DKK"]),
)
def test_kroner_round_trip(ore: int, thousands: bool, suffix: str) -> None:
    text = danish_kroner(ore, thousands=thousands)
    if suffix.startswith(",-") and ore % 100:
        suffix = " kr"  # ",-" means "no øre", so it only follows whole kroner
    found = [
        e["value"]
        for e in extract_entities(f"løn {text}{suffix} tak", MONDAY)
        if e["entity"] == "amount"
    ]
    assert found == [format_kroner(Decimal(ore) / 100)]


@given(ore=st.integers(min_value=1, max_value=99_999_999))
def test_kr_prefix_round_trip(ore: int) -> None:
    text = f"kr. {danish_kroner(ore, thousands=True)}"
    assert [e["value"] for e in extract_entities(text, MONDAY)] == [
        format_kroner(Decimal(ore) / 100)
    ]


@given(
    quarters=st.integers(min_value=1, max_value=24 * 4),
    unit=st.sampled_from([" timer", " t", "t", " time", " hours"]),
)
def test_hours_round_trip(quarters: int, unit: str) -> None:
    value = Decimal(quarters) / 4
    written = format_hours(value).replace(".", ",")
    found = [
        e["value"]
        for e in extract_entities(f"arbejdet {written}{unit}", MONDAY)
        if e["entity"] == "hours"
    ]
    assert found == [format_hours(value)]


@given(ore=st.integers(min_value=0, max_value=10**12))
def test_parse_digits_inverts_danish_format(ore: int) -> None:
    assert parse_digits(danish_kroner(ore, thousands=True) or "0") == Decimal(ore) / 100


@given(value=st.decimals(min_value=0, max_value=1000, places=2))
def test_format_hours_has_no_trailing_zeros(value: Decimal) -> None:
    text = format_hours(value)
    assert Decimal(text) == value
    assert not ("." in text and text.endswith("0"))
