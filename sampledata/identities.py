"""Invented identifiers that pass the same checks as real ones: CPR, CVR, phone, Frikort-ID.

Every value comes from the caller's seeded random generator, so a seed gives the same people.
"""

from __future__ import annotations

import random
from functools import cache
from importlib import resources
from typing import Any

import phonenumbers
import yaml

from db.errors import InvalidCpr
from db.vault import normalise_cpr

_MOBILE_PREFIXES = ("20", "21", "26", "28", "30", "31", "40", "42", "50", "51", "52", "53",
                    "60", "61", "71", "81", "91", "93")
_CVR_WEIGHTS = (2, 7, 6, 5, 4, 3, 2)


@cache
def words() -> dict[str, Any]:
    """Names, reasons and message lines (sampledata/data/synthetic.da.yml)."""
    text = resources.files("sampledata").joinpath("data/synthetic.da.yml").read_text("utf-8")
    return dict(yaml.safe_load(text))


def cpr_numbers(rng: random.Random, count: int) -> list[str]:
    """Distinct CPR numbers with real birth dates (1950-1999) that `normalise_cpr` accepts."""
    found: set[str] = set()
    ordered: list[str] = []
    while len(ordered) < count:
        year = rng.randint(50, 99)
        month = rng.randint(1, 12)
        day = rng.randint(1, 28)
        serial = rng.randint(0, 3999)  # 7th digit 0-3: born in the 1900s
        candidate = f"{day:02d}{month:02d}{year:02d}{serial:04d}"
        if candidate in found:
            continue
        try:
            normalise_cpr(candidate)
        except InvalidCpr:
            continue
        found.add(candidate)
        ordered.append(candidate)
    return ordered


def cvr_numbers(rng: random.Random, count: int) -> list[str]:
    """Distinct CVR numbers with a valid mod-11 check digit."""
    found: set[str] = set()
    ordered: list[str] = []
    while len(ordered) < count:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(6)]
        check = (-sum(w * d for w, d in zip(_CVR_WEIGHTS, digits, strict=True))) % 11
        if check == 10:
            continue
        candidate = "".join(map(str, digits)) + str(check)
        if candidate not in found:
            found.add(candidate)
            ordered.append(candidate)
    return ordered


def phone_numbers(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    """Distinct Danish mobile numbers in E.164 that `phonenumbers` calls valid; adds them to
    `taken`, so card holders and employers never share one."""
    ordered: list[str] = []
    while len(ordered) < count:
        candidate = f"+45{rng.choice(_MOBILE_PREFIXES)}{rng.randint(0, 999_999):06d}"
        if candidate in taken:
            continue
        if not phonenumbers.is_valid_number(phonenumbers.parse(candidate, "DK")):
            continue
        taken.add(candidate)
        ordered.append(candidate)
    return ordered


def card_numbers(rng: random.Random, count: int) -> list[str]:
    """Distinct random five-digit Frikort-IDs, as the ledger draws them."""
    return [str(n) for n in rng.sample(range(10_000, 100_000), count)]


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(words()['first_names'])} {rng.choice(words()['last_names'])}"


def employer_name(rng: random.Random) -> str:
    names = words()["employer_names"]
    return str(rng.choice(names["patterns"]).format(
        name=rng.choice(words()["last_names"]), trade=rng.choice(names["trades"])))
