"""Wage reports through HTTP: idempotency, the cap split, the two-phase life, refusals.

Write paths run on SQLite and on PostgreSQL (the `api` fixture); validation runs on SQLite only.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api
from tests.api.rest_helpers import V1, export
from tests.ledger.support import NO_SUCH_CARD

# Wage reports ----------------------------------------------------------------------------


def test_wage_report_is_idempotent(api: Api) -> None:
    cvr, number = api.employed_card()
    body = {"employer_cvr": cvr, "card_number": number, "paid_on": "2025-06-01", "hours": "4",
            "amount": "1250.50", "post": True}
    first = api.post(f"{V1}/wage-reports", headers={"Idempotency-Key": "lon-2025-06"}, json=body)
    assert first.status_code == 201, first.text
    created = first.json()
    assert {"id", "status", "counted_amount", "over_cap_amount", "balance"} <= created.keys()
    assert (created["status"], created["amount"], created["counted_amount"],
            created["over_cap_amount"]) == ("posted", "1250.50", "1250.50", "0.00")
    assert created["balance"]["posted"] == "1250.50"

    replay = api.post(f"{V1}/wage-reports", headers={"Idempotency-Key": "lon-2025-06"}, json=body)
    assert replay.status_code == 200
    assert replay.content == first.content
    # Equal amounts spelled differently are the same request.
    same = api.post(f"{V1}/wage-reports", headers={"Idempotency-Key": "lon-2025-06"},
                    json={**body, "amount": "1250.5", "hours": "4.00"})
    assert same.status_code == 200 and same.content == first.content

    conflict = api.problem("POST", f"{V1}/wage-reports", 409, "idempotency_conflict",
                           headers={"Idempotency-Key": "lon-2025-06"},
                           json={**body, "amount": "1250.51"})
    assert "allerede modtaget" in conflict["detail"]
    api.problem("POST", f"{V1}/wage-reports", 409, "idempotency_conflict",
                headers={"Idempotency-Key": "lon-2025-06"}, json={**body, "post": False})
    api.problem("POST", f"{V1}/wage-reports", 422, "invalid_input", json=body)
    api.problem("POST", f"{V1}/wage-reports", 422, "invalid_input",
                headers={"Idempotency-Key": ""}, json=body)

    balance = api.balance(number)
    assert (balance["posted"], balance["pending"]) == ("1250.50", "0.00")
    rows = export(api, "751", 2025, "json")
    assert [r["report_id"] for r in rows] == [created["id"]]

    # Keys belong to the employer that sent them: another employer may use the same key.
    other = api.employer(name="Anden ApS")
    api.employment(other, number)
    theirs = api.report(other, number, "10.00", key="lon-2025-06")
    assert theirs["id"] != created["id"] and theirs["balance"]["posted"] == "1260.50"


def test_over_cap_split_is_visible(api: Api) -> None:
    cvr, number = api.employed_card()
    first = api.report(cvr, number, "42000.00", key="a", hours="150",
                       work_from="2025-01-01", work_to="2025-05-31")
    assert first["counted_amount"] == "42000.00" and first["over_cap_amount"] == "0.00"
    assert first["warnings"] == [80, 95]
    split = api.report(cvr, number, "1250.50", key="b")
    assert (split["counted_amount"], split["over_cap_amount"]) == ("766.00", "484.50")
    assert split["warnings"] == [100]
    assert split["balance"] == {
        "card_number": number, "year": 2025, "cap": "42766.00", "cap_is_demo": False,
        "posted": "42766.00", "pending": "0.00", "remaining": "0.00", "over_cap": "484.50",
        "awaiting_cap": "0.00"}
    beyond = api.report(cvr, number, "100.00", key="c")
    assert (beyond["counted_amount"], beyond["over_cap_amount"]) == ("0.00", "100.00")
    assert api.balance(number)["over_cap"] == "584.50"
    rows = {r["report_id"]: r for r in export(api, "751", 2025, "csv")}
    assert (rows[str(split["id"])]["counted_amount"],
            rows[str(split["id"])]["over_cap_amount"]) == ("766.00", "484.50")


def test_pending_post_void_reverse(api: Api) -> None:
    cvr, number = api.employed_card()
    pending = api.report(cvr, number, "300.00", key="p", post=False)
    assert pending["status"] == "pending" and pending["expires_at"]
    assert (pending["balance"]["pending"], pending["balance"]["posted"]) == ("300.00", "0.00")
    posted = api.ok("POST", f"{V1}/wage-reports/{pending['id']}/post")
    assert posted["status"] == "posted"
    assert (posted["balance"]["pending"], posted["balance"]["posted"]) == ("0.00", "300.00")
    api.problem("POST", f"{V1}/wage-reports/{pending['id']}/post", 409, "report_not_pending")
    api.problem("POST", f"{V1}/wage-reports/{pending['id']}/void", 409, "report_not_pending")

    other = api.report(cvr, number, "200.00", key="v", post=False)
    api.problem("POST", f"{V1}/wage-reports/{other['id']}/reverse", 409, "report_not_posted",
                json={"reason": "fejl"})
    voided = api.ok("POST", f"{V1}/wage-reports/{other['id']}/void")
    assert voided["status"] == "voided" and voided["balance"]["pending"] == "0.00"
    api.problem("POST", f"{V1}/wage-reports/{other['id']}/void", 409, "report_not_pending")

    reversed_ = api.ok("POST", f"{V1}/wage-reports/{pending['id']}/reverse",
                       json={"reason": "forkert beløb"})
    assert reversed_["status"] == "reversed" and reversed_["balance"]["posted"] == "0.00"
    api.problem("POST", f"{V1}/wage-reports/{pending['id']}/reverse", 409,
                "report_already_reversed", json={"reason": "igen"})
    api.problem("POST", f"{V1}/wage-reports/{pending['id']}/reverse", 422, "invalid_input",
                json={})
    assert api.ok("GET", f"{V1}/wage-reports/{pending['id']}")["status"] == "reversed"
    statuses = {r["report_id"]: r["status"] for r in export(api, "751", 2025, "json")}
    assert statuses == {pending["id"]: "reversed", other["id"]: "voided"}

    for action, body in (("post", None), ("void", None), ("reverse", {"reason": "x"})):
        api.problem("POST", f"{V1}/wage-reports/999999/{action}", 404, "report_not_found",
                    json=body)
    api.problem("GET", f"{V1}/wage-reports/999999", 404, "report_not_found")
    api.problem("GET", f"{V1}/wage-reports/abc", 422, "invalid_input")


def test_post_after_expiry_is_report_expired(api: Api) -> None:
    """A reservation past its time cannot be posted: the typed refusal, and the room is freed.

    Regression: `post_report` once appended the expiry entry and read the report's state
    without a flush (autoflush is off), still saw "pending" and drove the pending balance
    below zero; the CHECK constraint refused it and the facade, after eight retries of the
    IntegrityError, answered a bare 409 "conflict" instead of "report_expired".
    """
    cvr, number = api.employed_card()
    late = api.report(cvr, number, "100.00", key="late", post=False)
    api.clock.advance(days=8)
    api.problem("POST", f"{V1}/wage-reports/{late['id']}/post", 409, "report_expired")
    assert api.ok("GET", f"{V1}/wage-reports/{late['id']}")["status"] == "expired"
    assert api.balance(number)["pending"] == "0.00"
    api.problem("POST", f"{V1}/wage-reports/{late['id']}/void", 409, "report_not_pending")


def test_wage_report_ledger_refusals(api: Api) -> None:
    cvr, number = api.employed_card()
    unverified = api.employer(verified=False)
    api.employment(unverified, number)
    stranger = api.employer()
    closed_cvr, closed = api.employed_card()
    api.ok("POST", f"{V1}/cards/{closed}/deactivate", json={"reason": "Kontrol"})

    def refused(status: int, code: str, key: str, **changes: Any) -> dict[str, Any]:
        body = {"employer_cvr": cvr, "card_number": number, "paid_on": "2025-06-10",
                "hours": "4", "amount": "100.00", "post": True, **changes}
        return api.problem("POST", f"{V1}/wage-reports", status, code,
                           headers={"Idempotency-Key": key}, json=body)

    refused(409, "employer_not_verified", "r1", employer_cvr=unverified)
    assert number in refused(409, "no_employment", "r2", employer_cvr=stranger)["detail"]
    assert closed in refused(409, "card_not_active", "r3", employer_cvr=closed_cvr,
                             card_number=closed, paid_on="2025-06-16")["detail"]
    refused(409, "card_not_valid_on_date", "r4", paid_on="2024-12-31")
    refused(404, "card_not_found", "r5", card_number=NO_SUCH_CARD)
    refused(404, "employer_not_found", "r6", employer_cvr="31425360")
    assert "50.000 kr." in refused(422, "amount_out_of_bounds", "r7", amount="50000.01")["detail"]
    refused(422, "amount_out_of_bounds", "r8", amount="0")
    refused(422, "amount_out_of_bounds", "r8b", amount="0.00")
    refused(422, "hours_implausible", "r9", hours="17")
    refused(422, "invalid_dates", "r10", paid_on="2025-06-17")
    refused(422, "invalid_dates", "r11", work_from="2025-06-05", work_to="2025-06-01")
    # Before the deactivation took effect the card was active: that payment still counts.
    ok = api.report(closed_cvr, closed, "100.00", key="before-deactivation", paid_on="2025-06-10")
    assert ok["status"] == "posted"
    # A refused key is not burnt: it can be used for a correct request afterwards.
    assert api.report(cvr, number, "100.00", key="r9", paid_on="2025-06-10")["status"] == "posted"


@pytest.mark.parametrize("changes", [
    {"amount": "12,5"}, {"amount": "1.234"}, {"amount": "-100.00"}, {"amount": "1e3"},
    {"amount": "100.005"}, {"amount": ""}, {"amount": 12.5}, {"amount": None},
    {"amount": "１２３"}, {"hours": "-1"}, {"hours": "abc"}, {"hours": "1.234"},
    {"paid_on": "2025-02-30"}, {"paid_on": "01-06-2025"}, {"paid_on": ""},
    {"card_number": "4821"}, {"post": "maybe"}, {"bonus": "1.00"}, {"idempotency_key": "x"},
])
def test_wage_report_validation_errors(sqlite_api: Api, changes: dict[str, Any]) -> None:
    body = {"employer_cvr": "31425360", "card_number": "48213", "paid_on": "2025-06-01",
            "hours": "4", "amount": "100.00", "post": True, **changes}
    problem = sqlite_api.problem("POST", f"{V1}/wage-reports", 422, "invalid_input",
                                 headers={"Idempotency-Key": "v"}, json=body)
    assert problem["detail"] == "Oplysningerne kunne ikke bruges. Tjek dem og prøv igen."
    assert problem["errors"]


def test_malformed_json_is_a_problem(sqlite_api: Api) -> None:
    sqlite_api.problem("POST", f"{V1}/wage-reports", 422, "invalid_input",
                       headers={"Idempotency-Key": "m", "Content-Type": "application/json"},
                       content=b'{"amount": ')
    sqlite_api.problem("POST", f"{V1}/employers", 422, "invalid_input",
                       headers={"Content-Type": "application/json"}, content=b"[1, 2]")
