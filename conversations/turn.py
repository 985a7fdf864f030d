"""A conversation turn: one transaction, under the conversation's row lock, for one message.

The bot reads the sender's state and identity, runs commands (any registered one, through
`execute`), queues messages and escalations through this object; all of it commits together
or not at all.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import select

from conversations import applications, escalations, linking, notify, outbox, store
from conversations.records import ApplicationAnswers, EscalationView, Identity, InboundState
from db.commands import Actor, Command
from db.conversation_tables import Conversation
from db.errors import DomainError
from db.handlers import CommandHandlers
from db.observe import Outcome
from db.tables import Card, Citizen, Employer, EmployerContact, Employment
from db.unit_of_work import UnitOfWork

R = TypeVar("R")


class Turn:
    """Everything the dialogue may do while it handles one message."""

    def __init__(self, uow: UnitOfWork, conversation: Conversation, handlers: CommandHandlers,
                 *, via: str | None = None, inbound: InboundState | None = None) -> None:
        self._uow = uow
        self._handlers = handlers
        self._conversation = conversation
        self.via = via or conversation.channel
        """The channel this turn's messages come and go on: a call's turns are kept in the
        caller's SMS conversation, each transcript line with its own channel."""
        self.state: dict[str, Any] = json.loads(conversation.state_json or "{}")
        self.now = uow.now
        self.today = uow.today
        self.outcomes: list[Outcome] = []
        """The ledger commands run in this turn, told to `Ledger.observer` once it commits."""
        self._inbound = inbound
        """The message this turn answers, as read with the conversation's lock (if it was)."""
        self._remembered: dict[Hashable, tuple[int, Any]] = {}
        """Reads kept for the turn (`remembered`), each with the count of commands run then."""

    # The conversation ---------------------------------------------------------------

    @property
    def conversation_id(self) -> int:
        return self._conversation.id

    @property
    def channel(self) -> str:
        return self._conversation.channel

    @property
    def address(self) -> str:
        return self._conversation.address

    @property
    def municipality(self) -> str | None:
        """The municipality the conversation is filed under (the linked card's, else the one
        an application named): whose office a caller is put through to."""
        return self._conversation.municipality_code

    @property
    def contact_kind(self) -> str:
        """The kind of contact the sender's address is ("phone" or "telegram")."""
        return store.contact_kind(self.channel)

    @property
    def handoff(self) -> str:
        return self._conversation.handoff

    @property
    def opted_out(self) -> bool:
        return self._conversation.opted_out

    @property
    def last_activity_at(self) -> dt.datetime:
        """When the sender last wrote before this message (until `save_state` moves it on):
        a flow left for hours must not capture a new request as an answer."""
        return self._conversation.last_activity_at

    def save_state(self) -> None:
        self._conversation.state_json = json.dumps(self.state, ensure_ascii=False, default=str)
        self._conversation.last_activity_at = self.now

    def set_opted_out(self, value: bool) -> None:
        self._conversation.opted_out = value


    def identity(self) -> Identity:
        return store.identity_for(self._uow.session, self.channel, self.address)

    def record_reply(
        self, text: str, *, buttons: tuple[str, ...] = (), queue: bool = False, author: str = "bot"
    ) -> None:
        """Adds a reply to the transcript; with `queue`, also to the outbox, in this transaction."""
        outbox_id = None
        if queue:
            outbox_id = outbox.enqueue(
                self._uow.session, channel=self.channel, recipient=self.address, text=text,
                buttons=buttons, now=self.now, conversation_id=self._conversation.id)
        store.record_outbound(self._uow.session, self._conversation, text, author, self.now,
                              outbox_id, channel=self.via)

    def inbound_replies(self, inbound_id: int) -> tuple[str, ...] | None:
        """The replies the message already got (a concurrent retry answered it while this turn
        waited for the lock), else None: read with the lock when the turn was opened for it."""
        if self._inbound is not None and self._inbound.id == inbound_id:
            return self._inbound.replies
        return store.replies_of(store.load_inbound(self._uow.session, inbound_id))

    def finish_inbound(self, inbound_id: int, intent: str | None, replies: tuple[str, ...]) -> None:
        store.finish_inbound(self._uow.session, inbound_id, intent, replies, self.now)

    def answer(self, inbound_id: int, intent: str | None,
               replies: tuple[tuple[str, tuple[str, ...]], ...], *, queue: bool = False,
               stored: tuple[str, ...] | None = None, lease: bool = False) -> list[int]:
        """The turn's end: `save_state` first, then this records the replies (text, buttons)
        and marks the message answered, as `record_reply` for each and `finish_inbound` do.
        On PostgreSQL the replies, queued to the outbox or not, are written with the state and
        the answered message in one statement (`store.finish_turn`). `stored`: what a retry
        of the message gets back, when not the replies' texts (a call's encoded answer).

        `lease`: the caller will send the queued replies itself once the turn commits; the
        ids of those written leased to it come back (none where the turn ends in several
        statements, or an older message to the address waits: the outbox worker sends them)."""
        session = self._uow.session
        if stored is None:
            stored = tuple(text for text, _ in replies)
        if not store.finishes_in_one_statement(session, self._conversation):
            for text, buttons in replies:
                self.record_reply(text, buttons=buttons, queue=queue)
            self.finish_inbound(inbound_id, intent, stored)
            return []
        return store.finish_turn(session, self._conversation, replies, channel=self.via,
                                 inbound_id=inbound_id, intent=intent, now=self.now,
                                 queue=queue, stored=stored, lease=lease)

    # Ledger commands and reads --------------------------------------------------------

    def execute(self, cmd: Command[R], actor: Actor) -> R:
        """Runs any registered command in a savepoint, the way `Ledger.execute` runs it in a
        transaction of its own: a refusal undoes only that command, and its messages go out
        with the turn or not. The outcome is counted for the observer under the command's name."""
        name = type(cmd).__name__
        with self._uow.nested() as nested:
            try:
                result = self._handlers.handle(cmd, nested, actor)
            except DomainError as error:
                self.outcomes.append((name, error))
                raise
            self.outcomes.append((name, result))
            return result

    def within(self, work: Callable[[UnitOfWork], R]) -> R:
        """Work of another domain in this turn's transaction, not counted as a command: a read
        (it sees the turn's own writes) or a bookkeeping write that commits with the turn."""
        return work(self._uow)

    def remembered(self, key: Hashable, read: Callable[[UnitOfWork], R]) -> R:
        """A read asked again in the same turn (a flow checks a card, then words its answer
        from it) answered from the first, until a command runs: commands are what change
        cards, balances and employments. `key` names the read and its arguments."""
        kept = self._remembered.get(key)
        if kept is not None and kept[0] == len(self.outcomes):
            return kept[1]
        value = read(self._uow)
        self._remembered[key] = (len(self.outcomes), value)
        return value

    @property
    def max_report_ore(self) -> int:
        """The largest amount one wage report may have (a sanity bound against typos)."""
        return self._uow.config.max_report_ore

    def seal(self, secret: str) -> str:
        """Encrypts a value (a CPR number mid-application) before it enters conversation state."""
        return base64.b64encode(self._uow.vault.encrypt(secret)).decode()

    def unseal(self, token: str) -> str:
        return self._uow.vault.decrypt(base64.b64decode(token))

    # Messages, escalations, applications, links ---------------------------------------

    def enqueue(self, channel: str, recipient: str, text: str, buttons: tuple[str, ...] = ()) -> int:
        return outbox.enqueue(self._uow.session, channel=channel, recipient=recipient, text=text,
                              buttons=buttons, now=self.now, conversation_id=None)

    def notify_card_holder(self, card_number: str, text: str) -> int:
        """Queues a message to every phone and Telegram linked to the card's holder,
        except those that said STOP (`conversations.notify`, the one path)."""
        return notify.to_holder_of(self._uow, card_number, text)

    def employees(self, cvr: str) -> list[tuple[str, str]]:
        """(first name, card number) of the card holders this employer employs now, so an
        employer may name "Mette" instead of her Frikort-ID; only its own employees."""
        return list(self.remembered(("employees", cvr), lambda uow: self._employees(uow, cvr)))

    def _employees(self, uow: UnitOfWork, cvr: str) -> tuple[tuple[str, str], ...]:
        rows = uow.session.execute(
            select(Citizen.name, Card.number)
            .join(Card, Card.citizen_id == Citizen.id)
            .join(Employment, Employment.card_id == Card.id)
            .join(Employer, Employer.id == Employment.employer_id)
            .where(Employer.cvr == cvr,
                   (Employment.end_date.is_(None)) | (Employment.end_date >= self.today))
            .distinct()).all()
        return tuple((str(name).split()[0], str(number)) for name, number in rows)

    def employer_contacts(self, cvr: str) -> list[tuple[str, str]]:
        rows = self._uow.session.execute(
            select(EmployerContact.kind, EmployerContact.address)
            .join(Employer, Employer.id == EmployerContact.employer_id)
            .where(Employer.cvr == cvr)).all()
        return [("sms" if kind == "phone" else "telegram", address) for kind, address in rows]

    def escalate(self, *, urgent: bool, reason: str) -> int:
        return escalations.open_escalation(self._uow.session, self._conversation, urgent=urgent,
                                           reason=reason, now=self.now)

    def request_callback(self, *, urgent: bool) -> int:
        """A caller asks to be rung back (first in line if crisis words were heard)."""
        return escalations.request_callback(self._uow.session, self._conversation,
                                            urgent=urgent, now=self.now)

    def send_copy(self, text: str) -> int:
        """An SMS copy of what a caller heard, to the number they call from, through the
        outbox; kept in the transcript as the SMS it is."""
        outbox_id = outbox.enqueue(
            self._uow.session, channel="sms", recipient=self.address, text=text, buttons=(),
            now=self.now, conversation_id=self._conversation.id)
        store.record_outbound(self._uow.session, self._conversation, text, "bot", self.now,
                              outbox_id, channel="sms")
        return outbox_id

    def check_card_ending(self, card_number: str, digits: str) -> linking.LinkOutcome:
        return linking.check_card_ending(self._uow.session, address=self.address,
                                         card_number=card_number, digits=digits, now=self.now)

    def open_escalation(self) -> EscalationView | None:
        """The conversation's open escalation, if a person has it (or it waits for one)."""
        return escalations.open_for(self._uow.session, self._conversation)

    def withdraw_escalation(self, actor: Actor) -> bool:
        """The citizen no longer needs a person ("glem det"): the bot takes the conversation
        back. An urgent (crisis) escalation is never withdrawn this way."""
        withdrawn = escalations.withdraw(self._uow.session, self._conversation, self.now)
        if withdrawn is None:
            return False
        self._uow.audit(actor, "escalation.withdrawn", "escalation", withdrawn)
        return True

    def submit_application(self, answers: ApplicationAnswers) -> int:
        if answers.municipality_code:
            self._conversation.municipality_code = answers.municipality_code
        return applications.submit(self._uow.session, answers,
                                   conversation_id=self._conversation.id,
                                   vault=self._uow.vault, now=self.now)

    def link_with_code(self, card_number: str, code: str) -> linking.LinkOutcome:
        outcome = linking.link_with_code(
            self._uow.session, channel=self.channel, address=self.address,
            card_number=card_number, code=code, hash_key=self._uow.config.cpr_hash_key,
            now=self.now)
        if outcome is linking.LinkOutcome.LINKED:
            self._remember_municipality(card_number)
        return outcome

    def link_tries_left(self) -> int:
        return linking.tries_left(self._uow.session, self.channel, self.address)

    def link_telegram_by_phone(self, phone: str) -> str | None:
        number = linking.link_telegram_by_phone(self._uow.session, telegram_id=self.address,
                                                phone=phone, now=self.now)
        if number:
            self._remember_municipality(number)
        return number

    def remember_identity(self, found: tuple[Identity, str | None] | None = None) -> Identity:
        """Files the conversation under the card holder's municipality, for caseworkers' inboxes.
        `found`: the identity and the card's municipality, when the caller read them (the
        dialogue reads them with the card's figures, `ledger.reads.sender`)."""
        identity, municipality = found or store.identity_and_municipality(
            self._uow.session, self.channel, self.address)
        if identity.card_number and self._conversation.municipality_code is None:
            self._conversation.municipality_code = municipality
        return identity

    def _remember_municipality(self, card_number: str) -> None:
        code = self._uow.session.scalar(select(Card.municipality_code).where(
            Card.number == card_number))
        self._conversation.municipality_code = code
