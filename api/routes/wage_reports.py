"""Wage reports, made safe to retry with the Idempotency-Key header."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response, status

from api.deps import AdminActor, LedgerDep
from api.schemas import ReasonIn, RowId, WageReportIn, WageReportOut, ore
from ledger import PostReport, ReportWage, ReverseReport, VoidReport

router = APIRouter(prefix="/wage-reports", tags=["wage reports"])
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=200)]


@router.post("", status_code=status.HTTP_201_CREATED)
def report_wage(
    body: WageReportIn,
    idempotency_key: IdempotencyKey,
    response: Response,
    ledger: LedgerDep,
    actor: AdminActor,
) -> WageReportOut:
    """Reports a payment. A retry with the same key answers 200 with the first body."""
    cmd = ReportWage(**body.model_dump(exclude={"amount"}), amount_ore=ore(body.amount),
                     idempotency_key=idempotency_key)
    result = ledger.report_wage(cmd, actor=actor)
    if result.replayed:
        response.status_code = status.HTTP_200_OK
    return WageReportOut.of(result)


@router.get("/{report_id}")
def get_report(report_id: RowId, ledger: LedgerDep, _: AdminActor) -> WageReportOut:
    """A report as it stands now."""
    return WageReportOut.of(ledger.report(report_id))


@router.post("/{report_id}/post")
def post_report(report_id: RowId, ledger: LedgerDep, actor: AdminActor) -> WageReportOut:
    """Confirms a pending report."""
    return WageReportOut.of(ledger.post_report(PostReport(report_id=report_id), actor=actor))


@router.post("/{report_id}/void")
def void_report(report_id: RowId, ledger: LedgerDep, actor: AdminActor) -> WageReportOut:
    """Cancels a pending report and frees its reservation."""
    return WageReportOut.of(ledger.void_report(VoidReport(report_id=report_id), actor=actor))


@router.post("/{report_id}/reverse")
def reverse_report(report_id: RowId, body: ReasonIn, ledger: LedgerDep, actor: AdminActor) -> WageReportOut:
    """Corrects a posted report with a reversal entry; the original stays on record."""
    cmd = ReverseReport(report_id=report_id, reason=body.reason)
    return WageReportOut.of(ledger.reverse_report(cmd, actor=actor))
