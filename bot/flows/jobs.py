"""A card holder and small jobs: JOB lists tasks near them, a number takes one, AFLYS gives
it back without blame, JOB DAGLIG / UGENTLIG / STOP turn the digest on and off.

Taking a task and being confirmed are told by the ledger itself (`ledger.tasks` writes the
holder's and the employer's messages to the outbox in the same transaction). On SMS and
Telegram those messages reach the very conversation the holder writes from, so the bot adds
no reply of its own there: one SMS per event, not two. The web demo is no linked channel, so
it gets a short line pointing to the SMS.
"""

from __future__ import annotations

import datetime as dt
import re

from bot.context import Step
from bot.flows import job_format
from bot.flows.job_format import listing, short_title, window
from bot.flows.link import told_to_link
from bot.textmatch import fold
from bot.texts import text
from db.errors import DomainError
from db.reference_data import postcode_municipalities, postcode_town, town_postcode
from ledger.errors import CardNotActive
from smalljobs import texts as task_texts
from smalljobs.errors import UnknownPostcode
from smalljobs.records import Frequency, TaskView

CHOICES = "job_choices"
LISTED_AT = "job_listed_at"
CHOICES_VALID = dt.timedelta(hours=48)
"""How long "Svar 1, 2 eller 3" stays an answer; after that a number is just a number."""
_PICK_LEAD = (r"(?:jeg\s+)?(?:vil\s+(?:gerne\s+)?(?:have|tage|ta)|"
              r"tager|tar|tag|tage|(?:kan|ma)\s+jeg\s+(?:fa|tage|ta)|giv\s+mig)\s+")
_PICK_WORDS = {"et": 1, "forste": 1, "to": 2, "anden": 2, "andet": 2, "tre": 3, "tredje": 3}
CHOICE = re.compile(
    rf"^(?:(?:ja|ok|okay)\s+)?(?:{_PICK_LEAD})?(?:(?:den|det|opgave|opgaven|job|jobbet|nummer|nr)\s+)?"
    rf"(?P<n>[1-9]|{'|'.join(_PICK_WORDS)})(?:\s+eren)?(?:\s+(?:tak|please|den|det))*$")
"""A pick after a list, folded: "2", "nr. 2", "den første", "jeg tager nummer 1 tak".
Bare "et", "to" and "tre" count only after "nummer" or "nr" (checked in `_picked`)."""
POSTCODE = re.compile(r"\b(\d{4})\b")
DIGEST_FLOW = "job_digest"
SHOWN = 3
"""At most three in a list: "Svar 1, 2 eller 3" fits two SMS."""


def show(step: Step, postcode: str | None = None) -> None:
    """JOB or find_job: up to three tasks near the holder, numbered, within two SMS."""
    number = step.identity.card_number
    if number is None:
        step.say("jobs.employer_hint" if step.identity.is_employer else "jobs.not_linked")
        return
    if postcode is not None and postcode_town(postcode) is None:
        step.say("jobs.postcode_unknown", postcode=postcode)
        return
    try:
        if postcode is None:  # near the digest's postcode, if there is one
            current = step.jobs.digest(number)
            postcode = current.postcode if current else ""
        tasks = _near(step, number, postcode,
                      step.jobs.tasks_for_card(number, postcode=postcode, limit=SHOWN))
    except CardNotActive as refused:
        step.say("jobs.card_inactive")
        step.state["last_topic"] = refused.code  # "hvad betyder det?" next is about this
        return
    if not tasks:
        forget_choices(step)
        subscribed = step.jobs.digest(number) is not None
        step.say("jobs.none_near_subscribed" if subscribed else "jobs.none_near")
        return
    body, shown = listing(tasks)
    step.state[CHOICES] = [task.id for task in shown]
    step.state[LISTED_AT] = step.turn.now.isoformat()
    step.say_text(body, buttons=tuple(str(n) for n in range(1, len(shown) + 1)))


def _near(step: Step, number: str, postcode: str, tasks: list[TaskView]) -> list[TaskView]:
    """The ledger orders the tasks the holder may take by nearness, those in the home
    municipality first (of the postcode given, else the digest's, else the card's); only
    those are listed. Without coordinates, a task across the country is not "near" just
    because it is the next one in that order."""
    home = set(postcode_municipalities(postcode)) if postcode else set()
    home = home or {step.ledger.card(number).municipality_code}
    return [task for task in tasks if task.municipality_code in home]


def find(step: Step) -> None:
    """The find_job intent ("er der arbejde i 8000?"): near a postcode it names, if any."""
    named = [code for code in POSTCODE.findall(step.inbound.text) if postcode_town(code)]
    show(step, named[0] if named else None)


def forget_choices(step: Step) -> None:
    step.state.pop(CHOICES, None)
    step.state.pop(LISTED_AT, None)


def _picked(message: str) -> int | None:
    """The task number a message picks from a list, or None."""
    folded = fold(message)
    match = CHOICE.match(folded)
    if match is None:
        return None
    pick = match.group("n")
    if pick.isdigit():
        return int(pick)
    if pick in ("et", "to", "tre") and not re.search(r"\b(?:nummer|nr)\s+\w+", folded):
        return None
    return _PICK_WORDS[pick]


def take_choice(step: Step) -> bool:
    """A bare "2" after a list takes task 2; False when the message is no such answer."""
    choices = step.state.get(CHOICES)
    chosen = _picked(step.inbound.text)
    number = step.identity.card_number
    if not choices or chosen is None or number is None:
        return False
    step.answered_flow = "jobs"
    listed = dt.datetime.fromisoformat(str(step.state.get(LISTED_AT)))
    if step.turn.now - listed > CHOICES_VALID:
        forget_choices(step)
        step.say("jobs.choice_stale")
        return True
    if chosen > len(choices):
        step.say(f"jobs.choose_again_{len(choices)}")
        return True
    try:
        step.jobs.take_task(int(choices[chosen - 1]), number, via=step.inbound.channel,
                            actor=step.actor())
    except DomainError as error:
        step.say_text(error.message)
        return True
    forget_choices(step)
    if step.reads_outbox_elsewhere:
        step.say("jobs.see_sms")
    return True


def withdraw(step: Step, assignment: str | None) -> None:
    """AFLYS <n> or AFLYS JOB from the holder: the place is given back, no questions asked."""
    number = step.identity.card_number
    if number is None:
        told_to_link(step, "jobs.not_linked")
        return
    if assignment is None:
        held = step.jobs.assignments_for_card(number)
        if not held:
            step.say("jobs.withdraw_none")
            return
        if len(held) > 1:
            lines = " ".join(text("jobs.withdraw_line", number=a.id,
                                  title=short_title(a.task.title),
                                  when=window(a.task.window_start, a.task.window_end))
                             for a in held[:3])
            step.say("jobs.withdraw_which", lines=lines, example=held[0].id)
            return
        assignment = str(held[0].id)
    try:
        step.jobs.cancel_assignment(int(assignment), by="holder", actor=step.actor(),
                                    card_number=number)
    except DomainError as error:
        step.say_text(error.message)
        return
    step.say("jobs.withdrawn")


# The digest -------------------------------------------------------------------------------

def digest_on(step: Step, frequency: Frequency, postcode: str | None) -> None:
    """JOB DAGLIG [postcode]: the postcode given, else the one already chosen, else asked."""
    number = step.identity.card_number
    if number is None:
        told_to_link(step, "jobs.not_linked")
        return
    if postcode is None:
        current = step.jobs.digest(number)
        postcode = current.postcode if current else None
    if postcode is None:
        step.start_flow(DIGEST_FLOW, frequency=frequency)
        step.ask("postcode", "jobs.digest_ask_postcode")
        return
    _subscribe(step, frequency, postcode)


def digest_question(step: Step) -> str | None:
    return text("jobs.digest_ask_postcode")


def digest_answer(step: Step, answer: str | None) -> None:
    """A postcode, or a town ("Aarhus"); "ved ikke" ends it with how to come back."""
    found = POSTCODE.search(step.inbound.text)
    postcode = found.group(1) if found else town_postcode(step.inbound.text.strip())
    if postcode is None:
        if answer == "NO" or fold(step.inbound.text).startswith(("ved ikke", "aner ikke")):
            step.end_flow()
            step.say("jobs.digest_later")
            return
        step.say("not_understood_slot", question=text("jobs.digest_ask_postcode_or_town"))
        return
    _subscribe(step, step.slots.get("frequency", "daily"), postcode)


def _subscribe(step: Step, frequency: Frequency, postcode: str) -> None:
    number = step.identity.card_number or ""
    try:
        chosen = step.jobs.subscribe_digest(number, postcode, frequency, step.actor())
    except UnknownPostcode:
        step.say("jobs.postcode_unknown", postcode=postcode)
        return
    step.end_flow()
    step.say(f"jobs.digest_on_{chosen.frequency}", postcode=chosen.postcode,
             town=postcode_town(chosen.postcode) or "")


def digest_off(step: Step) -> None:
    number = step.identity.card_number
    if number is None:
        told_to_link(step, "jobs.not_linked")
        return
    ended = step.jobs.unsubscribe_digest(number, step.actor())
    step.say("jobs.digest_off" if ended else "jobs.digest_was_off")


_ABOUT_MY_PLACE = re.compile(
    r"\b(hvornar skal jeg (mode|komme|starte|vare der|mode op)|"
    r"hvor skal jeg (mode|hen|vare|mode op)|hvad er adressen|hvor er det|"
    r"hvem skal jeg (sporge|sporge efter|tale med|ringe til|henvende mig til)|"
    r"hvad (betaler|giver) (de|i|han|hun)|hvor meget (betaler|giver) (de|i)|"
    r"er (den|jobbet|opgaven|det) bekraftet|har (de|han|hun) (svaret|bekraftet)|"
    r"har jeg (fat|faet) (jobbet|opgaven|den|det)|"
    r"hvilke\w* (jobs?|opgaver?) har jeg (taget|fat|faet|sagt ja til)|"
    r"hvad har jeg (taget|sagt ja til)|mine (jobs?|opgaver)|"
    r"skal jeg (ringe|skrive) til (dem|chefen|arbejdsgiveren|stedet))\b")
"""Questions a card holder asks about the small job just taken."""


def has_place(step: Step) -> bool:
    """The card holder has a place on a small job still to come."""
    number = step.identity.card_number
    return number is not None and bool(step.jobs.assignments_for_card(number))


def my_place(step: Step) -> bool:
    """"hvornår skal jeg møde?" from a card holder with a place on a small job: what, where,
    when, the pay, and whether the employer has confirmed; False when it is no such question."""
    number = step.identity.card_number
    if number is None or not _ABOUT_MY_PLACE.search(fold(step.inbound.text)):
        return False
    places = step.jobs.assignments_for_card(number)
    if not places:
        return False
    place = places[0]  # the soonest
    task = place.task
    step.say("jobs.my_place", title=task.title, employer=task.employer_name,
             when=task_texts.when(task), where=task_texts.where(task),
             pay=job_format.money(task.pay_per_hour_ore),
             status=text("jobs.my_place_confirmed" if place.status == "confirmed"
                         else "jobs.my_place_waiting"))
    step.decide("jobs")
    return True

