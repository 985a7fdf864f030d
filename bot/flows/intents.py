"""A message outside any flow, by its intent, read in the asker's role.

The classifier reads words, not who writes them: "vi har udbetalt 750 kr til en medarbejder"
from a verified employer is a wage report whatever it resembles, and "jeg fik 500 kr fra caféen"
from a card holder is a question about reporting, not a report the holder may make.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.context import Step, speaks_as_employer
from bot.crisis import is_frustrated
from bot.flows import (
    about_us,
    apply_card,
    balance,
    employer,
    faq,
    handoff,
    jobs,
    link,
    post_job,
    register_employer,
    report_wage,
    salutations,
    situations,
)
from bot.flows.balance import BALANCE_SHOWN
from bot.flows.employer import OFFERED_REGISTRATION, employees_named
from bot.flows.report_problems import asks_to_undo_report
from bot.questions import asks_a_question
from bot.textmatch import QUESTION_WORDS, fold, looks_like_question
from nlu import FALLBACK_INTENT

RULE_PREFIXES = faq.RULE_PREFIXES
_REPORTING = re.compile(r"\b(indberet\w*|udbetalt|udbetale|betalt|indrapporter\w*|registrer\w*|"
                        r"(lagt|lagge|laegge) \w+ ind|(vil|skal) melde (\w+ )?lon\w*|"
                        r"(melde|meldt) (\w+ )?lon\w* (\w+ ){0,3}ind|"
                        r"skriv\w* (det |dem )?(pa|ind)|pa (hans|hendes) kort|"
                        r"send\w* (det |dem )?ind|lon til \w+)\b")
_PERSON = re.compile(r"\b((tale|snakke|skrive) med (en |et |nogen|min |den |et rigtigt )?"
                     r"(menneske|person|medarbejder|sagsbehandler\w*|konsulent|nogen)|"
                     r"((fa )?(kontakt|fat) (til|i|pa)|sat i kontakt med) (en|den|min|jeres) "
                     r"(\w+ )?(sagsbehandler\w*|medarbejder|konsulent|virksomhedskonsulent|person)|"
                     r"ringe? til (mig|kommunen)|kan (i|du|en af jer) ringe|"
                     r"hvem kan (jeg|vi) ((tale|snakke) med|ringe til)|"
                     r"(til at ringe|ringe?) (mig|os)( op)?|"
                     r"(vil|skal) (bare )?(have|ha) en (sagsbehandler|medarbejder|person|voksen)|"
                     r"(kan|ma) jeg (ikke )?(bare )?ringe (i stedet|til jer|til en)|"
                     r"hjalp (af|fra) en (medarbejder|person) hos jer|"
                     r"(vil gerne|vil|kan jeg|kan vi) (tale|snakke) med en$)\b")
"""Asking for a person in words the classifier may not know ("kan jeg få fat i en")."""
_NOT_A_REPORT = re.compile(r"\b(har indberettet|har registreret|registreret den|indberettet den|"
                           r"kom til at|til skat|til skattestyrelse\w*|eindkomst|ved en fejl|"
                           r"ikke kan ses?|et andet sted|vil gerne vide|skal (vi|jeg) gore noget|"
                           r"frist\w*|kan ikke se|hvis (\w+ )?(ender|kommer|tjener|rammer)|"
                           r"(hvordan|hvad|hvornar) (skal|kan|gor|ma) (vi|jeg|man)|"
                           r"hvordan (\w+ ){0,3}(indberetter|u?d?betaler) (vi|jeg|man))\b")
_WANTS_TO_REPORT = re.compile(r"\b(jeg|vi) (skal|vil gerne|vil|mangler at|skal lige) "
                              r"(have )?indberette (\w+ )?(lon|lonnen|timer|timerne)? ?(for|til) "
                              r"(hende|ham|\w+) (nu|i dag)\b|"
                              r"^(jeg |vi )?skal (lige )?((have|ha) (meldt|indberettet)|melde) "
                              r"(\w+ )?(lon|timer)\w* ind\b")
"""An employer about to report for someone now, however they then ask how."""
_IS_IT_OK = re.compile(r"\b((er|bliver|vil) det (et problem|ok|okay|i orden|for meget)|"
                       r"(er|kommer) (han|hun) (over|for hojt))\b")
"""Asking whether what a named employee was paid is too much: their card's room answers it."""
_MAY_WE_HIRE = re.compile(r"\b(kan|ma|mon) (vi|jeg|man) (godt |gerne |sa )?ansatte\b")
"""Asking whether one may hire someone on the card at all."""
_MOVING = re.compile(r"\bflyt\w*\b")
"""A named employee who moves: a question about the card and moving, not a card check."""
_HOW = re.compile(r"^(hvordan|how)\b|\bhvordan (\w+ ){0,2}(betaler|indberetter|gor) (vi|jeg|man)\b")
_CHECK_NAME = re.compile(r"^(tjek|check|tjekke|kan du tjekke)\b")
_AND_NAME = re.compile(r"^(og|og hvad med|hvad med|hvad sa med|samme med) \w+( og \w+)?\W*$")
"""An employer's follow-up naming another employee: the same card check for them."""
_CARD_STATUS = re.compile(r"\b(aktiv|aktivt|gyldig|gyldigt)\b")
"""An employer asking whether a named employee's card is active ("er mette stadig aktiv")."""
_ROOM_LEFT = re.compile(r"\bhvor meget (har|kan|ma|mangler) (\w+ ){1,2}(tilbage|"
                        r"(na at )?(tjene|fa)( hos (os|jer|mig))? (resten|endnu|mere|i ar))|"
                        r"\buden at (ryge|komme|ga) over (belobet|gransen|loftet)\b|"
                        r"\bplads til \d+")
"""An employer asking how much a named employee (or "hun" just checked) has left."""
_CARD_WORDS = re.compile(r"\b(aktiv\w*|kort\w*|tilbage|plads|tjent|gyldig\w*|graense\w*|grense|"
                         r"tjene (endnu|mere)|mangler)\b")
_POSTING = re.compile(r"\b(opsla\w*|sla (et |en )?(job|opgave)|opgave\w*|ledig\w*|soger (folk|en))\b")
_WANTS_A_CARD = re.compile(r"\b(vil (gerne )?have|soge|sog|ansoge) (om )?(et |sit |hans |hendes )?"
                           r"(socialt )?(frikort|kort)\b|\bsoge for\b")
"""Wanting to apply ("vil gerne have frikort"), not asking whether one may ("kan han få")."""
_APPLYING = re.compile(r"\b((hvordan|hvor) (soger|soge|ansoger) (jeg|hun|han|man|vi|de)|"
                       r"(vil gerne|hjalpe \w+( \w+)* med at|vil) (sog\w*|ansog\w*)|"
                       r"(soge|sog|ansoge) (om )?(et )?(socialt )?frikort)\b"
                       r"( (om )?(et |det |socialt )*(frikort|kort|her))?(?P<rest>.*)$")
"""Asking how to apply: the card (or nothing else) is what is applied for, not housing."""
_APPLY_NOW = re.compile(r"^(ok|okay|ja|jo|godt|fint)( sa)? (sog|soge|ansog\w*)( om)?( et)?"
                        r"( socialt)?( frikort| kortet| det| et kort)?( tak)?$")
"""Taking up applying in a few words ("ok søg", "ja søg om et frikort")."""
_FINDING_WORK = re.compile(r"\b(find\w*|fundet|skaff\w*|sog\w*) (\w+ ){0,3}"
                           r"(job\w*|arbejde|noget|opgave\w*|beskaeftigelse|beskaftigelse)\b")
_ONLY_SYMBOLS = re.compile(r"^[\W_]*$")
_NOD = re.compile(r"^(k|kk|aha|ah|ahh|hmm+|haha\w*|hehe\w*|lol)( \w+){0,3}\W*$")
"""A laugh or a nod ("haha", "k", "aha", "haha jeg dør"): one short line back."""
RESCUE_CONFIDENT = 0.5
"""When the intent classifier is unsure but its best guess is a rule question and the response
selector is at least this sure of an answer to it, that answer is given, not "Det forstod jeg
ikke" (the selector sees the answers' own examples, which the intent model pools)."""
OWN_SIDE_CONFIDENT = 0.25
"""How sure the classifier must be of a card holder's own question to answer it instead of the
employer's version it ranked first."""

_FLOW_STARTS: dict[str, tuple[Callable[[Step], None], str]] = {
    "check_balance": (balance.show, "balance"),
    "apply_card": (apply_card.start, "flow:apply_card"),
    "employer_check_card": (employer.start_check, "card_check"),
    "employer_report_wage": (report_wage.start, "flow:report_wage"),
    "employer_register": (register_employer.start, "flow:register_employer"),
    "human_handoff": (handoff.asked, "handoff"),
    "find_job": (jobs.find, "jobs"),
    "employer_post_job": (post_job.start, "flow:post_job"),
}
_SOCIAL = {"goodbye": "goodbye", "thanks": "thanks", "help": "menu", "out_of_scope": "out_of_scope"}
_PARTING = ("thanks", "goodbye")


SURE_OF_A_RULE = 0.6
"""A rule question the classifier is this sure of is not overridden by the word rules below
("kan jeg søge om frikort som førtidspensionist" is a question about who may, not a start)."""


def reread(step: Step) -> str:
    """The intent as meant by this asker."""
    intent = _rescued(step)
    identity = step.identity
    folded = fold(step.inbound.text)
    sure_rule = intent.startswith(RULE_PREFIXES) and step.confidence >= SURE_OF_A_RULE
    applying = _APPLYING.search(folded)
    if applying and not sure_rule and not identity.is_card_holder \
            and not identity.is_employer and (
            "frikort" in folded or not applying.group("rest").strip()):
        return "apply_card"
    if not identity.is_card_holder and not identity.is_employer and not sure_rule \
            and apply_card.for_someone_else(step.inbound.text) and _WANTS_A_CARD.search(folded):
        return "apply_card"  # "en af vores brugere vil gerne have frikort"
    if _APPLY_NOW.match(folded) and not identity.is_card_holder and not identity.is_employer:
        return "apply_card"  # "ok søg" after hearing who can get a card
    if _PERSON.search(folded) and not sure_rule:
        return "human_handoff"
    if intent == "apply_card" and identity.is_employer and not identity.is_card_holder \
            and not applying:  # "vil gerne have en på det skattefri kort": to hire one
        return _rule_runner_up(step) or ("employer_post_job" if identity.employer_verified
                                         else "employer_register")
    if intent == "apply_card" and identity.is_card_holder and _FINDING_WORK.search(folded):
        return "find_job"  # a holder who "has not found anything": help to a job, not a card
    asking = "?" in step.inbound.text or starts_as_question(folded)
    if identity.is_employer and not identity.is_card_holder and _ROOM_LEFT.search(folded) \
            and (employees_named(step) or step.entity("card_number")):
        return "employer_check_card"  # "... hvor meget har hun tilbage?" about mette
    if identity.is_employer and not identity.is_card_holder and not (sure_rule and asking):
        if _IS_IT_OK.search(folded) and any(ch.isdigit() for ch in folded) \
                and employees_named(step):
            return "employer_check_card"  # "jeg har betalt jens 45000 i år, er det et problem"
        if _is_a_report(step, intent, folded):
            return "employer_report_wage"
        if intent == "employer_report_wage" and (
                _NOT_A_REPORT.search(folded) or starts_as_question(folded)
                or ("?" in step.inbound.text and not _has_figures(step))):
            return _rule_runner_up(step) or (  # "hvordan indberetter vi, hvis ...?"
                "employer_faq_payroll" if _HOW.search(folded) and not _has_figures(step)
                and not identity.employer_verified  # one who cannot report yet: how it works
                else intent)
        if employees_named(step) and (_CARD_STATUS.search(folded) or _AND_NAME.match(folded)
                                      or _CHECK_NAME.match(folded)):
            return "employer_check_card"  # "er mette stadig aktiv", "og ali?" after a check
        if intent == "check_balance" or (
                intent in (FALLBACK_INTENT, "faq_card_validity", "faq_limit", "out_of_scope",
                           "affirm", "faq_job_types", "help", "faq_hours")  # not "ok"
                and _CARD_WORDS.search(folded) and employees_named(step)
                and not _MOVING.search(folded)):
            return "employer_check_card"  # "har mette plads til 3000 kr mere", "er jens aktiv"
        if intent == "find_job" and _NEW_POSTING.match(folded):
            return "employer_post_job"  # "nyt job" from an employer: an ad, not a job hunt
    elif not identity.is_card_holder and intent == "employer_post_job" \
            and not speaks_as_employer(step.inbound.text):
        return "find_job"  # "er der job til folk med frikort": someone looking for work
    elif not identity.is_card_holder and intent == "employer_report_wage" \
            and starts_as_question(folded) and not _has_figures(step):
        # How reporting works, for the employer or the worker ("hvordan indberetter vi
        # lønnen", "hvordan indberetter min arbejdsgiver"): nothing to report yet.
        return "employer_faq_payroll" if speaks_as_employer(step.inbound.text) \
            else "faq_reporting"
    if intent in ("employer_post_job", FALLBACK_INTENT) and _MAY_WE_HIRE.search(folded):
        return "faq_job_types"  # "kan vi ansætte en på frikort": who may hire, not a job ad
    if identity.is_card_holder and not identity.is_employer:
        if intent == "employer_post_job":
            return "find_job"  # "er der nogen der mangler en til at male": looking for work
        if intent == "employer_report_wage":
            return "faq_reporting"  # only the employer reports; say how, and who to ask
        named = step.entity("card_number")
        if intent == "employer_check_card" and named in (None, identity.card_number):
            return "faq_card_validity"  # "virker mit kort": their own card
        if intent.startswith("employer_faq_"):  # "tæller feriepenge med": their own limit
            return _own_side(step) or intent
    return intent


def _own_side(step: Step) -> str | None:
    """A card holder's question the classifier put on the employer's side: the card holder's
    own question instead, when it is a serious candidate (the employer's answer speaks to
    someone who pays wages)."""
    for candidate in step.parse["intent_ranking"][1:3]:
        if candidate["name"].startswith("faq_") and candidate["confidence"] >= OWN_SIDE_CONFIDENT:
            return str(candidate["name"])
    return None


def _rescued(step: Step) -> str:
    """The intent, or, when the classifier fell back or is unsure between rule questions, the
    rule question the response selector is sure of the answer to, if it is one of the two
    best ("hvad er det for en kontrol jeg har været til": the card's control, not what a
    frikort is)."""
    unsure_rule = step.intent.startswith(RULE_PREFIXES) and step.confidence < SURE_OF_A_RULE
    if step.intent != FALLBACK_INTENT and not unsure_rule:
        return step.intent
    ranking = [r for r in step.parse["intent_ranking"] if r["name"] != FALLBACK_INTENT]
    if {r["name"] for r in ranking[:2]} == _BALANCE_OR_CHECK:  # the same question, by who asks
        return "employer_check_card" if step.identity.is_employer else "check_balance"
    selector = step.parse.get("response_selector")
    if not selector:
        return step.intent
    best = selector["default"]["response"]
    for candidate in ranking[:2]:  # unsure, or torn between two: the selector may know
        if candidate["name"].startswith(RULE_PREFIXES) \
                and best["intent_response_key"].startswith(f"{candidate['name']}/") \
                and best["confidence"] >= RESCUE_CONFIDENT:
            return candidate["name"]
    return step.intent


_BALANCE_OR_CHECK = {"check_balance", "employer_check_card"}
_ASKED_ANGRILY = _BALANCE_OR_CHECK | {"find_job", "apply_card"}
"""Asked for with a swear word ("fuck sikke en vagt. hvad har jeg tjent"): given."""


def _rule_runner_up(step: Step) -> str | None:
    """The best rule intent in the ranking, when it is a serious candidate."""
    for candidate in step.parse["intent_ranking"][1:4]:
        if candidate["name"].startswith(RULE_PREFIXES) and candidate["confidence"] >= 0.15:
            return candidate["name"]
    return None


def _is_a_report(step: Step, intent: str, folded: str) -> bool:
    """An employer telling what was paid: reporting words, or pay and hours with a name or a
    card ("jens har vasket op 5 timer i går, 650 kr"), not a question about reporting."""
    if _WANTS_TO_REPORT.search(folded) and not _POSTING.search(folded):
        return True  # "jeg skal indberette løn for hende nu, hvordan gør jeg": let us begin
    if _ASKS_US_TO_REPORT.search(folded) and not _NOT_A_REPORT.search(folded) \
            and (employees_named(step) or step.entity("card_number")):
        return True  # "kan jeg melde jens løn for april ind nu": asking to, not how
    if _POSTING.search(folded) or _NOT_A_REPORT.search(folded) or starts_as_question(folded) \
            or (asks_a_question(step.inbound.text) and not _ASKS_US_TO_REPORT.search(folded)):
        return False
    if _REPORTING.search(folded) and intent in (
            "employer_post_job", "faq_reporting", "employer_faq_payroll", FALLBACK_INTENT,
            "check_balance", "employer_report_wage", "out_of_scope"):
        return True
    named = step.entity("card_number") or employees_named(step)
    # "jens 520 kr + 12,5% ferie", "i alt 2300 kr til jens for marts": the pay and whose it
    # is; the hours are asked for.
    told = not asks_a_question(step.inbound.text) and "?" not in step.inbound.text
    return bool(named and (
        step.entity("amount") and (step.entity("hours") or told)
        or step.entity("hours") and told and _PAY_HINT.search(folded)))


def _has_figures(step: Step) -> bool:
    return any(step.entity(name) for name in ("amount", "hours", "card_number"))


def starts_as_question(folded: str) -> bool:
    words = folded.split()
    return bool(words) and words[0] in QUESTION_WORDS


def flow_label(step: Step) -> str | None:
    """The flow ("flow:apply_card") this message would start, if it starts one."""
    start = _FLOW_STARTS.get(reread(step))
    return start[1] if start else None


def by_intent(step: Step, answer: str | None) -> None:
    if _ONLY_SYMBOLS.match(step.inbound.text) or _NOD.match(fold(step.inbound.text)):
        _ack(step)  # 👍, 🙏, "..." : one short line, not the whole menu
        return
    if _context_answer(step):
        return
    intent = FALLBACK_INTENT if _GIBBERISH.match(fold(step.inbound.text)) else reread(step)
    opening = salutations.opens(step)  # before this turn writes to the state
    if intent == FALLBACK_INTENT:
        if answer is not None:
            _ack(step)  # a stray "ja" or "ok": one short line
            return
        misunderstood(step)
        return
    step.state["misunderstood"] = 0
    frustrated = is_frustrated(step.inbound.text)
    if intent.startswith(RULE_PREFIXES) and (not frustrated
                                             or looks_like_question(step.inbound.text)):
        faq.answer(step, intent)
        if frustrated:  # angry, and still asking: the answer, then a person if they want one
            step.say("frustrated_answered")
    elif frustrated and not (intent in _ASKED_ANGRILY and looks_like_question(step.inbound.text)):
        handoff.offer(step)
    elif intent in _FLOW_STARTS:
        start, label = _FLOW_STARTS[intent]
        step.decide(label)
        start(step)
    elif intent == "greet" or (intent == "goodbye" and opening):
        salutations.greet(step)
    elif intent in ("affirm", "deny") or (answer is not None and intent not in _PARTING):
        _ack(step)  # "ok mange tak" is thanks, though it starts as a yes
    elif _SOCIAL.get(intent, "menu") == "menu":
        menu(step)
    else:
        key = _SOCIAL[intent]
        step.say(key)
        step.decide(key)


def menu(step: Step) -> None:
    """What the assistant can do; an employer not yet approved is not offered what it cannot
    use yet (reports, card checks, small jobs)."""
    identity = step.identity
    unapproved = identity.is_employer and not identity.employer_verified \
        and not identity.is_card_holder
    step.say("menu_unapproved" if unapproved else "menu")
    step.decide("menu")


_GIBBERISH = re.compile(r"^(?!(?:thx|tx|tnx|thnx|pls|plz|nvm|mvh)\b)(?:[^aeiouyæøå\s\d]+\s*)+$")
"""Letters with no vowel at all ("xjdhf kk"): not understood, not "not about the frikort"."""
_WHY = re.compile(r"^(hvorfor|hvordan kan det (vare|passe)|hvad betyder det|hvad sa nu|"
                  r"hvad (gor|goer|gore|goere|skal) (jeg|vi|i) (sa|nu|sa nu)|hvad nu)\b")
_FOLLOW_UPS = {"card_not_active": "faq_card_validity/taken_away",
               "card_not_found": "faq_reporting/card_number"}
"""A refusal's code -> the answer to "hvorfor det?" right after it."""
_EXPLAIN = re.compile(r"^(hvad betyder det|hva betyder det|det forstar jeg ikke|forklar( det)?|"
                      r"hvad mener du( med det)?)\W*$")
"""Asking what the last answer meant: its longer text (MERE), not "what is a frikort"."""
_TAX_LETTER = re.compile(r"\b(brev|regning|opkraevning|opkravning)\b.*\bbetale (\w+ )?skat\b|"
                         r"\brestskat\b|\bskat\w* (vil have|kraever|kraver)\b|"
                         r"\barsopgorelse\b.*\b(frikort\w*|lon\w*)\b")
"""A card holder who got a tax bill or letter about the card's pay: it was sent to SKAT."""
_FIX_POSTED = re.compile(r"\b(ups|forkert|fejl|ret|rette|rettes|skulle (have )?(vaere|vare|varet)|"
                         r"slet|slette|fortryd|annuller\w*)\b")
_PAY_HINT = re.compile(r"\b(feriepenge|udbetalt|betalt|i timen|timelon|kr|kroner|lon)\b|"
                       r"\d+ ?/ ?t\b|\ba \d+")
"""Pay said without the words the amount reader needs ("4 timer, 135/t", "a 130 = 1300")."""
_ASKS_US_TO_REPORT = re.compile(r"\b(kan|vil|ma) (du|i|jeg|vi) (indberette|registrere|skrive|"
                                r"taste|melde|sende)\b")
"""A question that is a report all the same: "..., kan du indberette det?"."""
_NEW_POSTING = re.compile(r"^(nyt|ny|nye|opret|opretter|lav|laver) (et |en )?(job|jobs|opgave|"
                          r"opslag|jobopslag|smajob)\W*$")
"""An employer's two words for a new posting."""
_UNREPORTED = re.compile(r"\b(uden at (skrive|indberette|melde|registrere)|under bordet|"
                         r"ikke (skriver|indberetter|melder|registrerer)|sorte penge)\b")
"""Pay the employer leaves unreported: not covered by the card (§ 6 stk. 1)."""
_VAGUE_NEXT = re.compile(r"^(sa )?(skal (jeg|vi) (gore|goere) (noget|mere)|"
                         r"hvad (skal|gor|goer) (jeg|vi)( sa| nu)?( gore)?|og (sa|hvad sa)|"
                         r"hvad sker der (sa|nu))\W*$")
"""A follow-up with no topic of its own: about the answer just given."""
_COMPLAINT = re.compile(r"\b(klag\w*|uenig|(?!a?abnede\b)a?abn\w*|genabn\w*|dodt|doedt|closed|"
                        r"hvorfor\b.*\b(lukket|lukkede|luk\w*|stoppet|deaktiv\w*|spaerret|sparret)|"
                        r"ingen (har )?(sagt|fortalt|skrevet)|det (vidste|viste) jeg (ikke|ik)|"
                        r"har (ikke|ik) (fat|faet|hort) (noget|besked|et brev)|uretfardig\w*)\b")
"""A closed card's holder about the closing (complaint, reopening, "mit kort er dødt")."""
_USE_MY_CARD = re.compile(r"\b(bruge|bruger|brug) (mit |det |mit fri)?"
                          r"(kort|kortet|frikort|frikortet)\b")
"""Whether the card can be used: for a closed card, that it is closed comes first."""
_ABOUT_THE_PAY = re.compile(r"\b(lon\w*|pengene|eindkomst|skat\w*|betale\w*|indberet\w*|gor vi|"
                            r"gore vi|gor jeg)\b")
"""After a report refused for a closed card: what to do with that pay."""
_CALL_ME_BACK = re.compile(r"\b(sagsbehandler\w*|medarbejder|en person) (\w+ )?"
                           r"(kontakter|ringer til|skriver til) mig\b")
_BALANCE_WORDS = re.compile(r"\b(saldo|tjent|tjente|tilbage|indberettet)\b")
"""A closed card's holder asking what is on it: the balance, not the closing."""
_WHERE_IS_MY_PAY = re.compile(r"\bhvor (er|bliver) (mine|min) (penge|lon\w*|lonning\w*)\b")
"""A card holder whose card is closed wanting to complain: the decision and how to complain."""
_OWN_POSTINGS = re.compile(r"\b(hvilke|hvad|hvor mange) (\w+ )?(opgaver|opslag|job|jobs) (har|er) "
                           r"(vi|jeg|i) (sla\w* op|oprettet|lagt op|lagt ud)|"
                           r"^(ret|rette|andre|aendre|aendr|ændr) (opgave|opslag|jobbet|job)\b")
"""An employer asking about, or changing, small jobs already posted."""
_DEMO_FIGURE = re.compile(r"\bdemo\s?(tal|belob\w*|graense\w*|grense\w*)?\b")
"""Asking about the "demo-tal" label a demo cap carries."""
_WHY_CPR = re.compile(r"\b(hvorfor|hvad skal (i|du) (bruge|med)|hvad vil (i|du) med)\b.*\bcpr\w*")
"""Why the application asks for a CPR number, asked outside the application."""
_AGREES = re.compile(r"^(ja|ok|okay|jep|gerne|lad os (gore|gor) det|det vil (jeg|vi) gerne|"
                     r"start|kom i gang)\b")
"""Taking up what the last reply offered ("ok lad os gøre det")."""
_DOUBTS_BALANCE = re.compile(r"\b(det passer ikke|passer ikke|det er forkert|for lidt|sa lidt|"
                             r"mangler (der )?(noget|penge|lon)|jeg (har )?fik|fik jeg|"
                             r"(arbejdet|tjent) (\w+ ){0,2}mere end (det|det der|\d+))\b")
"""Doubting the figure SALDO just gave: what has been reported, and why pay may be missing."""
_FOLLOW_UP_TEXTS = {"employer_unverified": "employer_unverified_when"}
"""The same, where the explanation is a reply of the bot's own rather than a rule answer."""
_OWN_CARD = re.compile(r"\b(skriv\w*|sat|registrer\w*|indberet\w*) (\w+ ){0,3}"
                       r"(pa|ind pa) mit (fri)?kort\b")
_GOT_A_JOB = re.compile(r"\b(har fat|fik|har fundet) (et |mig et )?(nyt |lille )?(job|arbejde)\b")
_CARD_TROUBLE = re.compile(r"\b(kort\w*|frikort\w*) (virker|fungerer|er) (ikke|ik)\b|"
                           r"\b(lukket|ikke aktiv\w*|deaktiv\w*)\b")
_CANCEL_QUESTION = re.compile(r"\b(melde\w*( jeg| mig)? fra|aflys\w*|ikke komme|alligevel ikke|"
                              r"kan ikke (den dag|alligevel|i morgen|pa (mandag|tirsdag|onsdag|"
                              r"torsdag|fredag|lordag|sondag))|kan jeg ikke)\b")
_LINK_DIGITS = re.compile(r"^\s*\d{5}[\s./-]+\d{2}\s?\d{2}\s*$")


def _context_answer(step: Step) -> bool:
    """Answers that depend on who asks and what just happened, whatever the classifier says."""
    folded = fold(step.inbound.text)
    identity = step.identity
    topic = step.state.pop("last_topic", None)
    if situations.for_a_person(step, sure_rule=step.intent.startswith(RULE_PREFIXES)
                               and step.confidence >= SURE_OF_A_RULE):
        return True
    if topic in _FOLLOW_UPS and _WHY.match(folded):
        faq.answer_key(step, _FOLLOW_UPS[topic])
        return True
    if topic == "card_not_active" and identity.is_employer and _ABOUT_THE_PAY.search(folded):
        step.say("closed_card_pay")  # never "indberet på frikortet" for a closed card
        step.state["last_topic"] = topic
        step.decide("employer_faq_payroll/general")
        return True
    if identity.is_employer and _OWN_POSTINGS.search(folded):
        step.say("own_postings")  # "hvilke opgaver har vi slået op", "ret opgave 5": not a new one
        step.decide("jobs")
        return True
    if topic == faq.OFFERED_APPLICATION and (_AGREES.match(folded) or _APPLY_NOW.match(folded)):
        step.decide("flow:apply_card")  # "ja" after who can get a card
        apply_card.start(step)
        return True
    if step.entity("cpr") and not identity.is_card_holder and not identity.is_employer:
        step.say("cpr_not_here")  # a CPR number out of the blue: not needed, not kept
        step.decide("menu")
        return True
    if _DEMO_FIGURE.search(folded) and len(folded.split()) <= _SHORT:
        step.say("demo_cap_meaning")  # "hvad betyder demo-tal": the label on a demo cap
        step.decide("faq_limit/yearly")
        return True
    if _WHY_CPR.search(folded):
        step.say("apply_why_cpr")
        step.decide("flow:apply_card")
        return True
    if topic == OFFERED_REGISTRATION and _AGREES.match(folded) and not (
            identity.is_employer or identity.is_card_holder):
        step.decide("flow:register_employer")  # "ok lad os gøre det" after the offer
        register_employer.start(step)
        return True
    if (identity.is_employer and topic == report_wage.REPORT_POSTED
            and _FIX_POSTED.search(folded)) or asks_to_undo_report(step):
        step.say("posted_fix")  # never a new report that adds to the wrong one
        step.state["last_topic"] = report_wage.REPORT_POSTED
        step.decide("report_fix")
        return True
    if _UNREPORTED.search(folded) and not identity.is_employer:
        step.say("unreported_pay")  # not "Ja, du må gerne få kontanter": only reported pay counts
        faq.remember(step, "faq_job_types/black_work")
        step.decide("faq_job_types/black_work")
        return True
    if (_EXPLAIN.match(folded) or _VAGUE_NEXT.match(folded)) \
            and topic in (faq.RULE_ANSWERED, faq.OFFERED_APPLICATION) and faq.more(step):
        return True  # "hvad betyder det?" after a rule answer: the longer explanation of it
    if _VAGUE_NEXT.match(folded):
        handoff.offer(step)  # stuck after a reply with nothing more to say: a person
        return True
    if _TAX_LETTER.search(folded) and identity.is_card_holder and not identity.is_employer:
        step.say("tax_letter")  # not "Du skal ikke betale skat": the pay went to SKAT by mistake
        faq.remember(step, "faq_tax/general")
        step.decide("faq_tax/general")
        return True
    if _COMPLAINT.search(folded) and not _BALANCE_WORDS.search(folded) \
            and identity.card_number and identity.is_card_holder \
            and step.ledger.card(identity.card_number).status != "active":
        if _PERSON.search(folded) or _CALL_ME_BACK.search(folded):
            handoff.asked(step)  # "jeg ønsker at klage ... en sagsbehandler kontakter mig"
            return True
        faq.answer_key(step, "faq_card_validity/taken_away")  # "kan jeg klage": a closed card
        step.say("frustrated_answered")  # upset, and the municipality decides: a person too
        return True
    if _USE_MY_CARD.search(folded) and identity.card_number and identity.is_card_holder \
            and not identity.is_employer \
            and step.ledger.card(identity.card_number).status != "active":
        faq.answer_key(step, "faq_job_types/general")  # "kan de ikke bruge kortet": it is closed
        return True
    if identity.is_card_holder and not identity.is_employer and _WHERE_IS_MY_PAY.search(folded):
        faq.answer_key(step, "faq_reporting/missing_pay")  # "HVOR ER MINE PENGE"
        return True
    last = faq.last_answer(step)  # doubts after the missing-pay answer are about it too
    doubted = topic == BALANCE_SHOWN or (last.key if last else "") == "faq_reporting/missing_pay"
    if doubted and (_WHY.match(folded) or _DOUBTS_BALANCE.search(folded)):
        faq.answer_key(step, "faq_reporting/missing_pay")  # "hvorfor så lidt?" after SALDO
        return True
    if topic in _FOLLOW_UP_TEXTS and _WHY.match(folded):
        step.say(_FOLLOW_UP_TEXTS[topic])
        step.decide("flow:register_employer")
        return True
    if link.in_two_steps(step, topic):
        return True
    if _APPLICATION_STATUS.search(folded) and not identity.is_card_holder:
        if apply_card.sent_status(step):
            return True
        step.say("apply_status", days=step.config.application_response_days)
        step.decide("flow:apply_card")
        return True
    if link.phone_gone(step):
        return True
    if identity.is_card_holder and jobs.my_place(step):
        return True  # "hvornår skal jeg møde?" after taking a small job
    if _FORGET_ME.search(folded):
        step.say("forget_me")
        handoff.escalate(step, reason="privacy_request")  # erasure is a caseworker's decision
        return True
    if about_us.asked(folded, step.inbound.text):
        step.say("about_me")  # mistrust: what this is, and who reads what is written here
        step.decide("about_me")
        return True
    if _IS_IT_REAL.search(folded) and len(folded.split()) <= _SHORT and not (
            step.intent.startswith(RULE_PREFIXES) and step.confidence >= SURE_OF_A_RULE):
        step.say("is_it_real")  # "er det en fidus": the law, and the source on request
        faq.remember(step, "faq_eligibility/what_is")
        step.decide("about_me")
        return True
    if _LINK_DIGITS.match(step.inbound.text) and not identity.is_employer:
        digits = "".join(ch for ch in step.inbound.text if ch.isdigit())
        step.decide("link")
        link.with_code(step, (digits[:5], digits[5:]))  # "81322 5427" without the word LINK
        return True
    if identity.is_employer and not identity.employer_verified and _OWN_APPROVAL.search(folded) \
            and not _PERSON.search(folded):  # "ring os op om godkendelsen": a person, at once
        step.say("employer_unverified_when")
        step.decide("flow:register_employer")
        return True
    if identity.is_card_holder and not identity.is_employer:
        if (_OWN_CARD.search(folded) or _GOT_A_JOB.search(folded)) \
                and not _CARD_TROUBLE.search(folded):  # "... men kortet virker ikke": its state
            faq.answer(step, "faq_reporting")  # only the employer reports: say how
            return True
        if _CANCEL_QUESTION.search(folded) and identity.card_number \
                and step.jobs.assignments_for_card(identity.card_number):
            step.say("jobs.how_to_cancel")
            step.decide("jobs")
            return True
    return False


_OWN_APPROVAL = re.compile(
    r"\b(godkend|verificer)\w*\b"
    r"(?! (jobbet|job|arbejdet|ham|hende|opgaven|opgaverne|de|timerne|lonnen))|"
    r"\bregistrering\w*\b|\bhvornar kan (vi|jeg) (sa |godt )?(indberette|bruge|komme i gang)\b|"
    r"\bimens\b|\bindtil (vi|i) (er|bliver) godkendt\b")
"""An employer not yet approved asking about their own approval ("er vi godkendt", "svar på
vores registrering", "hvornår kan vi så indberette"), not whether a job or a person must be
approved."""
_FORGET_ME = re.compile(r"\b(slet|fjern|glem)\w* (alt|alle|mine|min|mig|det hele) ?"
                        r"(om mig|oplysninger|data|samtale\w*|beskeder|historik)|"
                        r"\bslet (mig|mine oplysninger|mine data)\b")
"""Asking for one's data to be erased: only a person can decide that (privacy/)."""
_IS_IT_REAL = re.compile(
    r"\b(fidus|svindel|scam|for godt til at (vare|vaere) sandt|hvem star bag( jer| dig| det)?|"
    r"hvem har lavet (dig|det her)|er (det|det her|frikortet) (agte|aegte|seriost|en fup)|fup)\b")
"""Doubting that the card is real: it is a law (the source follows on "hvor står det")."""
_SHORT = 12
"""Words in a message that is only the doubt; a longer one also asks its real question."""
_APPLICATION_STATUS = re.compile(
    r"\b(svar pa|modtaget|faet|fat|hort (noget )?(om|fra)|sket med|status pa) "
    r"(min|mit|vores|hans|hendes) (ansogning|frikortansogning)\b|"
    r"\b(min|mit) ansogning\b.*\b(svar|modtaget|kommet)\b|"
    r"\b(hvad med|hvor er|hvordan gar det med|nyt om|er der nyt (om|i)) "
    r"(min|mit|vores|hans|hendes) (ansogning|frikortansogning)\b")
"""Asking about an application already sent: not a new application."""
def _ack(step: Step) -> None:
    step.say("ack")
    step.decide("ack")


def misunderstood(step: Step) -> None:
    """The first miss asks again in simpler words; the second in a row offers a person.
    On the phone the line counts the misses itself (two: the keypad menu; three: a person)."""
    if step.live:
        step.decide("fallback")
        return
    misses = int(step.state.get("misunderstood", 0)) + 1
    step.state["misunderstood"] = misses
    step.decide("fallback")
    if misses >= 2 or is_frustrated(step.inbound.text):
        step.state["misunderstood"] = 0
        handoff.offer(step)
    else:
        step.say("fallback_first_employer" if step.asker == "employer" else "fallback_first")

