"""Identity numbers: Frikort card numbers, CVR, Danish phone numbers and CPR (found only to redact).

An 8-digit number is a CVR or a phone number. Context words decide first ("cvr 13585628",
"tlf 12345678"); without them a number that passes the CVR mod-11 check is read as a CVR and
anything else as a phone number (a random 8-digit number passes mod 11 about one time in 11).
"""

from __future__ import annotations

import re

import phonenumbers
from stdnum.dk import cvr as stdnum_cvr

import cpr
from cpr import redact_cpr
from nlu.entities.base import PRIORITY_BARE, PRIORITY_CONTEXT, PRIORITY_ID, Candidate

__all__ = ["find_card_numbers", "find_cprs", "find_cvrs_and_phones", "is_cpr_like",
           "join_spelled_card_numbers", "redact_cpr"]

_EIGHT = re.compile(
    r"(?<![\d+])(?<!\d[ -])(?P<prefix>(?:\+|00)\s?45[\s-]?)?"
    r"(?P<num>\d{8}|\d{2}[ -]\d{2}[ -]\d{2}[ -]\d{2}|\d{4}[ -]\d{4})(?!\d|[ -]\d)"
)
_CVR_CUE = re.compile(
    r"(?:cvr|se|virksomhed|firma|forening|cvr-?nr|cvr-?nummer)[\s.:#-]*(?:nr\.?|nummer)?[\s.:#-]*$",
    re.IGNORECASE,
)
_PHONE_CUE = re.compile(
    r"(?:tlf|telefon|mobil|nummer|nr|ring|sms|skriv|kontakt)[\s.:#-]*(?:nr\.?|nummer)?"
    r"[\s.:#-]*(?:er|p(?:å|aa|a)|til)?[\s.:#-]*$",
    re.IGNORECASE,
)
_CARD = re.compile(r"(?<![\d+.,/-])(?P<num>\d{5})(?![\d]|[.,]\d)")
_DIGIT_WORD = {"nul": "0", "en": "1", "et": "1", "to": "2", "tre": "3", "fire": "4", "fem": "5",
               "seks": "6", "syv": "7", "otte": "8", "ni": "9"}
_SPELLED_RUN = re.compile(
    r"(?<![\d,.])(?P<num>\d(?: \d)+)(?![\d,.])|"
    r"(?<!\w)(?P<words>(?:(?:%s)\s+)+(?:%s))(?!\w)" % (("|".join(_DIGIT_WORD),) * 2),
    re.IGNORECASE)
CARD_DIGITS = 5
"""A run of single digits ("5 1 7 3 6", "fem en syv tre seks") is a card number read out
digit by digit, as a phone's speech-to-text or a careful typist writes it, when it has five."""
_CARD_CUE = re.compile(
    r"(?:frikort|kort|card|id|kortnr|kortnummer|frikortnr|frikortnummer|nr|nummer|#)"
    r"[\s.:#-]*(?:id|nr\.?|nummer)?[\s.:#-]*(?:er|p(?:å|aa|a))?[\s.:#-]*$",
    re.IGNORECASE,
)
_CUE_WINDOW = 30


def is_cpr_like(number: str) -> bool:
    """The whole text is one CPR number in any spelling `cpr` accepts (a real date first:
    modern CPR numbers need not pass mod 11)."""
    return cpr.parse_cpr(number) is not None


def find_cprs(text: str) -> list[Candidate]:
    """CPR numbers, found by `cpr.find_cprs` (the one parser), so callers can redact them and
    never echo them; value is the 10 digits."""
    return [Candidate("cpr", m.digits, m.start, m.end, PRIORITY_ID) for m in cpr.find_cprs(text)]


def _e164(digits: str) -> str | None:
    try:
        number = phonenumbers.parse(digits, "DK")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def find_cvrs_and_phones(text: str) -> list[Candidate]:
    """8-digit numbers classified as CVR (mod-11 valid) or phone (E.164), using context words."""
    found = []
    for match in _EIGHT.finditer(text):
        digits = re.sub(r"\D", "", match["num"])
        before = text[max(0, match.start() - _CUE_WINDOW) : match.start()]
        cvr_cue = _CVR_CUE.search(before) is not None
        phone_hint = bool(match["prefix"]) or len(match["num"]) > 8 or _PHONE_CUE.search(before)
        if cvr_cue and not match["prefix"]:
            if stdnum_cvr.is_valid(digits):
                found.append(Candidate("cvr", digits, match.start(), match.end(), PRIORITY_ID))
        elif not phone_hint and stdnum_cvr.is_valid(digits):
            found.append(Candidate("cvr", digits, match.start(), match.end(), PRIORITY_ID))
        elif (e164 := _e164(digits)) is not None:
            found.append(Candidate("phone", e164, match.start(), match.end(), PRIORITY_ID))
    return found


def find_card_numbers(text: str) -> list[Candidate]:
    """5-digit Frikort-IDs; a cue word before ("frikort 48213") makes them beat other readings."""
    found = []
    for match in _CARD.finditer(text):
        before = text[max(0, match.start() - _CUE_WINDOW) : match.start()]
        priority = PRIORITY_CONTEXT - 1 if _CARD_CUE.search(before) else PRIORITY_BARE
        found.append(Candidate("card_number", match["num"], match.start(), match.end(), priority))
    return found


def join_spelled_card_numbers(text: str) -> str:
    """The text with a card number read out digit by digit written as one number, so every
    reader of the message (entities, the dialogue's own patterns) sees "51736"."""
    def joined(match: re.Match[str]) -> str:
        digits = match["num"].split() if match["num"] else [
            _DIGIT_WORD[word.lower()] for word in match["words"].split()]
        return "".join(digits) if len(digits) == CARD_DIGITS else match[0]
    return _SPELLED_RUN.sub(joined, text)
