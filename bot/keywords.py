"""Keywords that always work, whatever the classifier says."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.textmatch import fold

_SINGLE = {
    "stop": "STOP", "stopp": "STOP", "afmeld": "STOP",
    "start": "START",
    "hjalp": "HELP", "hjelp": "HELP", "help": "HELP", "menu": "HELP", "/help": "HELP",
    "saldo": "BALANCE",
    "mere": "MORE",
    "ja": "YES", "jaa": "YES", "ja tak": "YES", "ja gerne": "YES", "jo": "YES", "ja da": "YES", "jep": "YES", "yes": "YES", "ok": "YES", "okay": "YES",
    "nej": "NO", "nej tak": "NO", "no": "NO", "nope": "NO",
    "menneske": "HUMAN", "medarbejder": "HUMAN",
    "annuller": "CANCEL", "afbryd": "CANCEL", "stop det": "CANCEL", "fortryd": "CANCEL",
    "/start": "GREET",
}
_LINK = re.compile(r"^\s*link\s+(\d{5})\s+(\d{4})\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Keyword:
    name: str
    args: tuple[str, ...] = ()


def keyword_of(text: str) -> Keyword | None:
    """A message that is just a keyword (or LINK with its arguments); None otherwise."""
    link = _LINK.match(text)
    if link:
        return Keyword("LINK", (link.group(1), link.group(2)))
    if fold(text).startswith("link"):
        return Keyword("LINK")
    stripped = text.strip().lower()
    if stripped in ("/start", "/help"):
        return Keyword(_SINGLE[stripped])
    return Keyword(_SINGLE[fold(text)]) if fold(text) in _SINGLE else None
