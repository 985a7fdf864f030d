"""The pure rules of the scheme: tables of known cases plus Hypothesis properties."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger import rules
from ledger.rules import (
    Split,
    contract_required,
    crossed_warnings,
    current_warning,
    hours_plausible,
    next_control_due,
    split_against_cap,
)

CAP_2025 = 42_766_00


# split_against_cap -----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("amount", "used", "cap", "expected"),
    [
        (1_000_00, 0, CAP_2025, Split(1_000_00, 0)),
        (CAP_2025, 0, CAP_2025, Split(CAP_2025, 0)),  # exactly the cap: all counted
        (CAP_2025 + 1, 0, CAP_2025, Split(CAP_2025, 1)),  # one øre over
        (5_000_00, 40_000_00, CAP_2025, Split(2_766_00, 2_234_00)),  # crosses the cap
        (1, CAP_2025 - 1, CAP_2025, Split(1, 0)),  # fills the last øre
        (1, CAP_2025, CAP_2025, Split(0, 1)),  # cap already full
        (7_00, CAP_2025 + 5_00, CAP_2025, Split(0, 7_00)),  # used above cap (cap lowered): room 0
        (1, 0, 1, Split(1, 0)),
    ],
)
def test_split_table(amount: int, used: int, cap: int, expected: Split) -> None:
    assert split_against_cap(amount, used, cap) == expected


@pytest.mark.parametrize("amount", [0, -1, -100_00])
def test_split_refuses_non_positive_amounts(amount: int) -> None:
    with pytest.raises(ValueError):
        split_against_cap(amount, 0, CAP_2025)


@given(
    amount=st.integers(min_value=1, max_value=10**9),
    used=st.integers(min_value=0, max_value=10**9),
    cap=st.integers(min_value=1, max_value=10**9),
)
def test_split_properties(amount: int, used: int, cap: int) -> None:
    split = split_against_cap(amount, used, cap)
    room = max(cap - used, 0)
    assert split.counted + split.over_cap == amount
    assert 0 <= split.counted <= room
    assert split.over_cap >= 0
    # Greedy: nothing is over the cap while there is room for it.
    assert split.over_cap == 0 or split.counted == room
    # Never pushes a balance that was within the cap above it.
    if used <= cap:
        assert used + split.counted <= cap


@given(st.lists(st.integers(min_value=1, max_value=10_000_00), max_size=40),
       st.integers(min_value=1, max_value=100_000_00))
def test_split_sequence_counts_min_of_cap_and_total(amounts: list[int], cap: int) -> None:
    """Whatever the order, a sequence of splits counts exactly min(cap, Σ amounts)."""
    used = 0
    over = 0
    for amount in amounts:
        split = split_against_cap(amount, used, cap)
        used += split.counted
        over += split.over_cap
    assert used == min(cap, sum(amounts))
    assert used + over == sum(amounts)


# Warnings --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("before", "after", "cap", "expected"),
    [
        (0, 79_99, 100_00, ()),
        (0, 80_00, 100_00, (80,)),  # reaching the threshold counts
        (79_99, 80_00, 100_00, (80,)),
        (80_00, 90_00, 100_00, ()),  # already past 80: not again
        (0, 95_00, 100_00, (80, 95)),
        (0, 100_00, 100_00, (80, 95, 100)),
        (94_99, 100_00, 100_00, (95, 100)),
        (100_00, 100_00, 100_00, ()),
        (50_00, 40_00, 100_00, ()),  # going down never warns
        (0, CAP_2025 * 80 // 100, CAP_2025, (80,)),
        (0, CAP_2025 * 80 // 100 - 1, CAP_2025, ()),
        (0, 10, 0, ()),  # no cap: no warnings
    ],
)
def test_crossed_warnings_table(before: int, after: int, cap: int,
                                expected: tuple[int, ...]) -> None:
    assert crossed_warnings(before, after, cap) == expected


@pytest.mark.parametrize(
    ("used", "cap", "expected"),
    [
        (0, 100_00, None),
        (79_99, 100_00, None),
        (80_00, 100_00, 80),
        (94_99, 100_00, 80),
        (95_00, 100_00, 95),
        (100_00, 100_00, 100),
        (150_00, 100_00, 100),
        (10, None, None),
        (10, 0, None),
    ],
)
def test_current_warning_table(used: int, cap: int | None, expected: int | None) -> None:
    assert current_warning(used, cap) == expected


@given(st.lists(st.integers(min_value=0, max_value=5_000_00), max_size=30),
       st.integers(min_value=1, max_value=50_000_00))
def test_warnings_are_monotone_and_each_given_once(steps: list[int], cap: int) -> None:
    """Along a growing balance each threshold is crossed exactly once, in order, when reached."""
    used = 0
    seen: list[int] = []
    previous_level = current_warning(0, cap)
    for step in steps:
        after = used + step
        crossed = crossed_warnings(used, after, cap)
        assert list(crossed) == sorted(crossed)
        seen.extend(crossed)
        level = current_warning(after, cap)
        # The current level never falls while the balance grows, and equals the last crossing.
        assert (level or 0) >= (previous_level or 0)
        assert level == (seen[-1] if seen else None)
        used, previous_level = after, level
    assert seen == [lvl for lvl in rules.WARNING_THRESHOLDS_PERCENT if used * 100 >= lvl * cap]


@given(st.integers(0, 10**8), st.integers(0, 10**8), st.integers(0, 10**8), st.integers(1, 10**8))
def test_crossings_compose(a: int, b: int, c: int, cap: int) -> None:
    """Crossing a→c in one step warns exactly as a→b then b→c (for a ≤ b ≤ c)."""
    a, b, c = sorted((a, b, c))
    assert crossed_warnings(a, c, cap) == crossed_warnings(a, b, cap) + crossed_warnings(b, c, cap)


# Ansættelsesbevis: more than 3 hours a week ----------------------------------------------

@pytest.mark.parametrize(
    ("weekly", "required"),
    [("0", False), ("1", False), ("2.99", False), ("3", False), ("3.00", False),
     ("3.01", True), ("4", True), ("8", True), ("37", True)],
)
def test_contract_required_three_hour_rule(weekly: str, required: bool) -> None:
    assert contract_required(Decimal(weekly)) is required


def test_contract_rule_is_three_hours_not_the_outdated_eight() -> None:
    assert contract_required(Decimal("5"))  # would be False under the old 8-hour rule


# Control ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("issued", "last", "due"),
    [
        (dt.date(2025, 3, 1), None, dt.date(2027, 12, 31)),
        (dt.date(2025, 12, 31), None, dt.date(2027, 12, 31)),
        (dt.date(2024, 1, 1), dt.date(2025, 6, 16), dt.date(2027, 12, 31)),
        (dt.date(2019, 1, 1), dt.date(2019, 12, 31), dt.date(2021, 12, 31)),
    ],
)
def test_next_control_due_table(issued: dt.date, last: dt.date | None, due: dt.date) -> None:
    assert next_control_due(issued, last) == due


@given(st.dates(dt.date(2019, 1, 1), dt.date(2090, 12, 31)),
       st.one_of(st.none(), st.integers(0, 3000)))
def test_next_control_due_properties(issued: dt.date, days_after: int | None) -> None:
    last = None if days_after is None else issued + dt.timedelta(days=days_after)
    due = next_control_due(issued, last)
    base = last or issued
    # None is required in the base year itself; the last day of the second year after it.
    assert due.year == base.year + 2 and (due.month, due.day) == (12, 31)
    assert due > base


# Hours plausibility -----------------------------------------------------------------------

D = dt.date(2025, 6, 2)


@pytest.mark.parametrize(
    ("hours", "work_from", "work_to", "per_day", "ok"),
    [
        ("0", D, D, 16, True),
        ("16", D, D, 16, True),
        ("16.01", D, D, 16, False),
        ("24", D, D, 16, False),
        ("32", D, D + dt.timedelta(days=1), 16, True),
        ("112", D, D + dt.timedelta(days=6), 16, True),
        ("112.5", D, D + dt.timedelta(days=6), 16, False),
        ("-1", D, D, 16, False),
        ("1", D, D - dt.timedelta(days=1), 16, False),  # reversed period has no days
    ],
)
def test_hours_plausible_table(hours: str, work_from: dt.date, work_to: dt.date, per_day: int,
                               ok: bool) -> None:
    assert hours_plausible(Decimal(hours), work_from, work_to, per_day) is ok


@given(st.integers(1, 400), st.integers(1, 24), st.integers(0, 10_000_00))
def test_hours_plausible_bound(days: int, per_day: int, centi: int) -> None:
    hours = Decimal(centi) / 100
    assert hours_plausible(hours, D, D + dt.timedelta(days=days - 1), per_day) is (
        hours <= per_day * days)
