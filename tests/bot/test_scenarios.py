"""Conversation scenarios as data: tests/bot/scenarios/*.yml, one conversation per file.

Each scenario runs on a fresh SQLite ledger with the demo data (sampledata/data/demo.yml) seeded
relative to the scenario's clock, through `Dialogue.handle` with the real embedded NLU parser
(trained once per session, see conftest.py).

Scenario format
===============

    name: employer reports wages and the card holder is told   # required
    tags: [report_wage]                                           # free labels, for -k
    today: "2026-11-23T10:00:00+00:00"   # the FakeClock's start (default: that moment)
    cap: none                            # no cap loaded for the year (default: the demo cap)
    secrets: ["1203854417"]              # text that must never appear in a reply or transcript
    xfail: "why"                         # a known defect, reported: expected to fail (strict)
    setup:                               # ledger actions before the first turn (optional)
      - issue_card: {name: Sofie Berg, cpr: "0101901234", number: "70001",
                     phone: "+4522446688", municipality_code: "751", valid_from_days_ago: 30}
      - register_employer: {cvr: "...", name: "...", phone: "+45...", telegram_id: "777",
                            verified: true}
      - create_employment: {employer: "31425360", card: "70001", weekly_hours: "4"}
      - report_wage: {employer: "31425360", card: "48213", amount: "30000.00", hours: "40",
                      days_ago: 2, post: true}
      - link_code: {card: "48213", code: "7319"}   # the grant letter's LINK code
    turns:                               # run in order; each item is one of the kinds below
      - from: cafe        # a demo identity (jens, mette, ali, cafe, groen, unknown) or an
                          # address; `channel` defaults to the identity's (sms)
        channel: telegram               # optional
        say: "indberet 4 timer 600 kr frikort 48213"
        shared_phone: "+4521436587"     # optional: Telegram's "share my contact"
        id: first                       # optional label, for a later `repeat_of`
        repeat_of: first                # resend an earlier turn's provider message id (and,
                                        # unless `say` is given, its text): a duplicate delivery
        expect: ["Du indberetter 600,00 kr.", "Svar JA"]  # fragments that must all appear in
                                        # the replies (joined with newlines); a string is one
        absent: ["CPR"]                 # fragments that must not appear
        silent: true                    # no reply at all (opted out, a person owns the chat)
        same_as: first                  # exactly the replies of that earlier turn
        ledger: {...}                   # checks after the turn, see below
      - advance: {days: 8}              # moves the FakeClock (timedelta keywords)
      - caseworker: {of: mette, take: "sagsbehandler", reply: "Hej ...", resolve: true}
                                        # acts on the open escalation of that sender
      - ledger: {...}                   # checks without sending anything
      - run: send_due_digests           # a periodic job of ledger.tasks (small jobs): setup
                                        # actions, `{assignment}` in `say`, and the `tasks` /
                                        # `assignments` checks are in tests/bot/scenario_tasks.py

Ledger checks (all optional, in one mapping)::

    balance: {card: "48213", posted: "2662.50", pending: "0.00", remaining: "...",
              over_cap: "..."}                        # kroner as decimal strings
    outbox: {to: jens, contains: "har indberettet", count: 1, absent: "CPR"}  # or a list;
              # `to` is an identity or address; count = messages queued to it in total
    escalations: {open: 1, first: {of: jens, urgent: true, status: waiting,
                  reason: "crisis"}}                  # open ones, in the caseworkers' order
    state: {of: cafe, flow: report_wage, asking: amount, handoff: bot, opted_out: false}
              # flow/asking null means "not set"
    reports: {card: "48213", pending: 1, posted: 4, voided: 0, expired: 0}  # counts by status
    applications: {count: 1, last: {name: "Peter Nielsen", municipality: "751",
                   cpr_given: true}}
    employer: {cvr: "55333149", exists: true, verified: false, name: "Bageriet"}
    employment: {employer: "31425360", card: "70001", exists: true}

`SCENARIO_TRANSCRIPT=1 pytest tests/bot/test_scenarios.py -s -k NAME` prints the conversation.

After every scenario, whatever it says: each SMS reply is GSM-7 and fits the segment budget
(two segments for replies, MERE texts may use up to four, also when a step with `more_text:
true` gets one without the word MERE; the same for notifications
queued to card holders), no reply and no stored text
contains a demo CPR number or a `secrets` entry, and `ledger.check_invariants()` is empty.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.messages import InboundMessage, Reply
from danish.money import parse_kroner
from danish.wording import GSM7_BASIC, GSM7_EXTENSION, segments
from db.base import Base
from db.commands import Actor
from db.conversation_tables import LinkCode
from db.unit_of_work import UnitOfWork
from ledger import CreateEmployment, IssueCard, RegisterEmployer, ReportWage, VerifyEmployer
from ledger.service.link_codes import link_code_hash
from ledger.service.lookups import card_by_number
from nlu import Parser
from sampledata.demo import demo_data
from tests.bot.conftest import IDENTITIES, Chat, make_chat
from tests.bot.scenario_tasks import TaskSteps
from tests.ledger.support import raw_engine
from tests.yaml_files import read_yaml

SCENARIOS = Path(__file__).parent / "scenarios"
SETUP_ACTOR = Actor(name="scenario-setup", channel="system")
MAX_SEGMENTS = 2
MAX_SEGMENTS_MORE = 4


def _load(folder: Path = SCENARIOS) -> list[Any]:
    params = []
    for path in sorted(folder.glob("*.yml")):
        data = read_yaml(path)
        marks = [pytest.mark.xfail(reason=data["xfail"], strict=True)] if data.get("xfail") else []
        params.append(pytest.param(data, id=path.stem, marks=marks))
    return params


def _fragments(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _ore(kroner: str) -> int:
    return parse_kroner(str(kroner))


class Runner(TaskSteps):
    def __init__(self, scenario: dict[str, Any], chat: Chat) -> None:
        self.scenario = scenario
        self.chat = chat
        self.turns: dict[str, tuple[InboundMessage, list[Reply]]] = {}
        self.replies: list[tuple[str, str, str]] = []  # (channel, text-sent, reply)
        self.more_replies: set[str] = set()
        self.engine = raw_engine(chat.url)
        self.tables = Base.metadata.tables

    # Steps ---------------------------------------------------------------------------

    def run(self) -> None:
        for action in self.scenario.get("setup") or []:
            self.setup(action)
        for index, step in enumerate(self.scenario["turns"], start=1):
            where = f"turn {index} ({step.get('say', next(iter(step)))!r})"
            if "advance" in step:
                self.chat.clock.advance(**step["advance"])
            elif "caseworker" in step:
                self.caseworker(step["caseworker"])
            elif "from" in step:
                self.message(step, where)
            elif "run" in step:
                self.run_job(step, where)
            if "ledger" in step:
                self.check_ledger(step["ledger"], where)
        self.final_checks()

    def address(self, who: str) -> str:
        return IDENTITIES[who][1] if who in IDENTITIES else str(who)

    def channel_address(self, who: str, channel: str | None = None) -> tuple[str, str]:
        if who in IDENTITIES:
            default, address = IDENTITIES[who]
        else:
            default, address = "sms", str(who)
        return channel or default, address

    def message(self, step: dict[str, Any], where: str) -> None:
        repeat = step.get("repeat_of")
        if repeat is not None:
            earlier, _ = self.turns[repeat]
            inbound = InboundMessage(
                channel=earlier.channel, sender=earlier.sender,
                text=step.get("say", earlier.text), provider_message_id=earlier.provider_message_id,
                received_at=self.chat.clock.now, shared_phone=earlier.shared_phone)
        else:
            inbound = self.chat.inbound(step["from"], self.expand(str(step.get("say", ""))),
                                        channel=step.get("channel"),
                                        shared_phone=step.get("shared_phone"))
        replies = self.chat.dialogue.handle(inbound)
        self.chat.sent.append((inbound, replies))
        if "id" in step:
            self.turns[step["id"]] = (inbound, replies)
        joined = "\n".join(r.text for r in replies)
        if os.environ.get("SCENARIO_TRANSCRIPT"):  # -s with this set prints the conversation
            print(f"\n> {inbound.sender}: {inbound.text}\n< " + (joined or "(silent)"))  # noqa: T201
        for reply in replies:
            self.replies.append((inbound.channel, inbound.text, reply.text))
            if inbound.text.strip().lower() == "mere" or step.get("more_text"):
                self.more_replies.add(reply.text)
        context = f"{where}: replies were:\n{joined or '(none)'}"
        for fragment in map(self.expand, _fragments(step.get("expect"))):
            assert fragment in joined, f"{context}\n-- expected fragment {fragment!r}"
        for fragment in _fragments(step.get("absent")):
            assert fragment not in joined, f"{context}\n-- unexpected fragment {fragment!r}"
        if step.get("silent"):
            assert replies == [], f"{context}\n-- expected silence"
        elif "silent" in step:
            assert replies, f"{where}: expected a reply, got none"
        if "same_as" in step:
            _, earlier_replies = self.turns[step["same_as"]]
            assert [r.text for r in replies] == [r.text for r in earlier_replies], context

    def caseworker(self, action: dict[str, Any]) -> None:
        conversations = self.chat.ledger.conversations
        address = self.address(action["of"])
        found = [e for e in conversations.open_escalations() if e.address == address]
        assert found, f"no open escalation for {action['of']}"
        escalation = found[0]
        if "take" in action:
            conversations.take(escalation.id, str(action["take"]))
        if "reply" in action:
            conversations.reply(escalation.id, str(action["reply"]), "sagsbehandler")
        if action.get("resolve"):
            conversations.resolve(escalation.id)

    def setup(self, action: dict[str, Any]) -> None:
        ledger = self.chat.ledger
        today = self.chat.clock.now.date()
        ((kind, args),) = action.items()
        if kind == "issue_card":
            ledger.issue_card(IssueCard(
                cpr=args["cpr"], name=args["name"], number=args.get("number"),
                municipality_code=str(args.get("municipality_code", "751")),
                phone=args.get("phone"), telegram_id=args.get("telegram_id"),
                valid_from=today - dt.timedelta(days=int(args.get("valid_from_days_ago", 30)))),
                actor=SETUP_ACTOR)
        elif kind == "register_employer":
            ledger.register_employer(RegisterEmployer(
                cvr=args["cvr"], name=args["name"], phone=args.get("phone"),
                telegram_id=args.get("telegram_id"),
                contact_person=args.get("contact_person", "")), actor=SETUP_ACTOR)
            if args.get("verified"):
                ledger.verify_employer(VerifyEmployer(cvr=args["cvr"]), actor=SETUP_ACTOR)
        elif kind == "create_employment":
            card = ledger.card(args["card"])
            ledger.create_employment(CreateEmployment(
                employer_cvr=args["employer"], card_number=args["card"],
                start_date=card.valid_from,
                weekly_hours=Decimal(str(args.get("weekly_hours", "4")))), actor=SETUP_ACTOR)
        elif kind == "report_wage":
            paid_on = today - dt.timedelta(days=int(args.get("days_ago", 0)))
            ledger.report_wage(ReportWage(
                employer_cvr=args["employer"], card_number=args["card"], paid_on=paid_on,
                hours=Decimal(str(args["hours"])), amount_ore=_ore(args["amount"]),
                idempotency_key=f"scenario-setup-{args['card']}-{args['amount']}-{paid_on}",
                post=bool(args.get("post", True))), actor=SETUP_ACTOR)
        elif kind == "link_code":
            self.put_link_code(str(args["card"]), str(args["code"]))
        elif not self.setup_task_action(kind, args):
            raise AssertionError(f"unknown setup action {kind!r}")

    def put_link_code(self, number: str, code: str) -> None:
        """The grant letter's code. Nothing in the ledger issues one yet (reported), so the
        test stores its keyed hash the way conversations.linking checks it."""
        def put(uow: UnitOfWork) -> None:
            card = card_by_number(uow.session, number)
            uow.session.merge(LinkCode(card_id=card.id, created_at=uow.now,
                                       code_hash=link_code_hash(uow.config.cpr_hash_key, number,
                                                                    code)))
            uow.commit()
        self.chat.ledger.run_write(put)

    # Ledger checks ----------------------------------------------------------------------

    def check_ledger(self, checks: dict[str, Any], where: str) -> None:
        for name, spec in checks.items():
            getattr(self, f"check_{name}")(spec, where)

    def check_balance(self, spec: dict[str, Any], where: str) -> None:
        balance = self.chat.ledger.balance(str(spec["card"]))
        actual = {"posted": balance.posted_ore, "pending": balance.pending_ore,
                  "remaining": balance.remaining_ore, "over_cap": balance.over_cap_ore}
        for key, value in actual.items():
            if key in spec:
                assert value == _ore(spec[key]), f"{where}: balance {key} {value} != {spec[key]}"

    def check_outbox(self, spec: Any, where: str) -> None:
        for one in spec if isinstance(spec, list) else [spec]:
            address = self.address(one["to"])
            texts = [text for text, _, _ in
                     self.chat.ledger.conversations.recent_outbox(address, limit=100)]
            shown = "\n".join(texts) or "(none)"
            if "count" in one:
                assert len(texts) == one["count"], f"{where}: outbox to {address}:\n{shown}"
            for fragment in map(self.expand, _fragments(one.get("contains"))):
                assert any(fragment in t for t in texts), \
                    f"{where}: no outbox message to {address} contains {fragment!r}:\n{shown}"
            for fragment in _fragments(one.get("absent")):
                assert not any(fragment in t for t in texts), \
                    f"{where}: an outbox message to {address} contains {fragment!r}:\n{shown}"

    def check_escalations(self, spec: dict[str, Any], where: str) -> None:
        found = self.chat.ledger.conversations.open_escalations()
        if "open" in spec:
            assert len(found) == spec["open"], f"{where}: open escalations {found}"
        first = spec.get("first")
        if first:
            assert found, f"{where}: no open escalation"
            top = found[0]
            if "of" in first:
                assert top.address == self.address(first["of"]), f"{where}: first is {top}"
            if "urgent" in first:
                assert top.urgent is first["urgent"], f"{where}: first is {top}"
            if "status" in first:
                assert top.status == first["status"], f"{where}: first is {top}"
            if "reason" in first:
                assert top.reason.startswith(first["reason"]), f"{where}: first is {top}"

    def check_state(self, spec: dict[str, Any], where: str) -> None:
        channel, address = self.channel_address(spec["of"], spec.get("channel"))
        table = self.tables["conversations"]
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(table).where(
                table.c.channel == channel, table.c.address == address)).mappings().one()
        state = json.loads(row["state_json"] or "{}")
        for key in ("flow", "asking"):
            if key in spec:
                assert state.get(key) == spec[key], f"{where}: state {state}"
        if "handoff" in spec:
            assert row["handoff"] == spec["handoff"], f"{where}: handoff {row['handoff']}"
        if "opted_out" in spec:
            assert bool(row["opted_out"]) is spec["opted_out"], f"{where}: opted_out"

    def check_reports(self, spec: dict[str, Any], where: str) -> None:
        reports, cards = self.tables["wage_reports"], self.tables["cards"]
        with self.engine.connect() as conn:
            ids = conn.scalars(sa.select(reports.c.id).join(cards, cards.c.id == reports.c.card_id)
                               .where(cards.c.number == str(spec["card"]))).all()
        statuses = [self.chat.ledger.report(i).status for i in ids]
        for status, count in spec.items():
            if status != "card":
                assert statuses.count(status) == count, f"{where}: report statuses {statuses}"

    def check_applications(self, spec: dict[str, Any], where: str) -> None:
        table = self.tables["card_applications"]
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(table).order_by(table.c.id)).mappings().all()
        if "count" in spec:
            assert len(rows) == spec["count"], f"{where}: {len(rows)} applications"
        last = spec.get("last")
        if last:
            row = rows[-1]
            if "name" in last:
                assert row["name"] == last["name"], f"{where}: application {dict(row)}"
            if "municipality" in last:
                assert row["municipality_code"] == last["municipality"], f"{where}: {dict(row)}"
            if "cpr_given" in last:
                assert (row["cpr_encrypted"] is not None) is last["cpr_given"], where
            answers = json.loads(row["answers_json"])
            for key, value in (last.get("answers") or {}).items():
                assert answers.get(key) == value, f"{where}: answers {answers}"

    def check_employer(self, spec: dict[str, Any], where: str) -> None:
        table = self.tables["employers"]
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(table).where(table.c.cvr == str(spec["cvr"]))
                               ).mappings().first()
        assert (row is not None) is spec.get("exists", True), f"{where}: employer {spec['cvr']}"
        if row is not None:
            if "verified" in spec:
                assert bool(row["verified"]) is spec["verified"], where
            if "name" in spec:
                assert row["name"] == spec["name"], f"{where}: employer {dict(row)}"

    def check_employment(self, spec: dict[str, Any], where: str) -> None:
        employments, employers, cards = (self.tables[n] for n in
                                         ("employments", "employers", "cards"))
        with self.engine.connect() as conn:
            count = conn.scalar(
                sa.select(sa.func.count()).select_from(employments)
                .join(employers, employers.c.id == employments.c.employer_id)
                .join(cards, cards.c.id == employments.c.card_id)
                .where(employers.c.cvr == str(spec["employer"]),
                       cards.c.number == str(spec["card"])))
        assert (count > 0) is spec.get("exists", True), f"{where}: employment count {count}"

    def check_invariants(self, spec: Any, where: str) -> None:
        assert self.chat.ledger.check_invariants() == [], where

    # Always ----------------------------------------------------------------------------

    def final_checks(self) -> None:
        secrets = [str(s) for s in self.scenario.get("secrets") or []]
        for holder in demo_data()["card_holders"]:
            cpr = str(holder["cpr"])
            secrets += [cpr, f"{cpr[:6]}-{cpr[6:]}"]
        for channel, said, reply in self.replies:
            for secret in secrets:
                assert secret not in reply, f"reply to {said!r} contains {secret!r}: {reply}"
            if channel != "sms":
                continue
            bad = [c for c in reply if c not in GSM7_BASIC and c not in GSM7_EXTENSION]
            assert not bad, f"reply to {said!r} is not GSM-7 ({bad!r}): {reply}"
            budget = MAX_SEGMENTS_MORE if reply in self.more_replies else MAX_SEGMENTS
            assert segments(reply) <= budget, \
                f"reply to {said!r} needs {segments(reply)} SMS segments: {reply}"
        stored = self.tables["transcript_messages"]
        outbox = self.tables["outbox"]
        with self.engine.connect() as conn:
            texts = [*conn.scalars(sa.select(stored.c.text)),
                     *conn.scalars(sa.select(stored.c.replies_json).where(
                         stored.c.replies_json.is_not(None))),
                     *conn.scalars(sa.select(outbox.c.text))]
            notifications = list(conn.scalars(sa.select(outbox.c.text).where(
                outbox.c.conversation_id.is_(None))))
        for text in notifications:  # the bot's own messages to card holders
            bad = [c for c in text if c not in GSM7_BASIC and c not in GSM7_EXTENSION]
            assert not bad, f"notification is not GSM-7 ({bad!r}): {text}"
            assert segments(text) <= MAX_SEGMENTS, f"notification too long: {text}"
        for text in texts:
            for secret in secrets:
                assert secret not in text, f"stored text contains {secret!r}: {text}"
        assert self.chat.ledger.check_invariants() == []
        self.engine.dispose()


def play(scenario: dict[str, Any], folder: Path, parser: Parser) -> None:
    """Runs one scenario on a fresh demo-seeded database; raises AssertionError on a miss."""
    now = dt.datetime.fromisoformat(scenario["today"]) if scenario.get("today") else None
    chat = make_chat(f"sqlite:///{folder / 'scenario.db'}", parser,
                     **({"now": now} if now else {}), demo_cap=scenario.get("cap") != "none")
    try:
        Runner(scenario, chat).run()
    finally:
        chat.ledger.close()


@pytest.mark.parametrize("scenario", _load())
def test_scenario(scenario: dict[str, Any], tmp_path: Path, parser: Parser) -> None:
    play(scenario, tmp_path, parser)


def test_at_least_forty_scenarios_cover_every_flow() -> None:
    scenarios = [p.values[0] for p in _load()]
    assert len(scenarios) >= 40
    tags = {tag for s in scenarios for tag in s.get("tags", [])}
    for needed in ("faq", "more", "balance", "link", "check_card", "report_wage", "apply_card",
                   "register_employer", "handoff", "crisis", "stop_start", "keywords",
                   "small_talk", "fallback", "telegram", "duplicate", "expiry", "privacy",
                   "jobs"):
        assert needed in tags, f"no scenario tagged {needed!r}"
    names = [s["name"] for s in scenarios]
    assert len(names) == len(set(names)), "scenario names must be unique"
