"""Random conversations against the real dialogue: realistic messages from employers, card
holders and unknown numbers, pauses of minutes to days, the server's expiry sweep.

After every message: the turn did not fail (no "error" outcome), someone got a reply or the
silence is one the design allows, no report was posted without a JA right after its read-back,
no report was voided without the employer's word, and the ledger's invariants hold. Used by
tests/bot/test_dialogue_machine.py (a short run in `make test`) and benchmarks/dialogue_fuzz.py
(100.000 steps).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import sqlalchemy as sa
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from bot.flows.report_reading import period_of
from bot.observe import DialogueObserver
from db.commands import Actor
from nlu import extract_entities
from tests import databases
from tests.bot.conftest import Chat, make_chat

SYSTEM = Actor(name="sweep", channel="system")
EMPLOYERS = ("cafe", "groen")
HOLDERS = ("jens", "mette", "ali")
SENDERS = (*EMPLOYERS, *HOLDERS, "unknown", "+4560606060")
YES = ("ja", "JA", "ja tak", "Ja!", "jep", "ok", "ja til begge", "ja det er korrekt")
NO = ("nej", "NEJ", "nej tak")
WAYS_OUT = ("annuller", "glem det", "fortryd", "glem indberetningen", "stop det", "STOP",
            "afmeld")
REPORTS = (
    "indberet 4 timer 600 kr frikort 48213", "indberet 3 timer 450 kr frikort 51736",
    "indberet 48213 4 timer 600 kr og 51736 3 timer 450 kr", "indberet løn for 51736",
    "indberet 40000 til 51736 for 10 timer", "indberet 20 timer 3000 kr frikort 48213",
    "indberet 4 timer 1e9 kr frikort 51736", "indberet -500 kr 2 timer frikort 48213",
    "vi har udbetalt 750 kr til en medarbejder med frikort", "jeg skal indberette noget løn",
    "indberet 3 timer 450 kr frikort 60417", "indberet 2 timer 300 kr frikort 48231",
    "nej det var 450 kr", "det var 51736", "4 1/2", "halv fem", "40000", "450", "4", "48213",
    "51736", "for november", "uge 48", "betalt i går", "d. 30/12", "600 kr", "3 timer",
)
QUESTIONS = (
    "hvor meget må jeg tjene", "skal jeg betale skat", "hvor står det", "kilde?", "MERE",
    "hvad hvis han tjener over grænsen", "tjek kort 48213", "er 51736 gyldigt?", "saldo",
    "hvor lang tid tager det", "hvorfor er min løn ikke kommet på", "hvad er 225 timers reglen",
    "jeg flytter til odense gælder kortet så stadig", "jeg har glemt mit frikort nummer",
)
OTHERS = (
    "søg frikort", "Peter Hansen", "0101901234", "SENERE", "8000", "2200", "kontanthjælp",
    "rengøring", "sms", "hej", "tak", "👍", "hallo??", "HJÆLP", "MENNESKE", "JOB", "1",
    "AFMELD 1", "START", "LINK 81322 5427", "opslå job: havearbejde 3 timer fredag 8000 150 kr",
    "jeg vil ikke leve mere", "blomkål trampolin", "", "   ", "x" * 300,
)
VOCABULARY = YES + NO + WAYS_OUT + REPORTS + QUESTIONS + OTHERS
PAUSES = (dt.timedelta(minutes=1), dt.timedelta(hours=2), dt.timedelta(hours=5),
          dt.timedelta(days=1), dt.timedelta(days=8))
EMPLOYER_WORDS = NO + WAYS_OUT
"""Messages that may void an employer's reservation (besides corrections and crises)."""


class _Watch(DialogueObserver):
    def __init__(self) -> None:
        self.outcome = ""

    def decided(self, inbound: object, outcome: str) -> None:
        self.outcome = outcome


class DialogueMachine(RuleBasedStateMachine):
    database: str = "sqlite"
    """"sqlite", or a PostgreSQL server URL: each run then gets a database of its own there."""
    sent_total = 0
    """Messages sent by every run of this class, for the benchmark's progress."""

    def __init__(self) -> None:
        super().__init__()
        self.chat: Chat | None = None

    @initialize()
    def setup(self) -> None:
        from tests.bot.conftest import shared_parser

        now = dt.datetime(2026, 12, 7, 10, tzinfo=dt.UTC)
        self.folder = Path(tempfile.mkdtemp(prefix="dialogue-machine-"))
        if self.database == "sqlite":
            url = f"sqlite:///{self.folder / 'bot.db'}"
        else:  # a copy of the seeded template database (tests/databases.py)
            url = databases.postgres_copy(databases.seeded(now), server=self.database)
        self.url = url
        self.chat = make_chat(url, shared_parser(), now)
        self.watch = _Watch()
        self.chat.dialogue.observer = self.watch
        self.raw = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self.statuses = self._statuses()
        self.last_reply: dict[str, str] = {}
        self.steps = 0

    def teardown(self) -> None:
        if self.chat is not None:
            self.chat.ledger.close()
            self.raw.dispose()
        if getattr(self, "url", None):
            databases.release(self.url)
        shutil.rmtree(self.folder, ignore_errors=True)

    def _statuses(self) -> dict[int, str]:
        assert self.chat is not None
        with self.raw.connect() as conn:
            ids = [row[0] for row in conn.execute(sa.text("SELECT id FROM wage_reports"))]
        return {i: self.chat.ledger.report(i).status for i in ids}

    @rule(sender=st.sampled_from(SENDERS), text=st.sampled_from(VOCABULARY))
    def send(self, sender: str, text: str) -> None:
        assert self.chat is not None
        before = self.statuses
        self.watch.outcome = ""
        replies = self.chat.send(sender, text)
        self.steps += 1
        type(self).sent_total += 1
        joined = "\n".join(r.text for r in replies)
        assert self.watch.outcome != "error", (sender, text, "the turn failed")
        if not replies:
            assert self.watch.outcome in ("silent", "jobs", "") or text.strip() == "", \
                (sender, text, self.watch.outcome, "no reply")
        self.statuses = self._statuses()
        for report_id, status in self.statuses.items():
            was = before.get(report_id)
            if status == "posted" and was == "pending":
                assert text in YES or text == "ja til begge", (sender, text, "posted without JA")
                assert "Svar JA" in self.last_reply.get(sender, "") \
                    or "Tilbage til indberetningen" in self.last_reply.get(sender, ""), \
                    (sender, text, "posted without a read-back just before")
            if status == "voided" and was == "pending":
                today = self.chat.clock.now.date()
                changed = bool(extract_entities(text, today)) or any(
                    ch.isdigit() for ch in text) or period_of(text, today) is not None
                # a correction: new figures, or a new period ("for november")
                assert text in EMPLOYER_WORDS or changed or self.watch.outcome == "crisis", \
                    (sender, text, "voided without the employer's word")
        self.last_reply[sender] = joined

    @rule(pause=st.sampled_from(PAUSES))
    def wait(self, pause: dt.timedelta) -> None:
        """Time passes, and the server's background sweep expires old reservations."""
        assert self.chat is not None
        self.chat.clock.now += pause
        self.chat.ledger.expire_due(actor=SYSTEM)
        self.statuses = self._statuses()

    @invariant()
    def ledger_is_consistent(self) -> None:
        if self.chat is not None:
            assert self.chat.ledger.check_invariants() == []
