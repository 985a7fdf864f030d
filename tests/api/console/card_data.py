"""Records for the card and employer page tests: two municipalities, one employer in each
role, reports on both sides, and a holder name that tries to inject a script.

    world = build(console_env)     card A in 751 (caseworker_a's), card B in 101 (caseworker_b's)
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

import httpx
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.bootstrap import Backend
from db.base import Base
from ledger import CreateEmployment, IssueCard, RegisterEmployer, VerifyEmployer
from tests.api.console.conftest import MUNICIPALITY_A, MUNICIPALITY_B, ConsoleEnv, login, post_form
from tests.ledger.support import ADMIN, TODAY, fresh_cpr, raw_engine, valid_cvr, wage

CARD_A, CARD_B, CARD_A_OLD = "11111", "22222", "13131"
HOLDER_A = '<script>alert("x")</script> Jens Hansen'
HOLDER_B = "Bente Bornholm"
PHONE_A = "+4520304050"


@dataclass
class World:
    cvr: str
    """Verified, contact person Lone Berg, employs both holders."""
    unverified_cvr: str
    cpr_a: str
    cpr_b: str
    report_a: int
    """Posted, 600 kr., on card A."""
    report_b: int
    """Posted, 900 kr., on card B."""


def _card(ledger: Backend, number: str, name: str, municipality: str, cvr: str,
          **extra: object) -> str:
    cpr = fresh_cpr()
    ledger.issue_card(IssueCard(cpr=cpr, name=name, municipality_code=municipality,
                                valid_from=dt.date(2025, 1, 1), number=number, **extra),  # type: ignore[arg-type]  # IssueCard fields from the callers
                      actor=ADMIN)
    ledger.create_employment(CreateEmployment(employer_cvr=cvr, card_number=number,
                                              start_date=dt.date(2025, 1, 1),
                                              weekly_hours=Decimal("5")), actor=ADMIN)
    return cpr


def build(env: ConsoleEnv) -> World:
    ledger = env.ledger
    cvr, unverified = valid_cvr(11), valid_cvr(12)
    ledger.register_employer(RegisterEmployer(cvr=cvr, name="Café Solsikken ApS",
                                              contact_person="Lone Berg",
                                              phone="+4531425364"), actor=ADMIN)
    ledger.verify_employer(VerifyEmployer(cvr=cvr), actor=ADMIN)
    ledger.register_employer(RegisterEmployer(cvr=unverified, name="Havefirmaet Grøn Hånd"),
                             actor=ADMIN)
    cpr_a = _card(ledger, CARD_A, HOLDER_A, MUNICIPALITY_A, cvr, phone=PHONE_A)
    cpr_b = _card(ledger, CARD_B, HOLDER_B, MUNICIPALITY_B, cvr)
    report_a = ledger.report_wage(wage(cvr, CARD_A, 600_00, "a1", post=True,
                                       paid_on=TODAY - dt.timedelta(days=3)), actor=ADMIN).id
    report_b = ledger.report_wage(wage(cvr, CARD_B, 900_00, "b1", post=True), actor=ADMIN).id
    return World(cvr=cvr, unverified_cvr=unverified, cpr_a=cpr_a, cpr_b=cpr_b,
                 report_a=report_a, report_b=report_b)


def audit(url: str, action: str) -> list[dict[str, object]]:
    """The audit log rows of one action, oldest first."""
    engine = raw_engine(url)
    try:
        with engine.connect() as conn:
            table = Base.metadata.tables["audit_log"]
            rows = conn.execute(sa.select(table).where(table.c.action == action)
                                .order_by(table.c.id))
            return [dict(row._mapping) for row in rows]
    finally:
        engine.dispose()


def text_of(html: str) -> str:
    """The page's visible text, tags dropped, whitespace squeezed (for readable asserts)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@dataclass
class Browser:
    """A logged-in client that keeps every page it got, to check no CPR number leaked."""

    client: TestClient
    seen: list[str] = field(default_factory=list)

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        return self._keep(self.client.get(path, **kwargs))

    def post(self, path: str, data: dict[str, str] | None = None) -> httpx.Response:
        """A form POST with the session's CSRF token."""
        return self._keep(post_form(self.client, path, data))

    def _keep(self, response: httpx.Response) -> httpx.Response:
        self.seen.extend([response.text, repr(response.headers.multi_items())])
        return response

    def assert_never_shown(self, *cprs: str) -> None:
        for cpr in cprs:
            for form in (cpr, f"{cpr[:6]}-{cpr[6:]}", f"{cpr[:6]} {cpr[6:]}"):
                assert not any(form in text for text in self.seen), "a CPR number was shown"


def browser(env: ConsoleEnv, username: str) -> Browser:
    return Browser(login(env.new_client(), username))
