"""Crisis detection: never dependent on the intent classifier alone.

Two independent checks, either of which is enough: the phrase patterns in
bot/data/crisis.da.yml (written for SMS Danish: no æøå, "ik", caps, typos, long messages), and,
when the composition root passes one in, a dedicated crisis classifier trained on crisis
phrasings (`nlu.CrisisClassifier`). Someone else in danger ("min ven vågner ikke") is told
apart, because the answer then is to call 112 for them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Protocol

import yaml

from bot.textmatch import contains_words, fold

KINDS = ("overdose", "self_harm", "violence", "cold", "medical", "suicide", "hunger")
"""In the order a message matching several is named: the most acute danger first."""
ACUTE = frozenset({"overdose", "self_harm", "violence", "cold", "medical"})
"""Dangers where 112 comes first; for the others Livslinien and 112."""


class CrisisScorer(Protocol):
    """A crisis classifier: the kind it sees in the message, if any (nlu.CrisisClassifier)."""

    def crisis_kind(self, text: str) -> str | None: ...


@dataclass(frozen=True)
class Crisis:
    kind: str
    someone_else: bool
    """The danger is to another person (a friend, a sister), not the one writing."""
    by: str
    """"phrases" or "classifier": which check saw it."""

    @property
    def acute(self) -> bool:
        return self.kind in ACUTE


@dataclass(frozen=True)
class _Kind:
    name: str
    pattern: re.Pattern[str]
    unless: re.Pattern[str] | None


@dataclass(frozen=True)
class _Patterns:
    kinds: tuple[_Kind, ...]
    someone_else: re.Pattern[str]
    short_forms: dict[str, str]
    vocabulary: dict[int, tuple[str, ...]]
    """Words used in the patterns, by length, for the one-typo correction."""
    not_typos: frozenset[str]
    classifier_needs: re.Pattern[str]
    """A classifier's alarm counts only when the message has one of these words of danger."""
    classifier_unless: re.Pattern[str]


_LETTER_FOLDS = (("æ", "ae"), ("ø", "oe"), ("å", "aa"), ("é", "e"), ("ae", "a"), ("oe", "o"),
                 ("aa", "a"))
MEND_FROM = 6
"""Only words this long are mended towards a pattern word: short words are too often a
different word one letter away ("vaske", "kasse")."""


def _fold_letters(text: str) -> str:
    """The letter folding of `textmatch.fold`, for pattern sources (punctuation kept; an escape
    such as \\W keeps its case, or it would turn into its opposite)."""
    text = re.sub(r"\\.|[^\\]+", lambda m: m[0] if m[0].startswith("\\") else m[0].lower(), text)
    for letter, spelled in _LETTER_FOLDS:
        text = text.replace(letter, spelled)
    return text


def _compile(sources: list[str]) -> re.Pattern[str]:
    # Whole words, also where a pattern ends in "|" or "$" (so no \b there).
    return re.compile("|".join(rf"(?<![a-z0-9])(?:{_fold_letters(p)})(?![a-z0-9])"
                               for p in sources))


@cache
def _patterns() -> _Patterns:
    raw: dict[str, Any] = yaml.safe_load(
        resources.files("bot").joinpath("data/crisis.da.yml").read_text("utf-8"))
    kinds = []
    words: set[str] = set()
    for name in KINDS:
        entry = raw["kinds"][name]
        sources = [str(p) for p in entry["patterns"]]
        unless = entry.get("unless")
        kinds.append(_Kind(name, _compile(sources),
                           re.compile(_fold_letters(str(unless))) if unless else None))
        for source in sources:
            words.update(re.findall(r"[a-z]{%d,}" % MEND_FROM, _fold_letters(source)))
    not_typos = frozenset(fold(str(w)) for w in raw.get("not_typos") or ())
    vocabulary: dict[int, list[str]] = {}
    for word in sorted(words - not_typos):
        vocabulary.setdefault(len(word), []).append(word)
    return _Patterns(
        kinds=tuple(kinds),
        someone_else=re.compile(_fold_letters(str(raw["someone_else"]))),
        short_forms={fold(str(k)): fold(str(v)) for k, v in raw["short_forms"].items()},
        vocabulary={n: tuple(ws) for n, ws in vocabulary.items()},
        not_typos=not_typos,
        classifier_needs=re.compile(_fold_letters(str(raw["classifier_needs"]))),
        classifier_unless=re.compile(_fold_letters(str(raw["classifier_unless"]))),
    )


_SELF = re.compile(r"\bmig\b")
"""The writer is the one hurt ("min kæreste slog mig"), whoever else the message names."""
_CLAUSE = re.compile(r"[.!?;:\n]+|,(?!\d)")
_REPEATS = re.compile(r"([a-z])\1{2,}")
_LAUGHS = re.compile("[\U0001F602\U0001F923\U0001F606]")
"""Laughing emoji read as "haha", which every kind's joke exception knows."""


def normalise(text: str) -> str:
    """The message as the patterns read it: folded, SMS forms spelled out, one typo mended,
    clause breaks kept as " | "."""
    patterns = _patterns()
    text = _LAUGHS.sub(" haha ", unicodedata.normalize("NFKC", text))
    clauses = []
    for clause in _CLAUSE.split(text):
        words = []
        for word in fold(clause).split():
            word = _REPEATS.sub(r"\1", word)
            word = patterns.short_forms.get(word, word)
            words.append(_mend(word))
        if words:
            clauses.append(" ".join(words))
    return " | ".join(clauses)


@lru_cache(maxsize=20_000)
def _mend(word: str) -> str:
    """A word one typo from a pattern word becomes that word ("pillr", "selvmrod")."""
    patterns = _patterns()
    if len(word) < MEND_FROM or word in patterns.not_typos:
        return word
    if word in patterns.vocabulary.get(len(word), ()):
        return word
    for size in (len(word), len(word) - 1, len(word) + 1):
        for candidate in patterns.vocabulary.get(size, ()):
            # The first letter is rarely the typo, and keeps "drukket" from "trukket".
            if candidate[0] == word[0] and contains_words([word], (candidate,)):
                return candidate
    return word


def phrase_kind(text: str) -> str | None:
    """The kind of danger the phrase patterns see, if any."""
    normalised = normalise(text)
    for kind in _patterns().kinds:
        if kind.pattern.search(normalised) and not (kind.unless and kind.unless.search(normalised)):
            return kind.name
    return None


def detect(text: str, classifier: CrisisScorer | None = None) -> Crisis | None:
    """The crisis in the message, if any: the patterns first, then the classifier."""
    kind, by = phrase_kind(text), "phrases"
    normalised = normalise(text)
    if kind is None and classifier is not None and _enough_words(text) \
            and _may_be_danger(normalised):
        kind, by = classifier.crisis_kind(text), "classifier"
    if kind is None:
        return None
    someone_else = (_patterns().someone_else.search(normalised) is not None
                    and _SELF.search(normalised) is None)
    return Crisis(kind=kind, someone_else=someone_else, by=by)


def _may_be_danger(normalised: str) -> bool:
    """The classifier hears paraphrases the patterns miss, but on short everyday messages it
    also hears danger in their shape ("han har ikke cvr" as an overdose): it must have a word
    of danger to go on, and no sign of a joke."""
    patterns = _patterns()
    return patterns.classifier_needs.search(normalised) is not None \
        and patterns.classifier_unless.search(normalised) is None


CLASSIFIER_MIN_WORDS = 3
"""Shorter messages are left to the phrase patterns: with two words the classifier has too
little to go on ("og ali", a follow-up naming an employee, scored as sleeping out in frost)."""


def _enough_words(text: str) -> bool:
    return len(fold(text).split()) >= CLASSIFIER_MIN_WORDS


def crisis_kind(text: str, classifier: CrisisScorer | None = None) -> str | None:
    """The kind of crisis the message speaks of, if any (kept for the callers that only ask
    whether there is one)."""
    found = detect(text, classifier)
    return found.kind if found else None


@cache
def _frustration() -> tuple[str, ...]:
    text = resources.files("bot").joinpath("data/frustration.da.yml").read_text("utf-8")
    return tuple(fold(p) for p in yaml.safe_load(text))


@cache
def _frustration_words() -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(p.split()) for p in _frustration())


def is_frustrated(text: str) -> bool:
    words = fold(text).split()
    return any(contains_words(words, phrase) for phrase in _frustration_words())
