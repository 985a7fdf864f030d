"""Greetings, and the words that greet or part depending on when they come: "hej hej" and
"god aften" open a conversation when nothing came before them, and close one after an answer."""

from __future__ import annotations

import datetime as dt
import re

from bot.context import Step
from bot.textmatch import fold

_EITHER_WAY = re.compile(r"^(hej ?hej|god ?aften|hejsa|hej med (dig|jer))( (alle|allesammen))?$")
OPENS_AFTER = dt.timedelta(hours=1)
"""Silence after which a "hej hej" starts a new talk rather than ending the last one."""


def opens(step: Step) -> bool:
    """Whether a word said both ways greets here: the conversation's first message, or the
    first after a long silence."""
    if not _EITHER_WAY.match(fold(step.inbound.text).strip()):
        return False
    return not step.state or step.idle >= OPENS_AFTER


def greet(step: Step) -> None:
    if step.first_name:
        step.say("greet", name=step.first_name)
    else:
        step.say("greet_anonymous")
    step.decide("greet")
