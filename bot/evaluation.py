"""Answer accuracy: what people get, end to end, not what the classifier scores.

Each case is one realistic message from a demo identity with the answer it should get (an id
from docs/answers.md, or a list of acceptable ones). Something else plays the case through the
real dialogue and reports the outcome label the dialogue decided; this module reads the cases
and scores the outcomes: accuracy per audience, the "Det forstod jeg ikke" rate, crisis recall,
server errors and the most frequent confusions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge import YAML_LOADER

__all__ = ["AUDIENCES", "AnswerCase", "Played", "format_report", "load_cases", "score"]

AUDIENCES = {"jens": "card holder", "mette": "card holder", "ali": "card holder",
             "cafe": "employer", "groen": "employer", "unknown": "unknown"}
"""Who each demo identity stands for in the report."""
NOT_UNDERSTOOD = "fallback"
ERROR = "error"


@dataclass(frozen=True)
class AnswerCase:
    sender: str
    text: str
    expect: tuple[str, ...]
    cap: str = "demo"
    """"demo": the demo seed's labelled cap for the year; "none": no cap loaded for the year."""
    before: str | None = None
    """A message the same sender wrote first (a rule question before "hvor står det")."""

    @property
    def audience(self) -> str:
        return AUDIENCES.get(self.sender, "unknown")


@dataclass(frozen=True)
class Played:
    case: AnswerCase
    outcome: str
    reply: str
    stands_for: tuple[str, ...] = ()
    """Other ids of the very answer shown: an employer asking "hvad hvis han tjener over
    grænsen" (faq_exceed/general) is shown that answer's employer version, which has an id of
    its own (employer_faq_payroll/over_cap); either label names what the person got."""

    @property
    def right(self) -> bool:
        return any(label in self.case.expect for label in (self.outcome, *self.stands_for))


def load_cases(path: Path) -> list[AnswerCase]:
    """The cases of one YAML file (a list of {from, text, expect, cap?, before?})."""
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    if not isinstance(raw, list):
        raise ValueError(f"{path.name}: expected a list of cases")
    cases = []
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or not item.get("text") or not item.get("expect"):
            raise ValueError(f"{path.name}: case {index} needs 'text' and 'expect'")
        sender = str(item.get("from", "unknown"))
        if sender not in AUDIENCES:
            raise ValueError(f"{path.name}: case {index}: unknown sender {sender!r}")
        expect = item["expect"]
        cases.append(AnswerCase(
            sender=sender, text=str(item["text"]),
            expect=tuple(str(e) for e in (expect if isinstance(expect, list) else [expect])),
            cap=str(item.get("cap", "demo")), before=item.get("before")))
    return cases


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def score(played: Iterable[Played]) -> dict[str, Any]:
    results = list(played)
    by_audience: dict[str, list[Played]] = {}
    for result in results:
        by_audience.setdefault(result.case.audience, []).append(result)
    crises = [r for r in results if r.case.expect == ("crisis",)]
    confusions = Counter(
        (" | ".join(r.case.expect), r.outcome) for r in results if not r.right)
    return {
        "messages": len(results),
        "accuracy": _rate(sum(r.right for r in results), len(results)),
        "by_audience": {name: {"messages": len(items),
                               "accuracy": _rate(sum(r.right for r in items), len(items))}
                        for name, items in sorted(by_audience.items())},
        "not_understood": _rate(sum(r.outcome == NOT_UNDERSTOOD for r in results),
                                len(results)),
        "crisis_recall": _rate(sum(r.outcome == "crisis" for r in crises), len(crises)),
        "crisis_messages": len(crises),
        "false_crisis": sum(r.outcome == "crisis" and "crisis" not in r.case.expect
                            for r in results),
        "server_errors": sum(r.outcome == ERROR for r in results),
        "confusions": [{"expected": e, "got": g, "count": n}
                       for (e, g), n in confusions.most_common(15)],
        "wrong": [{"from": r.case.sender, "text": r.case.text, "expected": list(r.case.expect),
                   "got": r.outcome} for r in results if not r.right],
    }


def format_report(report: dict[str, Any], *, wrong: bool = False) -> str:
    lines = [f"answer accuracy   {report['accuracy']:.1%} of {report['messages']} messages"]
    for name, part in report["by_audience"].items():
        lines.append(f"  {name:<16}{part['accuracy']:.1%} of {part['messages']}")
    lines += [
        f"not understood    {report['not_understood']:.1%}",
        f"crisis recall     {report['crisis_recall']:.1%} of {report['crisis_messages']}"
        f"  (false alarms: {report['false_crisis']})",
        f"server errors     {report['server_errors']}",
        "most frequent confusions (expected -> got):",
    ]
    lines += [f"  {c['count']:>3}  {c['expected']} -> {c['got']}" for c in report["confusions"]]
    if wrong:
        lines.append("wrong answers:")
        lines += [f"  [{w['from']}] {w['text']!r}: expected {'|'.join(w['expected'])}, "
                  f"got {w['got']}" for w in report["wrong"]]
    return "\n".join(lines)
