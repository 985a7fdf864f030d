"""Rule questions, answered from bot/knowledge with figures from the ledger's cap table."""

from __future__ import annotations

from bot.compose import danish_date, kroner_whole
from bot.context import Step
from bot.knowledge import render
from ledger.errors import CardNotFound


def cap_values(step: Step) -> dict[str, str]:
    """The year's cap if loaded (else empty), and the latest known one for the fallback text."""
    year = step.turn.today.year
    values = {"year": str(year)}
    caps = step.turn.caps()  # the newest per year: the same figures as cap(year), latest_cap()
    cap = next((c for c in caps if c.year == year), None)
    if cap is not None:
        values["cap"] = kroner_whole(cap.amount_ore)
        values["cap_year"] = str(cap.year)
    latest = caps[-1] if caps else None
    if latest is not None:
        values["latest_cap"] = kroner_whole(latest.amount_ore)
        values["latest_cap_year"] = str(latest.year)
    return values


def personal_values(step: Step) -> tuple[str | None, dict[str, str]]:
    """For a linked card holder: the card's state and figures, which only they may see."""
    number = step.identity.card_number
    if number is None:
        return None, {}
    try:
        card = step.turn.card(number)
    except CardNotFound:
        return None, {}
    balance = step.turn.balance(number)
    values = {"earned": kroner_whole(balance.posted_ore),
              "next_control_due": danish_date(card.next_control_due)}
    if balance.remaining_ore is not None:
        values["remaining"] = kroner_whole(balance.remaining_ore)
    return card.status, values


def answer(step: Step, intent: str) -> None:
    """Answers a rule question and remembers it, so MERE can give the longer version."""
    found = step.knowledge.answer_for(intent, step.inbound.text)
    personal, values = personal_values(step)
    values.update(cap_values(step))
    step.say_text(render(found, values, personal=personal))
    step.state["last_answer"] = {"intent": intent, "id": found.id}


def more(step: Step) -> bool:
    """The longer text of the last rule answer; False when there is none."""
    last = step.state.get("last_answer")
    if not last:
        return False
    topic = step.knowledge.topic(last["intent"])
    found = next((a for a in topic.answers if a.id == last["id"]), None)
    if found is None or found.more is None:
        return False
    personal, values = personal_values(step)
    values.update(cap_values(step))
    step.say_text(render(found, values, more=True, personal=personal))
    return True
