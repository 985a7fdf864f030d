"""The REST API through HTTP: every endpoint, its success shape and its problem+json refusals.

Write paths run on SQLite and on PostgreSQL (the `api` fixture); pure validation and read
shapes run on SQLite only (`sqlite_api`). Every test's fixture also checks, on teardown, that
no CPR number appeared in any response and that the ledger's balances equal its entries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from api.export_records import EXPORT_COLUMNS
from ledger import AWAITING_CAP_REASON
from tests.api.conftest import PROBLEM_JSON, Api
from tests.api.rest_helpers import V1, export
from tests.ledger.support import NO_SUCH_CARD

# Caps ------------------------------------------------------------------------------------


def test_caps_are_listed_with_their_sources(sqlite_api: Api) -> None:
    caps = {c["year"]: c for c in sqlite_api.ok("GET", f"{V1}/caps")}
    assert {y: c["amount"] for y, c in caps.items()} == {
        2019: "20000.00", 2020: "20000.00", 2021: "20000.00", 2022: "20000.00",
        2023: "40000.00", 2024: "41280.00", 2025: "42766.00"}
    assert 2026 not in caps, "no source gives 2026: it must not be invented"
    assert all(len(c["source"]) > 10 and c["is_demo"] is False for c in caps.values())


def test_put_cap_releases_reports_waiting_for_it(api: Api) -> None:
    cvr, number = api.employed_card()
    api.clock.now = dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC)
    waiting = api.report(cvr, number, "500.00", key="w-1", paid_on="2026-02-01")
    assert waiting["status"] == "awaiting_cap"
    assert waiting["pending_reason"] == AWAITING_CAP_REASON
    assert waiting["counted_amount"] == "0.00"
    before = api.balance(number, 2026)
    assert before["cap"] is None and before["remaining"] is None
    assert before["awaiting_cap"] == "500.00" and before["posted"] == "0.00"

    cap = api.ok("PUT", f"{V1}/caps/2026",
                 json={"amount": "43000.00", "source": "https://example.org/satser-2026"})
    assert cap == {"year": 2026, "amount": "43000.00", "source": "https://example.org/satser-2026",
                   "is_demo": False, "reports_released": 1}
    after = api.balance(number, 2026)
    assert (after["cap"], after["posted"], after["awaiting_cap"], after["remaining"]) == (
        "43000.00", "500.00", "0.00", "42500.00")
    assert api.ok("GET", f"{V1}/wage-reports/{waiting['id']}")["status"] == "posted"
    listed = {c["year"]: c["amount"] for c in api.ok("GET", f"{V1}/caps")}
    assert listed[2026] == "43000.00"

    # The same cap again changes nothing; a cap below what is already counted is refused.
    again = api.ok("PUT", f"{V1}/caps/2026",
                   json={"amount": "43000.00", "source": "https://example.org/satser-2026"})
    assert again["reports_released"] == 0
    api.problem("PUT", f"{V1}/caps/2026", 409, "cap_below_usage",
                json={"amount": "400.00", "source": "https://example.org/x"})
    demo = api.ok("PUT", f"{V1}/caps/2026",
                  json={"amount": "43100.00", "source": "demo", "is_demo": True})
    assert demo["is_demo"] is True
    assert api.balance(number, 2026)["cap_is_demo"] is True


@pytest.mark.parametrize("body", [
    {"amount": "42.766", "source": "https://x.dk"},
    {"amount": "42766,00", "source": "https://x.dk"},
    {"amount": 42766, "source": "https://x.dk"},
    {"amount": "42766.00"},
    {"amount": "42766.00", "source": "https://x.dk", "note": "unknown field"},
])
def test_put_cap_rejects_bad_bodies(sqlite_api: Api, body: dict[str, Any]) -> None:
    problem = sqlite_api.problem("PUT", f"{V1}/caps/2026", 422, "invalid_input", json=body)
    assert problem["errors"]
    assert 2026 not in {c["year"] for c in sqlite_api.ok("GET", f"{V1}/caps")}


@pytest.mark.parametrize("year", ["2018", "2101", "abc"])
def test_put_cap_rejects_bad_years(sqlite_api: Api, year: str) -> None:
    sqlite_api.problem("PUT", f"{V1}/caps/{year}", 422, "invalid_input",
                       json={"amount": "1.00", "source": "https://x.dk"})


def test_put_cap_zero_is_refused(sqlite_api: Api) -> None:
    code = sqlite_api.call("PUT", f"{V1}/caps/2026", json={"amount": "0", "source": "https://x.dk"})
    assert code.status_code == 422 and code.json()["code"] in {"invalid_input", "invalid_cap"}


# Employers -------------------------------------------------------------------------------


def test_employers_register_and_verify(api: Api) -> None:
    cvr = api.employer(verified=False)
    api.problem("POST", f"{V1}/employers", 409, "employer_exists",
                json={"cvr": cvr, "name": "Igen ApS"})
    verified = api.ok("POST", f"{V1}/employers/{cvr}/verify")
    assert verified == {"cvr": cvr, "name": "Café Test ApS", "verified": True, "contact_person": ""}
    api.problem("POST", f"{V1}/employers", 422, "invalid_cvr",
                json={"cvr": "12345678", "name": "Forkert ApS"})
    api.problem("POST", f"{V1}/employers", 422, "invalid_phone",
                json={"cvr": "31425360", "name": "Tlf ApS", "phone": "12"})
    api.problem("POST", f"{V1}/employers/31425360/verify", 404, "employer_not_found")


# Cards -----------------------------------------------------------------------------------


def test_card_lifecycle_and_cpr_never_returned(api: Api) -> None:
    cpr = api.new_cpr()
    created = api.call("POST", f"{V1}/cards", json={
        "cpr": cpr, "name": "Jens Test", "municipality_code": "751", "phone": "20304050",
        "valid_from": "2025-03-01"})
    assert created.status_code == 201, created.text
    card = created.json()
    number = card["number"]
    assert len(number) == 5 and number.isdigit()
    code = card.pop("link_code")
    assert len(code) == 4 and code.isdigit()  # for the grant letter, shown once
    assert card == {"number": number, "status": "active", "valid_from": "2025-03-01",
                    "issued_on": "2025-06-16", "municipality_code": "751",
                    "last_control_on": None, "next_control_due": "2027-12-31"}
    assert api.ok("GET", f"{V1}/cards/{number}") == {**card, "link_code": None}

    dashed = f"{cpr[:6]}-{cpr[6:]}"
    taken = api.problem("POST", f"{V1}/cards", 409, "citizen_has_card", json={
        "cpr": dashed, "name": "Jens Test", "municipality_code": "751", "valid_from": "2025-03-01"})
    assert number in taken["detail"]

    off = api.ok("POST", f"{V1}/cards/{number}/deactivate", json={"reason": "Flyttet"})
    assert off["status"] == "deactivated"
    api.problem("POST", f"{V1}/cards/{number}/deactivate", 409, "card_status_unchanged",
                json={"reason": "igen"})
    on = api.ok("POST", f"{V1}/cards/{number}/reactivate", json={"reason": "Tilbage"})
    assert on["status"] == "active"
    api.problem("POST", f"{V1}/cards/{number}/reactivate", 409, "card_status_unchanged",
                json={"reason": "igen"})
    moved = api.ok("POST", f"{V1}/cards/{number}/transfer", json={"municipality_code": "101"})
    assert moved["municipality_code"] == "101" and moved["status"] == "active"
    assert moved["valid_from"] == "2025-03-01"
    api.problem("POST", f"{V1}/cards/{number}/transfer", 404, "municipality_not_found",
                json={"municipality_code": "999"})

    # Every body and header this test received, the CPR in any spelling appears in none.
    for text in api.seen:
        assert cpr not in text and dashed not in text


def test_card_refusals(api: Api) -> None:
    base = {"name": "B", "municipality_code": "751", "valid_from": "2025-01-01"}
    api.cprs.append("3213991234")  # invalid, but still never to be echoed
    api.problem("POST", f"{V1}/cards", 422, "invalid_cpr", json={"cpr": "3213991234", **base})
    api.problem("POST", f"{V1}/cards", 422, "invalid_cpr", json={"cpr": "12345", **base})
    api.problem("POST", f"{V1}/cards", 404, "municipality_not_found",
                json={"cpr": api.new_cpr(), **{**base, "municipality_code": "999"}})
    api.problem("POST", f"{V1}/cards", 422, "invalid_phone",
                json={"cpr": api.new_cpr(), "phone": "123", **base})
    number = api.card(phone="+4520304050", number="48213")
    assert number == "48213"
    api.problem("POST", f"{V1}/cards", 409, "card_number_taken",
                json={"cpr": api.new_cpr(), "number": "48213", **base})
    api.problem("POST", f"{V1}/cards", 409, "contact_in_use",
                json={"cpr": api.new_cpr(), "phone": "20304050", **base})
    for path, body in [("", None), ("/deactivate", {"reason": "x"}),
                       ("/reactivate", {"reason": "x"}),
                       ("/transfer", {"municipality_code": "101"})]:
        method = "GET" if body is None else "POST"
        problem = api.problem(method, f"{V1}/cards/11111{path}", 404, "card_not_found", json=body)
        assert "11111" in problem["detail"]
    api.problem("GET", f"{V1}/cards/11111/balance", 404, "card_not_found")


@pytest.mark.parametrize("body", [
    {"cpr": "0101801234", "name": "X", "municipality_code": "751", "valid_from": "2025-13-01"},
    {"cpr": "0101801234", "name": "X", "municipality_code": "751", "valid_from": "16.06.2025"},
    {"cpr": "0101801234", "name": "X", "municipality_code": "7510", "valid_from": "2025-01-01"},
    {"cpr": "0101801234", "name": "", "municipality_code": "751", "valid_from": "2025-01-01"},
    {"cpr": "0101801234", "name": "X", "municipality_code": "751"},
    {"cpr": "0101801234", "name": "X", "municipality_code": "751", "valid_from": "2025-01-01",
     "status": "active"},
    {"cpr": "0101801234", "name": "X", "municipality_code": "751", "valid_from": "2025-01-01",
     "number": "123"},
])
def test_card_validation_errors_do_not_echo_the_cpr(sqlite_api: Api, body: dict[str, Any]) -> None:
    sqlite_api.cprs.append("0101801234")
    problem = sqlite_api.problem("POST", f"{V1}/cards", 422, "invalid_input", json=body)
    assert problem["errors"] and all("loc" in e and "msg" in e for e in problem["errors"])


@pytest.mark.parametrize("path, body", [
    ("/cards/1234/deactivate", {"reason": "x"}),
    ("/cards/48213/deactivate", {}),
    ("/cards/48213/deactivate", {"reason": ""}),
    ("/cards/48213/reactivate", {"reason": "x", "effective_on": "2025-01-01"}),
    ("/cards/48213/transfer", {"municipality_code": "1"}),
])
def test_card_action_validation(sqlite_api: Api, path: str, body: dict[str, Any]) -> None:
    sqlite_api.problem("POST", V1 + path, 422, "invalid_input", json=body)


# Employments -----------------------------------------------------------------------------


def test_employments_flag_the_three_hour_rule(api: Api) -> None:
    cvr = api.employer()
    short = api.card()
    exactly_three = api.employment(cvr, short, weekly_hours="3")
    assert exactly_three["contract_required"] is False
    assert exactly_three == {"id": exactly_three["id"], "employer_cvr": cvr, "card_number": short,
                             "start_date": "2025-01-01", "end_date": None, "weekly_hours": "3",
                             "contract_required": False}
    # Above 3 hours a week needs an ansættelsesbevis (the older 8-hour rule is outdated).
    assert api.employment(cvr, api.card(), weekly_hours="3.5")["contract_required"] is True
    assert api.employment(cvr, api.card(), weekly_hours="7.5")["contract_required"] is True

    body = {"employer_cvr": cvr, "card_number": short, "start_date": "2025-01-01",
            "weekly_hours": "3"}
    api.problem("POST", f"{V1}/employments", 409, "employment_exists", json=body)
    api.problem("POST", f"{V1}/employments", 404, "card_not_found",
                json={**body, "card_number": NO_SUCH_CARD})
    api.problem("POST", f"{V1}/employments", 404, "employer_not_found",
                json={**body, "employer_cvr": "31425360"})
    api.problem("POST", f"{V1}/employments", 422, "invalid_dates",
                json={**body, "start_date": "2025-03-01", "end_date": "2025-02-01"})
    for bad in ({"weekly_hours": "-1"}, {"weekly_hours": "abc"}, {"start_date": "2025-02-30"},
                {"card_number": "1"}, {"extra": True}):
        api.problem("POST", f"{V1}/employments", 422, "invalid_input", json={**body, **bad})


# Balance, export, usage ------------------------------------------------------------------


def test_balance_shape_and_year(api: Api) -> None:
    cvr, number = api.employed_card()
    api.report(cvr, number, "1000.00", key="x1")
    api.report(cvr, number, "250.25", key="x2", post=False)
    balance = api.balance(number, 2025)
    assert balance == {"card_number": number, "year": 2025, "cap": "42766.00",
                       "cap_is_demo": False, "posted": "1000.00", "pending": "250.25",
                       "remaining": "41515.75", "over_cap": "0.00", "awaiting_cap": "0.00"}
    # Without ?year= the balance is for the current year (the clock's).
    assert api.ok("GET", f"{V1}/cards/{number}/balance") == balance
    empty = api.balance(number, 2024)
    assert (empty["cap"], empty["posted"], empty["remaining"]) == ("41280.00", "0.00", "41280.00")
    for year in ("1900", "2101", "abc"):
        api.problem("GET", f"{V1}/cards/{number}/balance", 422, "invalid_input",
                    params={"year": year})
    api.problem("GET", f"{V1}/cards/123/balance", 422, "invalid_input")


def test_export_follows_the_card_to_its_new_municipality(api: Api) -> None:
    cvr, staying = api.employed_card()
    moving = api.card()
    api.employment(cvr, moving)
    api.report(cvr, staying, "600.00", key="s1", paid_on="2025-03-01")
    api.report(cvr, moving, "1012.50", key="m1", paid_on="2025-04-01", hours="6")
    api.report(cvr, moving, "450.00", key="m2", paid_on="2025-05-01", post=False,
               work_from="2025-04-28", work_to="2025-04-30", hours="3.5")
    api.ok("POST", f"{V1}/cards/{moving}/transfer", json={"municipality_code": "101"})

    rows_751 = export(api, "751", 2025, "csv")
    assert [(r["card_number"], r["amount"], r["status"]) for r in rows_751] == [
        (staying, "600.00", "posted")]
    row = rows_751[0]
    assert (row["municipality_code"], row["employer_cvr"], row["employer_name"], row["paid_on"],
            row["hours"], row["counted_amount"], row["over_cap_amount"], row["source_channel"]) == (
        "751", cvr, "Café Test ApS", "2025-03-01", "4", "600.00", "0.00", "api")

    rows_101 = export(api, "101", 2025, "json")
    assert [(r["card_number"], r["amount"], r["counted_amount"], r["status"], r["hours"],
             r["work_from"], r["work_to"]) for r in rows_101] == [
        (moving, "1012.50", "1012.50", "posted", "6", "2025-04-01", "2025-04-01"),
        (moving, "450.00", "450.00", "pending", "3.5", "2025-04-28", "2025-04-30")]
    assert all(isinstance(r[k], str) for r in rows_101 for k in
               ("amount", "counted_amount", "over_cap_amount"))
    assert rows_101 == export(api, "101", 2025, "json")
    csv_101 = export(api, "101", 2025, "csv")
    assert [r["report_id"] for r in csv_101] == [str(r["report_id"]) for r in rows_101]
    assert export(api, "751", 2024, "json") == []
    assert export(api, "787", 2025, "csv") == []
    for params in ({"municipality": "751", "year": 2025, "format": "xml"},
                   {"municipality": "75", "year": 2025}, {"year": 2025},
                   {"municipality": "751"}, {"municipality": "751", "year": 1999}):
        api.problem("GET", f"{V1}/exports/wage-reports", 422, "invalid_input", params=params)


def test_export_is_csv_by_default(sqlite_api: Api) -> None:
    response = sqlite_api.get(f"{V1}/exports/wage-reports",
                              params={"municipality": "751", "year": 2025})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text == ",".join(EXPORT_COLUMNS) + "\n"


def test_usage_stats_count_granted_and_used_cards(api: Api) -> None:
    cvr, used = api.employed_card()
    idle = api.card()
    only_pending = api.card()
    api.employment(cvr, only_pending)
    reversed_card = api.card()
    api.employment(cvr, reversed_card)
    elsewhere = api.card(municipality="101")
    api.report(cvr, used, "100.00", key="u1")
    api.report(cvr, only_pending, "100.00", key="u2", post=False)
    undone = api.report(cvr, reversed_card, "100.00", key="u3")
    api.ok("POST", f"{V1}/wage-reports/{undone['id']}/reverse", json={"reason": "fejl"})
    assert idle and elsewhere

    stats = api.ok("GET", f"{V1}/stats/usage", params={"year": 2025})
    assert (stats["year"], stats["cards_granted"], stats["cards_used"]) == (2025, 5, 1)
    by_code = {m["municipality_code"]: m for m in stats["municipalities"]}
    assert set(by_code) == {"101", "751"}
    assert by_code["751"] == {"municipality_code": "751", "municipality_name": "Aarhus",
                              "cards_granted": 4, "cards_used": 1, "share_used": 0.25}
    assert (by_code["101"]["cards_granted"], by_code["101"]["cards_used"]) == (1, 0)
    before = api.ok("GET", f"{V1}/stats/usage", params={"year": 2024})
    assert before["cards_granted"] == 0 and before["municipalities"] == []
    api.problem("GET", f"{V1}/stats/usage", 422, "invalid_input")
    api.problem("GET", f"{V1}/stats/usage", 422, "invalid_input", params={"year": "x"})


# Refused requests change nothing ---------------------------------------------------------


def _snapshot(api: Api, numbers: list[str]) -> list[bytes]:
    paths: list[tuple[str, dict[str, Any]]] = [(f"{V1}/caps", {})]
    for number in numbers:
        paths.append((f"{V1}/cards/{number}", {}))
        for year in (2024, 2025):
            paths.append((f"{V1}/cards/{number}/balance", {"year": year}))
    for municipality in ("751", "101"):
        for fmt in ("csv", "json"):
            paths.append((f"{V1}/exports/wage-reports",
                          {"municipality": municipality, "year": 2025, "format": fmt}))
    paths.append((f"{V1}/stats/usage", {"year": 2025}))
    out = []
    for path, params in paths:
        response = api.get(path, params=params)
        assert response.status_code == 200, (path, response.text)
        out.append(response.content)
    return out


def test_refused_requests_change_nothing(api: Api) -> None:
    cvr, number = api.employed_card()
    unverified = api.employer(verified=False)
    api.employment(unverified, number)
    stranger = api.employer()
    closed_cvr, closed = api.employed_card()
    api.ok("POST", f"{V1}/cards/{closed}/deactivate", json={"reason": "Kontrol"})
    posted = api.report(cvr, number, "42000.00", key="big", hours="100",
                        work_from="2025-01-01", work_to="2025-05-31")
    pending = api.report(cvr, number, "500.00", key="small", post=False)
    existing_cpr = api.new_cpr()
    api.cprs.append("3299991234")
    api.ok("POST", f"{V1}/cards", 201, json={"cpr": existing_cpr, "name": "Z",
                                              "municipality_code": "101",
                                              "valid_from": "2025-01-01"})
    numbers = [number, closed]
    before = _snapshot(api, numbers)

    good = {"employer_cvr": cvr, "card_number": number, "paid_on": "2025-06-10", "hours": "4",
            "amount": "100.00", "post": True}
    key = {"Idempotency-Key": "fresh"}
    bad_reports: list[tuple[dict[str, Any], dict[str, str]]] = [
        ({**good, "amount": "12,5"}, key), ({**good, "amount": "1.234"}, key),
        ({**good, "amount": "-1.00"}, key), ({**good, "amount": "0"}, key),
        ({**good, "amount": "50000.01"}, key), ({**good, "hours": "-2"}, key),
        ({**good, "hours": "25"}, key), ({**good, "paid_on": "2025-06-31"}, key),
        ({**good, "paid_on": "2025-07-01"}, key), ({**good, "paid_on": "2024-12-31"}, key),
        ({**good, "work_from": "2025-06-09", "work_to": "2025-06-01"}, key),
        ({**good, "extra": 1}, key), (good, {}),
        ({**good, "employer_cvr": unverified}, key), ({**good, "employer_cvr": stranger}, key),
        ({**good, "employer_cvr": closed_cvr, "card_number": closed, "paid_on": "2025-06-16"},
         key),
        ({**good, "card_number": "11111"}, key), ({**good, "employer_cvr": "31425360"}, key),
        ({**good, "amount": "1.00"}, {"Idempotency-Key": "big"}),
    ]
    for body, headers in bad_reports:
        response = api.post(f"{V1}/wage-reports", headers=headers, json=body)
        assert response.status_code in {404, 409, 422}, (body, response.text)
        assert response.headers["content-type"].startswith(PROBLEM_JSON)
        assert _snapshot(api, numbers) == before, body

    others: list[tuple[str, str, Any, int]] = [
        ("POST", f"/wage-reports/{posted['id']}/post", None, 409),
        ("POST", f"/wage-reports/{posted['id']}/void", None, 409),
        ("POST", f"/wage-reports/{pending['id']}/reverse", {"reason": "x"}, 409),
        ("POST", "/wage-reports/999999/void", None, 404),
        ("PUT", "/caps/2025", {"amount": "1000.00", "source": "https://x.dk"}, 409),
        ("PUT", "/caps/2025", {"amount": "1.000", "source": "https://x.dk"}, 422),
        ("POST", "/cards", {"cpr": existing_cpr, "name": "Z", "municipality_code": "751",
                            "valid_from": "2025-01-01"}, 409),
        ("POST", "/cards", {"cpr": "3299991234", "name": "Z", "municipality_code": "751",
                            "valid_from": "2025-01-01"}, 422),
        ("POST", f"/cards/{closed}/deactivate", {"reason": "igen"}, 409),
        ("POST", f"/cards/{number}/reactivate", {"reason": "igen"}, 409),
        ("POST", f"/cards/{number}/transfer", {"municipality_code": "999"}, 404),
        ("POST", "/employments", {"employer_cvr": cvr, "card_number": number,
                                  "start_date": "2025-01-01", "weekly_hours": "5"}, 409),
        ("POST", "/employers", {"cvr": cvr, "name": "Dublet"}, 409),
    ]
    for method, path, body, status in others:
        response = api.call(method, V1 + path, json=body)
        assert response.status_code == status, (path, response.text)
        assert _snapshot(api, numbers) == before, path
    # Unauthenticated writes change nothing either.
    response = api.post(f"{V1}/wage-reports", auth=False, headers=key, json=good)
    assert response.status_code == 401
    assert _snapshot(api, numbers) == before
