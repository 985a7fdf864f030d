"""Rule questions, answered from bot/knowledge with figures from the ledger's cap table.

Which answer: the NLU's response selector (Rasa's `response_selector`) ranks the answers of the
retrieval intents; the best one within the chosen intent is given when it is sure enough, the
keyword lists of bot/knowledge otherwise. In whose voice: a linked card holder gets their own
figures, an employer the employer's version. A knowledge error never reaches the person: the
general answer is given instead, and the error is logged.
"""

from __future__ import annotations

import logging
import re

from bot.context import Step
from bot.knowledge import (
    Answer,
    KnowledgeError,
    RenderError,
    Source,
    UnknownIntent,
    has_more,
    render,
)
from bot.texts import text
from danish.wording import kroner_whole
from db.reference_data import municipality_names
from ledger.errors import CardNotFound
from nlu import FALLBACK_INTENT, ParseResult

log = logging.getLogger(__name__)

RULE_PREFIXES = ("faq_", "employer_faq_")
"""The intents that are rule questions, answered from the knowledge files."""

SELECTOR_CONFIDENT = 0.25
"""The response selector's share (within the intent's answers) above which its choice is taken
over the keyword lists; below it the keywords (and then the general answer) decide."""


def cap_values(step: Step) -> dict[str, str]:
    """The year's cap if loaded (else empty), and the latest known one for the fallback text.
    A demo cap carries its label wherever it is shown."""
    year = step.turn.today.year
    values = {"year": str(year)}
    caps = step.ledger.caps()  # the newest per year: the same figures as cap(year), latest_cap()
    cap = next((c for c in caps if c.year == year), None)
    if cap is not None:
        label = f" {text('demo_cap_label')}" if cap.is_demo else ""
        values["cap"] = kroner_whole(cap.amount_ore) + label
        values["cap_year"] = str(cap.year)
    known = [c for c in caps if not c.is_demo] or caps
    latest = known[-1] if known else None
    if latest is not None:
        values["latest_cap"] = kroner_whole(latest.amount_ore)
        values["latest_cap_year"] = str(latest.year)
    return values


def personal_values(step: Step) -> tuple[str | None, dict[str, str]]:
    """For a linked card holder: the card's state and figures, which only they may see.

    In a year without a cap, "earned" is what has been reported and waits for the cap, never
    a bare 0 kr. while money is waiting.
    """
    number = step.identity.card_number
    if number is None or step.asker == "employer" or not step.inbound.proven:
        return None, {}
    try:
        card, balance = step.ledger.card_year(number)
    except CardNotFound:
        return None, {}
    values = {"earned": kroner_whole(balance.posted_ore + balance.awaiting_cap_ore),
              "card_number": number,
              "municipality": municipality_names().get(card.municipality_code, "")}
    if balance.remaining_ore is not None:
        values["remaining"] = kroner_whole(balance.remaining_ore)
    return card.status, values


_FUTURE_YEAR = re.compile(r"\b(20\d\d)\b")


def choose(step: Step, intent: str) -> Answer:
    """The answer to give for a rule intent: the selector's pick within the intent when it is
    sure enough, else the keyword match, else the general answer."""
    named = _FUTURE_YEAR.search(step.inbound.text)
    if intent == "faq_limit" and named and int(named.group(1)) > step.turn.today.year:
        return step.knowledge.answer("faq_limit/yearly")  # next year's cap: not known yet
    chosen = _selected_key(step.parse, intent)
    if chosen is not None:
        try:
            return step.knowledge.answer(chosen)
        except UnknownIntent:
            log.warning("the NLU chose %s, which bot/knowledge does not have", chosen)
    return step.knowledge.answer_for(intent, step.inbound.text)


def _selected_key(parse: ParseResult, intent: str) -> str | None:
    selector = parse.get("response_selector")
    if not selector:
        return None
    ranking = [r for r in selector["default"]["ranking"]
               if r["intent_response_key"].startswith(f"{intent}/")]
    total = sum(r["confidence"] for r in ranking)
    if not ranking or total <= 0:
        return None
    best = max(ranking, key=lambda r: r["confidence"])
    return best["intent_response_key"] if best["confidence"] / total >= SELECTOR_CONFIDENT \
        else None


def answer(step: Step, intent: str) -> None:
    """Answers a rule question and remembers it, so MERE and "hvor står det" can follow."""
    try:
        found = choose(step, intent)
    except UnknownIntent:
        log.error("no knowledge for rule intent %s", intent)
        step.say("fallback_first")
        step.decide("fallback")
        return
    shown = _for_asker(step, found)
    step.say_text(_render(step, shown, more=False))
    remember(step, shown.key)
    step.decide(shown.key)
    offer_application(step, shown.key)


def answer_key(step: Step, key: str) -> None:
    """A named answer ("faq_card_validity/taken_away"), as a follow-up the context asks for."""
    found = step.knowledge.answer(key)
    shown = _for_asker(step, found)
    step.say_text(_render(step, shown, more=False))
    remember(step, shown.key)
    step.decide(found.key)


ALSO_SURE = 0.45
"""How sure the NLU must be of a second question's rule intent before it is answered too."""
SURE_ALONE = 0.6
"""Below this, the answer selector must agree with the intent for a second answer."""
OWN_SIDE_LEFT = 0.1
"""A card holder's own question behind an employer's answer to a sure second question."""
_ANSWERED_FIRST = re.compile(r"^(faq_|employer_faq_)|^balance$")
_COVERED_BY = {"balance": "faq_limit"}
"""A first answer that already says what the second would (a balance shows the limit)."""


def also_asked(step: Step) -> None:
    """A second question in the same message ("hvor meget må jeg tjene, og mister jeg min
    boligstøtte?") gets its own answer after the first, when the NLU is sure of it and it is
    about something else. MERE and "hvor står det" stay with the first answer."""
    first = step.outcome
    if first is None or not _ANSWERED_FIRST.match(first) or step.flow is not None:
        return  # in a flow, its question was just asked again: that comes last
    covered = _COVERED_BY.get(first, first.partition("/")[0])
    for clause in step.clauses:
        found = _clause_answer(step, clause)
        if found is None or found.intent == covered:
            continue  # the same topic as the first answer: it has been answered
        hint = f" {found.more_hint}" if found.more_hint else ""
        body = _render(step, found, more=False).removesuffix(hint)
        step.say_text(f"{text('also_asked')} {body}")
        return  # two answers at most: a third question is for the next message


def lead_question(parse: ParseResult, clauses: list[ParseResult]) -> ParseResult:
    """The reading a message is answered by: its own, or, when the whole message is torn between
    its questions ("hvor mange timer må han arbejde og hvad hvis han tjener over grænsen" falls
    back), the first question the NLU is sure of alone; the others follow as "Du spurgte også"."""
    if parse["intent"]["name"] != FALLBACK_INTENT:
        return parse
    for clause in clauses:
        intent = clause["intent"]
        if intent["name"].startswith(RULE_PREFIXES) and intent["confidence"] >= SURE_ALONE:
            return {**clause, "text": parse["text"], "entities": parse["entities"]}
    return parse


TAIL_INTENTS = (*RULE_PREFIXES, "check_balance", "find_job")
"""What a story's last question may be read as when the whole story is not understood."""


_SMALL_TALK = ("out_of_scope", "goodbye", "greet", "thanks", "help", "affirm", "deny")


def unsure_outside(parse: ParseResult) -> bool:
    """Not understood as a whole: a fallback, or small talk or "not about the frikort" read
    unsurely (a story that ends "... men det var en god dag, hvor meget har jeg tjent")."""
    intent = parse["intent"]
    return intent["name"] == FALLBACK_INTENT or (
        intent["name"] in _SMALL_TALK and intent["confidence"] < SURE_ALONE)


def asked_last(parse: ParseResult, tail: ParseResult | None) -> ParseResult:
    """A long message that is not understood as a whole, read by the question it ends with, when
    the NLU is sure of that question alone."""
    if tail is None or not unsure_outside(parse):
        return parse
    intent = tail["intent"]
    if intent["name"].startswith(TAIL_INTENTS) and intent["confidence"] >= SURE_ALONE:
        return {**tail, "text": parse["text"], "entities": parse["entities"]}
    return parse


def _clause_answer(step: Step, clause: ParseResult) -> Answer | None:
    """The answer to one question of the message, in this asker's voice, when the NLU is sure
    of it; never the employer's side of a card holder's question."""
    intent, confidence = clause["intent"]["name"], clause["intent"]["confidence"]
    if not intent.startswith(RULE_PREFIXES) or confidence < ALSO_SURE:
        return None
    selector = clause.get("response_selector")
    best = selector["default"]["response"]["intent_response_key"] if selector else ""
    if confidence < SURE_ALONE and not best.startswith(f"{intent}/"):
        return None  # unsure, and the answer selector thinks of something else
    if step.asker != "employer" and intent.startswith("employer_faq_"):
        own = next((c["name"] for c in clause["intent_ranking"][1:3]
                    if c["name"].startswith("faq_") and c["confidence"] >= OWN_SIDE_LEFT), None)
        if own is None:
            return None
        intent = own  # "tæller feriepenge med?" from a card holder: their own limit
    chosen = _selected_key(clause, intent)
    try:
        found = _for_asker(step, step.knowledge.answer(chosen) if chosen
                           else step.knowledge.answer_for(intent, clause["text"]))
    except UnknownIntent:
        return None
    if step.asker != "employer" and found.intent.startswith("employer_faq_"):
        return None
    return found


RULE_ANSWERED = "rule_answered"
"""`last_topic` right after a rule answer: "hvad betyder det?" next is about it."""
OFFERED_APPLICATION = "offered_application"
"""`last_topic` after who can get a card, told to someone without one: JA starts it."""


def remember(step: Step, key: str) -> None:
    """The answer just given ("faq_tax/general"), for MERE and "hvor står det" next."""
    intent, _, answer_id = key.partition("/")
    step.state["last_answer"] = {"intent": intent, "id": answer_id, "asker": step.asker}
    step.state["last_topic"] = RULE_ANSWERED


def offer_application(step: Step, key: str) -> None:
    """Who can get a card, told to someone with no card and no flow going: may they apply?"""
    identity = step.identity
    if key.startswith("faq_eligibility/") and step.flow is None and step.asker == "citizen" \
            and not identity.is_card_holder and not identity.is_employer and not step.live:
        step.say("apply_offer")
        step.state["last_topic"] = OFFERED_APPLICATION


def _for_asker(step: Step, found: Answer) -> Answer:
    """An employer asking about their employee may be pointed at an employer's answer, and a
    card holder who got an employer's answer at the card holder's own one pointing at it
    ("lone vil betale mig over mobilpay, er det ok": how *I* may be paid)."""
    if step.identity.is_card_holder and not step.identity.is_employer \
            and found.intent.startswith("employer_faq_"):
        own = next((a for a in step.knowledge.answers() if a.employer_answer == found.key), None)
        return own or found
    if step.asker == "employer" and found.employer_answer:
        try:
            return step.knowledge.answer(found.employer_answer)
        except UnknownIntent:
            log.error("%s points employers at %s, which does not exist", found.key,
                      found.employer_answer)
    return found


def _render(step: Step, found: Answer, *, more: bool) -> str:
    """The text for this person; a knowledge error falls back to the general, impersonal text,
    and is logged, so a gap in the data never costs the person an answer."""
    personal, values = personal_values(step)
    values.update(cap_values(step))
    try:
        return render(found, values, more=more, personal=personal, asker=step.asker)
    except (RenderError, KnowledgeError, KeyError, ValueError, IndexError) as error:
        log.error("could not render %s for this sender (%s): %s", found.key,
                  type(error).__name__, error)
    general = step.knowledge.topic(found.intent).general
    try:
        return render(general, cap_values(step), more=more)
    except (RenderError, KnowledgeError, KeyError, ValueError, IndexError) as error:
        log.error("could not render %s either: %s", general.key, error)
        return text("fallback_first")


def last_answer(step: Step) -> Answer | None:
    last = step.state.get("last_answer")
    if not last:
        return None
    try:
        return step.knowledge.answer(f"{last['intent']}/{last['id']}")
    except (UnknownIntent, KeyError, TypeError):
        return None


def more(step: Step) -> bool:
    """The longer text of the last rule answer; False when there is none."""
    found = last_answer(step)
    if found is None or not has_more(found, step.asker):
        return False
    step.say_text(_render(step, found, more=True))
    step.decide(found.key)
    return True


def sources(step: Step) -> None:
    """Where the last answer comes from: the law paragraph or page, and a link, in at most two
    SMS. Without a last answer, where the assistant's answers come from in general."""
    found = last_answer(step)
    step.decide("source")
    if found is None:
        step.say("source_none")
        return
    lines: list[str] = []
    for source in _for_whom(found.sources, step.state.get("last_answer", {}).get("asker"))[:2]:
        line = text("source_line", title=source.title, url=short_url(source.url))
        if len(" ".join([*lines, line])) > SOURCE_BUDGET:
            break
        lines.append(line)
    step.say_text(" ".join([text("source_intro"), *lines]))


_FOR_EMPLOYERS = re.compile(r"virksomhed|erhverv|arbejdsgiver", re.IGNORECASE)


def _for_whom(sources: tuple[Source, ...], asker: str | None) -> list[Source]:
    """An employer is shown the pages written for employers first (the order is kept
    otherwise)."""
    if asker != "employer":
        return list(sources)
    return sorted(sources, key=lambda s: _FOR_EMPLOYERS.search(s.title) is None)


SOURCE_BUDGET = 260
"""Characters for the source lines, so the reply with its intro stays within two SMS."""


def short_url(url: str) -> str:
    """The address without "https://www." (shorter to read, still a working link on phones)."""
    for prefix in ("https://www.", "https://"):
        if url.startswith(prefix):
            return url[len(prefix):]
    return url

