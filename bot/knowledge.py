"""Rule answers for the ``faq_*`` and ``employer_faq_*`` intents, kept as data.

The answers live in ``bot/knowledge/*.yml``, one file per intent. This module loads and validates
them, picks the most relevant sub-answer for a message, and fills in the placeholders. It holds no
answer text itself and imports nothing from ``ledger``, ``api`` or SQLAlchemy: the bot reads the
figures from the ledger and passes them in as strings.

File format (one intent per file; files whose name starts with ``_`` hold shared settings)::

    intent: faq_limit
    audience: citizen            # citizen | employer | any (each answer may override it)
    last_reviewed: 2026-11-23    # each answer may override it
    answer:                      # the general answer, used when no sub-answer matches
      text: ...                  # at most two SMS segments once filled in
      text_cap_unknown: ...      # required when text uses {cap} or {cap_year}
      more: ...                  # optional, the reply to MERE
      more_cap_unknown: ...      # required when more uses {cap} or {cap_year}
      personal:                  # optional, for a linked card holder; keys: active, deactivated
        active: {text: ..., text_cap_unknown: ...}
      employer:                  # optional, when an employer asks: a variant (text, more, ...)
        text: ...                # or the id of another answer, e.g. employer_faq_payroll/over_cap
      sources: [{title: ..., url: https://...}]
    sub_answers:
      - id: kontanthjaelp
        keywords: [kontanthjælp, ...]
        text: ...

``_common.yml`` holds ``more_hint``, the line appended to a short answer that has a ``more`` text.

Errors::

    KnowledgeError             a file is missing, malformed or breaks a rule (the message names it)
    UnknownIntent(KeyError)    answer_for() was asked about an intent that has no answers
    RenderError(ValueError)    render() was not given a value that the text needs
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import string
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.textmatch import fold
from danish.gsm7 import GSM7_BASIC
from nlu.types import INTENTS

__all__ = [
    "CAP_PLACEHOLDERS",
    "DEFAULT_PATH",
    "GENERAL_PLACEHOLDERS",
    "PERSONAL_CASES",
    "PERSONAL_PLACEHOLDERS",
    "PLACEHOLDERS",
    "RULE_INTENTS",
    "Answer",
    "KnowledgeBase",
    "KnowledgeError",
    "RenderError",
    "Source",
    "Topic",
    "UnknownIntent",
    "Variant",
    "has_more",
    "load_knowledge",
    "placeholders_in",
    "render",
]


DEFAULT_PATH = Path(__file__).with_name("knowledge")

RULE_INTENTS: tuple[str, ...] = tuple(
    intent for intent in INTENTS if intent.startswith(("faq_", "employer_faq_")))
"""The intents answered from this knowledge base; the names themselves belong to the NLU."""

# The closed set of placeholders. The bot formats every value for people before passing it in
# (Danish number format, "42.766 kr.", dates as "31.12.2028").
GENERAL_PLACEHOLDERS: Mapping[str, str] = {
    "year": "the current calendar year, e.g. 2026",
    "cap": "the current year's cap from the ledger's cap table, e.g. 42.766 kr.",
    "cap_year": "the year that {cap} belongs to (the current year)",
    "latest_cap": "the newest cap in the cap table, used when the current year's is not loaded",
    "latest_cap_year": "the year of {latest_cap}",
}
PERSONAL_PLACEHOLDERS: Mapping[str, str] = {
    "earned": "frikort pay reported for the card this year (posted, and in a year without a "
              "cap also what waits for it), e.g. 12.345,50 kr.",
    "remaining": "what is left under this year's cap for the card, e.g. 30.420,50 kr.",
    "municipality": "the name of the card's municipality (handlekommune), e.g. Aarhus",
    "card_number": "the card holder's own Frikort-ID, e.g. 48213",
}
PLACEHOLDERS: Mapping[str, str] = {**GENERAL_PLACEHOLDERS, **PERSONAL_PLACEHOLDERS}
# Placeholders that need the current year's cap; a *_cap_unknown text must do without them.
CAP_PLACEHOLDERS = frozenset({"cap", "cap_year", "remaining"})

# Which personal variant applies: the state of the linked card.
PERSONAL_CASES: tuple[str, ...] = ("active", "deactivated")

Audience = Literal["citizen", "employer", "any"]
PersonalCase = Literal["active", "deactivated"]
Asker = Literal["citizen", "employer"]
"""Who is asking, as the bot judged it: the voice an answer is rendered in."""

_FORMATTER = string.Formatter()


class KnowledgeError(Exception):
    """A knowledge file is missing, malformed or breaks a rule."""


class UnknownIntent(KeyError):
    """No answers exist for this intent."""


class RenderError(ValueError):
    """A text needs a placeholder value that was not given."""


def placeholders_in(text: str) -> set[str]:
    """The placeholder names used in ``text`` (``{name}``); raises ValueError on bad syntax."""
    names: set[str] = set()
    for _literal, field, spec, conversion in _FORMATTER.parse(text):
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise ValueError(f"placeholder {{{field}}} must be a plain {{name}}")
        names.add(field)
    return names


def _non_gsm7(text: str) -> set[str]:
    # The basic set only: extension characters cost two septets each.
    return {ch for ch in text if ch not in GSM7_BASIC}


def _check_template(text: str, *, allowed: Iterable[str], what: str) -> str:
    try:
        used = placeholders_in(text)
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None
    unknown = used - set(PLACEHOLDERS)
    if unknown:
        raise ValueError(f"{what}: unknown placeholder(s) {sorted(unknown)}")
    not_here = used - set(allowed)
    if not_here:
        raise ValueError(f"{what}: placeholder(s) {sorted(not_here)} are not allowed here")
    bad = _non_gsm7(_FORMATTER.vformat(text, (), {name: "" for name in used}))
    if bad:
        raise ValueError(f"{what}: characters outside the GSM-7 basic set {sorted(bad)}")
    return text


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Model):
    title: str = Field(min_length=3)
    url: str

    @field_validator("url")
    @classmethod
    def _https(cls, value: str) -> str:
        if not re.fullmatch(r"https://[^\s/]+\.[^\s/]+(/\S*)?", value):
            raise ValueError(f"source url must be an https URL, got {value!r}")
        return value


def _check_pair(text: str, cap_unknown: str | None, *, allowed: set[str], what: str) -> None:
    _check_template(text, allowed=allowed, what=what)
    if cap_unknown is not None:
        _check_template(cap_unknown, allowed=allowed - CAP_PLACEHOLDERS, what=f"{what}_cap_unknown")
    elif placeholders_in(text) & CAP_PLACEHOLDERS:
        raise ValueError(f"{what} uses the current cap, so {what}_cap_unknown is required")


class Variant(_Model):
    """Another version of an answer's text: personal (a linked card holder's own figures) or
    for an employer; an employer's variant may have its own longer text."""

    text: str = Field(min_length=10)
    text_cap_unknown: str | None = None
    more: str | None = None
    more_cap_unknown: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Variant:
        _check_pair(self.text, self.text_cap_unknown, allowed=set(PLACEHOLDERS), what="text")
        if self.more is not None:
            _check_pair(self.more, self.more_cap_unknown, allowed=set(GENERAL_PLACEHOLDERS),
                        what="more")
        return self


class Answer(_Model):
    """One answer: the general answer of an intent, or one of its sub-answers."""

    intent: str
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    audience: Audience
    last_reviewed: dt.date
    keywords: tuple[str, ...] = ()
    text: str = Field(min_length=10)
    text_cap_unknown: str | None = None
    more: str | None = None
    more_cap_unknown: str | None = None
    personal: dict[PersonalCase, Variant] = Field(default_factory=dict)
    employer: Variant | None = None
    """How the answer reads when an employer asks (about "him" or "her"), if it differs."""
    employer_answer: str | None = None
    """Instead of a variant: the id of the answer an employer gets (`intent/key`)."""
    sources: tuple[Source, ...] = Field(min_length=1)
    more_hint: str = ""

    @model_validator(mode="after")
    def _check(self) -> Answer:
        general = set(GENERAL_PLACEHOLDERS)
        _check_pair(self.text, self.text_cap_unknown, allowed=general, what="text")
        if self.more is not None:
            _check_pair(self.more, self.more_cap_unknown, allowed=general, what="more")
        elif self.more_cap_unknown is not None:
            raise ValueError("more_cap_unknown given without more")
        if self.employer is not None:
            used = placeholders_in(self.employer.text) | placeholders_in(
                self.employer.text_cap_unknown or "")
            if used - general:
                raise ValueError(f"employer text: personal placeholder(s) {sorted(used - general)}")
            if self.employer_answer is not None:
                raise ValueError("give an employer variant or an employer_answer, not both")
        _check_template(self.more_hint, allowed=(), what="more_hint")
        return self

    @property
    def is_general(self) -> bool:
        return self.id == "general"

    @property
    def key(self) -> str:
        """The answer's id as the NLU and the evaluation know it: Rasa's intent_response_key."""
        return f"{self.intent}/{self.id}"

    def needs(self, *, more: bool = False, personal: str | None = None) -> set[str]:
        """The placeholder names the chosen text needs when the cap is known."""
        return placeholders_in(_pick(self, more=more, personal=personal, cap_known=True))


class Topic(_Model):
    """All answers for one intent."""

    intent: str
    general: Answer
    sub_answers: tuple[Answer, ...] = ()

    @property
    def answers(self) -> tuple[Answer, ...]:
        return (self.general, *self.sub_answers)


# --------------------------------------------------------------------------- keyword matching


def _keyword_score(folded_text: str, tokens: list[str], keyword: str) -> int:
    kw = fold(keyword)
    if not kw:
        return 0
    end = r"\b" if len(kw) <= 3 else ""
    if re.search(rf"(?<![a-z0-9]){re.escape(kw)}{end}", folded_text):
        return len(kw)
    if " " not in kw and len(kw) >= 6:
        for token in tokens:
            if abs(len(token) - len(kw)) <= 2 and (
                difflib.SequenceMatcher(None, token, kw).ratio() >= 0.85
            ):
                return len(kw) - 1
    return 0


def _score(answer: Answer, folded_text: str, tokens: list[str]) -> int:
    return sum(_keyword_score(folded_text, tokens, kw) for kw in answer.keywords)


# --------------------------------------------------------------------------- rendering


def _pick(
    answer: Answer, *, more: bool, personal: str | None, cap_known: bool,
    asker: Asker = "citizen",
) -> str:
    employer = answer.employer if asker == "employer" else None
    long_text: Answer | Variant = employer if employer is not None and employer.more else answer
    if more and long_text.more is not None:
        if not cap_known and long_text.more_cap_unknown is not None:
            return long_text.more_cap_unknown
        return long_text.more
    variant: Answer | Variant = answer
    if employer is not None:
        variant = employer
    elif personal is not None and personal in answer.personal:
        variant = answer.personal[personal]
    if not cap_known and variant.text_cap_unknown is not None:
        body = variant.text_cap_unknown
    else:
        body = variant.text
    if long_text.more is not None and answer.more_hint and not more:
        body = f"{body} {answer.more_hint}"
    return body


def has_more(answer: Answer, asker: Asker = "citizen") -> bool:
    """Whether MERE has a longer text for this answer, as this asker sees it."""
    if asker == "employer" and answer.employer is not None and answer.employer.more:
        return True
    return answer.more is not None


def render(
    answer: Answer,
    values: Mapping[str, str],
    *,
    more: bool = False,
    personal: str | None = None,
    asker: Asker = "citizen",
) -> str:
    """Fill in an answer's placeholders and return the message text.

    - The current year's cap counts as known when ``values`` has a non-empty ``cap``; otherwise
      the ``*_cap_unknown`` text is used.
    - ``personal`` names the card's state (``active`` or ``deactivated``) for a linked card
      holder; answers without that personal variant fall back to the general text.
    - ``more=True`` returns the long text (the reply to MERE), or the short one if there is none.
      A short text that has a long one ends with the "write MERE" hint.
    - ``asker="employer"`` uses the employer's variant where the answer has one (never the
      personal one: an employer is not the card holder).
    """
    if personal is not None and personal not in PERSONAL_CASES:
        raise ValueError(f"unknown personal case {personal!r}; use one of {PERSONAL_CASES}")
    cap_known = bool(values.get("cap"))
    template = _pick(answer, more=more, personal=personal, cap_known=cap_known, asker=asker)
    needed = placeholders_in(template)
    missing = sorted(name for name in needed if not values.get(name))
    if missing:
        raise RenderError(f"{answer.intent}/{answer.id}: no value for {missing}")
    return template.format_map({name: str(values[name]) for name in needed})


# --------------------------------------------------------------------------- the knowledge base


class KnowledgeBase:
    """The loaded answers, looked up by intent."""

    def __init__(self, topics: Mapping[str, Topic]) -> None:
        self._topics = dict(topics)

    @property
    def intents(self) -> tuple[str, ...]:
        return tuple(self._topics)

    def answer(self, key: str) -> Answer:
        """An answer by its id, `intent/key` (raises UnknownIntent for an unknown id)."""
        intent, _, sub = key.partition("/")
        found = next((a for a in self.topic(intent).answers if a.id == sub), None)
        if found is None:
            raise UnknownIntent(key)
        return found

    def keys(self) -> tuple[str, ...]:
        """Every answer id, `intent/key`."""
        return tuple(a.key for a in self.answers())

    def topic(self, intent: str) -> Topic:
        try:
            return self._topics[intent]
        except KeyError:
            raise UnknownIntent(intent) from None

    def answers(self) -> Iterable[Answer]:
        for topic in self._topics.values():
            yield from topic.answers

    def answer_for(self, intent: str, text: str = "") -> Answer:
        """The sub-answer whose keywords best match ``text``, else the intent's general answer.

        Ties go to the sub-answer listed first in the file.
        """
        topic = self.topic(intent)
        folded = fold(text)
        tokens = folded.split()
        best, best_score = topic.general, 0
        for answer in topic.sub_answers:
            score = _score(answer, folded, tokens)
            if score > best_score:
                best, best_score = answer, score
        return best


YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it (ten times faster than the pure-Python one)."""


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeError(f"{path.name}: cannot read: {exc}") from exc
    if not isinstance(data, dict):
        raise KnowledgeError(f"{path.name}: expected a mapping at the top")
    return data


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        parts.append(f"{where}: {err['msg']}" if where else err["msg"])
    return "; ".join(parts)


def _id_of(raw: Any) -> str:
    return str(raw.get("id")) if isinstance(raw, dict) else "?"


_FILE_KEYS = {"intent", "audience", "last_reviewed", "answer", "sub_answers"}


def _load_topic(path: Path, more_hint: str) -> Topic:
    data = _read_yaml(path)
    unknown = set(data) - _FILE_KEYS
    if unknown:
        raise KnowledgeError(f"{path.name}: unknown key(s) {sorted(unknown)}")
    intent = data.get("intent")
    if intent not in RULE_INTENTS:
        raise KnowledgeError(f"{path.name}: intent {intent!r} is not a rule intent")
    if not isinstance(data.get("answer"), dict):
        raise KnowledgeError(f"{path.name}: needs a general 'answer'")
    raw_subs = data.get("sub_answers") or []
    if not isinstance(raw_subs, list):
        raise KnowledgeError(f"{path.name}: 'sub_answers' must be a list")

    def build(raw: Any, where: str, *, general: bool) -> Answer:
        if not isinstance(raw, dict):
            raise KnowledgeError(f"{path.name}: {where} must be a mapping")
        if isinstance(raw.get("employer"), str):  # "employer: <intent>/<key>" points elsewhere
            raw = {**raw, "employer_answer": raw["employer"]}
            del raw["employer"]
        fields = {
            "audience": data.get("audience"),
            "last_reviewed": data.get("last_reviewed"),
            **raw,
            "intent": intent,
            "more_hint": more_hint,
        }
        if general:
            if "id" in raw or "keywords" in raw:
                raise KnowledgeError(f"{path.name}: the general answer takes no id or keywords")
            fields["id"] = "general"
        elif not raw.get("keywords"):
            raise KnowledgeError(f"{path.name}: {where} needs keywords")
        try:
            return Answer(**fields)
        except ValidationError as exc:
            raise KnowledgeError(f"{path.name}: {where}: {_describe(exc)}") from None
        except ValueError as exc:
            raise KnowledgeError(f"{path.name}: {where}: {exc}") from None

    general = build(data["answer"], "answer", general=True)
    subs = tuple(
        build(raw, f"sub_answers[{i}] ({_id_of(raw)})", general=False)
        for i, raw in enumerate(raw_subs)
    )
    ids = [a.id for a in subs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1} | ({"general"} & set(ids)))
    if duplicates:
        raise KnowledgeError(f"{path.name}: duplicate answer id(s) {duplicates}")
    return Topic(intent=intent, general=general, sub_answers=subs)


def load_knowledge(path: str | Path | None = None) -> KnowledgeBase:
    """Load and validate every ``*.yml`` file in ``path`` (default: ``bot/knowledge``).

    Raises KnowledgeError, naming the file, if anything is wrong, including a rule intent
    without a file.
    """
    folder = Path(path) if path is not None else DEFAULT_PATH
    if not folder.is_dir():
        raise KnowledgeError(f"{folder}: no such folder")
    common_path = folder / "_common.yml"
    if not common_path.is_file():
        raise KnowledgeError(f"{common_path.name}: missing from {folder}")
    common = _read_yaml(common_path)
    more_hint = common.get("more_hint")
    if not isinstance(more_hint, str) or not more_hint.strip():
        raise KnowledgeError(f"{common_path.name}: needs a non-empty 'more_hint'")
    try:
        _check_template(more_hint, allowed=(), what="more_hint")
    except ValueError as exc:
        raise KnowledgeError(f"{common_path.name}: {exc}") from None

    topics: dict[str, Topic] = {}
    for file in sorted(folder.glob("*.yml")):
        if file.name.startswith("_"):
            continue
        topic = _load_topic(file, more_hint.strip())
        if topic.intent in topics:
            raise KnowledgeError(f"{file.name}: intent {topic.intent} is already defined")
        topics[topic.intent] = topic
    missing = [intent for intent in RULE_INTENTS if intent not in topics]
    if missing:
        raise KnowledgeError(f"{folder}: no answers for {missing}")
    base = KnowledgeBase({intent: topics[intent] for intent in RULE_INTENTS})
    known = set(base.keys())
    for answer in base.answers():
        if answer.employer_answer is not None and answer.employer_answer not in known:
            raise KnowledgeError(
                f"{answer.key}: employer_answer {answer.employer_answer!r} is not an answer id")
    return base


@cache
def shipped_knowledge() -> KnowledgeBase:
    """The answers in bot/knowledge, read and checked once per process: every `Dialogue`
    shares them (they are immutable), so building one costs no file reads."""
    return load_knowledge()
