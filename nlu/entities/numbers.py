"""Danish numbers as people text them: "1.250,50", "600,-", "2,5", "seks hundrede", "halvanden".

Values are Decimals, never floats: amounts end up as exact kroner and øre.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

__all__ = [
    "DIGITS",
    "WORDS",
    "format_hours",
    "format_kroner",
    "parse_digits",
    "parse_words",
    "read_number",
]

# A number written with digits. Thousands groups use "." (or a space, only before a currency,
# because "frikort 48213 600 kr" must not read as 48.213.600); a decimal part uses "," or, for
# 1–2 digits, ".". "½" may follow ("1½ time").
DIGITS = (
    r"(?<![\d.,])"
    r"(?:\d{1,3}(?:\.\d{3})+(?!\d)|\d{1,3}(?:\ \d{3})+(?=\s*(?:kr|dkk|,-))|\d+)"
    r"(?:,\d+(?![\d.])|\.\d{1,2}(?![\d.]))?"
    r"(?:\s?½)?"
    r"(?!\d)"
)

_UNITS = {
    "nul": 0,
    "en": 1,
    "én": 1,
    "een": 1,
    "et": 1,
    "ét": 1,
    "to": 2,
    "tre": 3,
    "fire": 4,
    "fem": 5,
    "seks": 6,
    "syv": 7,
    "otte": 8,
    "ni": 9,
}
_TEENS = {
    "ti": 10,
    "elleve": 11,
    "tolv": 12,
    "tretten": 13,
    "fjorten": 14,
    "femten": 15,
    "seksten": 16,
    "sytten": 17,
    "atten": 18,
    "nitten": 19,
}
_TENS = {
    "tyve": 20,
    "tredive": 30,
    "tredve": 30,
    "fyrretyve": 40,
    "fyrre": 40,
    "halvtredsindstyve": 50,
    "halvtreds": 50,
    "tresindstyve": 60,
    "tres": 60,
    "halvfjerdsindstyve": 70,
    "halvfjerds": 70,
    "firsindstyve": 80,
    "firs": 80,
    "halvfemsindstyve": 90,
    "halvfems": 90,
}
_SPECIAL = {"halvanden": Decimal("1.5"), "halvandet": Decimal("1.5"), "½": Decimal("0.5")}
_MULTIPLIERS = {"hundrede": 100, "hundred": 100, "tusinde": 1000, "tusind": 1000}
_ATOMS = sorted(
    [*_UNITS, *_TEENS, *_TENS, *_SPECIAL, *_MULTIPLIERS, "halv", "og"], key=len, reverse=True
)
_ATOM = "|".join(re.escape(a) for a in _ATOMS)
# A run of number words, glued ("femogtyve", "tohundrede") or spaced ("to hundrede og halvtreds").
WORDS = rf"(?<!\w)(?:{_ATOM})(?:[ ]?(?:{_ATOM}))*(?!\w)"
_ATOM_RE = re.compile(_ATOM, re.IGNORECASE)


def parse_digits(text: str) -> Decimal | None:
    """Parse a digit number in Danish (or plain English-decimal) notation; None if it is not one.

    A single kind of separator followed by exactly three digits groups thousands ("1.250",
    "1,250"); otherwise it is the decimal mark ("2,5", "12.50").
    """
    half = Decimal("0.5") if text.rstrip().endswith("½") else Decimal(0)
    raw = text.replace("½", "").replace(" ", "").replace("\u00a0", "")
    if raw.endswith(",-"):
        raw = raw[:-2]
    if not raw:
        return half or None
    if "," in raw and "." in raw:
        thousands, decimal = (".", ",") if raw.rfind(",") > raw.rfind(".") else (",", ".")
        raw = raw.replace(thousands, "").replace(decimal, ".")
    elif re.fullmatch(r"[1-9]\d{0,2}([.,])\d{3}(\1\d{3})*", raw):
        raw = raw.replace(".", "").replace(",", "")
    else:
        raw = raw.replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    return value + half


def parse_words(text: str) -> Decimal | None:
    """Evaluate a run of Danish number words ("to hundrede og halvtreds" → 250); None if empty."""
    atoms = [a.lower() for a in _ATOM_RE.findall(text)]
    while atoms and atoms[-1] == "og":
        atoms.pop()
    while atoms and atoms[0] == "og":
        atoms.pop(0)
    if not atoms:
        return None
    total, current = Decimal(0), Decimal(0)
    previous = ""
    for atom in atoms:
        if atom in _MULTIPLIERS:
            current = (current or Decimal(1)) * _MULTIPLIERS[atom]
            if _MULTIPLIERS[atom] >= 1000:
                total, current = total + current, Decimal(0)
        elif atom == "halv":
            # "en halv" is 0.5, not 1 + 0.5; a bare "halv" ("halv time") is 0.5 as well.
            current += (
                Decimal("-0.5") if previous in ("en", "én", "et", "ét", "een") else Decimal("0.5")
            )
        elif atom in _SPECIAL:
            current += _SPECIAL[atom]
        elif atom != "og":
            current += _UNITS.get(atom, 0) + _TEENS.get(atom, 0) + _TENS.get(atom, 0)
        previous = atom
    return total + current


def format_kroner(value: Decimal) -> str:
    """Kroner with two decimals, the contract for `amount` ("1250.50")."""
    return f"{value.quantize(Decimal('0.01')):.2f}"


def format_hours(value: Decimal) -> str:
    """A decimal string without trailing zeros, the contract for `hours` ("4", "2.5")."""
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


_BARE_DIGITS = re.compile(rf"^\s*(?:kr\.?\s*)?(?P<num>{DIGITS})\s*(?:,-+|:-)?\s*$", re.IGNORECASE)
_BARE_FRACTION = re.compile(r"^\s*(?P<whole>\d+)\s+(?:1/2|og\s+en\s+halv)\s*$", re.IGNORECASE)
_HALF_PAST = re.compile(r"^\s*halv\s+(?P<next>[a-zæøå]+)\s*$", re.IGNORECASE)


def read_number(text: str) -> Decimal | None:
    """A message that is only a number, as people answer "how much?" or "how many hours?":
    "40000", "40.000", "1.250,50", "450,-", "40 000", "kr. 800", "4,5", "4 1/2", "4½",
    "4 og en halv", "fire", "halvanden", "halv fem" (half past four: 4.5). None when it is
    anything else."""
    if (fraction := _BARE_FRACTION.match(text)) is not None:
        return Decimal(fraction.group("whole")) + Decimal("0.5")
    if (half := _HALF_PAST.match(text)) is not None:
        following = parse_words(half.group("next"))
        return following - Decimal("0.5") if following and following >= 1 else None
    spaced = re.sub(r"(?<=\d) (?=\d{3}(?!\d))", "", text.strip())
    if (digits := _BARE_DIGITS.match(spaced)) is not None:
        return parse_digits(digits.group("num"))
    if re.fullmatch(rf"\s*{WORDS}\s*", text, re.IGNORECASE):
        return parse_words(text)
    return None
