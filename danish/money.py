"""Money is integer øre inside the ledger; these are the only conversions to and from text."""

from __future__ import annotations

import re

# ASCII digits only: `\d` alone also matches full-width and Arabic-Indic digits, which
# int() would silently accept. `\Z`, not `$`, so a trailing newline is not let through.
_KRONER_STRING = re.compile(r"^(?P<kr>[0-9]{1,12})(?:\.(?P<ore>[0-9]{1,2}))?\Z")


class MoneyFormatError(ValueError):
    """A kroner string that is not of the form "1250" or "1250.50"."""


def parse_kroner(text: str) -> int:
    """Turns an API kroner string ("1250.50") into øre, refusing anything ambiguous.

    Floats never enter: a string with more than two decimals, a sign or a thousands
    separator is an error rather than a guess.
    """
    match = _KRONER_STRING.match(text.strip())
    if match is None:
        raise MoneyFormatError(f"not a kroner amount with at most two decimals: {text!r}")
    ore = (match.group("ore") or "0").ljust(2, "0")
    return int(match.group("kr")) * 100 + int(ore)


def format_kroner(ore: int) -> str:
    """Øre as the API's decimal string with two decimals ("1250.50")."""
    sign = "-" if ore < 0 else ""
    kroner, rest = divmod(abs(ore), 100)
    return f"{sign}{kroner}.{rest:02d}"


def _grouped(kroner: int) -> str:
    """Thousands with a dot, as Danish writes them ("42.766"), for kroner >= 0."""
    return f"{kroner:,}".replace(",", ".")


def format_danish(ore: int) -> str:
    """Øre as Danish people read it: "1.250,50 kr." (Babel's da_DK pattern "#,##0.00",
    written out: Babel's formatter cost more than the rest of a balance answer)."""
    kroner, rest = divmod(abs(ore), 100)
    return f"{'-' if ore < 0 else ''}{_grouped(kroner)},{rest:02d} kr."


def format_danish_whole(ore: int) -> str:
    """Whole kroner without decimals ("42.766 kr."), for caps and round figures."""
    if ore % 100:
        return format_danish(ore)
    return f"{'-' if ore < 0 else ''}{_grouped(abs(ore) // 100)} kr."
