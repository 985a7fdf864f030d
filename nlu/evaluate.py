"""Held-out evaluation: intent accuracy, macro-F1, per-intent P/R, confusions, entities, latency.

Scoring rules (also in docs/nlu.md):
  * For a message whose expected intent is `out_of_scope`, a prediction of `nlu_fallback` counts as
    correct: both make the bot say it did not understand. For every other expected intent,
    `nlu_fallback` is an error.
  * Entities are scored per type, per message, by exact match of the multiset of normalised values;
    a message counts for a type when the type is expected or predicted there (so false positives
    count against the type too). Spans are not compared.
  * Latency is wall time per `parser.parse` call after a short warm-up, measured serially.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sklearn.metrics import f1_score, precision_recall_fscore_support

from nlu.errors import TrainingDataError
from nlu.types import FALLBACK_INTENT, Parser, ParseResult

__all__ = ["TestMessage", "evaluate", "load_test_messages", "format_report"]

OUT_OF_SCOPE = "out_of_scope"
WARMUP_MESSAGES = 5


@dataclass(frozen=True)
class TestMessage:
    text: str
    intent: str
    entities: tuple[tuple[str, str], ...] = ()


@dataclass
class TestSet:
    messages: list[TestMessage]
    reference_date: dt.date = field(default_factory=dt.date.today)


def load_test_messages(path: Path) -> TestSet:
    """Read the held-out YAML file (version, reference_date, messages[text, intent, entities]).

    Raises:
        TrainingDataError: the file is not valid YAML or a message lacks text or intent.
    """
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TrainingDataError(path.name, f"not valid YAML: {exc}") from exc
    if not isinstance(content, dict) or not isinstance(content.get("messages"), list):
        raise TrainingDataError(path.name, "expected a mapping with a 'messages' list")
    reference = content.get("reference_date")
    today = dt.date.fromisoformat(str(reference)) if reference else dt.date.today()
    messages = []
    for index, item in enumerate(content["messages"], start=1):
        if not isinstance(item, dict) or not item.get("text") or not item.get("intent"):
            raise TrainingDataError(path.name, f"message {index} needs 'text' and 'intent'")
        entities = tuple((str(e["entity"]), str(e["value"])) for e in item.get("entities") or [])
        messages.append(TestMessage(str(item["text"]), str(item["intent"]), entities))
    return TestSet(messages, today)


def _scored(expected: str, predicted: str) -> str:
    """The prediction as scored: fallback on an out-of-scope message is the right answer."""
    return OUT_OF_SCOPE if expected == OUT_OF_SCOPE and predicted == FALLBACK_INTENT else predicted


def _percentile(sorted_values: Sequence[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def _intent_metrics(expected: list[str], raw: list[str]) -> dict[str, Any]:
    scored = [_scored(e, p) for e, p in zip(expected, raw, strict=True)]
    labels = sorted(set(expected))
    precision, recall, f1, support = precision_recall_fscore_support(
        expected, scored, labels=labels, zero_division=0
    )
    confusions = Counter((e, p) for e, p in zip(expected, scored, strict=True) if e != p)
    oos = [i for i, e in enumerate(expected) if e == OUT_OF_SCOPE]
    return {
        "messages": len(expected),
        "accuracy": sum(e == s for e, s in zip(expected, scored, strict=True)) / len(expected),
        "macro_f1": float(
            f1_score(expected, scored, labels=labels, average="macro", zero_division=0)
        ),
        "fallback_rate": raw.count(FALLBACK_INTENT) / len(raw),
        "out_of_scope_recall": sum(scored[i] == OUT_OF_SCOPE for i in oos) / len(oos)
        if oos
        else None,
        "out_of_scope_as_fallback": sum(raw[i] == FALLBACK_INTENT for i in oos) / len(oos)
        if oos
        else None,
        "in_scope_fallback_rate": (
            sum(raw[i] == FALLBACK_INTENT for i, e in enumerate(expected) if e != OUT_OF_SCOPE)
            / max(1, len(expected) - len(oos))
        ),
        "per_intent": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        },
        "confused_pairs": [
            {"expected": e, "predicted": p, "count": n} for (e, p), n in confusions.most_common(15)
        ],
    }


def _entity_metrics(messages: list[TestMessage], results: list[ParseResult]) -> dict[str, Any]:
    per_type: dict[str, Counter[str]] = {}
    for message, result in zip(messages, results, strict=True):
        expected = Counter(message.entities)
        predicted = Counter((e["entity"], e["value"]) for e in result["entities"])
        for entity_type in {t for t, _ in expected} | {t for t, _ in predicted}:
            want = sorted(v for t, v in expected.elements() if t == entity_type)
            got = sorted(v for t, v in predicted.elements() if t == entity_type)
            counts = per_type.setdefault(entity_type, Counter())
            counts["messages"] += 1
            counts["exact"] += want == got
            counts["expected"] += len(want)
            counts["predicted"] += len(got)
            counts["correct"] += sum((Counter(want) & Counter(got)).values())
    return {
        t: {
            "messages": c["messages"],
            "exact_match": c["exact"] / c["messages"],
            "precision": c["correct"] / c["predicted"] if c["predicted"] else 0.0,
            "recall": c["correct"] / c["expected"] if c["expected"] else 0.0,
        }
        for t, c in sorted(per_type.items())
    }


def evaluate(parser: Parser, test_set: TestSet, *, backend: str = "embedded") -> dict[str, Any]:
    """Run every message through `parser` and compute the report (see the module docstring)."""
    for message in test_set.messages[:WARMUP_MESSAGES]:
        parser.parse(message.text, test_set.reference_date)
    results, timings = [], []
    started = time.perf_counter()
    for message in test_set.messages:
        before = time.perf_counter()
        results.append(parser.parse(message.text, test_set.reference_date))
        timings.append((time.perf_counter() - before) * 1000)
    total = time.perf_counter() - started
    expected = [m.intent for m in test_set.messages]
    report = {
        "backend": backend,
        **_intent_metrics(expected, [r["intent"]["name"] for r in results]),
    }
    report["entities"] = _entity_metrics(test_set.messages, results)
    ordered = sorted(timings)
    report["latency_ms"] = {
        "p50": round(_percentile(ordered, 0.50), 3),
        "p99": round(_percentile(ordered, 0.99), 3),
        "max": round(ordered[-1], 3),
    }
    report["messages_per_second"] = round(len(results) / total, 1)
    report["errors"] = [
        {
            "text": m.text,
            "expected": m.intent,
            "predicted": r["intent"]["name"],
            "confidence": r["intent"]["confidence"],
        }
        for m, r in zip(test_set.messages, results, strict=True)
        if _scored(m.intent, r["intent"]["name"]) != m.intent
    ]
    return report


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:5.1f} %"


def format_report(report: dict[str, Any]) -> str:
    """The report as plain text for a terminal."""
    lines = [
        f"backend: {report['backend']}   messages: {report['messages']}",
        f"intent accuracy: {_pct(report['accuracy'])}   macro-F1: {report['macro_f1']:.3f}",
        f"fallback rate: {_pct(report['fallback_rate'])}   "
        f"out_of_scope/fallback recall: {_pct(report['out_of_scope_recall'])}   "
        f"in-scope fallback: {_pct(report['in_scope_fallback_rate'])}",
        f"latency p50 {report['latency_ms']['p50']:.2f} ms,"
        f" p99 {report['latency_ms']['p99']:.2f} ms,"
        f" {report['messages_per_second']:.0f} messages/s",
        "",
        f"{'intent':32} {'prec':>6} {'recall':>6} {'f1':>6} {'n':>4}",
    ]
    for name, m in report["per_intent"].items():
        lines.append(
            f"{name:32} {m['precision']:6.2f} {m['recall']:6.2f} {m['f1']:6.2f} {m['support']:4d}"
        )
    lines += ["", "most confused (expected → predicted):"]
    lines += [
        f"  {c['count']:3d}  {c['expected']} → {c['predicted']}" for c in report["confused_pairs"]
    ]
    lines += ["", f"{'entity':12} {'exact':>7} {'prec':>6} {'recall':>6} {'n':>4}"]
    for name, m in report["entities"].items():
        lines.append(
            f"{name:12} {_pct(m['exact_match'])} {m['precision']:6.2f} {m['recall']:6.2f}"
            f" {m['messages']:4d}"
        )
    return "\n".join(lines)
