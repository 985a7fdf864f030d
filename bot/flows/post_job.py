"""An employer posts a small job by message: read what is there, ask one question at a time
for the rest, read it back, JA posts it (through `ledger.tasks`), NEJ drops it.

The ledger checks the rules (a known postcode, a window not in the past, sane hours and pay,
1 to 20 places) when JA posts; a refusal asks again for the one answer it was about, as the
wage-report flow does.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from pydantic import ValidationError

from bot.context import Step
from bot.flows import job_parse
from bot.flows.employer import require_verified
from bot.flows.job_format import hours, money, reply_title, window
from bot.textmatch import looks_like_question
from bot.texts import text
from danish.money import MoneyFormatError, parse_kroner
from db.errors import DomainError
from db.reference_data import postcode_town
from smalljobs.commands import PostTask

FLOW = "post_job"
QUESTIONS = (("title", "jobs.post_ask_title"), ("postcode", "jobs.post_ask_postcode"),
             ("start", "jobs.post_ask_date"), ("hours", "jobs.post_ask_hours"),
             ("pay", "jobs.post_ask_pay"))
COMMAND = re.compile(r"^\s*(?:opsl(?:å|aa|a)|opret|publicer)\s+(?:et\s+|en\s+)?"
                     r"(?:job|jobopslag|opgave)\b", re.IGNORECASE)
"""An explicit "opslå job ...": a posting whatever the classifier makes of the rest."""
REFUSED_SLOT = {"task_title_required": "title", "unknown_postcode": "postcode",
                "task_window_invalid": "start", "task_hours_implausible": "hours",
                "pay_per_hour_implausible": "pay", "places_out_of_range": "places"}
"""Which answer a refusal from `ledger.tasks.post_task` was about (asked again)."""


def is_command(message: str) -> bool:
    return COMMAND.match(message) is not None


def start(step: Step) -> None:
    if not require_verified(step):
        return
    step.start_flow(FLOW, **job_parse.read(step.inbound.text, step.parse["entities"],
                                           step.turn.today))
    _advance(step)


def resume_question(step: Step) -> str | None:
    asking = step.state.get("asking")
    if asking == "confirm":
        return text("jobs.post_confirm_again")
    return next((text(key) for slot, key in QUESTIONS if slot == asking), None)


def proceed(step: Step, answer: str | None) -> None:
    asking = step.state.get("asking")
    if asking == "confirm":
        _confirm(step, answer)
    elif _take_answer(step, asking):
        if asking is not None and asking not in step.slots:
            step.say("jobs.post_noted")  # "lørdag 4 timer" while the postcode is asked: kept
        _advance(step)
    elif asking == "postcode" and looks_like_question(step.inbound.text):
        step.say("jobs.post_postcode_help")  # "hvad skal jeg skrive her"
    else:
        step.say("not_understood_slot", question=resume_question(step) or "")


def _take_answer(step: Step, asking: str | None) -> bool:
    """What the message says (corrections included); a bare answer fills the asked slot."""
    found = job_parse.read(step.inbound.text, step.parse["entities"], step.turn.today,
                           with_title=asking != "title")
    if asking == "title" and "title" not in found:
        title = job_parse.title_from(step.inbound.text, [
            (e["start"], e["end"]) for e in step.parse["entities"]])
        if title:
            found["title"] = title
    if asking in ("hours", "pay") and asking not in found:
        amount = step.entity("amount") if asking == "pay" else None
        value = job_parse.number(amount or step.inbound.text)
        if value is not None:
            found[asking] = str(value)
    step.slots.update(found)
    return bool(found)


def _advance(step: Step) -> None:
    slots = step.slots
    if "postcode" in slots and postcode_town(slots["postcode"]) is None:
        step.say("jobs.post_postcode_unknown", postcode=slots.pop("postcode"))
    if "start" in slots and dt.date.fromisoformat(slots["start"]) < step.turn.today:
        slots.pop("start")
        slots.pop("end", None)
        step.say("jobs.post_date_past")
    for slot, key in QUESTIONS:
        if slot not in slots:
            step.ask(slot, key)
            return
    step.state["asking"] = "confirm"
    _read_back(step)


def _read_back(step: Step) -> None:
    slots = step.slots
    start_day = dt.date.fromisoformat(slots["start"])
    end_day = dt.date.fromisoformat(slots.get("end", slots["start"]))
    places = int(slots.get("places", 1))
    step.say("jobs.post_readback", buttons=("JA", "NEJ"), title=slots["title"],
             postcode=slots["postcode"], town=postcode_town(slots["postcode"]) or "",
             when=window(start_day, end_day), hours=hours(Decimal(slots["hours"])),
             pay=money(_pay_ore(slots["pay"])),
             places=text("jobs.places_one") if places == 1 else text("jobs.places_many",
                                                                     places=places),
             audience=text(f"jobs.audience_{slots.get('audience', 'open')}"))


def _pay_ore(kroner: str) -> int:
    return parse_kroner(f"{Decimal(kroner):.2f}")


def _confirm(step: Step, answer: str | None) -> None:
    if answer != "YES" and _take_answer(step, None):
        _advance(step)  # a correction ("nej, 8200" or "4 timer"): read back again
        return
    if answer is None:
        step.say("jobs.post_confirm_again", buttons=("JA", "NEJ"))
        return
    if answer == "NO":
        step.end_flow()
        step.say("jobs.post_dropped")
        return
    _post(step)


def _post(step: Step) -> None:
    slots = step.slots
    try:
        cmd = PostTask(
            employer_cvr=step.identity.employer_cvr or "", title=slots["title"],
            postcode=slots["postcode"], window_start=dt.date.fromisoformat(slots["start"]),
            window_end=dt.date.fromisoformat(slots.get("end", slots["start"])),
            expected_hours=Decimal(slots["hours"]), pay_per_hour_ore=_pay_ore(slots["pay"]),
            places=int(slots.get("places", 1)), audience=slots.get("audience", "open"))
        task = step.jobs.post_task(cmd, step.actor())
    except (ValidationError, MoneyFormatError):  # a number no task can have
        step.end_flow()
        step.say("jobs.post_refused", reason=text("jobs.post_numbers_wrong"))
        return
    except DomainError as error:
        slot = REFUSED_SLOT.get(error.code)
        if slot is None:
            step.end_flow()
            step.say("jobs.post_refused", reason=error.message)
            return
        step.slots.pop(slot, None)
        if slot == "start":
            step.slots.pop("end", None)
        if slot == "places":
            step.slots["places"] = "1"
        step.say_text(error.message)
        _advance(step)
        return
    step.end_flow()
    step.say("jobs.posted", task=task.id, title=reply_title(task.title))
