"""Wage reports in batches, for payroll systems: `POST /api/v1/wage-reports/batch`.

The body is checked as a whole against the schema (a malformed body is 422 and nothing is
posted, as everywhere in the API); after that every report stands alone: a report the
ledger refuses gets its own `problem` and the others are posted. Each report carries its own
idempotency key (scoped to its employer's CVR, like the header of the single endpoint), so
a batch sent again answers with the first results and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, BeforeValidator, Field, ValidationError

from api.access import Caller, employer_in_scope, require_kind
from api.deps import LedgerDep
from api.problems import status_for
from api.schemas import Body, KronerOut, WageReportIn, ore
from db.errors import DomainError, danish_message
from ledger import ReportWage
from ledger.errors import CardNotFound
from ledger.service.report_batch import MAX_BATCH

router = APIRouter(prefix="/wage-reports", tags=["wage reports"])


def _iso_text(value: object) -> object:
    if isinstance(value, dt.date | str):
        return value
    raise ValueError("a date must be a string, YYYY-MM-DD")


StrictDate = Annotated[dt.date, BeforeValidator(_iso_text)]
"""An ISO date string only: lax parsing would take a number as a timestamp, and in a batch a
value the schema calls invalid must refuse the whole body (422), not become one report's
problem (a single report's bad date reaches the ledger's own 4xx instead)."""


class WageReportBatchItemIn(WageReportIn):
    paid_on: StrictDate
    work_from: StrictDate | None = None
    work_to: StrictDate | None = None
    idempotency_key: str = Field(min_length=1, max_length=200, description=(
        "This report's own key: sent again with the same fields, it answers as before."))


class WageReportBatchIn(Body):
    reports: list[WageReportBatchItemIn] = Field(min_length=1, max_length=MAX_BATCH)


class ItemProblem(BaseModel):
    """Why one report of the batch was left out: the single endpoint's status and code."""

    status: int
    code: str
    detail: str
    errors: list[dict[str, Any]] | None = None


class WageReportBatchResult(BaseModel):
    index: int
    idempotency_key: str
    id: int | None = None
    status: str | None = None
    counted_amount: KronerOut | None = None
    over_cap_amount: KronerOut | None = None
    replayed: bool = False
    """True when the key had been used before: this is the first answer, nothing new written."""
    problem: ItemProblem | None = None


class WageReportBatchOut(BaseModel):
    results: list[WageReportBatchResult]


def _problem(error: DomainError) -> ItemProblem:
    return ItemProblem(status=status_for(error), code=error.code, detail=error.message)


def _invalid(error: ValidationError) -> ItemProblem:
    errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in error.errors()]
    return ItemProblem(status=422, code="invalid_input", detail=danish_message("invalid_input"),
                       errors=errors)


@router.post("/batch")
def report_wages(body: WageReportBatchIn, ledger: LedgerDep,
                 caller: Caller) -> WageReportBatchOut:
    """Up to 1.000 reports; one result per report, in the same order."""
    require_kind(caller, "employer", "municipality")
    results = [WageReportBatchResult(index=i, idempotency_key=item.idempotency_key)
               for i, item in enumerate(body.reports)]
    ready: list[tuple[int, ReportWage]] = []
    for i, item in enumerate(body.reports):
        try:
            employer_in_scope(caller, item.employer_cvr)
            ready.append((i, ReportWage(**item.model_dump(exclude={"amount"}),
                                        amount_ore=ore(item.amount))))
        except DomainError as error:
            results[i].problem = _problem(error)
        except ValidationError as error:
            results[i].problem = _invalid(error)
    if caller.kind == "municipality":
        homes = ledger.api_keys.card_homes(cmd.card_number for _, cmd in ready)
        outside = {i for i, cmd in ready
                   if homes.get(cmd.card_number.strip()) != caller.municipality_code}
        for i, cmd in ready:
            if i in outside:
                results[i].problem = _problem(CardNotFound(number=cmd.card_number))
        ready = [(i, cmd) for i, cmd in ready if i not in outside]
    outcomes = ledger.report_wages([cmd for _, cmd in ready], actor=caller.actor)
    for (i, _), outcome in zip(ready, outcomes, strict=True):
        if isinstance(outcome, DomainError):
            results[i].problem = _problem(outcome)
        else:
            results[i].id, results[i].status = outcome.id, outcome.status
            results[i].counted_amount = outcome.counted_ore
            results[i].over_cap_amount = outcome.over_cap_ore
            results[i].replayed = outcome.replayed
    return WageReportBatchOut(results=results)
