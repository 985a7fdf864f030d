"""Each package's public names are pinned, and other packages use only those.

A package's public surface is its `__all__` plus the modules listed in PUBLIC_MODULES (the
vocabulary other domains need: commands, results, records, errors). The kernel (`db`) and the
leaves (`cpr`, `danish`) are public throughout. Known uses of another package's internals are
listed in INTERNAL_USES; the list may only shrink: a new use fails, and so does an entry that
is no longer needed.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OPEN = {"db", "cpr", "danish", "api"}
"""Packages whose every module is public: the kernel and the leaves; and api/, which only the
benchmarks import (they drive the whole application, as the tests do)."""

PUBLIC_MODULES: dict[str, set[str]] = {
    "nlu": set(),
    "ledger": {"ledger.commands", "ledger.results", "ledger.errors", "ledger.rules",
               "ledger.reads", "ledger.handlers", "ledger.service.lookups"},
    "conversations": {"conversations.service", "conversations.turn", "conversations.records",
                      "conversations.notify", "conversations.outbox_signal"},
    "staff": {"staff.principal", "staff.access", "staff.redaction", "staff.errors",
              "staff.records"},
    "casework": {"casework.records", "casework.errors"},
    "smalljobs": {"smalljobs.commands", "smalljobs.records", "smalljobs.errors",
                  "smalljobs.handlers"},
    "api_keys": {"api_keys.errors", "api_keys.principal", "api_keys.scope"},
    "outreach": {"outreach.store", "outreach.errors", "outreach.sweep", "outreach.rules"},
    "privacy": set(),
    "sampledata": {"sampledata.demo"},
    "bot": set(),
}
IMPORTERS = (*OPEN, *PUBLIC_MODULES, "benchmarks")

PINNED: dict[str, list[str]] = {
    "db": ["Actor", "Command", "Conflict", "DomainError", "InvalidInput", "Kernel",
        "LedgerConfig", "NotFound", "StaffConfig", "UnitOfWork", "is_database_unavailable",
        "upgrade"],
    "ledger": ["AWAITING_CAP_REASON", "Balance", "CapResult", "CardResult", "CreateEmployment",
        "DeactivateCard", "EmployerResult", "EmploymentResult", "IssueCard", "Ledger",
        "PostReport", "ReactivateCard", "RecordControl", "RegisterEmployer", "ReportWage",
        "ReverseReport", "SetCap", "TransferCard", "VerifyEmployer", "VoidReport",
        "WageReportResult"],
    "conversations": ["Conversations", "Identity", "Turn"],
    "staff": ["Role", "StaffAccount", "StaffPrincipal", "StaffService"],
    "casework": ["Casework"],
    "smalljobs": ["TaskService"],
    "api_keys": ["ApiKeyKind", "ApiKeyService", "ApiKeyView", "ApiPrincipal", "NewApiKey"],
    "privacy": ["Batch", "ERASED", "ErasureReport", "Privacy", "RetentionReport"],
    "sampledata": ["DatabaseNotEmpty", "GenerationReport", "InvalidPlan", "Plan", "Samples",
        "Shares", "SyntheticDataError", "generate", "plan_for_scale"],
    "nlu": ["ClassifierParser", "CrisisClassifier", "ENTITY_TYPES", "EmbeddedClassifier",
        "Entity", "FALLBACK_INTENT", "INTENTS", "IntentClassifier", "IntentPrediction",
        "ModelError", "NluConfig", "NluError", "ParseResult", "Parser", "RasaHttpParser",
        "RasaUnavailable", "ResponseRanking", "ResponseSelectorResult", "TrainingDataError",
        "extract_entities", "fold_for_matching", "join_spelled_card_numbers",
        "load_crisis_classifier", "load_embedded_parser",
        "load_parser", "read_number", "redact_cpr"],
    "bot": ["BotConfig", "Dialogue", "InboundMessage", "Reply"],
}
"""Each package's `__all__`: a change here is a change of contract, made on purpose."""

INTERNAL_USES: set[tuple[str, str]] = {
    ("api", "bot.crisis"),
    ("api", "bot.evaluation"),
    ("api", "bot.knowledge"),
    ("api", "bot.observe"),
    ("api", "bot.voice.line"),
    ("api", "bot.voice.offices"),
    ("api", "bot.voice.speech"),
    ("api", "conversations.escalations"),
    ("api", "conversations.outbox"),
    ("api", "ledger.monitoring"),
    ("api", "ledger.queries"),
    ("api", "ledger.service.report_batch"),
    ("api", "nlu.crossval"),
    ("api", "nlu.evaluate"),
    ("api", "nlu.rasa_http"),
    ("api", "nlu.training_data"),
    ("benchmarks", "nlu.config"),
    ("benchmarks", "smalljobs.posting"),
    ("bot", "conversations.linking"),
    ("bot", "nlu.types"),
    ("casework", "conversations.escalations"),
    ("casework", "conversations.store"),
    ("casework", "ledger.queries"),
    ("casework", "ledger.service"),
    ("casework", "ledger.service.balances"),
    ("casework", "ledger.service.contacts"),
    ("casework", "ledger.service.link_codes"),
    ("casework", "ledger.service.report_state"),
    ("conversations", "ledger.service.contacts"),
    ("conversations", "ledger.service.link_codes"),
    ("outreach", "conversations.store"),
    ("outreach", "smalljobs.timing"),
    ("privacy", "conversations.outbox"),
    ("privacy", "conversations.store"),
    ("privacy", "smalljobs.views"),
    ("sampledata", "ledger.service.link_codes"),
    ("smalljobs", "ledger.service"),
    ("staff", "conversations.store"),
}
"""(importing package, another package's internal module): to be moved behind public names."""


def is_public(module: str) -> bool:
    top = module.split(".")[0]
    if top in OPEN or module == top:
        return True
    return any(module == public or module.startswith(public + ".")
               for public in PUBLIC_MODULES.get(top, set()))


def internal_uses() -> set[tuple[str, str]]:
    found = set()
    for package in IMPORTERS:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    modules = [node.module]
                elif isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top != package and top in IMPORTERS and not is_public(module):
                        found.add((package, module))
    return found


def test_the_rule_tells_public_from_internal() -> None:
    assert is_public("ledger") and is_public("ledger.commands") and is_public("db.tables")
    assert not is_public("ledger.service.reports") and not is_public("bot.flows.routing")


def test_no_new_use_of_another_package_s_internals() -> None:
    assert internal_uses() - INTERNAL_USES == set()


def test_the_list_of_internal_uses_is_current() -> None:
    """An entry no longer needed is removed, so the list only shrinks."""
    assert INTERNAL_USES - internal_uses() == set()


@pytest.mark.parametrize("package", sorted(PINNED))
def test_public_names_are_pinned(package: str) -> None:
    module = importlib.import_module(package)
    assert sorted(module.__all__) == PINNED[package]
    for name in module.__all__:
        assert hasattr(module, name), name
