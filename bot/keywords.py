"""Keywords that always work, whatever the classifier says."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.textmatch import contains_words, fold, looks_like_question

_SINGLE = {
    "stop": "STOP", "stopp": "STOP", "stop alt": "STOP", "stop alle beskeder": "STOP",
    "stop tak": "STOP", "stop stop": "STOP", "stop stop stop": "STOP", "statr": "START",
    "menske": "HUMAN", "mennske": "HUMAN", "lnk": "LINK",
    "afmeld alt": "STOP", "afmeld alle beskeder": "STOP",
    # Bare AFMELD is the common Danish word for leaving an SMS service, but after taking a
    # small job it may mean the job: the router asks when it could be either.
    "afmeld": "UNSUBSCRIBE",
    "start": "START",
    "hjalp": "HELP", "hjelp": "HELP", "help": "HELP", "menu": "HELP", "/help": "HELP",
    "hjalp mig": "HELP", "hvad kan du": "HELP", "hvad kan du hjalpe med": "HELP",
    "saldo": "BALANCE",
    "mere": "MORE",
    "ja": "YES", "jaa": "YES", "ja tak": "YES", "ja gerne": "YES", "jo": "YES", "ja da": "YES", "jep": "YES", "yes": "YES", "ok": "YES", "okay": "YES",
    "ja til begge": "YES", "ja til alle": "YES", "ja begge": "YES", "ja det er rigtigt": "YES",
    "ja det er korrekt": "YES", "ja det passer": "YES", "det er korrekt": "YES",
    "det er rigtigt": "YES", "korrekt": "YES", "bekraft": "YES", "jeps": "YES",
    "nej": "NO", "nej tak": "NO", "no": "NO", "nope": "NO", "nej det er forkert": "NO",
    "menneske": "HUMAN", "medarbejder": "HUMAN",
    "annuller": "CANCEL", "afbryd": "CANCEL", "stop det": "CANCEL", "fortryd": "CANCEL",
    "glem det": "CANCEL", "glem det hele": "CANCEL", "glem det bare": "CANCEL",
    "nej glem det": "CANCEL", "glem indberetningen": "CANCEL", "glem ansogningen": "CANCEL",
    "glem opgaven": "CANCEL", "drop det": "CANCEL", "lad vare": "CANCEL", "nej lad vare": "CANCEL",
    "slet det": "CANCEL", "nej alligevel ikke": "CANCEL", "alligevel ikke": "CANCEL",
    "nej det behoves ikke": "CANCEL", "det behoves ikke": "CANCEL", "det var en fejl": "CANCEL",
    "jeg fandt ud af det": "CANCEL",
    "jeg fandt ud af det selv": "CANCEL", "glem det jeg fandt ud af det selv": "CANCEL",
    "/start": "GREET",
    # Reminders (outreach) off or on again; the bot keeps answering either way.
    "ingen pamindelser": "REMINDERS_OFF", "ingen paamindelser": "REMINDERS_OFF",
    "stop pamindelser": "REMINDERS_OFF", "ingen pamindelser tak": "REMINDERS_OFF",
    "pamindelser": "REMINDERS_ON", "pamindelser til": "REMINDERS_ON",
    "start pamindelser": "REMINDERS_ON", "paamindelser": "REMINDERS_ON",
    # Where the last answer comes from (its law paragraph or page).
    "hvor star det": "SOURCE", "hvor star det henne": "SOURCE", "hvor star det skrevet": "SOURCE",
    "kilde": "SOURCE", "kilder": "SOURCE", "kilden": "SOURCE", "hvad er kilden": "SOURCE",
    "hvad er din kilde": "SOURCE", "har du en kilde": "SOURCE", "kildehenvisning": "SOURCE",
    "hvordan ved du det": "SOURCE", "hvor ved du det fra": "SOURCE",
    "hvor har du det fra": "SOURCE", "er det rigtigt": "SOURCE", "er det sandt": "SOURCE",
    "passer det": "SOURCE", "passer det virkelig": "SOURCE", "er du sikker": "SOURCE",
    "er du helt sikker": "SOURCE", "hvor kan jeg lase det": "SOURCE",
    "hvor kan jeg lase mere": "SOURCE", "kan jeg se det et sted": "SOURCE",
    "hvilken lov": "SOURCE", "hvilken paragraf": "SOURCE", "dokumentation": "SOURCE",
    "bevis det": "SOURCE", "det tror jeg ikke pa": "SOURCE",
}
# Asking where the last answer comes from, inside a short message ("min sagsbehandler siger
# noget andet. hvor står det?"): matched on the folded text.
_SOURCE = re.compile(
    r"\b(hvor (sta|star|stod) (det|de|der)|hvor (har|ved) (i|du) det fra|hvor kommer det fra|"
    r"(sta|star) det i loven|hvilken (lov|paragraf)|hvem siger det|link til hvor|"
    r"where do\w* it say|what is the source|kilde\w*|hvor kan jeg (lase|se) (det|mere)|"
    r"link til det|lase mere om det|star det (skrevet|noget sted)|sort pa hvidt|"
    r"(send|sende) (mig )?(et |nogle )?link\w*)\b")
_SOURCE_MAX_WORDS = 16
_CLAUSE_END = re.compile(r"[.!?,;\n]+")
# Linking a phone to a card, said in words ("hvordan kobler jeg mit nummer til mit kort").
_LINK_WORDED = re.compile(
    r"\b(kobl\w*|forbind(?!else)\w*|tilknyt\w*|knyt\w*)\b.*"
    r"\b(nummer\w*|telefon\w*|mobil\w*|kort\w*|frikort\w*)\b|"
    r"\bkoden fra (mit |det )?brev\w*|\bbrev med (en )?kode\b|"
    r"\b(skiftet|fat nyt|fat ny|nyt|ny)( min| mit)?( gamle)? (tlf|telefon\w*|"
    r"mobil\w*|telefonnummer)\b|\b(skiftet|skifter|nyt|nye) (nummer|nr)\b|"
    r"\b(dette|det her|mit) nummer\b.*\bsatte (det|den) pa\b|"
    r"\b(virke|fungere) (pa|paa|i) (min |mit )?(telefon\w*|mobil\w*)|"
    r"\b(sat|satte) (\w+ )?sammen med (mit |min |det |dit )?(kort\w*|frikort\w*)|"
    r"\bsat(te)? (det|den|kortet|nummeret|mit frikort|mit kort) pa (den her|denne|min|mit|det her) "
    r"(tlf|telefon\w*|mobil\w*|nummer)|"
    r"\bhvordan (forbinder|kobler|tilknytter) (jeg|man|vi) (det|den)\b|"
    r"\b(link|connect) (my |this )?(phone|number|mobile|telegram)\b|"
    r"\bkobl\w* (jeg |man |i )?(den|det|telefonen|mobilen|nummeret) (pa|til)\b|"
    r"\b(den|det|telefonen|mobilen|nummeret) (skal )?kobles (pa|til)\b")
_NOT_LINKED_YET = re.compile(r"\b(ikke|ik)\b (\w+ ){0,2}(koblet|tilknyttet|forbundet|linket)\b.*"
                             r"\bendnu\b")
""""Er der job? Jeg har ikke koblet telefonen på endnu": said in passing, not what is asked."""
_LINK_LAST = re.compile(r"\blink(?: frikort| kort| nr)? \d{5}[\d\s-]*$")
"""LINK and its numbers at the end of a sentence ("... skulle skrive LINK. LINK 38816")."""
# "kan ikke huske mit frikort nummer, har skiftet tlf": the number first, not how to link.
_FORGOT_NUMBER = re.compile(r"\b(kan ikke huske|husker ikke|glemt|ved ikke)\b.*"
                            r"\b(frikortnummer\w*|frikort nummer\w*|kortnummer\w*|frikort id)\b")
# Keywords typed with one letter wrong ("sldo", "menesk"): only these long, distinctive ones.
_FUZZY = {"saldo": "BALANCE", "hjalp": "HELP", "menneske": "HUMAN", "medarbejder": "HUMAN",
          "annuller": "CANCEL", "fortryd": "CANCEL"}
# "ok glem det jeg gør det i morgen": opens by calling it off and gives no new figure.
_CANCEL_OPENING = re.compile(r"^(?:ok |okay |nej |nej nej |ah |arh )?(?:glem det|glem det hele|"
                             r"drop det|annuller|afbryd|fortryd)\b(?!.*\d)")
# Stopping or restarting our messages in words ("lad være med at skrive til mig mere", "gider
# ik flere beskeder fra jer", "STOP SMS"): only in a short message, and only about messages.
_STOP_WORDED = re.compile(
    r"^(?:(?:hej|ok|okay|nej|og|men|please|plz|tak|na|sa|i ma gerne|i ma) )*(?:"
    r"(?:kan (?:i|du) )?(?:stop )?stop(?:p|pe|per)? (?:venligst )?(?:med )?(?:at sende )?(?:mig )?"
    r"(?:(?:alle|de|de der|de her|jeres|dine) )?"
    r"(?:sms(?:\w*| er\w*)|beskeder|besked|at skrive)|"
    r"(?:lad|lade) (?:vare|vaere) med at (?:skrive|sende|sms(?:\w*| er\w*))|"
    r"(?:hold|holde) op med at (?:skrive|sende|sms(?:\w*| er\w*))(?: beskeder| sms\w*)?|"
    r"(?:skriv|send|sms) (?:ikke|ikk|ik|aldrig) (?:mere|flere|til mig|igen)(?: beskeder| sms\w*)?|"
    r"(?:ikke|ik|aldrig) (?:skriv|send|sms)\w* (?:til )?(?:mig|os) (?:mere|flere|igen)|"
    r"(?:jeg |vi )?(?:gider|vil|onsker) (?:ikke|ik) (?:at )?(?:have |ha |fa |modtage )?"
    r"(?:flere|mere|nogen|nogle|de her|disse) (?:sms(?:\w*| er\w*)|beskeder|besked)|"
    r"(?:ingen|ikke) (?:flere|mere) (?:sms(?:\w*| er\w*)|beskeder)|"
    r"(?:.* )?(?:satte|sat) (?:sms(?:\w*| er\w*)|beskeder\w*) pa pause|"
    r"sla (?:sms(?:\w*| er\w*)|beskederne|beskeder) fra(?: \w+){0,4}|"
    r"afmeld (?:venligst )?(?:mig|sms(?:\w*| er\w*)|beskeder|alt|dette nummer|mit nummer)|"
    r"skrid med (?:jeres )?(?:sms(?:\w*| er\w*)|beskeder)|lad mig (?:vare|vaere) i fred|"
    r"(?:fjern|slet) mit (?:tlf |telefon)?nummer fra (?:jeres )?(?:liste\w*|system\w*))"
    r"(?: (?:fra|til|med) (?:jer|dig|mig|dem|os|dette nummer|det her nummer|denne telefon|"
    r"den her telefon|min telefon|jeres beskeder|jeres liste))?"
    r"(?: pa (?:det her|dette|mit) nummer)?"
    r"(?: (?:mere|tak|igen|nu|for helvede|stop det|stop|pls|plz|venligst))*$")
_STOP_FIRST = re.compile(r"^stop (?:\w+ ){0,4}(?:sms\w*|beskeder\w*)$")
"""STOP, then what about ("STOP vil ikke ha flere sms")."""
_UNSUBSCRIBE_FIRST = re.compile(r"^\s*afmeld\s*[.!,]", re.IGNORECASE)
"""AFMELD as a sentence of its own, before why ("afmeld. har aldrig tilmeldt mig"); "afmeld 3"
and "afmeld opgaven" are a small job's."""
# STOP said last, after what it is about ("jeg er færdig med jer. stop alle beskeder").
_STOP_LAST = re.compile(r"[.!?]\s*(?:stop|stop alt|stop alle beskeder|afmeld(?: os| mig)?)\W*$",
                        re.IGNORECASE)
# Calling a task off in words ("stop jeg vil ikke alligevel", "jeg vil ikke søge alligevel").
_CANCEL_WORDED = re.compile(
    r"^(?:(?:nej|stop|ok|okay|hmm|nah)\s+)*(?:jeg\s+)?(?:vil|gider|skal)\s+(?:ikke|ik)\s+"
    r"(?:(?:soge|sog|ansoge|sende|fortsatte|have|ha|det)\s+)?(?:\w+\s+)?alligevel$|"
    r"^(?:(?:nej|stop)\s+)*(?:jeg\s+)?(?:vil|gider)\s+(?:ikke|ik)\s+(?:soge|ansoge)"
    r"(?:\s+om)?(?:\s+(?:et\s+)?(?:frikort|kort|kortet))?$")
_START_WORDED = re.compile(
    r"^(?:start|tilmeld) (?:igen|mig igen|sms\w*|beskeder|mig)(?: tak)?$|"
    r"^start (?:beskeder\w*|sms\w*) igen\b|^start\b.*\b(?:beskeder\w*|sms\w*) igen$|"
    r"^(?:i ma (?:gerne|godt) )?send(?:e)? (?:beskeder|sms\w*|sms er) (?:til mig )?igen\b|"
    r".*\b(?:i|du) ma (?:gerne|godt) (?:skrive|sende|sms\w*) (?:til mig )?igen$|"
    r"^(?:kan (?:i|du) )?(?:begynde at |starte med at )?sende (?:mig )?"
    r"(?:beskeder\w*|sms\w*) igen\b|^(?:kan (?:i|du) )?begynde at sende (?:til mig )?igen$|"
    r"^(?:i ma (?:gerne|godt) )?begynde at sende (?:beskeder\w*|sms\w*) (?:til (?:mig|os) )?igen\b|"
    r"^start igen\b.*(?:beskeder\w*|sms\w*)\b|"
    r"^(?:tand|taend) for (?:sms\w*|beskeder\w*)(?: igen)?(?: tak)?$|"
    r"^(?:jeg )?vil (?:gerne |godt )?(?:have|ha|fa) (?:beskeder\w*|sms\w*)(?:ne)? "
    r"(?:igen|alligevel)$|"
    r".*\b(?:beskeder\w*|sms\w*)\b.*\b(?:have|ha|fa|tande for) (?:dem|de|dem alle) igen$|"
    r".*\b(?:vil|gerne|godt) (?:gerne |godt )?(?:have|ha|fa|modtage) (?:beskeder\w*|sms\w*) "
    r"igen(?: nu| tak)?$|^(?:kan (?:i|du) )?(?:sla|tande) (?:beskeder\w*|sms\w*) til(?: igen)?$")
_LINK_WORDS = re.compile(r"\b(?:frikort|kort|nr|nummer|kode|koden|code|id|og)\b")
# Small jobs, matched on the folded text: JOB [postcode], JOB DAGLIG|UGENTLIG [postcode],
# JOB STOP; the replies to our task messages: JA/AFLYS/AFMELD/UDEBLEV <number>; AFLYS JOB
# (the holder's own place, no number needed); AFLYS OPGAVE <number> (the employer's task).
_JOB = re.compile(r"^jobs?(?: (daglig|ugentlig|stop))?(?: (\d{4}))?(?: tak)?$")
_DIGEST = {"daglig": "daily", "ugentlig": "weekly"}
_TASK_REPLY = re.compile(r"^(ja|aflys|afmeld|udeblev)(?: nr| nummer)? (\d{1,9})$")
_TASK_REPLIES = {"ja": "TASK_CONFIRM", "aflys": "TASK_CANCEL", "afmeld": "TASK_CANCEL",
                 "udeblev": "TASK_NO_SHOW"}
_WITHDRAW = re.compile(r"^(?:aflys|afmeld) (?:mit |min )?(?:job|jobbet|opgave|opgaven)$")
_TAKE_DOWN = re.compile(r"^aflys (?:opgave|opgaven|job|jobbet)(?: nr| nummer)? (\d{1,9})$")


@dataclass(frozen=True)
class Keyword:
    name: str
    args: tuple[str, ...] = ()


def keyword_of(text: str) -> Keyword | None:
    """A message that is just a keyword (or LINK with its arguments); None otherwise."""
    folded = fold(text)
    if _asks_for_source(text, folded):
        return Keyword("SOURCE")
    if folded.startswith("link"):
        return _link(folded)
    told = _LINK_LAST.search(folded)  # "... sagde jeg skulle skrive LINK. LINK 38816"
    if told:
        return _link(folded[told.start():])
    stripped = text.strip().lower()
    if stripped in ("/start", "/help"):
        return Keyword(_SINGLE[stripped])
    if folded in _SINGLE:
        return Keyword(_SINGLE[folded])
    if _asks_to_stop(text, folded):  # before LINK: "ny telefon, gider ikke flere beskeder. stop"
        return Keyword("STOP")
    if _LINK_WORDED.search(folded) and not _FORGOT_NUMBER.search(folded) \
            and not _NOT_LINKED_YET.search(folded):
        return Keyword("LINK")
    if _START_WORDED.match(folded) or _START_WORDED.match(_first_clause(text)):
        return Keyword("START")
    if _CANCEL_WORDED.match(folded):
        return Keyword("CANCEL")
    if _CANCEL_OPENING.match(folded) and not looks_like_question(text):
        return Keyword("CANCEL")  # "nej glem det, hvor meget må jeg tjene?" asks instead
    found = _job_keyword(folded)
    if found is None and " " not in folded:
        typed = next((name for word, name in _FUZZY.items()
                      if contains_words([folded], (word,))), None)
        return Keyword(typed) if typed else None
    return found


def _first_clause(text: str) -> str:
    return fold(re.split(r"[.!?,]\s", text.strip(), maxsplit=1)[0])


def _last_sentence(text: str) -> str:
    return fold(re.split(r"[.!?]\s", text.strip())[-1])


def _asks_to_stop(text: str, folded: str) -> bool:
    first = _first_clause(text)  # STOP said, then why
    last = _last_sentence(text)  # why, then STOP: "hvem er i? stop med at skrive til mig"
    return bool(_STOP_WORDED.match(folded) or _STOP_WORDED.match(first) or first == "stop"
                or (last != first and (_STOP_WORDED.match(last)
                                       or _STOP_WORDED.match(_first_clause(last))))
                or _STOP_FIRST.match(folded)
                or _STOP_LAST.search(text.strip()) or _UNSUBSCRIBE_FIRST.match(text))


def _asks_for_source(text: str, folded: str) -> bool:
    """A short message whose sentence or clause ends with asking for the source ("hvor står
    det henne? vil gerne vise min chef det", "har du et link til det, min revisor vil se det")."""
    if len(folded.split()) > _SOURCE_MAX_WORDS:
        return False
    for clause in _CLAUSE_END.split(text):
        clause = fold(clause)
        end = _last_source_end(clause)  # "send et link til hvor det står": the last one
        if end is not None and len(clause[end:].split()) <= 3:
            return True
    return False


def _last_source_end(clause: str) -> int | None:
    """Where the last source phrase of a clause ends, overlapping ones included."""
    end, found = None, _SOURCE.search(clause)
    while found:
        end = found.end()
        found = _SOURCE.search(clause, found.start() + 1)
    return end


def _link(folded: str) -> Keyword:
    """LINK with the card number and the letter's code however they are typed: "LINK 81322
    5427", "Link 81322-5427", "LINK 81322 54 27", "link frikort 81322 kode 5427"."""
    rest = _LINK_WORDS.sub(" ", folded[len("link"):])
    digits = "".join(re.findall(r"\d", rest))
    if re.fullmatch(r"[\d\s]*", rest) and len(digits) == 9:
        return Keyword("LINK", (digits[:5], digits[5:]))
    return Keyword("LINK")


def _job_keyword(folded: str) -> Keyword | None:
    """JOB and the task replies; the numbers are passed on as text."""
    job = _JOB.match(folded)
    if job:
        word, postcode = job.groups()
        if word == "stop":
            return Keyword("JOB_STOP") if postcode is None else None
        if word in _DIGEST:
            return Keyword("JOB_DIGEST", (_DIGEST[word],) + ((postcode,) if postcode else ()))
        return Keyword("JOB", (postcode,) if postcode else ())
    reply = _TASK_REPLY.match(folded)
    if reply:
        return Keyword(_TASK_REPLIES[reply.group(1)], (reply.group(2),))
    take_down = _TAKE_DOWN.match(folded)
    if take_down:
        return Keyword("TASK_TAKE_DOWN", (take_down.group(1),))
    if _WITHDRAW.match(folded):
        return Keyword("TASK_CANCEL")
    return None
