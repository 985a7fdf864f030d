"""Danish numbers, amounts and dates as words a Danish voice reads well.

A text-to-speech voice reads "2.060,50 kr." digit by digit or as a decimal; a caller should
hear "to tusind og tres kroner og halvtreds øre", and a date as "fredag den 5. december".
"""

from __future__ import annotations

import datetime as dt

_UNITS = ("nul", "en", "to", "tre", "fire", "fem", "seks", "syv", "otte", "ni", "ti", "elleve",
          "tolv", "tretten", "fjorten", "femten", "seksten", "sytten", "atten", "nitten")
_TENS = {2: "tyve", 3: "tredive", 4: "fyrre", 5: "halvtreds", 6: "tres", 7: "halvfjerds",
         8: "firs", 9: "halvfems"}
WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
MONTHS = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september",
          "oktober", "november", "december")


def _below_hundred(n: int) -> str:
    if n < 20:
        return _UNITS[n]
    tens, unit = divmod(n, 10)
    return _TENS[tens] if unit == 0 else f"{_UNITS[unit]}og{_TENS[tens]}"


def _below_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    if hundreds == 0:
        return _below_hundred(rest)
    head = "et hundrede" if hundreds == 1 else f"{_UNITS[hundreds]} hundrede"
    return head if rest == 0 else f"{head} og {_below_hundred(rest)}"


def number_words(n: int) -> str:
    """0 to 999.999.999 in words: 2060 "to tusind og tres", 1250 "et tusind to hundrede og
    halvtreds", 42766 "toogfyrre tusind syv hundrede og seksogtres"."""
    if n < 0:
        return f"minus {number_words(-n)}"
    if n < 1000:
        return _below_thousand(n)
    if n < 1_000_000:
        thousands, rest = divmod(n, 1000)
        head = "et tusind" if thousands == 1 else f"{_below_thousand(thousands)} tusind"
    else:
        millions, rest = divmod(n, 1_000_000)
        head = "en million" if millions == 1 else f"{number_words(millions)} millioner"
        if rest >= 1000:
            return f"{head} {number_words(rest)}"
    if rest == 0:
        return head
    joiner = " og " if rest < 100 else " "
    return f"{head}{joiner}{_below_thousand(rest)}"


def amount_words(ore: int) -> str:
    """An amount in øre as kroner and øre: 206050 -> "to tusind og tres kroner og halvtreds
    øre"; 100 -> "en krone"."""
    kroner, rest = divmod(abs(ore), 100)
    spoken = "en krone" if kroner == 1 else f"{number_words(kroner)} kroner"
    if rest:
        spoken += f" og {'et' if rest == 1 else number_words(rest)} øre"
    return f"minus {spoken}" if ore < 0 else spoken


def digit_words(digits: str, *, pairs: bool = False) -> str:
    """A number said figure by figure ("48213": "fire, otte, to, en, tre"), or a phone number
    in pairs as Danes say it ("70201201": "halvfjerds, tyve, tolv, nul en")."""
    only = "".join(ch for ch in digits if ch.isdigit())
    if not pairs or len(only) % 2:
        return ", ".join(_UNITS[int(ch)] for ch in only)
    said = []
    for i in range(0, len(only), 2):
        pair = only[i:i + 2]
        said.append(f"nul {_UNITS[int(pair[1])]}" if pair[0] == "0" else _below_hundred(int(pair)))
    return ", ".join(said)


def date_words(day: dt.date, today: dt.date) -> str:
    """"fredag den 5. december", with the year only when it is not this year."""
    said = f"{WEEKDAYS[day.weekday()]} den {day.day}. {MONTHS[day.month - 1]}"
    return said if day.year == today.year else f"{said} {day.year}"
