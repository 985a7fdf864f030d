"""Reading an employer's task message with the NLU's entities and a few small rules.

"opslå job: havearbejde 3 timer fredag, 8000 Aarhus, 150 kr/time" gives the title (the
words after "opslå job:" that no other rule took), the hours, the day, the postcode and the
pay per hour. What is not clearly there is left out, and the flow asks for it: an amount
without "i timen" or "/time" is not taken as the hourly pay, because "800 kr for det hele"
is not a wage per hour, and a guess would be read back as a promise.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from bot.textmatch import fold
from db.reference_data import postcode_town
from nlu import Entity

PREFIX = re.compile(
    r"^\s*(?:(?:opsl(?:å|aa|a)|opret|publicer|nyt?)\s+(?:et\s+|en\s+)?"
    r"(?:job(?:opslag)?|opgave)\b\s*[:\-]?|(?:job(?:opslag)?|opgave)\s*[:\-])\s*",
    re.IGNORECASE)
POSTCODE = re.compile(r"(?<![\d.,:/-])(\d{4})(?!\d|[.,:/]\d|\s*(?:kr\b|kroner|,-))")
PER_HOUR_AFTER = re.compile(
    r"^\s*(?:kr\.?|kroner|,-)?\s*(?:/\s*(?:timen|time|t)\b|i\s+timen|pr\.?\s*(?:time|t)\b"
    r"|om\s+timen|i\s+timeløn)", re.IGNORECASE)
PER_HOUR_BEFORE = re.compile(r"timel(?:ø|o|oe)n(?:nen)?\s*(?:er|på|:)?\s*$", re.IGNORECASE)
PLACES = re.compile(r"\b(\d{1,2})\s*(?:personer|person|pers\.?|folk|mand|pladser|hjælpere)\b",
                    re.IGNORECASE)
OWN_LIST = re.compile(
    r"\b(?:kun\s+(?:for\s+)?(?:vores|jeres)\s+egne(?:\s+folk)?|kun\s+(?:for\s+)?folk\s+vi\s+"
    r"kender|egen\s+liste|egne\s+folk)\b", re.IGNORECASE)
SEPARATORS = re.compile(r"[,;\n]")
FILLER = frozenset("i på pa ca ca. cirka om kl kl. d. den til for og med af".split())
WEEK = dt.timedelta(days=7)
WEEKDAYS = frozenset(fold(day) for day in
                     "mandag tirsdag onsdag torsdag fredag lørdag søndag".split())
TITLE_CHARS = 60
"""A title is a few words ("havearbejde"); a longer one would not fit the read-back SMS."""


def read(text: str, entities: Iterable[Entity], today: dt.date, *,
         with_title: bool = True) -> dict[str, str]:
    """The slots found in `text`, as strings: title, postcode, start, end, hours, pay (kroner,
    "150.00"), places, audience. The title only after a prefix like "opslå job:"."""
    found: dict[str, str] = {}
    taken: list[tuple[int, int]] = []
    entities = list(entities)
    for entity in entities:
        if entity["entity"] in ("hours", "date", "amount", "phone", "card_number", "cvr"):
            taken.append((entity["start"], entity["end"]))
    _hours(found, entities)
    _dates(found, entities, text, today)
    _pay(found, entities, text, taken)
    _postcode(found, text, taken)
    for pattern, slot in ((PLACES, "places"), (OWN_LIST, "audience")):
        match = pattern.search(text)
        if match:
            found[slot] = match.group(1) if slot == "places" else "own_list"
            taken.append(match.span())
    prefix = PREFIX.match(text)
    if with_title and prefix:
        title = title_from(text, taken, start=prefix.end())
        if title:
            found["title"] = title
    return found


def title_from(text: str, taken: list[tuple[int, int]], start: int = 0) -> str | None:
    """The first part of `text` (after `start`) that no rule took, without filler words."""
    chars = list(text)
    for begin, end in taken:
        for index in range(max(begin, 0), min(end, len(chars))):
            chars[index] = " "
    for part in SEPARATORS.split("".join(chars)[start:]):
        words = part.split()
        while words and fold(words[0]) in FILLER | {"og"}:
            words.pop(0)
        while words and fold(words[-1]) in FILLER:
            words.pop()
        title = " ".join(words).strip(" .:-")
        if title and not title.isdigit():
            return title[:TITLE_CHARS]
    return None


def forward_date(value: str, said: str, today: dt.date) -> dt.date:
    """A weekday the NLU read as the last one ("fredag" on a Monday) means the next one: a
    task is posted for days to come. Other dates stay ("i går" is yesterday), and the flow
    says they have passed."""
    day = dt.date.fromisoformat(value)
    if day < today and today - day < WEEK and WEEKDAYS & set(fold(said).split()):
        day += WEEK
    return day


def number(text: str) -> Decimal | None:
    """A bare answer like "3", "2,5" or "150 kr" to a question about hours or pay."""
    raw = re.sub(r"\s*(?:kr\.?|kroner|,-|timer?|t)\s*$", "", text.strip(), flags=re.IGNORECASE)
    raw = re.sub(r"^(?:ca\.?|cirka|omkring)\s*", "", raw, flags=re.IGNORECASE)
    try:
        value = Decimal(raw.replace(",", "."))
    except InvalidOperation:
        return None
    return value if value.is_finite() and value > 0 else None


def _hours(found: dict[str, str], entities: list[Entity]) -> None:
    for entity in entities:
        if entity["entity"] == "hours":
            found["hours"] = entity["value"]
            return


def _dates(found: dict[str, str], entities: list[Entity], text: str, today: dt.date) -> None:
    days = sorted(forward_date(e["value"], text[e["start"]:e["end"]], today)
                  for e in entities if e["entity"] == "date")
    if days:
        found["start"], found["end"] = days[0].isoformat(), days[-1].isoformat()


def _pay(found: dict[str, str], entities: list[Entity], text: str,
         taken: list[tuple[int, int]]) -> None:
    for entity in entities:
        if entity["entity"] != "amount":
            continue
        after = PER_HOUR_AFTER.match(text[entity["end"]:])
        if after:
            found["pay"] = entity["value"]
            taken.append((entity["end"], entity["end"] + after.end()))
            return
        if PER_HOUR_BEFORE.search(text[:entity["start"]]):
            found["pay"] = entity["value"]
            return


def _postcode(found: dict[str, str], text: str, taken: list[tuple[int, int]]) -> None:
    for match in POSTCODE.finditer(text):
        if any(begin <= match.start() < end for begin, end in taken):
            continue
        found["postcode"] = match.group(1)
        end = match.end()
        town = postcode_town(match.group(1))
        if town:  # "8000 Aarhus": the town is not part of the title
            rest = re.match(r"\s+(\S+)(?:\s+(\S+))?", text[end:])
            if rest and fold(rest.group(1)) == fold(town).split()[0]:
                end += rest.end(1)
                if rest.group(2) and fold(town).split()[1:2] == [fold(rest.group(2))]:
                    end += rest.end(2) - rest.end(1)
        taken.append((match.start(), end))
        return
