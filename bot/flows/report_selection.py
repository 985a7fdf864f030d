"""Which of several reports read back together the employer means to keep: "kun jens",
"mette har jeg allerede indberettet", "slet 51736"."""

from __future__ import annotations

import re

from bot.context import Step
from bot.flows.employer import employees_in
from bot.flows.report_pending import PENDING, pending, void, void_all
from bot.textmatch import fold

_CLAUSES = re.compile(r"[,.;!?]+|\bmen\b|\bog\b", re.IGNORECASE)
_KEEP = re.compile(r"\bkun\b|\bbare\b")
_DROP = re.compile(r"\b(ikke|slet|drop|fjern|uden|allerede|annuller\w*|glem)\b")
_CARD = re.compile(r"(?<!\d)\d{5}(?!\d)")


def cards_to_keep(step: Step, waiting: list[str]) -> list[str] | None:
    """The waiting cards to go on with, or None when the message keeps or drops none by name
    (then it is read as JA, NEJ or a correction, as before)."""
    keep: set[str] = set()
    drop: set[str] = set()
    for raw in _CLAUSES.split(step.inbound.text):  # before folding, which drops the commas
        clause = fold(raw)
        named = {card for card in _CARD.findall(clause) + employees_in(step, clause)
                 if card in waiting}
        if _KEEP.search(clause):
            keep |= named
        elif _DROP.search(clause):
            drop |= named
    if keep:
        return [card for card in waiting if card in keep]
    if drop:
        return [card for card in waiting if card not in drop]
    return None


def drop_unwanted(step: Step) -> bool:
    """"kun jens" or "mette har jeg allerede indberettet" at a read-back of several: the
    others are cancelled (True). What is left, if anything, is read back by the caller."""
    waiting = pending(step)
    kept = cards_to_keep(step, [e["card_number"] for e in waiting]) if len(waiting) > 1 else None
    if kept is None or len(kept) == len(waiting):
        return False
    if not kept:
        void_all(step)
        return True
    step.state[PENDING] = [e for e in waiting if e["card_number"] in kept]
    dropped = [e for e in waiting if e["card_number"] not in kept]
    for entry in dropped:
        void(step, int(entry["id"]), reason="")
    step.say("readback_dropped", cards=" og ".join(e["card_number"] for e in dropped))
    return True
