"""Wage reports, made safe to retry with the Idempotency-Key header."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response, status
from starlette.convertors import Convertor, register_url_convertor

from api.access import Caller, card_in_scope, employer_in_scope, report_in_scope, require_kind
from api.deps import LedgerDep
from api.schemas import ReasonIn, RowId, WageReportIn, WageReportOut, ore
from api_keys import ApiPrincipal
from ledger import PostReport, ReportWage, ReverseReport, VoidReport, WageReportResult

router = APIRouter(prefix="/wage-reports", tags=["wage reports"])


def _out(caller: ApiPrincipal, result: WageReportResult) -> WageReportOut:
    """An employer key sees the card's balance only as the card check shows it."""
    return WageReportOut.of(result, with_balance=caller.kind != "employer")
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=200)]


@router.post("", status_code=status.HTTP_201_CREATED)
def report_wage(
    body: WageReportIn,
    idempotency_key: IdempotencyKey,
    response: Response,
    ledger: LedgerDep,
    caller: Caller,
) -> WageReportOut:
    """Reports a payment. A retry with the same key answers 200 with the first body.

    An employer key reports for its own CVR only; a municipality key for its own cards."""
    employer_in_scope(caller, body.employer_cvr)
    if caller.kind == "municipality":
        card_in_scope(ledger, caller, body.card_number)
    cmd = ReportWage(**body.model_dump(exclude={"amount"}), amount_ore=ore(body.amount),
                     idempotency_key=idempotency_key)
    result = ledger.report_wage(cmd, actor=caller.actor)
    if result.replayed:
        response.status_code = status.HTTP_200_OK
    return _out(caller, result)


class _NotBatch(Convertor[str]):
    """A report id in a path, anything but `batch`: GET /wage-reports/batch is then 405 (the
    batch is POST only) instead of a 422 for an id that is not a number; other text still
    reaches the id's validation (422)."""

    regex = "(?!batch$)[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("not_batch", _NotBatch())


@router.get("/{report_id:not_batch}")
def get_report(report_id: RowId, ledger: LedgerDep, caller: Caller) -> WageReportOut:
    """A report as it stands now."""
    report_in_scope(ledger, caller, report_id)
    return _out(caller, ledger.report(report_id))


@router.post("/{report_id}/post")
def post_report(report_id: RowId, ledger: LedgerDep, caller: Caller) -> WageReportOut:
    """Confirms a pending report."""
    report_in_scope(ledger, caller, report_id)
    return _out(caller, ledger.post_report(PostReport(report_id=report_id),
                                               actor=caller.actor))


@router.post("/{report_id}/void")
def void_report(report_id: RowId, ledger: LedgerDep, caller: Caller) -> WageReportOut:
    """Cancels a pending report and frees its reservation."""
    report_in_scope(ledger, caller, report_id)
    return _out(caller, ledger.void_report(VoidReport(report_id=report_id),
                                               actor=caller.actor))


@router.post("/{report_id}/reverse")
def reverse_report(report_id: RowId, body: ReasonIn, ledger: LedgerDep,
                   caller: Caller) -> WageReportOut:
    """Corrects a posted report with a reversal entry; the original stays on record.

    Not for employer keys: a correction is the municipality's decision."""
    require_kind(caller, "municipality")
    report_in_scope(ledger, caller, report_id)
    cmd = ReverseReport(report_id=report_id, reason=body.reason)
    return _out(caller, ledger.reverse_report(cmd, actor=caller.actor))
