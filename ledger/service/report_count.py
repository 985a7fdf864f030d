"""PostgreSQL: a new wage report counted against the cap in one round trip.

`frikort_count_report` (migration 2026-12-07_write_functions) takes the card-year's row lock,
reads the cap and the idempotency key's record under it, frees reservations past their time,
splits the amount against the cap and writes the report, its entry and the balance's
movement. `reports.report_wage` still does everything before the lock (the lookup and the
refusals) and everything after it (the result, the idempotency record, the audit row).

The split is `ledger.rules.split_against_cap` written in SQL; the caller computes it again
with the rules from the numbers the function returns and refuses to go on if the two differ,
so the rules module stays the one place that decides what counts.

A batch's chunk goes to `frikort_count_reports` (migration 2026-12-08_count_reports), which
runs the same function once per report, in one round trip.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from ledger.results import Balance
from ledger.service.balances import CAP_LOCK_NAMESPACE, CapInForce, balance_result

_COUNT = text(
    "SELECT * FROM frikort_count_report(:report_id, :employer_id, :card_id, :employment_id,"
    " :year, :paid_on, :work_from, :work_to, :hours_centi, :amount_ore, :post_on_create,"
    " :expires_at, :source_channel, :source_message_id, :actor, :now, :reserved_before,"
    " :scope, :idempotency_key, :hold_year, :year_namespace)"
)
_COUNT_MANY = text(
    "SELECT * FROM frikort_count_reports(CAST(:reports AS json), :expires_at, :source_channel,"
    " :actor, :now, :reserved_before, :year_namespace)"
)


@dataclass(frozen=True)
class ServerCount:
    """What the function did: a replay found under the lock, or the new report's numbers."""

    stored_key: tuple[str, str] | None
    """(request hash, result JSON) of the key's record committed while this report waited."""
    cap: CapInForce | None
    used_before: int
    counted: int
    over_cap: int
    balance_after: tuple[int, int, int, int]
    """posted, pending, over cap, awaiting cap: the card-year's row after this report."""

    def balance(self, card_number: str, year: int) -> Balance:
        posted, pending, over_cap, awaiting = self.balance_after
        return balance_result(card_number, year, self.cap, posted=posted, pending=pending,
                              over_cap=over_cap, awaiting=awaiting)


def count_new_report(conn: Connection, report_row: dict[str, Any], *, report_id: int,
                     now: dt.datetime, reserved_before: dt.datetime, scope: str, key: str,
                     hold_year: bool) -> ServerCount:
    """Runs the function; `report_row` holds the wage_reports columns but id and created_at.

    `hold_year`: the caller found no cap for the year, so the year's shared advisory lock is
    taken before the row lock (as `balances.hold_year` does on the statement path).
    """
    row = conn.execute(_COUNT, {
        **report_row, "report_id": report_id, "now": now, "reserved_before": reserved_before,
        "scope": scope, "idempotency_key": key, "hold_year": hold_year,
        "year_namespace": CAP_LOCK_NAMESPACE,
    }).one()
    return _server_count(tuple(row))


def count_new_reports(conn: Connection, reports: Sequence[NewReport], *, now: dt.datetime,
                      reserved_before: dt.datetime) -> list[ServerCount]:
    """`count_new_report` for many reports in one call of `frikort_count_reports`, which
    runs the single report's function once per report, in the order given.

    The reports share their expiry, channel and actor (a batch is one command's work).
    """
    if not reports:
        return []
    first = reports[0].row
    rows = conn.execute(_COUNT_MANY, {
        "reports": json.dumps([_json_row(report, n)
                               for n, report in enumerate(reports, start=1)]),
        "expires_at": first["expires_at"], "source_channel": first["source_channel"],
        "actor": first["actor"], "now": now, "reserved_before": reserved_before,
        "year_namespace": CAP_LOCK_NAMESPACE,
    }).all()
    if [row[0] for row in rows] != list(range(1, len(reports) + 1)):
        raise RuntimeError("frikort_count_reports answered out of order")
    return [_server_count(tuple(row[1:])) for row in rows]


@dataclass(frozen=True)
class NewReport:
    """One report of a batch, as `count_new_report` takes its arguments."""

    row: dict[str, Any]
    report_id: int
    scope: str
    key: str
    hold_year: bool


def _json_row(report: NewReport, n: int) -> dict[str, Any]:
    """One report as `frikort_count_reports` reads it; `n` is its place in the chunk."""
    row = report.row
    return {"report_id": report.report_id, "employer_id": row["employer_id"],
            "card_id": row["card_id"], "employment_id": row["employment_id"],
            "year": row["year"], "paid_on": row["paid_on"].isoformat(),
            "work_from": row["work_from"].isoformat(), "work_to": row["work_to"].isoformat(),
            "hours_centi": row["hours_centi"], "amount_ore": row["amount_ore"],
            "post": row["post_on_create"], "source_message_id": row["source_message_id"],
            "scope": report.scope, "key": report.key, "hold_year": report.hold_year,
            "n": n}


def _server_count(row: tuple[Any, ...]) -> ServerCount:
    (stored_hash, stored_result, cap_ore, cap_is_demo, used_before, counted, over_cap,
     posted, pending, over_cap_total, awaiting) = row
    if stored_hash is not None:
        return ServerCount((stored_hash, stored_result), None, 0, 0, 0, (0, 0, 0, 0))
    cap = CapInForce(int(cap_ore), bool(cap_is_demo)) if cap_ore is not None else None
    return ServerCount(None, cap, int(used_before), int(counted), int(over_cap),
                       (int(posted), int(pending), int(over_cap_total), int(awaiting)))
