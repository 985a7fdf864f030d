"""Keywords that always work, whatever the classifier says."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.textmatch import fold

_SINGLE = {
    "stop": "STOP", "stopp": "STOP", "afmeld": "STOP",
    "start": "START",
    "hjalp": "HELP", "hjelp": "HELP", "help": "HELP", "menu": "HELP", "/help": "HELP",
    "saldo": "BALANCE",
    "mere": "MORE",
    "ja": "YES", "jaa": "YES", "ja tak": "YES", "ja gerne": "YES", "jo": "YES", "ja da": "YES", "jep": "YES", "yes": "YES", "ok": "YES", "okay": "YES",
    "nej": "NO", "nej tak": "NO", "no": "NO", "nope": "NO",
    "menneske": "HUMAN", "medarbejder": "HUMAN",
    "annuller": "CANCEL", "afbryd": "CANCEL", "stop det": "CANCEL", "fortryd": "CANCEL",
    "/start": "GREET",
}
_LINK = re.compile(r"^\s*link\s+(\d{5})\s+(\d{4})\s*$", re.IGNORECASE)
# Small jobs, matched on the folded text: JOB [postcode], JOB DAGLIG|UGENTLIG [postcode],
# JOB STOP; the replies to our task messages: JA/AFLYS/AFMELD/UDEBLEV <number>; AFLYS JOB
# (the holder's own place, no number needed); AFLYS OPGAVE <number> (the employer's task).
# Bare AFMELD stays STOP: it is the common Danish word for leaving an SMS service.
_JOB = re.compile(r"^jobs?(?: (daglig|ugentlig|stop))?(?: (\d{4}))?$")
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
    link = _LINK.match(text)
    if link:
        return Keyword("LINK", (link.group(1), link.group(2)))
    if fold(text).startswith("link"):
        return Keyword("LINK")
    stripped = text.strip().lower()
    if stripped in ("/start", "/help"):
        return Keyword(_SINGLE[stripped])
    folded = fold(text)
    if folded in _SINGLE:
        return Keyword(_SINGLE[folded])
    return _job_keyword(folded)


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
