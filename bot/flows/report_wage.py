"""An employer reports wages: collect, read back, JA posts, NEJ voids, silence lets it expire."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError

from bot.compose import danish_date, hours_text, kroner
from bot.context import Step
from bot.flows.employer import require_verified
from bot.texts import template, text
from ledger import CreateEmployment, LedgerError, PostReport, ReportWage, VoidReport
from ledger.errors import AmountOutOfBounds, CardNotFound, HoursImplausible, NoEmployment
from ledger.money import MoneyFormatError, parse_kroner
from ledger.results import WageReportResult
from ledger.service import employments, reports

FLOW = "report_wage"
QUESTIONS = (("card_number", "ask_card_number"), ("amount", "ask_amount"), ("hours", "ask_hours"))
YES = ("YES", "affirm")
NO = ("NO", "deny")


def start(step: Step) -> None:
    if not require_verified(step):
        return
    step.start_flow(FLOW)
    _take_entities(step)
    _advance(step)


def resume_question(step: Step) -> str | None:
    """The question to repeat after an interruption (a rule question mid-report)."""
    asking = step.state.get("asking")
    if asking == "confirm":
        return text("confirm_again")
    return next((text(key) for slot, key in QUESTIONS if slot == asking), None)


def proceed(step: Step, answer: str | None) -> None:
    """Handles the next message of an ongoing report; `answer` is YES, NO or None."""
    asking = step.state.get("asking")
    if asking == "confirm":
        _confirm(step, answer)
    elif asking == "create_employment":
        _employment_answer(step, answer)
    elif _take_entities(step) or take_bare_answer(step, asking):
        _advance(step)
    else:
        step.say("not_understood_slot", question=resume_question(step) or "")


def _take_entities(step: Step) -> bool:
    """Fills (or corrects) slots from the message's entities; True if any was found."""
    found = False
    for slot, entity in (("card_number", "card_number"), ("amount", "amount"),
                         ("hours", "hours"), ("paid_on", "date")):
        value = step.entity(entity)
        if value is not None:
            step.slots[slot] = value
            found = True
    return found


def take_bare_answer(step: Step, asking: str | None) -> bool:
    """'600' after 'how much?' or '4' after 'how many hours?' is an answer, not a number."""
    raw = step.inbound.text.strip().replace(",", ".").rstrip(".-")
    try:
        number = Decimal(raw)
    except InvalidOperation:
        return False
    if not number.is_finite():  # "NaN", "Infinity": not an answer (and NaN cannot be compared)
        return False
    if asking == "amount" and number > 0:
        step.slots["amount"] = f"{number:.2f}"
        return True
    if asking == "hours" and number >= 0:
        step.slots["hours"] = str(number.normalize())
        return True
    return False


def _advance(step: Step) -> None:
    for slot, key in QUESTIONS:
        if slot not in step.slots:
            step.ask(slot, key)
            return
    _create_pending(step)


def _command(step: Step) -> ReportWage:
    slots = step.slots
    paid_on = dt.date.fromisoformat(slots.get("paid_on", step.turn.today.isoformat()))
    return ReportWage(
        employer_cvr=step.identity.employer_cvr or "", card_number=slots["card_number"],
        paid_on=paid_on, hours=Decimal(slots["hours"]), amount_ore=parse_kroner(slots["amount"]),
        idempotency_key=step.idempotency_key("report"), post=False,
        source_message_id=step.inbound.provider_message_id)


def _unusable_slot(error: ValueError) -> str:
    """Which slot made the command impossible (pydantic's ValidationError is a ValueError too);
    anything but an amount or the hours is a bug, not an answer, and is raised again."""
    if isinstance(error, MoneyFormatError):
        return "amount"
    if isinstance(error, ValidationError) and error.errors():
        field = str(error.errors()[0]["loc"][0])
        if field in ("hours", "amount_ore"):
            return "hours" if field == "hours" else "amount"
    raise error


def _create_pending(step: Step) -> None:
    try:
        cmd = _command(step)
    except ValueError as error:  # an amount or hours no report can have, e.g. 13 digits of kroner
        slot = _unusable_slot(error)
        step.slots.pop(slot, None)
        step.state["asking"] = slot
        step.say("not_understood_slot", question=text(dict(QUESTIONS)[slot]))
        return
    try:
        result = step.turn.execute(reports.report_wage, cmd, step.actor())
    except NoEmployment:
        step.state["asking"] = "create_employment"
        step.say("ask_create_employment", employer=step.identity.employer_name or "",
                 card=cmd.card_number, start=danish_date(cmd.paid_on), buttons=("JA", "NEJ"))
        return
    except (CardNotFound, AmountOutOfBounds, HoursImplausible) as error:
        slot = {CardNotFound: "card_number", AmountOutOfBounds: "amount",
                HoursImplausible: "hours"}[type(error)]
        step.slots.pop(slot, None)
        step.say_text(error.message)
        _advance(step)
        return
    except LedgerError as error:
        step.end_flow()
        step.say("report_refused", reason=error.message)
        return
    step.state["pending_report_id"] = result.id
    step.state["asking"] = "confirm"
    _read_back(step, result)


def _read_back(step: Step, result: WageReportResult) -> None:
    body = text("readback", amount=kroner(result.amount_ore),
                hours=hours_text(result.hours, template("hours_one"), template("hours_many")),
                card=result.card_number, paid_on=danish_date(result.paid_on))
    if result.status == "awaiting_cap":
        body = f"{body} {text('readback_awaiting_cap')}"
    elif result.over_cap_ore:
        body = f"{body} {text('readback_over_cap', counted=kroner(result.counted_ore), over=kroner(result.over_cap_ore))}"
    step.say_text(body, buttons=("JA", "NEJ"))


def _confirm(step: Step, answer: str | None) -> None:
    report_id = int(step.state["pending_report_id"])
    if answer != "YES" and _take_entities(step):
        # A correction ("600 kr" or "nej, det var 500 kr"): a NEJ that carries new figures
        # corrects rather than voids. Cancel the reservation just made, read the new one back.
        step.turn.execute(reports.void_report, VoidReport(report_id=report_id, reason="rettet"),
                          step.actor())
        step.state.pop("pending_report_id", None)
        _create_pending(step)
        return
    if answer is None:
        step.say("confirm_again", buttons=("JA", "NEJ"))
        return
    step.state.pop("pending_report_id", None)  # settled here by JA or NEJ, not abandoned
    step.end_flow()
    try:
        if answer == "NO":
            step.turn.execute(reports.void_report, VoidReport(report_id=report_id), step.actor())
            step.say("voided")
            return
        result = step.turn.execute(reports.post_report, PostReport(report_id=report_id),
                                   step.actor())
    except LedgerError as error:
        step.say_text(error.message)
        return
    tell_employer(step, result)
    _tell_card_holder(step, result)


def tell_employer(step: Step, result: WageReportResult) -> None:
    if result.status == "awaiting_cap":
        step.say("posted_awaiting_cap")
    elif result.over_cap_ore:
        step.say("posted_over_cap", counted=kroner(result.counted_ore),
                 over=kroner(result.over_cap_ore), card=result.card_number)
    else:
        step.say("posted", amount=kroner(result.amount_ore), card=result.card_number)


def _tell_card_holder(step: Step, result: WageReportResult) -> None:
    hours = hours_text(result.hours, template("hours_one"), template("hours_many"))
    employer = step.identity.employer_name or ""
    balance = result.balance
    if balance.remaining_ore is None or result.status == "awaiting_cap":
        body = text("holder_notified_no_cap", employer=employer, amount=kroner(result.amount_ore),
                    hours=hours)
    else:
        body = text("holder_notified", employer=employer, amount=kroner(result.amount_ore),
                    hours=hours, earned=kroner(balance.posted_ore), year=balance.year,
                    remaining=kroner(balance.remaining_ore))
        if result.over_cap_ore:
            body = f"{body} {text('holder_over_cap_note', over=kroner(result.over_cap_ore))}"
    step.turn.notify_card_holder(result.card_number, body)


def _employment_answer(step: Step, answer: str | None) -> None:
    cmd = _command(step)
    if answer not in ("YES", "NO"):
        # Repeat the question asked (create the employment?), not the report's JA/NEJ.
        step.say("ask_create_employment", employer=step.identity.employer_name or "",
                 card=cmd.card_number, start=danish_date(cmd.paid_on),
                 buttons=("JA", "NEJ"))
        return
    if answer == "NO":
        step.end_flow()
        step.say("employment_declined")
        return
    weekly = cmd.hours if cmd.hours > 0 else Decimal(1)
    created = step.turn.execute(employments.create_employment, CreateEmployment(
        employer_cvr=cmd.employer_cvr, card_number=cmd.card_number,
        start_date=min(cmd.paid_on, step.turn.today), weekly_hours=weekly), step.actor())
    step.say("employment_created")
    if created.contract_required:
        step.say("employment_contract_note")
    _create_pending(step)
