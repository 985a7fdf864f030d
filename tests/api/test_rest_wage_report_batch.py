"""`POST /api/v1/wage-reports/batch` on SQLite and PostgreSQL: one result per report in order,
partial failure, idempotent replay, a 1.000-report batch, and what a malformed body gets."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api
from tests.api.rest_helpers import V1
from tests.ledger.support import NO_SUCH_CARD, dump_tables

BATCH = f"{V1}/wage-reports/batch"


def item(cvr: str, number: str, amount: str, key: str, **extra: Any) -> dict[str, Any]:
    return {"employer_cvr": cvr, "card_number": number, "paid_on": "2025-06-01", "hours": "4",
            "amount": amount, "post": True, "idempotency_key": key, **extra}


def _url(api: Api) -> str:
    return str(api.ledger.config.database_url)


def test_partial_failure_and_replay(api: Api) -> None:
    cvr, number = api.employed_card()
    unverified = api.employer(verified=False, name="Ikke Godkendt ApS")
    api.employment(unverified, number)
    single = api.report(cvr, number, "100.00", key="tidligere")
    reports = [
        item(cvr, number, "1250.50", "l-1"),
        item(cvr, NO_SUCH_CARD, "10.00", "l-2"),
        item(unverified, number, "10.00", "l-3"),
        item(cvr, number, "60000.00", "l-4"),
        item(cvr, number, "200.00", "tidligere"),            # a key used before, other payload
        item(cvr, number, "100.00", "tidligere"),            # the same report sent before
        item(cvr, number, "300.00", "l-7", post=False),
        item(cvr, number, "10.00", "l-8", paid_on="2025-07-01"),   # in the future
    ]
    first = api.ok("POST", BATCH, json={"reports": reports})["results"]
    assert [r["index"] for r in first] == list(range(8))
    assert [r["idempotency_key"] for r in first] == [r["idempotency_key"] for r in reports]
    outcome = [r["problem"]["code"] if r["problem"] else r["status"] for r in first]
    assert outcome == ["posted", "card_not_found", "employer_not_verified",
                       "amount_out_of_bounds", "idempotency_conflict", "posted", "pending",
                       "invalid_dates"]
    assert [r["problem"]["status"] for r in first if r["problem"]] == [404, 409, 422, 409, 422]
    assert all(len(r["problem"]["detail"]) > 5 for r in first if r["problem"])
    assert (first[0]["counted_amount"], first[0]["over_cap_amount"]) == ("1250.50", "0.00")
    assert first[5]["id"] == single["id"] and first[5]["replayed"] is True
    assert first[0]["replayed"] is False and first[0]["id"] != single["id"]
    assert (api.balance(number)["posted"], api.balance(number)["pending"]) == ("1350.50",
                                                                              "300.00")

    before = dump_tables(_url(api))
    again = api.ok("POST", BATCH, json={"reports": reports})["results"]
    assert dump_tables(_url(api)) == before
    assert [(r["id"], r["status"], r["counted_amount"]) for r in again] == [
        (r["id"], r["status"], r["counted_amount"]) for r in first]
    assert all(r["replayed"] for r in again if r["id"] is not None)
    assert [r["problem"]["code"] for r in again if r["problem"]] == [
        r["problem"]["code"] for r in first if r["problem"]]


def test_a_thousand_reports_in_one_batch(api: Api) -> None:
    """40 cards × 25 reports of 2.000 kr., interleaved: each card fills its cap at its 22nd."""
    cvr = api.employer()
    cards = []
    for _ in range(40):
        number = api.card()
        api.employment(cvr, number)
        cards.append(number)
    reports = [item(cvr, cards[i % 40], "2000.00", f"lon-{i}") for i in range(1000)]
    results = api.ok("POST", BATCH, json={"reports": reports})["results"]
    assert len(results) == 1000 and [r["index"] for r in results] == list(range(1000))
    assert all(r["problem"] is None and r["status"] == "posted" for r in results)
    for i, result in enumerate(results):
        nth = i // 40 + 1  # this card's nth report
        expected = ("2000.00", "0.00") if nth <= 21 else \
            ("766.00", "1234.00") if nth == 22 else ("0.00", "2000.00")
        assert (result["counted_amount"], result["over_cap_amount"]) == expected, (i, result)
    for number in cards[:3] + cards[-2:]:
        balance = api.balance(number)
        assert (balance["posted"], balance["over_cap"], balance["remaining"]) == (
            "42766.00", "7234.00", "0.00")
    assert len({r["id"] for r in results}) == 1000
    again = api.ok("POST", BATCH, json={"reports": reports})["results"]
    assert [r["id"] for r in again] == [r["id"] for r in results]
    assert all(r["replayed"] for r in again)


def test_malformed_body_posts_nothing(api: Api) -> None:
    cvr, number = api.employed_card()
    before = dump_tables(_url(api))
    good = item(cvr, number, "10.00", "ok")
    for body in (
        {"reports": []},
        {"reports": [good] * 1001},
        {"reports": [good, {**good, "amount": "12,50", "idempotency_key": "x"}]},
        {"reports": [good, {**good, "idempotency_key": ""}]},
        {"reports": [{k: v for k, v in good.items() if k != "idempotency_key"}]},
        {"reports": [good], "extra": 1},
    ):
        api.problem("POST", BATCH, 422, "invalid_input", json=body)
    assert dump_tables(_url(api)) == before


def test_batch_needs_a_key(sqlite_api: Api) -> None:
    sqlite_api.problem("POST", BATCH, 401, "unauthorized", auth=False, json={"reports": []})
