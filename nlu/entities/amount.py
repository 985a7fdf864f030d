"""Money in Danish messages → kroner with two decimals: "600 kr", "1.250,50 kr.", "kr 600"."""

from __future__ import annotations

import re
from decimal import Decimal

from nlu.entities.base import PRIORITY_BARE, PRIORITY_CONTEXT, PRIORITY_UNIT, Candidate
from nlu.entities.numbers import DIGITS, WORDS, format_kroner, parse_digits, parse_words

__all__ = ["find_amounts"]

_NOT_LETTER = r"(?![^\W\d_])"
_CURRENCY = rf"(?:kroner|krone|kr\.?|dkk|dkr){_NOT_LETTER}"
_AFTER = rf"(?:\s*(?:,-+|:-)?\s*{_CURRENCY}|,-+|:-)"
_THOUSAND = rf"\s*(?P<k>tusinde?|k){_NOT_LETTER}"
_HOURS_NEXT = re.compile(r"\s*-?\s*(?:timer|time|t|h|min(?:utter|ut)?)\b", re.IGNORECASE)

_SUFFIXED = re.compile(rf"(?<![^\W\d_])(?P<num>{DIGITS})(?:{_THOUSAND})?(?P<unit>{_AFTER})?",
                       re.IGNORECASE)
# "-500 kr", "minus 500 kr": read as the negative amount it says, for the bot to refuse, never
# as a positive one. "1e9 kr" (scientific notation) is no amount at all.
_NEGATIVE_BEFORE = re.compile(r"(?:(?<![\w.,])-\s*|\bminus\s+)$", re.IGNORECASE)
_SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")
_CARD_AFTER_FOR = re.compile(r"\b(?:for|til)\s+$", re.IGNORECASE)
_PREFIXED = re.compile(rf"(?<!\w)(?:kr\.?|dkk|dkr)\s*(?P<num>{DIGITS})", re.IGNORECASE)
_WORDED = re.compile(rf"(?P<num>{WORDS}){_AFTER}", re.IGNORECASE)
# Money verbs make a bare number an amount: "har tjent 3000", "lønnen var 650".
_CUE = re.compile(
    r"(?<!\w)(?:tjent|tjene|tjener|optjent|l(?:ø|oe|o)n(?:nen|en)?|betalt|betale|betaler|"
    r"udbetalt|udbetale|bel(?:ø|oe|o)b(?:et)?|f(?:å|aa|a)et|modtaget|fik|f(?:å|aa)r|gav)"
    r"(?:\s+(?:var|er|p(?:å|aa|a)|for|ca\.?|cirka|omkring|over|under|mere end|op til|max|maks|"
    r"kun|bare|mindst))*\s+(?P<num>" + DIGITS + ")",
    re.IGNORECASE,
)


def _candidate(match: re.Match[str], value: Decimal | None, priority: int) -> Candidate | None:
    if value is None or value <= 0:
        return None
    text = match.string
    before = _NEGATIVE_BEFORE.search(text, 0, match.start())
    if before is not None:
        return Candidate("amount", format_kroner(-value), before.start(), match.end(), priority)
    return Candidate("amount", format_kroner(value), match.start(), match.end(), priority)


def _suffixed(text: str) -> list[Candidate]:
    found = []
    for match in _SUFFIXED.finditer(text):
        value = parse_digits(match.group("num"))
        if value is not None and match.group("k"):
            value *= 1000
        grouped = re.search(r"\d\.\d{3}", match.group("num")) is not None
        if match.group("unit") or match.group("k"):
            priority = PRIORITY_UNIT
        elif grouped and not _HOURS_NEXT.match(text, match.end()):
            priority = PRIORITY_BARE  # "20.000" with no unit is still money in these chats
        else:
            continue
        candidate = _candidate(match, value, priority)
        if candidate:
            found.append(candidate)
    return found


def find_amounts(text: str) -> list[Candidate]:
    """Every plausible money amount in `text`, as overlapping candidates for the resolver."""
    if _SCIENTIFIC.search(text):
        text = _SCIENTIFIC.sub(lambda m: "#" * len(m.group()), text)  # same length, no digits
    found: list[Candidate | None] = [*_suffixed(text)]
    for match in _PREFIXED.finditer(text):
        found.append(_candidate(match, parse_digits(match.group("num")), PRIORITY_UNIT))
    for match in _WORDED.finditer(text):
        found.append(_candidate(match, parse_words(match.group("num")), PRIORITY_UNIT))
    for match in _CUE.finditer(text):
        if _HOURS_NEXT.match(text, match.end("num")):
            continue
        if _CARD_AFTER_FOR.search(text, 0, match.start("num")) and \
                re.fullmatch(r"\d{5}", match.group("num")):
            continue  # "løn for 51736": five digits after "for"/"til" name a Frikort-ID
        value = parse_digits(match.group("num"))
        if value is not None and value > 0:
            start, end = match.span("num")
            found.append(Candidate("amount", format_kroner(value), start, end, PRIORITY_CONTEXT))
    return [c for c in found if c is not None]
