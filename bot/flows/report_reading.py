"""What an employer's message says about a wage report: cards, amounts, hours, a payment date,
a work period, and what in it cannot be used as written.

Read by the question asked: a bare "40000" after "Hvor meget?" is an amount and after "Hvad er
frikortnummeret?" a card; "4 1/2", "4,5" and "halv fem" after "Hvor mange timer?" are hours.
A message naming several cards is split into one part per card. Nothing here touches the
ledger: whether a five-digit number is a known card is asked through `known_card`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from bot.textmatch import fold
from nlu import Entity, ParseResult, read_number

_CARD_CUE = re.compile(r"(?:frikort|kort|nr|nummer|id|til|for|og|,)\W*$", re.IGNORECASE)
_SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")
_WEEK = re.compile(r"\buge\s*(\d{1,2})\b(?!\s*(?:t|timer|time|h|kr|kroner)\b|[.,]\d)")
"""A week by number, not "sidste uge 10 timer" (ten hours last week)."""
_MONTH_NAMES = {
    "januar": 1, "februar": 2, "marts": 3, "april": 4, "maj": 5, "juni": 6, "juli": 7,
    "august": 8, "september": 9, "oktober": 10, "november": 11, "december": 12,
}
_MONTH = re.compile(r"\b(?:for|i|hele|fra|gennem)?\s*(?:hele\s+)?(" + "|".join(
    fold(m) for m in _MONTH_NAMES) + r")\b(?!\s*\d+(?![\d.,]*\s*(?:t|timer|time|kr|kroner)\b))")
_MONTH_RANGE = re.compile(r"\b(til|og frem til|-)\b|\w-\w")
_THIS_MONTH = re.compile(r"\b(hele maneden|denne maned|den her maned|i maneden)\b")
_LAST_MONTH = re.compile(r"\b(sidste maned|forrige maned)\b")
_THIS_WEEK = re.compile(r"\b(hele ugen|denne uge|i denne uge|den her uge)\b")
_LAST_WEEK = re.compile(r"\b(sidste uge|forrige uge|i sidste uge)\b")


@dataclass
class Part:
    """What one report in the message says (one per card named; one if no card is named)."""

    card_number: str | None = None
    amounts: list[Decimal] = field(default_factory=list)
    hours: list[Decimal] = field(default_factory=list)
    rates: list[Decimal] = field(default_factory=list)
    """Kroner per hour ("130 kr i timen", "à 140 kr"): the amount is the rate times the hours."""


@dataclass
class Reading:
    parts: list[Part]
    paid_on: dt.date | None = None
    period: tuple[dt.date, dt.date] | None = None
    problems: list[str] = field(default_factory=list)
    """"negative", "scientific", "several_amounts", "several_hours", "future_date": what is
    not taken as written, so the bot says so and asks again rather than changing the figure
    (a payment date still to come is never moved back a year: wages are reported once paid)."""

    @property
    def cards(self) -> list[str]:
        return [p.card_number for p in self.parts if p.card_number]

    @property
    def has_figures(self) -> bool:
        return bool(self.cards or self.paid_on or self.period
                    or any(p.amounts or p.hours for p in self.parts))


_ADDED = re.compile(r"(?:\s+(?:i\s+)?(?:man|tirs|ons|tors|fre|lør|lor|søn|son)dag(?:s|en)?|"
                    r"\s+(?:i\s+)?(?:går|gar|forgårs|forgars|morges|aftes)|\s+den\s+\d{1,2}\.?)?"
                    r"\s*(?:,|og|\+|plus|samt|og\s+så|og\s+sa)\s*", re.IGNORECASE)
"""Between two counts of hours that add up: a day, then "og" ("2 timer mandag og 3 timer
tirsdag", "2 timer + 3 timer"); "eller" and corrections stay several figures, asked again."""
_BARE_NEGATIVE = re.compile(r"^\s*(?:-|−|minus\b)\s*\d[\d.,]*\s*[.!]?\s*$", re.IGNORECASE)


def read(parse: ParseResult, today: dt.date, known_card: Callable[[str], bool],
         employees: Sequence[tuple[str, str]] = ()) -> Reading:
    """The figures in the message, split per card, resolved against `today`; an employee may
    be named by first name (`employees`: the employer's own, first name and card)."""
    text = parse["text"]
    entities = _cards_read_as_amounts(text, sorted(parse["entities"], key=lambda e: e["start"]),
                                      known_card)
    cards = _with_names(_cards(text, entities, known_card), text, employees, known_card)
    figures = [e["start"] for e in entities if e["entity"] in ("amount", "hours")]
    after = bool(cards and figures and figures[0] < cards[0][0])  # "3 timer 450 kr til jens"
    parts = [Part(card_number=card) for _, card in cards] or [Part()]
    reading = Reading(parts=parts)
    if _SCIENTIFIC.search(text):
        reading.problems.append("scientific")
    if _BARE_NEGATIVE.match(text):
        reading.problems.append("negative")  # "-500" or "minus 500" on its own, no unit
    last_hours_end = 0
    for entity in entities:
        part = _part_at(parts, cards, entity["start"], after=after)
        if entity["entity"] == "amount":
            value = Decimal(entity["value"])
            if value <= 0:
                reading.problems.append("negative")
            elif _is_rate(text, entity):
                part.rates.append(value)
            else:
                part.amounts.append(value)
        elif entity["entity"] == "hours":
            if part.hours and _ADDED.fullmatch(text, last_hours_end, entity["start"]):
                part.hours[-1] += Decimal(entity["value"])  # "2 timer mandag og 3 timer tirsdag"
            else:
                part.hours.append(Decimal(entity["value"]))
            last_hours_end = entity["end"]
        elif entity["entity"] == "date":
            paid_on = dt.date.fromisoformat(entity["value"])
            if paid_on > today:  # "i morgen", "på fredag", "10.12" said before it
                reading.problems.append("future_date")
            else:
                reading.paid_on = paid_on
        elif entity["entity"] == "card_number" and (entity["start"], entity["value"]) not in cards:
            # A five-digit number that is no card here: an amount without "kr" ("40000").
            part.amounts.append(Decimal(entity["value"]))
    _bare_amounts(text, entities, cards, parts)
    if len(parts) == 1:
        _holiday_pay(text, parts[0], reading)
    for part in parts:
        if part.rates and part.hours and not part.amounts and len(set(part.hours)) == 1:
            part.amounts.append((part.rates[0] * part.hours[0]).quantize(Decimal("0.01")))
        if len(set(part.amounts)) > 1:
            reading.problems.append("several_amounts")
        if len(set(part.hours)) > 1:
            reading.problems.append("several_hours")
    reading.period = period_of(text, today)
    return reading


_PER_HOUR_AFTER = re.compile(r"\s*(?:kr\.?|kroner|,-)?\s*(?:i timen|i time\b|pr\.?\s*time|"
                             r"per time|om timen|/\s*t(?:ime)?\b|timen\b)", re.IGNORECASE)
_PER_HOUR_BEFORE = re.compile(r"(?:\b[aà]|á|timelon(?:nen)? (?:er |pa |på )?|timeløn(?:nen)? "
                              r"(?:er |på )?)\s*$", re.IGNORECASE)


_EXTRA_PAY = re.compile(r"(?:\+|\bplus|\bog|\bsamt|\boven ?i)\s*(?:(\d[\d.]*(?:,\d{1,2})?)\s*"
                        r"(?:kr\.?|kroner|,-)?\s*)?(?:i\s+)?(?:feriepenge|ferietillæg|"
                        r"feriegodtgørelse|pension)\b", re.IGNORECASE)
"""Holiday pay or pension said beside the wage ("780 kr + 97,50 feriepenge"): it counts too."""


def _holiday_pay(text: str, part: Part, reading: Reading) -> None:
    """Holiday pay or pension added to the wage is added to the amount (it counts towards the
    cap, and the read-back shows the total); named without a figure, the total is asked."""
    found = _EXTRA_PAY.search(text)
    if found is None or not part.amounts:
        return
    if found.group(1) is None:
        reading.problems.append("extra_pay_unknown")  # "2860 kr plus feriepenge": how much?
        return
    extra = read_number(found.group(1))
    if extra is None or extra <= 0:
        return
    if len(part.amounts) == 2 and extra in part.amounts:  # "780 kr + 97,50 kr feriepenge"
        part.amounts.remove(extra)
    if len(part.amounts) == 1:
        part.amounts[0] += extra


_NOT_AN_AMOUNT_BEFORE = re.compile(r"\b(?:uge|den|d\.|år|aar|nr\.?|nummer|frikort|kort)\s*$",
                                   re.IGNORECASE)
_SMALLEST_BARE_AMOUNT = 50
"""A bare number below this beside the hours is more likely a day or a count than kroner."""


def _bare_amounts(text: str, entities: list[Entity], cards: list[tuple[int, str]],
                  parts: list[Part]) -> None:
    """A part with hours but no amount takes the one bare number in its stretch of the message
    as the amount ("mette 3 timer 450 og jens 5 timer 750"); the read-back confirms it."""
    taken = [(e["start"], e["end"]) for e in entities]
    bounds = [start for start, _ in cards] or [0]
    for index, part in enumerate(parts):
        if part.amounts or part.rates or not part.hours:
            continue
        begin = bounds[index] if index < len(bounds) else 0
        end = bounds[index + 1] if index + 1 < len(bounds) else len(text)
        found = [m for m in _LOOSE_NUMBER.finditer(text, begin, end)
                 if not any(a < m.end() and m.start() < b for a, b in taken)
                 and not _NOT_AN_AMOUNT_BEFORE.search(text, 0, m.start())]
        values = [read_number(m.group(1)) for m in found]
        if len(values) == 1 and values[0] is not None and values[0] >= _SMALLEST_BARE_AMOUNT:
            per_hour = _PER_HOUR_AFTER.match(text, found[0].end()) is not None
            (part.rates if per_hour else part.amounts).append(values[0])  # "4 timer, 135/t"


def _cards_read_as_amounts(text: str, entities: list[Entity],
                           known_card: Callable[[str], bool]) -> list[Entity]:
    """"indberet løn 48213 3 timer 390 kr": a bare five-digit number that is a card, beside
    another amount, is the card (the word "løn" before it made it look like kroner)."""
    amounts = [e for e in entities if e["entity"] == "amount"]
    if len(amounts) < 2:
        return entities
    fixed: list[Entity] = []
    for entity in entities:
        raw = text[entity["start"]:entity["end"]].strip()
        if entity["entity"] == "amount" and re.fullmatch(r"\d{5}", raw) and known_card(raw):
            entity = {**entity, "entity": "card_number", "value": raw}
        fixed.append(entity)
    return fixed


def _is_rate(text: str, entity: Entity) -> bool:
    """An amount said per hour: "130 kr i timen", "8 timer à 140 kr", "timeløn 130"."""
    return _PER_HOUR_AFTER.match(text, entity["end"]) is not None \
        or _PER_HOUR_BEFORE.search(text, 0, entity["start"]) is not None


def _cards(text: str, entities: list[Entity], known_card: Callable[[str], bool]
           ) -> list[tuple[int, str]]:
    """(position, number) of the five-digit numbers that name cards: after a cue word
    ("frikort 48213", "til 51736"), or known to the ledger, or the only one in the message."""
    found = [(e["start"], str(e["value"])) for e in entities if e["entity"] == "card_number"]
    if len(found) <= 1:
        return found
    named = [(start, number) for start, number in found
             if _CARD_CUE.search(text, 0, start) or known_card(number)]
    return named or found[-1:]


def _with_names(cards: list[tuple[int, str]], text: str, employees: Sequence[tuple[str, str]],
                known_card: Callable[[str], bool]) -> list[tuple[int, str]]:
    """Cards named by first name join the typed ones when together they are two or more
    ("mette 3 timer 450 og jens 5 timer 750"); one name alone is left to the flow. Beside a
    name, a five-digit number that is no card is an amount ("betalt jens 45000 i år")."""
    named = [(found.start(), card) for first, card in employees
             for found in re.finditer(rf"(?<!\w){re.escape(first)}s?(?!\w)", text, re.IGNORECASE)]
    typed = [(start, card) for start, card in cards if not named or known_card(card)]
    unique: list[tuple[int, str]] = []
    for start, card in sorted({*typed, *named}, reverse=True):  # each card once, where it is
        if card not in {known for _, known in unique}:  # last named: "jens og mette, jens 3
            unique.append((start, card))  # timer 450 og mette 2 timer 300 kr"
    unique.reverse()
    return unique if len(unique) > 1 and named else typed


def _part_at(parts: list[Part], cards: list[tuple[int, str]], position: int, *,
             after: bool) -> Part:
    """Figures belong to the card named before them (or the first card, if none is); in a
    message whose figures come first ("3 timer 450 kr til 48213 og ..."), to the card named
    after them."""
    if after:
        return next((parts[i] for i, (start, _) in enumerate(cards) if start >= position),
                    parts[-1])
    index = 0
    for i, (start, _) in enumerate(cards):
        if start <= position:
            index = i
    return parts[index]


def period_of(text: str, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """The work period a message names: "for november", "uge 48", "hele måneden",
    "sidste uge"; never reaching past today."""
    folded = fold(text)
    if (week := _WEEK.search(folded)) is not None:
        return _week(int(week.group(1)), today)
    if _LAST_WEEK.search(folded):
        monday = today - dt.timedelta(days=today.weekday() + 7)
        return monday, monday + dt.timedelta(days=6)
    if _THIS_WEEK.search(folded):
        return today - dt.timedelta(days=today.weekday()), today
    if _LAST_MONTH.search(folded):
        last = today.replace(day=1) - dt.timedelta(days=1)
        return last.replace(day=1), last
    if _THIS_MONTH.search(folded):
        return today.replace(day=1), today
    months = [_MONTH_NAMES[_unfold_month(m.group(1))] for m in _MONTH.finditer(folded)]
    if len(months) >= 2 and _MONTH_RANGE.search(folded):  # "januar til november"
        (start, _), (later, end) = _month(months[0], today), _month(months[-1], today)
        if start <= later:
            return start, end
    if months:
        return _month(months[0], today)
    return None


def _unfold_month(folded: str) -> str:
    return next(name for name in _MONTH_NAMES if fold(name) == folded)


def _week(number: int, today: dt.date) -> tuple[dt.date, dt.date] | None:
    for year in (today.year, today.year - 1):
        try:
            monday = dt.date.fromisocalendar(year, number, 1)
        except ValueError:
            continue
        if monday <= today:
            return monday, min(monday + dt.timedelta(days=6), today)
    return None


def _month(month: int, today: dt.date) -> tuple[dt.date, dt.date]:
    year = today.year if month <= today.month else today.year - 1
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    return dt.date(year, month, 1), min(last, today)


def bare_answer(text: str, asking: str | None) -> str | None:
    """A message that is only a value, read as the answer to the question asked, as the slot's
    stored form: a card "48213", an amount "40000.00", hours "4.5". None otherwise."""
    stripped = text.strip()
    if asking == "card_number":
        digits = re.sub(r"\D", "", stripped)
        words = re.sub(r"[\d\s.,:#-]", "", fold(stripped).replace("nr", "").replace("kort", ""))
        return digits if len(digits) == 5 and not words else None
    if asking not in ("amount", "hours"):
        return None
    cleaned = re.sub(r"(?i)\b(kr|kroner|timer|time|t)\b\.?", "", stripped)
    if asking == "hours" and re.search(r"(?i)\bkr|kroner", stripped):
        return None
    if asking == "amount" and re.search(r"(?i)\btim", stripped):
        return None
    value = read_number(cleaned)
    if value is None or value <= 0:
        return None
    return f"{value:.2f}" if asking == "amount" else f"{value.normalize():f}"


_LOOSE_NUMBER = re.compile(r"(?<![\d.,])(\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?|\d+(?:,\d{1,2})?)"
                           r"(?![\d.,]*\d)(?!\s*(?:t|timer|time|h|%|procent)\b)")


def loose_amount(text: str) -> Decimal | None:
    """The one number in a sentence that is no hours, date or percentage, as an amount: "ok så
    er det 731", "nej vent det skal være 731 med feriepenge". None unless there is just one."""
    found = [m.group(1) for m in _LOOSE_NUMBER.finditer(text)]
    if len(found) != 1 or len(re.sub(r"\D", "", found[0])) == 5:  # five digits: a card
        return None
    value = read_number(found[0])
    return value if value is not None and value > 0 else None


_WRONG_FIELD = (
    ("amount", re.compile(r"\b(belob\w*|beloeb\w*|kroner|kr|lonnen|pengene|summen)\b")),
    ("hours", re.compile(r"\b(timer|timerne|timetal\w*)\b")),
    ("card_number", re.compile(r"\b(kort\w*|frikort\w*|nummer\w*|nr)\b")),
)


def wrong_field(text: str) -> str | None:
    """The one figure a NEJ at the read-back says is wrong ("nej beløbet er forkert"), if it
    names exactly one."""
    folded = fold(text)
    named = [field for field, words in _WRONG_FIELD if words.search(folded)]
    return named[0] if len(named) == 1 else None


_NUMBER_TOKEN = re.compile(r"\d[\d.,]*\d|\d")


def named_correction(text: str, asking: str | None, filled: Mapping[str, object]
                     ) -> tuple[str, str] | None:
    """"ret beløbet til 900" while another question waits: (the figure named, its new value),
    when that figure was already given and the message holds exactly one number."""
    field = wrong_field(text)
    numbers = _NUMBER_TOKEN.findall(text)
    if field is None or field == asking or field not in filled or len(numbers) != 1:
        return None
    value = bare_answer(numbers[0], field)
    return (field, value) if value is not None else None
