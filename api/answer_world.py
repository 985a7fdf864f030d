"""The demo world the answer evaluation plays messages in: the documented demo identities on a
fresh copy of the demo data per message, so no case leaves state (a flow, a report) for the
next one.

Two templates are seeded once: with the demo seed's labelled cap for the year, and without a
cap for the year (Jens's reports then wait for it), as the `cap` field of a case asks. Each has
one working database and one `Backend` on it; before a case, SQLite's backup API writes the
template over the working database. A new database and `Backend` per case cost twice as much:
a new engine compiles every statement again (SQLAlchemy caches compiled SQL per engine).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from api.bootstrap import Backend
from bot import BotConfig, Dialogue, InboundMessage
from bot.crisis import CrisisScorer
from bot.evaluation import AnswerCase, Played
from bot.knowledge import KnowledgeBase, shipped_knowledge
from bot.observe import DialogueObserver
from db.config import LedgerConfig
from db.migrate import upgrade
from nlu import Parser
from sampledata.demo import seed

ADDRESSES = {"jens": "+4520304050", "mette": "+4521436587", "ali": "+4551627384",
             "cafe": "+4531425364", "groen": "+4540506070", "unknown": "+4528765432"}
"""The demo identities' phones (sampledata/data/demo.yml); "unknown" is nobody's."""


class _Outcome(DialogueObserver):
    def __init__(self) -> None:
        self.last = "silent"

    def decided(self, inbound: InboundMessage, outcome: str) -> None:
        self.last = outcome


def employer_versions(knowledge: KnowledgeBase) -> dict[str, tuple[str, ...]]:
    """Answer id shown to an employer -> the ids of the questions it is the employer's version
    of (a topic's `employer: <id>`)."""
    found: dict[str, list[str]] = {}
    for answer in knowledge.answers():
        if answer.employer_answer is not None:
            found.setdefault(answer.employer_answer, []).append(answer.key)
    return {shown: tuple(keys) for shown, keys in found.items()}


class AnswerWorld:
    """Plays answer cases through the real dialogue (NLU, flows, ledger) on demo data."""

    def __init__(self, config: LedgerConfig, parser: Parser, *, now: dt.datetime,
                 crisis: CrisisScorer | None = None) -> None:
        self._config = config
        self._parser = parser
        self._crisis = crisis
        self._now = now
        self._folder = Path(tempfile.mkdtemp(prefix="answer-world-"))
        self._templates = {"demo": self._seeded("demo", with_cap=True),
                           "none": self._seeded("none", with_cap=False)}
        self._working: dict[Path, Backend] = {}
        """Template -> the Backend on its working database (made when first needed)."""
        self._ids = itertools.count(1)
        self._employer_versions = employer_versions(shipped_knowledge())

    def close(self) -> None:
        for ledger in self._working.values():
            ledger.close()
        self._working.clear()
        shutil.rmtree(self._folder, ignore_errors=True)

    def _url(self, name: str) -> str:
        return f"sqlite:///{self._folder / name}.db"

    def _seeded(self, name: str, *, with_cap: bool) -> Path:
        url = self._url(f"template-{name}")
        upgrade(url)
        ledger = Backend(dataclasses.replace(self._config, database_url=url),
                        clock=lambda: self._now)
        try:
            seed(ledger, ledger.tasks, self._now.date(), demo_cap=with_cap)
        finally:
            ledger.close()
        return self._folder / f"template-{name}.db"

    @contextmanager
    def _fresh(self, cap: str) -> Iterator[Backend]:
        template = self._templates.get(cap, self._templates["demo"])
        working = self._folder / f"working-{template.stem}.db"
        source, target = sqlite3.connect(template), sqlite3.connect(working)
        try:
            target.execute("PRAGMA synchronous = OFF")  # a scratch copy: no waiting for the disk
            source.backup(target)
        finally:
            source.close()
            target.close()
        if template not in self._working:
            self._working[template] = Backend(
                dataclasses.replace(self._config, database_url=f"sqlite:///{working}"),
                clock=lambda: self._now)
        yield self._working[template]

    def play(self, case: AnswerCase) -> Played:
        with self._fresh(case.cap) as ledger:
            dialogue = Dialogue(ledger.conversations, self._parser,
                                config=BotConfig(rate_limit_per_minute=0), crisis=self._crisis)
            watcher = _Outcome()
            dialogue.observer = watcher
            if case.before:
                self._send(dialogue, case.sender, case.before)
            replies = self._send(dialogue, case.sender, case.text)
        stands_for = (self._employer_versions.get(watcher.last, ())
                      if case.audience == "employer" else ())
        return Played(case=case, outcome=watcher.last, reply="\n".join(replies),
                      stands_for=stands_for)

    def converse(self, turns: list[tuple[str, str]], *, cap: str = "demo"
                 ) -> list[tuple[str, str, list[str]]]:
        """One whole conversation on one fresh demo database: (sender, text) in order, where
        a sender "+2d" / "+3h" / "+30m" moves the clock on instead. Returns what was said."""
        said: list[tuple[str, str, list[str]]] = []
        start = self._now
        with self._fresh(cap) as ledger:
            dialogue = Dialogue(ledger.conversations, self._parser, config=BotConfig(),
                                crisis=self._crisis)
            for sender, text in turns:
                if sender.startswith("+") and sender[-1] in "dhm":
                    unit = {"d": "days", "h": "hours", "m": "minutes"}[sender[-1]]
                    self._now += dt.timedelta(**{unit: int(sender[1:-1])})
                    continue
                said.append((sender, text, self._send(dialogue, sender, text)))
        self._now = start
        return said

    def _send(self, dialogue: Dialogue, sender: str, text: str) -> list[str]:
        inbound = InboundMessage(channel="sms", sender=ADDRESSES[sender], text=text,
                                 provider_message_id=f"eval-{next(self._ids)}",
                                 received_at=self._now)
        return [reply.text for reply in dialogue.handle(inbound)]
