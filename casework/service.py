"""`Casework`: what the console pages call, reached as `backend.casework`.

Every method takes the signed-in `StaffPrincipal` first and is scoped by it (see
`staff.access`): rows outside the user's municipality are reported missing with
the same NotFound as rows that do not exist, and a role refusal is `NotAllowedForRole`
(code not_allowed_for_role). Each method is one transaction; changes run the ledger's own
service functions with `principal.actor`, so the audit log names the person. Refusals are
`DomainError`s with stable codes and Danish messages; nothing is changed then.

Results are the frozen values in `casework.records` (or the ledger's own results for
card and report changes). The module docstrings of `inbox`, `applications`, `cards`,
`card_actions`, `employers` and `overview` say what each part does and why.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from casework import applications as apps
from casework import card_actions, cards, employers, inbox, overview
from casework.records import (
    ApplicationDecision,
    ApplicationDetail,
    ApplicationItem,
    CardDetail,
    CardItem,
    EmployerDetail,
    EmployerItem,
    EscalationDetail,
    InboxItem,
    Overview,
    TranscriptUpdate,
)
from db.part import KernelPart
from ledger.results import CardResult, EmployerResult, WageReportResult
from staff.principal import StaffPrincipal


class Casework(KernelPart):
    """The caseworker console's contract with the ledger."""

    # Inbox ---------------------------------------------------------------------------

    def inbox(self, principal: StaffPrincipal) -> list[InboxItem]:
        return self._read(lambda uow: inbox.inbox(uow, principal))

    def escalation(self, principal: StaffPrincipal, escalation_id: int) -> EscalationDetail:
        return self._read(lambda uow: inbox.detail(uow, principal, escalation_id))

    def messages_since(self, principal: StaffPrincipal, escalation_id: int,
                       after_message_id: int) -> TranscriptUpdate:
        return self._read(lambda uow: inbox.since(uow, principal, escalation_id,
                                                  after_message_id))

    def take(self, principal: StaffPrincipal, escalation_id: int) -> None:
        self._write(lambda uow: inbox.take(uow, principal, escalation_id))

    def reply(self, principal: StaffPrincipal, escalation_id: int, text: str) -> int:
        """Returns the outbox id; the transcript shows its delivery status."""
        return self._write(lambda uow: inbox.reply(uow, principal, escalation_id, text))

    def add_note(self, principal: StaffPrincipal, escalation_id: int, text: str) -> int:
        return self._write(lambda uow: inbox.add_note(uow, principal, escalation_id, text))

    def call_back(self, principal: StaffPrincipal, escalation_id: int) -> str:
        """The caller's number for "ring tilbage"; the escalation is the user's from now."""
        return self._write(lambda uow: inbox.call_back(uow, principal, escalation_id))

    def hand_back(self, principal: StaffPrincipal, escalation_id: int) -> None:
        self._write(lambda uow: inbox.close(uow, principal, escalation_id, "handed_back"))

    def resolve(self, principal: StaffPrincipal, escalation_id: int) -> None:
        self._write(lambda uow: inbox.close(uow, principal, escalation_id, "resolved"))

    # Applications --------------------------------------------------------------------

    def applications(self, principal: StaffPrincipal,
                     status: str | None = None) -> list[ApplicationItem]:
        return self._read(lambda uow: apps.applications(uow, principal, status))

    def application(self, principal: StaffPrincipal, application_id: int) -> ApplicationDetail:
        return self._read(lambda uow: apps.application(uow, principal, application_id))

    def open_application(self, principal: StaffPrincipal, application_id: int) -> bool:
        """Notes the first time staff open an undecided application (outreach tells the
        applicant someone is looking at it); True that first time."""
        return self._write(lambda uow: apps.mark_opened(uow, principal, application_id))

    def approve(self, principal: StaffPrincipal, application_id: int,
                valid_from: dt.date | None = None, *, cpr: str | None = None,
                municipality_code: str | None = None) -> ApplicationDecision:
        return self._write(lambda uow: apps.approve(
            uow, principal, application_id, valid_from=valid_from, cpr=cpr,
            municipality_code=municipality_code))

    def reject(self, principal: StaffPrincipal, application_id: int,
               reason: str) -> ApplicationDecision:
        return self._write(lambda uow: apps.reject(uow, principal, application_id, reason))

    # Cards ---------------------------------------------------------------------------

    def search_cards(self, principal: StaffPrincipal, query: str) -> list[CardItem]:
        return self._read(lambda uow: cards.search(uow, principal, query))

    def card(self, principal: StaffPrincipal, number: str) -> CardDetail:
        return self._read(lambda uow: cards.detail(uow, principal, number))

    def controls_due(self, principal: StaffPrincipal,
                     on: dt.date | None = None) -> list[CardItem]:
        return self._read(lambda uow: cards.controls_due(uow, principal, on))

    def deactivate(self, principal: StaffPrincipal, number: str, reason: str) -> CardResult:
        return self._write(lambda uow: card_actions.deactivate(uow, principal, number, reason))

    def reactivate(self, principal: StaffPrincipal, number: str, reason: str) -> CardResult:
        return self._write(lambda uow: card_actions.reactivate(uow, principal, number, reason))

    def record_control(self, principal: StaffPrincipal, number: str,
                       note: str = "") -> CardResult:
        return self._write(lambda uow: card_actions.record_control(uow, principal, number,
                                                                   note))

    def transfer(self, principal: StaffPrincipal, number: str, municipality_code: str,
                 reason: str) -> CardResult:
        return self._write(lambda uow: card_actions.transfer(uow, principal, number,
                                                             municipality_code, reason))

    def link_contact(self, principal: StaffPrincipal, number: str, channel: str,
                     address: str) -> None:
        """`channel`: "sms" (or "phone") or "telegram"."""
        self._write(lambda uow: card_actions.link_contact(uow, principal, number, channel,
                                                          address))

    def unlink_contact(self, principal: StaffPrincipal, number: str, channel: str,
                       address: str) -> None:
        self._write(lambda uow: card_actions.unlink_contact(uow, principal, number, channel,
                                                            address))

    def unlink_contact_id(self, principal: StaffPrincipal, number: str, contact_id: int) -> None:
        """By `ContactItem.id`, for a page that shows the address masked."""
        self._write(lambda uow: card_actions.unlink_contact_id(uow, principal, number,
                                                               contact_id))

    def reissue_link_code(self, principal: StaffPrincipal, number: str) -> str:
        """The new code: show it once; only its hash is kept."""
        return self._write(lambda uow: card_actions.reissue_link_code(uow, principal, number))

    def reverse_report(self, principal: StaffPrincipal, report_id: int,
                       reason: str) -> WageReportResult:
        return self._write(lambda uow: card_actions.reverse_report(uow, principal, report_id,
                                                                   reason))

    def post_report_on_behalf(
        self, principal: StaffPrincipal, number: str, cvr: str, amount_ore: int,
        hours: Decimal | str, paid_on: dt.date, note: str = "", *,
        idempotency_key: str | None = None,
    ) -> WageReportResult:
        return self._write(lambda uow: card_actions.post_on_behalf(
            uow, principal, number, cvr, amount_ore, hours, paid_on, note, idempotency_key))

    # Employers -----------------------------------------------------------------------

    def employers(self, principal: StaffPrincipal,
                  query: str | None = None) -> list[EmployerItem]:
        return self._read(lambda uow: employers.employers(uow, principal, query))

    def employer(self, principal: StaffPrincipal, cvr: str) -> EmployerDetail:
        return self._read(lambda uow: employers.employer(uow, principal, cvr))

    def verify_employer(self, principal: StaffPrincipal, cvr: str,
                        note: str = "") -> EmployerResult:
        return self._write(lambda uow: employers.verify(uow, principal, cvr, note))

    # Overview ------------------------------------------------------------------------

    def overview(self, principal: StaffPrincipal, year: int,
                 municipality_code: str | None = None) -> Overview:
        """`municipality_code`: an administrator's choice (None: all municipalities)."""
        return self._read(lambda uow: overview.overview(uow, principal, year,
                                                        municipality_code))
