"""A candidate's message: the rule's text filled with its values, GSM-7 safe."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from danish.wording import danish_date, gsm7_safe, kroner, segments, tidy
from outreach.rules import RuleSpec, spec
from outreach.store.records import Candidate

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def _when(iso: str) -> str:
    local = dt.datetime.fromisoformat(iso).astimezone(COPENHAGEN)
    return f"{danish_date(local.date())} kl. {local:%H.%M}"


def variant(rule: RuleSpec, candidate: Candidate) -> str:
    """Which of the rule's texts fits the candidate's values."""
    values = candidate.values
    if rule.name == "cap_thresholds" and values.get("percent") == 100:
        return "reached"
    if "many" in rule.texts and int(values.get("count", 1)) > 1:
        return "many"
    return "main"


def fill(rule: RuleSpec, name: str, values: dict[str, str | int]) -> str:
    """The text `name` of `rule`, amounts (øre) in kroner, times in Danish."""
    shown: dict[str, object] = dict(values)
    for key in ("amount", "posted", "left", "cap"):
        ore = values.get(f"{key}_ore")
        if ore is not None:
            shown[key] = kroner(int(ore))
    if "expires_at" in values:
        shown["when"] = _when(str(values["expires_at"]))
    return gsm7_safe(tidy(rule.texts[name].format(**shown)))


def render(candidate: Candidate) -> str:
    rule = spec(candidate.rule)
    if rule.name == "announcement":
        return gsm7_safe(str(candidate.values["text"]))
    return fill(rule, variant(rule, candidate), candidate.values)


def measure(text: str) -> int:
    """SMS segments (what a message costs)."""
    return segments(text)
