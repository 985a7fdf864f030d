"""Exports and usage figures for municipalities."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from api.access import Caller, municipality_in_scope, require_kind
from api.deps import AdminActor, LedgerDep
from api.export_records import EXPORT_COLUMNS, export_record
from api.schemas import ExportFormat, UsageOut, UsageRowOut
from ledger.queries import ExportRow

router = APIRouter(tags=["reporting"])
Year = Annotated[int, Query(ge=2019, le=2100)]

def _csv_chunks(rows: Iterator[ExportRow]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(export_record(row))
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json_chunks(rows: Iterator[ExportRow]) -> Iterator[str]:
    yield "["
    for index, row in enumerate(rows):
        yield ("," if index else "") + json.dumps(export_record(row), ensure_ascii=False)
    yield "]"


_EXPORT_RECORD_SCHEMA = {
    "type": "object", "required": list(EXPORT_COLUMNS),
    "properties": {name: {"type": "integer" if name == "report_id" else "string"}
                   for name in EXPORT_COLUMNS},
}
_EXPORT_RESPONSES: dict[int | str, dict[str, object]] = {200: {
    "description": "The reports as CSV (`format=csv`, one header row) or a JSON array",
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "application/json": {"schema": {"type": "array", "items": _EXPORT_RECORD_SCHEMA}},
    },
}}


@router.get("/exports/wage-reports", response_class=StreamingResponse,
            responses=_EXPORT_RESPONSES)
def export_wage_reports(
    ledger: LedgerDep,
    caller: Caller,
    municipality: Annotated[str, Query(pattern=r"^\d{3}$")],
    year: Year,
    format: ExportFormat = "csv",
) -> StreamingResponse:
    """Every wage report paid in the year for the municipality's cards, streamed (a
    municipality key: its own only)."""
    require_kind(caller, "municipality")
    municipality_in_scope(caller, municipality)
    rows = ledger.export_wage_reports(municipality, year)
    if format == "json":
        return StreamingResponse(_json_chunks(rows), media_type="application/json")
    filename = f"wage-reports-{municipality}-{year}.csv"
    return StreamingResponse(_csv_chunks(rows), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/stats/usage")
def usage(ledger: LedgerDep, _: AdminActor, year: Year) -> UsageOut:
    """Cards granted against cards used (at least one posted report), per municipality."""
    rows = ledger.usage_stats(year)
    return UsageOut(
        year=year,
        cards_granted=sum(r.cards_granted for r in rows),
        cards_used=sum(r.cards_used for r in rows),
        municipalities=[UsageRowOut(municipality_code=r.municipality_code,
                                    municipality_name=r.municipality_name,
                                    cards_granted=r.cards_granted, cards_used=r.cards_used,
                                    share_used=round(r.share_used, 4)) for r in rows],
    )
