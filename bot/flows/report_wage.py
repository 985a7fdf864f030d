"""An employer reports wages: collect, read back, JA posts, NEJ voids, silence lets it expire.

Nothing is lost or replaced without a word: several cards in one message are read back
together; a new report for another card is added to the one waiting for JA, never put in its
place; a correction replaces only the report it corrects; every report posted or voided is
confirmed back. Slots are filled by the question asked (bot/flows/report_reading.py), and a
figure that cannot be used as written (a negative amount, "1e9", two amounts) is asked about,
never changed. Monthly pay with many hours gets a work period ("for november", "uge 48").
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from bot.context import Step
from bot.flows import report_card
from bot.flows.employer import employees_named, require_verified
from bot.flows.report_notices import hours_said, tell_card_holder, tell_employer
from bot.flows.report_pending import (FIGURES, PENDING, forget_settled, pending, void,
                                      void_all)
from bot.flows.report_problems import PAID_ON, QUESTIONS, refuse_problems
from bot.flows.report_readback import read_back
from bot.flows.report_reading import (Reading, bare_answer, loose_amount, named_correction, read,
                                      wrong_field)
from bot.flows.report_selection import drop_unwanted
from bot.messages import Reply
from bot.textmatch import fold
from bot.texts import text
from danish.money import MoneyFormatError, parse_kroner
from danish.wording import danish_date, kroner, kroner_whole
from db.errors import DomainError
from ledger import CreateEmployment, PostReport, ReportWage
from ledger.errors import AmountOutOfBounds, CardNotFound, HoursImplausible, NoEmployment

FLOW = "report_wage"
REPORT_POSTED = "report_posted"
"""Topic: reports were just posted, so "ups, det skulle være 500" is about them."""
LOWEST_RATE = Decimal(30)
HIGHEST_RATE = Decimal(1000)
"""Kroner per hour outside which a figure is asked back before anything is reserved."""


def start(step: Step) -> None:
    if not require_verified(step):
        return
    step.start_flow(FLOW)
    reading = _read(step)
    if refuse_problems(step, reading, None):
        return
    if len(reading.parts) > 1:
        _several(step, reading)
        return
    _take(step, reading)
    _advance(step)


def resume_question(step: Step) -> str | None:
    """The question to repeat after an interruption (a rule question mid-report)."""
    asking = step.state.get("asking")
    if asking == "confirm":
        return text("confirm_again")
    if asking in ("period", PAID_ON):
        return text(f"ask_{asking}")
    return next((text(key) for slot, key in QUESTIONS if slot == asking), None)


def proceed(step: Step, answer: str | None) -> None:
    """Handles the next message of an ongoing report; `answer` is YES, NO, HEDGE or None."""
    forget_settled(step)
    asking = step.state.get("asking")
    if asking == "confirm":
        _confirm(step, answer)
    elif asking == "create_employment":
        _employment_answer(step, answer)
    elif asking == "check_rate":
        _rate_answer(step, answer)
    elif asking == PAID_ON and answer in ("YES", "NO") and not step.entity("date"):
        step.end_flow()  # "ok": not paid yet, so nothing to report now
        step.say("paid_later")
    else:
        _fill(step, asking)


# --------------------------------------------------------------------------- reading figures


def _read(step: Step) -> Reading:
    own = step.turn.employees(step.identity.employer_cvr) if step.identity.employer_cvr else []
    return read(step.parse, step.turn.today, lambda number: _card_exists(step, number), own)


def _card_exists(step: Step, number: str) -> bool:
    try:
        step.ledger.card(number)
    except CardNotFound:
        return False
    return True


def _take(step: Step, reading: Reading) -> bool:
    """Explicit figures (with a unit or a cue word) fill or correct their slots; an employee
    named by first name ("Mette") is her card."""
    part = reading.parts[0]
    if part.card_number is None and "card_number" not in step.slots:
        named = employees_named(step)
        if len(named) == 1:
            part.card_number = named[0]
    if part.rates and not part.amounts and not part.hours and step.slots.get("hours"):
        part.amounts.append(part.rates[0] * Decimal(step.slots["hours"]))  # hours said before
    found = {
        "card_number": part.card_number,
        "amount": f"{part.amounts[0]:.2f}" if part.amounts else None,
        "hours": f"{part.hours[0].normalize():f}" if part.hours else None,
        "paid_on": reading.paid_on.isoformat() if reading.paid_on else None,
        "work_from": reading.period[0].isoformat() if reading.period else None,
        "work_to": reading.period[1].isoformat() if reading.period else None,
    }
    taken = {slot: value for slot, value in found.items() if value is not None}
    step.slots.update(taken)
    return bool(taken)


def take_bare_answer(step: Step, asking: str | None) -> bool:
    """'600' after 'how much?' or '4' after 'how many hours?' is an answer, not a number."""
    value = bare_answer(step.inbound.text, asking)
    if value is None or asking is None:
        return False
    step.slots[asking] = value
    return True


def _fill(step: Step, asking: str | None) -> None:
    if asking in ("period", PAID_ON):  # "hvilken periode?", "hvilken dag blev den betalt?"
        reading = _read(step)
        if refuse_problems(step, reading, asking):
            return
        if (reading.period if asking == "period" else reading.paid_on) is None:
            step.say("not_understood_slot", question=text(f"ask_{asking}"))
            return
        _take(step, reading)
        _advance(step)
        return
    if asking == "amount" and _repeats_card(step):
        _ask_again_noting(step, ["card_number"])  # "48213" again, not 48.213 kr.
        return
    if (card := _other_card(step, asking)) is not None:
        step.slots["card_number"] = card  # "hov, det var mettes nummer", or her number typed
        _ask_again_noting(step, ["card_number"])
        return
    if take_bare_answer(step, asking):  # the asked slot only: a filled one is never overwritten
        _advance(step)
        return
    if (fix := named_correction(step.inbound.text, asking, step.slots)) is not None:
        step.slots[fix[0]] = fix[1]  # "ret beløbet til 900" while the hours are asked
        _ask_again_noting(step, [fix[0]])
        return
    reading = _read(step)
    if refuse_problems(step, reading, asking):
        return
    if len(reading.parts) > 1:
        _several(step, reading)
        return
    before = set(step.slots)
    if _take(step, reading):
        by_name = asking == "card_number" and not any(ch.isdigit() for ch in step.inbound.text)
        if asking is not None and (asking not in step.slots or by_name):
            _ask_again_noting(step, [slot for slot in step.slots if slot not in before])
            return
        _advance(step)
        return
    if asking == "card_number" and not any(ch.isdigit() for ch in step.inbound.text):
        step.say("card_number_help")  # a name, "ved ikke": where the number is found
        return
    step.say("not_understood_slot", question=resume_question(step) or "")


_MEANT_OTHER = re.compile(r"\b(nej|hov|mente|forkert|skulle vare|det var)\b")


def _other_card(step: Step, asking: str | None) -> str | None:
    """Another of this employer's employees, while a figure is asked: named with a correction
    ("hov nej det var mettes nummer jeg mente") or her card number typed alone."""
    current = step.slots.get("card_number")
    cvr = step.identity.employer_cvr
    if current is None or cvr is None or asking not in ("amount", "hours"):
        return None
    cards = {card for _, card in step.turn.employees(cvr)} - {current}
    typed = step.inbound.text.strip().strip(".")
    if typed in cards:
        return typed
    named = [c for c in employees_named(step) if c != current]
    meant = _MEANT_OTHER.search(fold(step.inbound.text))
    return named[0] if len(named) == 1 and meant else None


def _repeats_card(step: Step) -> bool:
    """A bare number that is the card number already taken (the employer typing it again)."""
    card = step.slots.get("card_number")
    return card is not None and step.inbound.text.strip().strip(".") == card


def _ask_again_noting(step: Step, taken: list[str]) -> None:
    """The next question, led by what was just noted ('Noteret: frikort 48213.')."""
    noted = _noted(step, taken)
    first = len(step.replies)
    _advance(step)
    _lead_with(step, noted, first)


def _noted(step: Step, taken: list[str]) -> str | None:
    """'3 timer' after 'how much?': what was noted, said before the question again, or the
    question looks as if the answer was lost."""
    said = {"card_number": lambda v: text("noted_card", card=v),
            "amount": lambda v: kroner(parse_kroner(f"{Decimal(v):.2f}")),
            "hours": lambda v: hours_said(Decimal(v))}
    parts = [said[slot](step.slots[slot]) for slot, _ in QUESTIONS if slot in taken]
    return text("noted", what=", ".join(parts)) if parts else None


def _lead_with(step: Step, noted: str | None, first: int) -> None:
    """`noted` in front of the first reply said since `first` (one message, not two)."""
    if noted is None or len(step.replies) <= first:
        return
    reply = step.replies[first]
    step.replies[first] = Reply(f"{noted} {reply.text}", reply.buttons)


def _advance(step: Step) -> None:
    if report_card.unusable(step):
        return
    for slot, key in QUESTIONS:
        if slot not in step.slots:
            step.ask(slot, key)
            return
    if parse_kroner(f"{Decimal(step.slots['amount']):.2f}") > step.turn.max_report_ore:
        step.slots.pop("amount")  # no use asking "is that right?" about what cannot be taken
        step.say_text(AmountOutOfBounds(
            max_amount=kroner_whole(step.turn.max_report_ore)).message)
        step.ask("amount", "ask_amount")
        return
    if not step.state.get("rate_checked") and _implausible(step.slots):
        _ask_rate(step)
        return
    _createpending(step, [dict(step.slots)])


def _implausible(slots: dict[str, Any]) -> bool:
    hours = Decimal(slots["hours"])
    return hours > 0 and not LOWEST_RATE <= Decimal(slots["amount"]) / hours <= HIGHEST_RATE


def _ask_rate(step: Step) -> None:
    amount, hours = Decimal(step.slots["amount"]), Decimal(step.slots["hours"])
    step.state["asking"] = "check_rate"
    step.say("check_rate", buttons=("JA", "NEJ"), amount=kroner(parse_kroner(f"{amount:.2f}")),
             hours=hours_said(hours), rate=kroner(parse_kroner(f"{amount / hours:.2f}")))


def _rate_answer(step: Step, answer: str | None) -> None:
    if answer == "YES":
        step.state["rate_checked"] = True
        _advance(step)
        return
    reading = _read(step)
    if any(p.amounts or p.hours for p in reading.parts) and _take(step, reading):
        _advance(step)  # "450 kr", "4 timer": said which
        return
    if (number := loose_amount(step.inbound.text)) is not None:
        slot = _likelier_slot(step.slots, number)  # a bare "4": the figure that makes sense
        step.slots[slot] = f"{number:.2f}" if slot == "amount" else f"{number.normalize():f}"
        _advance(step)
        return
    step.say("check_rate_which")


def _likelier_slot(slots: dict[str, Any], number: Decimal) -> str:
    """Hours when the number makes a plausible hourly rate with the amount and not as an
    amount with the hours ("1000 kr for 1000 timer" corrected with "4"); else the amount."""
    amount, hours = Decimal(slots["amount"]), Decimal(slots["hours"])
    as_hours = number > 0 and LOWEST_RATE <= amount / number <= HIGHEST_RATE
    as_amount = hours > 0 and LOWEST_RATE <= number / hours <= HIGHEST_RATE
    return "hours" if as_hours and not as_amount else "amount"


# --------------------------------------------------------------------------- reserving


def _command(step: Step, figures: dict[str, Any], purpose: str) -> ReportWage:
    today = step.turn.today
    paid_on = dt.date.fromisoformat(figures.get("paid_on") or today.isoformat())
    work_from = figures.get("work_from")
    work_to = figures.get("work_to")
    return ReportWage(
        employer_cvr=step.identity.employer_cvr or "", card_number=figures["card_number"],
        paid_on=paid_on, hours=Decimal(figures["hours"]),
        amount_ore=parse_kroner(f"{Decimal(figures['amount']):.2f}"),
        idempotency_key=step.idempotency_key(purpose), post=False,
        work_from=dt.date.fromisoformat(work_from) if work_from else None,
        work_to=dt.date.fromisoformat(work_to) if work_to else None,
        source_message_id=step.inbound.provider_message_id)


def _createpending(step: Step, batch: list[dict[str, Any]]) -> None:
    """Reserves each report of the batch and reads all waiting ones back; one that cannot be
    made undoes the batch (nothing half-done) and says why."""
    made: list[dict[str, Any]] = []
    for index, figures in enumerate(batch):
        outcome = _reserve(step, figures, f"report:{len(pending(step)) + index}")
        if outcome is None:
            for entry in made:
                void(step, int(entry["id"]), reason="rettet")
            return
        made.append(outcome)
    step.state[PENDING] = [*pending(step), *made]
    step.state["asking"] = "confirm"
    step.state.pop("rate_checked", None)
    read_back(step)


def _reserve(step: Step, figures: dict[str, Any], purpose: str) -> dict[str, Any] | None:
    try:
        cmd = _command(step, figures, purpose)
    except (ValueError, MoneyFormatError, ValidationError):
        step.slots.pop("amount", None)
        step.ask("amount", "amount_unreadable")
        return None
    try:
        result = step.turn.execute(cmd, step.actor())
    except NoEmployment:
        step.slots.update(figures)
        step.state["asking"] = "create_employment"
        step.say("ask_create_employment", employer=step.identity.employer_name or "",
                 card=cmd.card_number, start=danish_date(_employment_start(step, cmd)),
                 buttons=("JA", "NEJ"))
        return None
    except HoursImplausible:
        step.slots.update(figures)
        if not figures.get("work_from"):
            step.state["asking"] = "period"
            step.say("hours_need_period", hours=hours_said(cmd.hours))
            return None
        step.slots.pop("hours", None)
        step.say_text(HoursImplausible().message)
        step.ask("hours", "ask_hours")
        return None
    except (CardNotFound, AmountOutOfBounds) as error:
        step.slots.update(figures)
        slot = "card_number" if isinstance(error, CardNotFound) else "amount"
        step.slots.pop(slot, None)
        step.say_text(error.message)
        step.ask(slot, dict(QUESTIONS)[slot])
        return None
    except DomainError as error:
        step.end_flow()
        step.say("report_refused", reason=error.message)
        step.state["last_topic"] = error.code  # "hvorfor det?" next is about this
        return None
    return {"id": result.id, **{k: figures.get(k) for k in FIGURES}}


def _several(step: Step, reading: Reading) -> None:
    """Several cards in one message: all complete ones are reserved and read back together;
    otherwise nothing is guessed, and the employer is asked to take one at a time."""
    incomplete = [p for p in reading.parts if not (p.card_number and p.amounts and p.hours)]
    if incomplete:
        _one_at_a_time(step, reading)
        return
    paid_on = reading.paid_on.isoformat() if reading.paid_on else None
    batch = [{"card_number": p.card_number, "amount": f"{p.amounts[0]:.2f}",
              "hours": f"{p.hours[0].normalize():f}", "paid_on": paid_on}
             for p in reading.parts]
    _createpending(step, batch)


NEXT_REPORTS = "next_reports"
"""State: the other cards of a message that named several, each with what it said."""


def _one_at_a_time(step: Step, reading: Reading) -> None:
    """"indberet løn for jens og mette": Jens's report first, then Mette's, each with the
    figures the message gave it; nothing is guessed."""
    parts = [{"card_number": p.card_number,
              "amount": f"{p.amounts[0]:.2f}" if len(set(p.amounts)) == 1 else None,
              "hours": f"{p.hours[0].normalize():f}" if len(set(p.hours)) == 1 else None}
             for p in reading.parts if p.card_number]
    step.slots.clear()
    step.slots.update({k: v for k, v in parts[0].items() if v is not None})
    step.state[NEXT_REPORTS] = parts[1:]
    step.say("several_one_at_a_time", card=parts[0]["card_number"])
    _advance(step)


def _next_report(step: Step) -> None:
    """After a report is done, the next card the same message named, if any."""
    waiting = step.state.get(NEXT_REPORTS) or []
    if not waiting:
        return
    step.start_flow(FLOW)
    step.state[NEXT_REPORTS] = waiting[1:]
    step.slots.update({k: v for k, v in waiting[0].items() if v is not None})
    step.say("several_next", card=waiting[0]["card_number"])
    _advance(step)


# --------------------------------------------------------------------------- JA, NEJ, corrections


def _confirm(step: Step, answer: str | None) -> None:
    reading = _read(step)
    if not pending(step):  # every read-back expired: new figures are a new report
        if reading.has_figures:
            _fresh(step, reading)
        else:
            step.end_flow()
        return
    if drop_unwanted(step):
        if pending(step):
            read_back(step)
        return
    if not reading.has_figures and _new_amount(step):
        return  # "ok så er det 731": a JA in words with a new amount is no JA
    if reading.has_figures and answer != "YES":
        _change(step, reading)  # "nej det var 450 kr", "ja men det var 5 timer"
        return
    if answer == "HEDGE":
        step.say("confirm_hedge", buttons=("JA", "NEJ"))
        return
    if answer == "YES":
        _post_all(step)
    elif answer == "NO" and (field := wrong_field(step.inbound.text)) and len(pending(step)) == 1:
        _reopen(step, pending(step)[0])  # "nej beløbet er forkert": ask for it again
        step.slots.pop(field, None)
        _advance(step)
    elif answer == "NO":
        void_all(step)
    elif bare_answer(step.inbound.text, "amount") is not None:
        step.say("confirm_bare", buttons=("JA", "NEJ"))
    else:
        step.say("confirm_again", buttons=("JA", "NEJ"))


def _fresh(step: Step, reading: Reading) -> None:
    step.state.pop("asking", None)
    if refuse_problems(step, reading, None):
        return
    if len(reading.parts) > 1:
        _several(step, reading)
        return
    _take(step, reading)
    _advance(step)


def _change(step: Step, reading: Reading) -> None:
    """A message with figures while reports wait for JA: another report, or a correction."""
    if refuse_problems(step, reading, "confirm"):
        step.say("confirm_again", buttons=("JA", "NEJ"))
        return
    waiting = pending(step)
    waiting_cards = {entry["card_number"] for entry in waiting}
    new_cards = [c for c in reading.cards if c not in waiting_cards]
    complete_new = [p for p in reading.parts if p.card_number in new_cards and p.amounts]
    if complete_new and all(p.hours for p in complete_new):
        _add_reports(step, reading, complete_new)
        return
    if not reading.cards and any(c not in waiting_cards for c in employees_named(step)):
        step.say("confirm_other_first", buttons=("JA", "NEJ"))  # "og så mette 4 timer"
        return
    target = _correction_target(waiting, reading, employees_named(step))
    if target is None:
        step.say("correct_which")
        return
    _reopen(step, target)
    if len(reading.parts) == 1 and reading.parts[0].card_number and len(waiting) == 1:
        step.slots["card_number"] = reading.parts[0].card_number  # "det var 51736"
    part = next((p for p in reading.parts if p.card_number == target["card_number"]),
                reading.parts[0])
    if part.amounts:
        step.slots["amount"] = f"{part.amounts[0]:.2f}"
    if part.hours:
        step.slots["hours"] = f"{part.hours[0].normalize():f}"
    if reading.paid_on:
        step.slots["paid_on"] = reading.paid_on.isoformat()
    if reading.period:
        step.slots["work_from"], step.slots["work_to"] = (d.isoformat() for d in reading.period)
    _advance(step)


def _new_amount(step: Step) -> bool:
    """One report waits and the message names another amount in passing: read back again
    with it, never post the old one."""
    waiting = pending(step)
    amount = loose_amount(step.inbound.text)
    if len(waiting) != 1 or amount is None or bare_answer(step.inbound.text, "amount") \
            or f"{amount:.2f}" == f"{Decimal(str(waiting[0]['amount'])):.2f}":
        return False
    _reopen(step, waiting[0])
    step.slots["amount"] = f"{amount:.2f}"
    _advance(step)
    return True


def _reopen(step: Step, target: dict[str, Any]) -> None:
    """Voids a report waiting for JA and puts its figures back as the flow's answers."""
    void(step, int(target["id"]), reason="rettet")
    step.state[PENDING] = [e for e in pending(step) if e["id"] != target["id"]]
    step.slots.clear()
    step.slots.update({k: v for k in FIGURES if (v := target.get(k)) is not None})
    step.state.pop("rate_checked", None)


def _correction_target(waiting: list[dict[str, Any]], reading: Reading,
                       by_name: list[str]) -> dict[str, Any] | None:
    """The one waiting report a correction is for: the only one, or the one whose card is
    typed or whose holder is named ("nej mette skal have 500 kr")."""
    if len(waiting) == 1:
        return waiting[0]
    named = [e for e in waiting if e["card_number"] in (reading.cards or by_name)]
    return named[0] if len(named) == 1 else None


def _add_reports(step: Step, reading: Reading, parts: list[Any]) -> None:
    """Another card while one waits for JA: both wait now, read back together."""
    paid_on = reading.paid_on.isoformat() if reading.paid_on else None
    _createpending(step, [{"card_number": p.card_number, "amount": f"{p.amounts[0]:.2f}",
                            "hours": f"{p.hours[0].normalize():f}", "paid_on": paid_on}
                           for p in parts])


def _post_all(step: Step) -> None:
    waiting, after = pending(step), step.state.get(NEXT_REPORTS)
    step.state[PENDING] = []
    step.end_flow()
    posted = []
    for entry in waiting:
        try:
            result = step.turn.execute(PostReport(report_id=int(entry["id"])),
                                       step.actor())
        except DomainError as error:
            step.say_text(text("report_not_posted", card=entry["card_number"],
                               reason=error.message))
            continue
        posted.append(result)
        tell_card_holder(step, result)
    if posted:
        step.state["last_topic"] = REPORT_POSTED
    for result in posted:
        tell_employer(step, result, many=len(posted) > 1)
    if len(posted) > 1:
        step.say("posted_many_tail")
    if after:
        step.state[NEXT_REPORTS] = after
        _next_report(step)


# --------------------------------------------------------------------------- the employment


def _employment_answer(step: Step, answer: str | None) -> None:
    figures = dict(step.slots)
    cmd = _command(step, figures, "employment")
    if answer not in ("YES", "NO"):
        # Repeat the question asked (create the employment?), not the report's JA/NEJ.
        step.say("ask_create_employment", employer=step.identity.employer_name or "",
                 card=cmd.card_number, start=danish_date(_employment_start(step, cmd)),
                 buttons=("JA", "NEJ"))
        return
    if answer == "NO":
        if pending(step):  # the other reports still wait for their JA
            step.state["asking"] = "confirm"
            step.say("employment_declined_others")
            read_back(step)
            return
        step.end_flow()
        step.say("employment_declined")
        return
    weekly = cmd.hours if cmd.hours > 0 else Decimal(1)
    start = _employment_start(step, cmd)
    try:
        created = step.turn.execute(CreateEmployment(
            employer_cvr=cmd.employer_cvr, card_number=cmd.card_number, start_date=start,
            weekly_hours=min(weekly, Decimal(168))), step.actor())
    except DomainError as error:  # one exists that starts after the work: a person sets it
        step.end_flow()
        step.say("employment_not_created", reason=error.message)
        return
    step.say("employment_created")
    if created.contract_required:
        step.say("employment_contract_note")
    _createpending(step, [figures])


def _employment_start(step: Step, cmd: ReportWage) -> dt.date:
    """The employment offered and made covers the work: from its first day, or the payment."""
    return min(cmd.paid_on, step.turn.today, cmd.work_from or step.turn.today)
