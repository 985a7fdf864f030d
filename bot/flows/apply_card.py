"""A short guided application for a card, stored for a caseworker to decide."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from bot.context import Step
from bot.flows import faq
from bot.messages import Reply
from bot.textmatch import QUESTION_WORDS, asks_why, fold
from bot.texts import keys, text
from conversations.records import ApplicationAnswers
from danish.wording import danish_date
from db.errors import InvalidCpr
from db.reference_data import municipality_names, postcode_municipalities
from db.vault import normalise_cpr
from nlu import redact_cpr

FLOW = "apply_card"
ON_BEHALF = "on_behalf"
"""Slot: someone applies for another person (a helper, a parent), answering for them."""
QUESTIONS = {
    "name": "apply_ask_name", "cpr": "apply_ask_cpr", "postcode": "apply_ask_postcode",
    "municipality": "apply_postcode_unknown", "benefit": "apply_ask_benefit",
    "consent": "apply_ask_consent", "jobs": "apply_ask_jobs", "contact": "apply_ask_contact",
    "helper": "apply_ask_helper", "confirm": "apply_confirm", "fix": "apply_fix_which",
}
_ORDER = ("name", "cpr", "postcode", "benefit", "consent", "jobs", "contact", "helper", "confirm")
_FIXABLE = (("name", re.compile(r"\bnavn\w*")), ("cpr", re.compile(r"\bcpr\w*")),
            ("postcode", re.compile(r"\b(postnummer\w*|postnr|kommune\w*|adresse\w*)")),
            ("benefit", re.compile(r"\b(lever|ydelse\w*|hjalp\b|forsorgelse)")),
            ("jobs", re.compile(r"\b(job\w*|arbejde\w*)")),
            ("contact", re.compile(r"\b(kontakt\w*|sms|telefon\w*)")),
            ("helper", re.compile(r"\bhjalper\w*")))
"""What "hvad er forkert?" may name in the read-back, and the answer it asks for again."""
_NOT_A_NAME = frozenset({"ja", "ja gerne", "ja tak", "gerne", "ok", "okay", "jo", "jep", "nej",
                         "nej tak", "ved ikke", "hvad", "hva"})
_NAME_GIVEN = re.compile(r"\b(?:hedder|navn er|navnet er|name is)\s+(.+)$", re.IGNORECASE)
_SENTENCE = re.compile(r" (jeg|du|han|hun|vi|bor|er|har|vil|kan|skal|ikke|hvad|hvorfor|"
                       r"hvordan|min|mit|mine) ")
"""Words no name holds: a sentence given in place of a name is not stored as one."""
LATER_WORDS = {"senere", "sagsbehandler", "min sagsbehandler", "ved ikke", "nej", "later"}


def start(step: Step) -> None:
    """An application, unless the sender already holds an active card: then that is said,
    with what the card is for, instead of asking for a name and a CPR number again."""
    number = step.identity.card_number
    if number is not None and step.inbound.proven and step.ledger.card(number).status == "active":
        step.say("apply_already_holder", card=number)
        return
    on_behalf = for_someone_else(step.inbound.text)
    if not on_behalf and sent_status(step):
        return  # applied already: where that stands, not the same questions again
    step.start_flow(FLOW)
    if on_behalf:
        step.slots[ON_BEHALF] = True
        step.ask("name", "apply_start_other")
    else:
        step.ask("name", "apply_start")


SENT = "application_sent"
"""State: the last application sent from this conversation (its number, municipality, day)."""


def sent_status(step: Step) -> bool:
    """Says where the application sent from here stands ("hvad med min ansøgning"); False when
    none was sent."""
    sent = step.state.get(SENT)
    if not sent:
        return False
    step.say("apply_sent_status", id=sent["id"], municipality=sent["municipality"],
             date=danish_date(dt.date.fromisoformat(sent["on"])),
             days=step.config.application_response_days)
    step.decide("flow:apply_card")
    return True


def for_someone_else(message: str) -> bool:
    """A helper, a parent or a friend asking on someone's behalf ("kan jeg søge for ham", "en af
    vores brugere vil gerne have frikort"): they answer for that person."""
    return _FOR_SOMEONE.search(fold(message)) is not None


def resume_question(step: Step) -> str | None:
    asking = step.state.get("asking")
    if asking == "municipality":
        return text("apply_municipality_unknown")
    if asking == "confirm":
        return text("apply_confirm_again")
    if asking == "name" and step.slots.get(ON_BEHALF):
        return text("apply_ask_name_other")
    return text(QUESTIONS[asking], postcode="") if asking in QUESTIONS else None


def proceed(step: Step, answer: str | None) -> None:
    asking = step.state.get("asking")
    handler = _HANDLERS.get(asking or "")
    if handler is None or not handler(step, answer):
        return
    _next(step)


def _next(step: Step) -> None:
    for slot in _ORDER:
        if slot == "confirm" and slot not in step.slots:
            _read_back(step)
            return
        if slot not in step.slots:
            step.ask(slot, QUESTIONS[slot])
            return
    _submit(step)


def _read_back(step: Step) -> None:
    """What will be sent, before it is sent (never the CPR number itself)."""
    slots = step.slots
    name = municipality_names().get(slots.get("municipality") or "", "")
    free = {slot: redact_cpr(str(slots.get(slot) or "-")) for slot in ("benefit", "contact")}
    step.ask("confirm", "apply_confirm", buttons=("JA", "NEJ"),
             name=redact_cpr(str(slots.get("name", ""))), postcode=slots.get("postcode") or "-",
             municipality=name or "-",
             cpr=text("apply_cpr_given" if slots.get("cpr") else "apply_cpr_later"),
             helper=redact_cpr(_none_if_no(slots.get("helper"))), **free)


def _none_if_no(answer: str | None) -> str:
    return text("apply_no_helper") if not answer or fold(answer) in LATER_WORDS | {"ingen"} \
        else answer


def _confirm(step: Step, answer: str | None) -> bool:
    if answer == "YES":
        step.slots["confirm"] = True
        return True
    if answer == "NO" and (field := _field_named(step)) is not None:
        _reopen(step, field)  # "nej, postnummeret er forkert"
        if field == "name" and _NAME_GIVEN.search(step.inbound.text):
            return _name(step, None)  # "nej vent, mit navn er Tina Marie Berg": taken as said
        return True
    if answer == "NO":
        step.ask("fix", "apply_fix_which")
        return False
    _read_back(step)
    return False


def _fix(step: Step, _: str | None) -> bool:
    field = _field_named(step)
    if field is None:
        step.say("apply_fix_which")
        return False
    return _reopen(step, field)


def _field_named(step: Step) -> str | None:
    folded = fold(step.inbound.text)
    return next((field for field, words in _FIXABLE if words.search(folded)), None)


def _reopen(step: Step, field: str) -> bool:
    """Forgets one answer (and the read-back), so it is asked again and read back again."""
    for slot in (field, "confirm", *(("municipality",) if field == "postcode" else ())):
        step.slots.pop(slot, None)
    return True


_FOR_SOMEONE = re.compile(
    r"\b(for (ham|hende)|pa (hans|hendes) vegne|min (son|datter|bror|soster|mor|far|ven|veninde|"
    r"kaereste|karaste|nabo)|en af (vores|mine) (brugere|beboere|borgere|klienter)|"
    r"en (bruger|beboer|borger|klient)( her| hos os)?)\b")
_ASKING_VERBS = frozenset("mister far har kan skal ma bliver taber koster gaelder galder taller "
                          "behover".split())
_SUBJECTS = frozenset("jeg du man vi i de det den han hun".split())
"""A question put verb first ("mister jeg min kontanthjælp"), not an answer to store."""
_ABOUT_PAY = re.compile(r"\b(lon\w*|indberet\w*|penge\w*|kortet)\b")
"""A time question about pay ("hvornår kommer lønnen på kortet"), not about the application."""
_TIME_QUESTION = re.compile(r"\b(hvor lang tid|hvor laenge|hvor lange|hvornar (far|hor|kan))\b")


_REFUSES = re.compile(r"\b(vil (jeg |du )?ikke|gider (jeg )?ikke|har ikke lyst|ikke give|"
                      r"ikke til en robot|vil helst ikke|nej tak)\b")
"""Not wanting to give the CPR number here: it can wait for the caseworker."""


def _asked_back(step: Step, question_key: str) -> bool:
    """A question in place of an answer is answered (or the question asked again), never
    stored as the applicant's name, postcode or circumstances."""
    folded = fold(step.inbound.text)
    words = folded.split()
    if not words or not (words[0] in QUESTION_WORDS or "?" in step.inbound.text
                         or words[1:2] and words[0] in _ASKING_VERBS and words[1] in _SUBJECTS):
        return False
    if _TIME_QUESTION.search(folded):
        step.say("apply_how_long", days=step.config.application_response_days)
    elif step.intent.startswith(faq.RULE_PREFIXES) and step.confidence >= step.config.confident:
        faq.answer(step, step.intent)  # "mister jeg min kontanthjælp, hvis jeg får det?"
    step.say(question_key, postcode="")
    return True


def explain_why(step: Step) -> bool:
    """"Hvad skal I bruge det til?" about the question waiting: its reason, then the question
    again (a wary applicant; the words alone may look like a rule question)."""
    asking = str(step.state.get("asking") or "")
    if asking not in QUESTIONS:
        return False
    folded = fold(step.inbound.text)
    if _TIME_QUESTION.search(folded) and not _ABOUT_PAY.search(folded):
        step.say("apply_how_long", days=step.config.application_response_days)
    elif asks_why(step.inbound.text) and f"apply_why_{asking}" in keys():
        step.say(f"apply_why_{asking}")
    else:
        return False
    step.answered_flow = FLOW  # "hvor lang tid tager det?" here is about this application
    step.decide(f"flow:{FLOW}")
    step.say(QUESTIONS[asking], postcode="")
    return True


def _name(step: Step, _: str | None) -> bool:
    if _asked_back(step, "apply_ask_name"):
        return False
    name = " ".join(step.inbound.text.split())[:200]
    if (given := _NAME_GIVEN.search(name)) is not None:
        name = given.group(1).strip(" .!")  # "han hedder Bo Hansen", "mit navn er Tina Berg"
    # Not "ja gerne" (to "hvordan får man et frikort"), nor a sentence ("jeg bor i odense").
    if not name or any(ch.isdigit() for ch in name) or len(name.split()) > 6 \
            or fold(name) in _NOT_A_NAME or _SENTENCE.search(f" {fold(name)} "):
        step.say("apply_ask_name_other" if step.slots.get(ON_BEHALF) else "apply_ask_name")
        return False
    step.slots["name"] = name
    return True


def _cpr(step: Step, answer: str | None) -> bool:
    if _asked_back(step, "apply_ask_cpr"):
        return False
    raw = step.entity("cpr") or step.inbound.text
    if fold(step.inbound.text) in LATER_WORDS or answer == "NO":
        step.slots["cpr"] = None
        return True
    if _REFUSES.search(fold(step.inbound.text)) and not any(c.isdigit() for c in raw):
        step.slots["cpr"] = None  # "det vil jeg ikke give til en robot": that is fine
        step.say("apply_cpr_refused")
        return True
    try:
        step.slots["cpr"] = step.turn.seal(normalise_cpr(raw))
    except InvalidCpr:
        step.say("apply_cpr_invalid")
        return False
    return True


def _postcode(step: Step, _: str | None) -> bool:
    if _asked_back(step, "apply_ask_postcode"):
        return False
    match = re.search(r"\b(\d{4})\b", step.inbound.text)
    if match is None and (code := _municipality_named(step.inbound.text)) is not None:
        step.slots["municipality"] = code  # "aarhus", "jeg sover på herberget i aalborg"
        step.slots["postcode"] = None
        return True
    if match is None:
        step.say("apply_postcode_or_town")
        return False
    postcode = match.group(1)
    step.slots["postcode"] = postcode
    codes = postcode_municipalities(postcode)
    if len(codes) == 1:
        step.slots["municipality"] = codes[0]
        return True
    if not codes:
        step.ask("municipality", "apply_postcode_unknown", postcode=postcode)
        return False
    names = [municipality_names()[code] for code in codes]
    step.ask("municipality", "apply_postcode_several", postcode=postcode,
             names=", ".join(names))
    step.replies[-1] = Reply(step.replies[-1].text, tuple(names[:3]))
    return False


def _municipality_named(message: str) -> str | None:
    """The municipality whose name the message holds (the longest, so "Lyngby-Taarbæk" wins
    over a shorter name inside it); homeless applicants often know the town, not a postcode."""
    folded = f" {fold(message).replace('-', ' ')} "
    found = [(len(name), code) for code, name in municipality_names().items()
             if f" {fold(name).replace('-', ' ')} " in folded]
    return max(found)[1] if found else None


def _municipality(step: Step, answer: str | None) -> bool:
    """Matched by name; after two misses (or "ved ikke") the caseworkers sort it out."""
    wanted = fold(step.inbound.text).replace(" kommune", "")
    for code, name in municipality_names().items():
        if fold(name) == wanted:
            step.slots["municipality"] = code
            return True
    misses = int(step.slots.get("municipality_misses", 0)) + 1
    if wanted in LATER_WORDS or answer == "NO" or misses >= 2:
        step.slots["municipality"] = None
        return True
    step.slots["municipality_misses"] = misses
    step.say("apply_municipality_unknown")
    return False


def _free_text(slot: str) -> Callable[[Step, str | None], bool]:
    def take(step: Step, _: str | None) -> bool:
        if _asked_back(step, QUESTIONS[slot]) or _bare_yes(step, slot):
            return False
        step.slots[slot] = " ".join(step.inbound.text.split())[:300]
        return True
    return take


def _bare_yes(step: Step, slot: str) -> bool:
    """"ja" or "ok" answers no open question ("Hvad kunne du tænke dig at arbejde med?"): the
    question again, with its examples, rather than "ja" stored as the answer."""
    if fold(step.inbound.text) not in _NOT_A_NAME - {"nej", "nej tak", "ved ikke"} | {"tak"}:
        return False
    step.say(QUESTIONS[slot])
    return True


def _consent(step: Step, answer: str | None) -> bool:
    if answer not in ("YES", "NO"):
        step.say("apply_ask_consent", buttons=("JA", "NEJ"))
        return False
    step.slots["consent"] = answer == "YES"
    return True


def _jobs(step: Step, _: str | None) -> bool:
    if _asked_back(step, QUESTIONS["jobs"]) or _bare_yes(step, "jobs"):
        return False
    wishes = [w.strip() for w in re.split(r",| og |\n", step.inbound.text) if w.strip()]
    step.slots["jobs"] = wishes[:3]
    return True


def _submit(step: Step) -> None:
    slots = step.slots
    sealed = slots.get("cpr")
    answers = ApplicationAnswers(
        name=slots["name"], cpr=step.turn.unseal(sealed) if sealed else None,
        postcode=slots.get("postcode"), municipality_code=slots.get("municipality"),
        answers={"benefit": slots.get("benefit"), "consent": slots.get("consent"),
                 "job_wishes": slots.get("jobs"), "contact": slots.get("contact"),
                 "helper": slots.get("helper"), "channel": step.inbound.channel,
                 "address": step.inbound.sender, "cpr_later": sealed is None,
                 "on_behalf": bool(slots.get(ON_BEHALF))})
    application_id = step.turn.submit_application(answers)
    name = municipality_names().get(slots.get("municipality") or "", "din kommune")
    municipality = f"{name} Kommune" if name != "din kommune" else name
    step.end_flow()
    step.say("apply_done", municipality=municipality, id=application_id,
             days=step.config.application_response_days)
    step.state[SENT] = {"id": application_id, "municipality": municipality,
                        "on": step.turn.today.isoformat()}


_HANDLERS = {
    "name": _name, "cpr": _cpr, "postcode": _postcode, "municipality": _municipality,
    "benefit": _free_text("benefit"), "consent": _consent, "jobs": _jobs,
    "contact": _free_text("contact"), "helper": _free_text("helper"), "confirm": _confirm,
    "fix": _fix,
}
