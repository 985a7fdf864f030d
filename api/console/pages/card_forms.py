"""Reading what a caseworker types into the card forms: kroner the Danish way, hours, dates.

The ledger takes øre, Decimal hours and dates; turning a person's "1.250,50" into øre is the
page's job. Anything that could be read two ways ("1250.50": a decimal point, or a thousands
point missing a digit?) is refused with a message before the ledger is asked, so a typo never
changes a balance. The conversion itself is the ledger's own `parse_kroner`.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from api.console.texts import texts
from danish.money import MoneyFormatError, parse_kroner

# Whole kroner either ungrouped ("1250") or grouped in threes by one kind of separator
# ("1.250", "1 250"); then optionally a comma and one or two øre digits.
_KRONER = re.compile(r"(?P<whole>[0-9]+|[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]{1,3}(?: [0-9]{3})+)"
                     r"(?:,(?P<ore>[0-9]{1,2}))?")
_CURRENCY = re.compile(r"\s*(?:kr\.?|kroner|dkk|,-)\s*\Z", re.IGNORECASE)
_HOURS = re.compile(r"[0-9]{1,4}(?:[,.][0-9]{1,2})?")
_DANISH_DATE = re.compile(r"([0-9]{1,2})[.\-/]([0-9]{1,2})[.\-/]([0-9]{4})")


class FormError(ValueError):
    """Form input the page will not guess at; `message` says in Danish what to type."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key

    @property
    def message(self) -> str:
        return str(texts()["card_pages"]["form_errors"][self.key])


def kroner_to_ore(text: str) -> int:
    """ "1.250,50", "1250,5", "1 250 kr." -> øre; a point as decimal mark is refused."""
    cleaned = _CURRENCY.sub("", text.replace("\u00a0", " ").strip()).strip()
    if not cleaned:
        raise FormError("amount_missing")
    match = _KRONER.fullmatch(cleaned)
    if match is None:
        raise FormError("amount_unclear")
    whole = match["whole"].replace(".", "").replace(" ", "")
    try:
        ore = parse_kroner(f"{whole}.{match['ore']}" if match["ore"] else whole)
    except MoneyFormatError as exc:
        raise FormError("amount_unclear") from exc
    if ore <= 0:
        raise FormError("amount_not_positive")
    return ore


def hours(text: str) -> Decimal:
    """ "4", "2,5" or "2.5" hours (no thousands in hours, so a point is unambiguous here)."""
    cleaned = text.strip()
    if not _HOURS.fullmatch(cleaned):
        raise FormError("hours_unclear")
    return Decimal(cleaned.replace(",", "."))


def payment_date(text: str) -> dt.date:
    """The browser's date field sends ISO ("2025-06-16"); typed by hand, "16.06.2025"."""
    cleaned = text.strip()
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", cleaned):
            return dt.date.fromisoformat(cleaned)
        match = _DANISH_DATE.fullmatch(cleaned)
        if match:
            return dt.date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError as exc:
        raise FormError("date_unclear") from exc
    raise FormError("date_unclear")


def cvr(text: str) -> str:
    """Spaces removed ("31 42 53 60"); the ledger checks the number itself."""
    cleaned = "".join(text.split())
    if not cleaned:
        raise FormError("cvr_missing")
    return cleaned
